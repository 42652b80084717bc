//! Triplet networks (Hoffer & Ailon 2015; the triplet loss of Schroff, Kalenichenko & Philbin
//! 2015), as a few-shot method.
//!
//! An encoder `f` is trained so that an anchor is closer to a positive (same class) than to a
//! negative (another class) by a margin `m` in squared Euclidean distance:
//!
//! ```text
//! L = mean over (a, p, n) of max(0, ||f(a) - f(p)||^2 - ||f(a) - f(n)||^2 + m).
//! ```
//!
//! In each episode every query is an anchor, and the positives and negatives are the support
//! examples of its own and of the other classes (all triplets, no mining). A query is
//! classified by the class whose support examples are nearest on average (with one shot, its
//! nearest neighbour in embedding space).

use super::inner::{class_counts, embed};
use super::siamese::same_class;
use super::{Batch, Episode, MetaMethod, Target, TaskGradient};
use metagrad_autodiff::{one_hot, Float, Tape, Tensor, Var};
use metagrad_nn::{Module, ParamVars, Params};

/// The triplet loss with margin `margin`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{Batch, Episode, MetaMethod, Triplet};
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Params, Sequential};
///
/// // An identity encoder on points of the plane: embeddings are the points themselves.
/// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
/// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
/// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
/// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
/// // The anchor (0, 0) is at squared distance 1 from its positive and 4 from its negative.
/// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 2.0]]), vec![0, 1]);
/// let query = Batch::classification(rows(&[[0.0, 0.0]]), vec![0]);
/// let episode = Episode { support, query };
/// let loss = |margin: f64| Triplet { margin }.task_gradient(&encoder, &meta, &episode).query_loss;
/// // max(0, 1 - 4 + m): satisfied with margin 1, short by 2 with margin 5.
/// assert_eq!(loss(1.0), 0.0);
/// assert!((loss(5.0) - 2.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Triplet {
    /// The margin `m` (in squared distance).
    pub margin: f64,
}

/// Squared Euclidean distances `[n, m]` between the rows of `a` (`[n, d]`) and `b` (`[m, d]`).
pub(crate) fn squared_distances<'t, T: Float>(a: Var<'t, T>, b: Var<'t, T>) -> Var<'t, T> {
    let a_norms = a.square().sum_axes(&[1], true);
    let b_norms = b.square().sum_axes(&[1], true).t();
    a_norms - a.matmul(b.t()) * T::of(2.0) + b_norms
}

impl Triplet {
    /// Distances `[n, support]` from each row of `inputs` to each support example.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, Triplet};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // An identity encoder on points of the plane: embeddings are the points themselves.
    /// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    /// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
    /// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
    /// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]), vec![0, 1, 0]);
    /// let tape = Tape::new();
    /// let d = Triplet { margin: 1.0 }.distances(&encoder, &meta.on(&tape), &support, &rows(&[[0.0, 0.0]])).value();
    /// // Squared distances from the origin: 1, 4 and 9.
    /// assert_eq!(d.shape(), &[1, 3]);
    /// let got = d.to_vec();
    /// assert!([1.0, 4.0, 9.0].iter().zip(&got).all(|(want, g)| (want - g).abs() < 1e-12));
    /// ```
    pub fn distances<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        squared_distances(embed(encoder, all, inputs), embed(encoder, all, &support.inputs))
    }

    /// Class logits `[n, ways]`: minus each class's mean distance to its support examples.
    ///
    /// # Panics
    /// If `support` is not a classification batch, or some class in `0..ways` has no example.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, Triplet};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // An identity encoder on points of the plane: embeddings are the points themselves.
    /// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    /// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
    /// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
    /// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]), vec![0, 1, 0]);
    /// let tape = Tape::new();
    /// let logits = Triplet { margin: 1.0 }.logits(&encoder, &meta.on(&tape), &support, &rows(&[[0.0, 0.0]])).value();
    /// // Class 0's mean distance is (1 + 9) / 2 = 5, class 1's is 4: the nearer class wins.
    /// let got = logits.to_vec();
    /// assert!((got[0] + 5.0).abs() < 1e-12 && (got[1] + 4.0).abs() < 1e-12);
    /// ```
    pub fn logits<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let (labels, ways, inverse_counts) = class_counts(support, "Triplet");
        let d = self.distances(encoder, all, support, inputs);
        -(d.matmul(d.constant(one_hot::<T>(labels, ways)))
            * d.constant(Tensor::from_vec(&[1, ways], inverse_counts.to_vec())))
    }
}

/// `mask[q][p][n] = 1` when support example `p` shares query `q`'s class and `n` does not.
fn triplet_mask<T: Float>(same: &Tensor<T>) -> Tensor<T> {
    let (queries, support) = (same.shape()[0], same.shape()[1]);
    let s = same.to_vec();
    let mut mask = Vec::with_capacity(queries * support * support);
    for q in 0..queries {
        for p in 0..support {
            for n in 0..support {
                let valid = s[q * support + p] > T::zero() && s[q * support + n] == T::zero();
                mask.push(if valid { T::one() } else { T::zero() });
            }
        }
    }
    Tensor::from_vec(&[queries, support, support], mask)
}

impl<T: Float> MetaMethod<T> for Triplet {
    fn name(&self) -> &'static str {
        "triplet"
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        let (Target::Classes(query), Target::Classes(support)) = (&episode.query.target, &episode.support.target)
        else {
            panic!("Triplet: episodes must be classification batches");
        };
        let mask = triplet_mask(&same_class::<T>(query, support));
        let count = mask.sum_all();
        assert!(count > T::zero(), "Triplet: an episode needs two classes to form triplets");
        let tape = Tape::new();
        let all = meta.on(&tape);
        let d = self.distances(model, &all, &episode.support, &episode.query.inputs);
        let (n, m) = (d.shape()[0], d.shape()[1]);
        let gap = d.reshape(&[n, m, 1]).broadcast_to(&[n, m, m]) - d.reshape(&[n, 1, m]).broadcast_to(&[n, m, m]);
        let hinge = (gap + T::of(self.margin)).relu();
        let loss = (hinge * tape.constant(mask)).sum() * (T::one() / count);
        TaskGradient { query_loss: loss.item().to_f64().unwrap_or(f64::NAN), grads: all.grad(loss) }
    }

    fn adapted_predictions(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        let tape = Tape::new();
        let prediction = tape.no_grad(|| self.logits(model, &meta.on(&tape), support, inputs).value());
        steps.iter().map(|_| prediction.clone()).collect()
    }
}
