//! The self-supervised methods on a small synthetic image task: every one of them makes a
//! linear probe read the classes better than it can from the same encoder untrained (seeded,
//! a fixed margin asserted). Also: BYOL's target gets no gradient and follows its average,
//! and views do not depend on the thread count.

use metagrad_algos::ssl::probe::{features, knn_accuracy, linear_probe, ProbeConfig};
use metagrad_algos::ssl::{
    pretrain, rotate_quarter_turns, Augment, BarlowTwins, Byol, Config, Contrastive, Jigsaw, Method, Rotation, SimClr,
    Supervised, TripletNet,
};
use metagrad_algos::Labelled;
use metagrad_autodiff::{Tape, Tensor};
use metagrad_nn::layers::{Activation, BatchNorm, Conv2d, GlobalAvgPool, MaxPool2d};
use metagrad_nn::{Params, Sequential};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

const SIDE: usize = 8;
const CLASSES: usize = 4;
const FEATURES: usize = 16;
/// The side of a template.
const T: usize = 6;

/// `conv 3x3 (8) -> BN -> ReLU -> pool -> conv 3x3 (16) -> BN -> ReLU -> pool -> average`:
/// `[n, 1, 8, 8] -> [n, 16]`, and 4x4 jigsaw tiles alike.
fn encoder() -> Sequential<f32> {
    Sequential::default()
        .push(Conv2d::new(1, 8, 3, 1))
        .push(BatchNorm::new(8))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(8, FEATURES, 3, 1))
        .push(BatchNorm::new(FEATURES))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(GlobalAvgPool)
}

/// Four 6x6 letter-like templates (L, T, F, C: none a rotation of another, none symmetric
/// under a quarter turn), each placed at a random position of an 8x8 canvas with a random
/// intensity, under weak Gaussian noise: the class is the letter, wherever it is.
fn shapes(count: usize, seed: u64) -> Labelled<f32> {
    let stroke = |on: fn(usize, usize) -> bool| -> Vec<f32> {
        (0..T * T).map(|k| if on(k / T, k % T) { 1.0 } else { 0.0 }).collect()
    };
    let templates = [
        stroke(|y, x| x == 0 || y == 5),
        stroke(|y, x| y == 0 || x == 2),
        stroke(|y, x| x == 0 || y == 0 || (y == 2 && x <= 3)),
        stroke(|y, x| y == 0 || y == 5 || x == 0),
    ];
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0f32, 0.05).expect("valid");
    let mut pixels = Vec::with_capacity(count * SIDE * SIDE);
    let mut labels = Vec::with_capacity(count);
    for _ in 0..count {
        let class = rng.gen_range(0..CLASSES);
        let (dy, dx, gain) = (rng.gen_range(0..=SIDE - T), rng.gen_range(0..=SIDE - T), rng.gen_range(0.6f32..1.4));
        let mut image: Vec<f32> = (0..SIDE * SIDE).map(|_| noise.sample(&mut rng)).collect();
        for y in 0..T {
            for x in 0..T {
                image[(y + dy) * SIDE + x + dx] += gain * templates[class][y * T + x];
            }
        }
        pixels.extend(image);
        labels.push(class);
    }
    Labelled::new(Tensor::from_vec(&[count, 1, SIDE, SIDE], pixels), labels)
}

/// Views for the synthetic task: shifts, a little rotation and noise.
fn views() -> Augment {
    Augment { max_translation: 0.3, max_rotation_degrees: 10.0, noise_std: 0.2, ..Augment::none() }
}

/// Linear-probe accuracy on held-out images of features from `params`/`state`, with 12
/// labelled examples per class on average.
fn probe(params: &Params<f32>, state: &Params<f32>, train: &Labelled<f32>, test: &Labelled<f32>) -> f64 {
    let net = encoder();
    let labelled = train.select(&(0..48).collect::<Vec<_>>());
    let f_train = Labelled::new(features(&net, params, state, &labelled.inputs, 256), labelled.labels);
    let f_test = Labelled::new(features(&net, params, state, &test.inputs, 256), test.labels.clone());
    linear_probe(&f_train, &f_test, CLASSES, &ProbeConfig { epochs: 200, batch_size: 48, ..ProbeConfig::default() })
}

