//! `metagrad federated`: federated learning on MNIST split across clients (McMahan et al.
//! 2017): FedSGD, FedAvg and its server-optimiser variants, or decentralised consensus SGD on
//! a graph; test accuracy per round, the round that reached the target, the bytes carried.

use crate::plot::{self, Series};
use crate::training::{progress, report, value_name as name, CliResult, RunDir};
use metagrad_algos::federated::{
    Aggregation, Client, ClientTask, Consensus, Server, ServerOptimizer, Simulated, Topology, Transport,
};
use metagrad_algos::Labelled;
use metagrad_autodiff::{Tape, Tensor};
use metagrad_data::mnist::{partition_iid, partition_shards, Mnist, Split};
use metagrad_nn::layers::{Activation, Conv2d, Flatten, Linear, MaxPool2d};
use metagrad_nn::loss::accuracy;
use metagrad_nn::{Context, Module, Params, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::path::PathBuf;

/// The models of McMahan et al. (2017).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// "2NN": two hidden layers of 200 ReLU units (199,210 parameters).
    #[value(name = "2nn")]
    #[serde(rename = "2nn")]
    TwoNn,
    /// "CNN": 5x5 conv 32, pool, 5x5 conv 64, pool, 512 ReLU, 10 (1,663,370 parameters).
    Cnn,
}

/// How the training set is dealt to the clients.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Partition {
    /// Shuffled, 600 examples each (for 100 clients).
    Iid,
    /// Sorted by label, cut into 200 shards of 300, two shards per client.
    Shards,
}

/// The algorithms.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Clients return gradients on all their data; the server steps with rate --lr.
    Fedsgd,
    /// Clients train --epochs epochs of batch --batch-size at rate --lr; the server averages.
    Fedavg,
    /// No server: workers train locally and average with their neighbours on --topology.
    Consensus,
}

/// The server's step on the aggregate.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerRule {
    /// Plain (rate --server-lr, 1 for FedAvg).
    Sgd,
    /// Heavy-ball momentum 0.9 (FedAvgM).
    Momentum,
    /// Adam without bias correction (FedAdam).
    Adam,
}

/// How updates are combined.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AggregationArg {
    /// Weighted by the clients' example counts.
    Mean,
    /// Coordinate-wise median.
    Median,
    /// Coordinate-wise mean without the top and bottom 10%.
    Trimmed,
}

/// Communication graphs for --algorithm consensus.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopologyArg {
    /// A cycle.
    Ring,
    /// A square grid with wrap-around (--clients must be a square).
    Torus,
    /// A random 4-regular graph.
    Random,
    /// Every pair connected.
    Complete,
}

/// Arguments of `metagrad federated`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The algorithm.
    #[arg(long, value_enum, default_value_t = Algorithm::Fedavg)]
    algorithm: Algorithm,
    /// The model.
    #[arg(long, value_enum, default_value_t = Model::TwoNn)]
    model: Model,
    /// The partition of the training set.
    #[arg(long, value_enum, default_value_t = Partition::Iid)]
    partition: Partition,
    /// The MNIST directory (the four idx files, plain or .gz).
    #[arg(long)]
    data: PathBuf,
    /// Clients (workers, for consensus).
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// `C`: the fraction of clients per round.
    #[arg(long, default_value_t = 0.1)]
    fraction: f64,
    /// `E`: local epochs per round (FedAvg).
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// `B`: local minibatch size; 0 is the whole local set (B = inf).
    #[arg(long, default_value_t = 10)]
    batch_size: usize,
    /// The local (FedAvg, consensus) or server (FedSGD) learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// FedProx's mu (0: FedAvg).
    #[arg(long, default_value_t = 0.0)]
    proximal_mu: f64,
    /// The server's rule for FedAvg.
    #[arg(long, value_enum, default_value_t = ServerRule::Sgd)]
    server: ServerRule,
    /// The server's rate (FedAvg; default 1 for sgd, which is plain averaging, and for
    /// momentum; 0.01 for adam, whose steps are about this size per coordinate).
    #[arg(long)]
    server_lr: Option<f64>,
    /// How updates are combined.
    #[arg(long, value_enum, default_value_t = AggregationArg::Mean)]
    aggregation: AggregationArg,
    /// The probability that a selected client drops out of a round.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// The graph for --algorithm consensus.
    #[arg(long, value_enum, default_value_t = TopologyArg::Ring)]
    topology: TopologyArg,
    /// Local SGD steps per round (consensus).
    #[arg(long, default_value_t = 10)]
    local_steps: usize,
    /// Rounds at most.
    #[arg(long, default_value_t = 100)]
    rounds: usize,
    /// Stop at this test accuracy (0 to run every round).
    #[arg(long, default_value_t = 0.0)]
    target: f64,
    /// Test every this many rounds.
    #[arg(long, default_value_t = 1)]
    eval_every: usize,
    /// Seed of the initialisation, the partition, the sampling and the clients.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The run directory (default runs/federated-<algorithm>-<model>-<partition>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar, and no per-evaluation lines when stderr is not a terminal.
    #[arg(long)]
    quiet: bool,
}

