//! Labelled examples: a batch of inputs and one class per example, shared by the continual
//! and federated learners.

use metagrad_autodiff::{Float, Tensor};
use rand::rngs::StdRng;
use rand::Rng;

/// Labelled examples: inputs `[n, ...]` and one class per example (the original class, e.g.
/// the digit, whatever the scenario).
#[derive(Clone, Debug)]
pub struct Labelled<T: Float> {
    /// `[n, ...]`.
    pub inputs: Tensor<T>,
    /// `n` classes.
    pub labels: Vec<usize>,
}

impl<T: Float> Labelled<T> {
    /// Inputs and labels, checked to agree in count.
    ///
    /// # Panics
    /// If the counts differ.
    pub fn new(inputs: Tensor<T>, labels: Vec<usize>) -> Self {
        assert_eq!(
            inputs.shape().first().copied().unwrap_or(0),
            labels.len(),
            "Labelled: inputs of shape {:?} for {} labels",
            inputs.shape(),
            labels.len()
        );
        Labelled { inputs, labels }
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The examples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let row = self.inputs.len() / self.len().max(1);
        let mut values = Vec::with_capacity(indices.len() * row);
        let owned;
        let data = match self.inputs.array().as_slice() {
            Some(contiguous) => contiguous,
            None => {
                owned = self.inputs.to_vec();
                &owned
            }
        };
        for &i in indices {
            values.extend_from_slice(&data[i * row..(i + 1) * row]);
        }
        let mut shape = self.inputs.shape().to_vec();
        shape[0] = indices.len();
        Labelled { inputs: Tensor::from_vec(&shape, values), labels: indices.iter().map(|&i| self.labels[i]).collect() }
    }

    /// `size` examples drawn uniformly with replacement.
    pub fn sample(&self, size: usize, rng: &mut StdRng) -> Self {
        assert!(!self.is_empty(), "Labelled::sample: no examples");
        let indices: Vec<usize> = (0..size).map(|_| rng.gen_range(0..self.len())).collect();
        self.select(&indices)
    }

    /// These examples followed by `other`'s.
    pub fn concat(&self, other: &Self) -> Self {
        if self.is_empty() {
            return other.clone();
        }
        let mut shape = self.inputs.shape().to_vec();
        shape[0] += other.len();
        let values = self.inputs.to_vec().into_iter().chain(other.inputs.to_vec()).collect();
        Labelled {
            inputs: Tensor::from_vec(&shape, values),
            labels: self.labels.iter().chain(&other.labels).copied().collect(),
        }
    }

    /// One epoch of minibatches of `size` (the last may be smaller) in a seeded random order;
    /// `None` gives the whole set as one batch.
    pub fn epoch(&self, size: Option<usize>, rng: &mut StdRng) -> Vec<Self> {
        use rand::seq::SliceRandom;
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(rng);
        order.chunks(size.unwrap_or(self.len()).max(1)).map(|chunk| self.select(chunk)).collect()
    }
}
