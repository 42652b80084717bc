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
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Classifier, ExampleLoss, Mlp, Moment};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// // z = w x + b with w = 1, b = 0 and l = z^2: per example dl/dw = 2x^2, dl/db = 2x.
/// let model = Mlp::new(&[1, 1]);
/// let params = Params::from_pairs([
///     ("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0f64])),
///     ("0.bias".to_string(), Tensor::zeros(&[1])),
/// ]);
/// let x = Tensor::from_vec(&[2, 1], vec![1.0, -2.0]);
/// let loss = ExampleLoss::SquaredNorm { head: vec![0] };
/// let moment = |m| {
///     let p = model.per_example_moments(&params, &x, &loss, m);
///     (p.get("0.weight").unwrap().item(), p.get("0.bias").unwrap().item())
/// };
/// // Gradients (2, 8) for w and (2, -4) for b: squares mean (34, 10), magnitudes mean (5, 3).
/// assert_eq!(moment(Moment::Square), (34.0, 10.0));
/// assert_eq!(moment(Moment::Abs), (5.0, 3.0));
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Classifier, ExampleLoss, Mlp, Moment};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let model = Mlp::new(&[1, 2]);
/// let zero = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0)).map(|t| Tensor::zeros(t.shape()));
/// let x = Tensor::from_vec(&[2, 1], vec![1.0, 3.0]);
/// let abs = |loss: &ExampleLoss| model.per_example_moments(&zero, &x, loss, Moment::Abs);
/// // Zero logits: softmax 1/2 each, so every cross-entropy bias gradient is +-1/2 and the
/// // weight's is x times that, with mean |x| / 2 = 1.
/// let ce = abs(&ExampleLoss::CrossEntropy { head: vec![0, 1], labels: vec![0, 1] });
/// assert_eq!(ce.get("0.bias").unwrap().to_vec(), vec![0.5, 0.5]);
/// assert_eq!(ce.get("0.weight").unwrap().to_vec(), vec![1.0, 1.0]);
/// // Zero outputs are a minimum of the squared norm: no gradient at all.
/// let norm = abs(&ExampleLoss::SquaredNorm { head: vec![0, 1] });
/// assert!(norm.tensors().all(|t| t.to_vec().iter().all(|&v| v == 0.0)));
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::importance::per_example_moments_looped;
/// use metagrad_algos::continual::{Classifier, ExampleLoss, Mlp, Moment};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(1);
/// let model = Mlp::new(&[3, 4, 2]);
/// let params = Module::<f64>::init(&model, &mut rng);
/// let x = Tensor::randn(&[5, 3], &mut rng);
/// let loss = ExampleLoss::CrossEntropy { head: vec![0, 1], labels: vec![0, 1, 1, 0, 1] };
/// // The MLP's one batched pass agrees with the default of one backward pass per example.
/// let batched = model.per_example_moments(&params, &x, &loss, Moment::Square);
/// let looped = per_example_moments_looped(&model, &params, &x, &loss, Moment::Square);
/// let gap = batched.axpy(-1.0, &looped).tensors().flat_map(|t| t.to_vec()).fold(0.0f64, |m, v| m.max(v.abs()));
/// assert!(gap < 1e-12);
/// ```
pub trait Classifier<T: Float>: Module<T> {
    /// `mean_n moment(dl_n / dtheta)` over the examples `inputs` `[n, ...]`, laid out like
    /// `params`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Classifier, ExampleLoss, Mlp, Moment};
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Module;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let model = Mlp::new(&[1, 2]);
    /// let zero = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0)).map(|t| Tensor::zeros(t.shape()));
    /// let x = Tensor::from_vec(&[2, 1], vec![1.0, 3.0]);
    /// let loss = ExampleLoss::CrossEntropy { head: vec![0, 1], labels: vec![1, 1] };
    /// let fisher = model.per_example_moments(&zero, &x, &loss, Moment::Square);
    /// // Uniform predictions: bias gradients +-1/2, so squares 1/4; the weight's mean x^2/4 = 10/8.
    /// assert_eq!(fisher.get("0.bias").unwrap().to_vec(), vec![0.25, 0.25]);
    /// assert_eq!(fisher.get("0.weight").unwrap().to_vec(), vec![1.25, 1.25]);
    /// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::importance::per_example_moments_looped;
/// use metagrad_algos::continual::{ExampleLoss, Mlp, Moment};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// // z = w x with w = 1, b = 0 and l = z^2: per-example gradients 2x^2 = (2, 8) and 2x = (2, -4).
/// let params = Params::from_pairs([
///     ("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0f64])),
///     ("0.bias".to_string(), Tensor::zeros(&[1])),
/// ]);
/// let x = Tensor::from_vec(&[2, 1], vec![1.0, -2.0]);
/// let loss = ExampleLoss::SquaredNorm { head: vec![0] };
/// let abs = per_example_moments_looped(&Mlp::new(&[1, 1]), &params, &x, &loss, Moment::Abs);
/// // Mean magnitudes, not the magnitude of the mean (which would be 1 for the bias).
/// assert_eq!(abs.get("0.weight").unwrap().item(), 5.0);
/// assert_eq!(abs.get("0.bias").unwrap().item(), 3.0);
/// ```
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