/// One evaluated round.
#[derive(Serialize)]
struct Point {
    round: usize,
    accuracy: f64,
    /// Megabytes carried so far (both ways).
    megabytes: f64,
    /// Consensus distance (decentralised runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    consensus_distance: Option<f64>,
}

/// What `results.json` holds.
#[derive(Serialize)]
struct Results {
    algorithm: Algorithm,
    model: Model,
    partition: Partition,
    clients: usize,
    fraction: f64,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    server: ServerRule,
    aggregation: AggregationArg,
    topology: Option<TopologyArg>,
    seed: u64,
    target: f64,
    /// The first round whose test accuracy reached --target.
    rounds_to_target: Option<usize>,
    final_accuracy: f64,
    rounds: usize,
    curve: Vec<Point>,
    dropped: usize,
    rejected: usize,
    wall_seconds: f64,
}

fn model_of(model: Model) -> Sequential<f32> {
    match model {
        Model::TwoNn => Sequential::default()
            .push(Flatten)
            .push(Linear::new(784, 200))
            .push(Activation::Relu)
            .push(Linear::new(200, 200))
            .push(Activation::Relu)
            .push(Linear::new(200, 10)),
        Model::Cnn => Sequential::default()
            .push(Conv2d::new(1, 32, 5, 2))
            .push(Activation::Relu)
            .push(MaxPool2d::new(2))
            .push(Conv2d::new(32, 64, 5, 2))
            .push(Activation::Relu)
            .push(MaxPool2d::new(2))
            .push(Flatten)
            .push(Linear::new(3136, 512))
            .push(Activation::Relu)
            .push(Linear::new(512, 10)),
    }
}

fn labelled(split: &Split, indices: &[usize]) -> Labelled<f32> {
    let part = split.select(indices);
    let n = part.labels.len();
    Labelled::new(
        Tensor::from_vec(&[n, 1, 28, 28], part.images.iter().copied().collect()),
        part.labels.iter().map(|&l| usize::from(l)).collect(),
    )
}

fn test_accuracy(model: &dyn Module<f32>, params: &Params<f32>, test: &Labelled<f32>) -> f64 {
    let mut correct = 0.0;
    for start in (0..test.len()).step_by(1000) {
        let chunk = test.select(&(start..(start + 1000).min(test.len())).collect::<Vec<_>>());
        let tape = Tape::new();
        let logits = tape.no_grad(|| {
            model
                .forward(&params.on(&tape), tape.constant(chunk.inputs.clone()), &mut Context::eval(Params::new()))
                .value()
        });
        correct += accuracy(&logits, &chunk.labels) * chunk.len() as f64;
    }
    correct / test.len() as f64
}

