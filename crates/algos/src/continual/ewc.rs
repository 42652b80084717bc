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
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::ewc::fisher;
/// use metagrad_algos::continual::{FisherKind, Mlp};
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
/// let model = Mlp::new(&[2, 2]);
/// let mut rng = StdRng::seed_from_u64(0);
/// let zero = Module::<f64>::init(&model, &mut rng).map(|t| Tensor::zeros(t.shape()));
/// // Under uniform predictions every label, sampled or given, has a bias gradient of +-1/2, so
/// // the true and the empirical Fisher agree there.
/// for kind in [FisherKind::True, FisherKind::Empirical] {
///     let f = fisher(&model, &zero, &tasks[0].train, &[0, 1], kind, &mut rng);
///     assert_eq!(f.get("0.bias").unwrap().to_vec(), vec![0.25, 0.25]);
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FisherKind {
    /// Labels sampled from the model's predictive distribution (the Fisher information).
    True,
    /// The data's labels (the empirical Fisher).
    Empirical,
}

/// EWC, or online EWC with [`Ewc::online`].
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Ewc, FisherKind};
///
/// let ewc = Ewc::<f64>::new(100.0);
/// assert_eq!((ewc.lambda, ewc.samples, ewc.kind, ewc.gamma), (100.0, 1000, FisherKind::True, None));
/// let online = Ewc::<f64>::new(100.0).online(0.9).empirical();
/// assert_eq!((online.kind, online.gamma), (FisherKind::Empirical, Some(0.9)));
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Ewc, Strategy};
    ///
    /// let ewc = Ewc::<f64>::new(5.0);
    /// // Nothing to stay near before the first task ends.
    /// assert!(ewc.anchors().is_empty());
    /// assert_eq!((ewc.lambda, ewc.name()), (5.0, "ewc".to_string()));
    /// ```
    pub fn new(lambda: f64) -> Self {
        Ewc { lambda, samples: 1000, kind: FisherKind::True, gamma: None, anchors: Vec::new() }
    }

    /// Online EWC with decay `gamma` (1 sums the Fishers of all tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::ewc::fisher;
    /// use metagrad_algos::continual::{Ewc, Mlp, Scenario, Strategy, TaskContext};
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
    /// let model = Mlp::new(&[2, 2]);
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let params = Module::<f64>::init(&model, &mut rng);
    /// let same = [task(0, 1), task(0, 1)];
    /// let mut ewc = Ewc::new(1.0).online(0.5).empirical();
    /// for t in 0..2 {
    ///     ewc.end_task(&model, &params, &TaskContext { tasks: &same, task: t, scenario: Scenario::TaskIncremental }, &mut rng);
    /// }
    /// // Two tasks with the same data and weights: one anchor, importance 0.5 F + F.
    /// let f = fisher(&model, &params, &same[0].train, &[0, 1], ewc.kind, &mut rng);
    /// let gap = ewc.anchors()[0].importance.axpy(-1.5, &f).tensors().flat_map(|t| t.to_vec()).fold(0.0f64, |m, v| m.max(v.abs()));
    /// assert_eq!(ewc.anchors().len(), 1);
    /// assert!(gap < 1e-12);
    /// ```
    pub fn online(mut self, gamma: f64) -> Self {
        self.gamma = Some(gamma);
        self
    }

    /// The empirical Fisher instead of the true one.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Ewc, FisherKind};
    ///
    /// let ewc = Ewc::<f32>::new(1.0).online(0.9).empirical();
    /// // Only the kind of Fisher changes.
    /// assert_eq!((ewc.kind, ewc.gamma, ewc.lambda), (FisherKind::Empirical, Some(0.9), 1.0));
    /// ```
    pub fn empirical(mut self) -> Self {
        self.kind = FisherKind::Empirical;
        self
    }

    /// The anchors held now (one per earlier task; one in all for online EWC).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Ewc, Mlp, Scenario, Strategy, TaskContext};
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
    /// let trained = Module::<f64>::init(&model, &mut rng);
    /// let mut ewc = Ewc::new(1.0);
    /// ewc.end_task(&model, &trained, &TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental }, &mut rng);
    /// // The anchor sits at the trained weights, with one (non-negative) importance per weight.
    /// let anchor = &ewc.anchors()[0];
    /// assert_eq!(anchor.reference, trained);
    /// assert_eq!(anchor.importance.names().collect::<Vec<_>>(), trained.names().collect::<Vec<_>>());
    /// assert!(anchor.importance.tensors().all(|t| t.to_vec().iter().all(|&v| v >= 0.0)));
    /// ```
    pub fn anchors(&self) -> &[Anchor<T>] {
        &self.anchors
    }
}

/// The diagonal Fisher of `model` at `params` over `examples`, with the softmax over `head`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::ewc::fisher;
/// use metagrad_algos::continual::{FisherKind, Mlp};
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
/// let zero = Module::<f64>::init(&model, &mut rng).map(|t| Tensor::zeros(t.shape()));
/// let f = fisher(&model, &zero, &tasks[0].train, &[0, 1], FisherKind::Empirical, &mut rng);
/// // Softmax 1/2 over the head: squared bias gradients 1/4; outputs 2 and 3 are not in the head,
/// // so no loss depends on them.
/// assert_eq!(f.get("0.bias").unwrap().to_vec(), vec![0.25, 0.25, 0.0, 0.0]);
/// assert_eq!(f.get("0.weight").unwrap().shape(), &[2, 4]);
/// ```
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

    fn reset(&mut self) {
        self.anchors.clear();
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
