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
#[derive(Clone, PartialEq)]
pub struct Tensor<T> {
    data: ArcArray<T, IxDyn>,
}

impl<T: Float> Tensor<T> {
    /// A tensor of the given shape from elements in row-major order.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape`.
    pub fn from_vec(shape: &[usize], data: Vec<T>) -> Self {
        let len = data.len();
        let array = ArrayD::from_shape_vec(IxDyn(shape), data).unwrap_or_else(|_| {
            panic!("Tensor::from_vec: shape {shape:?} needs {} elements, got {len}", shape.iter().product::<usize>())
        });
        Self::from_array(array)
    }

    /// Wraps an ndarray array (no copy).
    pub fn from_array(array: ArrayD<T>) -> Self {
        Tensor { data: array.into_shared() }
    }

    /// Wraps a shared ndarray array (no copy).
    pub fn from_shared(array: ArcArray<T, IxDyn>) -> Self {
        Tensor { data: array }
    }

    /// An empty placeholder for a value that will not be read again (a released scratch node).
    pub(crate) fn released() -> Self {
        Self::from_vec(&[0], Vec::new())
    }

    /// A zero-dimensional tensor holding one value.
    pub fn scalar(value: T) -> Self {
        Self::from_vec(&[], vec![value])
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    /// A tensor with every element equal to `value`.
    pub fn full(shape: &[usize], value: T) -> Self {
        Self::from_array(ArrayD::from_elem(IxDyn(shape), value))
    }

    /// Independent draws from the uniform distribution on `[low, high)`.
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
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.data.ndim()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order.
    pub fn to_vec(&self) -> Vec<T> {
        self.data.iter().copied().collect()
    }

    /// The single element of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not hold exactly one element.
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
    pub fn array(&self) -> &ArcArray<T, IxDyn> {
        &self.data
    }

    /// Consumes the tensor, returning its ndarray array.
    pub fn into_array(self) -> ArcArray<T, IxDyn> {
        self.data
    }

    /// Applies `f` to every element.
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
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }

    /// Sum of all elements, in row-major order.
    pub fn sum_all(&self) -> T {
        self.data.iter().fold(T::zero(), |acc, &x| acc + x)
    }

    /// Largest absolute difference to `other` (same shape), for tests and checks; NaN if
    /// either holds a NaN.
    ///
    /// # Panics
    /// If the shapes differ.
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
