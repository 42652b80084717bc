//! Experience replay with a reservoir buffer (Chaudhry et al. 2019, "On tiny episodic
//! memories in continual learning"; the reservoir is Vitter 1985, algorithm R).
//!
//! A buffer of at most `capacity` stored examples is a uniform sample of every training
//! example streamed through it: the `n`-th example is kept with probability `capacity / n`,
//! in place of a random stored one. Each training example of a task is streamed through it
//! once, in random order, when the task ends. While later tasks train, every step replays a
//! batch drawn from the buffer, each example under the head of the task it came from.
//!
//! **Asymmetric replay** (ER-ACE, Caccia et al. 2022, "New insights on reducing abrupt
//! representation change in online continual learning") changes one thing in the
//! class-incremental scenario: the current task's batch competes only among the current
//! task's classes, while replayed examples compete among every class seen so far,
//!
//! ```text
//! L = 1/(t+1) CE(f(x_new) restricted to C_t) + (1 - 1/(t+1)) CE(f(x_buf) restricted to C_0 u ... u C_t),
//! ```
//!
//! with `C_j` the classes of task `j`, counting from 0.
//!
//! Plain replay's new-task loss pushes the old classes' logits down on every new example,
//! which the few replayed examples only partly undo; that bias toward the newest classes is
//! most of what class-incremental replay forgets. With the asymmetric loss only the replayed
//! examples teach old against new, so the new task's examples must be in the buffer while it
//! trains: this mode streams a task's examples through the reservoir when the task begins
//! (at its first replay), not when it ends, as in Caccia et al.'s online setting, where every
//! incoming batch enters the buffer. The buffer never holds more than `capacity` examples
//! either way. In the other scenarios the loss is plain replay's.

use super::{Classifier, Labelled, ReplayGroup, Scenario, Strategy, TaskContext};
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::Params;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

/// Experience replay from a reservoir buffer of `capacity` examples.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{ExperienceReplay, Mlp, Scenario, Strategy, TaskContext};
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
/// let mut replay = ExperienceReplay::new(10);
/// assert_eq!((replay.capacity, replay.asymmetric), (10, false));
/// // Plain replay fills the buffer when a task ends: all four examples of task 0 fit.
/// replay.end_task(&model, &params, &TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental }, &mut rng);
/// assert_eq!(replay.per_task(2), vec![4, 0]);
/// ```
#[derive(Clone, Debug)]
pub struct ExperienceReplay<T: Float> {
    /// The most examples kept.
    pub capacity: usize,
    /// Asymmetric replay (ER-ACE): the current batch competes only among its task's classes.
    pub asymmetric: bool,
    rows: Vec<Vec<T>>,
    labels: Vec<usize>,
    tasks: Vec<usize>,
    row_shape: Vec<usize>,
    streamed: usize,
    tasks_streamed: usize,
}

impl<T: Float> ExperienceReplay<T> {
    /// An empty buffer for `capacity` examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::ExperienceReplay;
    ///
    /// let replay = ExperienceReplay::<f64>::new(100);
    /// assert!(replay.is_empty());
    /// assert_eq!((replay.capacity, replay.asymmetric), (100, false));
    /// ```
    pub fn new(capacity: usize) -> Self {
        ExperienceReplay {
            capacity,
            asymmetric: false,
            rows: Vec::new(),
            labels: Vec::new(),
            tasks: Vec::new(),
            row_shape: Vec::new(),
            streamed: 0,
            tasks_streamed: 0,
        }
    }

    /// An empty buffer for `capacity` examples, replayed asymmetrically (ER-ACE, see the
    /// module docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{ExperienceReplay, Mlp, Scenario, Strategy, TaskContext};
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
    /// let mut replay = ExperienceReplay::asymmetric(10);
    /// let cx = TaskContext { tasks: &tasks, task: 0, scenario: Scenario::ClassIncremental };
    /// // ER-ACE streams a task into the buffer at its first replay, not at its end (the first
    /// // task still replays nothing).
    /// assert!(replay.replay(&Mlp::new(&[2, 4]), 4, &cx, &mut StdRng::seed_from_u64(0)).is_empty());
    /// assert_eq!(replay.len(), 4);
    /// ```
    pub fn asymmetric(capacity: usize) -> Self {
        ExperienceReplay { asymmetric: true, ..Self::new(capacity) }
    }

