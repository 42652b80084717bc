//! Labelled examples: a batch of inputs and one class per example, shared by the continual
//! and federated learners.

use metagrad_autodiff::{Float, Tensor};
use rand::rngs::StdRng;
use rand::Rng;

/// Labelled examples: inputs `[n, ...]` and one class per example (the original class, e.g.
/// the digit, whatever the scenario).
///
/// # Examples
///
/// ```
/// use metagrad_algos::Labelled;
/// use metagrad_autodiff::Tensor;
///
/// // Three 2-value examples; the fields are public and stay in step.
/// let data = Labelled::new(Tensor::from_vec(&[3, 2], vec![0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0]), vec![7, 8, 9]);
/// assert_eq!(data.inputs.shape(), &[3, 2]);
/// assert_eq!(data.labels, vec![7, 8, 9]);
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::Labelled;
    /// use metagrad_autodiff::Tensor;
    ///
    /// let data = Labelled::new(Tensor::<f64>::zeros(&[4, 1, 2, 2]), vec![0, 1, 0, 1]);
    /// assert_eq!(data.len(), 4);
    /// // One label short of the four inputs: refused.
    /// let mismatched = std::panic::catch_unwind(|| Labelled::new(Tensor::<f64>::zeros(&[4, 3]), vec![0; 3]));
    /// assert!(mismatched.is_err());
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::Labelled;
    /// use metagrad_autodiff::Tensor;
    ///
    /// // The count is the first axis, however many values each example has.
    /// let data = Labelled::new(Tensor::<f64>::zeros(&[5, 3]), vec![1; 5]);
    /// assert_eq!(data.len(), 5);
    /// ```
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::Labelled;
    /// use metagrad_autodiff::Tensor;
    ///
    /// let data = Labelled::new(Tensor::<f64>::zeros(&[2, 3]), vec![0, 1]);
    /// assert!(!data.is_empty());
    /// assert!(data.select(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The examples at `indices`, in that order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::Labelled;
    /// use metagrad_autodiff::Tensor;
    ///
    /// // Example i holds the values (10 i, 10 i + 1) and the label i.
    /// let data = Labelled::new(Tensor::from_vec(&[3, 2], vec![0.0f64, 1.0, 10.0, 11.0, 20.0, 21.0]), vec![0, 1, 2]);
    /// // Any order, repeats allowed: inputs and labels move together.
    /// let picked = data.select(&[2, 0, 2]);
    /// assert_eq!(picked.inputs.shape(), &[3, 2]);
    /// assert_eq!(picked.inputs.to_vec(), vec![20.0, 21.0, 0.0, 1.0, 20.0, 21.0]);
    /// assert_eq!(picked.labels, vec![2, 0, 2]);
    /// ```
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
    ///
    /// # Panics
    /// If the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::Labelled;
    /// use metagrad_autodiff::Tensor;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// // Each example's single input equals its label, so a sample must keep the pairs intact.
    /// let data = Labelled::new(Tensor::from_vec(&[4, 1], vec![0.0f64, 1.0, 2.0, 3.0]), vec![0, 1, 2, 3]);
    /// let drawn = data.sample(10, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(drawn.len(), 10);
    /// for (x, &y) in drawn.inputs.to_vec().iter().zip(&drawn.labels) {
    ///     assert_eq!(*x, y as f64);
    /// }
    /// // The same seed draws the same examples.
    /// assert_eq!(data.sample(10, &mut StdRng::seed_from_u64(0)).labels, drawn.labels);
    /// ```
    pub fn sample(&self, size: usize, rng: &mut StdRng) -> Self {
        assert!(!self.is_empty(), "Labelled::sample: no examples");
        let indices: Vec<usize> = (0..size).map(|_| rng.gen_range(0..self.len())).collect();
        self.select(&indices)
    }

    /// These examples followed by `other`'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::Labelled;
    /// use metagrad_autodiff::Tensor;
    ///
    /// let a = Labelled::new(Tensor::from_vec(&[1, 2], vec![1.0f64, 2.0]), vec![0]);
    /// let b = Labelled::new(Tensor::from_vec(&[2, 2], vec![3.0, 4.0, 5.0, 6.0]), vec![1, 2]);
    /// let both = a.concat(&b);
    /// assert_eq!(both.inputs.shape(), &[3, 2]);
    /// assert_eq!(both.inputs.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// assert_eq!(both.labels, vec![0, 1, 2]);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::Labelled;
    /// use metagrad_autodiff::Tensor;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let data = Labelled::new(Tensor::from_vec(&[5, 1], vec![0.0f64, 1.0, 2.0, 3.0, 4.0]), vec![0, 1, 2, 3, 4]);
    /// let batches = data.epoch(Some(2), &mut StdRng::seed_from_u64(1));
    /// // Sizes 2, 2, 1, and every example exactly once.
    /// assert_eq!(batches.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![2, 2, 1]);
    /// let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.labels.clone()).collect();
    /// seen.sort();
    /// assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    /// // `None`: one batch of everything.
    /// assert_eq!(data.epoch(None, &mut StdRng::seed_from_u64(1)).len(), 1);
    /// ```
    pub fn epoch(&self, size: Option<usize>, rng: &mut StdRng) -> Vec<Self> {
        use rand::seq::SliceRandom;
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(rng);
        order.chunks(size.unwrap_or(self.len()).max(1)).map(|chunk| self.select(chunk)).collect()
    }
}
