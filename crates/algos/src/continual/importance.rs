//! Per-example gradient moments: `mean_n g_n^2` (EWC's diagonal Fisher) or `mean_n |g_n|`
//! (MAS), where `g_n` is the gradient of example `n`'s own loss.
//!
//! The mean of the squares is not the square of the mean, so the batch gradient will not do;
//! one backward pass per example would, slowly. For a linear layer `z = a W + b` the
//! per-example gradients are outer products, `dl_n/dW = a_n^T delta_n` with `delta_n =
//! dl_n/dz_n`, so every example's moment comes from one pass (Goodfellow 2015, "Efficient
//! per-example gradient computations"):
//!
//! ```text
//! sum_n (dl_n/dW)^2  = (A o A)^T (D o D),      sum_n |dl_n/dW| = |A|^T |D|,
//! sum_n (dl_n/db)^2  = sum_rows (D o D),       sum_n |dl_n/db| = sum_rows |D|,
//! ```
//!
//! with `A` the layer's inputs `[n, in]` and `D` the gradient of `sum_n l_n` with respect to
//! its outputs `[n, out]`: row `n` of `D` is `delta_n`, since no example's loss depends on
//! another's output. [`Mlp`] does that; any other [`Classifier`] gets the loop of
//! one backward pass per example (in parallel) by default.

use super::head::{head_logits, head_positions};
use super::mlp::Mlp;
use crate::par::*;
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, Module, Params};

/// Which moment of the per-example gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// `mean_n g_n^2`.
    Square,
    /// `mean_n |g_n|`.
    Abs,
}

impl Moment {
    fn apply<T: Float>(self, v: T) -> T {
        match self {
            Moment::Square => v * v,
            Moment::Abs => v.abs(),
        }
    }
}

/// The per-example loss `l_n` whose gradients are taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExampleLoss {
    /// Cross-entropy of `labels` (original classes) over the softmax of `head`'s classes.
    CrossEntropy {
        /// The competing classes.
        head: Vec<usize>,
        /// One class per example.
        labels: Vec<usize>,
    },
    /// `||f(x_n)||^2` over `head`'s outputs (MAS: no labels needed).
    SquaredNorm {
        /// The outputs that count.
        head: Vec<usize>,
    },
}

impl ExampleLoss {
    /// `sum_n l_n` for the examples `range` of the batch, from their outputs.
    fn total<'t, T: Float>(&self, outputs: Var<'t, T>, range: std::ops::Range<usize>) -> Var<'t, T> {
        match self {
            ExampleLoss::CrossEntropy { head, labels } => {
                let positions = head_positions(&labels[range], head);
                cross_entropy(head_logits(outputs, head), Targets::Classes(&positions), 0.0, Reduction::Sum)
            }
            ExampleLoss::SquaredNorm { head } => head_logits(outputs, head).square().sum(),
        }
    }
}

/// A model whose per-example gradient moments can be taken (see the module docs). The default
/// runs one backward pass per example; [`Mlp`] overrides it with one batched pass.
pub trait Classifier<T: Float>: Module<T> {
    /// `mean_n moment(dl_n / dtheta)` over the examples `inputs` `[n, ...]`, laid out like
    /// `params`.
    fn per_example_moments(
        &self,
        params: &Params<T>,
        inputs: &Tensor<T>,
        loss: &ExampleLoss,
        moment: Moment,
    ) -> Params<T> {
        per_example_moments_looped(self, params, inputs, loss, moment)
    }
}

/// One backward pass per example, in parallel, summed in example order (so the result does
/// not depend on the thread count).
pub fn per_example_moments_looped<T: Float, M: Module<T> + ?Sized>(
    model: &M,
    params: &Params<T>,
    inputs: &Tensor<T>,
    loss: &ExampleLoss,
    moment: Moment,
) -> Params<T> {
    let n = inputs.shape()[0];
    assert!(n > 0, "per_example_moments: no examples");
    let row = inputs.len() / n;
    let values = inputs.to_vec();
    let mut shape = inputs.shape().to_vec();
    shape[0] = 1;
    let per_example: Vec<Params<T>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let tape = Tape::new();
            let p = params.on(&tape);
            let x = tape.constant(Tensor::from_vec(&shape, values[i * row..(i + 1) * row].to_vec()));
            let out = model.forward(&p, x, &mut Context::eval(Params::new()));
            p.grad(loss.total(out, i..i + 1)).map(|g| g.map(|v| moment.apply(v)))
        })
        .collect();
    let sum = per_example.iter().skip(1).fold(per_example[0].clone(), |acc, g| acc.axpy(T::one(), g));
    sum.map(|t| t.map(|v| v / T::of(n as f64)))
}

/// Examples per batched pass (bounds the memory of the taps).
const CHUNK: usize = 512;

/// The batched pass for an [`Mlp`] (see the module docs), in chunks of [`CHUNK`] examples.
pub(crate) fn per_example_moments_batched<T: Float>(
    mlp: &Mlp,
    params: &Params<T>,
    inputs: &Tensor<T>,
    loss: &ExampleLoss,
    moment: Moment,
) -> Params<T> {
    let n = inputs.shape()[0];
    assert!(n > 0, "per_example_moments: no examples");
    let row = inputs.len() / n;
    let values = inputs.to_vec();
    let mut sum = params.map(|t| Tensor::zeros(t.shape()));
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let tape = Tape::new();
        let p = params.on(&tape);
        let x = tape.constant(Tensor::from_vec(&[end - start, row], values[start * row..end * row].to_vec()));
        let (out, taps) = mlp.forward_tapped(&p, x);
        let outputs: Vec<Var<'_, T>> = taps.iter().map(|t| t.output).collect();
        let deltas = tape.grad(loss.total(out, start..end), &outputs);
        let mut chunk = Params::new();
        tape.no_grad(|| {
            for (tap, delta) in taps.iter().zip(deltas) {
                let a = tape.constant(tap.input.value().map(|v| moment.apply(v)));
                let d = tape.constant(delta.map(|v| moment.apply(v)));
                chunk.insert(format!("{}.weight", tap.layer), a.t().matmul(d).value());
                chunk.insert(format!("{}.bias", tap.layer), d.sum_axes(&[0], false).value());
            }
        });
        sum = sum.axpy(T::one(), &chunk);
    }
    sum.map(|t| t.map(|v| v / T::of(n as f64)))
}
