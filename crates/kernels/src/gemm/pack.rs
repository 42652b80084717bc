//! Packing: copying a block of an operand into the order the microkernel reads it.
//!
//! A block of `A` becomes panels of `mr` rows: for each `p`, the `mr` values of column `p`
//! sit side by side. A block of `B` becomes panels of `nr` columns: for each `p`, the `nr`
//! values of row `p` sit side by side. The microkernel then streams both with unit stride,
//! whatever the operands' original strides. Panels past the matrix edge are padded with zeros
//! so the microkernel never needs a bounds check.

use super::MatRef;
use crate::{Element, Isa};

/// Cache-line alignment of packed panels: a row of an f32 `B` panel is one 64-byte line, so
/// an aligned panel never splits a vector load across two lines.
const ALIGN: usize = 64;

/// An aligned part of `buffer` of `len` values, starting at a 64-byte boundary. The buffer
/// only grows: its old contents stay, since packing overwrites every value, padding included.
fn aligned<T: Element>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    let slack = ALIGN / std::mem::size_of::<T>();
    if buffer.len() < len + slack {
        buffer.clear();
        buffer.resize(len + slack, T::ZERO);
    }
    let offset = buffer.as_ptr().align_offset(ALIGN).min(slack);
    &mut buffer[offset..offset + len]
}

/// Copies `src` into `dst` (equal lengths). A full microkernel row is 64 bytes (16 f32 or 8
/// f64): on x86_64 it is copied with four 16-byte SSE2 moves. Left to itself, LLVM merges
/// the fixed-size copies with the general one into a `memcpy` call per row, which cost 15%
/// of a conv-4-sized product (64 x 576 x 392) in call overhead.
#[inline(always)]
fn copy_row<T: Element>(dst: &mut [T], src: &[T]) {
    assert_eq!(dst.len(), src.len());
    #[cfg(target_arch = "x86_64")]
    if std::mem::size_of_val(src) == 64 {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128};
        let (from, to) = (src.as_ptr() as *const __m128i, dst.as_mut_ptr() as *mut __m128i);
        // SAFETY: both slices span exactly 64 bytes (checked above), so four unaligned 16-byte
        // loads from `src` and stores to `dst` stay inside them; SSE2 is part of x86_64; the
        // slices cannot overlap (one is borrowed mutably).
        unsafe {
            let (a, b, c, d) = (
                _mm_loadu_si128(from),
                _mm_loadu_si128(from.add(1)),
                _mm_loadu_si128(from.add(2)),
                _mm_loadu_si128(from.add(3)),
            );
            _mm_storeu_si128(to, a);
            _mm_storeu_si128(to.add(1), b);
            _mm_storeu_si128(to.add(2), c);
            _mm_storeu_si128(to.add(3), d);
        }
        return;
    }
    dst.copy_from_slice(src);
}

/// Packs rows `rows.0..rows.1` and columns `ps.0..ps.1` of `a` into `mr`-row panels, in an
/// aligned part of `buffer`, which it returns. `isa` picks the fast transposes.
pub(crate) fn pack_a<'b, T: Element>(
    a: &MatRef<'_, T>,
    rows: (usize, usize),
    ps: (usize, usize),
    mr: usize,
    isa: Isa,
    buffer: &'b mut Vec<T>,
) -> &'b [T] {
    let (m, k) = (rows.1 - rows.0, ps.1 - ps.0);
    let out = aligned(buffer, m.div_ceil(mr) * mr * k);
    for (panel, chunk) in out.chunks_exact_mut(mr * k).enumerate() {
        let row0 = rows.0 + panel * mr;
        let live = mr.min(rows.1 - row0);
        if row_major_full_panel_avx(a, row0, ps, live, mr, isa, chunk) {
            continue;
        }
        for i in 0..live {
            let base = (row0 + i) * a.row_stride + ps.0 * a.col_stride;
            for p in 0..k {
                chunk[p * mr + i] = a.data[base + p * a.col_stride];
            }
        }
        // Rows past the matrix edge: zeros.
        for p in 0..k {
            chunk[p * mr + live..(p + 1) * mr].fill(T::ZERO);
        }
    }
    out
}

/// Packs one full panel (`live == mr == 6` rows from `row0`, columns `ps`) of a row-major
/// `A` of 32-bit values, 6 x 8 blocks at a time with AVX; the last `k % 8` columns one value
/// at a time. Returns false, having done nothing, when that does not apply (another ISA,
/// another type, another layout, a partial panel).
#[allow(unused_variables)]
fn row_major_full_panel_avx<T: Element>(
    a: &MatRef<'_, T>,
    row0: usize,
    ps: (usize, usize),
    live: usize,
    mr: usize,
    isa: Isa,
    panel: &mut [T],
) -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "simd"))]
    if isa == Isa::Avx2Fma && std::mem::size_of::<T>() == 4 && a.col_stride == 1 && live == 6 && mr == 6 {
        let k = ps.1 - ps.0;
        let base = |i: usize| (row0 + i) * a.row_stride + ps.0;
        // Every read below is at base(i) + p for i < 6, p < k, the last being this one.
        assert!(k > 0 && base(5) + k <= a.data.len() && panel.len() >= 6 * k, "pack_a: panel out of bounds");
        let whole = k - k % 8;
        for p0 in (0..whole).step_by(8) {
            // SAFETY: source rows 0..6 hold values p0..p0 + 8 at base(i) + p0 (in bounds by
            // the assert, p0 + 8 <= k); the destination is values 6 p0..6 (p0 + 8) of the
            // panel (inside its 6 k); the caller's Isa says the CPU has AVX2, hence AVX; T is
            // 32 bits wide, so the bits move unchanged as f32 lanes; `panel` is borrowed
            // mutably from a buffer that `a` cannot alias.
            unsafe {
                super::avx2::pack_6x8_f32(
                    a.data.as_ptr().add(base(0) + p0) as *const f32,
                    a.row_stride,
                    panel.as_mut_ptr().add(6 * p0) as *mut f32,
                );
            }
        }
        for p in whole..k {
            for i in 0..6 {
                panel[p * 6 + i] = a.data[base(i) + p];
            }
        }
        return true;
    }
    false
}

