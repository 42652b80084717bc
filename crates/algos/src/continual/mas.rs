//! Memory aware synapses (Aljundi et al. 2018).
//!
//! A parameter matters if the function the network computes is sensitive to it, whatever the
//! labels:
//!
//! ```text
//! Omega_i = mean_x | d ||f(x)||^2 / d theta_i |,
//! L(theta) = L_t(theta) + sum_i lambda/2 Omega_i (theta_i - theta*_i)^2,
//! ```
//!
//! with `f(x)` the outputs of the head (before the softmax). (The paper writes the penalty
//! with `lambda`, not `lambda/2`: our `lambda` is twice theirs.) No labels are needed, so `Omega`
//! could be measured on any unlabelled data; here it is measured on the task's training
//! inputs. The importances of successive tasks add up and the anchor moves to the newest
//! weights, as in the paper.

use super::ewc::subsample;
use super::penalty::Anchor;
use super::{Classifier, ExampleLoss, Moment, Strategy, TaskContext};
use metagrad_autodiff::{Float, Var};
use metagrad_nn::{ParamVars, Params};
use rand::rngs::StdRng;

/// MAS with strength `lambda`.
#[derive(Clone, Debug)]
pub struct Mas<T: Float> {
    /// The penalty's strength.
    pub lambda: f64,
    /// Inputs per importance estimate.
    pub samples: usize,
    anchor: Option<Anchor<T>>,
}

impl<T: Float> Mas<T> {
    /// MAS with strength `lambda`, importance over 1,000 inputs.
    pub fn new(lambda: f64) -> Self {
        Mas { lambda, samples: 1000, anchor: None }
    }

    /// The anchor (after the first task).
    pub fn anchor(&self) -> Option<&Anchor<T>> {
        self.anchor.as_ref()
    }
}

/// `mean_x |d ||f(x)||^2 / d theta|` over `inputs`, `f` the outputs of `head`.
pub fn importance<T: Float>(
    model: &dyn Classifier<T>,
    params: &Params<T>,
    inputs: &metagrad_autodiff::Tensor<T>,
    head: &[usize],
) -> Params<T> {
    model.per_example_moments(params, inputs, &ExampleLoss::SquaredNorm { head: head.to_vec() }, Moment::Abs)
}

impl<T: Float> Strategy<T> for Mas<T> {
    fn name(&self) -> String {
        "mas".into()
    }

    fn penalty<'t>(
        &self,
        _: &dyn Classifier<T>,
        params: &ParamVars<'t, T>,
        _: Var<'t, T>,
        _: &TaskContext<'_, T>,
    ) -> Option<Var<'t, T>> {
        self.anchor.as_ref().map(|a| a.penalty(params, self.lambda))
    }

    fn end_task(&mut self, model: &dyn Classifier<T>, params: &Params<T>, cx: &TaskContext<'_, T>, rng: &mut StdRng) {
        let inputs = subsample(&cx.tasks[cx.task].train, self.samples, rng).inputs;
        let omega = importance(model, params, &inputs, &cx.head(cx.task));
        let importance = match self.anchor.take() {
            Some(old) => old.importance.axpy(T::one(), &omega),
            None => omega,
        };
        self.anchor = Some(Anchor { reference: params.clone(), importance });
    }
}
