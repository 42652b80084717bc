//! The proof that a downstream crate can embed metagrad: everything here goes through the
//! facade crate's public API, as a user's crate would.
//!
//! - [`FusedSwish`] is a custom op: `swish(x) = x sigmoid(x)` (Ramachandran, Zoph & Le 2017)
//!   as one tape node, where the built-in `Var::silu` records two. Its VJP is written in
//!   `Var` operations, so gradients of every order go through it.
//! - [`SwishMlp`] is a custom model: a `Module` with its own parameters that uses the op.
//! - [`meta_train`] runs second-order MAML (Finn, Abbeel & Levine 2017) on the model, on the
//!   MAML paper's sinusoid tasks, with metagrad's episode loop and Adam.
//!
//! `cargo run --release -p metagrad-embed-example` prints the meta-training curve.
#![deny(missing_docs)]

use metagrad::algos::meta::{evaluate, meta_step, sinusoid, Episode, Maml};
use metagrad::nn::init::kaiming_uniform;
use metagrad::nn::optim::Adam;
use metagrad::prelude::*;
use metagrad::{Grads, Op};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// `swish(x) = x sigmoid(x)` as one op.
///
/// With `s = sigmoid(x)` and `y = x s`, the derivative is
/// `dy/dx = s + x s (1 - s) = s + y (1 - s)`, which the VJP builds from the input and the
/// recorded output with `Var` operations only.
///
/// # Examples
///
/// ```
/// use metagrad::prelude::*;
/// use metagrad_embed_example::FusedSwish;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(&[2], vec![0.0, 2.0]));
/// let y = tape.apply(FusedSwish, &[x]);
/// assert_eq!(tape.len(), 2); // the leaf and one op node
/// // swish(0) = 0 and swish(2) = 2 / (1 + e^-2); at 0 the slope is s + y (1 - s) = 1/2.
/// let s2 = 1.0 / (1.0 + (-2.0f64).exp());
/// assert_eq!(y.value().to_vec()[0], 0.0);
/// assert!((y.value().to_vec()[1] - 2.0 * s2).abs() < 1e-15);
/// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec()[0], 0.5);
/// // The VJP is made of Var ops, so second derivatives check out too.
/// let at = [Tensor::from_vec(&[3], vec![-1.5, 0.3, 2.0])];
/// gradgradcheck(|v| v[0].tape().apply(FusedSwish, &[v[0]]).sum(), &at, &Tolerance::default()).assert_passed();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct FusedSwish;

impl<T: Float> Op<T> for FusedSwish {
    fn name(&self) -> &'static str {
        "fused_swish"
    }

    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        inputs[0].map(|x| x / (T::one() + (-x).exp()))
    }

    fn vjp<'t>(&self, inputs: &[Var<'t, T>], out: Var<'t, T>, grad: Var<'t, T>, _wants: &[bool]) -> Grads<'t, T> {
        let s = inputs[0].sigmoid();
        vec![Some(grad * (s + out * (-s + T::one())))]
    }
}

/// Applies [`FusedSwish`] to `x`.
///
/// # Examples
///
/// ```
/// use metagrad::prelude::*;
/// use metagrad_embed_example::fused_swish;
///
/// // The same function as the built-in `silu`, to first and second order.
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(&[3], vec![-1.0, 0.0, 2.0]));
/// let (fused, built_in) = (fused_swish(x), x.silu());
/// let close = |a: Vec<f64>, b: Vec<f64>| a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-12);
/// assert!(close(fused.value().to_vec(), built_in.value().to_vec()));
/// let g_fused = tape.grad_graph(fused.sum(), &[x])[0];
/// let g_built_in = tape.grad_graph(built_in.sum(), &[x])[0];
/// assert!(close(g_fused.value().to_vec(), g_built_in.value().to_vec()));
/// let (h_fused, h_built_in) = (tape.grad(g_fused.sum(), &[x]), tape.grad(g_built_in.sum(), &[x]));
/// assert!(close(h_fused[0].to_vec(), h_built_in[0].to_vec()));
/// ```
pub fn fused_swish<'t, T: Float>(x: Var<'t, T>) -> Var<'t, T> {
    x.tape().apply(FusedSwish, &[x])
}

