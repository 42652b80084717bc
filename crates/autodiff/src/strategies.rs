//! Proptest strategies for gradient tests: random shapes (size-1 axes included), pairs of
//! shapes that broadcast, and well-conditioned values. Enabled by the `proptest` feature so
//! downstream crates can test their own ops the way metagrad tests its own.

use crate::Tensor;
use proptest::collection::vec;
use proptest::prelude::*;

/// A shape of rank `0..=max_rank` with each axis in `1..=max_dim`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::strategies::shape;
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..20 {
///     let s = shape(3, 4).new_tree(&mut runner).unwrap().current();
///     assert!(s.len() <= 3 && s.iter().all(|d| (1..=4).contains(d)), "{s:?}");
/// }
/// ```
pub fn shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    vec(1..=max_dim, 0..=max_rank)
}

/// A tensor of the given shape with values uniform in `[low, high]`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::strategies::tensor_of;
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let t = tensor_of(vec![2, 3], -1.0, 1.0).new_tree(&mut runner).unwrap().current();
/// assert_eq!(t.shape(), &[2, 3]);
/// assert!(t.to_vec().iter().all(|v| (-1.0..=1.0).contains(v)));
/// ```
pub fn tensor_of(shape: Vec<usize>, low: f64, high: f64) -> impl Strategy<Value = Tensor<f64>> {
    let len: usize = shape.iter().product();
    vec(low..=high, len).prop_map(move |values| Tensor::from_vec(&shape, values))
}

/// A tensor of the given shape whose values have magnitude in `[min_abs, max_abs]` and a
/// random sign: away from the kinks of `relu`, `abs` and friends, where finite differences lie.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::strategies::tensor_away_from_zero;
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let t = tensor_away_from_zero(vec![50], 0.5, 2.0).new_tree(&mut runner).unwrap().current();
/// let values = t.to_vec();
/// assert!(values.iter().all(|v| (0.5..=2.0).contains(&v.abs())));
/// assert!(values.iter().any(|&v| v < 0.0) && values.iter().any(|&v| v > 0.0)); // both signs
/// ```
pub fn tensor_away_from_zero(shape: Vec<usize>, min_abs: f64, max_abs: f64) -> impl Strategy<Value = Tensor<f64>> {
    let len: usize = shape.iter().product();
    vec((min_abs..=max_abs, any::<bool>()), len).prop_map(move |values| {
        Tensor::from_vec(&shape, values.into_iter().map(|(m, negative)| if negative { -m } else { m }).collect())
    })
}

/// A tensor of random shape (see [`shape`]) with values uniform in `[low, high]`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::strategies::tensor;
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..20 {
///     let t = tensor(2, 3, 0.0, 1.0).new_tree(&mut runner).unwrap().current();
///     assert!(t.ndim() <= 2 && t.shape().iter().all(|d| (1..=3).contains(d)));
///     assert!(t.to_vec().iter().all(|v| (0.0..=1.0).contains(v)));
/// }
/// ```
pub fn tensor(max_rank: usize, max_dim: usize, low: f64, high: f64) -> impl Strategy<Value = Tensor<f64>> {
    shape(max_rank, max_dim).prop_flat_map(move |s| tensor_of(s, low, high))
}

/// Two shapes that broadcast together: a full shape, and a copy with some axes set to 1 and
/// some leading axes dropped.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::broadcast_shape;
/// use metagrad_autodiff::strategies::broadcastable_shapes;
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..20 {
///     let (full, other) = broadcastable_shapes(3, 4).new_tree(&mut runner).unwrap().current();
///     assert!(other.len() <= full.len());
///     assert_eq!(broadcast_shape(&full, &other), Some(full)); // `other` stretches to `full`
/// }
/// ```
pub fn broadcastable_shapes(max_rank: usize, max_dim: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape(max_rank, max_dim).prop_flat_map(|full| {
        let rank = full.len();
        (Just(full), vec(any::<bool>(), rank), 0..=rank).prop_map(|(full, ones, dropped)| {
            let other: Vec<usize> =
                full.iter().zip(&ones).map(|(&d, &one)| if one { 1 } else { d }).skip(dropped).collect();
            (full, other)
        })
    })
}

/// Values that are pairwise at least `gap` apart (for max, min and sorting-like ops, where
/// ties make the derivative undefined): a shuffled arithmetic progression.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::strategies::distinct_tensor_of;
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let t = distinct_tensor_of(vec![2, 3], 0.5).new_tree(&mut runner).unwrap().current();
/// assert_eq!(t.shape(), &[2, 3]);
/// let mut sorted = t.to_vec();
/// sorted.sort_by(f64::total_cmp);
/// assert!(sorted.windows(2).all(|w| w[1] - w[0] >= 0.5)); // no ties, no near-ties
/// ```
pub fn distinct_tensor_of(shape: Vec<usize>, gap: f64) -> impl Strategy<Value = Tensor<f64>> {
    let len: usize = shape.iter().product();
    Just((0..len).map(|i| (i as f64 - len as f64 / 2.0) * gap).collect::<Vec<_>>())
        .prop_shuffle()
        .prop_map(move |values| Tensor::from_vec(&shape, values))
}
