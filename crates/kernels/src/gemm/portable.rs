//! The portable microkernel: plain Rust, any `MR x NR` tile, always compiled and tested.

use super::Microkernel;
use crate::Element;

/// The portable microkernel for tiles of `MR x NR`.
pub(crate) fn microkernel<T: Element, const MR: usize, const NR: usize>() -> Microkernel<T> {
    Microkernel { mr: MR, nr: NR, run: run::<T, MR, NR> }
}

/// `C[..m, ..n] += alpha * A_panel * B_panel` over `kc` steps, or `=` when `overwrite`
/// (then `C` is only written, never read).
///
/// # Safety
/// `a` must point to `kc * MR` readable values, `b` to `kc * NR`, and `c` to an `m x n` block
/// with row stride `rs_c` (`m <= MR`, `n <= NR`) that nothing else accesses during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn run<T: Element, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    b: *const T,
    alpha: T,
    c: *mut T,
    rs_c: usize,
    m: usize,
    n: usize,
    overwrite: bool,
) {
    // SAFETY: the caller guarantees the panel lengths.
    let (a, b) = unsafe { (std::slice::from_raw_parts(a, kc * MR), std::slice::from_raw_parts(b, kc * NR)) };
    let mut acc = [[T::ZERO; NR]; MR];
    for (a_p, b_p) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &a_ip) in acc.iter_mut().zip(a_p) {
            for (x, &b_pj) in row.iter_mut().zip(b_p) {
                *x += a_ip * b_pj;
            }
        }
    }
    for (i, row) in acc.iter().enumerate().take(m) {
        for (j, &x) in row.iter().enumerate().take(n) {
            // SAFETY: (i, j) is inside the m x n block the caller handed over.
            unsafe {
                let at = c.add(i * rs_c + j);
                *at = if overwrite { alpha * x } else { *at + alpha * x };
            }
        }
    }
}
