//! Slicing and joining: the adjoint pair `narrow` / `pad_axis`, and `concat`, whose VJP is
//! a `narrow` per input. `stack`, `split` and multi-axis `pad` are composites.

use crate::{Float, Grads, Op, Tensor, Var};
use ndarray::{ArrayD, Axis, IxDyn, Slice};

struct Narrow {
    axis: usize,
    start: usize,
    len: usize,
}
impl<T: Float> Op<T> for Narrow {
    fn name(&self) -> &'static str {
        "narrow"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let mut view = x[0].array().clone(); // shares storage; the slice is a view
        view.slice_axis_inplace(Axis(self.axis), Slice::from(self.start..self.start + self.len));
        Tensor::from_shared(view)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        let size = x[0].shape()[self.axis];
        vec![Some(g.pad_axis(self.axis, self.start, size - self.start - self.len))]
    }
}

struct PadAxis {
    axis: usize,
    before: usize,
    after: usize,
}
impl<T: Float> Op<T> for PadAxis {
    fn name(&self) -> &'static str {
        "pad"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let mut shape = x[0].shape().to_vec();
        let len = shape[self.axis];
        shape[self.axis] += self.before + self.after;
        let mut out = ArrayD::zeros(IxDyn(&shape));
        out.slice_axis_mut(Axis(self.axis), Slice::from(self.before..self.before + len)).assign(x[0].array());
        Tensor::from_array(out)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.narrow(self.axis, self.before, x[0].shape()[self.axis]))]
    }
}

struct Concat(usize);
impl<T: Float> Op<T> for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let views: Vec<_> = x.iter().map(|t| t.array().view()).collect();
        Tensor::from_array(ndarray::concatenate(Axis(self.0), &views).expect("checked by concat"))
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let mut start = 0;
        x.iter()
            .zip(wants)
            .map(|(input, &want)| {
                let len = input.shape()[self.0];
                start += len;
                want.then(|| g.narrow(self.0, start - len, len))
            })
            .collect()
    }
}

/// Joins Vars along an existing axis.
///
/// # Panics
/// If `parts` is empty, or the shapes differ outside `axis`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{concat, Tape, Tensor};
///
/// let tape = Tape::<f64>::new();
/// let a = tape.var(Tensor::from_vec(&[1, 2], vec![1.0, 2.0]));
/// let b = tape.var(Tensor::from_vec(&[2, 2], vec![3.0, 4.0, 5.0, 6.0]));
/// let y = concat(&[a, b], 0);
/// assert_eq!(y.shape(), vec![3, 2]);
/// assert_eq!(y.value().to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// // Each part gets its own rows of the cotangent.
/// let w = tape.constant(Tensor::from_vec(&[3, 2], vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]));
/// let g = tape.grad((y * w).sum(), &[a, b]);
/// assert_eq!(g[0].to_vec(), vec![10.0, 20.0]);
/// assert_eq!(g[1].to_vec(), vec![30.0, 40.0, 50.0, 60.0]);
/// ```
pub fn concat<'t, T: Float>(parts: &[Var<'t, T>], axis: usize) -> Var<'t, T> {
    assert!(!parts.is_empty(), "concat: no inputs");
    let shapes: Vec<Vec<usize>> = parts.iter().map(|p| p.shape()).collect();
    let first = &shapes[0];
    let compatible = axis < first.len()
        && shapes
            .iter()
            .all(|s| s.len() == first.len() && s.iter().zip(first).enumerate().all(|(i, (a, b))| i == axis || a == b));
    assert!(compatible, "concat: shapes {shapes:?} cannot be joined along axis {axis}");
    if parts.len() == 1 {
        return parts[0];
    }
    parts[0].tape.apply(Concat(axis), parts)
}

/// Joins Vars of one shape along a new axis `axis`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{stack, Tape, Tensor};
///
/// let tape = Tape::<f64>::new();
/// let a = tape.var(Tensor::from_vec(&[2], vec![1.0, 2.0]));
/// let b = tape.var(Tensor::from_vec(&[2], vec![3.0, 4.0]));
/// let rows = stack(&[a, b], 0);
/// assert_eq!((rows.shape(), rows.value().to_vec()), (vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]));
/// let columns = stack(&[a, b], 1); // [[1, 3], [2, 4]]
/// assert_eq!((columns.shape(), columns.value().to_vec()), (vec![2, 2], vec![1.0, 3.0, 2.0, 4.0]));
/// ```
pub fn stack<'t, T: Float>(parts: &[Var<'t, T>], axis: usize) -> Var<'t, T> {
    let expanded: Vec<Var<'t, T>> = parts.iter().map(|p| p.unsqueeze(axis)).collect();
    concat(&expanded, axis)
}

