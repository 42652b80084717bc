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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{initial, Supervised, ENCODER};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let (params, _) = initial(&encoder, &Supervised::new(3, 2), 0);
/// assert!(params.get(&format!("{ENCODER}.1.weight")).is_some());
/// ```
pub const ENCODER: &str = "encoder";
/// The prefix of the methods' heads (projector, predictor, pretext classifier).
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{initial, Supervised, HEAD};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let (params, _) = initial(&encoder, &Supervised::new(3, 2), 0);
/// // Two parameters of one linear head: its weight and its bias.
/// assert_eq!(params.names().filter(|n| n.starts_with(&format!("{HEAD}."))).count(), 2);
/// ```
pub const HEAD: &str = "head";

/// Which rows of a batch are positives of each other.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{two_views, Augment, Positives, Step};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let step = Step { batch: &batch, augment: &Augment::none(), seed: 0 };
/// // Views: row i and row n + i are the two views of image i. Labels: rows of one class.
/// assert_eq!(two_views(&step, Positives::Views).1, vec![0, 1, 0, 1]);
/// assert_eq!(two_views(&step, Positives::Labels).1, vec![1, 0, 1, 0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positives {
    /// Two augmented views of the same image (self-supervised).
    Views,
    /// Images of the same class (uses the labels).
    Labels,
}

/// How the pair losses measure distance between embeddings.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{pair_distances, Distance};
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let z = tape.constant(Tensor::from_vec(&[2, 2], vec![0.0f64, 0.0, 3.0, 4.0]));
/// // A 3-4-5 triangle: the distance 5, or its square 25.
/// assert_eq!(pair_distances(z, Distance::Squared).value().to_vec(), vec![0.0, 25.0, 25.0, 0.0]);
/// assert!((pair_distances(z, Distance::Euclidean).value().to_vec()[1] - 5.0).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// `||u - v||` (computed as `sqrt(max(0, ||u - v||^2) + 1e-12)`, finite at `u = v`).
    Euclidean,
    /// `||u - v||^2`.
    Squared,
}

/// Distances `[n, n]` between the rows of `z` (`[n, d]`).
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{pair_distances, Distance};
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let z = tape.constant(Tensor::from_vec(&[3, 2], vec![1.0f64, 1.0, 1.0, 1.0, 4.0, 5.0]));
/// let d = pair_distances(z, Distance::Euclidean).value().to_vec();
/// // Symmetric, 5 between (1, 1) and (4, 5), and the 1e-12 inside the root keeps equal rows
/// // at 1e-6 rather than at a zero whose square root has no gradient.
/// assert_eq!((d[2], d[6]), (d[6], d[2]));
/// assert!((d[2] - 5.0).abs() < 1e-9);
/// assert!((d[1] - 1e-6).abs() < 1e-12);
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{initial, Augment, Method, Step, Supervised};
/// use metagrad_autodiff::Tape;
/// use metagrad_nn::Context;
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let method = Supervised::new(3, 2);
/// let (params, state) = initial(&encoder, &method, 0);
/// let tape = Tape::new();
/// let step = Step { batch: &batch, augment: &Augment::none(), seed: 0 };
/// let objective = method.objective(&encoder, &params.on(&tape), &step, &mut Context::eval(state));
/// assert!(objective.loss.item().is_finite());
/// // The supervised baseline's embeddings are its unit-norm features, grouped by label.
/// let (z, groups) = objective.embeddings.unwrap();
/// assert_eq!(groups, vec![1, 0]);
/// let norms = z.value().to_vec().chunks(3).map(|r| r.iter().map(|v| v * v).sum::<f64>()).collect::<Vec<_>>();
/// assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-6));
/// ```
pub struct Objective<'t, T: Float> {
    /// The scalar to minimise.
    pub loss: Var<'t, T>,
    /// Embeddings `[rows, d]` and one group id per row, when the method has them.
    pub embeddings: Option<(Var<'t, T>, Vec<usize>)>,
}

