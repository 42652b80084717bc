//! `metagrad ssl`: pretrain the small conv encoder with a self-supervised (or metric, or
//! supervised) method, then judge its features: on MNIST a linear probe with 1% and 100% of
//! the training labels and k-NN accuracy; on Omniglot one-shot nearest-neighbour accuracy on
//! the held-out characters. Writes results.json, the encoder (parameters and batch-norm
//! running statistics) and the loss curve.

use crate::fewshot::load_omniglot;
use crate::plot::{self, Series};
use crate::training::{progress, report, value_name as name, CliResult, RunDir};
use metagrad_algos::ssl::probe::{features, knn_accuracy, linear_probe, ProbeConfig};
use metagrad_algos::ssl::{
    conv_encoder, pretrain, Augment, BarlowTwins, Byol, Config, Contrastive, Distance, Jigsaw, Method as SslMethod,
    Mining, Positives, Pretrained, Rotation, Sampling, SimClr, Supervised, TripletNet, ENCODER_FEATURES,
};
use metagrad_algos::Labelled;
use metagrad_autodiff::Tensor;
use metagrad_data::episodes::{rotate, ClassDataset, EpisodeSampler};
use metagrad_data::mnist::Mnist;
use metagrad_nn::{checkpoint, Sequential};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// The methods.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// No training: the randomly initialised encoder (the floor).
    Random,
    /// Cross-entropy on the labels (the ceiling).
    Supervised,
    /// Siamese encoder with the margin contrastive loss.
    Contrastive,
    /// Triplet loss with mined triplets (--mining).
    Triplet,
    /// SimCLR: NT-Xent on projections of two views.
    Simclr,
    /// BYOL: predict a moving-average target's projection.
    Byol,
    /// Barlow Twins: cross-correlation to the identity.
    BarlowTwins,
    /// Pretext task: predict the rotation (0/90/180/270).
    Rotation,
    /// Pretext task: predict the permutation of 2x2 tiles.
    Jigsaw,
}

/// The datasets.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// MNIST digits: linear probe and k-NN on the test set.
    Mnist,
    /// Omniglot characters: one-shot nearest neighbour on held-out characters.
    Omniglot,
}

/// Where positives come from in the pair-based methods.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PositivesArg {
    /// Two views of one image.
    Views,
    /// Two images of one class (uses labels).
    Labels,
}

/// Distances of the contrastive and triplet losses.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistanceArg {
    /// `||u - v||`.
    Euclidean,
    /// `||u - v||^2`.
    Squared,
}

/// Triplet mining.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MiningArg {
    /// Farthest positive, nearest negative.
    BatchHard,
    /// Nearest negative farther than the positive.
    SemiHard,
    /// Every triplet.
    All,
}

/// Arguments of `metagrad ssl`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The method.
    #[arg(long, value_enum)]
    method: Method,
    /// The dataset.
    #[arg(long, value_enum, default_value = "mnist")]
    dataset: Dataset,
    /// The MNIST directory (idx files) or the Omniglot directory (images_background/ and
    /// images_evaluation/).
    #[arg(long)]
    data: PathBuf,
    /// Where to cache decoded Omniglot images.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Optimiser steps.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Weight of the centroid regulariser (0: off).
    #[arg(long, default_value_t = 0.0)]
    centroid_weight: f64,
    /// Positives of the contrastive and triplet methods, unused by the others (default: views
    /// on MNIST, labels on Omniglot). With labels, batches hold 4 images of each of
    /// batch-size / 4 classes.
    #[arg(long, value_enum)]
    positives: Option<PositivesArg>,
    /// Margin of the contrastive and triplet losses, in the units of --distance between unit
    /// vectors.
    #[arg(long)]
    margin: Option<f64>,
    /// Distance of the contrastive and triplet losses.
    #[arg(long, value_enum, default_value = "euclidean")]
    distance: DistanceArg,
    /// Triplet mining.
    #[arg(long, value_enum, default_value = "semi-hard")]
    mining: MiningArg,
    /// SimCLR's temperature.
    #[arg(long, default_value_t = 0.2)]
    temperature: f64,
    /// BYOL's target decay.
    #[arg(long, default_value_t = 0.99)]
    decay: f64,
    /// Barlow Twins' off-diagonal weight (default 1 / projection size).
    #[arg(long)]
    lambda: Option<f64>,
    /// Projection size of SimCLR, BYOL and Barlow Twins (and of --projector).
    #[arg(long, default_value_t = 128)]
    projection: usize,
    /// The contrastive loss reads a projection head's output (512 hidden, --projection out)
    /// instead of the encoder's features.
    #[arg(long)]
    projector: bool,
    /// Use only this many training images for pretraining (default: all).
    #[arg(long)]
    train_images: Option<usize>,
    /// Linear-probe epochs (with all labels; 1% of labels gets 50 times as many).
    #[arg(long, default_value_t = 20)]
    probe_epochs: usize,
    /// Neighbours of the k-NN vote.
    #[arg(long, default_value_t = 20)]
    knn: usize,
    /// One-shot test episodes (Omniglot).
    #[arg(long, default_value_t = 600)]
    episodes: usize,
    /// Seed of initialisation, batches, views, label subsets and episodes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The run directory (default runs/ssl-<dataset>-<method>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// What `results.json` holds.
