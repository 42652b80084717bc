//! `Tensor<T>`: an n-dimensional array with shared, copy-on-write storage.
//!
//! Cloning a tensor (and so lifting a parameter onto a tape, or reading a value off one) only
//! bumps a reference count; the elements are copied when, and only when, a holder writes to
//! storage it shares.

use crate::Float;
use ndarray::{ArcArray, ArrayD, IxDyn};
use rand::Rng;
use std::fmt;

/// An n-dimensional array of `T` with shared, copy-on-write storage.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
///
/// let t = Tensor::from_vec(&[2, 3], vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let u = t.clone(); // a reference count, not a copy
/// assert_eq!(t.array().as_ptr(), u.array().as_ptr());
/// // Writing through the shared storage copies it first: `t` keeps its values.
/// let mut a = u.into_array();
/// a[[0, 0].as_slice()] = 10.0;
/// assert_eq!(a[[0, 0].as_slice()], 10.0);
/// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Tensor<T> {
    data: ArcArray<T, IxDyn>,
}

impl<T: Float> Tensor<T> {
    /// A tensor of the given shape from elements in row-major order.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::from_vec(&[2, 2], vec![1.0f64, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.array()[[1, 0].as_slice()], 3.0); // row-major: row 1 starts at element 2
    /// // Three elements cannot fill a [2, 2] tensor.
    /// assert!(std::panic::catch_unwind(|| Tensor::from_vec(&[2, 2], vec![0.0f64; 3])).is_err());
    /// ```
    pub fn from_vec(shape: &[usize], data: Vec<T>) -> Self {
        let len = data.len();
        let array = ArrayD::from_shape_vec(IxDyn(shape), data).unwrap_or_else(|_| {
            panic!("Tensor::from_vec: shape {shape:?} needs {} elements, got {len}", shape.iter().product::<usize>())
        });
        Self::from_array(array)
    }