impl<'t, T: Float> Var<'t, T> {
    /// The `len` entries from `start` along `axis` (a view, no copy). The adjoint of
    /// [`Var::pad_axis`].
    ///
    /// # Panics
    /// If the range does not fit inside the axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 4], (0..8).map(f64::from).collect()));
    /// let y = x.narrow(1, 1, 2); // columns 1 and 2
    /// assert_eq!((y.shape(), y.value().to_vec()), (vec![2, 2], vec![1.0, 2.0, 5.0, 6.0]));
    /// // The gradient is padded back with zeros (pad_axis).
    /// let g = tape.grad(y.sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
    /// ```
    pub fn narrow(self, axis: usize, start: usize, len: usize) -> Self {
        let shape = self.shape();
        assert!(
            axis < shape.len() && start + len <= shape[axis],
            "narrow: range {start}..{} of axis {axis} is outside shape {shape:?}",
            start + len
        );
        if start == 0 && len == shape[axis] {
            return self;
        }
        self.tape.apply(Narrow { axis, start, len }, &[self])
    }

    /// Adds `before` and `after` zeros along `axis`. The adjoint of [`Var::narrow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 2.0]));
    /// let y = x.pad_axis(0, 1, 2);
    /// assert_eq!(y.value().to_vec(), vec![0.0, 1.0, 2.0, 0.0, 0.0]);
    /// // The gradient is the matching slice (narrow) of the cotangent.
    /// let w = tape.constant(Tensor::from_vec(&[5], vec![10.0, 20.0, 30.0, 40.0, 50.0]));
    /// assert_eq!(tape.grad((y * w).sum(), &[x])[0].to_vec(), vec![20.0, 30.0]);
    /// ```
    pub fn pad_axis(self, axis: usize, before: usize, after: usize) -> Self {
        assert!(axis < self.ndim(), "pad_axis: axis {axis} for shape {:?}", self.shape());
        if before == 0 && after == 0 {
            return self;
        }
        self.tape.apply(PadAxis { axis, before, after }, &[self])
    }

    /// Zero padding, `(before, after)` per axis from the first.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[1, 2], vec![1.0, 2.0]));
    /// let y = x.pad(&[(1, 0), (0, 1)]); // a row of zeros above, a column of zeros to the right
    /// assert_eq!(y.shape(), vec![2, 3]);
    /// assert_eq!(y.value().to_vec(), vec![0.0, 0.0, 0.0, 1.0, 2.0, 0.0]);
    /// ```
    pub fn pad(self, widths: &[(usize, usize)]) -> Self {
        assert!(widths.len() <= self.ndim(), "pad: {} pad widths for shape {:?}", widths.len(), self.shape());
        widths.iter().enumerate().fold(self, |x, (axis, &(before, after))| x.pad_axis(axis, before, after))
    }

    /// Cuts along `axis` into consecutive pieces of the given sizes.
    ///
    /// # Panics
    /// If the sizes do not add up to the axis length.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[5], vec![0.0, 1.0, 2.0, 3.0, 4.0]));
    /// let parts = x.split(0, &[2, 3]);
    /// assert_eq!(parts[0].value().to_vec(), vec![0.0, 1.0]);
    /// assert_eq!(parts[1].value().to_vec(), vec![2.0, 3.0, 4.0]);
    /// // Both pieces flow back into the one input.
    /// let y = parts[0].sum() + parts[1].sum() * 2.0;
    /// assert_eq!(tape.grad(y, &[x])[0].to_vec(), vec![1.0, 1.0, 2.0, 2.0, 2.0]);
    /// ```
    pub fn split(self, axis: usize, sizes: &[usize]) -> Vec<Self> {
        let shape = self.shape();
        assert!(
            axis < shape.len() && sizes.iter().sum::<usize>() == shape[axis],
            "split: sizes {sizes:?} do not add up to axis {axis} of shape {shape:?}"
        );
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                start += len;
                self.narrow(axis, start - len, len)
            })
            .collect()
    }
}
