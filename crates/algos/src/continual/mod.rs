//! Continual learning: one model meets a sequence of tasks and should not forget the old ones
//! while it learns the new (McCloskey & Cohen 1989 named the failure *catastrophic
//! forgetting*).
//!
//! Every method here is a [`Strategy`]: hooks that the one training loop
//! ([`train_sequence`]) calls around plain minibatch training on the current task. A strategy
//! can add a penalty to the loss, hand the loop replayed examples to train on beside the
//! current batch, watch every optimiser step, and do work when a task ends.
//!
//! | method | file | what it adds to training on task `t` |
//! |---|---|---|
//! | naive fine-tuning | [`naive`] | nothing: the baseline that forgets |
//! | joint training | [`naive`] | every earlier task's data, replayed: the upper bound |
//! | EWC, online EWC | [`ewc`] | `lambda/2 sum_i F_i (theta_i - theta*_i)^2`, `F` the diagonal Fisher |
//! | MAS | [`mas`] | the same penalty, importance `mean_x |d ||f(x)||^2 / d theta|` |
//! | SI | [`si`] | the same penalty, importance from the path integral of the loss |
//! | experience replay | [`replay`] | examples from a reservoir buffer of fixed size; optionally asymmetric (ER-ACE) |
//! | deep generative replay | [`generative`] | a VAE's samples, labelled by the previous model |
//! | learning without forgetting | [`lwf`] | distillation of the previous model's old heads |
//!
//! # Scenarios
//!
//! The same sequence of tasks poses three different problems (van de Ven & Tolias 2019,
//! "Three scenarios for continual learning"), which differ only in which of the output layer's
//! classes compete in the softmax ([`Scenario::head`]):
//!
//! - **task-incremental**: the task is known at test time; each task has its own head (the
//!   columns of its own classes), so split MNIST is five binary problems;
//! - **class-incremental**: the task is not known; every class seen so far competes, so split
//!   MNIST ends as one 10-way problem;
//! - **domain-incremental**: every task uses every class (permuted MNIST: the same ten digits
//!   with pixels shuffled differently per task).
//!
//! # Metrics
//!
//! [`AccuracyMatrix`]: `R[i][j]`, the test accuracy on task `j` after training task `i`, and
//! the figures the literature derives from it (average accuracy, backward and forward
//! transfer, forgetting).

pub mod benchmarks;
mod head;
pub mod importance;
mod metrics;
mod mlp;
mod penalty;
mod sequence;

pub mod ewc;
pub mod generative;
pub mod lwf;
pub mod mas;
pub mod naive;
pub mod replay;
pub mod si;
pub mod vae;

pub use ewc::{Ewc, FisherKind};
pub use generative::GenerativeReplay;
pub use head::{head_logits, head_loss, head_positions};
pub use importance::{Classifier, ExampleLoss, Moment};
pub use lwf::Lwf;
pub use mas::Mas;
pub use metrics::AccuracyMatrix;
pub use mlp::Mlp;
pub use naive::{Joint, Naive};
pub use penalty::Anchor;
pub use replay::ExperienceReplay;
pub use sequence::{evaluate, train_sequence, Config, Progress, Run};
pub use si::Si;
pub use vae::Vae;

pub use crate::labelled::Labelled;

use metagrad_autodiff::{Float, Var};
use metagrad_nn::{ParamVars, Params};
use rand::rngs::StdRng;

/// One task of a sequence.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Labelled, Task};
/// use metagrad_autodiff::Tensor;
///
/// let examples = Labelled::new(Tensor::from_vec(&[2, 1], vec![-1.0f64, 1.0]), vec![4, 5]);
/// let task = Task { name: "4/5".into(), train: examples.clone(), test: examples, classes: vec![4, 5] };
/// // Every label of the task is one of its classes.
/// assert!(task.train.labels.iter().all(|l| task.classes.contains(l)));
/// ```
#[derive(Clone, Debug)]
pub struct Task<T: Float> {
    /// A short name for tables and plots (`"0/1"`, `"perm 3"`).
    pub name: String,
    /// Training examples.
    pub train: Labelled<T>,
    /// Test examples.
    pub test: Labelled<T>,
    /// The classes this task uses (its head in the task-incremental scenario), ascending.
    pub classes: Vec<usize>,
}

