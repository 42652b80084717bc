//! Elastic weight consolidation (Kirkpatrick et al. 2017) and online EWC (Schwarz et al.
//! 2018).
//!
//! After task `A`, the posterior over the weights is approximated by a Gaussian centred at the
//! trained weights `theta*_A` with precision the diagonal of the Fisher information, so
//! training on task `B` minimises
//!
//! ```text
//! L(theta) = L_B(theta) + sum_i lambda/2 F_i (theta_i - theta*_A,i)^2,
//! F_i = E_x E_{y ~ p_theta(y|x)} [ (d log p_theta(y|x) / d theta_i)^2 ]   at theta*_A.
//! ```
//!
//! The *true* Fisher samples `y` from the model's own predictive distribution (one label per
//! input); the *empirical* Fisher uses the data's labels instead (Martens 2020 explains why
//! the two differ). Either way each example's gradient is squared on its own
//! ([`super::importance`]).
//!
//! EWC keeps one penalty per earlier task. Online EWC keeps one: after each task
//! `F <- gamma F + F_t` and the anchor moves to the newest weights, so memory does not grow
//! with the number of tasks. (Schwarz et al. also scale the penalty by `gamma`; here that
//! factor is left to `lambda`.)

use super::penalty::Anchor;
use super::{Classifier, ExampleLoss, Labelled, Moment, Strategy, TaskContext};
use metagrad_autodiff::{Float, Tape, Var};
use metagrad_nn::{Context, ParamVars, Params};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::Rng;

/// Which labels the Fisher's gradients use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FisherKind {
    /// Labels sampled from the model's predictive distribution (the Fisher information).
    True,
    /// The data's labels (the empirical Fisher).
    Empirical,
}

/// EWC, or online EWC with [`Ewc::online`].
#[derive(Clone, Debug)]
pub struct Ewc<T: Float> {
    /// `lambda`, the penalty's strength.
    pub lambda: f64,
    /// Training examples per Fisher estimate.
    pub samples: usize,
    /// True or empirical Fisher.
    pub kind: FisherKind,
    /// `Some(gamma)`: online EWC with decay `gamma`.
    pub gamma: Option<f64>,
    anchors: Vec<Anchor<T>>,
}

impl<T: Float> Ewc<T> {
    /// EWC with strength `lambda`, the true Fisher over 1,000 examples.
    pub fn new(lambda: f64) -> Self {
        Ewc { lambda, samples: 1000, kind: FisherKind::True, gamma: None, anchors: Vec::new() }
    }

    /// Online EWC with decay `gamma` (1 sums the Fishers of all tasks).
    pub fn online(mut self, gamma: f64) -> Self {
        self.gamma = Some(gamma);
        self
    }

    /// The empirical Fisher instead of the true one.
    pub fn empirical(mut self) -> Self {
        self.kind = FisherKind::Empirical;
        self
    }

    /// The anchors held now (one per earlier task; one in all for online EWC).
    pub fn anchors(&self) -> &[Anchor<T>] {
        &self.anchors
    }
}

/// The diagonal Fisher of `model` at `params` over `examples`, with the softmax over `head`.
pub fn fisher<T: Float>(
    model: &dyn Classifier<T>,
    params: &Params<T>,
    examples: &Labelled<T>,
    head: &[usize],
    kind: FisherKind,
    rng: &mut StdRng,
) -> Params<T> {
    let labels = match kind {
        FisherKind::Empirical => examples.labels.clone(),
        FisherKind::True => {
            let tape = Tape::new();
            let probs = tape.no_grad(|| {
                let out = model.forward(
                    &params.on(&tape),
                    tape.constant(examples.inputs.clone()),
                    &mut Context::eval(Params::new()),
                );
                super::head_logits(out, head).softmax(1).value()
            });
            let probs = probs.to_vec();
            probs
                .chunks(head.len())
                .map(|p| {
                    let u: f64 = rng.gen();
                    let mut total = 0.0;
                    let k = p
                        .iter()
                        .position(|&q| {
                            total += q.to_f64().unwrap_or(0.0);
                            u < total
                        })
                        .unwrap_or(head.len() - 1);
                    head[k]
                })
                .collect()
        }
    };
    model.per_example_moments(
        params,
        &examples.inputs,
        &ExampleLoss::CrossEntropy { head: head.to_vec(), labels },
        Moment::Square,
    )
}

/// Up to `count` distinct training examples of the current task.
pub(crate) fn subsample<T: Float>(examples: &Labelled<T>, count: usize, rng: &mut StdRng) -> Labelled<T> {
    let count = count.min(examples.len());
    examples.select(&sample(rng, examples.len(), count).into_vec())
}

impl<T: Float> Strategy<T> for Ewc<T> {
    fn name(&self) -> String {
        if self.gamma.is_some() { "online-ewc" } else { "ewc" }.into()
    }

    fn penalty<'t>(
        &self,
        _: &dyn Classifier<T>,
        params: &ParamVars<'t, T>,
        _: Var<'t, T>,
        _: &TaskContext<'_, T>,
    ) -> Option<Var<'t, T>> {
        self.anchors.iter().map(|a| a.penalty(params, self.lambda)).reduce(|a, b| a + b)
    }

    fn end_task(&mut self, model: &dyn Classifier<T>, params: &Params<T>, cx: &TaskContext<'_, T>, rng: &mut StdRng) {
        let examples = subsample(&cx.tasks[cx.task].train, self.samples, rng);
        let f = fisher(model, params, &examples, &cx.head(cx.task), self.kind, rng);
        match (self.gamma, self.anchors.pop()) {
            (Some(gamma), Some(old)) => {
                let importance = old.importance.map(|t| t.map(|v| v * T::of(gamma))).axpy(T::one(), &f);
                self.anchors.push(Anchor { reference: params.clone(), importance });
            }
            (_, old) => {
                self.anchors.extend(old);
                self.anchors.push(Anchor { reference: params.clone(), importance: f });
            }
        }
    }
}
