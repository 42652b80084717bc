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
