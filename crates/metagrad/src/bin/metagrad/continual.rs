//! `metagrad continual`: a continual-learning benchmark on MNIST (permuted or split) for every
//! method, writing the accuracy matrix, the metrics, a heatmap of the matrix and the per-task
//! accuracy curves.

use crate::plot::{self, Series};
use crate::training::{progress, report, value_name as name, CliResult, RunDir};
use metagrad_algos::continual::{
    benchmarks, train_sequence, Config, Ewc, ExperienceReplay, GenerativeReplay, Joint, Lwf, Mas, Mlp, Naive, Scenario,
    Si, Strategy, Task, Vae,
};
use metagrad_data::mnist::Mnist;
use metagrad_nn::Module;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::path::PathBuf;

/// The task sequences.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Benchmark {
    /// Permuted MNIST: every task the ten digits, pixels shuffled by the task's permutation
    /// (the first task unshuffled).
    PermutedMnist,
    /// Split MNIST: five tasks of two digits (0/1, 2/3, 4/5, 6/7, 8/9).
    SplitMnist,
}

/// Which classes compete (van de Ven & Tolias 2019).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioArg {
    /// Each task its own head (the task is known at test time).
    Task,
    /// All classes seen so far compete.
    Class,
    /// Every task uses every class (permuted MNIST).
    Domain,
}

/// The methods.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Fine-tune on each task in turn (forgets).
    Naive,
    /// Train on all data seen so far (the upper bound).
    Joint,
    /// Elastic weight consolidation (true Fisher).
    Ewc,
    /// Online EWC (running Fisher with decay --gamma).
    OnlineEwc,
    /// Memory aware synapses.
    Mas,
    /// Synaptic intelligence.
    Si,
    /// Experience replay from a reservoir buffer of --buffer examples.
    Replay,
    /// Asymmetric experience replay (ER-ACE): in the class-incremental scenario the current
    /// batch competes only among its own task's classes.
    ReplayAce,
    /// Deep generative replay with a VAE.
    GenerativeReplay,
    /// Learning without forgetting.
    Lwf,
}

/// Arguments of `metagrad continual`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task sequence.
    #[arg(long, value_enum)]
    benchmark: Benchmark,
    /// The scenario (default: domain for permuted MNIST, class for split MNIST).
    #[arg(long, value_enum)]
    scenario: Option<ScenarioArg>,
    /// The method.
    #[arg(long, value_enum)]
    method: Method,
    /// The MNIST directory (the four idx files, plain or .gz).
    #[arg(long)]
    data: PathBuf,
    /// Tasks of permuted MNIST.
    #[arg(long, default_value_t = 10)]
    tasks: usize,
    /// Training examples per task (default: all).
    #[arg(long)]
    train_per_task: Option<usize>,
    /// Optimiser steps per task.
    #[arg(long, default_value_t = 2000)]
    iterations: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Units of each of the MLP's two hidden layers.
    #[arg(long, default_value_t = 400)]
    hidden: usize,
    /// The regulariser's strength: lambda for EWC, online EWC, MAS and LwF, c for SI
    /// (default, the best of the sweeps in docs/RESULTS.md: EWC and online EWC 100 on permuted
    /// MNIST and 1e4 on split MNIST, MAS 0.1, SI 5 on permuted and 100 on split, LwF 1).
    #[arg(long)]
    strength: Option<f64>,
    /// SI: integrate the task loss's gradient alone, without the penalty's (Zenke et al.'s
    /// definition; the default follows van de Ven & Tolias and integrates the whole loss's).
    #[arg(long)]
    si_task_gradient: bool,
    /// Online EWC's decay.
    #[arg(long, default_value_t = 1.0)]
    gamma: f64,
    /// Replay buffer size (examples).
    #[arg(long, default_value_t = 500)]
    buffer: usize,
    /// Examples per Fisher / MAS importance estimate.
    #[arg(long, default_value_t = 1000)]
    importance_samples: usize,
    /// Generator steps per task (generative replay).
    #[arg(long, default_value_t = 2000)]
    generator_iterations: usize,
    /// Test every task every this many steps (0: only at the end of each task).
    #[arg(long, default_value_t = 200)]
    eval_every: usize,
    /// Seed of the initialisation, the permutations, the minibatches and the methods.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The run directory (default runs/<benchmark>-<scenario>-<method>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// What `results.json` holds.
