//! Triplet networks with mined triplets: batch-hard (Hermans, Beyer & Leibe 2017) and
//! semi-hard (Schroff, Kalenichenko & Philbin 2015) negatives.
//!
//! For an anchor `a`, a positive `p` (same group) and a negative `n` (another group), with
//! distances `d` (Euclidean, as Hermans et al. recommend, or squared, as in FaceNet),
//!
//! ```text
//! l(a, p, n) = max(0, d(a, p) - d(a, n) + m).
//! ```
//!
//! Most triplets of a batch already satisfy the margin and teach nothing; mining picks the
//! informative ones, from the distances of the current batch:
//!
//! - **batch-hard**: for every anchor, its farthest positive and its nearest negative;
//!   `L = mean_a l(a, p*(a), n*(a))`.
//! - **semi-hard**: for every positive pair `(a, p)`, the nearest negative that is farther than
//!   the positive, `d(a, p) < d(a, n)` (inside the margin, it gives a loss without being the
//!   hardest, which FaceNet found avoids collapse early in training); if no negative is
//!   farther, the farthest negative. `L = mean_(a, p) l(a, p, n*(a, p))`.
//! - **all**: every valid triplet, averaged.
//!
//! Mining only chooses indices; the loss is differentiated through the chosen distances.
//!
//! Training can collapse: every embedding moves to one point, where the loss sits at the
//! margin `m`. With squared distances the gradient vanishes there (the derivative of
//! `||u - v||^2` is zero at `u = v`), which is one reason Hermans et al. use the plain
//! Euclidean distance; Schroff et al. chose semi-hard negatives to avoid collapse early in
//! training. On the synthetic task of `tests/ssl_learns.rs`, with two views per image as the
//! only positives, batch-hard mining collapsed with either distance while semi-hard mining
//! learned. Hermans et al. train batch-hard on P x K batches of labelled classes
//! ([`super::Sampling::ClassBalanced`]).
//! Euclidean distances and semi-hard mining are the defaults.

use super::{encode, l2_normalize_rows, pair_distances, two_views, Distance, Method, Objective, Positives, Step};
use metagrad_autodiff::{Float, Var};
use metagrad_nn::{Context, Module, ParamVars};

/// How triplets are chosen from a batch.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{triplet_loss, Distance, Mining};
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// // Points 0, 1 (group 0) and 3, 4 (group 1) on a line; squared distances, margin 10.
/// let z = tape.constant(Tensor::from_vec(&[4, 1], vec![0.0f64, 1.0, 3.0, 4.0]));
/// let loss = |mining| triplet_loss(z, &[0, 0, 1, 1], 10.0, mining, Distance::Squared).item();
/// // Batch-hard keeps each anchor's nearest negative: gaps 2, 7, 7, 2. All triplets add the
/// // easier far negatives, two of them already past the margin.
/// assert_eq!(loss(Mining::BatchHard), 4.5);
/// assert_eq!(loss(Mining::All), 2.75);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mining {
    /// Farthest positive and nearest negative per anchor.
    BatchHard,
    /// Nearest negative farther than the positive, per positive pair.
    SemiHard,
    /// Every valid triplet.
    All,
}

/// The triplet loss of embeddings `z` (`[rows, d]`) with one group id per row. Anchors without
/// a positive or a negative in the batch are skipped; with no valid triplet the loss is 0.
///
/// # Panics
/// If `groups` does not have one entry per row.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{triplet_loss, Distance, Mining};
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let z = tape.constant(Tensor::from_vec(&[3, 1], vec![0.0f64, 1.0, 3.0]));
/// let loss = |groups: &[usize]| triplet_loss(z, groups, 4.0, Mining::All, Distance::Squared).item();
/// // Anchor 0: 1 - 9 + 4 < 0, no loss; anchor 1: 1 - 4 + 4 = 1; anchor 2 has no positive.
/// assert_eq!(loss(&[0, 0, 1]), 0.5);
/// // One group: no negatives, no triplet, loss 0.
/// assert_eq!(loss(&[0, 0, 0]), 0.0);
/// ```
pub fn triplet_loss<'t, T: Float>(
    z: Var<'t, T>,
    groups: &[usize],
    margin: f64,
    mining: Mining,
    distance: Distance,
) -> Var<'t, T> {
    let rows = z.shape()[0];
    assert_eq!(groups.len(), rows, "triplet_loss: {} groups for {rows} rows", groups.len());
    let d = pair_distances(z, distance);
    let values: Vec<f64> = d.value().to_vec().iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).collect();
    let at = |i: usize, j: usize| values[i * rows + j];
    let positives = |a: usize| (0..rows).filter(move |&p| p != a && groups[p] == groups[a]);
    let negatives = |a: usize| (0..rows).filter(move |&n| groups[n] != groups[a]);
    // (anchor, positive, negative) triplets, as flat indices into d.
    let mut triplets: Vec<(usize, usize)> = Vec::new();
    for a in 0..rows {
        if negatives(a).next().is_none() {
            continue;
        }
        let by = |f: fn(f64, f64) -> bool, items: &mut dyn Iterator<Item = usize>| {
            items.fold(None, |best: Option<usize>, k| match best {
                Some(b) if !f(at(a, k), at(a, b)) => Some(b),
                _ => Some(k),
            })
        };
        match mining {
            Mining::BatchHard => {
                if let Some(p) = by(|x, y| x > y, &mut positives(a)) {
                    let n = by(|x, y| x < y, &mut negatives(a)).expect("checked");
                    triplets.push((a * rows + p, a * rows + n));
                }
            }
            Mining::SemiHard => {
                for p in positives(a) {
                    let farther = by(|x, y| x < y, &mut negatives(a).filter(|&n| at(a, n) > at(a, p)));
                    let n = farther.or_else(|| by(|x, y| x > y, &mut negatives(a))).expect("checked");
                    triplets.push((a * rows + p, a * rows + n));
                }
            }
            Mining::All => {
                for p in positives(a) {
                    triplets.extend(negatives(a).map(|n| (a * rows + p, a * rows + n)));
                }
            }
        }
    }
    if triplets.is_empty() {
        return d.sum() * T::zero();
    }
    let flat = d.reshape(&[rows * rows]);
    let (ap, an): (Vec<usize>, Vec<usize>) = triplets.into_iter().unzip();
    let gap = flat.index_select(0, &ap) - flat.index_select(0, &an);
    (gap + T::of(margin)).relu().mean()
}

/// An encoder trained with [`triplet_loss`] on two views of every image.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{Distance, Method, Mining, TripletNet};
///
/// let net = TripletNet::default();
/// assert_eq!((net.margin, net.mining, net.distance), (0.5, Mining::SemiHard, Distance::Euclidean));
/// // The loss acts on the encoder's features directly.
/// assert!(Method::<f64>::heads(&net).is_empty());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TripletNet {
    /// Which rows are positives.
    pub positives: Positives,
    /// The margin `m`, in the units of `distance` between unit vectors.
    pub margin: f64,
    /// How triplets are chosen.
    pub mining: Mining,
    /// Euclidean or squared distances.
    pub distance: Distance,
}

impl Default for TripletNet {
    fn default() -> Self {
        TripletNet { positives: Positives::Views, margin: 0.5, mining: Mining::SemiHard, distance: Distance::Euclidean }
    }
}

impl<T: Float> Method<T> for TripletNet {
    fn name(&self) -> &'static str {
        "triplet"
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
        Objective {
            loss: triplet_loss(z, &groups, self.margin, self.mining, self.distance),
            embeddings: Some((z, groups)),
        }
    }
}
