//! The MNIST task sequences of the continual-learning literature, as [`Task`]s.
//!
//! - **Split MNIST** (Zenke et al. 2017): five tasks of two digits, 0/1, 2/3, 4/5, 6/7, 8/9.
//! - **Permuted MNIST** (Goodfellow et al. 2013; Kirkpatrick et al. 2017): every task all ten
//!   digits, with the pixels shuffled by the task's fixed permutation (the first task keeps
//!   the original images).
//!
//! Inputs are `[n, 784]` in `[0, 1]`; labels are the digits.

use super::{Labelled, Task};
use metagrad_autodiff::{Float, Tensor};
use metagrad_data::mnist::{digit_pair_tasks, pixel_permutations, Mnist, Split};

fn labelled<T: Float>(split: &Split, indices: Option<&[usize]>, permutation: Option<&[usize]>) -> Labelled<T> {
    let split = match indices {
        Some(i) => split.select(i),
        None => split.clone(),
    };
    let split = match permutation {
        Some(p) => split.permute_pixels(p),
        None => split,
    };
    let n = split.labels.len();
    Labelled::new(
        Tensor::from_vec(&[n, 784], split.images.iter().map(|&v| T::of(f64::from(v))).collect()),
        split.labels.iter().map(|&l| usize::from(l)).collect(),
    )
}

/// Split MNIST, each task's training set cut to its first `train_per_task` examples if given.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::benchmarks::split_mnist;
/// use metagrad_data::mnist::{Mnist, Split};
/// use ndarray::Array2;
///
/// // A synthetic stand-in for MNIST: two blank images of each digit per split.
/// let split = || Split { images: Array2::zeros((20, 784)), labels: (0..20).map(|i| (i % 10) as u8).collect() };
/// let mnist = Mnist { train: split(), test: split() };
/// let tasks = split_mnist::<f32>(&mnist, Some(1));
/// assert_eq!(tasks.len(), 5);
/// // Task 2 is digits 4 and 5, cut to one training example; its test set keeps both.
/// assert_eq!((tasks[2].name.as_str(), tasks[2].classes.clone()), ("4/5", vec![4, 5]));
/// assert_eq!((tasks[2].train.len(), tasks[2].test.labels.clone()), (1, vec![4, 5, 4, 5]));
/// assert_eq!(tasks[2].train.inputs.shape(), &[1, 784]);
/// ```
pub fn split_mnist<T: Float>(mnist: &Mnist, train_per_task: Option<usize>) -> Vec<Task<T>> {
    let train = digit_pair_tasks(&mnist.train.labels);
    let test = digit_pair_tasks(&mnist.test.labels);
    train
        .iter()
        .zip(&test)
        .enumerate()
        .map(|(t, (tr, te))| Task {
            name: format!("{}/{}", 2 * t, 2 * t + 1),
            train: labelled(&mnist.train, Some(&tr[..train_per_task.unwrap_or(tr.len()).min(tr.len())]), None),
            test: labelled(&mnist.test, Some(te), None),
            classes: vec![2 * t, 2 * t + 1],
        })
        .collect()
}

/// Permuted MNIST with `tasks` permutations drawn from `seed`, each task's training set the
/// first `train_per_task` training images if given.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::benchmarks::permuted_mnist;
/// use metagrad_data::mnist::{Mnist, Split};
/// use ndarray::Array2;
///
/// // One training image whose only lit pixel is pixel 0.
/// let mut images = Array2::zeros((1, 784));
/// images[[0, 0]] = 1.0;
/// let split = Split { images, labels: vec![3] };
/// let mnist = Mnist { train: split.clone(), test: split };
/// let tasks = permuted_mnist::<f64>(&mnist, 3, 7, None);
/// assert_eq!(tasks.len(), 3);
/// assert_eq!(tasks[1].classes, (0..10).collect::<Vec<_>>());
/// // The first task keeps the image; every task keeps the label and the one lit pixel.
/// assert_eq!(tasks[0].train.inputs.to_vec()[0], 1.0);
/// for task in &tasks {
///     assert_eq!(task.train.labels, vec![3]);
///     assert_eq!(task.train.inputs.to_vec().iter().sum::<f64>(), 1.0);
/// }
/// ```
pub fn permuted_mnist<T: Float>(mnist: &Mnist, tasks: usize, seed: u64, train_per_task: Option<usize>) -> Vec<Task<T>> {
    let count = mnist.train.labels.len();
    let train: Vec<usize> = (0..train_per_task.unwrap_or(count).min(count)).collect();
    pixel_permutations(tasks, seed)
        .iter()
        .enumerate()
        .map(|(t, p)| Task {
            name: format!("perm {t}"),
            train: labelled(&mnist.train, Some(&train), Some(p)),
            test: labelled(&mnist.test, None, Some(p)),
            classes: (0..10).collect(),
        })
        .collect()
}
