//! The meta-gradients of the MAML family against finite differences and closed forms.

use metagrad_algos::meta::anil::anil;
use metagrad_algos::meta::meta_sgd::meta_sgd;
use metagrad_algos::meta::{meta_gradient, sinusoid, Batch, Episode, Maml, MetaMethod, R2d2, Reptile};
use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::{Tape, Tensor};
use metagrad_nn::layers::{Activation, BatchNorm, Linear};
use metagrad_nn::{Module, ParamVars, Params, Sequential};
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A small smooth network (tanh, so central differences are accurate everywhere).
fn small_net() -> Sequential<f64> {
    Sequential::default().push(Linear::new(1, 5)).push(Activation::Tanh).push(Linear::new(5, 1))
}

fn small_episode(seed: u64) -> Episode<f64> {
    sinusoid::episode(4, 6, &mut StdRng::seed_from_u64(seed)).1
}

/// The whole k-step objective `L_Q(theta_k(theta))`, evaluated without any recorded graph.
fn objective(method: &Maml, model: &dyn Module<f64>, meta: &Params<f64>, e: &Episode<f64>) -> f64 {
    let prediction = method.adapted_predictions(model, meta, &e.support, &e.query.inputs, &[method.inner_steps]);
    e.query.loss_value(&prediction[0])
}

/// Central differences of `objective` in every entry of every meta-parameter.
fn finite_difference_gradient(
    method: &Maml,
    model: &dyn Module<f64>,
    meta: &Params<f64>,
    e: &Episode<f64>,
) -> Params<f64> {
    let h = 1e-5;
    Params::from_pairs(meta.iter().map(|(name, value)| {
        let grad: Vec<f64> = (0..value.len())
            .map(|i| {
                let shifted = |delta: f64| {
                    let mut data = value.to_vec();
                    data[i] += delta;
                    let mut p = meta.clone();
                    p.insert(name, Tensor::from_vec(value.shape(), data));
                    objective(method, model, &p, e)
                };
                (shifted(h) - shifted(-h)) / (2.0 * h)
            })
            .collect();
        (name.to_string(), Tensor::from_vec(value.shape(), grad))
    }))
}

fn max_diff(a: &Params<f64>, b: &Params<f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|((n, x), (m, y))| {
            assert_eq!(n, m);
            x.max_abs_diff(y)
        })
        .fold(0.0, f64::max)
}

fn meta_params(method: &dyn MetaMethod<f64>, model: &dyn Module<f64>, seed: u64) -> Params<f64> {
    let mut meta = model.init(&mut StdRng::seed_from_u64(seed));
    for (n, v) in method.init_extra(&meta).iter() {
        meta.insert(n, v.clone());
    }
    meta
}

#[test]
fn maml_meta_gradient_matches_finite_differences_of_the_k_step_objective() {
    let model = small_net();
    for (steps, method) in [
        (1, Maml::new(1, 0.3)),
        (3, Maml::new(3, 0.3)),
        (3, Maml::new(3, -0.05)), // a negative inner rate is allowed
        (2, meta_sgd(2, 0.2, true)),
        (3, anil(3, 0.3, "2.")),
    ] {
        let meta = meta_params(&method, &model, steps as u64);
        let e = small_episode(7);
        let analytic = method.task_gradient(&model, &meta, &e).grads;
        let numeric = finite_difference_gradient(&method, &model, &meta, &e);
        let scale = numeric.l2_norm();
        let err = max_diff(&analytic, &numeric);
        assert!(
            err < 1e-6 * scale.max(1.0),
            "{} k={steps}: max |analytic - numeric| = {err:e} (gradient norm {scale:e})",
            MetaMethod::<f64>::name(&method)
        );
    }
}

