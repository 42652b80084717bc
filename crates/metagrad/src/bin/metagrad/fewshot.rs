//! `metagrad fewshot`: few-shot classification on Omniglot for every method: meta-training
//! with progress, checkpoints and exact resume, periodic evaluation on held-out characters,
//! a results JSON and learning-curve PNGs; `--eval --checkpoint FILE` evaluates a saved model.
//!
//! The protocol is the one MAML and prototypical networks use (Santoro et al. 2016; Finn et
//! al. 2017; Snell et al. 2017): 28x28 images, 1,200 characters chosen at random (seed 0) to
//! train, the remaining 423 to test, each character also rotated by 90, 180 and 270 degrees
//! as new classes; accuracy is the mean over test episodes (600 by default, drawn with seed
//! 1234) with its 95% confidence interval.

use crate::plot::{self, Series};
use crate::training::{iteration_rng, load_checkpoint, progress, report, CliResult, Record, RunDir};
use metagrad_algos::meta::anil::anil;
use metagrad_algos::meta::meta_sgd::meta_sgd;
use metagrad_algos::meta::{
    conv4, evaluate, meta_step, Episode, FineTune, Maml, MatchingNet, MetaMethod, PixelNearestNeighbour, ProtoNet,
    RelationNet, Reptile, Score, Siamese, Triplet,
};
use metagrad_data::episodes::{ClassDataset, EpisodeSampler};
use metagrad_data::omniglot::Omniglot;
use metagrad_nn::optim::Adam;
use metagrad_nn::{Module, Params, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Few-shot methods.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Second-order MAML.
    Maml,
    /// First-order MAML.
    Fomaml,
    /// Meta-SGD.
    MetaSgd,
    /// ANIL.
    Anil,
    /// Reptile.
    Reptile,
    /// Prototypical networks.
    Protonet,
    /// Matching networks.
    Matching,
    /// Relation networks.
    Relation,
    /// Siamese networks.
    Siamese,
    /// Triplet networks.
    Triplet,
    /// Pretrain on all classes, fine-tune a new head.
    Finetune,
    /// Nearest neighbour in pixel space.
    NearestNeighbour,
}

impl Method {
    fn name(self) -> String {
        crate::training::value_name(&self)
    }

    /// Methods that adapt by gradient steps at test time (the others ignore step counts).
    fn takes_steps(self) -> bool {
        matches!(
            self,
            Method::Maml | Method::Fomaml | Method::MetaSgd | Method::Anil | Method::Reptile | Method::Finetune
        )
    }
}

/// Datasets.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// Omniglot (Lake et al. 2015), images_background + images_evaluation.
    Omniglot,
}