/// Packs rows `ps.0..ps.1` and columns `cols.0..cols.1` of `b` into `nr`-column panels, in an
/// aligned part of `buffer`, which it returns; the panels are spread over threads when
/// `parallel`. `isa` picks the fast transposes.
pub(crate) fn pack_b<'b, T: Element>(
    b: &MatRef<'_, T>,
    ps: (usize, usize),
    cols: (usize, usize),
    nr: usize,
    parallel: bool,
    isa: Isa,
    buffer: &'b mut Vec<T>,
) -> &'b [T] {
    let (k, n) = (ps.1 - ps.0, cols.1 - cols.0);
    let out = aligned(buffer, n.div_ceil(nr) * nr * k);
    // A task packs PANELS_PER_TASK neighbouring panels. Row-major B is read row by row, in
    // runs of PANELS_PER_TASK * nr values; a transposed view (row stride 1) column by
    // column, each a run along k, so that no step touches more than a few pages.
    const PANELS_PER_TASK: usize = 8;
    let pack_panels = |(task, chunk): (usize, &mut [T])| {
        let panel_cols = |slot: usize| {
            let col0 = cols.0 + (task * PANELS_PER_TASK + slot) * nr;
            (col0, nr.min(cols.1 - col0))
        };
        if b.col_stride == 1 {
            for p in 0..k {
                let row = (ps.0 + p) * b.row_stride;
                for (slot, panel) in chunk.chunks_exact_mut(nr * k).enumerate() {
                    let (col0, live) = panel_cols(slot);
                    let dst = &mut panel[p * nr..(p + 1) * nr];
                    copy_row(&mut dst[..live], &b.data[row + col0..row + col0 + live]);
                    // Columns past the matrix edge: zeros.
                    dst[live..].fill(T::ZERO);
                }
            }
        } else {
            for (slot, panel) in chunk.chunks_exact_mut(nr * k).enumerate() {
                let (col0, live) = panel_cols(slot);
                if transposed_full_panel_avx(b, (ps.0, k), col0, live, nr, isa, panel) {
                    continue;
                }
                for j in 0..live {
                    let base = ps.0 * b.row_stride + (col0 + j) * b.col_stride;
                    for p in 0..k {
                        panel[p * nr + j] = b.data[base + p * b.row_stride];
                    }
                }
                for p in 0..k {
                    panel[p * nr + live..(p + 1) * nr].fill(T::ZERO);
                }
            }
        }
    };
    let task_len = PANELS_PER_TASK * nr * k;
    #[cfg(feature = "rayon")]
    if parallel {
        use rayon::prelude::*;
        out.par_chunks_mut(task_len).enumerate().for_each(pack_panels);
        return out;
    }
    let _ = parallel;
    out.chunks_mut(task_len).enumerate().for_each(pack_panels);
    out
}

/// Packs one full panel (`live == nr` columns from `col0`, `k` rows from `p0`) of a `B` stored
/// transposed (row stride 1, so each column is a run along k) of 32-bit values, 8 x 8 blocks
/// at a time with AVX; the last `k % 8` rows one value at a time. Returns false, having done
/// nothing, when that does not apply (another ISA, another type, a partial panel).
#[allow(unused_variables)]
fn transposed_full_panel_avx<T: Element>(
    b: &MatRef<'_, T>,
    (p0, k): (usize, usize),
    col0: usize,
    live: usize,
    nr: usize,
    isa: Isa,
    panel: &mut [T],
) -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "simd"))]
    if isa == Isa::Avx2Fma
        && std::mem::size_of::<T>() == 4
        && b.row_stride == 1
        && live == nr
        && nr.is_multiple_of(8)
        && k > 0
    {
        let base = |j: usize| p0 + (col0 + j) * b.col_stride;
        // Every read below is at base(j) + p for j < nr, p < k, the last being this one.
        assert!(base(nr - 1) + k <= b.data.len() && panel.len() >= nr * k, "pack_b: panel out of bounds");
        let whole = k - k % 8;
        for j0 in (0..nr).step_by(8) {
            for q0 in (0..whole).step_by(8) {
                // SAFETY: source rows j0..j0 + 8 hold values q0..q0 + 8 at base(j) + q0
                // (in bounds by the assert, q0 + 8 <= k); destination rows q0..q0 + 8 hold
                // columns j0..j0 + 8 (q0 + 8 <= k and j0 + 8 <= nr, inside nr * k); the
                // caller's Isa says the CPU has AVX2, hence AVX; T is 32 bits wide, so the
                // bits move unchanged as f32 lanes; `panel` is borrowed mutably from a buffer
                // that `b` cannot alias.
                unsafe {
                    super::avx2::transpose_8x8_f32(
                        b.data.as_ptr().add(base(j0) + q0) as *const f32,
                        b.col_stride,
                        panel.as_mut_ptr().add(q0 * nr + j0) as *mut f32,
                        nr,
                    );
                }
            }
        }
        for j in 0..nr {
            for q in whole..k {
                panel[q * nr + j] = b.data[base(j) + q];
            }
        }
        return true;
    }
    false
}
