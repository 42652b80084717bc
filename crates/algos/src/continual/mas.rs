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
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::Mas;
///
/// let mas = Mas::<f64>::new(2.0);
/// assert_eq!((mas.lambda, mas.samples), (2.0, 1000));
/// assert!(mas.anchor().is_none());
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Mas, Mlp, Scenario, Strategy, TaskContext};
    /// use metagrad_autodiff::Tape;
    /// use metagrad_nn::Module;
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
    /// let model = Mlp::new(&[2, 4]);
    /// let params = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mas = Mas::new(1.0);
    /// let tape = Tape::new();
    /// let x = tape.constant(tasks[0].train.inputs.clone());
    /// let cx = TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental };
    /// // A fresh MAS adds no penalty: there is no anchor yet.
    /// assert!(mas.penalty(&model, &params.on(&tape), x, &cx).is_none());
    /// assert_eq!(mas.name(), "mas");
    /// ```
    pub fn new(lambda: f64) -> Self {
        Mas { lambda, samples: 1000, anchor: None }
    }

    /// The anchor (after the first task).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{mas, Mas, Mlp, Scenario, Strategy, TaskContext};
    /// use metagrad_nn::Module;
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
    /// let model = Mlp::new(&[2, 4]);
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let params = Module::<f64>::init(&model, &mut rng);
    /// let mut strategy = Mas::new(1.0);
    /// strategy.end_task(&model, &params, &TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental }, &mut rng);
    /// // After the first task: anchored at its weights, importance measured on all four inputs.
    /// let anchor = strategy.anchor().unwrap();
    /// let omega = mas::importance(&model, &params, &tasks[0].train.inputs, &[0, 1]);
    /// let gap = anchor.importance.axpy(-1.0, &omega).tensors().flat_map(|t| t.to_vec()).fold(0.0f64, |m, v| m.max(v.abs()));
    /// assert_eq!(anchor.reference, params);
    /// assert!(gap < 1e-12);
    /// ```
    pub fn anchor(&self) -> Option<&Anchor<T>> {
        self.anchor.as_ref()
    }
}

/// `mean_x |d ||f(x)||^2 / d theta|` over `inputs`, `f` the outputs of `head`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{mas, Mlp};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// // f(x) = w x + b with w = 1, b = 0: d f^2 / dw = 2x^2 and d f^2 / db = 2x.
/// let params = Params::from_pairs([
///     ("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0f64])),
///     ("0.bias".to_string(), Tensor::zeros(&[1])),
/// ]);
/// let x = Tensor::from_vec(&[2, 1], vec![1.0, -2.0]);
/// let omega = mas::importance(&Mlp::new(&[1, 1]), &params, &x, &[0]);
/// // Means of |(2, 8)| and |(2, -4)|.
/// assert_eq!(omega.get("0.weight").unwrap().item(), 5.0);
/// assert_eq!(omega.get("0.bias").unwrap().item(), 3.0);
/// ```
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

    fn reset(&mut self) {
        self.anchor = None;
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
