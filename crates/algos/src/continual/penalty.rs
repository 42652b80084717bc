//! The quadratic anchor EWC, MAS and SI share: `strength/2 sum_i Omega_i (theta_i -
//! theta*_i)^2`, a spring on each parameter towards its value after the earlier tasks, stiff
//! where the importance `Omega_i` is large.

use metagrad_autodiff::{Float, Var};
use metagrad_nn::{ParamVars, Params};

/// Parameters to stay near and how much each matters.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::Anchor;
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::Params;
///
/// let w = |a: f64, b: f64| Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![a, b]))]);
/// // The first weight matters (importance 4), the second not at all.
/// let anchor = Anchor { reference: w(1.0, 1.0), importance: w(4.0, 0.0) };
/// let tape = Tape::new();
/// // 2/2 * (4 * (3 - 1)^2 + 0 * (9 - 1)^2) = 16.
/// assert_eq!(anchor.penalty(&w(3.0, 9.0).on(&tape), 2.0).item(), 16.0);
/// ```
#[derive(Clone, Debug)]
pub struct Anchor<T: Float> {
    /// `theta*`: the parameters after the last task.
    pub reference: Params<T>,
    /// `Omega`: one importance per parameter, same layout.
    pub importance: Params<T>,
}

impl<T: Float> Anchor<T> {
    /// `strength/2 sum_i Omega_i (theta_i - theta*_i)^2` on the tape of `params`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Anchor;
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let w = |v: f64| Params::from_pairs([("w".to_string(), Tensor::scalar(v))]);
    /// let anchor = Anchor { reference: w(0.0), importance: w(3.0) };
    /// let tape = Tape::new();
    /// let p = w(2.0).on(&tape);
    /// let penalty = anchor.penalty(&p, 0.5);
    /// // 0.5/2 * 3 * 2^2 = 3, and the spring's force: d/dw = 0.5 * 3 * 2 = 3.
    /// assert_eq!(penalty.item(), 3.0);
    /// assert_eq!(p.grad(penalty).get("w").unwrap().item(), 3.0);
    /// ```
    pub fn penalty<'t>(&self, params: &ParamVars<'t, T>, strength: f64) -> Var<'t, T> {
        self.reference
            .iter()
            .zip(self.importance.tensors())
            .map(|((name, reference), importance)| {
                let theta = params.get(name);
                let diff = theta - theta.constant(reference.clone());
                (diff.square() * theta.constant(importance.clone())).sum()
            })
            .reduce(|a, b| a + b)
            .expect("a model with parameters")
            * T::of(strength / 2.0)
    }
}
