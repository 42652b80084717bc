//! The nearest-neighbour baseline in pixel space: a query takes the class of the support
//! example closest to it in squared Euclidean distance between raw inputs. Nothing is learned;
//! it is the floor any learned embedding must clear.

use super::inner::class_counts;
use super::{Batch, Episode, MetaMethod, TaskGradient};
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::{Module, Params};

/// Nearest neighbour on raw inputs.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{evaluate, Batch, Episode, PixelNearestNeighbour};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::{Params, Sequential};
///
/// // Nothing is learned, so any model and no parameters will do.
/// let (model, meta) = (Sequential::<f64>::default(), Params::new());
/// let support = Batch::classification(Tensor::from_vec(&[2, 2], vec![0.0, 0.0, 5.0, 5.0]), vec![0, 1]);
/// let query = Batch::classification(Tensor::from_vec(&[2, 2], vec![4.0, 6.0, 1.0, -1.0]), vec![1, 0]);
/// let scores = evaluate(&PixelNearestNeighbour, &model, &meta, &[Episode { support, query }], &[0]);
/// assert_eq!(scores[0].mean, 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PixelNearestNeighbour;

impl PixelNearestNeighbour {
    /// Logits `[n, ways]`: minus the squared distance from each row of `inputs` to the nearest
    /// support example of each class.
    ///
    /// # Panics
    /// If `support` is not a classification batch, some class in `0..ways` has no example, or
    /// the inputs differ in size from the support examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, PixelNearestNeighbour};
    /// use metagrad_autodiff::Tensor;
    ///
    /// // Class 0 at (0, 0) and (3, 0), class 1 at (1, 1); one query at (2, 0).
    /// let points = Tensor::from_vec(&[3, 2], vec![0.0f64, 0.0, 3.0, 0.0, 1.0, 1.0]);
    /// let support = Batch::classification(points, vec![0, 0, 1]);
    /// let logits = PixelNearestNeighbour.logits(&support, &Tensor::from_vec(&[1, 2], vec![2.0, 0.0]));
    /// // The nearer class-0 point is (3, 0) at squared distance 1; (1, 1) is at 1 + 1 = 2.
    /// assert_eq!(logits.to_vec(), vec![-1.0, -2.0]);
    /// ```
    pub fn logits<T: Float>(&self, support: &Batch<T>, inputs: &Tensor<T>) -> Tensor<T> {
        let (labels, ways, _) = class_counts(support, "PixelNearestNeighbour");
        let (s, x) = (support.inputs.to_vec(), inputs.to_vec());
        let size = s.len() / support.len().max(1);
        let n = inputs.shape()[0];
        assert_eq!(
            x.len(),
            n * size,
            "PixelNearestNeighbour: inputs of {} values, support examples of {size}",
            x.len() / n.max(1)
        );
        let mut logits = vec![T::neg_infinity(); n * ways];
        for (q, row) in x.chunks(size.max(1)).enumerate() {
            for (example, &label) in s.chunks(size.max(1)).zip(labels) {
                let d = row.iter().zip(example).fold(T::zero(), |acc, (&a, &b)| acc + (a - b) * (a - b));
                let slot = &mut logits[q * ways + label];
                *slot = slot.max(-d);
            }
        }
        Tensor::from_vec(&[n, ways], logits)
    }
}

impl<T: Float> MetaMethod<T> for PixelNearestNeighbour {
    fn name(&self) -> &'static str {
        "nearest-neighbour"
    }

    /// Nothing to learn: zero gradients for whatever parameters there are, and the query loss
    /// of the distance logits.
    fn task_gradient(&self, _model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        let logits = self.logits(&episode.support, &episode.query.inputs);
        TaskGradient { grads: meta.map(|t| t.map(|_| T::zero())), query_loss: episode.query.loss_value(&logits) }
    }

    fn adapted_predictions(
        &self,
        _model: &dyn Module<T>,
        _meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        let logits = self.logits(support, inputs);
        steps.iter().map(|_| logits.clone()).collect()
    }
}
