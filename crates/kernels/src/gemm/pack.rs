//! Packing: copying a block of an operand into the order the microkernel reads it.
//!
//! A block of `A` becomes panels of `mr` rows: for each `p`, the `mr` values of column `p`
//! sit side by side. A block of `B` becomes panels of `nr` columns: for each `p`, the `nr`
//! values of row `p` sit side by side. The microkernel then streams both with unit stride,
//! whatever the operands' original strides. Panels past the matrix edge are padded with zeros
//! so the microkernel never needs a bounds check.

use super::MatRef;
use crate::Element;

/// Cache-line alignment of packed panels: a row of an f32 `B` panel is one 64-byte line, so
/// an aligned panel never splits a vector load across two lines.
const ALIGN: usize = 64;

/// Resizes `buffer` to hold `len` zeros starting at a 64-byte boundary; returns that part.
fn aligned<T: Element>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    let slack = ALIGN / std::mem::size_of::<T>();
    buffer.clear();
    buffer.resize(len + slack, T::ZERO);
    let offset = buffer.as_ptr().align_offset(ALIGN).min(slack);
    &mut buffer[offset..offset + len]
}

/// Packs rows `rows.0..rows.1` and columns `ps.0..ps.1` of `a` into `mr`-row panels, in an
/// aligned part of `buffer`, which it returns.
pub(crate) fn pack_a<'b, T: Element>(
    a: &MatRef<'_, T>,
    rows: (usize, usize),
    ps: (usize, usize),
    mr: usize,
    buffer: &'b mut Vec<T>,
) -> &'b [T] {
    let (m, k) = (rows.1 - rows.0, ps.1 - ps.0);
    let out = aligned(buffer, m.div_ceil(mr) * mr * k);
    for (panel, chunk) in out.chunks_exact_mut(mr * k).enumerate() {
        let row0 = rows.0 + panel * mr;
        let live = mr.min(rows.1 - row0);
        for i in 0..live {
            let base = (row0 + i) * a.row_stride + ps.0 * a.col_stride;
            for p in 0..k {
                chunk[p * mr + i] = a.data[base + p * a.col_stride];
            }
        }
    }
    out
}

/// Packs rows `ps.0..ps.1` and columns `cols.0..cols.1` of `b` into `nr`-column panels, in an
/// aligned part of `buffer`, which it returns; the panels are spread over threads when
/// `parallel`.
pub(crate) fn pack_b<'b, T: Element>(
    b: &MatRef<'_, T>,
    ps: (usize, usize),
    cols: (usize, usize),
    nr: usize,
    parallel: bool,
    buffer: &'b mut Vec<T>,
) -> &'b [T] {
    let (k, n) = (ps.1 - ps.0, cols.1 - cols.0);
    let out = aligned(buffer, n.div_ceil(nr) * nr * k);
    let pack_panel = |(panel, chunk): (usize, &mut [T])| {
        let col0 = cols.0 + panel * nr;
        let live = nr.min(cols.1 - col0);
        for p in 0..k {
            let base = (ps.0 + p) * b.row_stride + col0 * b.col_stride;
            let dst = &mut chunk[p * nr..p * nr + live];
            if b.col_stride == 1 {
                dst.copy_from_slice(&b.data[base..base + live]);
            } else {
                for (j, d) in dst.iter_mut().enumerate() {
                    *d = b.data[base + j * b.col_stride];
                }
            }
        }
    };
    #[cfg(feature = "rayon")]
    if parallel {
        use rayon::prelude::*;
        out.par_chunks_exact_mut(nr * k).enumerate().for_each(pack_panel);
        return out;
    }
    let _ = parallel;
    out.chunks_exact_mut(nr * k).enumerate().for_each(pack_panel);
    out
}
