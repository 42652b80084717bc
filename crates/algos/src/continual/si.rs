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
//! then `omega` is reset. `xi` keeps the ratio finite for parameters that did not move. By
//! default the gradient `g` is that of the whole step's loss (the penalty included), as in
//! van de Ven & Tolias (2019); with [`Si::task_gradient`] it is the task loss's alone, as in
//! Zenke et al.'s paper, `g - 2c Omega (theta(t) - theta*)` (the penalty's own gradient
//! taken off). The difference matters: a parameter the penalty pulls back towards `theta*`
//! moves along the penalty's force, so the whole-loss integral books that pull as work done
//! on the task and makes the parameter more important still. Unlike the paper, a task's
//! negative contribution to `Omega_i` (a path that went uphill on the whole) is clipped to
//! zero, so the penalty never rewards moving away.

use super::penalty::Anchor;
use super::{Classifier, Strategy, TaskContext};
use metagrad_autodiff::{Float, Var};
use metagrad_nn::{ParamVars, Params};
use rand::rngs::StdRng;

/// SI with strength `c` and damping `xi`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Si, Strategy};
///
/// let si = Si::<f64>::new(0.5);
/// assert_eq!((si.c, si.xi, si.task_gradient), (0.5, 0.1, false));
/// assert_eq!(si.name(), "si");
/// ```
#[derive(Clone, Debug)]
pub struct Si<T: Float> {
    /// `c`, the penalty's strength.
    pub c: f64,
    /// `xi`, the damping of the consolidation.
    pub xi: f64,
    /// Integrate the task loss's gradient alone, without the penalty's (Zenke et al.'s
    /// definition; off by default, which follows van de Ven & Tolias).
    pub task_gradient: bool,
    start: Option<Params<T>>,
    path: Option<Params<T>>,
    anchor: Option<Anchor<T>>,
}

impl<T: Float> Si<T> {
    /// SI with strength `c` and `xi = 0.1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Si;
    ///
    /// let si = Si::<f64>::new(2.0);
    /// // No importance before the first task has ended.
    /// assert!(si.anchor().is_none());
    /// assert_eq!((si.c, si.xi), (2.0, 0.1));
    /// ```
    pub fn new(c: f64) -> Self {
        Si { c, xi: 0.1, task_gradient: false, start: None, path: None, anchor: None }
    }

    /// The same with the path integral over the task loss's gradient alone (see the module
    /// docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Si;
    ///
    /// let si = Si::<f64>::new(2.0).with_task_gradient();
    /// // Switches the gradient that is integrated; the strength and damping stay.
    /// assert!(si.task_gradient);
    /// assert_eq!((si.c, si.xi), (2.0, 0.1));
    /// ```
    pub fn with_task_gradient(self) -> Self {
        Si { task_gradient: true, ..self }
    }

    /// The anchor (after the first task).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Mlp, Scenario, Si, Strategy, TaskContext};
    /// use metagrad_nn::Params;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// # use metagrad_algos::continual::{Labelled, Task};
    /// # use metagrad_autodiff::Tensor;
    /// # // Tasks of four 2-d points in [0, 1]: class `a` near (1, 0), class `b` near (0, 1).
    /// # let task = |a: usize, b: usize| {
    /// #     let inputs = Tensor::from_vec(&[4, 2], vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9]);
    /// #     let examples = Labelled::new(inputs, vec![a, a, b, b]);
    /// #     Task::<f64> { name: format!("{a}/{b}"), train: examples.clone(), test: examples, classes: vec![a, b] }
    /// # };
    /// # let tasks = [task(0, 1), task(2, 3)];
    ///
    /// let w = |v: f64| Params::from_pairs([("w".to_string(), Tensor::scalar(v))]);
    /// let (model, cx) = (Mlp::new(&[2, 4]), TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental });
    /// let mut si = Si::new(1.0);
    /// si.begin_task(&model, &w(0.0), &cx);
    /// // A step uphill (moving along the gradient) does negative work, which is clipped to zero.
    /// si.after_step(&w(0.0), &w(1.0), &w(3.0));
    /// si.end_task(&model, &w(1.0), &cx, &mut StdRng::seed_from_u64(0));
    /// let anchor = si.anchor().unwrap();
    /// assert_eq!(anchor.reference, w(1.0));
    /// assert_eq!(anchor.importance.get("w").unwrap().item(), 0.0);
    /// ```
    pub fn anchor(&self) -> Option<&Anchor<T>> {
        self.anchor.as_ref()
    }
}

impl<T: Float> Strategy<T> for Si<T> {
    fn name(&self) -> String {
        "si".into()
    }

    fn reset(&mut self) {
        (self.start, self.path, self.anchor) = (None, None, None);
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
        let task_grads = match (&self.anchor, self.task_gradient) {
            (Some(anchor), true) => {
                // The penalty c sum Omega (theta - theta*)^2 has gradient 2c Omega (theta - theta*).
                let pull = anchor.importance.zip_map(&before.axpy(-T::one(), &anchor.reference), |o, d| o * d);
                grads.axpy(T::of(-2.0 * self.c), &pull)
            }
            _ => grads.clone(),
        };
        let work = task_grads.zip_map(&moved, |g, d| -g * d);
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
