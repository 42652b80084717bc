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
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::meta_sgd::LearnedRates;
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let model = Params::from_pairs([("0.weight".to_string(), Tensor::<f64>::zeros(&[2, 3]))]);
/// // Shared across steps: one rate tensor per parameter, shaped like it, all at `init`.
/// let rates = LearnedRates { per_step: false, init: 0.4 }.init(&model, 5, |_| true);
/// assert_eq!(rates.len(), 1);
/// let rate = rates.get("meta.lr.0.weight").unwrap();
/// assert_eq!(rate.shape(), &[2, 3]);
/// assert!(rate.to_vec().iter().all(|&r| r == 0.4));
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::meta_sgd::LearnedRates;
    ///
    /// let shared = LearnedRates { per_step: false, init: 0.1 };
    /// assert_eq!(shared.name(0, 2, "0.weight"), shared.name(1, 2, "0.weight"));
    /// let per_step = LearnedRates { per_step: true, init: 0.1 };
    /// assert_eq!(per_step.name(0, 2, "0.weight"), "meta.lr.0.0.weight");
    /// // Step 7 of a two-step schedule falls back on the last trained step's rates.
    /// assert_eq!(per_step.name(7, 2, "0.weight"), "meta.lr.1.0.weight");
    /// ```
    pub fn name(&self, step: usize, steps: usize, param: &str) -> String {
        if self.per_step {
            format!("{EXTRA_PREFIX}lr.{}.{param}", step.min(steps.saturating_sub(1)))
        } else {
            format!("{EXTRA_PREFIX}lr.{param}")
        }
    }

    /// Rates, all `init`, for every parameter of `model` that `adapts`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::meta_sgd::LearnedRates;
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let model = Params::from_pairs(["0.weight", "2.weight"].map(|n| (n.to_string(), Tensor::<f64>::zeros(&[3]))));
    /// // Per step over three steps, for the parameters of part 2 only: three rate tensors.
    /// let rates = LearnedRates { per_step: true, init: 0.01 }.init(&model, 3, |n| n.starts_with("2."));
    /// let names: Vec<&str> = rates.names().collect();
    /// assert_eq!(names, vec!["meta.lr.0.2.weight", "meta.lr.1.2.weight", "meta.lr.2.2.weight"]);
    /// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::meta_sgd::meta_sgd;
/// use metagrad_algos::meta::{Batch, Episode, MetaMethod};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Params, Sequential};
///
/// // f(x) = w x from w = 1; the support set is the point (1, 0), the query set (1, 1).
/// # let model = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
/// # let meta = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0]))]);
/// # let column = |v: f64| Tensor::from_vec(&[1, 1], vec![v]);
/// # let point = |x: f64, y: f64| Batch::regression(column(x), column(y));
/// # let episode = Episode { support: point(1.0, 0.0), query: point(1.0, 1.0) };
/// let method = meta_sgd(1, 0.25, false);
/// let mut all = meta.clone();
/// // Add the rate rho = 0.25 for w.
/// for (name, rate) in method.init_extra(&meta).iter() {
///     all.insert(name, rate.clone());
/// }
/// let grads = method.task_gradient(&model, &all, &episode).grads;
/// // w' = w - rho 2w = 0.5, and the query loss has slope -1 at w', so
/// // dL/dw = -1 (1 - 2 rho) = -0.5 and dL/drho = -1 (-2 w) = 2.
/// assert!((grads.get("0.weight").unwrap().item() + 0.5).abs() < 1e-12);
/// assert!((grads.get("meta.lr.0.weight").unwrap().item() - 2.0).abs() < 1e-12);
/// ```
pub fn meta_sgd(inner_steps: usize, init_lr: f64, per_step: bool) -> Maml {
    Maml { learned_rates: Some(LearnedRates { per_step, init: init_lr }), ..Maml::new(inner_steps, init_lr) }
}
