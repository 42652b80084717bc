//! Meta-SGD (Li, Zhou, Chen & Li 2017): MAML whose inner learning rate is itself learned, one
//! rate per parameter entry (and, as an option, per inner step).
//!
//! The inner step becomes
//!
//! ```text
//! theta_{i+1} = theta_i - rho_i (.) grad L_S(theta_i),
//! ```
//!
//! with `rho_i` a tensor shaped like `theta` (the same `rho` for every step unless per-step
//! rates are asked for), and `(theta, rho)` are meta-learned together from the query loss
//! `L_Q(theta_k)`. The gradient with respect to a rate follows from the chain rule,
//! `d L_Q / d rho_i = -grad L_S(theta_i) (.) g_{i+1}` with `g_{i+1}` the cotangent of
//! `theta_{i+1}`, and the tape computes it along with the rest of MAML's meta-gradient.
//! Rates may turn negative: the paper notes that learned rates set direction as well as size.
//!
//! The inner loop itself is [`Maml`]'s; this file holds the rates.

use super::{Maml, EXTRA_PREFIX};
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::Params;

/// Learned inner rates: their layout and initial value.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedRates {
    /// One rate tensor per inner step instead of one shared by all steps.
    pub per_step: bool,
    /// The initial value of every rate.
    pub init: f64,
}

impl LearnedRates {
    /// The name of the rate for parameter `param` at inner step `step` of `steps`. Steps past
    /// the trained ones (a longer loop at test time) reuse the last step's rates.
    pub fn name(&self, step: usize, steps: usize, param: &str) -> String {
        if self.per_step {
            format!("{EXTRA_PREFIX}lr.{}.{param}", step.min(steps.saturating_sub(1)))
        } else {
            format!("{EXTRA_PREFIX}lr.{param}")
        }
    }

    /// Rates, all `init`, for every parameter of `model` that `adapts`.
    pub fn init<T: Float>(&self, model: &Params<T>, steps: usize, adapts: impl Fn(&str) -> bool) -> Params<T> {
        let mut rates = Params::new();
        let layers = if self.per_step { steps.max(1) } else { 1 };
        for step in 0..layers {
            for (name, value) in model.iter().filter(|(n, _)| adapts(n)) {
                rates.insert(self.name(step, steps, name), Tensor::full(value.shape(), T::of(self.init)));
            }
        }
        rates
    }
}

/// Meta-SGD with `inner_steps` steps, rates starting at `init_lr`, shared across steps unless
/// `per_step`.
pub fn meta_sgd(inner_steps: usize, init_lr: f64, per_step: bool) -> Maml {
    Maml { learned_rates: Some(LearnedRates { per_step, init: init_lr }), ..Maml::new(inner_steps, init_lr) }
}