#[derive(Serialize)]
struct Results {
    benchmark: Benchmark,
    scenario: ScenarioArg,
    method: Method,
    strength: f64,
    tasks: Vec<String>,
    iterations: usize,
    batch_size: usize,
    lr: f64,
    hidden: usize,
    buffer: usize,
    /// SI with the task loss's gradient alone (`--si-task-gradient`).
    si_task_gradient: bool,
    seed: u64,
    /// `R[i][j]`: test accuracy on task `j` after training task `i`.
    accuracy_matrix: Vec<Vec<f64>>,
    /// The untrained model's accuracy on each task.
    baseline: Vec<f64>,
    average_accuracy: f64,
    backward_transfer: f64,
    forward_transfer: f64,
    forgetting: f64,
    /// `(steps, accuracy on every task)` at each evaluation.
    curves: Vec<(usize, Vec<f64>)>,
    wall_seconds: f64,
}

/// The regulariser strengths used when --strength is not given: the best of the sweeps in
/// docs/RESULTS.md (500 steps per task; permuted MNIST, and split MNIST's task-incremental
/// scenario, where the regularisers work).
fn default_strength(method: Method, benchmark: Benchmark) -> f64 {
    match (method, benchmark) {
        (Method::Ewc | Method::OnlineEwc, Benchmark::PermutedMnist) => 1e2,
        (Method::Ewc | Method::OnlineEwc, Benchmark::SplitMnist) => 1e4,
        (Method::Mas, _) => 0.1,
        (Method::Si, Benchmark::PermutedMnist) => 5.0,
        (Method::Si, Benchmark::SplitMnist) => 100.0,
        (Method::Lwf, _) => 1.0,
        _ => 0.0,
    }
}

fn scenario_of(args: &Args) -> ScenarioArg {
    args.scenario.unwrap_or(match args.benchmark {
        Benchmark::PermutedMnist => ScenarioArg::Domain,
        Benchmark::SplitMnist => ScenarioArg::Class,
    })
}

fn tasks_of(args: &Args, mnist: &Mnist) -> Vec<Task<f32>> {
    match args.benchmark {
        Benchmark::PermutedMnist => benchmarks::permuted_mnist(mnist, args.tasks, args.seed, args.train_per_task),
        Benchmark::SplitMnist => benchmarks::split_mnist(mnist, args.train_per_task),
    }
}

fn strategy_of(args: &Args, strength: f64) -> Box<dyn Strategy<f32>> {
    match args.method {
        Method::Naive => Box::new(Naive),
        Method::Joint => Box::new(Joint),
        Method::Ewc => {
            let mut ewc = Ewc::new(strength);
            ewc.samples = args.importance_samples;
            Box::new(ewc)
        }
        Method::OnlineEwc => {
            let mut ewc = Ewc::new(strength).online(args.gamma);
            ewc.samples = args.importance_samples;
            Box::new(ewc)
        }
        Method::Mas => {
            let mut mas = Mas::new(strength);
            mas.samples = args.importance_samples;
            Box::new(mas)
        }
        Method::Si if args.si_task_gradient => Box::new(Si::new(strength).with_task_gradient()),
        Method::Si => Box::new(Si::new(strength)),
        Method::Replay => Box::new(ExperienceReplay::new(args.buffer)),
        Method::ReplayAce => Box::new(ExperienceReplay::asymmetric(args.buffer)),
        Method::GenerativeReplay => Box::new(GenerativeReplay::new(
            Vae { inputs: 784, hidden: args.hidden, latent: 100 },
            args.generator_iterations,
        )),
        Method::Lwf => Box::new(Lwf::new(strength)),
    }
}

fn check(args: &Args) -> CliResult<()> {
    if args.iterations == 0 || args.batch_size == 0 || args.hidden == 0 {
        return Err("--iterations, --batch-size and --hidden must be positive".into());
    }
    if args.benchmark == Benchmark::PermutedMnist && args.tasks == 0 {
        return Err("--tasks must be positive".into());
    }
    if scenario_of(args) == ScenarioArg::Domain && args.benchmark == Benchmark::SplitMnist {
        return Err("split MNIST is task- or class-incremental (--scenario task|class)".into());
    }
    if scenario_of(args) != ScenarioArg::Domain && args.benchmark == Benchmark::PermutedMnist {
        return Err(
            "permuted MNIST is domain-incremental here: every task uses the same ten outputs (--scenario domain)"
                .into(),
        );
    }
    if args.train_per_task == Some(0) || args.importance_samples == 0 || args.buffer == 0 {
        return Err("--train-per-task, --importance-samples and --buffer must be positive".into());
    }
    if !(args.gamma.is_finite() && (0.0..=1.0).contains(&args.gamma)) {
        return Err("--gamma must be in [0, 1]".into());
    }
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(args.lr) || args.strength.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
        return Err("--lr must be positive and --strength non-negative".into());
    }
    Ok(())
}