/// What the training batch of a method is made of.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{two_views, Augment, Positives, Step};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let augment = Augment::for_small_images();
/// let step = |seed| Step { batch: &batch, augment: &augment, seed };
/// // The step's seed fixes its views: the same seed, the same views; another, others.
/// assert_eq!(two_views(&step(3), Positives::Views).0, two_views(&step(3), Positives::Views).0);
/// assert_ne!(two_views(&step(3), Positives::Views).0, two_views(&step(4), Positives::Views).0);
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{encode, pretrain, Augment, Config, Method, Objective, Step};
/// use metagrad_autodiff::Float;
/// use metagrad_nn::{Context, Module, ParamVars};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// /// A toy method with no heads: shrink the features towards zero.
/// struct Shrink;
///
/// impl<T: Float> Method<T> for Shrink {
///     fn name(&self) -> &'static str {
///         "shrink"
///     }
///     fn objective<'t>(&self, encoder: &dyn Module<T>, params: &ParamVars<'t, T>, step: &Step<'_, T>, ctx: &mut Context<T>) -> Objective<'t, T> {
///         let h = encode(encoder, params, step.batch.inputs.clone(), ctx);
///         Objective { loss: h.square().mean(), embeddings: None }
///     }
/// }
///
/// let config = Config { steps: 20, batch_size: 2, learning_rate: 0.05, ..Config::default() };
/// let run = pretrain(&encoder, &mut Shrink, &batch, &Augment::none(), &config, |_| {}).unwrap();
/// // The one training loop drives any method: here the loss falls.
/// assert_eq!(run.losses.len(), 20);
/// assert!(run.losses[19] < run.losses[0] / 2.0);
/// ```
pub trait Method<T: Float>: Send + Sync {
    /// A short name (`"simclr"`).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{Byol, Method, Supervised};
    ///
    /// assert_eq!(Method::<f64>::name(&Supervised::new(8, 3)), "supervised");
    /// assert_eq!(Method::<f64>::name(&Byol::new(8, 16, 4, 0.99)), "byol");
    /// ```
    fn name(&self) -> &'static str;

    /// The method's heads by name (projector, predictor, classifier); none by default.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Method, Supervised};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let method = Supervised::new(3, 2);
    /// let names: Vec<&str> = method.heads().iter().map(|(name, _)| *name).collect();
    /// assert_eq!(names, vec!["classifier"]);
    /// // Each head's parameters live under `head.{name}.`, next to the encoder's.
    /// let (params, _) = initial(&encoder, &method, 0);
    /// assert!(params.names().all(|n| n.starts_with("encoder.") || n.starts_with("head.classifier.")));
    /// assert!(params.get("head.classifier.0.weight").is_some());
    /// ```
    fn heads(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        Vec::new()
    }

    /// The loss on one training step.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Augment, Method, Step, Supervised};
    /// use metagrad_autodiff::Tape;
    /// use metagrad_nn::Context;
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let method = Supervised::new(3, 2);
    /// let (params, state) = initial(&encoder, &method, 0);
    /// // A zero classifier: every class equally likely, so the cross-entropy is ln 2.
    /// let params = metagrad_nn::Params::from_pairs(params.iter().map(|(n, t)| {
    ///     let zeroed = if n.starts_with("head.") { Tensor::zeros(t.shape()) } else { t.clone() };
    ///     (n.to_string(), zeroed)
    /// }));
    /// let tape = Tape::new();
    /// let step = Step { batch: &batch, augment: &Augment::none(), seed: 0 };
    /// let loss = method.objective(&encoder, &params.on(&tape), &step, &mut Context::eval(state)).loss;
    /// assert!((loss.item() - 2f64.ln()).abs() < 1e-12);
    /// ```
    fn objective<'t>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        step: &Step<'_, T>,
        ctx: &mut Context<T>,
    ) -> Objective<'t, T>;

    /// Called once with the initial parameters, before the first step.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Byol, Method};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let mut byol = Byol::new(3, 4, 2, 0.99);
    /// let (params, _) = initial(&encoder, &byol, 0);
    /// byol.begin(&params);
    /// // BYOL's target network starts as a copy of the encoder and projector (not the predictor).
    /// assert!(byol.target.names().all(|n| n.starts_with("encoder.") || n.starts_with("head.projector.")));
    /// assert_eq!(byol.target.get("encoder.1.weight"), params.get("encoder.1.weight"));
    /// ```
    fn begin(&mut self, _params: &Params<T>) {}

    /// Called after every optimiser step with the updated parameters.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Byol, Method};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let mut byol = Byol::new(3, 4, 2, 0.9);
    /// let (params, _) = initial(&encoder, &byol, 0);
    /// byol.begin(&params);
    /// // The online weights moved by 1: the target follows a tenth of the way (decay 0.9).
    /// byol.after_step(&params.map(|t| t.map(|v| v + 1.0)));
    /// let moved = byol.target.get("encoder.1.bias").unwrap().to_vec();
    /// let start = params.get("encoder.1.bias").unwrap().to_vec();
    /// assert!(moved.iter().zip(&start).all(|(m, s)| (m - s - 0.1).abs() < 1e-12));
    /// ```
    fn after_step(&mut self, _params: &Params<T>) {}
}