/// Probe accuracy of the untrained encoder and of the encoder after `steps` of `method`, both
/// from the initialisation, views and batches of `seed`.
fn before_and_after(method: &mut dyn Method<f32>, steps: usize, centroid_weight: f64, seed: u64) -> (f64, f64) {
    let (train, test) = (shapes(512, 1), shapes(400, 2));
    let config = Config { steps, batch_size: 32, learning_rate: 3e-3, centroid_weight, seed, ..Config::default() };
    let untrained = pretrain(&encoder(), method, &train, &views(), &Config { steps: 0, ..config.clone() }, |_| {})
        .expect("no steps, no divergence");
    let (p0, s0) = untrained.encoder();
    let trained = pretrain(&encoder(), method, &train, &views(), &config, |_| {}).expect("the loss stays finite");
    let (p1, s1) = trained.encoder();
    let l = &trained.losses;
    println!("loss {:.4} -> {:.4}", l[..10].iter().sum::<f64>() / 10.0, l[l.len() - 10..].iter().sum::<f64>() / 10.0);
    (probe(&p0, &s0, &train, &test), probe(&p1, &s1, &train, &test))
}

fn assert_learns(method: &mut dyn Method<f32>, steps: usize, centroid_weight: f64, margin: f64) {
    let name = method.name();
    let (before, after) = before_and_after(method, steps, centroid_weight, 7);
    println!("{name}: probe {:.1}% untrained, {:.1}% trained", 100.0 * before, 100.0 * after);
    assert!(after >= before + margin, "{name}: probe {before:.3} untrained, {after:.3} after training");
}

/// As [`assert_learns`], but on the probe accuracies' means over `seeds`, for a method whose
/// single runs vary too much for one seed to decide (each seed gets a fresh `make()`).
fn assert_learns_on_average<M: Method<f32>>(make: impl Fn() -> M, steps: usize, seeds: &[u64], margin: f64) {
    let runs: Vec<(f64, f64)> = seeds.iter().map(|&seed| before_and_after(&mut make(), steps, 0.0, seed)).collect();
    let mean = |pick: fn(&(f64, f64)) -> f64| runs.iter().map(pick).sum::<f64>() / runs.len() as f64;
    let (before, after) = (mean(|r| r.0), mean(|r| r.1));
    let name = make().name();
    println!(
        "{name}: probe {:.1}% untrained, {:.1}% trained (means over seeds {seeds:?}; runs {runs:.3?})",
        100.0 * before,
        100.0 * after
    );
    assert!(after >= before + margin, "{name}: probe {before:.3} untrained, {after:.3} after training, on average");
}

// One test per method, so that one failure does not hide the others. Measured (probe
// accuracy untrained -> trained, 400 test images): supervised 67.5 -> 98.2, SimCLR 95.8,
// Barlow Twins 87.0, contrastive 88.2 (81.0 with the centroid term, 94.8 through a
// projector), semi-hard triplet 98.2, rotation 79.5, jigsaw 87.8; BYOL, see its test. Batch-hard triplets
// collapsed on this task (61.3 with Euclidean distances, 58.5 with squared ones; see
// src/ssl/triplet.rs) and are not asserted. The runs are sensitive to rounding: changing
// only the order of batch-norm's f32 sums once moved BYOL from 81.0 to 71.2 (and back to
// 83.2 with more accurate sums), so a failure here after a numerics change may be that
// rather than a broken method.
const MARGIN: f64 = 0.10;

#[test]
fn supervised_learns() {
    assert_learns(&mut Supervised::new(FEATURES, CLASSES), 1000, 0.0, MARGIN);
}