pub fn run(args: Args) -> CliResult<()> {
    check(&args)?;
    let scenario = scenario_of(&args);
    let mnist = Mnist::load(&args.data).map_err(|e| format!("cannot load MNIST from {}: {e}", args.data.display()))?;
    let tasks = tasks_of(&args, &mnist);
    let strength = args.strength.unwrap_or_else(|| default_strength(args.method, args.benchmark));
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!("runs/{}-{}-{}", name(&args.benchmark), name(&scenario), name(&args.method)))
    });
    let dir = RunDir::create(&out)?;
    let model = Mlp::new(&[784, args.hidden, args.hidden, 10]);
    let params = model.init(&mut StdRng::seed_from_u64(args.seed));
    let mut strategy = strategy_of(&args, strength);
    println!(
        "{} on {} ({} tasks, {}-incremental), {} steps per task",
        strategy.name(),
        name(&args.benchmark),
        tasks.len(),
        name(&scenario),
        args.iterations
    );
    let config = Config {
        iterations: args.iterations,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
        eval_every: args.eval_every,
    };
    let bar = progress((tasks.len() * args.iterations) as u64, 0, args.quiet);
    let the_scenario = match scenario {
        ScenarioArg::Task => Scenario::TaskIncremental,
        ScenarioArg::Class => Scenario::ClassIncremental,
        ScenarioArg::Domain => Scenario::DomainIncremental,
    };
    let mut loss = 0.0;
    let run = train_sequence(&model, params, strategy.as_mut(), &tasks, the_scenario, &config, &mut |p| {
        bar.inc(1);
        loss = 0.98 * loss + 0.02 * p.loss;
        bar.set_message(format!("task {} loss {loss:.3}", p.task + 1));
        if p.iteration == config.iterations {
            report(&bar, format!("task {}/{} trained", p.task + 1, tasks.len()));
        }
    });
    bar.finish_and_clear();
    let m = &run.matrix;
    for (i, row) in m.rows.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|a| format!("{:5.1}", 100.0 * a)).collect();
        println!("after task {:2}: {}   average so far {:.2}%", i + 1, cells.join(" "), 100.0 * m.average_after(i));
    }
    println!(
        "{}: average accuracy {:.2}%, backward transfer {:+.2}, forgetting {:.2}, forward transfer {:+.2} ({:.0} s)",
        strategy.name(),
        100.0 * m.average_accuracy(),
        100.0 * m.backward_transfer(),
        100.0 * m.forgetting(),
        100.0 * m.forward_transfer(),
        run.seconds
    );
    let results = Results {
        benchmark: args.benchmark,
        scenario,
        method: args.method,
        strength,
        tasks: tasks.iter().map(|t| t.name.clone()).collect(),
        iterations: args.iterations,
        batch_size: args.batch_size,
        lr: args.lr,
        hidden: args.hidden,
        buffer: args.buffer,
        si_task_gradient: args.si_task_gradient,
        seed: args.seed,
        accuracy_matrix: m.rows.clone(),
        baseline: m.baseline.clone(),
        average_accuracy: m.average_accuracy(),
        backward_transfer: m.backward_transfer(),
        forward_transfer: m.forward_transfer(),
        forgetting: m.forgetting(),
        curves: run.curves.clone(),
        wall_seconds: run.seconds,
    };
    dir.write_json("results.json", &results)?;
    let title = format!("{} on {}, {}-incremental", strategy.name(), name(&args.benchmark), name(&scenario));
    let labels: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
    plot::heatmap(&dir.file("accuracy_matrix.png"), &title, &m.rows, &labels)?;
    let series: Vec<Series> = (0..tasks.len())
        .map(|j| Series::line(&tasks[j].name, run.curves.iter().map(|(s, acc)| (*s as f64, acc[j])).collect()))
        .collect();
    plot::lines(&dir.file("accuracy.png"), &title, "training steps", "test accuracy", &series, false)?;
    println!("wrote {}/results.json, accuracy_matrix.png and accuracy.png", out.display());
    Ok(())
}
