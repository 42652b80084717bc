//! Shape ops, all linear: `reshape` and `permute` (each its own adjoint, with the inverse
//! argument) and the adjoint pair `broadcast_to` / `sum_to`.

use crate::{Float, Grads, Op, Tensor, Var};
use ndarray::{Axis, IxDyn};

/// The shape two shapes broadcast to under NumPy's rules (align trailing axes; a size-1 axis
/// stretches), or `None` when they do not broadcast.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::broadcast_shape;
///
/// assert_eq!(broadcast_shape(&[3, 1], &[4]), Some(vec![3, 4])); // [4] aligns with the last axis
/// assert_eq!(broadcast_shape(&[], &[2, 2]), Some(vec![2, 2])); // a scalar goes anywhere
/// assert_eq!(broadcast_shape(&[2, 3], &[3, 2]), None);
/// ```
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let ndim = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= ndim { s[i + s.len() - ndim] } else { 1 };
    (0..ndim)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

struct Reshape(Vec<usize>);
impl<T: Float> Op<T> for Reshape {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let array = x[0].array();
        let shared = if array.is_standard_layout() {
            array.clone()
        } else {
            array.as_standard_layout().into_owned().into_shared()
        };
        let shape = IxDyn(&self.0);
        Tensor::from_shared(shared.into_shape_with_order(shape).expect("reshape: standard layout, same length"))
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.reshape(&x[0].shape()))]
    }
}

struct Permute(Vec<usize>);
impl<T: Float> Op<T> for Permute {
    fn name(&self) -> &'static str {
        "permute"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        Tensor::from_shared(x[0].array().clone().permuted_axes(IxDyn(&self.0)))
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        let mut inverse = vec![0; self.0.len()];
        for (i, &axis) in self.0.iter().enumerate() {
            inverse[axis] = i;
        }
        vec![Some(g.permute(&inverse))]
    }
}

/// How a broadcast `small` shape sits inside `large`: `large` read as `[outer, mid, inner]`
/// with `small`'s elements varying along `mid` only (a bias `[d]` in `[n, d]`, a batch-norm
/// scale `[1, c, 1, 1]` in `[n, c, h, w]`, a scalar anywhere). `None` when the axes `small`
/// varies along are not one contiguous run equal to `large`'s there. Both tensors must be
/// row-major for the block loops that use this.
pub(crate) fn block_layout(large: &[usize], small: &[usize]) -> Option<(usize, usize, usize)> {
    let pad = large.len().checked_sub(small.len())?;
    let dim = |k: usize| if k < pad { 1 } else { small[k - pad] };
    let varying: Vec<usize> = (0..large.len()).filter(|&k| dim(k) != 1).collect();
    let (start, end) = match (varying.first(), varying.last()) {
        (Some(&first), Some(&last)) => (first, last + 1),
        _ => (large.len(), large.len()),
    };
    if (start..end).any(|k| dim(k) != large[k]) {
        return None;
    }
    let product = |axes: &[usize]| axes.iter().product::<usize>();
    Some((product(&large[..start]), product(&large[start..end]), product(&large[end..])))
}

struct BroadcastTo(Vec<usize>);
impl<T: Float> Op<T> for BroadcastTo {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        // A block pattern (a bias row, a per-channel value): copies straight from the slice.
        if let (Some(values), Some((outer, mid, inner))) =
            (x[0].array().as_slice(), block_layout(&self.0, x[0].shape()))
        {
            let out = crate::parallel::fill_chunks(outer, mid * inner, |_, out: &mut [T]| {
                for (&v, block) in values.iter().zip(out.chunks_exact_mut(inner.max(1))) {
                    block.fill(v);
                }
            });
            return Tensor::from_vec(&self.0, out);
        }
        Tensor::from_array(x[0].array().broadcast(IxDyn(&self.0)).expect("checked by broadcast_to").to_owned())
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.sum_to(&x[0].shape()))]
    }
}