/// Which classes compete in the softmax (see the module docs).
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Labelled, Scenario, Task};
/// use metagrad_autodiff::Tensor;
///
/// let task = |classes: Vec<usize>| {
///     let examples = Labelled::new(Tensor::zeros(&[2, 1]), classes.clone());
///     Task::<f64> { name: String::new(), train: examples.clone(), test: examples, classes }
/// };
/// let tasks = [task(vec![0, 1]), task(vec![2, 3])];
/// // Testing task 1 after both tasks: its own head, the classes seen so far, or all classes.
/// assert_eq!(Scenario::TaskIncremental.head(&tasks, 1, 2), vec![2, 3]);
/// assert_eq!(Scenario::ClassIncremental.head(&tasks, 1, 2), vec![0, 1, 2, 3]);
/// assert_eq!(Scenario::DomainIncremental.head(&tasks, 1, 2), vec![0, 1, 2, 3]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Each task has its own head: the task's classes.
    TaskIncremental,
    /// Every class of the tasks seen so far competes.
    ClassIncremental,
    /// Every task uses every class of the sequence.
    DomainIncremental,
}

impl Scenario {
    /// The classes that compete when task `task` is trained or tested after `seen` tasks have
    /// been trained (`seen` counts the current one when training), ascending.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Labelled, Scenario, Task};
    /// use metagrad_autodiff::Tensor;
    ///
    /// let task = |classes: Vec<usize>| {
    ///     let examples = Labelled::new(Tensor::zeros(&[2, 1]), classes.clone());
    ///     Task::<f64> { name: String::new(), train: examples.clone(), test: examples, classes }
    /// };
    /// let tasks = [task(vec![1, 3]), task(vec![0, 2]), task(vec![4, 5])];
    /// let head = |task, seen| Scenario::ClassIncremental.head(&tasks, task, seen);
    /// // Class-incremental heads grow with the tasks seen, sorted; an untrained model (`seen = 0`)
    /// // is still tested on at least its own task's classes.
    /// assert_eq!(head(0, 1), vec![1, 3]);
    /// assert_eq!(head(0, 2), vec![0, 1, 2, 3]);
    /// assert_eq!(head(1, 0), vec![0, 1, 2, 3]);
    /// assert_eq!(Scenario::DomainIncremental.head(&tasks, 0, 1), vec![0, 1, 2, 3, 4, 5]);
    /// ```
    pub fn head<T: Float>(self, tasks: &[Task<T>], task: usize, seen: usize) -> Vec<usize> {
        let union = |range: std::ops::Range<usize>| {
            let mut classes: Vec<usize> = tasks[range].iter().flat_map(|t| t.classes.iter().copied()).collect();
            classes.sort_unstable();
            classes.dedup();
            classes
        };
        match self {
            Scenario::TaskIncremental => tasks[task].classes.clone(),
            Scenario::ClassIncremental => union(0..seen.max(task + 1).min(tasks.len())),
            Scenario::DomainIncremental => union(0..tasks.len()),
        }
    }
}

/// Examples to train on beside the current batch, each group with the classes of its head.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Joint, Labelled, Mlp, Scenario, Strategy, Task, TaskContext};
/// use metagrad_autodiff::Tensor;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let task = |classes: Vec<usize>| {
///     let examples = Labelled::new(Tensor::zeros(&[2, 1]), classes.clone());
///     Task::<f64> { name: String::new(), train: examples.clone(), test: examples, classes }
/// };
/// let tasks = [task(vec![0, 1]), task(vec![2, 3]), task(vec![4, 5])];
/// let cx = TaskContext { tasks: &tasks, task: 2, scenario: Scenario::TaskIncremental };
/// let groups = Joint.replay(&Mlp::new(&[1, 6]), 8, &cx, &mut StdRng::seed_from_u64(0));
/// // Joint training replays 8 examples of the two earlier tasks, each group under its own head.
/// assert_eq!(groups.iter().map(|g| g.examples.len()).sum::<usize>(), 8);
/// for group in &groups {
///     assert!(group.head == [0, 1] || group.head == [2, 3]);
///     assert!(group.examples.labels.iter().all(|l| group.head.contains(l)));
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ReplayGroup<T: Float> {
    /// The examples (labels are original classes, all within `head`).
    pub examples: Labelled<T>,
    /// The classes competing for these examples.
    pub head: Vec<usize>,
}

