//! `metagrad sinusoid`: the MAML paper's sinusoid regression (Finn et al. 2017, §5.1) for every
//! method of the MAML family, with evaluation on fixed test tasks and the paper's Figure 2.

use crate::plot::{self, Series};
use crate::training::{iteration_rng, progress, report, CliResult, Record, RunDir};
use metagrad_algos::meta::anil::anil;
use metagrad_algos::meta::meta_sgd::meta_sgd;
use metagrad_algos::meta::{
    evaluate, meta_step, sinusoid, Batch, Episode, Maml, MetaMethod, Pretrained, R2d2, Reptile,
};
use metagrad_autodiff::Tensor;
use metagrad_data::sinusoid::SinusoidTask;
use metagrad_nn::optim::Adam;
use metagrad_nn::{Module, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

/// The methods the sinusoid command trains.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Second-order MAML.
    Maml,
    /// First-order MAML.
    Fomaml,
    /// Meta-SGD: learned per-parameter inner rates.
    MetaSgd,
    /// ANIL: inner loop on the last layer only.
    Anil,
    /// R2D2: closed-form ridge head on the hidden features.
    R2d2,
    /// Reptile.
    Reptile,
    /// One model trained on all tasks, fine-tuned at test time.
    Pretrained,
}

impl Method {
    /// The name as written on the command line.
    fn name(self) -> String {
        crate::training::value_name(&self)
    }
}

/// Arguments of `metagrad sinusoid`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The meta-learning method.
    #[arg(long, value_enum, default_value_t = Method::Maml)]
    method: Method,
    /// Support points per task (K).
    #[arg(long, default_value_t = 10)]
    shots: usize,
    /// Query points per training task (defaults to --shots).
    #[arg(long)]
    queries: Option<usize>,
    /// Inner gradient steps per task during meta-training.
    #[arg(long, default_value_t = 1)]
    inner_steps: usize,
    /// Inner learning rate (also the fine-tuning rate at test time); may be negative.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    inner_lr: f64,
    /// Tasks per meta-iteration.
    #[arg(long, default_value_t = 25)]
    meta_batch: usize,
    /// Adam's learning rate for the meta-update.
    #[arg(long, default_value_t = 1e-3)]
    meta_lr: f64,
    /// Meta-iterations in total (a resumed run continues up to this count).
    #[arg(long, default_value_t = 20_000)]
    iterations: u64,
    /// Hidden units in each of the two hidden layers.
    #[arg(long, default_value_t = 40)]
    hidden: usize,
    /// Clip the meta-gradient to this L2 norm.
    #[arg(long)]
    clip: Option<f64>,
    /// Recompute inner steps during the meta-backward (memory constant in --inner-steps).
    #[arg(long)]
    checkpoint_inner_loop: bool,
    /// Meta-SGD: one learned rate tensor per inner step.
    #[arg(long)]
    per_step_rates: bool,
    /// R2D2: the initial ridge penalty.
    #[arg(long, default_value_t = 1.0)]
    ridge_lambda: f64,
    /// Evaluate (and checkpoint) every this many meta-iterations.
    #[arg(long, default_value_t = 1000)]
    eval_every: u64,
    /// Inner steps at evaluation (scores are reported after 0, 1, 5 and this many).
    #[arg(long, default_value_t = 10)]
    eval_steps: usize,
    /// Fixed test tasks as JSON (`amp`, `phase`, `support_x`, `query_x`), e.g.
    /// ../shared/anchors/data/sinusoid_test_tasks.json; by default 100 tasks drawn with seed
    /// 12345, 100 query points each.
    #[arg(long)]
    test_tasks: Option<PathBuf>,
    /// The run directory (checkpoint, results.json, PNGs); default runs/sinusoid-<method>-k<K>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in --out from its checkpoint.
    #[arg(long)]
    resume: bool,
    /// Seed of the initialisation and of every task drawn.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// What `results.json` holds.
#[derive(Serialize, Deserialize, Debug)]
struct Results {
    method: String,
    shots: usize,
    inner_steps: usize,
    inner_lr: f64,
    meta_batch: usize,
    meta_lr: f64,
    iterations: u64,
    seed: u64,
    test_tasks: String,
    eval_steps: Vec<usize>,
    /// Mean test MSE after each of `eval_steps`.
    mse: Vec<f64>,
    /// 95% confidence half-widths of `mse`.
    ci95: Vec<f64>,
    wall_seconds: f64,
    history: Vec<Record>,
}

