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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// let columns = x.sum_axes(&[0], false);
    /// assert_eq!((columns.shape(), columns.value().to_vec()), (vec![3], vec![5.0, 7.0, 9.0]));
    /// let rows = x.sum_axes(&[1], true);
    /// assert_eq!((rows.shape(), rows.value().to_vec()), (vec![2, 1], vec![6.0, 15.0]));
    /// assert_eq!(x.sum_axes(&[0, 1], false).item(), 21.0);
    /// ```
    pub fn sum_axes(self, axes: &[usize], keepdim: bool) -> Self {
        let axes = self.check_axes(axes, "sum_axes");
        let summed = self.sum_to(&self.reduced_shape(&axes, true));
        summed.reshape(&self.reduced_shape(&axes, keepdim))
    }

    /// Sum of all elements, as a zero-dimensional Var.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    /// let s = x.sum();
    /// assert_eq!((s.ndim(), s.item()), (0, 10.0));
    /// assert_eq!(tape.grad(s, &[x])[0].to_vec(), vec![1.0; 4]);
    /// ```
    pub fn sum(self) -> Self {
        self.sum_to(&[])
    }

    /// Mean over `axes`; with `keepdim` they stay as size-1 axes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// let m = x.mean_axes(&[1], true);
    /// assert_eq!(m.shape(), vec![2, 1]);
    /// assert_eq!(m.value().to_vec(), vec![2.0, 5.0]);
    /// let g = tape.grad(x.mean_axes(&[1], false).sum(), &[x])[0].to_vec();
    /// assert!(g.iter().all(|&d| (d - 1.0 / 3.0).abs() < 1e-15)); // each row mean weighs 1/3
    /// ```
    pub fn mean_axes(self, axes: &[usize], keepdim: bool) -> Self {
        let shape = self.shape();
        let count: usize = axes.iter().map(|&a| shape.get(a).copied().unwrap_or(1)).product();
        self.sum_axes(axes, keepdim) * (T::one() / T::of(count as f64))
    }

    /// Mean of all elements, as a zero-dimensional Var.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    /// let m = x.mean();
    /// assert_eq!((m.ndim(), m.item()), (0, 2.5));
    /// assert_eq!(tape.grad(m, &[x])[0].to_vec(), vec![0.25; 4]);
    /// ```
    pub fn mean(self) -> Self {
        let count = self.len();
        self.sum() * (T::one() / T::of(count as f64))
    }

    /// Max over `axes`; with `keepdim` they stay as size-1 axes. At ties the gradient is
    /// shared equally.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 3.0, 3.0, 4.0, 0.0, 2.0]));
    /// let m = x.max_axes(&[1], false);
    /// assert_eq!(m.value().to_vec(), vec![3.0, 4.0]);
    /// // Row 0 ties at 3: the two winners share its gradient.
    /// let g = tape.grad(m.sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![0.0, 0.5, 0.5, 1.0, 0.0, 0.0]);
    /// ```
    pub fn max_axes(self, axes: &[usize], keepdim: bool) -> Self {
        let axes = self.check_axes(axes, "max_axes");
        let max = self.tape.apply(MaxAxes(axes.clone()), &[self]);
        max.reshape(&self.reduced_shape(&axes, keepdim))
    }

    /// Min over `axes`, as `-max(-x)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 3.0, 1.0, 4.0, 0.0, 2.0]));
    /// let m = x.min_axes(&[1], true);
    /// assert_eq!((m.shape(), m.value().to_vec()), (vec![2, 1], vec![1.0, 0.0]));
    /// let g = tape.grad(m.sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![0.5, 0.0, 0.5, 0.0, 1.0, 0.0]); // the tie in row 0 is shared
    /// ```
    pub fn min_axes(self, axes: &[usize], keepdim: bool) -> Self {
        -(-self).max_axes(axes, keepdim)
    }

    /// `log(sum(exp(x)))` over `axes`, shifted by the (constant) max so that it cannot overflow.
    /// The shift cancels exactly, so treating it as a constant leaves every derivative right.
    /// A non-finite max (a row of `-inf`, or a `+inf`) shifts by 0 instead, so such rows give
    /// `-inf` / `+inf` rather than NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![0.0, 3f64.ln()]));
    /// let y = x.logsumexp(&[0], false);
    /// assert!((y.item() - 4f64.ln()).abs() < 1e-12); // ln(e^0 + e^(ln 3)) = ln 4
    /// let g = tape.grad(y, &[x])[0].to_vec(); // the softmax, 1/4 and 3/4
    /// assert!((g[0] - 0.25).abs() < 1e-12 && (g[1] - 0.75).abs() < 1e-12);
    /// // e^1000 overflows, the shifted form does not: 1000 + ln 2.
    /// let big = tape.constant(Tensor::from_vec(&[2], vec![1000.0, 1000.0]));
    /// assert!((big.logsumexp(&[0], false).item() - (1000.0 + 2f64.ln())).abs() < 1e-9);
    /// ```
    pub fn logsumexp(self, axes: &[usize], keepdim: bool) -> Self {
        let max = self.tape.no_grad(|| self.max_axes(axes, true)).value();
        let shift = self.constant(max.map(|m| if m.is_finite() { m } else { T::zero() }));
        let lse = (self - shift).exp().sum_axes(axes, true).log() + shift;
        lse.reshape(&self.reduced_shape(&self.check_axes(axes, "logsumexp"), keepdim))
    }

    /// `log(softmax(x))` along `axis`, as `x - logsumexp(x)`: stable for any logits.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[1, 3], vec![1.0, 2.0, 3.0]));
    /// let y = x.log_softmax(1).value().to_vec();
    /// assert!((y.iter().map(|v| v.exp()).sum::<f64>() - 1.0).abs() < 1e-12); // probabilities
    /// assert!((y[2] - y[1] - 1.0).abs() < 1e-12); // differences of logits are kept
    /// // Logits far apart: 1000 - logsumexp = 0 and 0 - 1000 = -1000, no overflow.
    /// let far = tape.constant(Tensor::from_vec(&[2], vec![1000.0, 0.0])).log_softmax(0);
    /// assert_eq!(far.value().to_vec(), vec![0.0, -1000.0]);
    /// ```
    pub fn log_softmax(self, axis: usize) -> Self {
        self - self.logsumexp(&[axis], true)
    }

    /// Softmax along `axis`, as `exp(log_softmax(x))`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 2], vec![0.0, 3f64.ln(), 5.0, 5.0]));
    /// let p = x.softmax(1); // per row: e^x / sum(e^x)
    /// let want = Tensor::from_vec(&[2, 2], vec![0.25, 0.75, 0.5, 0.5]);
    /// assert!(p.value().max_abs_diff(&want) < 1e-12);
    /// ```
    pub fn softmax(self, axis: usize) -> Self {
        self.log_softmax(axis).exp()
    }
}
