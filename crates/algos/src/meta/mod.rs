//! Meta-learning: learning an initialisation (or a learner) from many small tasks so that a
//! new task is learned from a handful of examples.
//!
//! Every method here implements [`MetaMethod`]: the gradient of its meta-objective on one
//! task, and the predictions it makes on a new task after adapting to that task's support
//! set. One episode loop ([`meta_step`]) drives them all: the tasks of a meta-batch run in
//! parallel with rayon, one tape per task, and their gradients are summed in task order, so
//! the same seed gives the same bits at any thread count.
//!
//! | method | file | what adapts in the inner loop | meta-gradient |
//! |---|---|---|---|
//! | MAML (second order, first order, checkpointed) | [`maml`] | every parameter | through the inner loop |
//! | Meta-SGD | [`meta_sgd`] | every parameter, learned per-parameter rates | through the inner loop, rates included |
//! | ANIL | [`anil`] | the head only | through the head's inner loop |
//! | R2D2 | [`r2d2`] | a ridge-regression head, in closed form | through the linear solve |
//! | Reptile | [`reptile`] | every parameter | none: the outer step moves towards the adapted weights |
//! | pretrained baseline | [`pretrained`] | fine-tuning at test only | plain gradient on all tasks |
//! | prototypical networks | [`protonet`] | nothing: class means of embeddings | through the prototypes |
//! | matching networks | [`matching`] | nothing: cosine attention over the support set | through the attention |
//! | relation networks | [`relation`] | nothing: summed class feature maps | through a learned relation module |
//! | siamese networks | [`siamese`] | nothing: pairwise same/different scores | binary cross-entropy on pairs |
//! | triplet networks | [`triplet`] | nothing: distances to support examples | triplet margin loss |
//! | fine-tuning baseline | [`finetune`] | a new head (and optionally the encoder), at test only | plain gradient of a classifier over all training classes |
//! | pixel nearest neighbour | [`nearest`] | nothing | none: nothing is learned |

pub mod anil;
pub mod conv4;
mod episode;
pub mod finetune;
mod inner;
pub mod maml;
pub mod matching;
pub mod meta_sgd;
pub mod nearest;
pub mod pretrained;
pub mod protonet;
pub mod r2d2;
pub mod relation;
pub mod reptile;
pub mod siamese;
pub mod sinusoid;
pub mod triplet;

pub use episode::{evaluate, meta_gradient, meta_step, Batch, Episode, MetaStep, Score, Target};
pub use finetune::FineTune;
pub use maml::Maml;
pub use matching::MatchingNet;
pub use nearest::PixelNearestNeighbour;
pub use pretrained::Pretrained;
pub use protonet::ProtoNet;
pub use r2d2::R2d2;
pub use relation::RelationNet;
pub use reptile::Reptile;
pub use siamese::Siamese;
pub use triplet::Triplet;

use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::{Module, ParamVars, Params};

/// The gradient of one task's meta-objective, and that task's query loss.
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
/// // Reptile's task "gradient" is phi - W: one SGD step of rate 0.25 on w^2 moves w to 0.5.
/// let task = Reptile::new(1, 0.25).task_gradient(&model, &meta, &episode);
/// assert_eq!(task.grads.get("0.weight").unwrap().item(), 0.5);
/// // The query loss at the adapted weight, (0.5 - 1)^2.
/// assert_eq!(task.query_loss, 0.25);
/// ```
#[derive(Clone, Debug)]
pub struct TaskGradient<T: Float> {
    /// With respect to every meta-parameter (model and method-specific), same layout.
    pub grads: Params<T>,
    /// The query loss after adaptation (before the outer update).
    pub query_loss: f64,
}