/// Batch-norm inside the inner loop normalises each batch with its own statistics (support and
/// query alike, as in the MAML paper); the meta-gradient runs through those statistics too.
#[test]
fn maml_through_batch_norm_with_batch_statistics_matches_finite_differences() {
    let model = Sequential::<f64>::default()
        .push(Linear::new(1, 5))
        .push(BatchNorm::new(5))
        .push(Activation::Tanh)
        .push(Linear::new(5, 1));
    let method = Maml::new(2, 0.2);
    let meta = meta_params(&method, &model, 5);
    let e = small_episode(13);
    let analytic = method.task_gradient(&model, &meta, &e).grads;
    let numeric = finite_difference_gradient(&method, &model, &meta, &e);
    let err = max_diff(&analytic, &numeric);
    assert!(err < 1e-6 * numeric.l2_norm().max(1.0), "max |analytic - numeric| = {err:e}");
    let checkpointed = method.clone().checkpointed().task_gradient(&model, &meta, &e).grads;
    assert!(max_diff(&analytic, &checkpointed) < 1e-12);
}

#[test]
fn checkpointed_inner_loop_gives_the_same_meta_gradient() {
    let model = small_net();
    for method in [Maml::new(4, 0.2), meta_sgd(3, 0.1, true), meta_sgd(3, 0.1, false), anil(3, 0.3, "2.")] {
        let meta = meta_params(&method, &model, 3);
        let e = small_episode(11);
        let plain = method.task_gradient(&model, &meta, &e);
        let checkpointed = method.clone().checkpointed().task_gradient(&model, &meta, &e);
        assert_eq!(plain.query_loss, checkpointed.query_loss);
        let err = max_diff(&plain.grads, &checkpointed.grads);
        assert!(err < 1e-12, "{}: checkpointed differs by {err:e}", MetaMethod::<f64>::name(&method));
        assert!(plain.grads.l2_norm() > 1e-3, "a meta-gradient that is not trivially zero");
    }
}

/// On a linear model with MSE the support loss is quadratic, `L_S(w) = |X w - y|^2 / n`, with the
/// constant Hessian `H = 2 X^T X / n`; one step gives `w' = w - alpha grad L_S(w)`, and MAML's
/// meta-gradient is `(I - alpha H) grad L_Q(w')`. FOMAML's must differ from it by exactly
/// `alpha H grad L_Q(w')`.
#[test]
fn fomaml_drops_exactly_the_hessian_term_on_a_quadratic() {
    let model = Sequential::<f64>::default().push(Linear { inputs: 3, outputs: 1, bias: false });
    let mut rng = StdRng::seed_from_u64(5);
    let meta = model.init(&mut rng);
    let xs = Tensor::<f64>::randn(&[6, 3], &mut rng);
    let xq = Tensor::<f64>::randn(&[4, 3], &mut rng);
    let e = Episode {
        support: Batch::regression(xs.clone(), Tensor::randn(&[6, 1], &mut rng)),
        query: Batch::regression(xq, Tensor::randn(&[4, 1], &mut rng)),
    };
    let alpha = 0.1;
    let second = Maml::new(1, alpha).task_gradient(&model, &meta, &e).grads;
    let first = Maml::new(1, alpha).first_order().task_gradient(&model, &meta, &e).grads;
    let x = Array2::from_shape_vec((6, 3), xs.to_vec()).unwrap();
    let hessian = x.t().dot(&x) * (2.0 / 6.0);
    let g_query = Array1::from(first.get("0.weight").unwrap().to_vec());
    let dropped = hessian.dot(&g_query) * alpha;
    let difference =
        Array1::from(first.get("0.weight").unwrap().to_vec()) - Array1::from(second.get("0.weight").unwrap().to_vec());
    let err = (&difference - &dropped).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(err < 1e-12, "FOMAML - MAML = {difference}, expected alpha H g = {dropped}");
    assert!(dropped.iter().any(|v| v.abs() > 1e-3), "the Hessian term is not trivially zero");
}

