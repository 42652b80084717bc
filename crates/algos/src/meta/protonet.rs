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

use super::inner::{closed_form_gradient, closed_form_predictions, ClosedForm};
use super::{Batch, Episode, MetaMethod, Target, TaskGradient};
use metagrad_autodiff::{one_hot, Float, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars, Params};

/// Prototypical networks with squared Euclidean distance.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProtoNet;

impl ProtoNet {
    /// Logits `-||f(x) - c_k||^2` for `inputs` (`[n, ways]`), with prototypes from `support`, on
    /// the tape of `params`.
    ///
    /// # Panics
    /// If `support` is not a classification batch, or some class in `0..ways` has no example.
    pub fn logits<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let Target::Classes(labels) = &support.target else {
            panic!("ProtoNet: the support set must be a classification batch");
        };
        let tape = params.vars()[0].tape();
        let ways = labels.iter().max().map_or(0, |m| m + 1);
        let counts: Vec<T> = (0..ways).map(|k| T::of(labels.iter().filter(|&&l| l == k).count() as f64)).collect();
        assert!(counts.iter().all(|&c| c > T::zero()), "ProtoNet: every class 0..{ways} needs a support example");
        let embed = |x: &Tensor<T>| {
            let e = encoder.forward(params, tape.constant(x.clone()), &mut Context::transductive(0));
            let n = e.shape()[0];
            e.reshape(&[n, e.len() / n.max(1)])
        };
        let support_embedding = embed(&support.inputs);
        // Class means: (one-hot^T E) / counts, as one product.
        let membership = tape.constant(one_hot::<T>(labels, ways));
        let inverse_counts =
            tape.constant(Tensor::from_vec(&[ways, 1], counts.iter().map(|&c| T::one() / c).collect()));
        let prototypes = membership.t().matmul(support_embedding) * inverse_counts;
        let queries = embed(inputs);
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
