//! The tape's contract: no_grad, detach, constants, the fast path, anomaly mode, clear panics,
//! memory and determinism.

use metagrad_autodiff::{Float, Grads, Op, Tape, Tensor, Var};

fn vector(values: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(&[values.len()], values.to_vec())
}

#[test]
fn no_grad_detach_and_constants_stop_gradients() {
    let tape = Tape::<f64>::new();
    let x = tape.var(vector(&[1.0, 2.0]));
    let c = tape.constant(vector(&[3.0, 4.0]));
    let frozen = tape.no_grad(|| x * x);
    assert!(!frozen.requires_grad());
    assert!(tape.is_recording(), "no_grad restores recording");
    let y = (x * c + frozen + x.detach() * x).sum();
    // dy/dx = c + detach(x) (the frozen and detached factors are constants)
    assert_eq!(tape.grad(y, &[x])[0].to_vec(), vec![4.0, 6.0]);
}

#[test]
#[should_panic(expected = "input 1 (shape [2]) does not require grad")]
fn grad_with_respect_to_a_constant_panics() {
    let tape = Tape::<f64>::new();
    let x = tape.var(vector(&[1.0, 2.0]));
    let c = tape.constant(vector(&[3.0, 4.0]));
    let _ = tape.grad((x * c).sum(), &[x, c]);
}

#[test]
fn grad_of_unconnected_input_is_zero_of_its_shape() {
    let tape = Tape::<f64>::new();
    let x = tape.var(vector(&[1.0]));
    let unused = tape.var(Tensor::ones(&[2, 3]));
    let g = tape.grad((x * x).sum(), &[unused])[0].clone();
    assert_eq!(g.shape(), &[2, 3]);
    assert_eq!(g.to_vec(), vec![0.0; 6]);
}

#[test]
fn fast_path_builds_no_nodes_and_graph_path_does() {
    let tape = Tape::<f64>::new();
    let x = tape.var(vector(&[0.5, -0.3, 0.8]));
    let y = (x.tanh() * x).exp().sum();
    let before = tape.len();
    let fast = tape.grad(y, &[x]);
    assert_eq!(tape.len(), before, "grad must leave the tape as it found it");
    let graph = tape.grad_graph(y, &[x]);
    assert!(tape.len() > before, "grad_graph records the backward pass");
    assert!(graph[0].requires_grad());
    assert_eq!(graph[0].value(), fast[0], "both modes run the same VJPs");
}

#[test]
fn gradients_accumulate_over_every_use() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::scalar(3.0));
    let y = x * x + x * 2.0 + x; // dy/dx = 2x + 3 = 9
    assert_eq!(tape.grad(y, &[x])[0].item(), 9.0);
}

#[test]
fn vjp_with_explicit_cotangent() {
    let tape = Tape::<f64>::new();
    let x = tape.var(vector(&[1.0, 2.0, 3.0]));
    let y = x * x; // J = diag(2x)
    let g = tape.vjp(y, &[x], &vector(&[1.0, 0.5, -1.0]))[0].to_vec();
    assert_eq!(g, vec![2.0, 2.0, -6.0]);
}

#[test]
#[should_panic(expected = "grad: the output has shape [3]")]
fn grad_of_a_non_scalar_panics_with_its_shape() {
    let tape = Tape::<f64>::new();
    let x = tape.var(vector(&[1.0, 2.0, 3.0]));
    tape.grad(x * x, &[x]);
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [4] do not broadcast")]
fn shape_mismatch_panics_naming_op_and_shapes() {
    let tape = Tape::<f64>::new();
    let _ = tape.var(Tensor::zeros(&[2, 3])) + tape.var(Tensor::zeros(&[4]));
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 3] and [2, 3] do not multiply")]
fn matmul_mismatch_panics_naming_both_shapes() {
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::zeros(&[2, 3]));
    let _ = a.matmul(a);
}

#[test]
#[should_panic(expected = "every Var of one computation must come from the same tape")]
fn mixing_tapes_panics() {
    let (one, two) = (Tape::<f64>::new(), Tape::<f64>::new());
    let _ = one.var(vector(&[1.0])) * two.var(vector(&[1.0]));
}

#[test]
#[should_panic(expected = "same tape")]
fn grad_with_respect_to_a_var_of_another_tape_panics() {
    let (one, two) = (Tape::<f64>::new(), Tape::<f64>::new());
    let x = one.var(Tensor::scalar(1.0));
    let _ = one.grad(x * x, &[two.var(Tensor::scalar(1.0))]);
}

