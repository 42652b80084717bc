//! Indexing: the adjoint pair `gather` / `scatter_add`, `index_select` built on `gather`, and
//! `one_hot`.

use crate::{Float, Grads, Op, Tensor, Var};
use ndarray::{ArcArray, ArrayD, Dimension, IxDyn};

/// Integer indices for [`Var::gather`] and [`Var::scatter_add`].
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Indices, Tape, Tensor};
/// use ndarray::{ArrayD, IxDyn};
///
/// // One index per row: column 2 of row 0, column 0 of row 1.
/// let index: Indices = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![2, 0]).unwrap().into_shared();
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
/// assert_eq!(x.gather(1, &index).value().to_vec(), vec![3.0, 4.0]);
/// ```
pub type Indices = ArcArray<usize, IxDyn>;

/// `out[p] = x[p with p[axis] replaced by index[p]]`.
struct Gather {
    axis: usize,
    index: Indices,
}
impl<T: Float> Op<T> for Gather {
    fn name(&self) -> &'static str {
        "gather"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let source = x[0].array();
        if let (Some(values), Some(index)) = (source.as_slice(), self.index.as_slice()) {
            // Row-major operands, read as [outer, axis, inner] blocks.
            let (outer, inner) = split_at_axis(self.index.shape(), self.axis);
            let (from, to) = (source.shape()[self.axis], self.index.shape()[self.axis]);
            let mut out = Vec::with_capacity(index.len());
            for o in 0..outer {
                for j in 0..to {
                    let row = &index[(o * to + j) * inner..(o * to + j + 1) * inner];
                    out.extend(row.iter().enumerate().map(|(i, &k)| values[(o * from + k) * inner + i]));
                }
            }
            return Tensor::from_vec(self.index.shape(), out);
        }
        let mut at = vec![0; source.ndim()];
        let out = ArrayD::from_shape_fn(self.index.raw_dim(), |p| {
            at.copy_from_slice(p.slice());
            at[self.axis] = self.index[&p];
            source[at.as_slice()]
        });
        Tensor::from_array(out)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        let size = x[0].shape()[self.axis];
        vec![Some(g.scatter_add(self.axis, &self.index, size))]
    }
}

/// `out[p with p[axis] replaced by index[p]] += src[p]`, into `size` slots along `axis`.
struct ScatterAdd {
    axis: usize,
    index: Indices,
    size: usize,
}
impl<T: Float> Op<T> for ScatterAdd {
    fn name(&self) -> &'static str {
        "scatter_add"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let mut shape = x[0].shape().to_vec();
        shape[self.axis] = self.size;
        if let (Some(values), Some(index)) = (x[0].array().as_slice(), self.index.as_slice()) {
            // Row-major operands as [outer, axis, inner] blocks, added in the source's
            // row-major order like the general path below.
            let (outer, inner) = split_at_axis(self.index.shape(), self.axis);
            let (from, to) = (self.index.shape()[self.axis], self.size);
            let mut out = vec![T::zero(); outer * to * inner];
            for o in 0..outer {
                for j in 0..from {
                    let base = (o * from + j) * inner;
                    for i in 0..inner {
                        out[(o * to + index[base + i]) * inner + i] += values[base + i];
                    }
                }
            }
            return Tensor::from_vec(&shape, out);
        }
        let mut out = ArrayD::zeros(IxDyn(&shape));
        let mut at = vec![0; shape.len()];
        // Row-major order over the source: a fixed summation order, so results are reproducible.
        for (p, &k) in self.index.indexed_iter() {
            at.copy_from_slice(p.slice());
            at[self.axis] = k;
            out[at.as_slice()] += x[0].array()[&p];
        }
        Tensor::from_array(out)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.gather(self.axis, &self.index))]
    }
}

/// The products of the sizes before and after `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize) {
    (shape[..axis].iter().product(), shape[axis + 1..].iter().product())
}

