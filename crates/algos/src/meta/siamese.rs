//! Siamese networks for one-shot recognition (Koch, Zemel & Salakhutdinov 2015).
//!
//! Two copies of one encoder `f` (weights tied) embed a pair of images, and the probability
//! that they show the same class is a logistic regression on the component-wise distance:
//!
//! ```text
//! p(x_i, x_j) = sigmoid(w . |f(x_i) - f(x_j)| + b).
//! ```
//!
//! Training pairs come from each episode: every (query, support) pair, labelled 1 when the
//! classes match. The binary cross-entropy averages the matching and the non-matching pairs
//! separately and weighs the two halves equally (an N-way episode has N - 1 non-matching pairs
//! per matching one). A query is classified by its best match: the class whose support
//! examples have the highest mean logit (with one shot, the single best pair).
//!
//! Koch et al. use a larger convolutional network on 105x105 images; here the encoder is the
//! caller's (conv-4 on 28x28 Omniglot). `w` and `b` are method parameters
//! (`"meta.siamese.weight"`, `[features, 1]`, and `"meta.siamese.bias"`), starting at
//! `w = -1 / features`, `b = 1`, so that initial logits are near zero and larger distances
//! already mean "different".

use super::inner::{class_counts, embed};
use super::{Batch, Episode, MetaMethod, Target, TaskGradient, EXTRA_PREFIX};
use metagrad_autodiff::{one_hot, Float, Tape, Tensor, Var};
use metagrad_nn::{Module, ParamVars, Params};

/// Siamese networks on an encoder with `features` outputs.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{MetaMethod, Siamese};
/// use metagrad_nn::Params;
///
/// // The pair head starts at w = -1 / features, b = 1.
/// let extra = Siamese { features: 4 }.init_extra(&Params::<f64>::new());
/// assert_eq!(extra.get("meta.siamese.weight").unwrap().to_vec(), vec![-0.25; 4]);
/// assert_eq!(extra.get("meta.siamese.bias").unwrap().item(), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Siamese {
    /// The encoder's output size (64 for conv-4).
    pub features: usize,
}

impl Siamese {
    /// Logits `w . |f(x_q) - f(x_s)| + b` of every (row of `inputs`, support example) pair,
    /// `[n, support]`, on the tape of `all`.
    ///
    /// # Panics
    /// If the encoder's output width is not `self.features`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, MetaMethod, Siamese};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // An identity encoder on points of the plane: embeddings are the points themselves.
    /// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    /// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
    /// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
    /// let siamese = Siamese { features: 2 };
    /// let mut all = meta.clone();
    /// for (name, value) in siamese.init_extra(&meta).iter() {
    ///     all.insert(name, value.clone());
    /// }
    /// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 1.0], [3.0, 1.0]]), vec![0, 1, 0]);
    /// let tape = Tape::new();
    /// let logits = siamese.pair_logits(&encoder, &all.on(&tape), &support, &rows(&[[1.0, 0.0]])).value();
    /// // At the initial head, a logit is 1 - (|dx| + |dy|) / 2: distances 0, 2 and 3 here.
    /// assert_eq!(logits.shape(), &[1, 3]);
    /// assert_eq!(logits.to_vec(), vec![1.0, 0.0, -0.5]);
    /// ```
    pub fn pair_logits<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let keys = embed(encoder, all, &support.inputs);
        let queries = embed(encoder, all, inputs);
        let (n, m, d) = (queries.shape()[0], keys.shape()[0], keys.shape()[1]);
        assert_eq!(
            d, self.features,
            "Siamese: the encoder gives {d} features, the method was made for {}",
            self.features
        );
        let distance = (queries.reshape(&[n, 1, d]).broadcast_to(&[n, m, d])
            - keys.reshape(&[1, m, d]).broadcast_to(&[n, m, d]))
        .abs();
        let head = all.scoped(&format!("{EXTRA_PREFIX}siamese"));
        distance.reshape(&[n * m, d]).matmul(head.get("weight")).reshape(&[n, m]) + head.get("bias")
    }

    /// Class logits `[n, ways]`: each class's mean pair logit over its support examples.
    ///
    /// # Panics
    /// If `support` is not a classification batch, or some class in `0..ways` has no example.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, MetaMethod, Siamese};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // An identity encoder on points of the plane: embeddings are the points themselves.
    /// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    /// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
    /// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
    /// let siamese = Siamese { features: 2 };
    /// let mut all = meta.clone();
    /// for (name, value) in siamese.init_extra(&meta).iter() {
    ///     all.insert(name, value.clone());
    /// }
    /// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 1.0], [3.0, 1.0]]), vec![0, 1, 0]);
    /// let tape = Tape::new();
    /// let logits = siamese.logits(&encoder, &all.on(&tape), &support, &rows(&[[1.0, 0.0]])).value();
    /// // Pair logits 1, 0, -0.5 (see `pair_logits`); class 0 averages its two, 1 and -0.5.
    /// assert_eq!(logits.to_vec(), vec![0.25, 0.0]);
    /// ```
    pub fn logits<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let (labels, ways, inverse_counts) = class_counts(support, "Siamese");
        let pairs = self.pair_logits(encoder, all, support, inputs);
        pairs.matmul(pairs.constant(one_hot::<T>(labels, ways)))
            * pairs.constant(Tensor::from_vec(&[1, ways], inverse_counts.to_vec()))
    }
}

/// `same[q][s] = 1[query label q = support label s]` as a `[queries, support]` tensor.
pub(crate) fn same_class<T: Float>(query: &[usize], support: &[usize]) -> Tensor<T> {
    let values = query.iter().flat_map(|&q| support.iter().map(move |&s| if q == s { T::one() } else { T::zero() }));
    Tensor::from_vec(&[query.len(), support.len()], values.collect())
}

fn classes<'b, T: Float>(batch: &'b Batch<T>, who: &str) -> &'b [usize] {
    match &batch.target {
        Target::Classes(labels) => labels,
        Target::Values(_) => panic!("{who}: episodes must be classification batches"),
    }
}

impl<T: Float> MetaMethod<T> for Siamese {
    fn name(&self) -> &'static str {
        "siamese"
    }

    fn init_extra(&self, _model: &Params<T>) -> Params<T> {
        let mut extra = Params::new();
        extra.insert(
            format!("{EXTRA_PREFIX}siamese.weight"),
            Tensor::full(&[self.features, 1], T::of(-1.0 / self.features as f64)),
        );
        extra.insert(format!("{EXTRA_PREFIX}siamese.bias"), Tensor::scalar(T::one()));
        extra
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        let same: Tensor<T> = same_class(classes(&episode.query, "Siamese"), classes(&episode.support, "Siamese"));
        let positives = same.sum_all().to_f64().unwrap_or(0.0);
        let negatives = same.len() as f64 - positives;
        let half = |count: f64| if count > 0.0 { T::of(0.5 / count) } else { T::zero() };
        let weights = same.map(|s| if s > T::zero() { half(positives) } else { half(negatives) });
        let tape = Tape::new();
        let all = meta.on(&tape);
        let logits = self.pair_logits(model, &all, &episode.support, &episode.query.inputs);
        let bce = logits.softplus() - tape.constant(same) * logits;
        let loss = (bce * tape.constant(weights)).sum();
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