/// Arguments of `metagrad fewshot`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The method.
    #[arg(long, value_enum)]
    method: Method,
    /// The dataset.
    #[arg(long, value_enum, default_value_t = Dataset::Omniglot)]
    dataset: Dataset,
    /// The dataset's directory (for Omniglot: the folder holding images_background/ and
    /// images_evaluation/).
    #[arg(long)]
    data: PathBuf,
    /// Where to cache the decoded images (default: the system's temporary directory).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Classes per test episode (N).
    #[arg(long, default_value_t = 5)]
    ways: usize,
    /// Support examples per class (K).
    #[arg(long, default_value_t = 1)]
    shots: usize,
    /// Query examples per class, in training and test episodes.
    #[arg(long, default_value_t = 15)]
    queries: usize,
    /// Classes per training episode (default --ways; prototypical networks train on 60).
    #[arg(long)]
    train_ways: Option<usize>,
    /// Support examples per class in training episodes (default --shots).
    #[arg(long)]
    train_shots: Option<usize>,
    /// Episodes per meta-iteration (for finetune: minibatches of --batch-size).
    #[arg(long, default_value_t = 32)]
    meta_batch: usize,
    /// finetune: images per pretraining minibatch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    meta_lr: f64,
    /// Halve the learning rate every this many iterations (the prototypical-network recipe
    /// halves it every 2000).
    #[arg(long)]
    halve_lr_every: Option<u64>,
    /// Meta-iterations in total (a resumed run continues up to this count).
    #[arg(long, default_value_t = 1000)]
    iterations: u64,
    /// Inner gradient steps per task in meta-training (MAML family).
    #[arg(long, default_value_t = 1)]
    inner_steps: usize,
    /// Inner learning rate (MAML family), or finetune's head rate.
    #[arg(long, default_value_t = 0.4)]
    inner_lr: f64,
    /// Adaptation steps at test (default 3 for the MAML family, as the MAML paper, and 100
    /// for finetune).
    #[arg(long)]
    test_steps: Option<usize>,
    /// finetune: also fine-tune the encoder at this rate (frozen otherwise).
    #[arg(long)]
    backbone_lr: Option<f64>,
    /// triplet: the margin.
    #[arg(long, default_value_t = 1.0)]
    margin: f64,
    /// Clip the meta-gradient to this L2 norm.
    #[arg(long)]
    clip: Option<f64>,
    /// A reference learning curve to draw beside ours in accuracy.png: JSON lines with `iter`
    /// and `acc` (as ../shared/anchors/omniglot/results/*.jsonl).
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Stop training once this many minutes of training have passed (evaluation included),
    /// whatever the iteration count.
    #[arg(long)]
    minutes: Option<f64>,
    /// Evaluate (and checkpoint) every this many meta-iterations.
    #[arg(long, default_value_t = 250)]
    eval_every: u64,
    /// Test episodes of each evaluation during training (the final evaluation uses
    /// --final-episodes).
    #[arg(long, default_value_t = 200)]
    eval_episodes: usize,
    /// Test episodes of the final evaluation.
    #[arg(long, default_value_t = 600)]
    final_episodes: usize,
    /// Only evaluate the model in --checkpoint (same --method and sizes as it was trained with).
    #[arg(long, requires = "checkpoint")]
    eval: bool,
    /// A checkpoint.safetensors to evaluate (with --eval).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// The run directory (default runs/omniglot-<method>-<N>w<K>s).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in --out from its checkpoint.
    #[arg(long)]
    resume: bool,
    /// Seed of the initialisation and of every training episode.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How the weights are drawn.
    #[arg(long, value_enum, default_value_t = Init::Reference)]
    init: Init,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// How the network's weights are drawn.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Init {
    /// As MAML's reference implementations: He-normal convolutions, Glorot-uniform linear
    /// layers, zero biases (`conv4::reference_init`).
    Reference,
    /// Each layer's own default: uniform with bound 1/sqrt(fan_in).
    Uniform,
}

/// What `results.json` holds.
#[derive(Serialize, Deserialize, Debug)]
struct Results {
    method: String,
    ways: usize,
    shots: usize,
    queries: usize,
    train_ways: usize,
    train_shots: usize,
    meta_batch: usize,
    meta_lr: f64,
    inner_steps: usize,
    inner_lr: f64,
    test_steps: usize,
    /// Meta-iterations done (at the last evaluation).
    iterations: u64,
    seed: u64,
    /// How the weights were drawn (absent in runs from before the option: `uniform`).
    #[serde(default = "uniform")]
    init: Init,
    test_episodes: usize,
    /// Mean test accuracy, and its 95% half-width, of the last evaluation.
    accuracy: f64,
    ci95: f64,
    wall_seconds: f64,
    /// Per evaluation: `eval` holds the accuracy over --eval-episodes test episodes.
    history: Vec<Record>,
}

fn check(args: &Args) -> CliResult<()> {
    if args.ways < 2 || args.train_ways.is_some_and(|w| w < 2) {
        return Err("--ways and --train-ways must be at least 2".into());
    }
    let positive = [
        ("--shots", args.shots),
        ("--queries", args.queries),
        ("--meta-batch", args.meta_batch),
        ("--batch-size", args.batch_size),
        ("--eval-episodes", args.eval_episodes),
        ("--final-episodes", args.final_episodes),
    ];
    if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(format!("{name} must be at least 1"));
    }
    if args.train_shots == Some(0) || args.eval_every == 0 || args.halve_lr_every == Some(0) {
        return Err("--train-shots, --eval-every and --halve-lr-every must be at least 1".into());
    }
    if args.method.takes_steps() && args.method != Method::Finetune && args.inner_steps == 0 {
        return Err(format!("--inner-steps 0 leaves nothing to adapt for --method {}", args.method.name()));
    }
    let rates = [("--inner-lr", args.inner_lr), ("--meta-lr", args.meta_lr), ("--margin", args.margin)];
    if let Some((name, v)) = rates.iter().find(|(_, v)| !v.is_finite()) {
        return Err(format!("{name} must be a finite number, got {v}"));
    }
    if args.backbone_lr.is_some_and(|v| !v.is_finite()) {
        return Err("--backbone-lr must be a finite number".into());
    }
    if args.minutes.is_some_and(|m| m.is_nan() || m <= 0.0) {
        return Err("--minutes must be positive".into());
    }
    if args.clip.is_some_and(|c| c.is_nan() || c <= 0.0) {
        return Err("--clip must be a positive norm".into());
    }
    if args.threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    let adapts_a_head =
        matches!(args.method, Method::Maml | Method::Fomaml | Method::MetaSgd | Method::Anil | Method::Reptile);
    if adapts_a_head && args.train_ways.is_some_and(|w| w != args.ways) {
        return Err(format!(
            "--method {}: the head has --ways outputs, so --train-ways must equal --ways",
            args.method.name()
        ));
    }
    if let Some(path) = &args.reference {
        reference_curve(path)?;
    }
    if args.eval && args.resume {
        return Err("--eval and --resume do not go together".into());
    }
    Ok(())
}

