//! The quadratic anchor EWC, MAS and SI share: `strength/2 sum_i Omega_i (theta_i -
//! theta*_i)^2`, a spring on each parameter towards its value after the earlier tasks, stiff
//! where the importance `Omega_i` is large.

use metagrad_autodiff::{Float, Var};
use metagrad_nn::{ParamVars, Params};

/// Parameters to stay near and how much each matters.
#[derive(Clone, Debug)]
pub struct Anchor<T: Float> {
    /// `theta*`: the parameters after the last task.
    pub reference: Params<T>,
    /// `Omega`: one importance per parameter, same layout.
    pub importance: Params<T>,
}

impl<T: Float> Anchor<T> {
    /// `strength/2 sum_i Omega_i (theta_i - theta*_i)^2` on the tape of `params`.
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
