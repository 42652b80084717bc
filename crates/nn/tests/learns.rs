//! Training shows learning, not only running: fixed seeds, measured improvements.

use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::{Float, Tape, Tensor};
use metagrad_nn::layers::{Activation, Linear};
use metagrad_nn::loss::{self, Reduction, Targets};
use metagrad_nn::optim::{
    clip_grad_norm, meta_sgd_step, sgd_step, Adagrad, Adam, Optimizer, ParamGroups, RmsProp, Schedule, Sgd,
};
use metagrad_nn::{checkpoint, Context, Module, ParamVars, Params, Sequential};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Two interleaved half-moons, `n` per class, with a little noise.
fn two_moons(n: usize, seed: u64) -> (Tensor<f64>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for class in 0..2 {
        for _ in 0..n {
            let t: f64 = rng.gen_range(0.0..std::f64::consts::PI);
            let (x, y) = if class == 0 { (t.cos(), t.sin()) } else { (1.0 - t.cos(), 0.5 - t.sin()) };
            points.extend([x + rng.gen_range(-0.1..0.1), y + rng.gen_range(-0.1..0.1)]);
            labels.push(class);
        }
    }
    (Tensor::from_vec(&[2 * n, 2], points), labels)
}

fn mlp() -> Sequential<f64> {
    Sequential::default()
        .push(Linear::new(2, 32))
        .push(Activation::Tanh)
        .push(Linear::new(32, 32))
        .push(Activation::Tanh)
        .push(Linear::new(32, 2))
}

/// Full-batch training; returns (first loss, last loss, final accuracy).
fn train(
    net: &Sequential<f64>,
    params: &mut Params<f64>,
    optimizer: &mut dyn Optimizer<f64>,
    x: &Tensor<f64>,
    labels: &[usize],
    steps: usize,
) -> (f64, f64, f64) {
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..steps {
        let tape = Tape::new();
        let p = params.on(&tape);
        let logits = net.forward(&p, tape.constant(x.clone()), &mut Context::train(Params::new(), 0));
        let l = loss::cross_entropy(logits, Targets::Classes(labels), 0.0, Reduction::Mean);
        last = l.item();
        first.get_or_insert(last);
        let mut grads = p.grad(l);
        clip_grad_norm(&mut grads, 10.0);
        optimizer.step(params, &grads);
    }
    let tape = Tape::new();
    let logits = net.forward(&params.on(&tape), tape.constant(x.clone()), &mut Context::eval(Params::new()));
    (first.unwrap_or(0.0), last, loss::accuracy(&logits.value(), labels))
}