/// The Omniglot training and test classes of the few-shot protocol: 1,200 random
/// characters and the rest, with rotations as classes. The decoded images are cached at
/// `cache` (default: the system's temporary directory).
pub fn load_omniglot(data: &Path, cache: Option<&Path>) -> CliResult<(ClassDataset, ClassDataset)> {
    if !data.is_dir() {
        return Err(format!("--data {} is not a directory", data.display()));
    }
    for set in ["images_background", "images_evaluation"] {
        if !data.join(set).is_dir() {
            return Err(format!(
                "--data {}: no {set}/ folder (unpack Omniglot's images_background.zip and images_evaluation.zip there)",
                data.display()
            ));
        }
    }
    let cache = cache.map_or_else(|| std::env::temp_dir().join("metagrad-omniglot-28.bin"), Path::to_path_buf);
    let omniglot = Omniglot::load(data, Some(&cache)).map_err(|e| e.to_string())?;
    let (train, test) = omniglot.random_split(1200, 0);
    if test.is_empty() {
        return Err(format!(
            "--data {}: {} characters, the protocol needs more than 1200",
            data.display(),
            train.len()
        ));
    }
    Ok((omniglot.classes(&train, true), omniglot.classes(&test, true)))
}

/// The method, the model it trains, and the test-time step count.
fn method_of(args: &Args, train_classes: usize) -> (Box<dyn MetaMethod<f32>>, Box<dyn Module<f32>>, usize) {
    let (k, lr) = (args.inner_steps, args.inner_lr);
    let steps = |default: usize| args.test_steps.unwrap_or(default);
    let classifier = || Box::new(conv4::classifier::<f32>(args.train_ways.unwrap_or(args.ways)));
    let encoder = || Box::new(conv4::encoder::<f32>());
    let features = conv4::FEATURES;
    match args.method {
        Method::Maml => (Box::new(Maml::new(k, lr)), classifier(), steps(3)),
        Method::Fomaml => (Box::new(Maml::new(k, lr).first_order()), classifier(), steps(3)),
        Method::MetaSgd => (Box::new(meta_sgd(k, lr, false)), classifier(), steps(k)),
        Method::Anil => (Box::new(anil(k, lr, conv4::HEAD_PREFIX)), classifier(), steps(3)),
        Method::Reptile => (Box::new(Reptile::new(k, lr)), classifier(), steps(k)),
        Method::Protonet => (Box::new(ProtoNet), encoder(), 0),
        Method::Matching => (Box::new(MatchingNet), encoder(), 0),
        Method::Relation => (Box::new(RelationNet { seed: args.seed }), Box::new(RelationNet::encoder()), 0),
        Method::Siamese => (Box::new(Siamese { features }), encoder(), 0),
        Method::Triplet => (Box::new(Triplet { margin: args.margin }), encoder(), 0),
        Method::Finetune => {
            let method =
                FineTune { classes: train_classes, features, lr, backbone_lr: args.backbone_lr, seed: args.seed };
            (Box::new(method), encoder(), steps(100))
        }
        Method::NearestNeighbour => (Box::new(PixelNearestNeighbour), Box::new(Sequential::default()), 0),
    }
}

/// Test episodes: `count` N-way K-shot episodes of the test classes, drawn with seed 1234.
fn test_episodes(args: &Args, test: &ClassDataset, count: usize) -> Vec<Episode<f32>> {
    let sampler = EpisodeSampler { ways: args.ways, shots: args.shots, queries: args.queries };
    let mut rng = StdRng::seed_from_u64(1234);
    (0..count).map(|_| conv4::episode(&sampler.sample(test, &mut rng))).collect()
}