    /// How many examples are stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::ExperienceReplay;
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
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mut replay = ExperienceReplay::new(6);
    /// replay.stream(&tasks[0].train, 0, &mut rng);
    /// assert_eq!(replay.len(), 4);
    /// // Eight examples streamed, never more than the capacity kept.
    /// replay.stream(&tasks[1].train, 1, &mut rng);
    /// assert_eq!(replay.len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when nothing is stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::ExperienceReplay;
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
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let (mut some, mut none) = (ExperienceReplay::new(2), ExperienceReplay::new(0));
    /// some.stream(&tasks[0].train, 0, &mut rng);
    /// none.stream(&tasks[0].train, 0, &mut rng);
    /// // A buffer of capacity 0 keeps nothing.
    /// assert!(!some.is_empty() && none.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// How many stored examples came from each task `0..tasks`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::ExperienceReplay;
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
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mut replay = ExperienceReplay::new(100);
    /// replay.stream(&tasks[0].train, 0, &mut rng);
    /// replay.stream(&tasks[1].train, 1, &mut rng);
    /// // Room for everything: four from each task, none from a task not streamed.
    /// assert_eq!(replay.per_task(3), vec![4, 4, 0]);
    /// ```
    pub fn per_task(&self, tasks: usize) -> Vec<usize> {
        (0..tasks).map(|t| self.tasks.iter().filter(|&&s| s == t).count()).collect()
    }

    /// Streams `examples` of task `task` through the reservoir, in the order given.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::ExperienceReplay;
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
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mut replay = ExperienceReplay::new(3);
    /// // The first examples fill the buffer in order ...
    /// replay.stream(&tasks[0].train, 0, &mut rng);
    /// assert_eq!(replay.per_task(2), vec![3, 0]);
    /// // ... and later ones replace stored ones at random, keeping the size.
    /// replay.stream(&tasks[1].train, 1, &mut rng);
    /// assert_eq!(replay.per_task(2).iter().sum::<usize>(), 3);
    /// ```
    pub fn stream(&mut self, examples: &Labelled<T>, task: usize, rng: &mut StdRng) {
        let n = examples.len();
        if n == 0 || self.capacity == 0 {
            return;
        }
        let row = examples.inputs.len() / n;
        self.row_shape = examples.inputs.shape()[1..].to_vec();
        let values = examples.inputs.to_vec();
        for i in 0..n {
            self.streamed += 1;
            let slot = if self.len() < self.capacity {
                self.rows.push(Vec::new());
                self.labels.push(0);
                self.tasks.push(0);
                Some(self.len() - 1)
            } else {
                let k = rng.gen_range(0..self.streamed);
                (k < self.capacity).then_some(k)
            };
            if let Some(k) = slot {
                self.rows[k] = values[i * row..(i + 1) * row].to_vec();
                self.labels[k] = examples.labels[i];
                self.tasks[k] = task;
            }
        }
    }

    /// Streams the training examples of the task in `cx`, shuffled, once per task.
    fn stream_task(&mut self, cx: &TaskContext<'_, T>, rng: &mut StdRng) {
        if self.tasks_streamed > cx.task {
            return;
        }
        let train = &cx.tasks[cx.task].train;
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(rng);
        self.stream(&train.select(&order), cx.task, rng);
        self.tasks_streamed = cx.task + 1;
    }

    fn examples(&self, picks: &[usize]) -> Labelled<T> {
        let mut shape = vec![picks.len()];
        shape.extend_from_slice(&self.row_shape);
        let values = picks.iter().flat_map(|&k| self.rows[k].iter().copied()).collect();
        Labelled::new(Tensor::from_vec(&shape, values), picks.iter().map(|&k| self.labels[k]).collect())
    }
}

impl<T: Float> Strategy<T> for ExperienceReplay<T> {
    fn name(&self) -> String {
        if self.asymmetric { "replay-ace" } else { "replay" }.into()
    }

    fn reset(&mut self) {
        *self = ExperienceReplay { asymmetric: self.asymmetric, ..Self::new(self.capacity) };
    }

    fn current_head(&self, cx: &TaskContext<'_, T>) -> Vec<usize> {
        match cx.scenario {
            Scenario::ClassIncremental if self.asymmetric => cx.tasks[cx.task].classes.clone(),
            _ => cx.head(cx.task),
        }
    }

    fn replay(
        &mut self,
        _: &dyn Classifier<T>,
        size: usize,
        cx: &TaskContext<'_, T>,
        rng: &mut StdRng,
    ) -> Vec<ReplayGroup<T>> {
        if self.asymmetric {
            self.stream_task(cx, rng);
        }
        if self.is_empty() || cx.task == 0 {
            return Vec::new();
        }
        let picks: Vec<usize> = (0..size).map(|_| rng.gen_range(0..self.len())).collect();
        match cx.scenario {
            Scenario::TaskIncremental => (0..cx.task)
                .filter_map(|j| {
                    let mine: Vec<usize> = picks.iter().copied().filter(|&k| self.tasks[k] == j).collect();
                    (!mine.is_empty()).then(|| ReplayGroup { examples: self.examples(&mine), head: cx.head(j) })
                })
                .collect(),
            _ => vec![ReplayGroup { examples: self.examples(&picks), head: cx.head(cx.task) }],
        }
    }

    fn end_task(&mut self, _: &dyn Classifier<T>, _: &Params<T>, cx: &TaskContext<'_, T>, rng: &mut StdRng) {
        self.stream_task(cx, rng);
    }
}