fn check_index(op: &str, axis: usize, index: &Indices, data_shape: &[usize], bound: usize) {
    let same_other_axes = index.ndim() == data_shape.len()
        && axis < data_shape.len()
        && (0..data_shape.len()).all(|d| d == axis || index.shape()[d] == data_shape[d]);
    assert!(
        same_other_axes,
        "{op}: index of shape {:?} does not match shape {data_shape:?} outside axis {axis}",
        index.shape()
    );
    if let Some(&bad) = index.iter().find(|&&k| k >= bound) {
        panic!("{op}: index {bad} is out of range for axis {axis} of size {bound}");
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// Picks along `axis` by `index` (which has this Var's shape outside `axis`):
    /// `out[p] = x[p with p[axis] = index[p]]`. The adjoint of [`Var::scatter_add`].
    ///
    /// # Panics
    /// If `index` differs from this Var's shape outside `axis`, or an index is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use ndarray::{ArrayD, IxDyn};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// // Each row's entry at its label (2 and 0), as a classification loss picks its logits.
    /// let labels = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![2, 0]).unwrap().into_shared();
    /// let picked = x.gather(1, &labels);
    /// assert_eq!(picked.shape(), vec![2, 1]);
    /// assert_eq!(picked.value().to_vec(), vec![3.0, 4.0]);
    /// // The gradient lands on the picked entries only.
    /// let g = tape.grad(picked.sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    pub fn gather(self, axis: usize, index: &Indices) -> Self {
        let shape = self.shape();
        let bound = shape.get(axis).copied().unwrap_or(0);
        check_index("gather", axis, index, &shape, bound);
        self.tape.apply(Gather { axis, index: index.clone() }, &[self])
    }

    /// [`gather`](Var::gather) whose result the caller already holds (`value`, of the
    /// index's shape): the op is recorded, and differentiates, as a gather.
    pub(crate) fn gather_known(self, axis: usize, index: &Indices, value: Tensor<T>) -> Self {
        let shape = self.shape();
        let bound = shape.get(axis).copied().unwrap_or(0);
        check_index("gather", axis, index, &shape, bound);
        self.tape.apply_known(Gather { axis, index: index.clone() }, &[self], value)
    }

    /// Adds each element into slot `index[p]` of `axis`, which gets `size` slots:
    /// `out[p with p[axis] = index[p]] += x[p]`. The adjoint of [`Var::gather`].
    ///
    /// # Panics
    /// If `index` does not have this Var's shape, or an index is not below `size`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use ndarray::{ArrayD, IxDyn};
    ///
    /// let tape = Tape::<f64>::new();
    /// let src = tape.var(Tensor::from_vec(&[1, 3], vec![1.0, 2.0, 3.0]));
    /// let index = ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![0, 2, 0]).unwrap().into_shared();
    /// let out = src.scatter_add(1, &index, 3);
    /// assert_eq!(out.value().to_vec(), vec![4.0, 0.0, 2.0]); // slot 0 gets 1 + 3
    /// // The adjoint is a gather: each source element reads its slot's cotangent.
    /// let w = tape.constant(Tensor::from_vec(&[1, 3], vec![10.0, 20.0, 30.0]));
    /// assert_eq!(tape.grad((out * w).sum(), &[src])[0].to_vec(), vec![10.0, 30.0, 10.0]);
    /// ```
    pub fn scatter_add(self, axis: usize, index: &Indices, size: usize) -> Self {
        let shape = self.shape();
        assert_eq!(
            index.shape(),
            &shape[..],
            "scatter_add: index of shape {:?} for a source of shape {shape:?}; they must match",
            index.shape()
        );
        check_index("scatter_add", axis, index, &shape, size);
        self.tape.apply(ScatterAdd { axis, index: index.clone(), size }, &[self])
    }

    /// The entries `indices` along `axis`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If `axis` is not an axis, or an index is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// let rows = x.index_select(0, &[2, 0, 2]);
    /// assert_eq!(rows.shape(), vec![3, 2]);
    /// assert_eq!(rows.value().to_vec(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    /// // A repeated row gets the gradient of each copy.
    /// let g = tape.grad(rows.sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
    /// ```
    pub fn index_select(self, axis: usize, indices: &[usize]) -> Self {
        let mut shape = self.shape();
        assert!(axis < shape.len(), "index_select: axis {axis} for shape {shape:?}");
        shape[axis] = indices.len();
        let index = ArrayD::from_shape_fn(IxDyn(&shape), |p| indices[p[axis]]).into_shared();
        self.gather(axis, &index)
    }
}

/// Rows of zeros with a one at each label: shape `[labels.len(), classes]`.
///
/// # Panics
/// If a label is not below `classes`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{one_hot, Tensor};
///
/// let t: Tensor<f64> = one_hot(&[2, 0], 3);
/// assert_eq!(t.shape(), &[2, 3]);
/// assert_eq!(t.to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// assert!(std::panic::catch_unwind(|| one_hot::<f64>(&[3], 3)).is_err()); // label 3 of 3 classes
/// ```
pub fn one_hot<T: Float>(labels: &[usize], classes: usize) -> Tensor<T> {
    let mut out = ArrayD::zeros(IxDyn(&[labels.len(), classes]));
    for (row, &label) in labels.iter().enumerate() {
        assert!(label < classes, "one_hot: label {label} is not below the class count {classes}");
        out[[row, label].as_slice()] = T::one();
    }
    Tensor::from_array(out)
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};
    use ndarray::{ArrayD, IxDyn};

    /// The block fast paths (row-major operands) against the general index-by-index paths,
    /// which a permuted (strided) source takes.
    #[test]
    fn gather_and_scatter_add_fast_paths_agree_with_the_general_ones() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(Tensor::from_vec(&[2, 3, 4], (0..24).map(|i| f64::from(i) * 0.5 - 3.0).collect()));
        let strided = x.permute(&[0, 2, 1]); // [2, 4, 3], not row-major
        assert!(strided.value().array().as_slice().is_none());
        let packed = tape.constant(Tensor::from_vec(&[2, 4, 3], strided.value().to_vec()));
        for axis in 0..3 {
            let mut shape = vec![2, 4, 3];
            let size = shape[axis];
            shape[axis] = 5;
            let n = shape.iter().product::<usize>();
            let index = ArrayD::from_shape_vec(IxDyn(&shape), (0..n).map(|i| (i * 7 + 3) % size).collect())
                .unwrap()
                .into_shared();
            let (general, fast) = (strided.gather(axis, &index).value(), packed.gather(axis, &index).value());
            assert_eq!(general, fast, "gather along axis {axis}");
            let src = tape.constant(Tensor::from_vec(&shape, (0..n).map(|i| (i as f64).sin()).collect()));
            let src_strided = {
                let mut order: Vec<usize> = (0..3).collect();
                order.swap(1, 2);
                let flipped = tape.constant(Tensor::from_vec(
                    &order.iter().map(|&a| shape[a]).collect::<Vec<_>>(),
                    src.permute(&order).value().to_vec(),
                ));
                flipped.permute(&order)
            };
            assert!(src_strided.value().array().as_slice().is_none());
            let general = src_strided.scatter_add(axis, &index, size).value();
            let fast = src.scatter_add(axis, &index, size).value();
            assert!(general.max_abs_diff(&fast) < 1e-15, "scatter_add along axis {axis}");
        }
    }
}