fn check(args: &Args) -> CliResult<()> {
    if args.clients == 0 || args.rounds == 0 || args.eval_every == 0 {
        return Err("--clients, --rounds and --eval-every must be positive".into());
    }
    if !(args.fraction > 0.0 && args.fraction <= 1.0) {
        return Err("--fraction must be in (0, 1]".into());
    }
    if !(args.dropout >= 0.0 && args.dropout < 1.0) {
        return Err("--dropout must be in [0, 1)".into());
    }
    if !(args.lr.is_finite() && args.lr > 0.0 && args.server_lr.is_none_or(|r| r.is_finite() && r > 0.0)) {
        return Err("--lr and --server-lr must be positive".into());
    }
    if args.clients > 60_000 || (args.partition == Partition::Shards && 2 * args.clients > 60_000) {
        return Err("--clients: MNIST's 60,000 training images give at most 60,000 clients (30,000 with shards)".into());
    }
    if args.algorithm == Algorithm::Consensus && args.clients > 1000 {
        return Err("--algorithm consensus keeps one model per worker: at most 1,000 workers".into());
    }
    if !(args.proximal_mu.is_finite() && args.proximal_mu >= 0.0) {
        return Err("--proximal-mu must be non-negative".into());
    }
    if args.algorithm == Algorithm::Consensus && args.topology == TopologyArg::Torus {
        let side = (args.clients as f64).sqrt().round() as usize;
        if side * side != args.clients {
            return Err(format!("--topology torus needs a square number of clients, not {}", args.clients));
        }
    }
    Ok(())
}

