//! Every method learns on sinusoids: after a short seeded meta-training run, adapting to a new
//! task lowers its error well below where adaptation starts, and below what the same
//! adaptation achieves from the untrained initialisation.

use metagrad_algos::meta::anil::anil;
use metagrad_algos::meta::meta_sgd::meta_sgd;
use metagrad_algos::meta::{evaluate, meta_step, sinusoid, Maml, MetaMethod, Pretrained, R2d2, Reptile};
use metagrad_nn::optim::Adam;
use metagrad_nn::{Module, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;

const ITERATIONS: usize = 400;

/// (MSE after 0 and `steps` adaptation steps) before and after meta-training.
fn train(method: &dyn MetaMethod<f32>, model: &dyn Module<f32>, steps: usize) -> ([f64; 2], [f64; 2]) {
    let mut meta: Params<f32> = model.init(&mut StdRng::seed_from_u64(0));
    for (n, v) in method.init_extra(&meta).iter() {
        meta.insert(n, v.clone());
    }
    let test = sinusoid::meta_batch(40, 10, 50, &mut StdRng::seed_from_u64(99));
    let score = |meta: &Params<f32>| {
        let s = evaluate(method, model, meta, &test, &[0, steps]);
        [s[0].mean, s[1].mean]
    };
    let before = score(&meta);
    let mut adam = Adam::new(3e-3);
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..ITERATIONS {
        let episodes = sinusoid::meta_batch(10, 10, 10, &mut rng);
        meta_step(method, model, &mut meta, &episodes, &mut adam, Some(10.0));
    }
    (before, score(&meta))
}

fn assert_adapts_well(name: &str, (before, after): ([f64; 2], [f64; 2])) {
    println!("{name}: before training {before:?}, after {after:?} (MSE before and after adapting)");
    assert!(after[1] < 0.6 * after[0], "{name}: adapting barely helps after training: {after:?}");
    assert!(after[1] < 0.7 * before[1], "{name}: meta-training did not improve adaptation: {before:?} -> {after:?}");
}

#[test]
fn maml_family_learns_to_adapt() {
    let net = sinusoid::network::<f32>(40);
    // Evaluated with 10 steps, except Meta-SGD: its rates are learned for the one step it
    // trains with, and repeating that step ten times can diverge.
    let methods: Vec<(Box<dyn MetaMethod<f32>>, usize)> = vec![
        (Box::new(Maml::new(1, 0.02)), 10),
        (Box::new(Maml::new(1, 0.02).first_order()), 10),
        (Box::new(meta_sgd(1, 0.02, false)), 1),
        (Box::new(anil(1, 0.02, sinusoid::HEAD_PREFIX)), 10),
        (Box::new(Reptile::new(5, 0.02)), 10),
    ];
    for (method, steps) in &methods {
        assert_adapts_well(method.name(), train(method.as_ref(), &net, *steps));
    }
}

#[test]
fn r2d2_learns_features_for_its_ridge_head() {
    // The head is fitted in closed form, so "0 steps" is already adapted: compare with the
    // ridge head on the untrained features.
    let body = sinusoid::body::<f32>(40);
    let (before, after) = train(&R2d2::new(1.0), &body, 0);
    println!("r2d2: MSE of the ridge head before training {}, after {}", before[0], after[0]);
    assert!(after[0] < 0.3 * before[0], "r2d2: meta-training did not improve the features: {before:?} -> {after:?}");
}

/// The pretrained baseline has no adaptation in its objective: it learns the mean function,
/// which lowers its error before any fine-tuning.
#[test]
fn pretrained_baseline_learns_the_mean_function() {
    let net = sinusoid::network::<f32>(40);
    let (before, after) = train(&Pretrained { fine_tune_lr: 0.02 }, &net, 10);
    println!("pretrained: before training {before:?}, after {after:?}");
    assert!(after[0] < 0.8 * before[0], "pretraining did not lower the error: {before:?} -> {after:?}");
}