fn check(args: &Args) -> CliResult<()> {
    let positive = [("--shots", args.shots), ("--meta-batch", args.meta_batch), ("--hidden", args.hidden)];
    if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(format!("{name} must be at least 1"));
    }
    if args.queries == Some(0) {
        return Err("--queries must be at least 1".into());
    }
    if args.eval_every == 0 {
        return Err("--eval-every must be at least 1".into());
    }
    let adapts = !matches!(args.method, Method::R2d2 | Method::Pretrained);
    if adapts && args.inner_steps == 0 {
        return Err(format!("--inner-steps 0 leaves nothing to adapt for --method {}", args.method.name()));
    }
    for (name, v) in [("--inner-lr", args.inner_lr), ("--meta-lr", args.meta_lr), ("--ridge-lambda", args.ridge_lambda)]
    {
        if !v.is_finite() {
            return Err(format!("{name} must be a finite number, got {v}"));
        }
    }
    if args.ridge_lambda <= 0.0 {
        return Err("--ridge-lambda must be positive".into());
    }
    if args.clip.is_some_and(|c| c.is_nan() || c <= 0.0) {
        return Err("--clip must be a positive norm".into());
    }
    if args.threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    if args.checkpoint_inner_loop && !matches!(args.method, Method::Maml | Method::MetaSgd | Method::Anil) {
        return Err("--checkpoint-inner-loop applies to second-order methods (maml, meta-sgd, anil)".into());
    }
    Ok(())
}

fn method_of(args: &Args) -> Box<dyn MetaMethod<f32>> {
    let (k, lr) = (args.inner_steps, args.inner_lr);
    let with_checkpoint = |m: Maml| if args.checkpoint_inner_loop { m.checkpointed() } else { m };
    match args.method {
        Method::Maml => Box::new(with_checkpoint(Maml::new(k, lr))),
        Method::Fomaml => Box::new(Maml::new(k, lr).first_order()),
        Method::MetaSgd => Box::new(with_checkpoint(meta_sgd(k, lr, args.per_step_rates))),
        Method::Anil => Box::new(with_checkpoint(anil(k, lr, sinusoid::HEAD_PREFIX))),
        Method::R2d2 => Box::new(R2d2::new(args.ridge_lambda)),
        Method::Reptile => Box::new(Reptile::new(k, lr)),
        Method::Pretrained => Box::new(Pretrained { fine_tune_lr: lr }),
    }
}

fn model_of(args: &Args) -> Box<dyn Module<f32>> {
    match args.method {
        Method::R2d2 => Box::new(sinusoid::body(args.hidden)),
        _ => Box::new(sinusoid::network(args.hidden)),
    }
}

/// Test tasks with their support sets and dense query sets.
struct TestTasks {
    tasks: Vec<SinusoidTask>,
    episodes: Vec<Episode<f32>>,
    source: String,
}

/// Inputs per task.
type Points = Vec<Vec<f64>>;

#[derive(Deserialize)]
struct TaskFile {
    amp: Vec<f64>,
    phase: Vec<f64>,
    support_x: Vec<Vec<f64>>,
    query_x: Vec<Vec<f64>>,
}