/// A meta-learning method.
///
/// Meta-parameters are one [`Params`]: the model's parameters under their own names, plus the
/// method's own (Meta-SGD's rates, R2D2's ridge penalty), which [`MetaMethod::init_extra`]
/// creates, under a prefix the model does not use.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{meta_step, Batch, Episode, MetaMethod, TaskGradient};
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::optim::Sgd;
/// use metagrad_nn::{Context, Module, Params, Sequential};
///
/// /// A method that ignores the support set: plain training on the queries.
/// struct NoAdaptation;
///
/// impl MetaMethod<f64> for NoAdaptation {
///     fn name(&self) -> &'static str {
///         "no-adaptation"
///     }
///
///     fn task_gradient(
///         &self,
///         model: &dyn Module<f64>,
///         meta: &Params<f64>,
///         episode: &Episode<f64>,
///     ) -> TaskGradient<f64> {
///         let tape = Tape::new();
///         let p = meta.on(&tape);
///         let out = model.forward(&p, tape.constant(episode.query.inputs.clone()), &mut Context::transductive(0));
///         let loss = episode.query.loss(out);
///         TaskGradient { query_loss: loss.item(), grads: p.grad(loss) }
///     }
///
///     fn adapted_predictions(
///         &self,
///         model: &dyn Module<f64>,
///         meta: &Params<f64>,
///         _support: &Batch<f64>,
///         inputs: &Tensor<f64>,
///         steps: &[usize],
///     ) -> Vec<Tensor<f64>> {
///         let tape = Tape::new();
///         let out = model.forward(&meta.on(&tape), tape.constant(inputs.clone()), &mut Context::transductive(0));
///         steps.iter().map(|_| out.value()).collect()
///     }
/// }
///
/// // f(x) = w x from w = 0, on a task y = 2x: the episode loop drives any method.
/// let model = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
/// let mut meta = Params::from_pairs([("0.weight".to_string(), Tensor::zeros(&[1, 1]))]);
/// let batch = Batch::regression(Tensor::from_vec(&[2, 1], vec![1.0, 2.0]), Tensor::from_vec(&[2, 1], vec![2.0, 4.0]));
/// let episodes = [Episode { support: batch.clone(), query: batch }];
/// let mut sgd = Sgd::new(0.1);
/// let first = meta_step(&NoAdaptation, &model, &mut meta, &episodes, &mut sgd, None).query_loss;
/// let second = meta_step(&NoAdaptation, &model, &mut meta, &episodes, &mut sgd, None).query_loss;
/// assert!(second < first);
/// ```
pub trait MetaMethod<T: Float>: Sync {
    /// A short name (`"maml"`, `"reptile"`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{meta_sgd::meta_sgd, Maml, MetaMethod, ProtoNet, Reptile};
    ///
    /// let name = |m: &dyn MetaMethod<f64>| m.name();
    /// // One struct, three names: MAML's name follows the options set.
    /// assert_eq!(name(&Maml::new(1, 0.1)), "maml");
    /// assert_eq!(name(&Maml::new(1, 0.1).first_order()), "fomaml");
    /// assert_eq!(name(&meta_sgd(1, 0.1, false)), "meta-sgd");
    /// assert_eq!(name(&Reptile::new(1, 0.1)), "reptile");
    /// assert_eq!(name(&ProtoNet), "protonet");
    /// ```
    fn name(&self) -> &'static str;

    /// The method's own meta-parameters for a model with parameters `model` (none by default).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Maml, MetaMethod, R2d2, EXTRA_PREFIX};
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let model = Params::from_pairs([("0.weight".to_string(), Tensor::<f64>::zeros(&[3, 2]))]);
    /// // MAML learns only the model; R2D2 adds its ridge penalty, scale and offset.
    /// assert!(Maml::new(1, 0.1).init_extra(&model).is_empty());
    /// let extra = R2d2::new(1.0).init_extra(&model);
    /// assert_eq!(extra.len(), 3);
    /// assert!(extra.names().all(|n| n.starts_with(EXTRA_PREFIX)));
    /// ```
    fn init_extra(&self, _model: &Params<T>) -> Params<T> {
        Params::new()
    }