/// A `1 -> hidden -> hidden -> 1` regressor with [`FusedSwish`] activations, written as its
/// own `Module` (parameters `w0, b0, w1, b1, w2, b2`).
///
/// # Examples
///
/// ```
/// use metagrad::prelude::*;
/// use metagrad_embed_example::SwishMlp;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let model = SwishMlp { hidden: 4 };
/// let params: Params<f64> = model.init(&mut StdRng::seed_from_u64(0));
/// let shapes: Vec<_> = ["w0", "b0", "w1", "b1", "w2", "b2"].map(|n| params.get(n).unwrap().shape().to_vec()).into();
/// assert_eq!(shapes, vec![vec![1, 4], vec![4], vec![4, 4], vec![4], vec![4, 1], vec![1]]);
/// // One output per input point.
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::from_vec(&[3, 1], vec![-1.0, 0.0, 1.0]));
/// let y = model.forward(&params.on(&tape), x, &mut Context::transductive(0));
/// assert_eq!(y.value().shape(), &[3, 1]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SwishMlp {
    /// Width of the two hidden layers.
    pub hidden: usize,
}

impl SwishMlp {
    fn widths(&self) -> [(usize, usize); 3] {
        [(1, self.hidden), (self.hidden, self.hidden), (self.hidden, 1)]
    }
}

impl<T: Float> Module<T> for SwishMlp {
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let gain = (1.0f64 / 3.0).sqrt();
        let mut p = Params::new();
        for (i, (inputs, outputs)) in self.widths().into_iter().enumerate() {
            p.insert(format!("w{i}"), kaiming_uniform(&[inputs, outputs], inputs, gain, rng));
            p.insert(format!("b{i}"), kaiming_uniform(&[outputs], inputs, gain, rng));
        }
        p
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let mut h = x;
        for i in 0..3 {
            h = h.matmul(p.get(&format!("w{i}"))) + p.get(&format!("b{i}"));
            if i < 2 {
                h = fused_swish(h);
            }
        }
        h
    }
}

/// What [`meta_train`] measured: the mean query MSE over the fixed test tasks after 0, 1 and
/// 10 inner steps, before and after meta-training.
///
/// # Examples
///
/// ```
/// use metagrad_embed_example::meta_train;
///
/// // With no meta-iterations the model is the initialisation: both rows are equal, one
/// // score per step count in [0, 1, 10], each a positive MSE.
/// let report = meta_train(4, 0, 1, 7, |_, _| unreachable!("no iterations, no progress"));
/// assert_eq!(report.before.len(), 3);
/// assert_eq!(report.after, report.before);
/// assert!(report.before.iter().all(|&mse| mse > 0.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Test MSE after `[0, 1, 10]` steps, at the initialisation.
    pub before: Vec<f64>,
    /// The same after meta-training.
    pub after: Vec<f64>,
}

/// Meta-trains [`SwishMlp`] with second-order MAML (one inner step of rate 0.01, Adam 1e-3 on
/// meta-batches of `tasks` sinusoid tasks with 10 support and 10 query points) for
/// `iterations` meta-iterations, and scores it on 100 fixed test tasks. `progress` is called
/// every `iterations / 10` meta-iterations with the iteration and the mean query loss.
///
/// # Examples
///
/// ```
/// use metagrad_embed_example::meta_train;
///
/// // 20 meta-iterations of 2 tasks: progress every 2 iterations.
/// let mut seen = Vec::new();
/// let report = meta_train(4, 20, 2, 7, |it, loss| seen.push((it, loss)));
/// assert_eq!(seen.iter().map(|&(it, _)| it).collect::<Vec<_>>(), vec![2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
/// assert!(seen.iter().all(|&(_, loss)| loss.is_finite() && loss > 0.0));
/// // The starting point depends on the seed alone; training moved the model.
/// assert_eq!(report.before, meta_train(4, 0, 2, 7, |_, _| {}).before);
/// assert_ne!(report.after, report.before);
/// ```
pub fn meta_train(
    hidden: usize,
    iterations: usize,
    tasks: usize,
    seed: u64,
    mut progress: impl FnMut(usize, f64),
) -> Report {
    let model = SwishMlp { hidden };
    let maml = Maml::new(1, 0.01);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut meta: Params<f64> = model.init(&mut rng);
    let test: Vec<Episode<f64>> = sinusoid::meta_batch(100, 10, 10, &mut StdRng::seed_from_u64(seed ^ 0x7e57));
    let steps = [0, 1, 10];
    let score = |meta: &Params<f64>| evaluate(&maml, &model, meta, &test, &steps).iter().map(|s| s.mean).collect();
    let before = score(&meta);
    let mut adam = Adam::new(1e-3);
    let every = (iterations / 10).max(1);
    for it in 1..=iterations {
        let episodes = sinusoid::meta_batch(tasks, 10, 10, &mut rng);
        let step = meta_step(&maml, &model, &mut meta, &episodes, &mut adam, None);
        if it % every == 0 {
            progress(it, step.query_loss);
        }
    }
    Report { before, after: score(&meta) }
}
