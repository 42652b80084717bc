//! The two ends of the scale: naive fine-tuning, which trains on each task in turn and forgets
//! (the lower bound), and joint training, which trains on everything seen so far (the upper
//! bound no continual method is expected to beat).

use super::{Classifier, ReplayGroup, Scenario, Strategy, TaskContext};
use metagrad_autodiff::Float;
use rand::rngs::StdRng;
use rand::Rng;

/// Plain training on the current task: nothing added.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{train_sequence, Config, Mlp, Naive, Scenario};
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
/// let config = Config { iterations: 2, batch_size: 4, lr: 0.01, seed: 0, eval_every: 0 };
/// let mut losses = Vec::new();
/// train_sequence(&model, params, &mut Naive, &tasks, Scenario::TaskIncremental, &config, &mut |p| losses.push(p.loss));
/// // Every step's loss is the current task's cross-entropy alone: nothing replayed, no penalty.
/// assert_eq!(losses.len(), 4);
/// assert!(losses.iter().all(|l| l.is_finite() && *l > 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Naive;

impl<T: Float> Strategy<T> for Naive {
    fn name(&self) -> String {
        "naive".into()
    }
}

/// Joint training: each step also replays a batch drawn from the earlier tasks' whole training
/// sets (a task chosen uniformly for each example, each example under its task's head),
/// weighted as the training loop weighs replay, so in expectation every task seen so far
/// counts equally, as if their union were one data set.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Joint, Mlp, Scenario, Strategy, TaskContext};
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
/// let cx = |task| TaskContext { tasks: &tasks, task, scenario: Scenario::ClassIncremental };
/// // Nothing earlier to replay on the first task; on the second, one batch of task 0's
/// // examples under the shared head.
/// assert!(Joint.replay(&model, 5, &cx(0), &mut rng).is_empty());
/// let groups = Joint.replay(&model, 5, &cx(1), &mut rng);
/// assert_eq!(groups.len(), 1);
/// assert_eq!((groups[0].examples.len(), groups[0].head.clone()), (5, vec![0, 1, 2, 3]));
/// assert!(groups[0].examples.labels.iter().all(|&l| l < 2));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Joint;

impl<T: Float> Strategy<T> for Joint {
    fn name(&self) -> String {
        "joint".into()
    }

    fn replay(
        &mut self,
        _: &dyn Classifier<T>,
        size: usize,
        cx: &TaskContext<'_, T>,
        rng: &mut StdRng,
    ) -> Vec<ReplayGroup<T>> {
        if cx.task == 0 {
            return Vec::new();
        }
        let mut counts = vec![0; cx.task];
        for _ in 0..size {
            counts[rng.gen_range(0..cx.task)] += 1;
        }
        let groups = (0..cx.task)
            .filter(|&j| counts[j] > 0)
            .map(|j| ReplayGroup { examples: cx.tasks[j].train.sample(counts[j], rng), head: cx.head(j) });
        if cx.scenario == Scenario::TaskIncremental {
            groups.collect()
        } else {
            // One head for all: one group, so every example weighs the same.
            let merged = groups.map(|g| g.examples).reduce(|a, b| a.concat(&b)).expect("size > 0");
            vec![ReplayGroup { examples: merged, head: cx.head(cx.task) }]
        }
    }
}