#[test]
fn simclr_learns() {
    assert_learns(&mut SimClr::new(FEATURES, 32, 16, 0.2), 1000, 0.0, MARGIN);
}

/// BYOL's single runs vary widely on this task (2026-12-03, 1,000 steps, probe accuracy
/// untrained -> trained by seed): with `tau = 0.95`, seeds 1 to 8 gave gains from -6.7 to
/// +32.5 points, two of them below the margin; with `tau = 0.99`, seeds 1 to 9 gave +3.5 to
/// +34.5, seed 10 only +2.0. Changing nothing but the order of the bias gradients' f32 sums
/// moved seed 7 from 82.2 to 76.2 (and from 83.2 to 67.5, the untrained figure, at 0.95). So
/// the test runs three seeds at `tau = 0.99` and asserts on their mean (67.5, 67.8, 69.0 ->
/// 82.2, 83.2, 90.2; with the reordered sums 76.2, 86.5, 89.2).
#[test]
fn byol_learns() {
    assert_learns_on_average(|| Byol::new(FEATURES, 32, 16, 0.99), 1000, &[7, 8, 9], MARGIN);
}

#[test]
fn barlow_twins_learns() {
    assert_learns(&mut BarlowTwins::new(FEATURES, 32, 16, 1.0 / 16.0), 1000, 0.0, MARGIN);
}

#[test]
fn contrastive_learns_alone_and_with_the_centroid_term() {
    assert_learns(&mut Contrastive::default(), 1000, 0.0, MARGIN);
    assert_learns(&mut Contrastive::default(), 1000, 0.5, MARGIN);
}

#[test]
fn contrastive_learns_through_a_projector() {
    assert_learns(&mut Contrastive::default().with_projector(FEATURES, 32, 16), 1000, 0.0, MARGIN);
}

#[test]
fn triplets_learn_with_semi_hard_mining() {
    assert_learns(&mut TripletNet::default(), 1000, 0.0, MARGIN);
}

#[test]
fn rotation_prediction_learns() {
    assert_learns(&mut Rotation::new(FEATURES), 1000, 0.0, MARGIN);
}

#[test]
fn jigsaw_learns() {
    assert_learns(&mut Jigsaw::new(FEATURES, 32), 1000, 0.0, MARGIN);
}

#[test]
fn quarter_turns_match_the_episode_sampler_and_four_are_the_identity() {
    let images = shapes(3, 8).inputs;
    assert_eq!(
        rotate_quarter_turns(&rotate_quarter_turns(&rotate_quarter_turns(&rotate_quarter_turns(&images, 1), 1), 1), 1)
            .to_vec(),
        images.to_vec()
    );
    let first = ndarray::Array2::from_shape_vec((SIDE, SIDE), images.to_vec()[..SIDE * SIDE].to_vec()).unwrap();
    for turns in 0..4u8 {
        let ours = rotate_quarter_turns(&images, usize::from(turns)).to_vec();
        assert_eq!(ours[..SIDE * SIDE], metagrad_data::episodes::rotate(first.view(), turns)[..], "{turns} turns");
    }
}

#[test]
fn jigsaw_tiles_put_back_by_their_permutation_give_the_image() {
    let images = shapes(5, 9).inputs;
    let (tiles, labels) = Jigsaw::<f32>::shuffled_tiles(&images, 3);
    assert_eq!(tiles.shape(), &[20, 1, SIDE / 2, SIDE / 2]);
    assert!(labels.iter().any(|&l| l != labels[0]), "permutations vary: {labels:?}");
    let (t, half) = (tiles.to_vec(), SIDE / 2);
    let source = images.to_vec();
    let orders = Jigsaw::<f32>::permutations();
    for (i, &label) in labels.iter().enumerate() {
        for (slot, &tile) in orders[label].iter().enumerate() {
            for y in 0..half {
                for x in 0..half {
                    let from = i * SIDE * SIDE + ((tile / 2) * half + y) * SIDE + (tile % 2) * half + x;
                    assert_eq!(t[((i * 4 + slot) * half + y) * half + x], source[from]);
                }
            }
        }
    }
}

