//! Reductions: sum and mean (via `sum_to`), max and min, and the log-sum-exp family.

use crate::{Float, Grads, Op, Tensor, Var};
use ndarray::{Axis, Zip};

/// Max over `axes`, keeping them as size-1 axes.
struct MaxAxes(Vec<usize>);
impl<T: Float> Op<T> for MaxAxes {
    fn name(&self) -> &'static str {
        "max"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let mut max = x[0].array().to_owned();
        for &axis in &self.0 {
            // NaN wins, so that a NaN input gives a NaN max (and anomaly mode sees it).
            max = max
                .fold_axis(Axis(axis), T::neg_infinity(), |&m, &v| {
                    if m.is_nan() || v > m || v.is_nan() {
                        if m.is_nan() {
                            m
                        } else {
                            v
                        }
                    } else {
                        m
                    }
                })
                .insert_axis(Axis(axis));
        }
        Tensor::from_array(max)
    }
    // The cotangent flows to the arg-max; ties share it equally. The routing weights are
    // constants: they are piecewise constant in x, so their derivative is zero.
    fn vjp<'t>(&self, x: &[Var<'t, T>], max: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        let shape = x[0].shape();
        let x_value = x[0].value();
        let max_value = max.value();
        let max_b = max_value.array().broadcast(shape.as_slice()).expect("keepdim shape broadcasts");
        let hits =
            Zip::from(x_value.array()).and(&max_b).map_collect(|&v, &m| if v == m { T::one() } else { T::zero() });
        let mut counts = hits.clone();
        for &axis in &self.0 {
            counts = counts.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
        let weights = &hits / &counts.broadcast(shape.as_slice()).expect("keepdim shape broadcasts");
        vec![Some(g.broadcast_to(&shape) * g.constant(Tensor::from_array(weights)))]
    }
}

impl<'t, T: Float> Var<'t, T> {
    fn check_axes(self, axes: &[usize], op: &str) -> Vec<usize> {
        let shape = self.shape();
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert!(
            sorted.len() == axes.len() && sorted.iter().all(|&a| a < shape.len()),
            "{op}: axes {axes:?} are not distinct axes of a tensor of shape {shape:?}"
        );
        sorted
    }

    /// `shape` with `axes` set to 1 (keepdim) or removed.
    fn reduced_shape(self, axes: &[usize], keepdim: bool) -> Vec<usize> {
        let shape = self.shape();
        (0..shape.len())
            .filter_map(|i| match (axes.contains(&i), keepdim) {
                (false, _) => Some(shape[i]),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect()
    }

    /// Sum over `axes`; with `keepdim` they stay as size-1 axes.
    pub fn sum_axes(self, axes: &[usize], keepdim: bool) -> Self {
        let axes = self.check_axes(axes, "sum_axes");
        let summed = self.sum_to(&self.reduced_shape(&axes, true));
        summed.reshape(&self.reduced_shape(&axes, keepdim))
    }

    /// Sum of all elements, as a zero-dimensional Var.
    pub fn sum(self) -> Self {
        self.sum_to(&[])
    }

    /// Mean over `axes`; with `keepdim` they stay as size-1 axes.
    pub fn mean_axes(self, axes: &[usize], keepdim: bool) -> Self {
        let shape = self.shape();
        let count: usize = axes.iter().map(|&a| shape.get(a).copied().unwrap_or(1)).product();
        self.sum_axes(axes, keepdim) * (T::one() / T::of(count as f64))
    }

    /// Mean of all elements, as a zero-dimensional Var.
    pub fn mean(self) -> Self {
        let count = self.len();
        self.sum() * (T::one() / T::of(count as f64))
    }

    /// Max over `axes`; with `keepdim` they stay as size-1 axes. At ties the gradient is
    /// shared equally.
    pub fn max_axes(self, axes: &[usize], keepdim: bool) -> Self {
        let axes = self.check_axes(axes, "max_axes");
        let max = self.tape.apply(MaxAxes(axes.clone()), &[self]);
        max.reshape(&self.reduced_shape(&axes, keepdim))
    }

    /// Min over `axes`, as `-max(-x)`.
    pub fn min_axes(self, axes: &[usize], keepdim: bool) -> Self {
        -(-self).max_axes(axes, keepdim)
    }

    /// `log(sum(exp(x)))` over `axes`, shifted by the (constant) max so that it cannot overflow.
    /// The shift cancels exactly, so treating it as a constant leaves every derivative right.
    /// A non-finite max (a row of `-inf`, or a `+inf`) shifts by 0 instead, so such rows give
    /// `-inf` / `+inf` rather than NaN.
    pub fn logsumexp(self, axes: &[usize], keepdim: bool) -> Self {
        let max = self.tape.no_grad(|| self.max_axes(axes, true)).value();
        let shift = self.constant(max.map(|m| if m.is_finite() { m } else { T::zero() }));
        let lse = (self - shift).exp().sum_axes(axes, true).log() + shift;
        lse.reshape(&self.reduced_shape(&self.check_axes(axes, "logsumexp"), keepdim))
    }

    /// `log(softmax(x))` along `axis`, as `x - logsumexp(x)`: stable for any logits.
    pub fn log_softmax(self, axis: usize) -> Self {
        self - self.logsumexp(&[axis], true)
    }

    /// Softmax along `axis`, as `exp(log_softmax(x))`.
    pub fn softmax(self, axis: usize) -> Self {
        self.log_softmax(axis).exp()
    }
}