#[derive(Serialize)]
struct Results {
    method: Method,
    dataset: Dataset,
    steps: usize,
    batch_size: usize,
    lr: f64,
    centroid_weight: f64,
    /// Whether the contrastive loss read a projection head.
    projector: bool,
    seed: u64,
    /// MNIST: linear-probe test accuracy with 1% (600) and 100% of the training labels.
    probe_1_percent: Option<f64>,
    probe_100_percent: Option<f64>,
    /// MNIST: k-NN test accuracy (cosine, all training examples as the bank).
    knn: Option<f64>,
    /// Omniglot: 5-way and 20-way one-shot nearest-neighbour accuracy (mean, 95% half-width).
    one_shot_5_way: Option<(f64, f64)>,
    one_shot_20_way: Option<(f64, f64)>,
    pretrain_seconds: f64,
    evaluation_seconds: f64,
    losses: Vec<f64>,
}

fn check(args: &Args) -> CliResult<()> {
    if args.batch_size < 2 || args.projection == 0 || args.knn == 0 || args.episodes == 0 {
        return Err("--batch-size must be at least 2; --projection, --knn and --episodes positive".into());
    }
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(args.lr) || !positive(args.temperature) || args.margin.is_some_and(|m| !positive(m)) {
        return Err("--lr, --temperature and --margin must be positive".into());
    }
    if !(args.decay.is_finite() && (0.0..1.0).contains(&args.decay)) {
        return Err("--decay must be in [0, 1)".into());
    }
    if !(args.centroid_weight.is_finite() && args.centroid_weight >= 0.0) || args.lambda.is_some_and(|l| !positive(l)) {
        return Err("--centroid-weight must be non-negative and --lambda positive".into());
    }
    if args.train_images == Some(0) {
        return Err("--train-images must be positive".into());
    }
    if args.projector && args.method != Method::Contrastive {
        return Err(
            "--projector applies to --method contrastive (SimCLR, BYOL and Barlow Twins always have one)".into()
        );
    }
    if args.method == Method::Rotation && args.dataset == Dataset::Omniglot {
        return Err("--method rotation on Omniglot: its classes include every character's four rotations, so \
                    the rotation of an image is not recoverable from it"
            .into());
    }
    Ok(())
}

/// Where positives come from, given the flags and the dataset.
fn positives_of(args: &Args) -> Positives {
    match args.positives.unwrap_or(match args.dataset {
        Dataset::Mnist => PositivesArg::Views,
        Dataset::Omniglot => PositivesArg::Labels,
    }) {
        PositivesArg::Views => Positives::Views,
        PositivesArg::Labels => Positives::Labels,
    }
}

fn method_of(args: &Args, classes: usize) -> Option<Box<dyn SslMethod<f32>>> {
    let positives = positives_of(args);
    let distance = match args.distance {
        DistanceArg::Euclidean => Distance::Euclidean,
        DistanceArg::Squared => Distance::Squared,
    };
    let (f, hidden, projection) = (ENCODER_FEATURES, 512, args.projection);
    Some(match args.method {
        Method::Random => return None,
        Method::Supervised => Box::new(Supervised::new(f, classes)),
        Method::Contrastive => {
            let plain = Contrastive {
                positives,
                margin: args.margin.unwrap_or(Contrastive::<f32>::default().margin),
                distance,
                projector: None,
            };
            Box::new(if args.projector { plain.with_projector(f, hidden, projection) } else { plain })
        }
        Method::Triplet => Box::new(TripletNet {
            positives,
            margin: args.margin.unwrap_or(TripletNet::default().margin),
            mining: match args.mining {
                MiningArg::BatchHard => Mining::BatchHard,
                MiningArg::SemiHard => Mining::SemiHard,
                MiningArg::All => Mining::All,
            },
            distance,
        }),
        Method::Simclr => Box::new(SimClr::new(f, hidden, projection, args.temperature)),
        Method::Byol => Box::new(Byol::new(f, hidden, projection, args.decay)),
        Method::BarlowTwins => {
            Box::new(BarlowTwins::new(f, hidden, projection, args.lambda.unwrap_or(1.0 / projection as f64)))
        }
        Method::Rotation => Box::new(Rotation::new(f)),
        Method::Jigsaw => Box::new(Jigsaw::new(f, hidden)),
    })
}

