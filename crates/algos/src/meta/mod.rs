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
pub trait MetaMethod<T: Float>: Sync {
    /// A short name (`"maml"`, `"reptile"`, ...).
    fn name(&self) -> &'static str;

    /// The method's own meta-parameters for a model with parameters `model` (none by default).
    fn init_extra(&self, _model: &Params<T>) -> Params<T> {
        Params::new()
    }

    /// The gradient of the meta-objective on one task with respect to every meta-parameter.
    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T>;

    /// Predictions on `inputs` after adapting to `support` for each step count in `steps`
    /// (methods without steps, like R2D2's closed form, return the same prediction for each).
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
pub const EXTRA_PREFIX: &str = "meta.";

/// The model's part of the meta-parameters.
pub fn model_params<T: Float>(meta: &Params<T>) -> Params<T> {
    select_params(meta, false)
}

/// The method's own part of the meta-parameters (names starting with [`EXTRA_PREFIX`]).
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
