//! The unpacked path for small products: no packing, no threads.
//!
//! On AVX2 + FMA CPUs, register-tiled kernels that read `A` and `B` in place
//! (`small_avx2`). Elsewhere, `C[i, :] += (alpha * A[i, p]) * B[p, :]` for each `p` in order:
//! a unit-stride loop over a row of `B` that the compiler vectorises.

use super::{MatMut, MatRef};
use crate::{Element, Isa};

pub(crate) fn gemm<T: Element>(isa: Isa, alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, mut c: MatMut<'_, T>) {
    // Rows of B must be contiguous; a small B that is not (a transposed view) is copied.
    let copy: Vec<T>;
    let b = if b.col_stride == 1 {
        b
    } else {
        // Walk the source in its own memory order (down the view's columns when it is a
        // transpose), writing the row-major copy.
        let mut rows = vec![T::ZERO; b.rows * b.cols];
        if b.row_stride < b.col_stride {
            for j in 0..b.cols {
                for p in 0..b.rows {
                    rows[p * b.cols + j] = b.at(p, j);
                }
            }
        } else {
            for p in 0..b.rows {
                for j in 0..b.cols {
                    rows[p * b.cols + j] = b.at(p, j);
                }
            }
        }
        copy = rows;
        MatRef::row_major(&copy, b.rows, b.cols)
    };
    match T::small_kernel(isa) {
        // SAFETY: a kernel is only offered for an instruction set the CPU reports, and `b`
        // now has column stride 1.
        Some(kernel) => unsafe { kernel(alpha, &a, &b, &mut c) },
        None => rows(alpha, a, b, c),
    }
}

/// The portable loop: a row of `C` accumulated from rows of `B`, vectorised by the compiler.
fn rows<T: Element>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, c: MatMut<'_, T>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    for i in 0..m {
        let c_row = &mut c.data[i * c.row_stride..i * c.row_stride + n];
        for p in 0..k {
            let scale = alpha * a.at(i, p);
            let b_row = &b.data[p * b.row_stride..p * b.row_stride + n];
            for (x, &y) in c_row.iter_mut().zip(b_row) {
                *x += scale * y;
            }
        }
    }
}