#[test]
fn knn_and_linear_probe_on_separable_points() {
    // Two classes on either side of the plane x = 0 (cosine similarity sees the angle).
    let points = |xs: &[[f32; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.iter().flatten().copied().collect());
    let bank = Labelled::new(points(&[[1.0, 0.1], [1.0, -0.2], [-1.0, 0.1], [-1.0, -0.3]]), vec![0, 0, 1, 1]);
    let queries = Labelled::new(points(&[[2.0, 0.5], [-0.5, 0.2], [0.9, 0.0]]), vec![0, 1, 1]);
    // The third query is class 0 by its neighbours, labelled 1 here: 2 of 3 right.
    assert!((knn_accuracy(&bank, &queries, 2, 1) - 2.0 / 3.0).abs() < 1e-12);
    assert!((knn_accuracy(&bank, &queries, 2, 3) - 2.0 / 3.0).abs() < 1e-12);
    let queries = Labelled::new(points(&[[2.0, 0.5], [-0.5, 0.2], [0.9, 0.0], [-3.0, 1.0]]), vec![0, 1, 0, 1]);
    assert_eq!(
        linear_probe(
            &bank,
            &queries,
            2,
            &ProbeConfig { epochs: 300, batch_size: 4, learning_rate: 0.05, ..ProbeConfig::default() }
        ),
        1.0
    );
}

#[test]
fn byol_target_gets_no_gradient_and_follows_its_moving_average() {
    let net = encoder();
    let mut byol = Byol::<f32>::new(FEATURES, 8, 4, 0.9);
    let data = shapes(8, 3);
    // No steps: the initial parameters, and `begin` has set the target to them.
    let params = pretrain(&net, &mut byol, &data, &views(), &Config { steps: 0, ..Config::default() }, |_| {})
        .expect("no steps")
        .params;
    let tape = Tape::new();
    let (online, target) = (params.on(&tape), byol.target.on(&tape));
    let views = Tensor::from_vec(&[16, 1, SIDE, SIDE], data.inputs.to_vec().repeat(2));
    let (loss, _) =
        byol.loss_with_target(&net, &online, &target, views, &mut metagrad_nn::Context::train(Params::new(), 0));
    let target_grads = tape.grad(loss, &target.vars());
    assert!(target_grads.iter().all(|g| g.to_vec().iter().all(|v| *v == 0.0)), "the target got a gradient");
    let online_grads = online.grad(loss);
    assert!(online_grads.l2_norm() > 0.0, "the online network gets a gradient");

    // After a step, xi <- 0.9 xi + 0.1 theta for every target parameter.
    let moved = params.map(|t| t.map(|v| v + 1.0));
    let before = byol.target.clone();
    byol.after_step(&moved);
    for (name, xi) in byol.target.iter() {
        let want = before.get(name).unwrap().zip_map(moved.get(name).unwrap(), |x, t| 0.9 * x + 0.1 * t);
        assert!(xi.max_abs_diff(&want) < 1e-6, "{name}");
    }
    assert!(byol.target.names().all(|n| !n.contains("predictor")), "the target has no predictor");
}

#[test]
fn views_are_identical_at_one_and_two_threads() {
    let images = shapes(64, 5).inputs;
    let augment = Augment::for_small_images();
    let at = |threads| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| augment.apply(&images, 11))
    };
    assert_eq!(at(1).to_vec(), at(2).to_vec());
}

#[test]
fn a_diverging_run_stops_with_the_step_it_diverged_at() {
    let mut simclr = SimClr::<f32>::new(FEATURES, 8, 4, 0.2);
    let config = Config { steps: 5, batch_size: 8, learning_rate: f64::INFINITY, ..Config::default() };
    let error = pretrain(&encoder(), &mut simclr, &shapes(16, 6), &views(), &config, |_| {}).unwrap_err();
    assert!(error.step >= 1 && error.step < 5, "{error}");
}