fn test_tasks(args: &Args) -> CliResult<TestTasks> {
    let (tasks, support_x, query_x, source): (Vec<SinusoidTask>, Points, Points, String) = match &args.test_tasks {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let file: TaskFile = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a sinusoid task file: {e}", path.display()))?;
            let n = file.amp.len();
            if [file.phase.len(), file.support_x.len(), file.query_x.len()].iter().any(|&l| l != n) || n == 0 {
                return Err(format!("{}: amp, phase, support_x and query_x must list the same tasks", path.display()));
            }
            if let Some(short) = file.support_x.iter().find(|s| s.len() < args.shots) {
                return Err(format!(
                    "{}: a task has {} support points, --shots is {}",
                    path.display(),
                    short.len(),
                    args.shots
                ));
            }
            let tasks = file.amp.iter().zip(&file.phase).map(|(&amplitude, &phase)| SinusoidTask { amplitude, phase });
            let support = file.support_x.into_iter().map(|s| s[..args.shots].to_vec()).collect();
            (tasks.collect(), support, file.query_x, path.display().to_string())
        }
        None => {
            let mut rng = StdRng::seed_from_u64(12345);
            let tasks: Vec<SinusoidTask> = (0..100).map(|_| SinusoidTask::sample(&mut rng)).collect();
            let mut xs = |n: usize| -> Vec<f64> { (0..n).map(|_| rand::Rng::gen_range(&mut rng, -5.0..5.0)).collect() };
            let support = (0..100).map(|_| xs(args.shots)).collect();
            let query = (0..100).map(|_| xs(100)).collect();
            (tasks, support, query, "tasks drawn with seed 12345".into())
        }
    };
    let episodes = tasks
        .iter()
        .zip(support_x.iter().zip(&query_x))
        .map(|(t, (s, q))| Episode {
            support: sinusoid::batch(&t.points_at(s)),
            query: sinusoid::batch(&t.points_at(q)),
        })
        .collect();
    Ok(TestTasks { tasks, episodes, source })
}

/// Runs `metagrad sinusoid`.
pub fn run(args: Args) -> CliResult<()> {
    check(&args)?;
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(|e| e.to_string())?;
    }
    let name = args.method.name();
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/sinusoid-{name}-k{}", args.shots)));
    let dir = RunDir::create(&out)?;
    let test = test_tasks(&args)?;
    let (method, model) = (method_of(&args), model_of(&args));
    let mut meta: Params<f32> = model.init(&mut StdRng::seed_from_u64(args.seed));
    for (n, v) in method.init_extra(&meta).iter() {
        meta.insert(n, v.clone());
    }
    let mut adam = Adam::new(args.meta_lr);
    let eval_steps: Vec<usize> = {
        let mut s = vec![0, 1, 5, args.eval_steps];
        s.sort_unstable();
        s.dedup();
        s
    };
    let (mut done, mut history, mut wall) = (0, Vec::new(), 0.0);
    if args.resume {
        done = dir.load_checkpoint(&mut meta, &mut adam)?;
        let previous: Results = dir.read_json("results.json")?;
        history = previous.history.into_iter().filter(|r| r.iteration <= done).collect();
        wall = previous.wall_seconds;
        println!("resuming {} at meta-iteration {done}", out.display());
    }
    let queries = args.queries.unwrap_or(args.shots);
    let started = Instant::now();
    let bar = progress(args.iterations, done, args.quiet);
    let (mut loss_sum, mut loss_count) = (0.0, 0u64);
    let eval_now = |meta: &Params<f32>| evaluate(method.as_ref(), model.as_ref(), meta, &test.episodes, &eval_steps);
    while done < args.iterations {
        let episodes = sinusoid::meta_batch(args.meta_batch, args.shots, queries, &mut iteration_rng(args.seed, done));
        let step = meta_step(method.as_ref(), model.as_ref(), &mut meta, &episodes, &mut adam, args.clip);
        if !step.query_loss.is_finite() {
            bar.abandon();
            return Err(format!(
                "the meta-loss became {} at meta-iteration {done} (try --clip or a smaller --meta-lr)",
                step.query_loss
            ));
        }
        (loss_sum, loss_count, done) = (loss_sum + step.query_loss, loss_count + 1, done + 1);
        bar.set_position(done);
        if done % 100 == 0 {
            bar.set_message(format!("meta-loss {:.4}", loss_sum / loss_count as f64));
        }
        if done % args.eval_every == 0 || done == args.iterations {
            let scores = eval_now(&meta);
            history.push(Record {
                iteration: done,
                meta_loss: loss_sum / loss_count as f64,
                eval: scores.iter().map(|s| s.mean).collect(),
            });
            (loss_sum, loss_count) = (0.0, 0);
            let line = format!(
                "iteration {done}: test MSE after {eval_steps:?} steps: {}",
                fmt_scores(&history.last().expect("just pushed").eval)
            );
            report(&bar, line);
            dir.save_checkpoint(&meta, &adam, done)?;
            let results =
                results(&args, &name, &test, &eval_steps, &scores, wall + started.elapsed().as_secs_f64(), &history);
            dir.write_json("results.json", &results)?;
        }
    }
    bar.finish_and_clear();
    let scores = eval_now(&meta);
    let wall = wall + started.elapsed().as_secs_f64();
    dir.write_json("results.json", &results(&args, &name, &test, &eval_steps, &scores, wall, &history))?;
    println!("{name}, K = {}, {} meta-iterations, {wall:.0} s of training", args.shots, args.iterations);
    println!("test MSE on {} ({} tasks), mean ± 95% interval:", test.source, test.episodes.len());
    for (steps, s) in eval_steps.iter().zip(&scores) {
        println!("  after {steps:>2} steps: {:.4} ± {:.4}", s.mean, s.ci95);
    }
    let curve = dir.file("learning_curve.png");
    plot::learning_curve(&curve, &format!("{name} on sinusoids, K = {}", args.shots), &eval_steps, &history)?;
    let figure = dir.file("figure2.png");
    figure2(&figure, method.as_ref(), model.as_ref(), &meta, &test, &name, args.eval_steps)?;
    println!(
        "wrote {}, {}, {} and checkpoint.safetensors",
        dir.file("results.json").display(),
        curve.display(),
        figure.display()
    );
    Ok(())
}

