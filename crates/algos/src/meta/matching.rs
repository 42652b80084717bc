//! Matching networks (Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra 2016).
//!
//! A query `x` is labelled by attention over the support set `S = {(x_i, y_i)}`:
//!
//! ```text
//! P(y = k | x, S) = sum_i a(x, x_i) 1[y_i = k],
//! a(x, x_i)       = exp(c(f(x), g(x_i))) / sum_j exp(c(f(x), g(x_j))),
//! ```
//!
//! where `c` is the cosine similarity. Here `f = g` is one encoder (the paper's embedding
//! without full-context embeddings: the bidirectional LSTM over the support set and the
//! attention LSTM over the query are not implemented). Meta-training minimises
//! `-log P(y | x, S)` on the queries. The predictions are the log-probabilities `log P`, so
//! the usual cross-entropy of [`Batch::loss`] is exactly this negative log-likelihood (a
//! softmax of log-probabilities that sum to one gives them back).

use super::inner::{class_counts, closed_form_gradient, closed_form_predictions, embed, ClosedForm};
use super::{Batch, Episode, MetaMethod, TaskGradient};
use metagrad_autodiff::{one_hot, Float, Tensor, Var};
use metagrad_nn::{Module, ParamVars, Params};

/// Matching networks with cosine attention and a shared encoder.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{evaluate, Batch, Episode, MatchingNet};
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Params, Sequential};
///
/// // An identity encoder on points of the plane: embeddings are the points themselves.
/// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
/// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
/// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
/// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
/// // Class 0 points along x, class 1 along y; each query lies close to one axis.
/// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 1.0]]), vec![0, 1]);
/// let query = Batch::classification(rows(&[[3.0, 0.5], [0.2, 2.0]]), vec![0, 1]);
/// let scores = evaluate(&MatchingNet, &encoder, &meta, &[Episode { support, query }], &[0]);
/// assert_eq!(scores[0].mean, 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MatchingNet;

/// Rows divided by their L2 norm (with a small floor, so a zero embedding stays finite).
pub(crate) fn unit_rows<'t, T: Float>(x: Var<'t, T>) -> Var<'t, T> {
    x / (x.square().sum_axes(&[1], true) + T::of(1e-8)).sqrt()
}

impl MatchingNet {
    /// `log P(y = k | x, S)` for each row of `inputs` (`[n, ways]`), on the tape of `params`.
    ///
    /// # Panics
    /// If `support` is not a classification batch, or some class in `0..ways` has no example.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, MatchingNet};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // An identity encoder on points of the plane: embeddings are the points themselves.
    /// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    /// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
    /// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
    /// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 1.0]]), vec![0, 1]);
    /// let tape = Tape::new();
    /// let log_p = MatchingNet.log_probs(&encoder, &meta.on(&tape), &support, &rows(&[[2.0, 0.0]])).value().to_vec();
    /// // Cosines 1 and 0 with the two support points: attention e / (e + 1) and 1 / (e + 1)
    /// // (up to the small floor under each norm).
    /// let e = 1f64.exp();
    /// assert!((log_p[0] - (e / (e + 1.0)).ln()).abs() < 1e-6, "{log_p:?}");
    /// assert!((log_p[1] - (1.0 / (e + 1.0)).ln()).abs() < 1e-6, "{log_p:?}");
    /// ```
    pub fn log_probs<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let (labels, ways, _) = class_counts(support, "MatchingNet");
        let keys = unit_rows(embed(encoder, params, &support.inputs));
        let queries = unit_rows(embed(encoder, params, inputs));
        let attention = queries.matmul(keys.t()).softmax(1); // [n, support]
        let probs = attention.matmul(keys.constant(one_hot::<T>(labels, ways)));
        (probs + T::of(1e-12)).log()
    }
}

impl<T: Float> MetaMethod<T> for MatchingNet {
    fn name(&self) -> &'static str {
        "matching"
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        closed_form_gradient(self, model, meta, episode)
    }

    fn adapted_predictions(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        closed_form_predictions(self, model, meta, support, inputs, steps)
    }
}

impl<T: Float> ClosedForm<T> for MatchingNet {
    fn predict_on_tape<'t>(
        &self,
        model: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        self.log_probs(model, all, support, inputs)
    }
}
