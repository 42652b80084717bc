//! Every few-shot method learns on a small Omniglot subset: after a short seeded training run
//! its 5-way 1-shot accuracy on held-out characters beats a fixed threshold well above chance
//! (20%) and the same model before training.
//!
//! These need release builds (conv-4 on a CPU) and the dataset:
//! `cargo test --release -p metagrad-algos --test learns_omniglot -- --ignored --nocapture`
//! (CI runs them). The thread-determinism check at the end runs in every build.

use metagrad_algos::meta::anil::anil;
use metagrad_algos::meta::meta_sgd::meta_sgd;
use metagrad_algos::meta::{
    conv4, evaluate, meta_gradient, meta_step, Episode, FineTune, Maml, MatchingNet, MetaMethod, PixelNearestNeighbour,
    ProtoNet, RelationNet, Reptile, Siamese, Triplet,
};
use metagrad_data::episodes::{ClassDataset, EpisodeSampler};
use metagrad_data::location::dataset_for_test;
use metagrad_data::omniglot::Omniglot;
use metagrad_nn::optim::{Adam, Optimizer};
use metagrad_nn::{Module, Params, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::OnceLock;

/// 100 training characters and 50 test characters (each with its four rotations), from the
/// protocol's random split; `None` when the dataset is absent (and not required).
fn subset() -> Option<&'static (ClassDataset, ClassDataset)> {
    static DATA: OnceLock<Option<(ClassDataset, ClassDataset)>> = OnceLock::new();
    DATA.get_or_init(|| {
        let root = dataset_for_test("omniglot")?;
        let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("omniglot-28.bin");
        let omniglot = Omniglot::load(&root, Some(&cache)).expect("Omniglot loads");
        let (train, test) = omniglot.random_split(1200, 0);
        Some((omniglot.classes(&train[..100], true), omniglot.classes(&test[..50], true)))
    })
    .as_ref()
}

const FIVE_WAY_ONE_SHOT: EpisodeSampler = EpisodeSampler { ways: 5, shots: 1, queries: 5 };

fn episodes(data: &ClassDataset, count: usize, seed: u64) -> Vec<Episode<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(|_| conv4::episode(&FIVE_WAY_ONE_SHOT.sample(data, &mut rng))).collect()
}

/// A training run: `iterations` meta-steps of `meta_batch` episodes (or minibatches, from
/// `draw`) with `optimizer`; returns the 5-way 1-shot test accuracy (100 episodes, after
/// `eval_steps` adaptation steps) before and after.
fn run(
    method: &dyn MetaMethod<f32>,
    model: &dyn Module<f32>,
    iterations: usize,
    meta_batch: usize,
    eval_steps: usize,
    draw: impl Fn(&ClassDataset, &mut StdRng) -> Episode<f32>,
    optimizer: &mut dyn Optimizer<f32>,
) -> Option<(f64, f64)> {
    let (train, test) = subset()?;
    let mut meta: Params<f32> = model.init(&mut StdRng::seed_from_u64(0));
    for (n, v) in method.init_extra(&meta).iter() {
        meta.insert(n, v.clone());
    }
    let test_episodes = episodes(test, 100, 1234);
    let accuracy = |meta: &Params<f32>| evaluate(method, model, meta, &test_episodes, &[eval_steps])[0].mean;
    let before = accuracy(&meta);
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..iterations {
        let batch: Vec<Episode<f32>> = (0..meta_batch).map(|_| draw(train, &mut rng)).collect();
        let step = meta_step(method, model, &mut meta, &batch, optimizer, None);
        assert!(step.query_loss.is_finite(), "{}: the loss became {}", method.name(), step.query_loss);
    }
    let after = accuracy(&meta);
    eprintln!("{}: 5-way 1-shot test accuracy {:.1}% -> {:.1}%", method.name(), 100.0 * before, 100.0 * after);
    Some((before, after))
}

fn episode(train: &ClassDataset, rng: &mut StdRng) -> Episode<f32> {
    conv4::episode(&FIVE_WAY_ONE_SHOT.sample(train, rng))
}

/// Asserts the accuracy after training is at least `threshold` and `gain` above before.
fn assert_learns(result: Option<(f64, f64)>, threshold: f64, gain: f64) {
    let Some((before, after)) = result else { return };
    assert!(after >= threshold, "accuracy {after:.3} after training is below {threshold}");
    assert!(after >= before + gain, "accuracy went from {before:.3} to {after:.3}, less than {gain} better");
}

fn encoder() -> Sequential<f32> {
    conv4::encoder()
}