    /// Wraps an ndarray array (no copy).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use ndarray::{ArrayD, IxDyn};
    ///
    /// let array = ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0f64, 2.0, 3.0]).unwrap();
    /// let buffer = array.as_ptr();
    /// let t = Tensor::from_array(array);
    /// assert_eq!(t.array().as_ptr(), buffer); // the same buffer, moved in
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0]);
    /// ```
    pub fn from_array(array: ArrayD<T>) -> Self {
        Tensor { data: array.into_shared() }
    }

    /// Wraps a shared ndarray array (no copy).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use ndarray::{ArcArray, IxDyn};
    ///
    /// let shared = ArcArray::from_elem(IxDyn(&[2, 2]), 0.5f64);
    /// let t = Tensor::from_shared(shared.clone());
    /// assert_eq!(t.array().as_ptr(), shared.as_ptr()); // both hold one buffer
    /// assert_eq!(t.sum_all(), 2.0);
    /// ```
    pub fn from_shared(array: ArcArray<T, IxDyn>) -> Self {
        Tensor { data: array }
    }

    /// An empty placeholder for a value that will not be read again (a released scratch node).
    pub(crate) fn released() -> Self {
        Self::from_vec(&[0], Vec::new())
    }

    /// A zero-dimensional tensor holding one value.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::scalar(2.5f64);
    /// assert_eq!((t.ndim(), t.len()), (0, 1)); // no axes, one element
    /// assert_eq!(t.item(), 2.5);
    /// ```
    pub fn scalar(value: T) -> Self {
        Self::from_vec(&[], vec![value])
    }

    /// A tensor of zeros.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::<f64>::zeros(&[2, 3]);
    /// assert_eq!(t.shape(), &[2, 3]);
    /// assert_eq!(t.to_vec(), vec![0.0; 6]);
    /// ```
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    /// A tensor of ones.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::<f32>::ones(&[2, 2]);
    /// assert_eq!(t.to_vec(), vec![1.0; 4]);
    /// assert_eq!(t.sum_all(), 4.0);
    /// ```
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    /// A tensor with every element equal to `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::full(&[3], 0.25f64);
    /// assert_eq!(t.to_vec(), vec![0.25, 0.25, 0.25]);
    /// ```
    pub fn full(shape: &[usize], value: T) -> Self {
        Self::from_array(ArrayD::from_elem(IxDyn(shape), value))
    }

    /// Independent draws from the uniform distribution on `[low, high)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let t = Tensor::uniform(&[100], -1.0f64, 2.0, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(t.len(), 100);
    /// assert!(t.to_vec().iter().all(|v| (-1.0..2.0).contains(v))); // `high` itself excluded
    /// // The same seed draws the same tensor.
    /// assert_eq!(t, Tensor::uniform(&[100], -1.0, 2.0, &mut StdRng::seed_from_u64(0)));
    /// ```
    pub fn uniform(shape: &[usize], low: T, high: T, rng: &mut impl Rng) -> Self {
        let len = shape.iter().product();
        let draw = |rng: &mut dyn rand::RngCore| loop {
            // Rounding to T can land on `high` itself: draw again.
            let v = low + (high - low) * T::of(rng.gen::<f64>());
            if v < high || high <= low {
                break v;
            }
        };
        Self::from_vec(shape, (0..len).map(|_| draw(rng)).collect())
    }

    /// Independent draws from the standard normal distribution (Box-Muller).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let t = Tensor::<f64>::randn(&[2000], &mut StdRng::seed_from_u64(1));
    /// let n = t.len() as f64;
    /// let mean = t.sum_all() / n;
    /// let var = t.map(|x| (x - mean) * (x - mean)).sum_all() / n;
    /// // Sample moments of 2000 draws: within a few standard errors of 0 and 1.
    /// assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.1, "mean {mean}, variance {var}");
    /// ```
    pub fn randn(shape: &[usize], rng: &mut impl Rng) -> Self {
        let len = shape.iter().product();
        let values = (0..len)
            .map(|_| {
                let u1: f64 = 1.0 - rng.gen::<f64>(); // in (0, 1], so ln is finite
                let u2: f64 = rng.gen();
                T::of((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos())
            })
            .collect();
        Self::from_vec(shape, values)
    }

    /// The size of each axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// assert_eq!(Tensor::<f64>::zeros(&[2, 3, 4]).shape(), &[2, 3, 4]);
    /// assert!(Tensor::scalar(1.0f64).shape().is_empty());
    /// ```
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// The number of axes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// assert_eq!(Tensor::<f64>::zeros(&[2, 3, 4]).ndim(), 3);
    /// assert_eq!(Tensor::scalar(1.0f64).ndim(), 0);
    /// ```
    pub fn ndim(&self) -> usize {
        self.data.ndim()
    }

    /// The number of elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// assert_eq!(Tensor::<f64>::zeros(&[2, 3, 4]).len(), 24); // 2 * 3 * 4
    /// assert_eq!(Tensor::scalar(1.0f64).len(), 1); // the empty product
    /// ```
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// assert!(Tensor::<f64>::zeros(&[2, 0]).is_empty()); // an axis of size 0
    /// assert!(!Tensor::scalar(0.0f64).is_empty()); // no axes, but one element
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::from_vec(&[2, 2], vec![1.0f64, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// // A transposed view is read in its own row-major order.
    /// let transposed = Tensor::from_shared(t.array().clone().reversed_axes());
    /// assert_eq!(transposed.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.data.iter().copied().collect()
    }

    /// The single element of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not hold exactly one element.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// assert_eq!(Tensor::from_vec(&[1, 1], vec![7.0f64]).item(), 7.0); // any shape with one element
    /// assert!(std::panic::catch_unwind(|| Tensor::<f64>::zeros(&[2]).item()).is_err());
    /// ```
    pub fn item(&self) -> T {
        assert_eq!(
            self.len(),
            1,
            "Tensor::item: tensor of shape {:?} has {} elements, not one",
            self.shape(),
            self.len()
        );
        *self.data.iter().next().expect("one element")
    }

    /// The underlying ndarray array (shared storage).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use ndarray::Axis;
    ///
    /// let t = Tensor::from_vec(&[2, 3], (0..6).map(f64::from).collect());
    /// assert_eq!(t.array()[[1, 2].as_slice()], 5.0);
    /// // Any ndarray operation, e.g. column sums [0 + 3, 1 + 4, 2 + 5]:
    /// let sums = Tensor::from_array(t.array().sum_axis(Axis(0)));
    /// assert_eq!(sums.to_vec(), vec![3.0, 5.0, 7.0]);
    /// ```
    pub fn array(&self) -> &ArcArray<T, IxDyn> {
        &self.data
    }

    /// Consumes the tensor, returning its ndarray array.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::from_vec(&[2], vec![1.0f64, 2.0]);
    /// let array = t.into_array();
    /// assert_eq!(array.shape(), &[2]);
    /// assert_eq!(Tensor::from_shared(array).to_vec(), vec![1.0, 2.0]);
    /// ```
    pub fn into_array(self) -> ArcArray<T, IxDyn> {
        self.data
    }

    /// Applies `f` to every element.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::from_vec(&[3], vec![1.0f64, -2.0, 3.0]);
    /// let squared = t.map(|x| x * x);
    /// assert_eq!(squared.shape(), &[3]);
    /// assert_eq!(squared.to_vec(), vec![1.0, 4.0, 9.0]);
    /// ```
    pub fn map(&self, f: impl Fn(T) -> T + Sync) -> Self {
        // Contiguous row-major storage (the common case) maps as a slice: no index arithmetic,
        // and long tensors in parallel blocks.
        match self.data.as_slice() {
            Some(values) => Self::from_vec(self.shape(), crate::parallel::map(values, f)),
            None => Self::from_array(self.data.map(|&x| f(x))),
        }
    }

    /// Combines two tensors of the same shape element by element.
    ///
    /// # Panics
    /// If the shapes differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let a = Tensor::from_vec(&[3], vec![1.0f64, 2.0, 3.0]);
    /// let b = Tensor::from_vec(&[3], vec![4.0, 5.0, 6.0]);
    /// assert_eq!(a.zip_map(&b, |x, y| x * y + 1.0).to_vec(), vec![5.0, 11.0, 19.0]);
    /// // No broadcasting: the shapes must be equal.
    /// assert!(std::panic::catch_unwind(|| a.zip_map(&Tensor::scalar(1.0), |x, y| x + y)).is_err());
    /// ```
    pub fn zip_map(&self, other: &Self, f: impl Fn(T, T) -> T + Sync) -> Self {
        assert_eq!(
            self.shape(),
            other.shape(),
            "Tensor::zip_map: shapes {:?} and {:?} differ",
            self.shape(),
            other.shape()
        );
        match (self.data.as_slice(), other.data.as_slice()) {
            (Some(a), Some(b)) => Self::from_vec(self.shape(), crate::parallel::zip(a, b, f)),
            _ => Self::from_array(ndarray::Zip::from(&self.data).and(&other.data).map_collect(|&a, &b| f(a, b))),
        }
    }

    /// True when every element is finite (no NaN, no infinity).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// assert!(Tensor::from_vec(&[2], vec![1.0f64, -1e300]).is_finite());
    /// assert!(!Tensor::from_vec(&[2], vec![1.0f64, f64::NAN]).is_finite());
    /// assert!(!Tensor::from_vec(&[2], vec![f64::INFINITY, 0.0]).is_finite());
    /// ```
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }

    /// Sum of all elements, in row-major order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let t = Tensor::from_vec(&[2, 2], vec![1.0f64, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.sum_all(), 10.0);
    /// assert_eq!(Tensor::<f64>::zeros(&[0]).sum_all(), 0.0);
    /// ```
    pub fn sum_all(&self) -> T {
        self.data.iter().fold(T::zero(), |acc, &x| acc + x)
    }

    /// Largest absolute difference to `other` (same shape), for tests and checks; NaN if
    /// either holds a NaN.
    ///
    /// # Panics
    /// If the shapes differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    ///
    /// let a = Tensor::from_vec(&[3], vec![1.0f64, 2.0, 3.0]);
    /// let b = Tensor::from_vec(&[3], vec![1.5, 2.0, 1.0]);
    /// assert_eq!(a.max_abs_diff(&b), 2.0); // |3 - 1|
    /// // A NaN never compares as close.
    /// let nan = Tensor::from_vec(&[3], vec![1.0, f64::NAN, 3.0]);
    /// assert!(a.max_abs_diff(&nan).is_nan());
    /// ```
    pub fn max_abs_diff(&self, other: &Self) -> T {
        assert_eq!(
            self.shape(),
            other.shape(),
            "Tensor::max_abs_diff: shapes {:?} and {:?} differ",
            self.shape(),
            other.shape()
        );
        // NaN anywhere makes the difference NaN: a comparison must not pass on NaN.
        ndarray::Zip::from(&self.data).and(&other.data).fold(T::zero(), |m, &a, &b| {
            let d = (a - b).abs();
            if m.is_nan() || d.is_nan() {
                T::nan()
            } else {
                m.max(d)
            }
        })
    }
}

impl<T: Float> From<ArrayD<T>> for Tensor<T> {
    fn from(array: ArrayD<T>) -> Self {
        Self::from_array(array)
    }
}

impl<T: Float> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor{:?} {}", self.shape(), self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_storage() {
        let t = Tensor::<f64>::ones(&[1000]);
        let u = t.clone();
        assert_eq!(t.array().as_ptr(), u.array().as_ptr());
    }

    #[test]
    #[should_panic(expected = "shape [2, 3] needs 6 elements, got 5")]
    fn from_vec_names_the_shape() {
        Tensor::<f32>::from_vec(&[2, 3], vec![0.0; 5]);
    }
}
