//! The sinusoid regression benchmark of the MAML paper (Finn et al. 2017, §5.1): tasks
//! `y = A sin(x - phi)`, a 1-40-40-1 ReLU network, `K` support and `K` query points per task.

use super::{Batch, Episode};
use metagrad_autodiff::{Float, Tensor};
use metagrad_data::sinusoid::{Points, SinusoidTask};
use metagrad_nn::layers::{Activation, Linear};
use metagrad_nn::Sequential;
use rand::Rng;

/// The paper's regressor: `1 -> hidden -> hidden -> 1` with ReLU. Its head (the last layer)
/// is part `"4."`.
pub fn network<T: Float>(hidden: usize) -> Sequential<T> {
    body(hidden).push(Linear::new(hidden, 1))
}

/// The prefix of [`network`]'s head parameters (for ANIL).
pub const HEAD_PREFIX: &str = "4.";

/// [`network`] without its last layer: the feature extractor for a closed-form head (R2D2).
pub fn body<T: Float>(hidden: usize) -> Sequential<T> {
    Sequential::default()
        .push(Linear::new(1, hidden))
        .push(Activation::Relu)
        .push(Linear::new(hidden, hidden))
        .push(Activation::Relu)
}

/// A regression batch from sinusoid points.
pub fn batch<T: Float>(points: &Points) -> Batch<T> {
    let convert =
        |a: &ndarray::Array2<f32>| Tensor::from_vec(&[a.nrows(), 1], a.iter().map(|&v| T::of(f64::from(v))).collect());
    Batch::regression(convert(&points.x), convert(&points.y))
}

/// A fresh task with `shots` support and `queries` query points.
pub fn episode<T: Float>(shots: usize, queries: usize, rng: &mut impl Rng) -> (SinusoidTask, Episode<T>) {
    let task = SinusoidTask::sample(rng);
    let (support, query) = task.support_query(shots, queries, rng);
    (task, Episode { support: batch(&support), query: batch(&query) })
}

/// `tasks` fresh episodes (a meta-batch).
pub fn meta_batch<T: Float>(tasks: usize, shots: usize, queries: usize, rng: &mut impl Rng) -> Vec<Episode<T>> {
    (0..tasks).map(|_| episode(shots, queries, rng).1).collect()
}