/// What a strategy sees of the sequence at a hook.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Labelled, Scenario, Task, TaskContext};
/// use metagrad_autodiff::Tensor;
///
/// let task = |classes: Vec<usize>| {
///     let examples = Labelled::new(Tensor::zeros(&[2, 1]), classes.clone());
///     Task::<f64> { name: String::new(), train: examples.clone(), test: examples, classes }
/// };
/// let tasks = [task(vec![0, 1]), task(vec![2, 3])];
/// let cx = TaskContext { tasks: &tasks, task: 0, scenario: Scenario::ClassIncremental };
/// // While the first task trains, only its own classes have been seen.
/// assert_eq!(cx.head(cx.task), vec![0, 1]);
/// ```
pub struct TaskContext<'a, T: Float> {
    /// The whole sequence.
    pub tasks: &'a [Task<T>],
    /// The index of the current task.
    pub task: usize,
    /// The scenario.
    pub scenario: Scenario,
}

impl<T: Float> TaskContext<'_, T> {
    /// The head of task `j` while training the current task.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Labelled, Scenario, Task, TaskContext};
    /// use metagrad_autodiff::Tensor;
    ///
    /// let task = |classes: Vec<usize>| {
    ///     let examples = Labelled::new(Tensor::zeros(&[2, 1]), classes.clone());
    ///     Task::<f64> { name: String::new(), train: examples.clone(), test: examples, classes }
    /// };
    /// let tasks = [task(vec![0, 1]), task(vec![2, 3])];
    /// let cx = |scenario| TaskContext { tasks: &tasks, task: 1, scenario };
    /// // Training task 1, task 0's head counts the current task as seen when classes compete.
    /// assert_eq!(cx(Scenario::TaskIncremental).head(0), vec![0, 1]);
    /// assert_eq!(cx(Scenario::ClassIncremental).head(0), vec![0, 1, 2, 3]);
    /// ```
    pub fn head(&self, j: usize) -> Vec<usize> {
        self.scenario.head(self.tasks, j, self.task + 1)
    }
}

/// A continual-learning method: hooks around plain minibatch training (see the module docs).
/// Every hook has a default that does nothing, so naive fine-tuning is the empty strategy.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{train_sequence, Classifier, Config, Mlp, Scenario, Strategy, TaskContext};
/// use metagrad_nn::{Module, Params};
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
/// /// Counts optimiser steps and records the tasks that ended; every other hook is the default.
/// struct Counter {
///     steps: usize,
///     ended: Vec<usize>,
/// }
///
/// impl Strategy<f64> for Counter {
///     fn name(&self) -> String {
///         "counter".into()
///     }
///     fn after_step(&mut self, _: &Params<f64>, _: &Params<f64>, _: &Params<f64>) {
///         self.steps += 1;
///     }
///     fn end_task(&mut self, _: &dyn Classifier<f64>, _: &Params<f64>, cx: &TaskContext<'_, f64>, _: &mut StdRng) {
///         self.ended.push(cx.task);
///     }
/// }
///
/// let model = Mlp::new(&[2, 4]);
/// let params = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let config = Config { iterations: 3, batch_size: 4, lr: 0.01, seed: 0, eval_every: 0 };
/// let mut counter = Counter { steps: 0, ended: Vec::new() };
/// let run = train_sequence(&model, params, &mut counter, &tasks, Scenario::TaskIncremental, &config, &mut |_| {});
/// // Three steps on each of the two tasks, and one row of the accuracy matrix per task.
/// assert_eq!((counter.steps, counter.ended), (6, vec![0, 1]));
/// assert_eq!(run.matrix.rows.len(), 2);
/// ```
pub trait Strategy<T: Float>: Send {
    /// A short name (`"ewc"`, `"replay"`).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Ewc, ExperienceReplay, Naive, Strategy};
    ///
    /// assert_eq!(Strategy::<f64>::name(&Naive), "naive");
    /// // The variants of one method name themselves apart.
    /// assert_eq!(Ewc::<f64>::new(1.0).name(), "ewc");
    /// assert_eq!(Ewc::<f64>::new(1.0).online(0.9).name(), "online-ewc");
    /// assert_eq!(ExperienceReplay::<f64>::asymmetric(10).name(), "replay-ace");
    /// ```
    fn name(&self) -> String;

