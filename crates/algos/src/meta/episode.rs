//! Episodes (a task's support and query sets) and the episode loop every method shares.

use super::MetaMethod;
use crate::par::*;
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use metagrad_nn::loss::{self, Reduction, Targets};
use metagrad_nn::optim::{clip_grad_norm, Optimizer};
use metagrad_nn::{Module, Params};

/// What a batch's examples should produce.
#[derive(Clone, Debug, PartialEq)]
pub enum Target<T: Float> {
    /// Regression targets, `[n, outputs]`: the loss is the mean squared error.
    Values(Tensor<T>),
    /// Class indices within the episode (`0..ways`): the loss is cross-entropy.
    Classes(Vec<usize>),
}

/// Inputs and targets of one set of examples (a support or a query set).
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<T: Float> {
    /// Inputs, first axis the example.
    pub inputs: Tensor<T>,
    /// Targets, one per example.
    pub target: Target<T>,
}

impl<T: Float> Batch<T> {
    /// A regression batch.
    ///
    /// # Panics
    /// If the inputs and targets disagree on the number of examples.
    pub fn regression(inputs: Tensor<T>, targets: Tensor<T>) -> Self {
        assert_eq!(inputs.shape()[0], targets.shape()[0], "Batch::regression: inputs and targets differ in length");
        Batch { inputs, target: Target::Values(targets) }
    }

    /// A classification batch.
    ///
    /// # Panics
    /// If the inputs and labels disagree on the number of examples.
    pub fn classification(inputs: Tensor<T>, labels: Vec<usize>) -> Self {
        assert_eq!(inputs.shape()[0], labels.len(), "Batch::classification: inputs and labels differ in length");
        Batch { inputs, target: Target::Classes(labels) }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.inputs.shape()[0]
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The mean loss of `prediction` against this batch's targets (MSE or cross-entropy).
    pub fn loss<'t>(&self, prediction: Var<'t, T>) -> Var<'t, T> {
        match &self.target {
            Target::Values(y) => loss::mse(prediction, prediction.constant(y.clone()), Reduction::Mean),
            Target::Classes(labels) => loss::cross_entropy(prediction, Targets::Classes(labels), 0.0, Reduction::Mean),
        }
    }

    /// The value of [`Batch::loss`] for a fixed prediction.
    pub fn loss_value(&self, prediction: &Tensor<T>) -> f64 {
        let tape = Tape::new();
        tape.no_grad(|| self.loss(tape.constant(prediction.clone())).item().to_f64().unwrap_or(f64::NAN))
    }

    /// How good `prediction` is: the mean squared error for regression, the accuracy for
    /// classification.
    pub fn score(&self, prediction: &Tensor<T>) -> f64 {
        match &self.target {
            Target::Values(y) => {
                let sq = prediction.zip_map(y, |p, t| (p - t) * (p - t));
                sq.sum_all().to_f64().unwrap_or(f64::NAN) / sq.len() as f64
            }
            Target::Classes(labels) => loss::accuracy(prediction, labels),
        }
    }
}

/// One task: adapt on `support`, be judged on `query`.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode<T: Float> {
    /// The examples the learner adapts to.
    pub support: Batch<T>,
    /// The examples the adapted learner is judged on.
    pub query: Batch<T>,
}

/// What one meta-iteration measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetaStep {
    /// Mean query loss over the meta-batch, after adaptation, before the update.
    pub query_loss: f64,
    /// The meta-gradient's L2 norm before clipping.
    pub grad_norm: f64,
}

/// The mean meta-gradient over `episodes` and the mean query loss.
///
/// Tasks run in parallel (one tape each); their gradients are summed in task order, so the
/// result is bit-identical whatever the number of threads.
///
/// # Panics
/// If `episodes` is empty.
pub fn meta_gradient<T: Float>(
    method: &dyn MetaMethod<T>,
    model: &dyn Module<T>,
    meta: &Params<T>,
    episodes: &[Episode<T>],
) -> (Params<T>, f64) {
    assert!(!episodes.is_empty(), "meta_gradient: no episodes");
    let per_task: Vec<_> = episodes.par_iter().map(|e| method.task_gradient(model, meta, e)).collect();
    let scale = T::one() / T::of(episodes.len() as f64);
    let mut sum = per_task[0].grads.clone();
    for task in &per_task[1..] {
        sum = sum.axpy(T::one(), &task.grads);
    }
    let loss = per_task.iter().map(|t| t.query_loss).sum::<f64>() / episodes.len() as f64;
    (sum.map(|g| g.map(|v| v * scale)), loss)
}

/// One meta-iteration: the mean meta-gradient over `episodes`, clipped to L2 norm `clip` if
/// given (deep unrolls can explode), then one step of `optimizer` on `meta`.
pub fn meta_step<T: Float>(
    method: &dyn MetaMethod<T>,
    model: &dyn Module<T>,
    meta: &mut Params<T>,
    episodes: &[Episode<T>],
    optimizer: &mut dyn Optimizer<T>,
    clip: Option<f64>,
) -> MetaStep {
    let (mut grads, query_loss) = meta_gradient(method, model, meta, episodes);
    let grad_norm = match clip {
        Some(max) => clip_grad_norm(&mut grads, max),
        None => grads.l2_norm().to_f64().unwrap_or(f64::NAN),
    };
    optimizer.step(meta, &grads);
    MetaStep { query_loss, grad_norm }
}

/// The mean and the half-width of the 95% confidence interval of a score over episodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Mean over episodes.
    pub mean: f64,
    /// `1.96 * standard deviation / sqrt(episodes)`.
    pub ci95: f64,
}

impl Score {
    /// The mean and 95% interval of `values`.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var =
            if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        Score { mean, ci95: 1.96 * var.sqrt() / n.sqrt() }
    }
}

/// The query score (MSE or accuracy, see [`Batch::score`]) after each step count in `steps`,
/// over `episodes` (run in parallel, reduced in order).
pub fn evaluate<T: Float>(
    method: &dyn MetaMethod<T>,
    model: &dyn Module<T>,
    meta: &Params<T>,
    episodes: &[Episode<T>],
    steps: &[usize],
) -> Vec<Score> {
    let per_task: Vec<Vec<f64>> = episodes
        .par_iter()
        .map(|e| {
            let predictions = method.adapted_predictions(model, meta, &e.support, &e.query.inputs, steps);
            predictions.iter().map(|p| e.query.score(p)).collect()
        })
        .collect();
    (0..steps.len()).map(|k| Score::of(&per_task.iter().map(|t| t[k]).collect::<Vec<_>>())).collect()
}
