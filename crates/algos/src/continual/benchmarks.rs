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
