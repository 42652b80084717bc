//! Matrix multiplication, 2-D and batched, on the GEMM kernel.
//!
//! One primitive, for `[m, k] x [k, n]` and `[b, m, k] x [b, k, n]`; its VJP is two more
//! matmuls with transposed operands, `dA = G B^T` and `dB = A^T G`. The transposes are views
//! (`permute` moves strides, not data) and the kernel reads strided operands directly.
//! Other ranks and broadcast batch axes are composites: reshape/broadcast, then the primitive.

use crate::{Float, Grads, Op, Tensor, Var};
use metagrad_kernels::{gemm, gemm_batched, MatRef};
use ndarray::{ArrayView2, ArrayView3, Axis, Ix2, Ix3};

struct MatMul;
impl<T: Float> Op<T> for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let (a, b) = (x[0].array(), x[1].array());
        // A 2-D product of strided views (plain or transposed) goes straight to the kernel.
        if a.ndim() == 2 {
            let (a2, b2) = (a.view().into_dimensionality::<Ix2>(), b.view().into_dimensionality::<Ix2>());
            if let (Ok(a2), Ok(b2)) = (a2, b2) {
                if let (Some(ar), Some(br)) = (mat_ref(a2), mat_ref(b2)) {
                    let mut out = vec![T::zero(); ar.rows() * br.cols()];
                    gemm(ar, br, &mut out);
                    return Tensor::from_vec(&[ar.rows(), br.cols()], out);
                }
            }
        }
        // Otherwise a 2-D product is a batch of one.
        let (a3, b3) = if a.ndim() == 2 {
            (a.view().insert_axis(Axis(0)), b.view().insert_axis(Axis(0)))
        } else {
            (a.view(), b.view())
        };
        let (a3, b3) = (a3.into_dimensionality::<Ix3>().expect("3-D"), b3.into_dimensionality::<Ix3>().expect("3-D"));
        let (batch, m, n) = (a3.shape()[0], a3.shape()[1], b3.shape()[2]);
        let (a_owned, b_owned);
        let a3 = match mat_refs(&a3) {
            Some(_) => a3,
            None => {
                a_owned = a3.as_standard_layout().into_owned();
                a_owned.view()
            }
        };
        let b3 = match mat_refs(&b3) {
            Some(_) => b3,
            None => {
                b_owned = b3.as_standard_layout().into_owned();
                b_owned.view()
            }
        };
        let (a_refs, b_refs) = (mat_refs(&a3).expect("standard layout"), mat_refs(&b3).expect("standard layout"));
        let mut out = vec![T::zero(); batch * m * n];
        gemm_batched(&a_refs, &b_refs, &mut out);
        let shape: Vec<usize> = if a.ndim() == 2 { vec![m, n] } else { vec![batch, m, n] };
        Tensor::from_vec(&shape, out)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (a, b) = (x[0], x[1]);
        vec![wants[0].then(|| g.tape.apply(MatMul, &[g, b.t()])), wants[1].then(|| g.tape.apply(MatMul, &[a.t(), g]))]
    }
}

/// Strided views of each matrix of a batch, without copying, when every matrix's memory is
/// one contiguous block with non-negative strides (standard or transposed layout); `None`
/// otherwise.
fn mat_refs<'a, T: Float>(batch: &ArrayView3<'a, T>) -> Option<Vec<MatRef<'a, T>>> {
    (0..batch.shape()[0]).map(|i| mat_ref(batch.index_axis_move(Axis(0), i))).collect()
}

/// A strided view of one matrix whose memory is one contiguous block with non-negative
/// strides; `None` otherwise.
fn mat_ref<T: Float>(m: ArrayView2<'_, T>) -> Option<MatRef<'_, T>> {
    let (rows, cols) = m.dim();
    let strides = m.strides();
    if strides.iter().any(|&s| s < 0) {
        return None;
    }
    let (rs, cs) = (strides[0] as usize, strides[1] as usize);
    m.to_slice_memory_order().map(|data| MatRef::new(data, rows, cols, rs, cs))
}

impl<'t, T: Float> Var<'t, T> {
    /// Matrix product over the last two axes, `[.., m, k] x [.., k, n] -> [.., m, n]`, with
    /// NumPy-style broadcasting of the leading (batch) axes.
    ///
    /// # Panics
    /// If either operand has fewer than two axes, the inner sizes differ, or the batch axes do
    /// not broadcast.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    /// let b = tape.var(Tensor::from_vec(&[2, 1], vec![5.0, 6.0]));
    /// let c = a.matmul(b);
    /// assert_eq!(c.value().to_vec(), vec![17.0, 39.0]); // [1 * 5 + 2 * 6, 3 * 5 + 4 * 6]
    /// // dA = G B^T with G all ones: every row of dA is b^T.
    /// assert_eq!(tape.grad(c.sum(), &[a])[0].to_vec(), vec![5.0, 6.0, 5.0, 6.0]);
    /// // Batch axes broadcast: [3, 2, 2] x [2, 1] -> [3, 2, 1].
    /// assert_eq!(tape.constant(Tensor::ones(&[3, 2, 2])).matmul(b).shape(), vec![3, 2, 1]);
    /// ```
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