#[test]
fn mlp_separates_xor_and_two_moons_completely() {
    let net = mlp();
    let xor = Tensor::from_vec(&[4, 2], vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    let mut params = net.init(&mut StdRng::seed_from_u64(1));
    let (first, last, accuracy) = train(&net, &mut params, &mut Adam::new(0.01), &xor, &[0, 1, 1, 0], 300);
    assert_eq!(accuracy, 1.0, "XOR: loss {first:.3} -> {last:.3}");

    let (moons, labels) = two_moons(100, 2);
    let mut params = net.init(&mut StdRng::seed_from_u64(3));
    let (first, last, accuracy) = train(&net, &mut params, &mut Adam::new(0.01), &moons, &labels, 500);
    assert_eq!(accuracy, 1.0, "two moons: loss {first:.3} -> {last:.3}");

    // A checkpoint of the trained net predicts the same.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moons.safetensors");
    checkpoint::save(&path, &params).unwrap();
    let restored = checkpoint::load_matching(&path, &params).unwrap();
    assert_eq!(restored, params);
}

#[test]
fn every_optimiser_reduces_the_loss() {
    let (moons, labels) = two_moons(50, 5);
    let net = mlp();
    let optimisers: Vec<(&str, Box<dyn Optimizer<f64>>)> = vec![
        ("sgd", Box::new(Sgd::new(0.1))),
        ("sgd+nesterov", Box::new(Sgd::new(0.05).with_momentum(0.9, true))),
        ("adam", Box::new(Adam::new(0.01))),
        ("adamw", Box::new(Adam::adamw(0.01, 0.01))),
        ("rmsprop", Box::new(RmsProp::new(0.005))),
        ("adagrad", Box::new(Adagrad::new(0.05))),
    ];
    for (name, mut optimizer) in optimisers {
        let mut params = net.init(&mut StdRng::seed_from_u64(7));
        let (first, last, _) = train(&net, &mut params, optimizer.as_mut(), &moons, &labels, 150);
        assert!(last < 0.6 * first, "{name}: loss {first:.4} -> {last:.4}");
    }
}

#[test]
fn frozen_groups_do_not_move_and_schedules_follow_their_formulas() {
    let net = mlp();
    let (moons, labels) = two_moons(20, 1);
    let mut params = net.init(&mut StdRng::seed_from_u64(0));
    let before = params.clone();
    let mut sgd = Sgd::new(0.1);
    sgd.groups = ParamGroups::new().freeze("0.").scale("4.", 0.5);
    train(&net, &mut params, &mut sgd, &moons, &labels, 5);
    assert_eq!(params.get("0.weight"), before.get("0.weight"));
    assert_ne!(params.get("4.weight"), before.get("4.weight"));

    assert_eq!(Schedule::Step { every: 10, gamma: 0.5 }.at(1.0, 25), 0.25);
    assert!((Schedule::Exponential { gamma: 0.9 }.at(2.0, 2) - 1.62).abs() < 1e-12);
    let cosine = Schedule::CosineWarmup { warmup: 10, total: 110, floor: 0.0 };
    assert!((cosine.at(1.0, 4) - 0.5).abs() < 1e-12);
    assert!((cosine.at(1.0, 60) - 0.5).abs() < 1e-12);
    assert!(cosine.at(1.0, 110).abs() < 1e-12);
}

/// The inner SGD step is differentiable to second order, in the parameters and in Meta-SGD's
/// learned rates.
#[test]
fn differentiable_inner_steps() {
    fn inner_then_outer<'t, T: Float>(
        w: metagrad_autodiff::Var<'t, T>,
        rate: metagrad_autodiff::Var<'t, T>,
        meta: bool,
    ) -> metagrad_autodiff::Var<'t, T> {
        let tape = w.tape();
        let x = tape
            .constant(Tensor::from_vec(&[3, 2], vec![0.5, -1.0, 1.5, 0.3, -0.7, 0.9].into_iter().map(T::of).collect()));
        let y = tape.constant(Tensor::from_vec(&[3, 1], vec![1.0, -1.0, 0.5].into_iter().map(T::of).collect()));
        let p = ParamVars::from_pairs(vec![("w".to_string(), w)]);
        let support = (x.matmul(p.get("w")).tanh() - y).square().mean();
        let g = p.grad_graph(support);
        let adapted = if meta {
            meta_sgd_step(&p, &g, &ParamVars::from_pairs(vec![("w".to_string(), rate)]))
        } else {
            sgd_step(&p, &g, T::of(0.3))
        };
        (x.matmul(adapted.get("w")) * T::of(0.5) - y).square().mean() + rate.sum() * T::zero()
    }
    let w = Tensor::from_vec(&[2, 1], vec![0.2, -0.4]);
    let rate = Tensor::from_vec(&[2, 1], vec![0.1, 0.3]);
    let tol = Tolerance::default();
    for meta in [false, true] {
        gradcheck(|v| inner_then_outer(v[0], v[1], meta), &[w.clone(), rate.clone()], &tol).assert_passed();
        gradgradcheck(|v| inner_then_outer(v[0], v[1], meta), &[w.clone(), rate.clone()], &tol).assert_passed();
    }
}

/// Training resumed from a checkpoint of parameters and optimiser state continues exactly as
/// training that never stopped.
#[test]
fn resuming_from_a_checkpoint_is_exact() {
    let (moons, labels) = two_moons(30, 9);
    let net = mlp();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    type Make = fn() -> Box<dyn Optimizer<f64>>;
    let optimisers: Vec<(&str, Make)> = vec![
        ("sgd", || Box::new(Sgd::new(0.05).with_momentum(0.9, false))),
        ("adam", || Box::new(Adam::new(0.01))),
        ("rmsprop", || Box::new(RmsProp::new(0.005))),
        ("adagrad", || Box::new(Adagrad::new(0.05))),
    ];
    for (name, make) in optimisers {
        let mut params = net.init(&mut StdRng::seed_from_u64(4));
        let mut optimizer = make();
        train(&net, &mut params, optimizer.as_mut(), &moons, &labels, 5);
        let (params_file, state_file) = (dir.join(format!("{name}.params")), dir.join(format!("{name}.state")));
        checkpoint::save(&params_file, &params).unwrap();
        checkpoint::save(&state_file, &optimizer.state(&params)).unwrap();
        train(&net, &mut params, optimizer.as_mut(), &moons, &labels, 5);

        let mut resumed = checkpoint::load_matching(&params_file, &net.init(&mut StdRng::seed_from_u64(0))).unwrap();
        let mut fresh = make();
        fresh.load_state(&resumed, &checkpoint::load(&state_file).unwrap()).unwrap();
        train(&net, &mut resumed, fresh.as_mut(), &moons, &labels, 5);
        assert_eq!(resumed, params, "{name}: resumed training differs");
        assert!(fresh.load_state(&resumed, &Params::new()).unwrap_err().contains("has no"), "{name}");
    }
}