#[test]
fn anomaly_mode_names_the_first_op_that_made_a_nan() {
    let tape = Tape::<f64>::new();
    tape.set_detect_anomaly(true);
    let x = tape.var(vector(&[-1.0, 4.0]));
    let y = x.sqrt().log().sum(); // sqrt(-1) = NaN first; log only passes it on
    assert!(y.item().is_nan());
    let anomaly = tape.first_anomaly().expect("an anomaly");
    assert_eq!(anomaly.op, "sqrt");
    assert_eq!(anomaly.input_shapes, vec![vec![2]]);
    assert_eq!(anomaly.in_backward_of, None);
    assert!(anomaly.to_string().contains("op `sqrt`"));
}

#[test]
fn anomaly_mode_reports_ops_inside_a_backward_pass() {
    let tape = Tape::<f64>::new();
    tape.set_detect_anomaly(true);
    let x = tape.var(vector(&[0.0, 1.0]));
    let y = x.sqrt().sum(); // finite forward; d sqrt / dx = 1 / (2 sqrt 0) = inf
    assert!(tape.first_anomaly().is_none());
    let _ = tape.grad(y, &[x]);
    let anomaly = tape.first_anomaly().expect("an anomaly in backward");
    assert_eq!(anomaly.in_backward_of, Some("sqrt"));
}

/// A custom op used through the public trait, checked like a built-in one.
struct Cube;
impl<T: Float> Op<T> for Cube {
    fn name(&self) -> &'static str {
        "cube"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].map(|v| v * v * v)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g * x[0] * x[0] * T::of(3.0))]
    }
}

#[test]
fn custom_op_passes_first_and_second_order_checks() {
    use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
    let x = [vector(&[0.4, -1.3, 2.1])];
    gradcheck(|v| v[0].tape().apply(Cube, &[v[0]]), &x, &Tolerance::default()).assert_passed();
    gradgradcheck(|v| v[0].tape().apply(Cube, &[v[0]]), &x, &Tolerance::default()).assert_passed();
}

#[test]
fn same_computation_gives_bit_identical_gradients() {
    // Large enough that the GEMM splits across threads (>= 2^19 multiply-adds) and the
    // elementwise kernels into parallel blocks (>= 16,384 elements).
    let (m, k, n) = (128, 96, 96);
    let run = || {
        let tape = Tape::<f32>::new();
        let x = tape.var(Tensor::from_vec(&[m, k], (0..m * k).map(|i| (i * 31 % 97) as f32 / 48.0 - 1.0).collect()));
        let w = tape.var(Tensor::from_vec(&[k, n], (0..k * n).map(|i| (i * 17 % 89) as f32 / 44.0 - 1.0).collect()));
        let loss = x.matmul(w).tanh().log_softmax(1).mean();
        let g = tape.grad_graph(loss, &[w])[0];
        let h = tape.grad(g.square().sum(), &[x, w]);
        h.iter().flat_map(|t| t.to_vec()).map(f32::to_bits).collect::<Vec<_>>()
    };
    let one = rayon_pool(1).install(run);
    let two = rayon_pool(2).install(run);
    assert_eq!(one, two, "the thread count must not change the result");
    assert_eq!(two, rayon_pool(2).install(run), "nor a second run");
}

fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool")
}

#[test]
fn lifting_a_tensor_onto_a_tape_shares_its_storage() {
    let params = Tensor::<f32>::ones(&[256, 256]);
    let tape = Tape::new();
    let w = tape.var(params.clone());
    assert_eq!(w.value().array().as_ptr(), params.array().as_ptr(), "no copy on lift");
    let _ = (w * 2.0).sum();
    assert_eq!(params.to_vec()[0], 1.0, "the original is untouched");
}

#[test]
fn one_tape_per_task_runs_in_parallel() {
    use rayon::prelude::*;
    // Per-task gradients of (w * a_i)^2 / 2 at w = 1 are a_i^2; compute them on parallel tapes.
    let tasks: Vec<f64> = (1..=16).map(f64::from).collect();
    let grads: Vec<f64> = tasks
        .par_iter()
        .map(|&a| {
            let tape = Tape::<f64>::new();
            let w = tape.var(Tensor::scalar(1.0));
            tape.grad((w * a).square() * 0.5, &[w])[0].item()
        })
        .collect();
    assert_eq!(grads, tasks.iter().map(|a| a * a).collect::<Vec<_>>());
}