/// MNIST's classes.
const CLASSES_MNIST: usize = 10;

/// MNIST split as `[n, 1, 28, 28]` tensors.
fn mnist_sets(mnist: &Mnist) -> (Labelled<f32>, Labelled<f32>) {
    let to_set = |split: &metagrad_data::mnist::Split| {
        let n = split.labels.len();
        Labelled::new(
            Tensor::from_vec(&[n, 1, 28, 28], split.images.iter().copied().collect()),
            split.labels.iter().map(|&l| usize::from(l)).collect(),
        )
    };
    (to_set(&mnist.train), to_set(&mnist.test))
}

/// Every image of every class of `data` (rotated as its class says), labelled by class.
fn all_images(data: &ClassDataset) -> Labelled<f32> {
    let side = data.images.shape()[1];
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let images: Vec<_> = data.images.outer_iter().collect();
    for (label, class) in data.classes.iter().enumerate() {
        for &e in &class.examples {
            pixels.extend(rotate(images[e], class.quarter_turns));
            labels.push(label);
        }
    }
    Labelled::new(Tensor::from_vec(&[labels.len(), 1, side, side], pixels), labels)
}

/// The first `count` of a seeded shuffle of `data` (all of it for `None`).
fn subset(data: &Labelled<f32>, count: Option<usize>, seed: u64) -> Labelled<f32> {
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    order.truncate(count.unwrap_or(data.len()).min(data.len()));
    data.select(&order)
}

/// Mean accuracy and 95% half-width of one-shot nearest-neighbour classification (cosine on
/// the encoder's features) over `episodes` episodes.
fn one_shot(
    encoder: &Sequential<f32>,
    trained: &Pretrained<f32>,
    test: &ClassDataset,
    ways: usize,
    episodes: usize,
    seed: u64,
) -> (f64, f64) {
    let (params, state) = trained.encoder();
    let sampler = EpisodeSampler { ways, shots: 1, queries: 5 };
    let mut rng = StdRng::seed_from_u64(seed);
    let scores: Vec<f64> = (0..episodes)
        .map(|_| {
            let e = sampler.sample(test, &mut rng);
            let tensor = |b: &metagrad_data::episodes::LabelledBatch| {
                Tensor::from_vec(
                    &[b.labels.len(), 1, b.images.shape()[2], b.images.shape()[3]],
                    b.images.iter().copied().collect(),
                )
            };
            let support =
                Labelled::new(features(encoder, &params, &state, &tensor(&e.support), 1000), e.support.labels.clone());
            let query =
                Labelled::new(features(encoder, &params, &state, &tensor(&e.query), 1000), e.query.labels.clone());
            knn_accuracy(&support, &query, ways, 1)
        })
        .collect();
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, 1.96 * (var / n).sqrt())
}

