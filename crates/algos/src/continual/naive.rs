//! The two ends of the scale: naive fine-tuning, which trains on each task in turn and forgets
//! (the lower bound), and joint training, which trains on everything seen so far (the upper
//! bound no continual method is expected to beat).

use super::{Classifier, ReplayGroup, Scenario, Strategy, TaskContext};
use metagrad_autodiff::Float;
use rand::rngs::StdRng;
use rand::Rng;

/// Plain training on the current task: nothing added.
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