/// The encoder's output for `images` on the tape of `params` (parameters under [`ENCODER`]).
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{encode, initial, Supervised};
/// use metagrad_autodiff::Tape;
/// use metagrad_nn::Context;
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let (params, state) = initial(&encoder, &Supervised::new(3, 2), 0);
/// let tape = Tape::new();
/// let h = encode(&encoder, &params.on(&tape), batch.inputs.clone(), &mut Context::eval(state)).value();
/// assert_eq!(h.shape(), &[2, 3]);
/// // The first image is one lit pixel, so its features are the weights' first row plus the bias.
/// let (w, b) = (params.get("encoder.1.weight").unwrap().to_vec(), params.get("encoder.1.bias").unwrap().to_vec());
/// assert!((0..3).all(|j| (h.to_vec()[j] - (w[j] + b[j])).abs() < 1e-12));
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{apply_head, initial, Supervised};
/// use metagrad_autodiff::Tape;
/// use metagrad_nn::Context;
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let method = Supervised::new(3, 2);
/// let (params, state) = initial(&encoder, &method, 0);
/// let tape = Tape::new();
/// let h = tape.constant(Tensor::zeros(&[5, 3]));
/// let logits = apply_head(&method.classifier, "classifier", &params.on(&tape), h, &mut Context::eval(state));
/// // Zero features: every row of logits is the head's bias.
/// let bias = params.get("head.classifier.0.bias").unwrap().to_vec();
/// assert_eq!(logits.shape(), &[5, 2]);
/// assert!(logits.value().to_vec().chunks(2).all(|row| row == bias.as_slice()));
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{two_views, Augment, Positives, Step};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let step = Step { batch: &batch, augment: &Augment::none(), seed: 0 };
/// let (views, groups) = two_views(&step, Positives::Views);
/// // Without augmentation both views are the images: the batch stacked twice.
/// assert_eq!(views.shape(), &[4, 1, 2, 2]);
/// assert_eq!(views.to_vec(), [batch.inputs.to_vec(), batch.inputs.to_vec()].concat());
/// assert_eq!(groups, vec![0, 1, 0, 1]);
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::l2_normalize_rows;
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let z = tape.constant(Tensor::from_vec(&[2, 2], vec![3.0f64, 4.0, 0.0, 0.0]));
/// let unit = l2_normalize_rows(z).value().to_vec();
/// // (3, 4) has norm 5; the zero row stays zero instead of becoming NaN.
/// assert!((unit[0] - 0.6).abs() < 1e-9 && (unit[1] - 0.8).abs() < 1e-9);
/// assert_eq!(&unit[2..], &[0.0, 0.0]);
/// ```
pub fn l2_normalize_rows<'t, T: Float>(z: Var<'t, T>) -> Var<'t, T> {
    z / (z.square().sum_axes(&[1], true) + T::of(1e-8)).sqrt()
}