struct SumTo(Vec<usize>);
impl<T: Float> Op<T> for SumTo {
    fn name(&self) -> &'static str {
        "sum_to"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let target = &self.0;
        if target.iter().all(|&d| d == 1) {
            // Everything into one element: the kernel's fixed-order sum.
            let total = match x[0].array().as_slice() {
                Some(values) => metagrad_kernels::sum(values),
                None => metagrad_kernels::sum(&x[0].to_vec()),
            };
            return Tensor::from_vec(target, vec![total]);
        }
        // A block pattern (a bias or per-channel gradient): one pass over the slice, adding in
        // memory order, which for a bias is the general path's order too.
        if let (Some(values), Some((outer, mid, inner))) = (x[0].array().as_slice(), block_layout(x[0].shape(), target))
        {
            let mut acc = vec![T::zero(); mid];
            if mid * inner > 0 {
                // Each outer block's sums (in parallel when long), then added in block order:
                // the same additions in the same order on any number of threads.
                let partials = crate::parallel::map_indices(outer, mid * inner, |o| {
                    fold_runs(&values[o * mid * inner..(o + 1) * mid * inner], inner)
                });
                for partial in partials {
                    let partial: Vec<T> = partial;
                    for (a, p) in acc.iter_mut().zip(partial) {
                        *a += p;
                    }
                }
            }
            return Tensor::from_vec(target, acc);
        }
        let mut sum = x[0].array().to_owned();
        while sum.ndim() > target.len() {
            sum = sum.sum_axis(Axis(0));
        }
        for (axis, &size) in target.iter().enumerate() {
            if size == 1 && sum.shape()[axis] != 1 {
                sum = sum.sum_axis(Axis(axis)).insert_axis(Axis(axis));
            }
        }
        Tensor::from_array(sum)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.broadcast_to(&x[0].shape()))]
    }
}

/// The running sum, from zero in memory order, of each run of `inner` values in `block` (a
/// row-major `mid x inner` slice): for every run the same additions in the same order as
/// `run.iter().fold(0, +)`, so the same bits. Eight runs' folds are interleaved so that their
/// additions overlap instead of each waiting on the one before; a fixed-order vectorised sum
/// would be faster still but rounds differently, and training runs (BYOL's learning test among
/// them) are sensitive to the last bits of bias gradients.
fn fold_runs<T: Float>(block: &[T], inner: usize) -> Vec<T> {
    const LANES: usize = 8;
    let mut sums = Vec::with_capacity(block.len() / inner);
    let mut groups = block.chunks_exact(LANES * inner);
    for group in &mut groups {
        let runs: [&[T]; LANES] = std::array::from_fn(|j| &group[j * inner..(j + 1) * inner]);
        let mut lanes = [T::zero(); LANES];
        for i in 0..inner {
            for (lane, run) in lanes.iter_mut().zip(&runs) {
                *lane += run[i];
            }
        }
        sums.extend_from_slice(&lanes);
    }
    sums.extend(groups.remainder().chunks_exact(inner).map(|run| run.iter().fold(T::zero(), |s, &v| s + v)));
    sums
}

impl<'t, T: Float> Var<'t, T> {
    /// The same elements in a new shape (row-major order).
    ///
    /// # Panics
    /// If the element counts differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// let y = x.reshape(&[3, 2]);
    /// assert_eq!(y.shape(), vec![3, 2]);
    /// assert_eq!(y.value().to_vec(), x.value().to_vec()); // row-major order is kept
    /// let w = tape.constant(Tensor::from_vec(&[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// // The gradient is reshaped back: element k of y is element k of x.
    /// assert_eq!(tape.grad((y * w).sum(), &[x])[0].to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// ```
    pub fn reshape(self, shape: &[usize]) -> Self {
        let from = self.shape();
        if from == shape {
            return self;
        }
        assert_eq!(
            from.iter().product::<usize>(),
            shape.iter().product::<usize>(),
            "reshape: cannot reshape {from:?} ({} elements) to {shape:?} ({} elements)",
            from.iter().product::<usize>(),
            shape.iter().product::<usize>()
        );
        self.tape.apply(Reshape(shape.to_vec()), &[self])
    }