/// The training batch of iteration `i`: episodes, or (finetune) minibatches over all classes.
fn training_batch(args: &Args, train: &ClassDataset, iteration: u64) -> Vec<Episode<f32>> {
    let mut rng = iteration_rng(args.seed, iteration);
    if args.method == Method::Finetune {
        return (0..args.meta_batch)
            .map(|_| {
                let batch = conv4::class_batch(train, args.batch_size, &mut rng);
                Episode { support: batch.clone(), query: batch }
            })
            .collect();
    }
    let sampler = EpisodeSampler {
        ways: args.train_ways.unwrap_or(args.ways),
        shots: args.train_shots.unwrap_or(args.shots),
        queries: args.queries,
    };
    (0..args.meta_batch).map(|_| conv4::episode(&sampler.sample(train, &mut rng))).collect()
}

/// Runs `metagrad fewshot`.
pub fn run(args: Args) -> CliResult<()> {
    check(&args)?;
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(|e| e.to_string())?;
    }
    let loading = Instant::now();
    let (train, test) = load_omniglot(&args.data, args.cache.as_deref())?;
    if args.train_ways.unwrap_or(args.ways) > train.classes.len() || args.ways > test.classes.len() {
        return Err(format!("--ways or --train-ways exceeds the {} training classes", train.classes.len()));
    }
    let shots_needed = args.train_shots.unwrap_or(args.shots).max(args.shots) + args.queries;
    if shots_needed > 20 {
        return Err(format!("Omniglot has 20 images per character; shots + queries is {shots_needed}"));
    }
    let name = args.method.name();
    let (method, model, test_steps) = method_of(&args, train.classes.len());
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut meta: Params<f32> = match args.init {
        Init::Reference => conv4::reference_init(model.as_ref(), &mut rng),
        Init::Uniform => model.init(&mut rng),
    };
    for (n, v) in method.init_extra(&meta).iter() {
        meta.insert(n, v.clone());
    }
    println!(
        "{name}: Omniglot loaded in {:.1} s ({} training and {} test classes), {} parameters",
        loading.elapsed().as_secs_f64(),
        train.classes.len(),
        test.classes.len(),
        meta.numel()
    );
    let score = |meta: &Params<f32>, episodes: &[Episode<f32>]| -> Score {
        evaluate(method.as_ref(), model.as_ref(), meta, episodes, &[test_steps])[0]
    };
    if args.eval {
        let path = args.checkpoint.as_ref().expect("clap requires --checkpoint with --eval");
        let iterations = load_checkpoint(path, &mut meta, None)?;
        let started = Instant::now();
        let s = score(&meta, &test_episodes(&args, &test, args.final_episodes));
        println!(
            "{name}, {}-way {}-shot, checkpoint at iteration {iterations}: {:.2}% ± {:.2} over {} test episodes ({:.0} s)",
            args.ways,
            args.shots,
            100.0 * s.mean,
            100.0 * s.ci95,
            args.final_episodes,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/omniglot-{name}-{}w{}s", args.ways, args.shots)));
    let dir = RunDir::create(&out)?;
    let mut adam = Adam::new(args.meta_lr);
    let (mut done, mut history, mut wall) = (0, Vec::new(), 0.0);
    if args.resume {
        done = dir.load_checkpoint(&mut meta, &mut adam)?;
        let previous: Results = dir.read_json("results.json")?;
        history = previous.history.into_iter().filter(|r| r.iteration <= done).collect();
        wall = previous.wall_seconds;
        println!("resuming {} at meta-iteration {done}", out.display());
    }
    let iterations = if args.method == Method::NearestNeighbour { 0 } else { args.iterations };
    let eval_set = test_episodes(&args, &test, args.eval_episodes);
    let started = Instant::now();
    let bar = progress(iterations, done, args.quiet);
    let (mut loss_sum, mut loss_count) = (0.0, 0u64);
    let mut last = None;
    while done < iterations {
        adam.lr = args.meta_lr * 0.5f64.powi(args.halve_lr_every.map_or(0, |h| (done / h) as i32));
        let episodes = training_batch(&args, &train, done);
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
        bar.set_message(format!("loss {:.4}", loss_sum / loss_count as f64));
        let out_of_time = args.minutes.is_some_and(|m| wall + started.elapsed().as_secs_f64() >= 60.0 * m);
        if done % args.eval_every == 0 || done == iterations || out_of_time {
            let s = score(&meta, &eval_set);
            history.push(Record { iteration: done, meta_loss: loss_sum / loss_count as f64, eval: vec![s.mean] });
            (loss_sum, loss_count) = (0.0, 0);
            let seconds = wall + started.elapsed().as_secs_f64();
            report(
                &bar,
                format!(
                    "iteration {done}: test accuracy {:.2}% ± {:.2} ({} episodes), {seconds:.0} s",
                    100.0 * s.mean,
                    100.0 * s.ci95,
                    eval_set.len()
                ),
            );
            dir.save_checkpoint(&meta, &adam, done)?;
            dir.write_json("results.json", &results(&args, &name, test_steps, eval_set.len(), s, seconds, &history))?;
            last = Some(s);
            if out_of_time {
                report(&bar, format!("--minutes {}: stopping at iteration {done}", args.minutes.unwrap_or(0.0)));
                break;
            }
        }
    }
    bar.finish_and_clear();
    let train_seconds = wall + started.elapsed().as_secs_f64();
    let final_set = if args.final_episodes == args.eval_episodes && last.is_some() {
        None
    } else {
        Some(test_episodes(&args, &test, args.final_episodes))
    };
    let s = match (&final_set, last) {
        (Some(set), _) => score(&meta, set),
        (None, Some(s)) => s,
        (None, None) => score(&meta, &eval_set),
    };
    dir.save_checkpoint(&meta, &adam, done)?;
    dir.write_json(
        "results.json",
        &results(&args, &name, test_steps, args.final_episodes, s, train_seconds, &history),
    )?;
    println!(
        "{name}, {}-way {}-shot after {done} iterations ({train_seconds:.0} s of training): {:.2}% ± {:.2} over {} test episodes",
        args.ways,
        args.shots,
        100.0 * s.mean,
        100.0 * s.ci95,
        args.final_episodes
    );
    if !history.is_empty() {
        let title = format!("{name}, Omniglot {}-way {}-shot", args.ways, args.shots);
        let accuracy: Vec<(f64, f64)> = history.iter().map(|r| (r.iteration as f64, 100.0 * r.eval[0])).collect();
        let mut curves = vec![Series::line("metagrad", accuracy)];
        if let Some(path) = &args.reference {
            // The reference's points over our range (and one beyond it).
            let ours = done as f64;
            let points = reference_curve(path)?;
            let beyond = points.iter().map(|p| p.0).filter(|&i| i > ours).fold(f64::INFINITY, f64::min);
            curves.push(Series::line("reference", points.into_iter().filter(|p| p.0 <= beyond).collect()));
        }
        let loss: Vec<(f64, f64)> = history.iter().map(|r| (r.iteration as f64, r.meta_loss)).collect();
        plot::lines(&dir.file("accuracy.png"), &title, "meta-iteration", "test accuracy (%)", &curves, false)?;
        plot::lines(
            &dir.file("loss.png"),
            &title,
            "meta-iteration",
            "training loss (log scale)",
            &[Series::line("meta-batch loss", loss)],
            true,
        )?;
        println!("wrote {}, accuracy.png, loss.png and checkpoint.safetensors", dir.file("results.json").display());
    } else {
        println!("wrote {}", dir.file("results.json").display());
    }
    Ok(())
}

/// `(iteration, accuracy in %)` from JSON lines with `iter` and `acc` fields.
fn reference_curve(path: &std::path::Path) -> CliResult<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", path.display()))?;
            match (v["iter"].as_f64(), v["acc"].as_f64()) {
                (Some(i), Some(a)) => Ok((i, 100.0 * a)),
                _ => Err(format!("{}: a line without `iter` and `acc`: {line}", path.display())),
            }
        })
        .collect()
}

fn results(
    args: &Args,
    name: &str,
    test_steps: usize,
    test_episodes: usize,
    score: Score,
    wall_seconds: f64,
    history: &[Record],
) -> Results {
    Results {
        method: name.to_string(),
        ways: args.ways,
        shots: args.shots,
        queries: args.queries,
        train_ways: args.train_ways.unwrap_or(args.ways),
        train_shots: args.train_shots.unwrap_or(args.shots),
        meta_batch: args.meta_batch,
        meta_lr: args.meta_lr,
        inner_steps: args.inner_steps,
        inner_lr: args.inner_lr,
        test_steps,
        iterations: history.last().map_or(0, |r| r.iteration),
        seed: args.seed,
        init: args.init,
        test_episodes,
        accuracy: score.mean,
        ci95: score.ci95,
        wall_seconds,
        history: history.to_vec(),
    }
}

fn uniform() -> Init {
    Init::Uniform
}
