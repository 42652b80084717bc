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
#[derive(Clone, Debug)]
pub struct ReplayGroup<T: Float> {
    /// The examples (labels are original classes, all within `head`).
    pub examples: Labelled<T>,
    /// The classes competing for these examples.
    pub head: Vec<usize>,
}

/// What a strategy sees of the sequence at a hook.
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
    pub fn head(&self, j: usize) -> Vec<usize> {
        self.scenario.head(self.tasks, j, self.task + 1)
    }
}

/// A continual-learning method: hooks around plain minibatch training (see the module docs).
/// Every hook has a default that does nothing, so naive fine-tuning is the empty strategy.
pub trait Strategy<T: Float>: Send {
    /// A short name (`"ewc"`, `"replay"`).
    fn name(&self) -> String;

    /// Before training on the task in `cx` starts, with the parameters as they are then.
    fn begin_task(&mut self, _model: &dyn Classifier<T>, _params: &Params<T>, _cx: &TaskContext<'_, T>) {}

    /// A term added to the training loss of every step, on the step's tape (`inputs` is the
    /// current batch, `head` its classes): EWC, MAS and SI's quadratic penalties, LwF's
    /// distillation.
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
    fn current_head(&self, cx: &TaskContext<'_, T>) -> Vec<usize> {
        cx.head(cx.task)
    }

    /// Examples to replay beside a current batch of `size` (experience and generative replay,
    /// joint training). The loop weighs their loss `1 - 1/t` against the current task's `1/t`
    /// for the `t`-th task (van de Ven et al. 2020), so every task counts equally.
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
    fn after_step(&mut self, _before: &Params<T>, _after: &Params<T>, _grads: &Params<T>) {}

    /// After training on the task in `cx`, with the trained parameters (EWC's Fisher, MAS's
    /// importance, SI's consolidation, filling the replay buffer, training the generator).
    fn end_task(
        &mut self,
        _model: &dyn Classifier<T>,
        _params: &Params<T>,
        _cx: &TaskContext<'_, T>,
        _rng: &mut StdRng,
    ) {
    }
}