fn classifier() -> Sequential<f32> {
    conv4::classifier(5)
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn protonet_learns() {
    assert_learns(run(&ProtoNet, &encoder(), 60, 1, 0, episode, &mut Adam::new(1e-3)), 0.70, 0.1);
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn matching_networks_learn() {
    assert_learns(run(&MatchingNet, &encoder(), 60, 1, 0, episode, &mut Adam::new(1e-3)), 0.60, 0.03);
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn relation_networks_learn() {
    assert_learns(
        run(&RelationNet::default(), &RelationNet::encoder(), 60, 1, 0, episode, &mut Adam::new(1e-3)),
        0.55,
        0.3,
    );
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn siamese_networks_learn() {
    assert_learns(
        run(&Siamese { features: conv4::FEATURES }, &encoder(), 60, 1, 0, episode, &mut Adam::new(1e-3)),
        0.60,
        0.04,
    );
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn triplet_networks_learn() {
    assert_learns(run(&Triplet { margin: 1.0 }, &encoder(), 60, 1, 0, episode, &mut Adam::new(1e-3)), 0.70, 0.1);
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn maml_learns() {
    assert_learns(run(&Maml::new(1, 0.4), &classifier(), 40, 4, 3, episode, &mut Adam::new(1e-3)), 0.36, 0.08);
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn first_order_maml_learns() {
    assert_learns(
        run(&Maml::new(1, 0.4).first_order(), &classifier(), 40, 4, 3, episode, &mut Adam::new(1e-3)),
        0.42,
        0.1,
    );
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn meta_sgd_learns() {
    assert_learns(run(&meta_sgd(1, 0.4, false), &classifier(), 40, 4, 1, episode, &mut Adam::new(1e-3)), 0.45, 0.2);
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn anil_learns() {
    assert_learns(
        run(&anil(1, 0.4, conv4::HEAD_PREFIX), &classifier(), 40, 4, 3, episode, &mut Adam::new(1e-3)),
        0.50,
        0.2,
    );
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn reptile_learns() {
    // Reptile adapts on the support set only: five shots per class give its inner loop more
    // than five images to learn from (Nichol et al. also train on more shots than they test).
    let five_shot = |data: &ClassDataset, rng: &mut StdRng| {
        conv4::episode(&EpisodeSampler { ways: 5, shots: 5, queries: 1 }.sample(data, rng))
    };
    assert_learns(run(&Reptile::new(5, 0.1), &classifier(), 100, 4, 5, five_shot, &mut Adam::new(1e-3)), 0.75, 0.05);
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn fine_tuning_baseline_learns() {
    let Some((train, _)) = subset() else { return };
    let method =
        FineTune { classes: train.classes.len(), features: conv4::FEATURES, lr: 0.5, backbone_lr: None, seed: 0 };
    let minibatch = |data: &ClassDataset, rng: &mut StdRng| {
        let batch = conv4::class_batch(data, 32, rng);
        Episode { support: batch.clone(), query: batch }
    };
    assert_learns(run(&method, &encoder(), 150, 2, 50, minibatch, &mut Adam::new(1e-3)), 0.72, 0.1);
}

#[test]
#[ignore = "release build and Omniglot: run with --release -- --ignored"]
fn pixel_nearest_neighbour_is_well_above_chance() {
    let Some((_, test)) = subset() else { return };
    let scores =
        evaluate(&PixelNearestNeighbour, &Sequential::default(), &Params::new(), &episodes(test, 100, 1234), &[0]);
    eprintln!("pixel nearest neighbour: {:.1}% +- {:.1}", 100.0 * scores[0].mean, 100.0 * scores[0].ci95);
    assert!(scores[0].mean > 0.4, "pixel nearest neighbour at {:.3}", scores[0].mean);
}

/// The episode loop sums task gradients in task order: 1 and 2 threads give the same bits.
#[test]
fn conv4_meta_gradients_are_identical_at_one_and_two_threads() {
    let Some((train, _)) = subset() else { return };
    let tasks: Vec<Episode<f32>> = {
        let mut rng = StdRng::seed_from_u64(5);
        (0..3).map(|_| episode(train, &mut rng)).collect()
    };
    let model = classifier();
    let meta: Params<f32> = model.init(&mut StdRng::seed_from_u64(0));
    let method = Maml::new(1, 0.4);
    let at = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
        pool.install(|| meta_gradient(&method, &model, &meta, &tasks))
    };
    let (one, two) = (at(1), at(2));
    assert_eq!(one.1.to_bits(), two.1.to_bits(), "query losses differ");
    for ((name, a), (_, b)) in one.0.iter().zip(two.0.iter()) {
        assert!(a.to_vec().iter().zip(b.to_vec()).all(|(x, y)| x.to_bits() == y.to_bits()), "{name} differs");
    }
}