/// Nichol et al.: with one inner step, Reptile's update `phi - W` is `alpha grad L_S(phi)`.
#[test]
fn reptile_with_one_step_moves_along_the_support_gradient() {
    let model = small_net();
    let meta = model.init(&mut StdRng::seed_from_u64(2));
    let e = small_episode(3);
    let alpha = 0.05;
    let update = Reptile::new(1, alpha).task_gradient(&model, &meta, &e).grads;
    let tape = Tape::new();
    let p = meta.on(&tape);
    let mut ctx = metagrad_nn::Context::transductive(0);
    let grad = p.grad(e.support.loss(model.forward(&p, tape.constant(e.support.inputs.clone()), &mut ctx)));
    let expected = grad.map(|g| g.map(|v| v * alpha));
    assert!(max_diff(&update, &expected) < 1e-14);
}

#[test]
fn r2d2_head_passes_gradcheck_and_gradgradcheck() {
    let body = Sequential::<f64>::default().push(Linear::new(1, 3)).push(Activation::Tanh);
    let head = R2d2::new(0.5);
    let meta = meta_params(&head, &body, 4);
    let names: Vec<String> = meta.names().map(str::to_string).collect();
    let e = small_episode(9);
    let f = metagrad_autodiff::check::function(|v| {
        let all = ParamVars::from_pairs(names.iter().cloned().zip(v.iter().copied()).collect());
        e.query.loss(head.predictions(&body, &all, &e.support, &e.query.inputs))
    });
    let inputs: Vec<Tensor<f64>> = meta.tensors().cloned().collect();
    let tolerance = Tolerance::default();
    let first = gradcheck(f, &inputs, &tolerance);
    assert!(first.passed, "{first}");
    let second = gradgradcheck(f, &inputs, &tolerance);
    assert!(second.passed, "{second}");
}

#[test]
fn meta_gradient_is_bit_identical_at_any_thread_count() {
    let model = sinusoid::network::<f32>(40);
    let method = Maml::new(2, 0.01);
    let meta = model.init(&mut StdRng::seed_from_u64(0));
    let episodes = sinusoid::meta_batch(10, 5, 5, &mut StdRng::seed_from_u64(1));
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| meta_gradient(&method, &model, &meta, &episodes))
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.1.to_bits(), two.1.to_bits());
    for (a, b) in one.0.tensors().zip(two.0.tensors()) {
        assert!(a.to_vec().iter().zip(b.to_vec()).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}

/// On the conv-4 classifier (batch-norm with batch statistics, max-pooling), FOMAML's
/// meta-gradient is the plain gradient of the query loss at the adapted point, computed on a
/// fresh tape from the adapted values; and MAML's differs from it.
#[test]
fn fomaml_on_conv4_is_the_query_gradient_at_the_adapted_point() {
    use metagrad_algos::meta::conv4;
    let model = conv4::classifier::<f64>(3);
    let mut rng = StdRng::seed_from_u64(8);
    let meta = model.init(&mut rng);
    let e = Episode {
        support: Batch::classification(Tensor::randn(&[3, 1, 16, 16], &mut rng), vec![0, 1, 2]),
        query: Batch::classification(Tensor::randn(&[6, 1, 16, 16], &mut rng), vec![0, 1, 2, 2, 1, 0]),
    };
    let alpha = 0.4;
    let loss_grad = |params: &Params<f64>, batch: &Batch<f64>| {
        let tape = Tape::new();
        let p = params.on(&tape);
        let mut ctx = metagrad_nn::Context::transductive(0);
        p.grad(batch.loss(model.forward(&p, tape.constant(batch.inputs.clone()), &mut ctx)))
    };
    let adapted = meta.axpy(-alpha, &loss_grad(&meta, &e.support));
    let expected = loss_grad(&adapted, &e.query);
    let first = Maml::new(1, alpha).first_order().task_gradient(&model, &meta, &e).grads;
    let err = max_diff(&first, &expected);
    assert!(err < 1e-12, "FOMAML differs from the query gradient at the adapted point by {err:e}");
    let second = Maml::new(1, alpha).task_gradient(&model, &meta, &e).grads;
    assert!(max_diff(&first, &second) > 1e-6, "the second-order term is not trivially zero");
}
