//! The accuracy matrix and the figures derived from it.
//!
//! With `T` tasks, `R[i][j]` is the test accuracy on task `j` after training on tasks
//! `0..=i`, and `b[j]` the accuracy of the untrained model on task `j`:
//!
//! ```text
//! average accuracy  A   = 1/T       sum_j        R[T-1][j]
//! backward transfer BWT = 1/(T-1)   sum_{j<T-1}  R[T-1][j] - R[j][j]
//! forward transfer  FWT = 1/(T-1)   sum_{j>0}    R[j-1][j] - b[j]
//! forgetting        F   = 1/(T-1)   sum_{j<T-1}  max_{l in j..T-1} R[l][j] - R[T-1][j]
//! ```
//!
//! `A`, `BWT` and `FWT` are as Lopez-Paz & Ranzato (2017, GEM) define them; `F` follows
//! Chaudhry et al. (2018, RWalk), the drop from the best accuracy a task had before the last
//! task to its final one, with the best taken from the task's own training on (`l >= j`:
//! chance-level accuracies before a task was learned do not count). A negative BWT is
//! forgetting; `F` can be negative when the last task improved an earlier one.

/// `R[i][j]` (see the module docs), and the untrained model's accuracies `b[j]`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::AccuracyMatrix;
///
/// // Two tasks: task 0 learnt to 0.9 and then forgotten down to 0.6.
/// let m = AccuracyMatrix { rows: vec![vec![0.9, 0.5], vec![0.6, 0.8]], baseline: vec![0.5, 0.5] };
/// assert_eq!(m.tasks(), 2);
/// assert!((m.backward_transfer() + 0.3).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AccuracyMatrix {
    /// `rows[i][j]`: accuracy on task `j` after training task `i`; `T` rows of `T`.
    pub rows: Vec<Vec<f64>>,
    /// The untrained model's accuracy on each task.
    pub baseline: Vec<f64>,
}

impl AccuracyMatrix {
    /// The number of tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::AccuracyMatrix;
    ///
    /// let m = AccuracyMatrix { rows: vec![vec![1.0, 0.0, 0.0]], baseline: vec![0.5; 3] };
    /// // Counted from the baseline, so a matrix still being filled knows its size.
    /// assert_eq!(m.tasks(), 3);
    /// ```
    pub fn tasks(&self) -> usize {
        self.baseline.len()
    }

    /// The final row's mean: accuracy over all tasks at the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::AccuracyMatrix;
    ///
    /// let m = AccuracyMatrix { rows: vec![vec![1.0, 0.5], vec![0.25, 0.75]], baseline: vec![0.5, 0.5] };
    /// // Only the last row counts: (0.25 + 0.75) / 2.
    /// assert_eq!(m.average_accuracy(), 0.5);
    /// ```
    pub fn average_accuracy(&self) -> f64 {
        let last = self.rows.last().expect("an accuracy matrix with rows");
        last.iter().sum::<f64>() / last.len() as f64
    }

    /// The mean accuracy over tasks `0..=i` after training task `i` (the curve of average
    /// accuracy as tasks arrive).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::AccuracyMatrix;
    ///
    /// let m = AccuracyMatrix { rows: vec![vec![1.0, 0.0], vec![0.5, 1.0]], baseline: vec![0.5, 0.5] };
    /// // After task 0 only task 0 counts; after task 1, both.
    /// assert_eq!((m.average_after(0), m.average_after(1)), (1.0, 0.75));
    /// ```
    pub fn average_after(&self, i: usize) -> f64 {
        self.rows[i][..=i].iter().sum::<f64>() / (i + 1) as f64
    }

    /// Backward transfer (negative: forgetting). Zero for one task.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::AccuracyMatrix;
    ///
    /// let m = AccuracyMatrix {
    ///     rows: vec![vec![1.0, 0.0, 0.0], vec![0.75, 1.0, 0.0], vec![0.5, 1.0, 1.0]],
    ///     baseline: vec![0.0; 3],
    /// };
    /// // ((0.5 - 1.0) + (1.0 - 1.0)) / 2: task 0 lost half of what it had learnt.
    /// assert_eq!(m.backward_transfer(), -0.25);
    /// ```
    pub fn backward_transfer(&self) -> f64 {
        let t = self.tasks();
        if t < 2 {
            return 0.0;
        }
        (0..t - 1).map(|j| self.rows[t - 1][j] - self.rows[j][j]).sum::<f64>() / (t - 1) as f64
    }

