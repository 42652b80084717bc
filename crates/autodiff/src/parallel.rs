//! Elementwise loops over long tensors, cut into fixed blocks that rayon runs in parallel.
//!
//! Each output element is computed by the same expression whatever the cut, so results are
//! bit-identical on any number of threads; short tensors (most of a small model's ops) stay on
//! the calling thread, where spawning would cost more than the loop. Without the `rayon`
//! feature everything runs on the calling thread.

use crate::Float;

/// Elements below which a loop stays on the calling thread, and the size of a parallel block.
#[cfg_attr(not(feature = "rayon"), allow(dead_code))]
pub(crate) const BLOCK: usize = 1 << 15;

/// `f(x)` for every element.
pub(crate) fn map<T: Float>(x: &[T], f: impl Fn(T) -> T + Sync) -> Vec<T> {
    #[cfg(feature = "rayon")]
    if x.len() > BLOCK {
        use rayon::prelude::*;
        return x.par_iter().with_min_len(BLOCK).map(|&v| f(v)).collect();
    }
    x.iter().map(|&v| f(v)).collect()
}

/// `f(a, b)` for every pair of elements of two slices of one length.
pub(crate) fn zip<T: Float>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(feature = "rayon")]
    if a.len() > BLOCK {
        use rayon::prelude::*;
        return a.par_iter().zip(b).with_min_len(BLOCK).map(|(&x, &y)| f(x, y)).collect();
    }
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

/// An output of `chunks * chunk` elements whose `k`-th chunk `fill(k, chunk)` writes (it
/// starts zeroed); chunks run in parallel when the output is long.
pub(crate) fn fill_chunks<T: Float>(chunks: usize, chunk: usize, fill: impl Fn(usize, &mut [T]) + Sync) -> Vec<T> {
    let mut out = vec![T::zero(); chunks * chunk];
    if chunk == 0 {
        return out;
    }
    #[cfg(feature = "rayon")]
    if out.len() > BLOCK {
        use rayon::prelude::*;
        let per_task = BLOCK.div_ceil(chunk);
        out.par_chunks_mut(chunk).with_min_len(per_task).enumerate().for_each(|(k, c)| fill(k, c));
        return out;
    }
    out.chunks_mut(chunk).enumerate().for_each(|(k, c)| fill(k, c));
    out
}

/// `fill(k, a_k, b_k)` for the `k`-th of `chunks` equal chunks of `a` and of `b`, in parallel
/// when `a` is long.
pub(crate) fn fill_chunk_pairs<A: Send, B: Send>(
    a: &mut [A],
    b: &mut [B],
    chunks: usize,
    fill: impl Fn(usize, &mut [A], &mut [B]) + Sync,
) {
    if chunks == 0 || a.is_empty() {
        return;
    }
    let (chunk_a, chunk_b) = (a.len() / chunks, b.len() / chunks);
    #[cfg(feature = "rayon")]
    if a.len() > BLOCK {
        use rayon::prelude::*;
        let per_task = BLOCK.div_ceil(chunk_a);
        a.par_chunks_mut(chunk_a)
            .zip(b.par_chunks_mut(chunk_b))
            .with_min_len(per_task)
            .enumerate()
            .for_each(|(k, (a, b))| fill(k, a, b));
        return;
    }
    a.chunks_mut(chunk_a).zip(b.chunks_mut(chunk_b)).enumerate().for_each(|(k, (a, b))| fill(k, a, b));
}

/// `partial(k)` for `k` in `0..count`, in order; in parallel when each covers enough work.
pub(crate) fn map_indices<R: Send>(count: usize, work_each: usize, partial: impl Fn(usize) -> R + Sync) -> Vec<R> {
    #[cfg(feature = "rayon")]
    if count * work_each > BLOCK && count > 1 {
        use rayon::prelude::*;
        let per_task = BLOCK.div_ceil(work_each.max(1));
        return (0..count).into_par_iter().with_min_len(per_task).map(&partial).collect();
    }
    #[cfg(not(feature = "rayon"))]
    let _ = work_each;
    (0..count).map(partial).collect()
}
