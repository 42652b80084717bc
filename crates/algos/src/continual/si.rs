//! Synaptic intelligence (Zenke, Poole & Ganguli 2017).
//!
//! Each parameter's share in the drop of the loss is accumulated along the training path, a
//! path integral approximated step by step:
//!
//! ```text
//! omega_i += -g_i(t) (theta_i(t+1) - theta_i(t))          at every step of task mu,
//! Omega_i += omega_i / (Delta_i^2 + xi),   Delta_i = theta_i(end of mu) - theta_i(start of mu),
//! L(theta) = L_t(theta) + c sum_i Omega_i (theta_i - theta*_i)^2,
//! ```
//!
//! then `omega` is reset. `xi` keeps the ratio finite for parameters that did not move. The
//! gradient `g` is that of the whole step's loss (the penalty included), as in van de Ven &
//! Tolias (2019); Zenke et al.'s own code uses the gradient of the task loss alone. Unlike the paper, a task's negative contribution to `Omega_i` (a path
//! that went uphill on the whole) is clipped to zero, so the penalty never rewards moving away.

use super::penalty::Anchor;
use super::{Classifier, Strategy, TaskContext};
use metagrad_autodiff::{Float, Var};
use metagrad_nn::{ParamVars, Params};
use rand::rngs::StdRng;

/// SI with strength `c` and damping `xi`.
#[derive(Clone, Debug)]
pub struct Si<T: Float> {
    /// `c`, the penalty's strength.
    pub c: f64,
    /// `xi`, the damping of the consolidation.
    pub xi: f64,
    start: Option<Params<T>>,
    path: Option<Params<T>>,
    anchor: Option<Anchor<T>>,
}

impl<T: Float> Si<T> {
    /// SI with strength `c` and `xi = 0.1`.
    pub fn new(c: f64) -> Self {
        Si { c, xi: 0.1, start: None, path: None, anchor: None }
    }

    /// The anchor (after the first task).
    pub fn anchor(&self) -> Option<&Anchor<T>> {
        self.anchor.as_ref()
    }
}

impl<T: Float> Strategy<T> for Si<T> {
    fn name(&self) -> String {
        "si".into()
    }

    fn begin_task(&mut self, _: &dyn Classifier<T>, params: &Params<T>, _: &TaskContext<'_, T>) {
        self.start = Some(params.clone());
        self.path = Some(params.map(|t| t.map(|_| T::zero())));
    }

    fn penalty<'t>(
        &self,
        _: &dyn Classifier<T>,
        params: &ParamVars<'t, T>,
        _: Var<'t, T>,
        _: &TaskContext<'_, T>,
    ) -> Option<Var<'t, T>> {
        // c sum Omega (theta - theta*)^2 is the anchor's penalty with strength 2c.
        self.anchor.as_ref().map(|a| a.penalty(params, 2.0 * self.c))
    }

    fn after_step(&mut self, before: &Params<T>, after: &Params<T>, grads: &Params<T>) {
        let path = self.path.as_mut().expect("SI: after_step before begin_task");
        let moved = after.axpy(-T::one(), before);
        let work = grads.zip_map(&moved, |g, d| -g * d);
        *path = path.axpy(T::one(), &work);
    }

    fn end_task(&mut self, _: &dyn Classifier<T>, params: &Params<T>, _: &TaskContext<'_, T>, _: &mut StdRng) {
        let start = self.start.take().expect("SI: end_task before begin_task");
        let path = self.path.take().expect("SI: end_task before begin_task");
        let delta = params.axpy(-T::one(), &start);
        let xi = T::of(self.xi);
        let omega = path.zip_map(&delta, |w, d| (w / (d * d + xi)).max(T::zero()));
        let importance = match self.anchor.take() {
            Some(old) => old.importance.axpy(T::one(), &omega),
            None => omega,
        };
        self.anchor = Some(Anchor { reference: params.clone(), importance });
    }
}
