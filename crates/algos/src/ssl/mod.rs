//! Self-supervised and metric representation learning: an encoder learns from unlabelled
//! images (or from which images share a class) and is then judged by how well a linear
//! classifier, or a nearest-neighbour vote, reads classes off its features.
//!
//! # The pieces
//!
//! - Losses on embeddings, each a plain function of Vars with its maths in its file:
//!   [`contrastive_loss`] (margin contrastive, siamese), [`triplet_loss`] (batch-hard and
//!   semi-hard mining), [`nt_xent`] (SimCLR), [`byol_loss`] (BYOL), [`barlow_twins_loss`]
//!   (Barlow Twins) and [`centroid_loss`] (centroid regularisation).
//! - Methods, which turn a batch of images into such a loss: [`Contrastive`], [`TripletNet`],
//!   [`SimClr`], [`Byol`], [`BarlowTwins`], the pretext tasks [`Rotation`] and [`Jigsaw`], and
//!   the [`Supervised`] baseline. All implement [`Method`] and are trained by one loop,
//!   [`pretrain`].
//! - [`Augment`]: seeded random views of small grey images (resized crop, rotation,
//!   translation, shear, noise, erasing).
//! - Evaluation ([`probe`]): a linear probe on frozen features and k-nearest-neighbour accuracy.
//!
//! # Positives: views or labels
//!
//! The pair-based losses need to know which rows of a batch of embeddings belong together.
//! [`Positives::Views`] makes two augmented views of one image the only positives
//! (self-supervised, as SimCLR); [`Positives::Labels`] makes every pair of images of one class
//! positives (metric learning on labelled classes, as siamese networks on Omniglot). Either
//! way the loss sees one group id per row.

mod augment;
mod barlow;
mod byol;
mod centroid;
mod contrastive;
mod encoder;
mod jigsaw;
mod pretrain;
pub mod probe;
mod rotation;
mod simclr;
mod supervised;
mod triplet;

pub use augment::Augment;
pub use barlow::{barlow_twins_loss, BarlowTwins};
pub use byol::{byol_loss, Byol};
pub use centroid::centroid_loss;
pub use contrastive::{contrastive_loss, Contrastive};
pub use encoder::{conv_encoder, mlp_head, ENCODER_FEATURES};
pub use jigsaw::Jigsaw;
pub use pretrain::{initial, pretrain, Config, Diverged, Pretrained, Progress, Sampling};
pub use rotation::{rotate_quarter_turns, Rotation};
pub use simclr::{nt_xent, SimClr};
pub use supervised::Supervised;
pub use triplet::{triplet_loss, Mining, TripletNet};

use crate::Labelled;
use metagrad_autodiff::{Float, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars, Params};
use rand::rngs::StdRng;

/// The prefix of the encoder's parameters among all trained parameters.
pub const ENCODER: &str = "encoder";
/// The prefix of the methods' heads (projector, predictor, pretext classifier).
pub const HEAD: &str = "head";

/// Which rows of a batch are positives of each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positives {
    /// Two augmented views of the same image (self-supervised).
    Views,
    /// Images of the same class (uses the labels).
    Labels,
}

/// How the pair losses measure distance between embeddings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// `||u - v||` (computed as `sqrt(max(0, ||u - v||^2) + 1e-12)`, finite at `u = v`).
    Euclidean,
    /// `||u - v||^2`.
    Squared,
}

/// Distances `[n, n]` between the rows of `z` (`[n, d]`).
pub fn pair_distances<'t, T: Float>(z: Var<'t, T>, distance: Distance) -> Var<'t, T> {
    let squared = crate::meta::triplet::squared_distances(z, z);
    match distance {
        Distance::Squared => squared,
        // The expansion |u|^2 - 2 u.v + |v|^2 can round below zero for u = v.
        Distance::Euclidean => (squared.relu() + T::of(1e-12)).sqrt(),
    }
}

/// A method's loss on one batch, and the embeddings it was computed from (for the optional
/// centroid regularisation).
pub struct Objective<'t, T: Float> {
    /// The scalar to minimise.
    pub loss: Var<'t, T>,
    /// Embeddings `[rows, d]` and one group id per row, when the method has them.
    pub embeddings: Option<(Var<'t, T>, Vec<usize>)>,
}

/// What the training batch of a method is made of.
pub struct Step<'a, T: Float> {
    /// The images (unaugmented) and their labels.
    pub batch: &'a Labelled<T>,
    /// The view distribution.
    pub augment: &'a Augment,
    /// A seed for this step's augmentations.
    pub seed: u64,
}

/// A representation-learning method: heads on top of a shared encoder, and a loss.
///
/// Parameters are named `"encoder.…"` ([`ENCODER`]) and `"head.{name}.…"` ([`HEAD`]) for each
/// head in [`Method::heads`].
pub trait Method<T: Float>: Send + Sync {
    /// A short name (`"simclr"`).
    fn name(&self) -> &'static str;

    /// The method's heads by name (projector, predictor, classifier); none by default.
    fn heads(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        Vec::new()
    }

    /// The loss on one training step.
    fn objective<'t>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        step: &Step<'_, T>,
        ctx: &mut Context<T>,
    ) -> Objective<'t, T>;

    /// Called once with the initial parameters, before the first step.
    fn begin(&mut self, _params: &Params<T>) {}

    /// Called after every optimiser step with the updated parameters.
    fn after_step(&mut self, _params: &Params<T>) {}
}

/// The encoder's output for `images` on the tape of `params` (parameters under [`ENCODER`]).
pub fn encode<'t, T: Float>(
    encoder: &dyn Module<T>,
    params: &ParamVars<'t, T>,
    images: Tensor<T>,
    ctx: &mut Context<T>,
) -> Var<'t, T> {
    let x = params.vars().first().expect("at least one parameter").constant(images);
    encoder.forward(&params.scoped(ENCODER), x, ctx)
}

/// The output of head `name` on `x`.
pub fn apply_head<'t, T: Float>(
    head: &dyn Module<T>,
    name: &str,
    params: &ParamVars<'t, T>,
    x: Var<'t, T>,
    ctx: &mut Context<T>,
) -> Var<'t, T> {
    head.forward(&params.scoped(&format!("{HEAD}.{name}")), x, ctx)
}

/// Two augmented views of `step`'s batch stacked as `[2n, …]` (first views, then second),
/// and the group of every row under `positives`.
pub fn two_views<T: Float>(step: &Step<'_, T>, positives: Positives) -> (Tensor<T>, Vec<usize>) {
    let first = step.augment.apply(&step.batch.inputs, step.seed);
    let second = step.augment.apply(&step.batch.inputs, step.seed ^ 0x5EC0_4D00_u64);
    let n = step.batch.len();
    let mut shape = first.shape().to_vec();
    shape[0] = 2 * n;
    let values = first.to_vec().into_iter().chain(second.to_vec()).collect();
    let groups = match positives {
        Positives::Views => (0..n).chain(0..n).collect(),
        Positives::Labels => step.batch.labels.iter().chain(&step.batch.labels).copied().collect(),
    };
    (Tensor::from_vec(&shape, values), groups)
}

/// A fresh seeded generator per (seed, index), independent of the thread that asks.
pub(crate) fn stream(seed: u64, index: u64) -> StdRng {
    use rand::SeedableRng;
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// Every row of `z` (`[rows, d]`) divided by its Euclidean norm (plus `1e-8` inside the root,
/// so a zero row stays finite).
pub fn l2_normalize_rows<'t, T: Float>(z: Var<'t, T>) -> Var<'t, T> {
    z / (z.square().sum_axes(&[1], true) + T::of(1e-8)).sqrt()
}
