//! Siamese networks with the margin contrastive loss (Hadsell, Chopra & LeCun 2006; the
//! siamese set-up of Bromley et al. 1993).
//!
//! One encoder `f` (weights tied between the two branches) embeds every row; for a pair at
//! Euclidean distance `D_ij = ||f(x_i) - f(x_j)||`, Hadsell et al.'s loss is
//!
//! ```text
//! l_ij = 1[y_i = y_j] D_ij^2 + 1[y_i != y_j] max(0, eps - D_ij)^2          (Distance::Euclidean)
//! ```
//!
//! so positives are pulled together and negatives pushed apart until they are `eps` apart.
//! The variant with the hinge on the squared distance,
//!
//! ```text
//! l_ij = 1[y_i = y_j] D_ij^2 + 1[y_i != y_j] max(0, eps - D_ij^2)          (Distance::Squared)
//! ```
//!
//! is also here; its push on a negative pair, `2 D_ij`, fades as the pair gets closer, and is
//! zero when everything has collapsed to one point, so the Euclidean form is the default.
//! A batch with `n` positive and `m` negative pairs (`i < j`) has `m >> n` when positives are
//! two views of one image, so the loss averages the two kinds separately and adds them:
//! `L = mean_pos l_ij + mean_neg l_ij`. Embeddings are L2-normalised, so `D_ij` lies in
//! `[0, 2]` and `eps` is on that scale.
//!
//! Optionally the loss reads a projection `g(f(x))` through an MLP head, as SimCLR's does
//! (Chen et al. 2020, §4.2, found a head between the representation and the loss improves
//! the representation, since the loss then need not erase from `f(x)` what the views
//! change); the linear probe still reads `f(x)`.

use super::{
    apply_head, encode, l2_normalize_rows, mlp_head, pair_distances, two_views, Distance, Method, Objective, Positives,
    Step,
};
use metagrad_autodiff::{Float, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars, Sequential};

/// The margin contrastive loss of embeddings `z` (`[rows, d]`) with one group id per row;
/// rows of one group are positives. Pairs `i < j`; each kind averaged on its own (a kind
/// with no pair contributes 0). `margin` is `eps`, in the units of `distance`.
///
/// # Panics
/// If `groups` does not have one entry per row.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{contrastive_loss, Distance};
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let z = tape.constant(Tensor::from_vec(&[2, 2], vec![0.0f64, 0.0, 0.6, 0.8]));
/// // One pair, distance 1: as positives, D^2 = 1; as negatives with margin 1.5,
/// // max(0, 1.5 - 1)^2 = 0.25; a margin of 1 is already met.
/// assert!((contrastive_loss(z, &[0, 0], 1.5, Distance::Euclidean).item() - 1.0).abs() < 1e-9);
/// assert!((contrastive_loss(z, &[0, 1], 1.5, Distance::Euclidean).item() - 0.25).abs() < 1e-9);
/// assert!(contrastive_loss(z, &[0, 1], 1.0, Distance::Euclidean).item() < 1e-9);
/// ```
pub fn contrastive_loss<'t, T: Float>(z: Var<'t, T>, groups: &[usize], margin: f64, distance: Distance) -> Var<'t, T> {
    let rows = z.shape()[0];
    assert_eq!(groups.len(), rows, "contrastive_loss: {} groups for {rows} rows", groups.len());
    let (mut positive, mut negative) = (vec![T::zero(); rows * rows], vec![T::zero(); rows * rows]);
    let (mut positives, mut negatives) = (0usize, 0usize);
    for i in 0..rows {
        for j in i + 1..rows {
            if groups[i] == groups[j] {
                positive[i * rows + j] = T::one();
                positives += 1;
            } else {
                negative[i * rows + j] = T::one();
                negatives += 1;
            }
        }
    }
    let weight = |mask: Vec<T>, count: usize| {
        let w = if count > 0 { T::one() / T::of(count as f64) } else { T::zero() };
        z.constant(Tensor::from_vec(&[rows, rows], mask.into_iter().map(|m| m * w).collect()))
    };
    let squared = pair_distances(z, Distance::Squared);
    let pull = (squared * weight(positive, positives)).sum();
    let hinge = (-pair_distances(z, distance) + T::of(margin)).relu();
    let hinge = if distance == Distance::Euclidean { hinge.square() } else { hinge };
    pull + (hinge * weight(negative, negatives)).sum()
}

/// A siamese encoder trained with [`contrastive_loss`] on two views of every image.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{Contrastive, Distance, Method, Positives};
///
/// let method = Contrastive::<f64>::default();
/// assert_eq!((method.positives, method.margin, method.distance), (Positives::Views, 1.0, Distance::Euclidean));
/// // Without a projector the loss reads the encoder's features: no heads.
/// assert!(method.heads().is_empty());
/// assert_eq!(method.name(), "contrastive");
/// ```
pub struct Contrastive<T: Float> {
    /// Which rows are positives.
    pub positives: Positives,
    /// `eps`, in the units of `distance` (embeddings are unit vectors: at most 2 apart).
    pub margin: f64,
    /// Where the hinge acts: on the distance (Hadsell et al.) or its square.
    pub distance: Distance,
    /// `Linear -> batch-norm -> ReLU -> Linear` between the encoder and the loss, or `None`
    /// for the loss on the encoder's features themselves.
    pub projector: Option<Sequential<T>>,
}

impl<T: Float> Default for Contrastive<T> {
    /// Positives are views, margin 1, Euclidean hinge, no projector.
    fn default() -> Self {
        Contrastive { positives: Positives::Views, margin: 1.0, distance: Distance::Euclidean, projector: None }
    }
}

impl<T: Float> Contrastive<T> {
    /// The same, with the loss on projections `features -> hidden -> projection`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Contrastive, Method};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let method = Contrastive::default().with_projector(3, 8, 2);
    /// assert_eq!(method.heads().iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec!["projector"]);
    /// // The projector's last layer maps the hidden 8 units to the 2-d projection.
    /// let (params, _) = initial(&encoder, &method, 0);
    /// assert_eq!(params.get("head.projector.3.weight").unwrap().shape(), &[8, 2]);
    /// ```
    pub fn with_projector(self, features: usize, hidden: usize, projection: usize) -> Self {
        Contrastive { projector: Some(mlp_head(features, hidden, projection)), ..self }
    }
}

impl<T: Float> Method<T> for Contrastive<T> {
    fn name(&self) -> &'static str {
        "contrastive"
    }

    fn heads(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        self.projector.iter().map(|p| ("projector", p as &dyn Module<T>)).collect()
    }

    fn objective<'t>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        step: &Step<'_, T>,
        ctx: &mut Context<T>,
    ) -> Objective<'t, T> {
        let (views, groups) = two_views(step, self.positives);
        let h = encode(encoder, params, views, ctx);
        let features = l2_normalize_rows(h);
        let z = match &self.projector {
            Some(projector) => l2_normalize_rows(apply_head(projector, "projector", params, h, ctx)),
            None => features,
        };
        Objective {
            loss: contrastive_loss(z, &groups, self.margin, self.distance),
            embeddings: Some((features, groups)),
        }
    }
}