    /// The gradient of the meta-objective on one task with respect to every meta-parameter.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, Episode, Maml, MetaMethod};
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
    /// // One inner step of rate 0.25 on w^2 gives w' = 0.5; the query loss (w' - 1)^2 has slope -1
    /// // at w', and dw'/dw = 1 - 0.25 * 2 = 0.5, so the meta-gradient is -0.5.
    /// let task = Maml::new(1, 0.25).task_gradient(&model, &meta, &episode);
    /// assert!((task.query_loss - 0.25).abs() < 1e-12);
    /// assert!((task.grads.get("0.weight").unwrap().item() + 0.5).abs() < 1e-12);
    /// ```
    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T>;

    /// Predictions on `inputs` after adapting to `support` for each step count in `steps`
    /// (methods without steps, like R2D2's closed form, return the same prediction for each).
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
    /// // Each SGD step of rate 0.25 on w^2 halves w; the prediction at x = 1 is w itself.
    /// let x = Tensor::from_vec(&[1, 1], vec![1.0]);
    /// let predictions = Reptile::new(1, 0.25).adapted_predictions(&model, &meta, &episode.support, &x, &[0, 2, 1]);
    /// let values: Vec<f64> = predictions.iter().map(|p| p.item()).collect();
    /// assert_eq!(values, vec![1.0, 0.25, 0.5]);
    /// ```
    fn adapted_predictions(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>>;
}

/// The prefix of method-specific meta-parameters: anything named `"{EXTRA_PREFIX}…"` is not
/// part of the model.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{meta_sgd::meta_sgd, model_params, MetaMethod, EXTRA_PREFIX};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// // Meta-SGD learns a rate per model parameter, named under the prefix.
/// let model = Params::from_pairs([("0.weight".to_string(), Tensor::<f64>::zeros(&[3, 2]))]);
/// let rates = MetaMethod::<f64>::init_extra(&meta_sgd(1, 0.1, false), &model);
/// assert_eq!(rates.names().collect::<Vec<_>>(), vec![format!("{EXTRA_PREFIX}lr.0.weight")]);
/// // Everything under the prefix is left out of the model's part.
/// let mut all = model.clone();
/// for (name, rate) in rates.iter() {
///     all.insert(name, rate.clone());
/// }
/// assert_eq!(model_params(&all).names().collect::<Vec<_>>(), vec!["0.weight"]);
/// ```
pub const EXTRA_PREFIX: &str = "meta.";

/// The model's part of the meta-parameters.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::model_params;
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let names = ["0.weight", "meta.lr.0.weight", "1.bias"];
/// let meta = Params::from_pairs(names.map(|n| (n.to_string(), Tensor::scalar(1.0f64))));
/// // Everything not under the method's prefix, in order.
/// assert_eq!(model_params(&meta).names().collect::<Vec<_>>(), vec!["0.weight", "1.bias"]);
/// ```
pub fn model_params<T: Float>(meta: &Params<T>) -> Params<T> {
    select_params(meta, false)
}

/// The method's own part of the meta-parameters (names starting with [`EXTRA_PREFIX`]).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{extra_params, model_params};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let meta = Params::from_pairs(["0.weight", "meta.lr.0.weight"].map(|n| (n.to_string(), Tensor::scalar(1.0f64))));
/// assert_eq!(extra_params(&meta).names().collect::<Vec<_>>(), vec!["meta.lr.0.weight"]);
/// // The two parts split the meta-parameters between them.
/// assert_eq!(extra_params(&meta).len() + model_params(&meta).len(), meta.len());
/// ```
pub fn extra_params<T: Float>(meta: &Params<T>) -> Params<T> {
    select_params(meta, true)
}

fn select_params<T: Float>(meta: &Params<T>, extra: bool) -> Params<T> {
    Params::from_pairs(
        meta.iter().filter(|(n, _)| n.starts_with(EXTRA_PREFIX) == extra).map(|(n, v)| (n.to_string(), v.clone())),
    )
}

/// The model's part of meta-parameters lifted onto a tape.
pub(crate) fn model_vars<'t, T: Float>(all: &ParamVars<'t, T>) -> ParamVars<'t, T> {
    ParamVars::from_pairs(
        all.names().into_iter().zip(all.vars()).filter(|(n, _)| !n.starts_with(EXTRA_PREFIX)).collect(),
    )
}
