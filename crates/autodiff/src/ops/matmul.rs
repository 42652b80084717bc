//! Matrix multiplication, 2-D and batched, on the GEMM kernel.
//!
//! One primitive, for `[m, k] x [k, n]` and `[b, m, k] x [b, k, n]`; its VJP is two more
//! matmuls with transposed operands, `dA = G B^T` and `dB = A^T G`. The transposes are views
//! (`permute` moves strides, not data) and the kernel reads strided operands directly.
//! Other ranks and broadcast batch axes are composites: reshape/broadcast, then the primitive.

use crate::{Float, Grads, Op, Tensor, Var};
use metagrad_kernels::{gemm, MatRef};
use ndarray::{Array2, ArrayD, ArrayView2, Axis, Ix2, IxDyn};

struct MatMul;
impl<T: Float> Op<T> for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let (a, b) = (x[0].array(), x[1].array());
        if a.ndim() == 2 {
            let a2 = a.view().into_dimensionality::<Ix2>().expect("2-D");
            let b2 = b.view().into_dimensionality::<Ix2>().expect("2-D");
            return Tensor::from_array(matmul_2d(a2, b2).into_dyn());
        }
        let (batch, m, n) = (a.shape()[0], a.shape()[1], b.shape()[2]);
        let mut out = ArrayD::zeros(IxDyn(&[batch, m, n]));
        for (i, mut out_i) in out.axis_iter_mut(Axis(0)).enumerate() {
            let a_i = a.index_axis(Axis(0), i).into_dimensionality::<Ix2>().expect("2-D");
            let b_i = b.index_axis(Axis(0), i).into_dimensionality::<Ix2>().expect("2-D");
            out_i.assign(&matmul_2d(a_i, b_i));
        }
        Tensor::from_array(out)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (a, b) = (x[0], x[1]);
        vec![wants[0].then(|| g.tape.apply(MatMul, &[g, b.t()])), wants[1].then(|| g.tape.apply(MatMul, &[a.t(), g]))]
    }
}

fn matmul_2d<T: Float>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    let (m, n) = (a.nrows(), b.ncols());
    let mut c = vec![T::zero(); m * n];
    with_mat_ref(a, |a| with_mat_ref(b, |b| gemm(a, b, &mut c)));
    Array2::from_shape_vec((m, n), c).expect("m x n")
}

/// Hands `f` a strided view of `v` without copying when its memory is one contiguous block
/// with non-negative strides (standard, transposed), and a row-major copy otherwise.
fn with_mat_ref<T: Float, R>(v: ArrayView2<'_, T>, f: impl FnOnce(MatRef<'_, T>) -> R) -> R {
    let (rows, cols) = v.dim();
    let strides = v.strides();
    if let (true, Some(data)) = (strides.iter().all(|&s| s >= 0), v.as_slice_memory_order()) {
        return f(MatRef::new(data, rows, cols, strides[0] as usize, strides[1] as usize));
    }
    let copy = v.as_standard_layout();
    f(MatRef::row_major(copy.as_slice().expect("standard layout"), rows, cols))
}

impl<'t, T: Float> Var<'t, T> {
    /// Matrix product over the last two axes, `[.., m, k] x [.., k, n] -> [.., m, n]`, with
    /// NumPy-style broadcasting of the leading (batch) axes.
    ///
    /// # Panics
    /// If either operand has fewer than two axes, the inner sizes differ, or the batch axes do
    /// not broadcast.
    pub fn matmul(self, other: Self) -> Self {
        let (sa, sb) = (self.shape(), other.shape());
        let valid = sa.len() >= 2 && sb.len() >= 2 && sa[sa.len() - 1] == sb[sb.len() - 2];
        assert!(valid, "matmul: shapes {sa:?} and {sb:?} do not multiply; need [.., m, k] x [.., k, n]");
        let (m, k, n) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
        if sa.len() == 2 && sb.len() == 2 {
            return self.tape.apply(MatMul, &[self, other]);
        }
        if sb.len() == 2 {
            // [.., m, k] x [k, n]: fold the batch into the rows, one 2-D product.
            let rows = sa[..sa.len() - 1].iter().product();
            let mut out_shape = sa[..sa.len() - 1].to_vec();
            out_shape.push(n);
            return self.reshape(&[rows, k]).matmul(other).reshape(&out_shape);
        }
        let batch = crate::broadcast_shape(&sa[..sa.len() - 2], &sb[..sb.len() - 2])
            .unwrap_or_else(|| panic!("matmul: batch axes of {sa:?} and {sb:?} do not broadcast"));
        let count: usize = batch.iter().product();
        let full = |mut shape: Vec<usize>, r, c| {
            shape.extend([r, c]);
            shape
        };
        let a = self.broadcast_to(&full(batch.clone(), m, k)).reshape(&[count, m, k]);
        let b = other.broadcast_to(&full(batch.clone(), k, n)).reshape(&[count, k, n]);
        self.tape.apply(MatMul, &[a, b]).reshape(&full(batch, m, n))
    }
}
