//! Siamese networks with the margin contrastive loss (Hadsell, Chopra & LeCun 2006; the
//! siamese set-up of Bromley et al. 1993).
//!
//! One encoder `f` (weights tied between the two branches) embeds every row; for a pair with
//! squared distance `d_ij = ||f(x_i) - f(x_j)||^2`,
//!
//! ```text
//! l_ij = 1[y_i = y_j] d_ij + 1[y_i != y_j] max(0, eps - d_ij),
//! ```
//!
//! so positives are pulled together and negatives pushed apart until they are `eps` apart.
//! A batch with `n` positive and `m` negative pairs (`i < j`) has `m >> n` when positives are
//! two views of one image, so the loss averages the two kinds separately and adds them:
//! `L = mean_pos l_ij + mean_neg l_ij`. Embeddings are L2-normalised, so `d_ij` lies in
//! `[0, 4]` and `eps` is on that scale.

use super::{encode, l2_normalize_rows, two_views, Method, Objective, Positives, Step};
use crate::meta::triplet::squared_distances;
use metagrad_autodiff::{Float, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars};

/// The margin contrastive loss of embeddings `z` (`[rows, d]`) with one group id per row;
/// rows of one group are positives. Pairs `i < j`; each kind averaged on its own (a kind
/// with no pair contributes 0).
///
/// # Panics
/// If `groups` does not have one entry per row.
pub fn contrastive_loss<'t, T: Float>(z: Var<'t, T>, groups: &[usize], margin: f64) -> Var<'t, T> {
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
    let d = squared_distances(z, z);
    let pull = (d * weight(positive, positives)).sum();
    let push = ((-d + T::of(margin)).relu() * weight(negative, negatives)).sum();
    pull + push
}

/// A siamese encoder trained with [`contrastive_loss`] on two views of every image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contrastive {
    /// Which rows are positives.
    pub positives: Positives,
    /// `eps`, in squared distance between unit vectors (at most 4).
    pub margin: f64,
}

impl Default for Contrastive {
    fn default() -> Self {
        Contrastive { positives: Positives::Views, margin: 1.0 }
    }
}

impl<T: Float> Method<T> for Contrastive {
    fn name(&self) -> &'static str {
        "contrastive"
    }

    fn objective<'t>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        step: &Step<'_, T>,
        ctx: &mut Context<T>,
    ) -> Objective<'t, T> {
        let (views, groups) = two_views(step, self.positives);
        let z = l2_normalize_rows(encode(encoder, params, views, ctx));
        Objective { loss: contrastive_loss(z, &groups, self.margin), embeddings: Some((z, groups)) }
    }
}
