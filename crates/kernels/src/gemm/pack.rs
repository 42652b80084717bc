//! Packing: copying a block of an operand into the order the microkernel reads it.
//!
//! A block of `A` becomes panels of `mr` rows: for each `p`, the `mr` values of column `p`
//! sit side by side. A block of `B` becomes panels of `nr` columns: for each `p`, the `nr`
//! values of row `p` sit side by side. The microkernel then streams both with unit stride,
//! whatever the operands' original strides. Panels past the matrix edge are padded with zeros
//! so the microkernel never needs a bounds check.

use super::MatRef;
use crate::Element;

/// Packs rows `rows.0..rows.1` and columns `ps.0..ps.1` of `a` into `mr`-row panels.
pub(crate) fn pack_a<T: Element>(
    a: &MatRef<'_, T>,
    rows: (usize, usize),
    ps: (usize, usize),
    mr: usize,
    out: &mut Vec<T>,
) {
    let (m, k) = (rows.1 - rows.0, ps.1 - ps.0);
    out.clear();
    out.resize(m.div_ceil(mr) * mr * k, T::ZERO);
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
}

/// Packs rows `ps.0..ps.1` and columns `cols.0..cols.1` of `b` into `nr`-column panels,
/// spreading the panels over threads when `parallel`.
pub(crate) fn pack_b<T: Element>(
    b: &MatRef<'_, T>,
    ps: (usize, usize),
    cols: (usize, usize),
    nr: usize,
    parallel: bool,
    out: &mut Vec<T>,
) {
    let (k, n) = (ps.1 - ps.0, cols.1 - cols.0);
    out.clear();
    out.resize(n.div_ceil(nr) * nr * k, T::ZERO);
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
        return;
    }
    let _ = parallel;
    out.chunks_exact_mut(nr * k).enumerate().for_each(pack_panel);
}
