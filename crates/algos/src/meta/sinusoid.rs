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
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::sinusoid::{network, HEAD_PREFIX};
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::{Context, Module};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // `forward` runs a freshly initialised network on a batch.
/// # let forward = |net: &dyn Module<f64>, x: Tensor<f64>| {
/// #     let tape = Tape::new();
/// #     let params = net.init(&mut StdRng::seed_from_u64(0));
/// #     net.forward(&params.on(&tape), tape.constant(x), &mut Context::transductive(0)).value()
/// # };
/// // One output per input point.
/// assert_eq!(forward(&network(6), Tensor::zeros(&[5, 1])).shape(), &[5, 1]);
/// // The head maps the 6 hidden units to the output.
/// let params = network::<f64>(6).init(&mut StdRng::seed_from_u64(0));
/// assert_eq!(params.get(&format!("{HEAD_PREFIX}weight")).unwrap().shape(), &[6, 1]);
/// ```
pub fn network<T: Float>(hidden: usize) -> Sequential<T> {
    body(hidden).push(Linear::new(hidden, 1))
}

/// The prefix of [`network`]'s head parameters (for ANIL).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::sinusoid::{network, HEAD_PREFIX};
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // Linear, ReLU, Linear, ReLU, Linear: the head is part 4, its last two parameters.
/// let params = network::<f64>(8).init(&mut StdRng::seed_from_u64(0));
/// let head: Vec<&str> = params.names().filter(|n| n.starts_with(HEAD_PREFIX)).collect();
/// assert_eq!(head, vec!["4.weight", "4.bias"]);
/// assert_eq!(params.names().skip(params.len() - 2).collect::<Vec<_>>(), head);
/// ```
pub const HEAD_PREFIX: &str = "4.";

/// [`network`] without its last layer: the feature extractor for a closed-form head (R2D2).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::sinusoid::body;
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::{Context, Module};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // `forward` runs a freshly initialised network on a batch.
/// # let forward = |net: &dyn Module<f64>, x: Tensor<f64>| {
/// #     let tape = Tape::new();
/// #     let params = net.init(&mut StdRng::seed_from_u64(0));
/// #     net.forward(&params.on(&tape), tape.constant(x), &mut Context::transductive(0)).value()
/// # };
/// let features = forward(&body(6), Tensor::from_vec(&[3, 1], vec![-1.0, 0.0, 2.0]));
/// // Six non-negative (ReLU) features per point.
/// assert_eq!(features.shape(), &[3, 6]);
/// assert!(features.to_vec().iter().all(|&f| f >= 0.0));
/// ```
pub fn body<T: Float>(hidden: usize) -> Sequential<T> {
    Sequential::default()
        .push(Linear::new(1, hidden))
        .push(Activation::Relu)
        .push(Linear::new(hidden, hidden))
        .push(Activation::Relu)
}

/// A regression batch from sinusoid points.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{sinusoid, Batch, Target};
/// use metagrad_autodiff::Tensor;
/// use metagrad_data::sinusoid::Points;
/// use ndarray::array;
///
/// let points = Points { x: array![[0.5f32], [1.0]], y: array![[2.0f32], [-1.0]] };
/// let batch: Batch<f64> = sinusoid::batch(&points);
/// assert_eq!(batch.inputs.to_vec(), vec![0.5, 1.0]);
/// // Column tensors `[n, 1]`, inputs and regression targets alike.
/// assert_eq!(batch.inputs.shape(), &[2, 1]);
/// assert_eq!(batch.target, Target::Values(Tensor::from_vec(&[2, 1], vec![2.0, -1.0])));
/// ```
pub fn batch<T: Float>(points: &Points) -> Batch<T> {
    let convert =
        |a: &ndarray::Array2<f32>| Tensor::from_vec(&[a.nrows(), 1], a.iter().map(|&v| T::of(f64::from(v))).collect());
    Batch::regression(convert(&points.x), convert(&points.y))
}

/// A fresh task with `shots` support and `queries` query points.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{sinusoid, Target};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let (task, episode) = sinusoid::episode::<f64>(5, 10, &mut StdRng::seed_from_u64(0));
/// assert_eq!((episode.support.len(), episode.query.len()), (5, 10));
/// // Every target is the task's curve at its input (stored as f32, hence the tolerance).
/// let Target::Values(y) = &episode.query.target else { unreachable!() };
/// for (x, y) in episode.query.inputs.to_vec().iter().zip(y.to_vec()) {
///     assert!((task.eval(*x) - y).abs() < 1e-5);
/// }
/// ```
pub fn episode<T: Float>(shots: usize, queries: usize, rng: &mut impl Rng) -> (SinusoidTask, Episode<T>) {
    let task = SinusoidTask::sample(rng);
    let (support, query) = task.support_query(shots, queries, rng);
    (task, Episode { support: batch(&support), query: batch(&query) })
}

/// `tasks` fresh episodes (a meta-batch).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::sinusoid;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let tasks = sinusoid::meta_batch::<f64>(4, 5, 3, &mut StdRng::seed_from_u64(0));
/// assert_eq!(tasks.len(), 4);
/// assert!(tasks.iter().all(|e| e.support.len() == 5 && e.query.len() == 3));
/// // Fresh tasks: their curves, hence their targets, differ.
/// assert_ne!(tasks[0].support.target, tasks[1].support.target);
/// ```
pub fn meta_batch<T: Float>(tasks: usize, shots: usize, queries: usize, rng: &mut impl Rng) -> Vec<Episode<T>> {
    (0..tasks).map(|_| episode(shots, queries, rng).1).collect()
}
