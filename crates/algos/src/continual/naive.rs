//! The two ends of the scale: naive fine-tuning, which trains on each task in turn and forgets
//! (the lower bound), and joint training, which trains on everything seen so far (the upper
//! bound no continual method is expected to beat).

use super::{Classifier, ReplayGroup, Strategy, TaskContext};
use metagrad_autodiff::Float;
use rand::rngs::StdRng;

/// Plain training on the current task: nothing added.
#[derive(Clone, Copy, Debug, Default)]
pub struct Naive;

impl<T: Float> Strategy<T> for Naive {
    fn name(&self) -> String {
        "naive".into()
    }
}

/// Joint training: each step also replays a batch from every earlier task's whole training
/// set (each under its own head), weighted as the training loop weighs replay, so in
/// expectation every task seen so far counts equally, as if the union were one data set.
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
        (0..cx.task).map(|j| ReplayGroup { examples: cx.tasks[j].train.sample(size, rng), head: cx.head(j) }).collect()
    }
}
