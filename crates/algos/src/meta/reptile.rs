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
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{meta_step, sinusoid, Reptile};
/// use metagrad_nn::optim::Sgd;
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // The outer step moves the initialisation towards the adapted weights, which helps on a task
/// // seen again: its query loss after adaptation falls.
/// let mut rng = StdRng::seed_from_u64(2);
/// let model = sinusoid::network::<f64>(8);
/// let mut meta = model.init(&mut rng);
/// let episodes = sinusoid::meta_batch(1, 5, 5, &mut rng);
/// let (reptile, mut sgd) = (Reptile::new(3, 0.01), Sgd::new(1.0));
/// let first = meta_step(&reptile, &model, &mut meta, &episodes, &mut sgd, None).query_loss;
/// let mut last = first;
/// for _ in 0..3 {
///     last = meta_step(&reptile, &model, &mut meta, &episodes, &mut sgd, None).query_loss;
/// }
/// assert!(last < first);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Reptile {
    /// SGD steps per task.
    pub inner_steps: usize,
    /// The SGD rate of the inner loop (also used to adapt at test time).
    pub inner_lr: f64,
}

impl Reptile {
    /// Reptile with `inner_steps` steps of rate `inner_lr`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, Episode, MetaMethod, Reptile};
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // f(x) = w x from w = 1; the support set is the point (1, 0), the query set (1, 1).
    /// # let model = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
    /// # let meta = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0]))]);
    /// # let column = |v: f64| Tensor::from_vec(&[1, 1], vec![v]);
    /// # let point = |x: f64, y: f64| Batch::regression(column(x), column(y));
    /// # let episode = Episode { support: point(1.0, 0.0), query: point(1.0, 1.0) };
    /// // Two SGD steps of rate 0.25 on w^2 take w from 1 to 0.25; the task "gradient" is the move
    /// // backwards, phi - W = 0.75.
    /// let task = Reptile::new(2, 0.25).task_gradient(&model, &meta, &episode);
    /// assert_eq!(task.grads.get("0.weight").unwrap().item(), 0.75);
    /// ```
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
