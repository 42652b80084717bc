//! Pieces of inner loops that several methods share: a forward pass on a batch, a plain SGD
//! step off the tape, and predictions along an adaptation trajectory.

use super::{Batch, Episode, TaskGradient};
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars, Params};

/// The batch's loss under `params`, with batch statistics per task (MAML's transductive
/// batch-norm: each task normalises with its own statistics, running statistics untouched).
pub(crate) fn batch_loss<'t, T: Float>(
    model: &dyn Module<T>,
    params: &ParamVars<'t, T>,
    batch: &Batch<T>,
) -> Var<'t, T> {
    let tape = params.vars().first().map(|v| v.tape()).expect("a model with parameters");
    let mut ctx = Context::transductive(0);
    batch.loss(model.forward(params, tape.constant(batch.inputs.clone()), &mut ctx))
}

/// `encoder`'s output on `inputs` flattened to `[n, features]`, with batch statistics.
pub(crate) fn embed<'t, T: Float>(
    encoder: &dyn Module<T>,
    params: &ParamVars<'t, T>,
    inputs: &Tensor<T>,
) -> Var<'t, T> {
    let tape = params.vars().first().map(|v| v.tape()).expect("an encoder with parameters");
    let e = encoder.forward(params, tape.constant(inputs.clone()), &mut Context::transductive(0));
    let n = e.shape()[0];
    e.reshape(&[n, e.len() / n.max(1)])
}

/// The labels of a classification batch, the number of classes (`max + 1`), and the
/// `[ways, 1]` column of `1 / count` per class.
///
/// # Panics
/// If `batch` is a regression batch or some class in `0..ways` has no example; `who` names
/// the caller in the message.
pub(crate) fn class_counts<'b, T: Float>(batch: &'b Batch<T>, who: &str) -> (&'b [usize], usize, Tensor<T>) {
    let super::Target::Classes(labels) = &batch.target else {
        panic!("{who}: the support set must be a classification batch");
    };
    let ways = labels.iter().max().map_or(0, |m| m + 1);
    let counts: Vec<usize> = (0..ways).map(|k| labels.iter().filter(|&&l| l == k).count()).collect();
    assert!(counts.iter().all(|&c| c > 0), "{who}: every class 0..{ways} needs a support example");
    let inverse = Tensor::from_vec(&[ways, 1], counts.iter().map(|&c| T::one() / T::of(c as f64)).collect());
    (labels, ways, inverse)
}

/// The model's output on `inputs` (nothing recorded).
pub(crate) fn predict<T: Float>(model: &dyn Module<T>, params: &Params<T>, inputs: &Tensor<T>) -> Tensor<T> {
    let tape = Tape::new();
    tape.no_grad(|| {
        let p = params.on(&tape);
        let mut ctx = Context::transductive(0);
        model.forward(&p, tape.constant(inputs.clone()), &mut ctx).value()
    })
}

/// One SGD step on the support loss, off the tape: `theta - lr * grad L(theta)`.
pub(crate) fn sgd_step<T: Float>(model: &dyn Module<T>, params: &Params<T>, support: &Batch<T>, lr: f64) -> Params<T> {
    let tape = Tape::new();
    let p = params.on(&tape);
    let grads = p.grad(batch_loss(model, &p, support));
    params.axpy(T::of(-lr), &grads)
}

/// Predictions on `inputs` after each step count in `steps`, where `step(i, theta_i)` gives
/// `theta_{i+1}`; the trajectory is walked once, up to the largest count.
pub(crate) fn predictions_along<T: Float>(
    model: &dyn Module<T>,
    start: Params<T>,
    inputs: &Tensor<T>,
    steps: &[usize],
    mut step: impl FnMut(usize, &Params<T>) -> Params<T>,
) -> Vec<Tensor<T>> {
    let last = steps.iter().copied().max().unwrap_or(0);
    let mut at_step = vec![None; last + 1];
    let mut theta = start;
    for (i, slot) in at_step.iter_mut().enumerate() {
        if steps.contains(&i) {
            *slot = Some(predict(model, &theta, inputs));
        }
        if i < last {
            theta = step(i, &theta);
        }
    }
    steps.iter().map(|&s| at_step[s].clone().expect("computed above")).collect()
}

/// A method that fits its learner to the support set in closed form, with no inner loop
/// (R2D2's ridge head, prototypical networks' class means): it only defines predictions on a
/// tape, and the task gradient and evaluation follow from them.
pub(crate) trait ClosedForm<T: Float> {
    /// Predictions on `inputs` after fitting to `support`, on the tape of `all` (every
    /// meta-parameter, lifted).
    fn predict_on_tape<'t>(
        &self,
        model: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T>;
}

/// The gradient of the query loss of a closed-form method.
pub(crate) fn closed_form_gradient<T: Float>(
    method: &impl ClosedForm<T>,
    model: &dyn Module<T>,
    meta: &Params<T>,
    episode: &Episode<T>,
) -> TaskGradient<T> {
    let tape = Tape::new();
    let all = meta.on(&tape);
    let loss = episode.query.loss(method.predict_on_tape(model, &all, &episode.support, &episode.query.inputs));
    TaskGradient { query_loss: loss.item().to_f64().unwrap_or(f64::NAN), grads: all.grad(loss) }
}

/// A closed-form method's predictions, the same for every requested step count.
pub(crate) fn closed_form_predictions<T: Float>(
    method: &impl ClosedForm<T>,
    model: &dyn Module<T>,
    meta: &Params<T>,
    support: &Batch<T>,
    inputs: &Tensor<T>,
    steps: &[usize],
) -> Vec<Tensor<T>> {
    let tape = Tape::new();
    let prediction = tape.no_grad(|| method.predict_on_tape(model, &meta.on(&tape), support, inputs).value());
    steps.iter().map(|_| prediction.clone()).collect()
}