    /// Forward transfer: accuracy on a task before training on it, over the untrained model's.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::AccuracyMatrix;
    ///
    /// let m = AccuracyMatrix { rows: vec![vec![1.0, 0.75], vec![0.5, 1.0]], baseline: vec![0.5, 0.5] };
    /// // Before its own training task 1 was at 0.75, against 0.5 untrained.
    /// assert_eq!(m.forward_transfer(), 0.25);
    /// ```
    pub fn forward_transfer(&self) -> f64 {
        let t = self.tasks();
        if t < 2 {
            return 0.0;
        }
        (1..t).map(|j| self.rows[j - 1][j] - self.baseline[j]).sum::<f64>() / (t - 1) as f64
    }

    /// Forgetting: the mean drop from each earlier task's best accuracy to its final one.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::AccuracyMatrix;
    ///
    /// let m = AccuracyMatrix {
    ///     rows: vec![vec![0.5, 0.0, 0.0], vec![1.0, 1.0, 0.0], vec![0.75, 1.0, 1.0]],
    ///     baseline: vec![0.0; 3],
    /// };
    /// // Task 0 peaked at 1.0 after task 1 and ended at 0.75: forgetting counts from the peak,
    /// // where backward transfer (0.75 - 0.5) sees a gain.
    /// assert_eq!(m.forgetting(), 0.125);
    /// assert_eq!(m.backward_transfer(), 0.125);
    /// ```
    pub fn forgetting(&self) -> f64 {
        let t = self.tasks();
        if t < 2 {
            return 0.0;
        }
        (0..t - 1)
            .map(|j| {
                let best = (j..t - 1).map(|l| self.rows[l][j]).fold(f64::NEG_INFINITY, f64::max);
                best - self.rows[t - 1][j]
            })
            .sum::<f64>()
            / (t - 1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tasks, by hand.
    #[test]
    fn metrics_by_hand() {
        let m = AccuracyMatrix {
            rows: vec![vec![0.9, 0.2, 0.1], vec![0.6, 0.8, 0.3], vec![0.5, 0.7, 0.95]],
            baseline: vec![0.1, 0.1, 0.2],
        };
        assert!((m.average_accuracy() - (0.5 + 0.7 + 0.95) / 3.0).abs() < 1e-12);
        assert!((m.average_after(1) - 0.7).abs() < 1e-12);
        // ((0.5 - 0.9) + (0.7 - 0.8)) / 2
        assert!((m.backward_transfer() + 0.25).abs() < 1e-12);
        // ((0.2 - 0.1) + (0.3 - 0.2)) / 2
        assert!((m.forward_transfer() - 0.1).abs() < 1e-12);
        // task 0: best 0.9 -> 0.5; task 1: best 0.8 -> 0.7
        assert!((m.forgetting() - 0.25).abs() < 1e-12);
    }

    /// Forgetting counts the best accuracy, not the first: a task that improved after its
    /// own training and then fell back is charged from its peak, where BWT sees no loss.
    #[test]
    fn forgetting_counts_from_the_peak() {
        let m = AccuracyMatrix { rows: vec![vec![0.7, 0.0], vec![0.7, 0.9]], baseline: vec![0.0, 0.0] };
        assert_eq!(m.forgetting(), 0.0);
        let m = AccuracyMatrix {
            rows: vec![vec![0.6, 0.0, 0.0], vec![0.8, 0.9, 0.0], vec![0.6, 0.9, 1.0]],
            baseline: vec![0.0; 3],
        };
        assert!((m.backward_transfer() - 0.0).abs() < 1e-12);
        assert!((m.forgetting() - 0.1).abs() < 1e-12);
    }
}
