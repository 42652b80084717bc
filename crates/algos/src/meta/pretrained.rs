//! The pretrained baseline of the MAML paper (Finn et al. 2017, §5.1): one model trained on
//! the union of all training tasks, then fine-tuned on a new task's support set.
//!
//! Training minimises `E_T [ (L_S(theta) + L_Q(theta)) / 2 ]`: both sets of each task are just
//! more training data, with no adaptation inside the objective. At test time the model takes
//! plain SGD steps on the support set, exactly as MAML's adapted models are evaluated. On
//! sinusoids the pretrained model learns the mean function (close to zero, since phases
//! cancel), and a few steps from there recover little of a particular task: the gap the paper
//! uses to show that MAML learned an initialisation for adapting, not for predicting.

use super::inner::{batch_loss, predictions_along, sgd_step};
use super::{Batch, Episode, MetaMethod, TaskGradient};
use metagrad_autodiff::{Float, Tape, Tensor};
use metagrad_nn::{Module, Params};

/// Train on every task's examples; fine-tune with SGD of rate `fine_tune_lr` at test time.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{Batch, Episode, MetaMethod, Pretrained};
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
/// let method = Pretrained { fine_tune_lr: 0.25 };
/// // Training: the gradient of (w^2 + (w - 1)^2) / 2, which is 1 at w = 1; the query loss is 0.
/// let task = method.task_gradient(&model, &meta, &episode);
/// assert_eq!(task.grads.get("0.weight").unwrap().item(), 1.0);
/// assert_eq!(task.query_loss, 0.0);
/// // Test: SGD on the support loss w^2 halves w at each step.
/// let x = Tensor::from_vec(&[1, 1], vec![1.0]);
/// let tuned = method.adapted_predictions(&model, &meta, &episode.support, &x, &[0, 1]);
/// assert_eq!((tuned[0].item(), tuned[1].item()), (1.0, 0.5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pretrained {
    /// The SGD rate of fine-tuning.
    pub fine_tune_lr: f64,
}

impl<T: Float> MetaMethod<T> for Pretrained {
    fn name(&self) -> &'static str {
        "pretrained"
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        let tape = Tape::new();
        let p = meta.on(&tape);
        let query = batch_loss(model, &p, &episode.query);
        let loss = (batch_loss(model, &p, &episode.support) + query) * T::of(0.5);
        TaskGradient { query_loss: query.item().to_f64().unwrap_or(f64::NAN), grads: p.grad(loss) }
    }

    fn adapted_predictions(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        predictions_along(model, meta.clone(), inputs, steps, |_, theta| {
            sgd_step(model, theta, support, self.fine_tune_lr)
        })
    }
}
