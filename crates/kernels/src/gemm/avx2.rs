//! AVX2 + FMA microkernels (x86_64), selected at run time when the CPU has both.
//!
//! Tile shapes fill the 16 `ymm` registers: 12 accumulators (6 rows x 2 vectors), 2 vectors
//! of `B`, and 1 broadcast of `A`. f32: 6 x 16 (8 lanes per vector); f64: 6 x 8 (4 lanes).
//! One macro writes both, so the two types cannot drift apart.

use super::Microkernel;
use std::arch::x86_64::*;

/// f32, 6 x 16 tiles.
pub(crate) const F32_6X16: Microkernel<f32> = Microkernel { mr: 6, nr: 16, run: kernel_f32_6x16 };
/// f64, 6 x 8 tiles.
pub(crate) const F64_6X8: Microkernel<f64> = Microkernel { mr: 6, nr: 8, run: kernel_f64_6x8 };

macro_rules! microkernel {
    ($name:ident, $t:ty, $lanes:expr, $zero:ident, $loadu:ident, $storeu:ident, $broadcast:ident, $set1:ident, $fmadd:ident, $mul:ident) => {
        /// `C[..m, ..n] += alpha * A_panel * B_panel` for one 6 x (2 lanes) tile, or `=` when
        /// `overwrite` (then `C` is only written, never read).
        ///
        /// # Safety
        /// The CPU must support AVX2 and FMA. `a` must point to `kc * 6` readable values, `b`
        /// to `kc * 2 * lanes`, and `c` to an `m x n` block (`m <= 6`, `n <= 2 * lanes`) with
        /// row stride `rs_c` that nothing else accesses during the call.
        // The BLIS microkernel signature: panels, alpha, and the C tile with its row stride and size.
        #[allow(clippy::too_many_arguments)]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $name(
            kc: usize,
            a: *const $t,
            b: *const $t,
            alpha: $t,
            c: *mut $t,
            rs_c: usize,
            m: usize,
            n: usize,
            overwrite: bool,
        ) {
            const NR: usize = 2 * $lanes;
            let mut acc = [$zero(); 12];
            // Ask for the C tile now, so it is in cache by the time the k loop ends.
            // (Also when overwriting: the stores then find their lines in cache.)
            for i in 0..m {
                _mm_prefetch::<_MM_HINT_T0>(c.wrapping_add(i * rs_c) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(c.wrapping_add(i * rs_c + NR - 1) as *const i8);
            }
            for p in 0..kc {
                // SAFETY: p < kc, so b + NR p + NR and a + 6p + 6 stay inside the panels.
                unsafe {
                    let b0 = $loadu(b.add(p * NR));
                    let b1 = $loadu(b.add(p * NR + $lanes));
                    for i in 0..6 {
                        let a_ip = $broadcast(&*a.add(p * 6 + i));
                        acc[2 * i] = $fmadd(a_ip, b0, acc[2 * i]);
                        acc[2 * i + 1] = $fmadd(a_ip, b1, acc[2 * i + 1]);
                    }
                }
            }
            let alpha = $set1(alpha);
            if m == 6 && n == NR && overwrite {
                for i in 0..6 {
                    // SAFETY: a full tile: row i, columns 0..NR are inside the block.
                    unsafe {
                        let row = c.add(i * rs_c);
                        $storeu(row, $mul(acc[2 * i], alpha));
                        $storeu(row.add($lanes), $mul(acc[2 * i + 1], alpha));
                    }
                }
            } else if m == 6 && n == NR {
                for i in 0..6 {
                    // SAFETY: a full tile: row i, columns 0..NR are inside the block.
                    unsafe {
                        let row = c.add(i * rs_c);
                        $storeu(row, $fmadd(acc[2 * i], alpha, $loadu(row)));
                        $storeu(row.add($lanes), $fmadd(acc[2 * i + 1], alpha, $loadu(row.add($lanes))));
                    }
                }
            } else {
                let mut tile = [0.0 as $t; 6 * NR];
                for i in 0..6 {
                    // SAFETY: tile holds 6 rows of NR.
                    unsafe {
                        $storeu(tile.as_mut_ptr().add(i * NR), $mul(acc[2 * i], alpha));
                        $storeu(tile.as_mut_ptr().add(i * NR + $lanes), $mul(acc[2 * i + 1], alpha));
                    }
                }
                for i in 0..m {
                    for j in 0..n {
                        // SAFETY: (i, j) is inside the m x n block.
                        unsafe {
                            let at = c.add(i * rs_c + j);
                            *at = if overwrite { tile[i * NR + j] } else { *at + tile[i * NR + j] };
                        }
                    }
                }
            }
        }
    };
}

