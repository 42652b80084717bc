//! Prototypical networks (Snell, Swersky & Zemel 2017).
//!
//! An encoder `f_phi` embeds every example. Each class `k` of an episode is represented by the
//! mean embedding of its support examples, its *prototype*
//!
//! ```text
//! c_k = (1 / |S_k|) sum_{(x, y) in S, y = k} f_phi(x),
//! ```
//!
//! and a query `x` is classified by a softmax over negative squared Euclidean distances,
//!
//! ```text
//! p(y = k | x) = exp(-||f_phi(x) - c_k||^2) / sum_k' exp(-||f_phi(x) - c_k'||^2).
//! ```
//!
//! Meta-training minimises the query cross-entropy with respect to `phi`. Snell et al. show
//! that with squared Euclidean distance the classifier is linear in the embedding (a mixture
//! density estimate with an exponential-family density), which is why the plain mean is the
//! right prototype. There is no inner loop: "steps" mean nothing here, as for R2D2.
//!
//! The distances are computed as `||q||^2 - 2 q . c + ||c||^2`, one matrix product for all
//! query-prototype pairs.

use super::inner::{class_counts, closed_form_gradient, closed_form_predictions, embed, ClosedForm};
use super::{Batch, Episode, MetaMethod, TaskGradient};
use metagrad_autodiff::{one_hot, Float, Tensor, Var};
use metagrad_nn::{Module, ParamVars, Params};

/// Prototypical networks with squared Euclidean distance.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{Batch, Episode, MetaMethod, ProtoNet};
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Params, Sequential};
///
/// // An identity encoder on points of the plane: embeddings are the points themselves.
/// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
/// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
/// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
/// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
/// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 0.2]]), vec![0, 1, 0]);
/// let query = Batch::classification(rows(&[[0.5, 0.5], [2.0, 0.0]]), vec![1, 0]);
/// let episode = Episode { support, query };
/// // The training loss is the query cross-entropy of the prototype logits, and every encoder
/// // parameter gets a gradient.
/// let task = ProtoNet.task_gradient(&encoder, &meta, &episode);
/// let logits = &ProtoNet.adapted_predictions(&encoder, &meta, &episode.support, &episode.query.inputs, &[0])[0];
/// assert!((task.query_loss - episode.query.loss_value(logits)).abs() < 1e-12);
/// assert_eq!(task.grads.names().collect::<Vec<_>>(), vec!["0.weight"]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProtoNet;

impl ProtoNet {
    /// Logits `-||f(x) - c_k||^2` for `inputs` (`[n, ways]`), with prototypes from `support`, on
    /// the tape of `params`.
    ///
    /// # Panics
    /// If `support` is not a classification batch, or some class in `0..ways` has no example.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, ProtoNet};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // An identity encoder on points of the plane: embeddings are the points themselves.
    /// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    /// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
    /// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
    /// // Class 0 at (0, 0) and (2, 0): prototype (1, 0). Class 1 at (0, 2): prototype (0, 2).
    /// let support = Batch::classification(rows(&[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]), vec![0, 0, 1]);
    /// let tape = Tape::new();
    /// let logits = ProtoNet.logits(&encoder, &meta.on(&tape), &support, &rows(&[[1.0, 1.0]])).value();
    /// // The query (1, 1) is at squared distance 1 from the first prototype and 1 + 1 from the second.
    /// assert_eq!(logits.shape(), &[1, 2]);
    /// let got = logits.to_vec();
    /// assert!((got[0] + 1.0).abs() < 1e-12 && (got[1] + 2.0).abs() < 1e-12);
    /// ```
    pub fn logits<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let tape = params.vars()[0].tape();
        let (labels, ways, inverse_counts) = class_counts(support, "ProtoNet");
        let support_embedding = embed(encoder, params, &support.inputs);
        // Class means: (one-hot^T E) / counts, as one product.
        let membership = tape.constant(one_hot::<T>(labels, ways));
        let prototypes = membership.t().matmul(support_embedding) * tape.constant(inverse_counts);
        let queries = embed(encoder, params, inputs);
        let query_norms = queries.square().sum_axes(&[1], true);
        let prototype_norms = prototypes.square().sum_axes(&[1], true).t();
        let cross = queries.matmul(prototypes.t());
        -(query_norms - cross * T::of(2.0) + prototype_norms)
    }
}

impl<T: Float> MetaMethod<T> for ProtoNet {
    fn name(&self) -> &'static str {
        "protonet"
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

impl<T: Float> ClosedForm<T> for ProtoNet {
    fn predict_on_tape<'t>(
        &self,
        model: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        self.logits(model, all, support, inputs)
    }
}