    /// Reorders the axes: output axis `i` is input axis `axes[i]`.
    ///
    /// # Panics
    /// If `axes` is not a permutation of `0..ndim`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3, 4], (0..24).map(f64::from).collect()));
    /// let y = x.permute(&[2, 0, 1]); // y[k, i, j] = x[i, j, k]
    /// assert_eq!(y.shape(), vec![4, 2, 3]);
    /// assert_eq!(y.value().array()[[1, 0, 2].as_slice()], 9.0); // x[0, 2, 1] = 0 * 12 + 2 * 4 + 1
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].shape(), &[2, 3, 4]);
    /// ```
    pub fn permute(self, axes: &[usize]) -> Self {
        let ndim = self.ndim();
        let mut seen = vec![false; ndim];
        let valid = axes.len() == ndim && axes.iter().all(|&a| a < ndim && !std::mem::replace(&mut seen[a], true));
        assert!(valid, "permute: {axes:?} is not a permutation of the axes of a tensor of shape {:?}", self.shape());
        self.tape.apply(Permute(axes.to_vec()), &[self])
    }

    /// Swaps two axes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// let y = x.transpose(0, 1);
    /// assert_eq!(y.shape(), vec![3, 2]);
    /// assert_eq!(y.value().to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    pub fn transpose(self, a: usize, b: usize) -> Self {
        let mut axes: Vec<usize> = (0..self.ndim()).collect();
        assert!(a < axes.len() && b < axes.len(), "transpose: axes {a} and {b} for shape {:?}", self.shape());
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// Swaps the last two axes (the matrix transpose, batched).
    ///
    /// # Panics
    /// If the Var has fewer than two axes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let m = tape.var(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    /// assert_eq!(m.t().value().to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// // Batched: each matrix of [5, 2, 3] is transposed.
    /// assert_eq!(tape.var(Tensor::zeros(&[5, 2, 3])).t().shape(), vec![5, 3, 2]);
    /// ```
    pub fn t(self) -> Self {
        let n = self.ndim();
        assert!(n >= 2, "t: needs at least two axes, shape is {:?}", self.shape());
        self.transpose(n - 2, n - 1)
    }

    /// Inserts an axis of size 1 at `axis`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0]));
    /// assert_eq!(x.unsqueeze(0).shape(), vec![1, 3]);
    /// assert_eq!(x.unsqueeze(1).shape(), vec![3, 1]);
    /// assert_eq!(x.unsqueeze(1).value().to_vec(), vec![1.0, 2.0, 3.0]);
    /// ```
    pub fn unsqueeze(self, axis: usize) -> Self {
        let mut shape = self.shape();
        assert!(axis <= shape.len(), "unsqueeze: axis {axis} for shape {shape:?}");
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// Removes the size-1 axis `axis`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3, 1], vec![1.0, 2.0, 3.0]));
    /// let y = x.squeeze(1);
    /// assert_eq!(y.shape(), vec![3]);
    /// assert_eq!(y.value().to_vec(), vec![1.0, 2.0, 3.0]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].shape(), &[3, 1]);
    /// ```
    pub fn squeeze(self, axis: usize) -> Self {
        let mut shape = self.shape();
        assert!(axis < shape.len() && shape[axis] == 1, "squeeze: axis {axis} of shape {shape:?} is not of size 1");
        shape.remove(axis);
        self.reshape(&shape)
    }

    /// All elements as one axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 1, 2], vec![1.0, 2.0, 3.0, 4.0]));
    /// let y = x.flatten();
    /// assert_eq!(y.shape(), vec![4]);
    /// assert_eq!(y.value().to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn flatten(self) -> Self {
        let len = self.len();
        self.reshape(&[len])
    }

    /// Repeats size-1 (and missing leading) axes up to `shape`. The adjoint of [`Var::sum_to`].
    ///
    /// # Panics
    /// If the shape does not broadcast to `shape`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let bias = tape.var(Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0]));
    /// let rows = bias.broadcast_to(&[2, 3]); // a missing leading axis, repeated
    /// assert_eq!(rows.value().to_vec(), vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    /// // The adjoint sums the copies: each bias entry was used twice.
    /// assert_eq!(tape.grad(rows.sum(), &[bias])[0].to_vec(), vec![2.0, 2.0, 2.0]);
    /// ```
    pub fn broadcast_to(self, shape: &[usize]) -> Self {
        let from = self.shape();
        if from == shape {
            return self;
        }
        assert!(
            broadcast_shape(&from, shape).as_deref() == Some(shape),
            "broadcast_to: cannot broadcast shape {from:?} to {shape:?}"
        );
        self.tape.apply(BroadcastTo(shape.to_vec()), &[self])
    }

    /// Sums over the axes that broadcasting `shape` up to this Var's shape would repeat. The
    /// adjoint of [`Var::broadcast_to`].
    ///
    /// # Panics
    /// If `shape` does not broadcast to this Var's shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    /// assert_eq!(x.sum_to(&[3]).value().to_vec(), vec![5.0, 7.0, 9.0]); // the leading axis summed
    /// assert_eq!(x.sum_to(&[2, 1]).value().to_vec(), vec![6.0, 15.0]); // the size-1 axis summed
    /// let w = tape.constant(Tensor::from_vec(&[2, 1], vec![10.0, 20.0]));
    /// // The adjoint broadcasts back: each x entry gets its row's weight.
    /// let g = tape.grad((x.sum_to(&[2, 1]) * w).sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![10.0, 10.0, 10.0, 20.0, 20.0, 20.0]);
    /// ```
    pub fn sum_to(self, shape: &[usize]) -> Self {
        let from = self.shape();
        if from == shape {
            return self;
        }
        assert!(
            broadcast_shape(shape, &from).as_deref() == Some(&from[..]),
            "sum_to: shape {shape:?} does not broadcast to {from:?}, so {from:?} cannot be summed to it"
        );
        self.tape.apply(SumTo(shape.to_vec()), &[self])
    }

    /// Broadcasts two operands to their common shape for the binary op `op`.
    pub(crate) fn broadcast_pair(self, other: Self, op: &str) -> (Self, Self) {
        // The common case, equal shapes, compared in place: this runs for every binary op.
        let same = self.tape.with_value(self.id, |a| other.tape.with_value(other.id, |b| a.shape() == b.shape()));
        if same {
            return (self, other);
        }
        let (a, b) = (self.shape(), other.shape());
        let shape = broadcast_shape(&a, &b).unwrap_or_else(|| panic!("{op}: shapes {a:?} and {b:?} do not broadcast"));
        (self.broadcast_to(&shape), other.broadcast_to(&shape))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};
    use ndarray::{Axis, IxDyn};

    /// `sum_to` and `broadcast_to` through their block fast paths against the general ones
    /// (`sum_axis` loops and ndarray's broadcast view).
    #[test]
    fn block_sum_to_and_broadcast_to_agree_with_the_general_path() {
        let cases: [(&[usize], &[usize]); 6] = [
            (&[4, 3], &[3]),
            (&[2, 3, 4, 5], &[1, 3, 1, 1]),
            (&[2, 3, 4], &[1, 1]),
            (&[2, 3, 4], &[3, 4]),
            // Long enough for the parallel blocks.
            (&[5, 3, 64, 50], &[1, 3, 1, 1]),
            (&[900, 40], &[40]),
        ];
        for (large, small) in cases {
            let n = large.iter().product::<usize>();
            let x = Tensor::from_vec(large, (0..n).map(|i| (i as f64 * 0.37).sin()).collect::<Vec<f64>>());
            let tape = Tape::new();
            let summed = tape.constant(x.clone()).sum_to(small).value();
            let mut reference = x.array().to_owned();
            let pad = large.len() - small.len();
            for axis in (0..large.len()).rev() {
                let keep = if axis < pad { 1 } else { small[axis - pad] };
                if keep == 1 && reference.shape()[axis] != 1 {
                    reference = reference.sum_axis(Axis(axis)).insert_axis(Axis(axis));
                }
            }
            let reference = Tensor::from_array(reference.into_shape_with_order(IxDyn(small)).unwrap());
            assert!(summed.max_abs_diff(&reference) < 1e-12, "sum_to {large:?} -> {small:?}");
            let back = tape.constant(summed.clone()).broadcast_to(large).value();
            let expected = Tensor::from_array(summed.array().broadcast(IxDyn(large)).unwrap().to_owned());
            assert_eq!(back, expected, "broadcast_to {small:?} -> {large:?}");
        }
    }

    /// The block path's per-run sums are the running folds' bits exactly, for run counts
    /// that do and do not fill the interleaved groups (f32, where reordering shows).
    #[test]
    fn fold_runs_keeps_the_running_folds_bits() {
        for (mid, inner) in [(1, 5), (8, 1), (8, 49), (13, 30), (64, 196), (3, 1000)] {
            let block: Vec<f32> = (0..mid * inner).map(|i| ((i as f32) * 0.731).sin() * 1e3 + 0.1).collect();
            let expected: Vec<u32> =
                block.chunks_exact(inner).map(|run| run.iter().fold(0.0f32, |s, &v| s + v).to_bits()).collect();
            let got: Vec<u32> = super::fold_runs(&block, inner).iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, expected, "mid {mid}, inner {inner}");
        }
    }

    use super::broadcast_shape;

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shape(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shape(&[], &[2, 2]), Some(vec![2, 2]));
        assert_eq!(broadcast_shape(&[2, 3], &[3, 2]), None);
    }
}