microkernel!(
    kernel_f32_6x16,
    f32,
    8,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_broadcast_ss,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_mul_ps
);
microkernel!(
    kernel_f64_6x8,
    f64,
    4,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_broadcast_sd,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    _mm256_mul_pd
);

/// The 8 x 8 transpose of 32-bit lanes held in registers: lane `j` of output `i` is lane `i`
/// of input `j`.
#[target_feature(enable = "avx")]
fn transpose_registers_8x8(r: [__m256; 8]) -> [__m256; 8] {
    // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
    let t = [
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
        _mm256_unpacklo_ps(r[4], r[5]),
        _mm256_unpackhi_ps(r[4], r[5]),
        _mm256_unpacklo_ps(r[6], r[7]),
        _mm256_unpackhi_ps(r[6], r[7]),
    ];
    let u = [
        _mm256_shuffle_ps::<0x44>(t[0], t[2]),
        _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
        _mm256_shuffle_ps::<0x44>(t[1], t[3]),
        _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
        _mm256_shuffle_ps::<0x44>(t[4], t[6]),
        _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
        _mm256_shuffle_ps::<0x44>(t[5], t[7]),
        _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
    ];
    std::array::from_fn(|i| {
        if i < 4 {
            _mm256_permute2f128_ps::<0x20>(u[i], u[i + 4])
        } else {
            _mm256_permute2f128_ps::<0x31>(u[i - 4], u[i])
        }
    })
}

/// Transposes an 8 x 8 block of 32-bit values: row `i` of the destination (`dst + i * dst_stride`)
/// receives column `i` of the source (`src + j * src_stride + i` for `j` in `0..8`). Packing
/// uses it for a transposed `B` (a convolution's `cols^T`), which it would otherwise copy one
/// value at a time.
///
/// # Safety
/// The CPU must support AVX. The 8 source rows of 8 values and the 8 destination rows of 8
/// values must be in bounds, and the two blocks must not overlap.
#[target_feature(enable = "avx")]
pub(crate) unsafe fn transpose_8x8_f32(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    // SAFETY: the caller guarantees rows 0..8 of both blocks are in bounds.
    unsafe {
        let r: [__m256; 8] = std::array::from_fn(|j| _mm256_loadu_ps(src.add(j * src_stride)));
        for (i, column) in transpose_registers_8x8(r).into_iter().enumerate() {
            _mm256_storeu_ps(dst.add(i * dst_stride), column);
        }
    }
}

/// Packs 8 columns of 6 rows of 32-bit values into a 6-row panel: `dst[6 q + i]` receives
/// `src[i * src_stride + q]` for `i` in `0..6`, `q` in `0..8`. Packing uses it for a row-major
/// `A` (a convolution's filters), whose 6-row panels it would otherwise fill one value at a time.
///
/// # Safety
/// The CPU must support AVX. The 6 source rows of 8 values and the 48 destination values must
/// be in bounds, and the two must not overlap.
#[target_feature(enable = "avx")]
pub(crate) unsafe fn pack_6x8_f32(src: *const f32, src_stride: usize, dst: *mut f32) {
    // SAFETY: the caller guarantees rows 0..6 of the source and 48 destination values are in
    // bounds; each column's 6 values go out as a 4-value and a 2-value store, inside them.
    unsafe {
        let r: [__m256; 8] =
            std::array::from_fn(|j| if j < 6 { _mm256_loadu_ps(src.add(j * src_stride)) } else { _mm256_setzero_ps() });
        for (q, column) in transpose_registers_8x8(r).into_iter().enumerate() {
            let to = dst.add(6 * q);
            _mm_storeu_ps(to, _mm256_castps256_ps128(column));
            _mm_store_sd(to.add(4) as *mut f64, _mm_castps_pd(_mm256_extractf128_ps::<1>(column)));
        }
    }
}