pub fn run(args: Args) -> CliResult<()> {
    check(&args)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/ssl-{}-{}", name(&args.dataset), name(&args.method))));
    let (train, test_mnist, test_omniglot) = match args.dataset {
        Dataset::Mnist => {
            let mnist =
                Mnist::load(&args.data).map_err(|e| format!("cannot load MNIST from {}: {e}", args.data.display()))?;
            let (train, test) = mnist_sets(&mnist);
            (train, Some(test), None)
        }
        Dataset::Omniglot => {
            let (train, test) = load_omniglot(&args.data, args.cache.as_deref())?;
            (all_images(&train), None, Some(test))
        }
    };
    if let Some(test) = &test_omniglot {
        if test.classes.len() < 20 {
            return Err(format!("--data {}: 20-way episodes need 20 test classes", args.data.display()));
        }
    }
    let dir = RunDir::create(&out)?;
    let classes = train.labels.iter().max().map_or(0, |m| m + 1);
    let pairs_by_label =
        matches!(args.method, Method::Contrastive | Method::Triplet) && positives_of(&args) == Positives::Labels;
    let pretraining = subset(&train, args.train_images, args.seed);
    let encoder = conv_encoder::<f32>();
    let config = Config {
        steps: if args.method == Method::Random { 0 } else { args.steps },
        batch_size: args.batch_size,
        learning_rate: args.lr,
        centroid_weight: args.centroid_weight,
        seed: args.seed,
        sampling: if pairs_by_label { Sampling::ClassBalanced { per_class: 4 } } else { Sampling::Uniform },
        ..Config::default()
    };
    let mut method = method_of(&args, classes);
    let start = Instant::now();
    let trained = {
        let mut placeholder = Supervised::new(ENCODER_FEATURES, classes.max(1));
        let method: &mut dyn SslMethod<f32> = match method.as_mut() {
            Some(m) => m.as_mut(),
            None => &mut placeholder,
        };
        println!(
            "{} on {} ({} training images), {} steps of {} images",
            name(&args.method),
            name(&args.dataset),
            pretraining.len(),
            config.steps,
            config.batch_size
        );
        let bar = progress(config.steps as u64, 0, args.quiet);
        let mut smoothed = f64::NAN;
        let trained = pretrain(&encoder, method, &pretraining, &Augment::for_small_images(), &config, |p| {
            smoothed = if smoothed.is_nan() { p.loss } else { 0.98 * smoothed + 0.02 * p.loss };
            bar.set_position(p.step as u64);
            bar.set_message(format!("loss {smoothed:.4}"));
            if p.step % 100 == 0 {
                report(&bar, format!("step {:5}: loss {smoothed:.4}", p.step));
            }
        })
        .map_err(|e| format!("{}: {e}", name(&args.method)))?;
        bar.finish_and_clear();
        trained
    };
    let pretrain_seconds = start.elapsed().as_secs_f64();
    let (params, state) = trained.encoder();
    checkpoint::save(&dir.file("encoder.safetensors"), &params).map_err(|e| e.to_string())?;
    // Evaluation mode needs the batch-norm running statistics too.
    checkpoint::save(&dir.file("encoder_state.safetensors"), &state).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut results = Results {
        method: args.method,
        dataset: args.dataset,
        steps: config.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        centroid_weight: args.centroid_weight,
        projector: args.projector,
        seed: args.seed,
        probe_1_percent: None,
        probe_100_percent: None,
        knn: None,
        one_shot_5_way: None,
        one_shot_20_way: None,
        pretrain_seconds,
        evaluation_seconds: 0.0,
        losses: trained.losses.clone(),
    };
    if let Some(test) = &test_mnist {
        println!("features of {} training and {} test images", train.len(), test.len());
        let train_features =
            Labelled::new(features(&encoder, &params, &state, &train.inputs, 1000), train.labels.clone());
        let test_features = Labelled::new(features(&encoder, &params, &state, &test.inputs, 1000), test.labels.clone());
        let probe = ProbeConfig { epochs: args.probe_epochs, seed: args.seed, ..ProbeConfig::default() };
        let few = subset(&train_features, Some((train.len() / 100).max(CLASSES_MNIST)), args.seed ^ 1);
        let few_probe = ProbeConfig { epochs: 50 * args.probe_epochs, batch_size: 64, ..probe.clone() };
        let p1 = linear_probe(&few, &test_features, CLASSES_MNIST, &few_probe);
        println!("linear probe, 1% of the labels ({} examples): {:.2}%", few.len(), 100.0 * p1);
        let p100 = linear_probe(&train_features, &test_features, CLASSES_MNIST, &probe);
        println!("linear probe, all {} labels: {:.2}%", train.len(), 100.0 * p100);
        let knn = knn_accuracy(&train_features, &test_features, CLASSES_MNIST, args.knn);
        println!("{}-NN (cosine): {:.2}%", args.knn, 100.0 * knn);
        (results.probe_1_percent, results.probe_100_percent, results.knn) = (Some(p1), Some(p100), Some(knn));
    }
    if let Some(test) = &test_omniglot {
        for (ways, slot) in [(5, &mut results.one_shot_5_way), (20, &mut results.one_shot_20_way)] {
            let (mean, half) = one_shot(&encoder, &trained, test, ways, args.episodes, args.seed);
            println!("{ways}-way one-shot nearest neighbour: {:.2} +- {:.2}%", 100.0 * mean, 100.0 * half);
            *slot = Some((mean, half));
        }
    }
    results.evaluation_seconds = start.elapsed().as_secs_f64();
    println!("pretraining {:.0} s, evaluation {:.0} s", results.pretrain_seconds, results.evaluation_seconds);
    dir.write_json("results.json", &results)?;
    if !trained.losses.is_empty() {
        let points = trained.losses.iter().enumerate().map(|(i, l)| ((i + 1) as f64, *l)).collect();
        let title = format!("{} on {}", name(&args.method), name(&args.dataset));
        plot::lines(&dir.file("loss.png"), &title, "step", "training loss", &[Series::line("loss", points)], false)?;
    }
    println!("wrote {}/results.json, encoder.safetensors, encoder_state.safetensors and loss.png", out.display());
    Ok(())
}