pub fn run(args: Args) -> CliResult<()> {
    check(&args)?;
    let mnist = Mnist::load(&args.data).map_err(|e| format!("cannot load MNIST from {}: {e}", args.data.display()))?;
    let parts = match args.partition {
        Partition::Iid => partition_iid(mnist.train.labels.len(), args.clients, args.seed),
        Partition::Shards => partition_shards(&mnist.train.labels, args.clients, 2, args.seed),
    };
    let clients: Vec<Client<f32>> = parts.iter().map(|p| Client { data: labelled(&mnist.train, p) }).collect();
    let test = labelled(&mnist.test, &(0..mnist.test.labels.len()).collect::<Vec<_>>());
    let model = model_of(args.model);
    let mut weights: Params<f32> = model.init(&mut StdRng::seed_from_u64(args.seed));
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "runs/federated-{}-{}-{}",
            name(&args.algorithm),
            name(&args.model),
            name(&args.partition)
        ))
    });
    let dir = RunDir::create(&out)?;
    let batch = (args.batch_size > 0).then_some(args.batch_size);
    println!(
        "{} on MNIST, {} model ({} parameters), {} clients ({}), C = {}",
        name(&args.algorithm),
        name(&args.model),
        weights.numel(),
        args.clients,
        name(&args.partition),
        args.fraction
    );
    let started = std::time::Instant::now();
    let bar = progress(args.rounds as u64, 0, args.quiet);
    let (mut curve, mut reached, mut dropped, mut rejected) = (Vec::new(), None, 0, 0);
    let mut record = |round: usize, params: &Params<f32>, bytes: u64, distance: Option<f64>| {
        let acc = test_accuracy(&model, params, &test);
        bar.set_message(format!("accuracy {:.2}%", 100.0 * acc));
        if bar.is_hidden() && !args.quiet {
            // Not on a terminal (a logged run): one line per evaluation instead of the bar.
            println!("round {round}: test accuracy {:.2}% ({:.0} s)", 100.0 * acc, started.elapsed().as_secs_f64());
        }
        if reached.is_none() && args.target > 0.0 && acc >= args.target {
            reached = Some(round);
            report(&bar, format!("round {round}: test accuracy {:.2}% reached the target", 100.0 * acc));
        }
        curve.push(Point { round, accuracy: acc, megabytes: bytes as f64 / 1e6, consensus_distance: distance });
        reached.is_some()
    };
    let mut rounds = 0;
    if args.algorithm == Algorithm::Consensus {
        let topology = match args.topology {
            TopologyArg::Ring => Topology::ring(args.clients),
            TopologyArg::Torus => {
                let side = (args.clients as f64).sqrt().round() as usize;
                Topology::torus(side, side)
            }
            TopologyArg::Random => Topology::random_regular(args.clients, 4.min(args.clients - 1), args.seed),
            TopologyArg::Complete => Topology::complete(args.clients),
        };
        let mut run = Consensus::new(&model, clients, &weights, topology.clone(), args.seed);
        run.local_steps = args.local_steps;
        run.batch_size = args.batch_size.max(1);
        run.lr = args.lr;
        // Each worker sends its weights to each neighbour once per round.
        let per_round = topology.neighbours.iter().map(Vec::len).sum::<usize>() as u64 * (weights.numel() * 4) as u64;
        for round in 1..=args.rounds {
            let distance = run.round(round);
            bar.inc(1);
            rounds = round;
            let last = round == args.rounds;
            if (round % args.eval_every == 0 || last)
                && record(round, &run.mean(), per_round * round as u64, Some(distance))
            {
                break;
            }
        }
    } else {
        let mut server = match args.algorithm {
            Algorithm::Fedsgd => Server::fedsgd(args.lr, args.fraction),
            _ => Server::fedavg(args.epochs, batch, args.lr, args.fraction),
        };
        if let ClientTask::Train { proximal_mu, .. } = &mut server.task {
            *proximal_mu = args.proximal_mu;
        }
        server.seed = args.seed;
        server.aggregation = match args.aggregation {
            AggregationArg::Mean => Aggregation::WeightedMean,
            AggregationArg::Median => Aggregation::Median,
            AggregationArg::Trimmed => Aggregation::TrimmedMean(0.1),
        };
        if args.algorithm == Algorithm::Fedavg {
            server.optimizer = match args.server {
                ServerRule::Sgd => ServerOptimizer::sgd(args.server_lr.unwrap_or(1.0)),
                ServerRule::Momentum => ServerOptimizer::momentum(args.server_lr.unwrap_or(1.0), 0.9),
                ServerRule::Adam => ServerOptimizer::adam(args.server_lr.unwrap_or(0.01)),
            };
        }
        let mut transport = Simulated::new(&model, clients, args.seed);
        transport.dropout = args.dropout;
        for round in 1..=args.rounds {
            let outcome = server.round(round, &mut weights, &mut transport);
            dropped += outcome.dropped.len();
            rejected += outcome.rejected.len();
            for r in &outcome.rejected {
                report(&bar, format!("round {round}: rejected the update of client {}: {}", r.client, r.reason));
            }
            bar.inc(1);
            rounds = round;
            let traffic = transport.traffic();
            let last = round == args.rounds;
            if (round % args.eval_every == 0 || last) && record(round, &weights, traffic.sent + traffic.received, None)
            {
                break;
            }
        }
    }
    bar.finish_and_clear();
    // The last round is always evaluated (or the run stopped at an evaluated round).
    let final_accuracy = curve.last().map_or(f64::NAN, |p| p.accuracy);
    let wall = started.elapsed().as_secs_f64();
    match reached {
        Some(r) => println!("reached {:.1}% in {r} rounds ({wall:.0} s)", 100.0 * args.target),
        None => println!("{rounds} rounds: test accuracy {:.2}% ({wall:.0} s)", 100.0 * final_accuracy),
    }
    let title = format!("{} {} on MNIST ({})", name(&args.algorithm), name(&args.model), name(&args.partition));
    let series = vec![Series::line("test accuracy", curve.iter().map(|p| (p.round as f64, p.accuracy)).collect())];
    plot::lines(&dir.file("accuracy.png"), &title, "round", "test accuracy", &series, false)?;
    let results = Results {
        algorithm: args.algorithm,
        model: args.model,
        partition: args.partition,
        clients: args.clients,
        fraction: args.fraction,
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        server: args.server,
        aggregation: args.aggregation,
        topology: (args.algorithm == Algorithm::Consensus).then_some(args.topology),
        seed: args.seed,
        target: args.target,
        rounds_to_target: reached,
        final_accuracy,
        rounds,
        curve,
        dropped,
        rejected,
        wall_seconds: wall,
    };
    dir.write_json("results.json", &results)?;
    println!("wrote {}/results.json and accuracy.png", out.display());
    Ok(())
}
