//! AVX2 + FMA microkernels (x86_64), selected at run time when the CPU has both.
//!
//! Tile shapes fill the 16 `ymm` registers: 12 accumulators (6 rows x 2 vectors), 2 vectors
//! of `B`, and 1 broadcast of `A`. f32: 6 x 16 (8 lanes per vector); f64: 6 x 8 (4 lanes).

use super::Microkernel;
use std::arch::x86_64::*;

/// f32, 6 x 16 tiles.
pub(crate) const F32_6X16: Microkernel<f32> = Microkernel { mr: 6, nr: 16, run: kernel_f32_6x16 };
/// f64, 6 x 8 tiles.
pub(crate) const F64_6X8: Microkernel<f64> = Microkernel { mr: 6, nr: 8, run: kernel_f64_6x8 };

/// `C[..m, ..n] += alpha * A_panel * B_panel`, f32.
///
/// # Safety
/// The CPU must support AVX2 and FMA. `a` must point to `kc * 6` readable values, `b` to
/// `kc * 16`, and `c` to an `m x n` block (`m <= 6`, `n <= 16`) with row stride `rs_c` that
/// nothing else accesses during the call.
// The BLIS microkernel signature: panels, alpha, and the C tile with its row stride and size.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_f32_6x16(
    kc: usize,
    a: *const f32,
    b: *const f32,
    alpha: f32,
    c: *mut f32,
    rs_c: usize,
    m: usize,
    n: usize,
) {
    let mut acc = [_mm256_setzero_ps(); 12];
    // Ask for the C tile now, so it is in cache by the time the k loop ends.
    for i in 0..m {
        _mm_prefetch::<_MM_HINT_T0>(c.wrapping_add(i * rs_c) as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(c.wrapping_add(i * rs_c + 15) as *const i8);
    }
    for p in 0..kc {
        // SAFETY: p < kc, so b + 16p + 16 and a + 6p + 6 stay inside the panels.
        unsafe {
            let b0 = _mm256_loadu_ps(b.add(p * 16));
            let b1 = _mm256_loadu_ps(b.add(p * 16 + 8));
            for i in 0..6 {
                let a_ip = _mm256_broadcast_ss(&*a.add(p * 6 + i));
                acc[2 * i] = _mm256_fmadd_ps(a_ip, b0, acc[2 * i]);
                acc[2 * i + 1] = _mm256_fmadd_ps(a_ip, b1, acc[2 * i + 1]);
            }
        }
    }
    let alpha = _mm256_set1_ps(alpha);
    if m == 6 && n == 16 {
        for i in 0..6 {
            // SAFETY: a full tile: row i, columns 0..16 are inside the block.
            unsafe {
                let row = c.add(i * rs_c);
                _mm256_storeu_ps(row, _mm256_fmadd_ps(acc[2 * i], alpha, _mm256_loadu_ps(row)));
                _mm256_storeu_ps(row.add(8), _mm256_fmadd_ps(acc[2 * i + 1], alpha, _mm256_loadu_ps(row.add(8))));
            }
        }
    } else {
        let mut tile = [0.0f32; 96];
        for i in 0..6 {
            // SAFETY: tile holds 6 rows of 16.
            unsafe {
                _mm256_storeu_ps(tile.as_mut_ptr().add(i * 16), _mm256_mul_ps(acc[2 * i], alpha));
                _mm256_storeu_ps(tile.as_mut_ptr().add(i * 16 + 8), _mm256_mul_ps(acc[2 * i + 1], alpha));
            }
        }
        for i in 0..m {
            for j in 0..n {
                // SAFETY: (i, j) is inside the m x n block.
                unsafe { *c.add(i * rs_c + j) += tile[i * 16 + j] };
            }
        }
    }
}

/// `C[..m, ..n] += alpha * A_panel * B_panel`, f64.
///
/// # Safety
/// As [`kernel_f32_6x16`], with `b` pointing to `kc * 8` values and `n <= 8`.
// The BLIS microkernel signature: panels, alpha, and the C tile with its row stride and size.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_f64_6x8(
    kc: usize,
    a: *const f64,
    b: *const f64,
    alpha: f64,
    c: *mut f64,
    rs_c: usize,
    m: usize,
    n: usize,
) {
    let mut acc = [_mm256_setzero_pd(); 12];
    // Ask for the C tile now, so it is in cache by the time the k loop ends.
    for i in 0..m {
        _mm_prefetch::<_MM_HINT_T0>(c.wrapping_add(i * rs_c) as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(c.wrapping_add(i * rs_c + 7) as *const i8);
    }
    for p in 0..kc {
        // SAFETY: p < kc, so b + 8p + 8 and a + 6p + 6 stay inside the panels.
        unsafe {
            let b0 = _mm256_loadu_pd(b.add(p * 8));
            let b1 = _mm256_loadu_pd(b.add(p * 8 + 4));
            for i in 0..6 {
                let a_ip = _mm256_broadcast_sd(&*a.add(p * 6 + i));
                acc[2 * i] = _mm256_fmadd_pd(a_ip, b0, acc[2 * i]);
                acc[2 * i + 1] = _mm256_fmadd_pd(a_ip, b1, acc[2 * i + 1]);
            }
        }
    }
    let alpha = _mm256_set1_pd(alpha);
    if m == 6 && n == 8 {
        for i in 0..6 {
            // SAFETY: a full tile: row i, columns 0..8 are inside the block.
            unsafe {
                let row = c.add(i * rs_c);
                _mm256_storeu_pd(row, _mm256_fmadd_pd(acc[2 * i], alpha, _mm256_loadu_pd(row)));
                _mm256_storeu_pd(row.add(4), _mm256_fmadd_pd(acc[2 * i + 1], alpha, _mm256_loadu_pd(row.add(4))));
            }
        }
    } else {
        let mut tile = [0.0f64; 48];
        for i in 0..6 {
            // SAFETY: tile holds 6 rows of 8.
            unsafe {
                _mm256_storeu_pd(tile.as_mut_ptr().add(i * 8), _mm256_mul_pd(acc[2 * i], alpha));
                _mm256_storeu_pd(tile.as_mut_ptr().add(i * 8 + 4), _mm256_mul_pd(acc[2 * i + 1], alpha));
            }
        }
        for i in 0..m {
            for j in 0..n {
                // SAFETY: (i, j) is inside the m x n block.
                unsafe { *c.add(i * rs_c + j) += tile[i * 8 + j] };
            }
        }
    }
}
