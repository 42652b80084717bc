//! AVX2 + FMA kernels for small products, reading the operands where they lie (no packing).
//!
//! `C` is cut into tiles of up to 6 rows by two vectors of columns; for each `p` the tile
//! takes two loads of a row of `B` (contiguous) and one broadcast of `A[i, p]` per row (any
//! stride), and keeps its accumulators in registers for the whole `k` loop. A tile narrower
//! than two vectors (the last columns) reads `B` with masked loads, so nothing outside `B` is
//! touched and no copy is made, and adds its results into `C` through a small buffer.

use super::{MatMut, MatRef};
use std::arch::x86_64::*;

macro_rules! small_kernel {
    ($name:ident, $tile:ident, $t:ty, $lanes:expr, $vec:ty, $zero:ident, $loadu:ident, $storeu:ident,
     $maskload:ident, $mul:ident, $set1:ident, $fmadd:ident, $mask:ident) => {
        /// `C += alpha * A * B` for a row-major `B` (column stride 1).
        ///
        /// # Safety
        /// The CPU must support AVX2 and FMA; `b` must have column stride 1.
        #[target_feature(enable = "avx2,fma")]
        pub(crate) unsafe fn $name(alpha: $t, a: &MatRef<'_, $t>, b: &MatRef<'_, $t>, c: &mut MatMut<'_, $t>) {
            debug_assert_eq!(b.col_stride, 1);
            let (m, n) = (a.rows, b.cols);
            // Spread the rows evenly over the fewest tiles of at most 6 (25 = 5 x 5, not
            // 4 x 6 + 1), so no tile runs mostly empty.
            let tiles = m.div_ceil(6);
            let mut i = 0;
            for t in 0..tiles {
                let rows = m / tiles + usize::from(t < m % tiles);
                for j in (0..n).step_by(2 * $lanes) {
                    let cols = (n - j).min(2 * $lanes);
                    // SAFETY: the tile (i..i + rows, j..j + cols) lies inside A's rows, B's
                    // columns and C, and the CPU supports AVX2 + FMA (this function's contract).
                    unsafe {
                        match rows {
                            6 => $tile::<6>(alpha, a, b, c, i, j, cols),
                            5 => $tile::<5>(alpha, a, b, c, i, j, cols),
                            4 => $tile::<4>(alpha, a, b, c, i, j, cols),
                            3 => $tile::<3>(alpha, a, b, c, i, j, cols),
                            2 => $tile::<2>(alpha, a, b, c, i, j, cols),
                            _ => $tile::<1>(alpha, a, b, c, i, j, cols),
                        }
                    }
                }
                i += rows;
            }
        }

        /// One tile of `ROWS` rows and `cols <= 2 * lanes` columns at `(i, j)`.
        ///
        /// # Safety
        /// As the caller's, with `i + ROWS <= m` and `j + cols <= n`.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $tile<const ROWS: usize>(
            alpha: $t,
            a: &MatRef<'_, $t>,
            b: &MatRef<'_, $t>,
            c: &mut MatMut<'_, $t>,
            i: usize,
            j: usize,
            cols: usize,
        ) {
            let full = cols == 2 * $lanes;
            let (mask0, mask1) = ($mask(cols), $mask(cols.saturating_sub($lanes)));
            let mut acc = [[$zero(); 2]; ROWS];
            let a_ptr = a.data.as_ptr();
            let b_ptr = b.data.as_ptr();
            for p in 0..a.cols {
                // Masked-off lanes are neither read nor faulted on; `wrapping_add` keeps the
                // address arithmetic defined even where a lane lies past the end of `B`.
                let row = b_ptr.wrapping_add(p * b.row_stride + j);
                // SAFETY: unmasked lanes are B[p, j..j + cols], inside B.
                let (b0, b1) = unsafe {
                    if full {
                        ($loadu(row), $loadu(row.wrapping_add($lanes)))
                    } else {
                        ($maskload(row, mask0), $maskload(row.wrapping_add($lanes), mask1))
                    }
                };
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    // SAFETY: A[i + r, p] is inside A (i + r < m, p < k).
                    let a_ip = $set1(unsafe { *a_ptr.add((i + r) * a.row_stride + p * a.col_stride) });
                    acc_r[0] = $fmadd(a_ip, b0, acc_r[0]);
                    acc_r[1] = $fmadd(a_ip, b1, acc_r[1]);
                }
            }
            let alpha = $set1(alpha);
            let c_ptr = c.data.as_mut_ptr();
            if full {
                for (r, acc_r) in acc.iter().enumerate() {
                    // SAFETY: C[i + r, j..j + 2 lanes] is inside C, which this call borrows
                    // mutably.
                    unsafe {
                        let row = c_ptr.add((i + r) * c.row_stride + j);
                        $storeu(row, $fmadd(acc_r[0], alpha, $loadu(row)));
                        $storeu(row.add($lanes), $fmadd(acc_r[1], alpha, $loadu(row.add($lanes))));
                    }
                }
            } else {
                // A partial tile goes through a buffer: masked stores are slow on some CPUs.
                let mut tile = [[0.0 as $t; 2 * $lanes]; ROWS];
                for (acc_r, tile_r) in acc.iter().zip(tile.iter_mut()) {
                    // SAFETY: each tile row holds two vectors.
                    unsafe {
                        $storeu(tile_r.as_mut_ptr(), $mul(acc_r[0], alpha));
                        $storeu(tile_r.as_mut_ptr().add($lanes), $mul(acc_r[1], alpha));
                    }
                }
                for (r, tile_r) in tile.iter().enumerate() {
                    let row = &mut c.data[(i + r) * c.row_stride + j..][..cols];
                    row.iter_mut().zip(tile_r).for_each(|(x, &y)| *x += y);
                }
            }
        }
    };
}

/// Lanes `0..live` of an 8 x 32-bit mask set.
#[inline]
#[target_feature(enable = "avx2")]
fn mask_f32(live: usize) -> __m256i {
    _mm256_cmpgt_epi32(_mm256_set1_epi32(live.min(8) as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// Lanes `0..live` of a 4 x 64-bit mask set.
#[inline]
#[target_feature(enable = "avx2")]
fn mask_f64(live: usize) -> __m256i {
    _mm256_cmpgt_epi64(_mm256_set1_epi64x(live.min(4) as i64), _mm256_setr_epi64x(0, 1, 2, 3))
}

small_kernel!(
    gemm_f32,
    tile_f32,
    f32,
    8,
    __m256,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_maskload_ps,
    _mm256_mul_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    mask_f32
);
small_kernel!(
    gemm_f64,
    tile_f64,
    f64,
    4,
    __m256d,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_maskload_pd,
    _mm256_mul_pd,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    mask_f64
);