    /// Forgets what earlier tasks left behind (anchors, importances, buffers, old models), so
    /// the strategy starts a new task sequence as if new. [`train_sequence`] calls it before
    /// the first task, which makes a strategy safe to reuse across runs. A strategy that keeps
    /// state between tasks must override it; the default does nothing.
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
    /// let params = Module::<f64>::init(&model, &mut rng);
    /// let mut ewc = Ewc::new(1.0);
    /// ewc.end_task(&model, &params, &TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental }, &mut rng);
    /// assert_eq!(ewc.anchors().len(), 1);
    /// ewc.reset();
    /// assert!(ewc.anchors().is_empty());
    /// ```
    fn reset(&mut self) {}

    /// Before training on the task in `cx` starts, with the parameters as they are then.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Lwf, Mlp, Scenario, Strategy, TaskContext};
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
    /// let mut lwf = Lwf::new(1.0);
    /// let tape = Tape::new();
    /// let (p, x) = (params.on(&tape), tape.constant(tasks[0].train.inputs.clone()));
    /// // LwF copies the model when a task begins, but only from the second task on: nothing to
    /// // distil before that.
    /// for (task, distils) in [(0, false), (1, true)] {
    ///     let cx = TaskContext { tasks: &tasks, task, scenario: Scenario::TaskIncremental };
    ///     lwf.begin_task(&model, &params, &cx);
    ///     assert_eq!(lwf.penalty(&model, &p, x, &cx).is_some(), distils);
    /// }
    /// ```
    fn begin_task(&mut self, _model: &dyn Classifier<T>, _params: &Params<T>, _cx: &TaskContext<'_, T>) {}

    /// A term added to the training loss of every step, on the step's tape (`inputs` is the
    /// current batch, `head` its classes): EWC, MAS and SI's quadratic penalties, LwF's
    /// distillation.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Ewc, Mlp, Naive, Scenario, Strategy, TaskContext};
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
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let trained = Module::<f64>::init(&model, &mut rng);
    /// let cx = TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental };
    /// let mut ewc = Ewc::new(10.0);
    /// ewc.end_task(&model, &trained, &cx, &mut rng);
    /// let penalty = |params: &metagrad_nn::Params<f64>| {
    ///     let tape = Tape::new();
    ///     let x = tape.constant(tasks[1].train.inputs.clone());
    ///     ewc.penalty(&model, &params.on(&tape), x, &cx).map(|v| v.item())
    /// };
    /// // EWC's spring is slack at the anchored parameters and pulls once they move.
    /// assert_eq!(penalty(&trained), Some(0.0));
    /// assert!(penalty(&trained.map(|t| t.map(|v| v + 0.1))).unwrap() > 0.0);
    /// // The empty strategy adds nothing.
    /// let tape = Tape::new();
    /// let x = tape.constant(tasks[1].train.inputs.clone());
    /// assert!(Naive.penalty(&model, &trained.on(&tape), x, &cx).is_none());
    /// ```
    fn penalty<'t>(
        &self,
        _model: &dyn Classifier<T>,
        _params: &ParamVars<'t, T>,
        _inputs: Var<'t, T>,
        _cx: &TaskContext<'_, T>,
    ) -> Option<Var<'t, T>> {
        None
    }

    /// The classes that compete in the softmax for the current task's own batch. By default
    /// the scenario's head ([`TaskContext::head`]); asymmetric replay narrows it to the
    /// current task's classes (see [`replay`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{ExperienceReplay, Naive, Scenario, Strategy, TaskContext};
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
    /// let cx = TaskContext { tasks: &tasks, task: 1, scenario: Scenario::ClassIncremental };
    /// // By default every class seen so far competes; asymmetric replay keeps the new batch to its
    /// // own task's classes.
    /// assert_eq!(Naive.current_head(&cx), vec![0, 1, 2, 3]);
    /// assert_eq!(ExperienceReplay::asymmetric(8).current_head(&cx), vec![2, 3]);
    /// ```
    fn current_head(&self, cx: &TaskContext<'_, T>) -> Vec<usize> {
        cx.head(cx.task)
    }

    /// Examples to replay beside a current batch of `size` (experience and generative replay,
    /// joint training). The loop weighs their loss `1 - 1/t` against the current task's `1/t`
    /// for the `t`-th task (van de Ven et al. 2020), so every task counts equally.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{ExperienceReplay, Mlp, Naive, Scenario, Strategy, TaskContext};
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
    /// let (model, mut rng) = (Mlp::new(&[2, 4]), StdRng::seed_from_u64(0));
    /// let cx = TaskContext { tasks: &tasks, task: 1, scenario: Scenario::ClassIncremental };
    /// let mut replay = ExperienceReplay::new(16);
    /// replay.stream(&tasks[0].train, 0, &mut rng);
    /// let groups = replay.replay(&model, 6, &cx, &mut rng);
    /// // One group of six stored examples of task 0, competing among all classes seen so far.
    /// assert_eq!(groups.len(), 1);
    /// assert_eq!((groups[0].examples.len(), groups[0].head.clone()), (6, vec![0, 1, 2, 3]));
    /// assert!(groups[0].examples.labels.iter().all(|&l| l < 2));
    /// // The default replays nothing.
    /// assert!(Naive.replay(&model, 6, &cx, &mut rng).is_empty());
    /// ```
    fn replay(
        &mut self,
        _model: &dyn Classifier<T>,
        _size: usize,
        _cx: &TaskContext<'_, T>,
        _rng: &mut StdRng,
    ) -> Vec<ReplayGroup<T>> {
        Vec::new()
    }

    /// After every optimiser step: the parameters before and after it, and the gradient of
    /// the step's whole loss (SI's path integral).
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
    /// // One step from 0 to 1 against a gradient of -2: work -g * d = 2.
    /// si.after_step(&w(0.0), &w(1.0), &w(-2.0));
    /// si.end_task(&model, &w(1.0), &cx, &mut StdRng::seed_from_u64(0));
    /// // Importance: work / (moved^2 + xi) = 2 / (1 + 0.1).
    /// let omega = si.anchor().unwrap().importance.get("w").unwrap().item();
    /// assert!((omega - 2.0 / 1.1).abs() < 1e-12);
    /// ```
    fn after_step(&mut self, _before: &Params<T>, _after: &Params<T>, _grads: &Params<T>) {}

    /// After training on the task in `cx`, with the trained parameters (EWC's Fisher, MAS's
    /// importance, SI's consolidation, filling the replay buffer, training the generator).
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
    /// let params = Module::<f64>::init(&model, &mut rng);
    /// let (mut ewc, mut online) = (Ewc::new(1.0), Ewc::new(1.0).online(0.5));
    /// for task in 0..2 {
    ///     let cx = TaskContext { tasks: &tasks, task, scenario: Scenario::TaskIncremental };
    ///     ewc.end_task(&model, &params, &cx, &mut rng);
    ///     online.end_task(&model, &params, &cx, &mut rng);
    /// }
    /// // EWC anchors once per finished task; online EWC folds them into one.
    /// assert_eq!((ewc.anchors().len(), online.anchors().len()), (2, 1));
    /// assert_eq!(ewc.anchors()[1].reference, params);
    /// ```
    fn end_task(
        &mut self,
        _model: &dyn Classifier<T>,
        _params: &Params<T>,
        _cx: &TaskContext<'_, T>,
        _rng: &mut StdRng,
    ) {
    }
}
