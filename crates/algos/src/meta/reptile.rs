//! Reptile (Nichol, Achiam & Schulman 2018, "On first-order meta-learning algorithms").
//!
//! Adapt to a task with `k` plain SGD steps, `W = U^k(phi)`, then move the initialisation
//! towards the adapted weights:
//!
//! ```text
//! phi <- phi + epsilon * (W - phi).
//! ```
//!
//! No second derivative is taken. The paper shows why it still meta-learns: expanding `U^k`
//! to second order, the expected update contains the joint-training gradient plus a term that
//! maximises the inner product between gradients of different minibatches of the same task,
//! the quantity MAML's Hessian term also improves. With one inner step the update is exactly
//! `epsilon * alpha * grad L(phi)`: joint training on all tasks.
//!
//! Here the task "gradient" is `phi - W`, so the outer optimiser's plain step reproduces the
//! update above, and an adaptive optimiser (Adam, as the paper also does) can use it too.

use super::inner::{predict, predictions_along, sgd_step};
use super::{Batch, Episode, MetaMethod, TaskGradient};
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::{Module, Params};

/// Reptile's inner loop: `inner_steps` SGD steps of rate `inner_lr` on the support set.
#[derive(Clone, Debug, PartialEq)]
pub struct Reptile {
    /// SGD steps per task.
    pub inner_steps: usize,
    /// The SGD rate of the inner loop (also used to adapt at test time).
    pub inner_lr: f64,
}

impl Reptile {
    /// Reptile with `inner_steps` steps of rate `inner_lr`.
    pub fn new(inner_steps: usize, inner_lr: f64) -> Self {
        Reptile { inner_steps, inner_lr }
    }
}

impl<T: Float> MetaMethod<T> for Reptile {
    fn name(&self) -> &'static str {
        "reptile"
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        let mut adapted = meta.clone();
        for _ in 0..self.inner_steps {
            adapted = sgd_step(model, &adapted, &episode.support, self.inner_lr);
        }
        let prediction = predict(model, &adapted, &episode.query.inputs);
        let query_loss = episode.query.loss_value(&prediction);
        TaskGradient { grads: meta.axpy(-T::one(), &adapted), query_loss }
    }

    fn adapted_predictions(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        predictions_along(model, meta.clone(), inputs, steps, |_, theta| sgd_step(model, theta, support, self.inner_lr))
    }
}
