//! Prototypical networks: the logits by hand, gradients to second order, and learning a metric
//! on synthetic few-shot episodes.

use metagrad_algos::meta::{evaluate, meta_step, Batch, Episode, MetaMethod, ProtoNet};
use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::{Tape, Tensor};
use metagrad_nn::layers::{Activation, Linear};
use metagrad_nn::optim::Adam;
use metagrad_nn::{Module, ParamVars, Params, Sequential};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn logits_are_negative_squared_distances_to_class_means() {
    // An identity encoder, so embeddings are the inputs themselves.
    let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    let params = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]))]);
    // Class 0 at (0, 0) and (0, 2): mean (0, 1). Class 1 at (2, 0).
    let support = Batch::classification(Tensor::from_vec(&[3, 2], vec![0.0, 0.0, 2.0, 0.0, 0.0, 2.0]), vec![0, 1, 0]);
    let query = Tensor::from_vec(&[1, 2], vec![1.5, 0.0]);
    let tape = Tape::new();
    let logits = ProtoNet.logits(&encoder, &params.on(&tape), &support, &query).value().to_vec();
    // |(1.5, 0) - (0, 1)|^2 = 3.25, |(1.5, 0) - (2, 0)|^2 = 0.25.
    assert!((logits[0] + 3.25).abs() < 1e-12 && (logits[1] + 0.25).abs() < 1e-12, "{logits:?}");
}

#[test]
fn query_loss_passes_gradcheck_and_gradgradcheck() {
    let encoder = Sequential::<f64>::default().push(Linear::new(3, 4)).push(Activation::Tanh).push(Linear::new(4, 2));
    let meta = encoder.init(&mut StdRng::seed_from_u64(0));
    let names: Vec<String> = meta.names().map(str::to_string).collect();
    let mut rng = StdRng::seed_from_u64(1);
    let support = Batch::classification(Tensor::randn(&[4, 3], &mut rng), vec![0, 1, 2, 1]);
    let query = Batch::classification(Tensor::randn(&[3, 3], &mut rng), vec![2, 0, 1]);
    let f = metagrad_autodiff::check::function(|v| {
        let params = ParamVars::from_pairs(names.iter().cloned().zip(v.iter().copied()).collect());
        query.loss(ProtoNet.logits(&encoder, &params, &support, &query.inputs))
    });
    let inputs: Vec<Tensor<f64>> = meta.tensors().cloned().collect();
    let first = gradcheck(f, &inputs, &Tolerance::default());
    assert!(first.passed, "{first}");
    let second = gradgradcheck(f, &inputs, &Tolerance::default());
    assert!(second.passed, "{second}");
}

/// Episodes whose classes differ in 2 of 10 input dimensions while the other 8 carry loud
/// noise: the raw metric is misled by the noise, a learned embedding can ignore it.
fn episode(ways: usize, shots: usize, queries: usize, rng: &mut StdRng) -> Episode<f32> {
    let means: Vec<[f32; 2]> = (0..ways).map(|_| [rng.gen_range(-3.0..3.0), rng.gen_range(-3.0..3.0)]).collect();
    let mut draw = |count: usize| {
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for (k, mean) in means.iter().enumerate() {
            for _ in 0..count {
                x.extend(mean.iter().map(|m| m + rng.gen_range(-0.3..0.3)));
                x.extend((0..8).map(|_| rng.gen_range(-4.0f32..4.0)));
                labels.push(k);
            }
        }
        Batch::classification(Tensor::from_vec(&[labels.len(), 10], x), labels)
    };
    Episode { support: draw(shots), query: draw(queries) }
}

#[test]
fn protonet_learns_a_metric_that_ignores_the_noise() {
    let encoder =
        Sequential::<f32>::default().push(Linear::new(10, 16)).push(Activation::Relu).push(Linear::new(16, 8));
    let mut meta = encoder.init(&mut StdRng::seed_from_u64(0));
    let mut rng = StdRng::seed_from_u64(1);
    let test: Vec<Episode<f32>> = (0..50).map(|_| episode(5, 1, 5, &mut rng)).collect();
    let accuracy = |meta: &Params<f32>| evaluate(&ProtoNet, &encoder, meta, &test, &[0])[0].mean;
    let before = accuracy(&meta);
    let mut adam = Adam::new(3e-3);
    for _ in 0..300 {
        let episodes: Vec<Episode<f32>> = (0..8).map(|_| episode(5, 1, 5, &mut rng)).collect();
        meta_step(&ProtoNet, &encoder, &mut meta, &episodes, &mut adam, None);
    }
    let after = accuracy(&meta);
    println!("5-way 1-shot accuracy: {before:.3} before training, {after:.3} after");
    assert!(after > before + 0.25 && after > 0.85, "{before} -> {after}");
    assert_eq!(MetaMethod::<f32>::name(&ProtoNet), "protonet");
}