fn fmt_scores(values: &[f64]) -> String {
    values.iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>().join(" / ")
}

fn results(
    args: &Args,
    name: &str,
    test: &TestTasks,
    eval_steps: &[usize],
    scores: &[metagrad_algos::meta::Score],
    wall_seconds: f64,
    history: &[Record],
) -> Results {
    Results {
        method: name.to_string(),
        shots: args.shots,
        inner_steps: args.inner_steps,
        inner_lr: args.inner_lr,
        meta_batch: args.meta_batch,
        meta_lr: args.meta_lr,
        iterations: args.iterations,
        seed: args.seed,
        test_tasks: test.source.clone(),
        eval_steps: eval_steps.to_vec(),
        mse: scores.iter().map(|s| s.mean).collect(),
        ci95: scores.iter().map(|s| s.ci95).collect(),
        wall_seconds,
        history: history.to_vec(),
    }
}

/// The paper's Figure 2 for the first test task: the true function, the K support points,
/// and the model's curve before adaptation and after 1 and `steps` steps.
fn figure2(
    path: &std::path::Path,
    method: &dyn MetaMethod<f32>,
    model: &dyn Module<f32>,
    meta: &Params<f32>,
    test: &TestTasks,
    name: &str,
    steps: usize,
) -> CliResult<()> {
    let (task, support): (&SinusoidTask, &Batch<f32>) = (&test.tasks[0], &test.episodes[0].support);
    let grid: Vec<f64> = (0..=200).map(|i| -5.0 + 10.0 * f64::from(i) / 200.0).collect();
    let inputs = Tensor::from_vec(&[grid.len(), 1], grid.iter().map(|&x| x as f32).collect());
    let predictions = method.adapted_predictions(model, meta, support, &inputs, &[0, 1, steps]);
    let curve = |values: Vec<f64>| grid.iter().copied().zip(values).collect::<Vec<_>>();
    let as_f64 = |t: &Tensor<f32>| t.to_vec().into_iter().map(f64::from).collect::<Vec<_>>();
    let series = vec![
        Series::line("ground truth", curve(grid.iter().map(|&x| task.eval(x)).collect())),
        Series::line("pre-update", curve(as_f64(&predictions[0]))),
        Series::line("1 grad step", curve(as_f64(&predictions[1]))),
        Series::line(&format!("{steps} grad steps"), curve(as_f64(&predictions[2]))),
        Series::points("support points", support_points(support)),
    ];
    plot::lines(path, &format!("{name}, K = {}", support.len()), "x", "y", &series, false)
}

fn support_points(support: &Batch<f32>) -> Vec<(f64, f64)> {
    let ys = match &support.target {
        metagrad_algos::meta::Target::Values(y) => y.to_vec(),
        metagrad_algos::meta::Target::Classes(_) => unreachable!("sinusoid batches are regression batches"),
    };
    support.inputs.to_vec().into_iter().zip(ys).map(|(x, y)| (f64::from(x), f64::from(y))).collect()
}
