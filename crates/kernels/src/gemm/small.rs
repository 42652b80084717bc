//! The unpacked path for small products: no packing, no threads.
//!
//! `C[i, :] += (alpha * A[i, p]) * B[p, :]` for each `p` in order: a unit-stride loop over a
//! row of `B` that the compiler vectorises. On AVX2 + FMA CPUs the same loop is compiled a
//! second time with those features enabled and picked at run time.

use super::{MatMut, MatRef};
use crate::{Element, Isa};

pub(crate) fn gemm<T: Element>(isa: Isa, alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, c: MatMut<'_, T>) {
    // Rows of B must be contiguous; a small B that is not (a transposed view) is copied.
    let copy: Vec<T>;
    let b = if b.col_stride == 1 {
        b
    } else {
        copy = (0..b.rows).flat_map(|p| (0..b.cols).map(move |j| b.at(p, j))).collect();
        MatRef::row_major(&copy, b.rows, b.cols)
    };
    match isa {
        #[cfg(all(target_arch = "x86_64", feature = "simd"))]
        // SAFETY: Isa::Avx2Fma is only chosen when the CPU reports AVX2 and FMA.
        Isa::Avx2Fma => unsafe { rows_avx2(alpha, a, b, c) },
        _ => rows::<T, false>(alpha, a, b, c),
    }
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(all(target_arch = "x86_64", feature = "simd"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_avx2<T: Element>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, c: MatMut<'_, T>) {
    rows::<T, true>(alpha, a, b, c)
}

#[inline(always)]
fn rows<T: Element, const FUSED: bool>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, c: MatMut<'_, T>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    for i in 0..m {
        let c_row = &mut c.data[i * c.row_stride..i * c.row_stride + n];
        for p in 0..k {
            let scale = alpha * a.at(i, p);
            let b_row = &b.data[p * b.row_stride..p * b.row_stride + n];
            for (x, &y) in c_row.iter_mut().zip(b_row) {
                *x = if FUSED { scale.fused_mul_add(y, *x) } else { *x + scale * y };
            }
        }
    }
}
