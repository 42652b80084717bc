//! General matrix multiply, `C = alpha * A * B + beta * C`, for strided operands.
//!
//! The structure is the GotoBLAS/BLIS one (Goto & van de Geijn 2008, "Anatomy of
//! high-performance matrix multiplication"; Van Zee & van de Geijn 2015, "BLIS"):
//!
//! ```text
//! for jc in columns of C, NC at a time            B block  (KC x NC)  -> L3
//!   for pc in the k dimension, KC at a time       pack B block into NR-column panels
//!     for ic in rows of C, MC at a time  (rayon)  pack A block (MC x KC) into MR-row panels -> L2
//!       for jr in NR-column panels                B micro-panel (KC x NR) -> L1
//!         for ir in MR-row panels                 microkernel: an MR x NR tile of C in registers
//! ```
//!
//! Determinism: every element of `C` adds its `k` products in the same order (block by block
//! of `KC`, in order within a block) however the work is split between threads, because the
//! split is over rows and columns of `C`, never over `k`. The same inputs give the same bits
//! on one thread or many.
//!
//! Small products (the 25 x 40 x 40 of MAML's sinusoid network) skip packing and threads: a
//! row of `C` is accumulated from rows of `B`, a loop the compiler vectorises (with AVX2 and
//! FMA when the CPU has them).

#[cfg(all(target_arch = "x86_64", feature = "simd"))]
pub(crate) mod avx2;
mod pack;
pub(crate) mod portable;
mod small;
#[cfg(all(target_arch = "x86_64", feature = "simd"))]
pub(crate) mod small_avx2;
mod view;

pub use view::{MatMut, MatRef};

use crate::{Element, Isa};

/// Depth of a packed block: fixed, because it sets the order of the sums.
const KC: usize = 256;
/// Columns of `B` per packed block.
const NC: usize = 4096;
/// Products of at most this many multiply-adds (`m * n * k`) take the unpacked path.
const SMALL_MAX_MULADDS: usize = 64 * 64 * 64;
/// Products of at least this many multiply-adds are split across threads.
#[cfg(feature = "rayon")]
const PARALLEL_MIN_MULADDS: usize = 1 << 19;

/// A kernel for small products that reads the operands in place: `C += alpha * A * B`, `B`
/// with column stride 1.
///
/// # Examples
///
/// Not public: [`gemm`] takes this path for products of at most 64^3 multiply-adds, such as
/// the 25 x 40 x 40 of MAML's sinusoid network, and it must agree with the definition.
///
/// ```
/// use metagrad_kernels::{gemm, MatRef};
///
/// let (m, k, n) = (25, 40, 40);
/// // Small integers, so that every sum is exact whatever the order.
/// let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
/// let b: Vec<f64> = (0..k * n).map(|i| (i % 5) as f64 - 2.0).collect();
/// let mut c = vec![0.0; m * n];
/// gemm(MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n), &mut c);
/// for i in 0..m {
///     for j in 0..n {
///         let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
///         assert_eq!(c[i * n + j], want);
///     }
/// }
/// ```
pub type SmallKernel<T> = unsafe fn(T, &MatRef<'_, T>, &MatRef<'_, T>, &mut MatMut<'_, T>);

/// A microkernel: `C[..m, ..n] += alpha * A_panel * B_panel` for one `mr x nr` tile.
///
/// # Examples
///
/// Not public: [`gemm`] runs one on every tile of a product above 64^3 multiply-adds. Here a
/// 65 x 65 x 65 product, whose edge tiles are partial for every tile size, against the
/// definition.
///
/// ```
/// use metagrad_kernels::{gemm, MatRef};
///
/// let n = 65;
/// // Small integers, so that every sum is exact whatever the order.
/// let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 - 3.0).collect();
/// let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 - 2.0).collect();
/// let mut c = vec![0.0; n * n];
/// // B transposed, to read it through strides too.
/// gemm(MatRef::row_major(&a, n, n), MatRef::row_major(&b, n, n).t(), &mut c);
/// for i in 0..n {
///     for j in 0..n {
///         let want: f32 = (0..n).map(|p| a[i * n + p] * b[j * n + p]).sum();
///         assert_eq!(c[i * n + j], want);
///     }
/// }
/// ```
#[derive(Clone, Copy)]
pub struct Microkernel<T> {
    pub(crate) mr: usize,
    pub(crate) nr: usize,
    /// `(kc, a_panel, b_panel, alpha, c, rs_c, m, n, overwrite)`: `C += alpha A B`, or
    /// `C = alpha A B` without reading `C` when `overwrite`.
    #[allow(clippy::type_complexity)]
    pub(crate) run: unsafe fn(usize, *const T, *const T, T, *mut T, usize, usize, usize, bool),
}

/// `c = a * b`, with `c` a contiguous row-major `a.rows() x b.cols()` buffer (overwritten).
///
/// # Panics
/// If the inner dimensions differ or `c` has the wrong length.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{gemm, MatRef};
///
/// // [1 2 3; 4 5 6] x [1 0; 0 1; 1 1] = [1+3 2+3; 4+6 5+6].
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
/// let mut c = [f64::NAN; 4]; // overwritten, never read
/// gemm(MatRef::row_major(&a, 2, 3), MatRef::row_major(&b, 3, 2), &mut c);
/// assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
/// ```
pub fn gemm<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    let (m, n) = (a.rows, b.cols);
    assert_eq!(c.len(), m * n, "gemm: C has {} elements, a {m}x{n} result needs {}", c.len(), m * n);
    gemm_ex(T::ONE, a, b, T::ZERO, MatMut::row_major(c, m, n));
}

/// `c = alpha * a * b + beta * c`. With `beta` zero, `c` is not read (NaNs in it vanish).
///
/// # Panics
/// If the shapes do not agree.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{gemm_ex, MatMut, MatRef};
///
/// // c = 2 * a * b + 0.5 * c, with a * b = [1 2; 3 4] x [1 0; 1 1] = [3 2; 7 4].
/// let a = MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2);
/// let b = MatRef::row_major(&[1.0, 0.0, 1.0, 1.0], 2, 2);
/// let mut c = [2.0, 4.0, 6.0, 8.0];
/// gemm_ex(2.0, a, b, 0.5, MatMut::row_major(&mut c, 2, 2));
/// assert_eq!(c, [7.0, 6.0, 17.0, 12.0]);
/// // With beta zero the old contents are not read: a NaN does not survive.
/// let mut c = [f64::NAN; 4];
/// gemm_ex(1.0, a, b, 0.0, MatMut::row_major(&mut c, 2, 2));
/// assert_eq!(c, [3.0, 2.0, 7.0, 4.0]);
/// ```
pub fn gemm_ex<T: Element>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
    gemm_on(Isa::detected(), alpha, a, b, beta, c);
}

/// [`gemm`] over a batch: `c[i] = a[i] * b[i]`, with `c` the results one after another.
/// Small products run in parallel across the batch, large ones one by one with their own
/// parallelism.
///
/// # Panics
/// If the batch lengths or shapes do not agree.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{gemm_batched, MatRef};
///
/// // Two 1x2 by 2x1 products: [1 2].[3 4] = 11 and [5 6].[7 8] = 83.
/// let (x, y) = ([1.0, 2.0, 5.0, 6.0], [3.0, 4.0, 7.0, 8.0]);
/// let a = [MatRef::row_major(&x[..2], 1, 2), MatRef::row_major(&x[2..], 1, 2)];
/// let b = [MatRef::row_major(&y[..2], 2, 1), MatRef::row_major(&y[2..], 2, 1)];
/// let mut c = [0.0; 2];
/// gemm_batched(&a, &b, &mut c);
/// assert_eq!(c, [11.0, 83.0]);
/// ```
pub fn gemm_batched<T: Element>(a: &[MatRef<'_, T>], b: &[MatRef<'_, T>], c: &mut [T]) {
    assert_eq!(a.len(), b.len(), "gemm_batched: {} left operands but {} right operands", a.len(), b.len());
    let Some((first_a, first_b)) = a.first().zip(b.first()) else { return };
    let (m, n) = (first_a.rows, first_b.cols);
    assert_eq!(
        c.len(),
        a.len() * m * n,
        "gemm_batched: C has {} elements, {} results of {m}x{n} need {}",
        c.len(),
        a.len(),
        a.len() * m * n
    );
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.cols, y.rows, "gemm_batched: product {i} has inner dimensions {} and {}", x.cols, y.rows);
        assert!(
            x.rows == m && y.cols == n,
            "gemm_batched: product {i} is {}x{} by {}x{}, the first is {m}x_ by _x{n}",
            x.rows,
            x.cols,
            y.rows,
            y.cols
        );
    }
    if m * n == 0 {
        return;
    }
    let one = |(c_i, (x, y)): (&mut [T], (&MatRef<'_, T>, &MatRef<'_, T>))| gemm(*x, *y, c_i);
    #[cfg(feature = "rayon")]
    if a.len() > 1 && first_a.cols * m * n < PARALLEL_MIN_MULADDS {
        use rayon::prelude::*;
        c.par_chunks_mut(m * n).zip(a.par_iter().zip(b)).for_each(one);
        return;
    }
    c.chunks_mut(m * n).zip(a.iter().zip(b)).for_each(one);
}

/// [`gemm`] on the calling thread only: for callers that already run one product per
/// thread (the blocked convolution), where splitting each product again would only add
/// overhead. The result is the same as [`gemm`]'s, bit for bit.
pub(crate) fn gemm_serial<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    let (m, n) = (a.rows, b.cols);
    assert_eq!(c.len(), m * n, "gemm: C has {} elements, a {m}x{n} result needs {}", c.len(), m * n);
    dispatch(Isa::detected(), T::ONE, a, b, T::ZERO, MatMut::row_major(c, m, n), false);
}

/// [`gemm_ex`] on a chosen instruction set (tests compare them).
pub(crate) fn gemm_on<T: Element>(isa: Isa, alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
    dispatch(isa, alpha, a, b, beta, c, true);
}

/// The small or the packed path; large products may use every thread when `parallel`.
fn dispatch<T: Element>(
    isa: Isa,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
    parallel: bool,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "gemm: inner dimensions differ: A is {m}x{k}, B is {}x{n}", b.rows);
    assert!(c.rows == m && c.cols == n, "gemm: C is {}x{}, the product is {m}x{n}", c.rows, c.cols);
    if m == 0 || n == 0 || k == 0 || alpha == T::ZERO {
        c.scale(beta);
        return;
    }
    if m * n * k <= SMALL_MAX_MULADDS {
        c.scale(beta);
        small::gemm(isa, alpha, a, b, c);
    } else if beta == T::ZERO {
        // The first block of k overwrites C, so C need not be zeroed (nor read) first.
        packed(isa, alpha, a, b, c, true, parallel);
    } else {
        c.scale(beta);
        packed(isa, alpha, a, b, c, false, parallel);
    }
}

/// A raw pointer to `C` that tasks share; each task writes its own block.
#[derive(Clone, Copy)]
struct SharedC<T>(*mut T);
// SAFETY: tasks write pairwise disjoint blocks of C (distinct rows or distinct columns), and
// the pointer does not outlive the `&mut` borrow it came from (the scope of `packed`).
unsafe impl<T: Send> Send for SharedC<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SharedC<T> {}

impl<T> SharedC<T> {
    /// The pointer. A method, so that closures capture the whole `Send` wrapper rather than
    /// its raw-pointer field.
    fn get(self) -> *mut T {
        self.0
    }
}

/// `C += alpha A B` by packed blocks; `C = alpha A B` when `overwrite` (the first block of
/// `k` then writes `C` without reading it).
fn packed<T: Element>(
    isa: Isa,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: MatMut<'_, T>,
    overwrite: bool,
    parallel: bool,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let kernel = T::microkernel(isa);
    let (mr, nr) = (kernel.mr, kernel.nr);
    let threads = if parallel { worker_threads(m * n * k) } else { 1 };
    // With several threads, cut the rows into a multiple of the thread count of equal blocks
    // (row blocks only change who computes what, never the order of any sum).
    let mc = if threads > 1 && m <= T::MC && n >= threads * nr * 8 {
        // Few rows and many columns (a convolution's [c_out, N * out_h * out_w] product): one
        // row block, and the threads split the columns. Cutting so few rows would make every
        // thread stream all of B for a handful of row panels.
        m
    } else if threads > 1 {
        let blocks = m.div_ceil(T::MC).div_ceil(threads) * threads;
        m.div_ceil(blocks).div_ceil(mr) * mr
    } else {
        T::MC
    };
    let rs_c = c.row_stride;
    let c_ptr = SharedC(c.data.as_mut_ptr());
    // From this thread's pool: a packed B block is up to KC x NC values.
    let mut b_buffer = crate::scratch::take();
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        let panels = nc.div_ceil(nr);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let first = overwrite && pc == 0;
            let b_pack = pack::pack_b(&b, (pc, pc + kc), (jc, jc + nc), nr, threads > 1, isa, &mut b_buffer);
            // Tasks: row blocks of C, each cut into column chunks when there are fewer row
            // blocks than threads.
            let row_blocks = m.div_ceil(mc);
            let col_chunks = threads.div_ceil(row_blocks).min(panels);
            let panels_per_chunk = panels.div_ceil(col_chunks);
            let task = move |t: usize| {
                let (row_block, chunk) = (t / col_chunks, t % col_chunks);
                let (i0, i1) = (row_block * mc, m.min(row_block * mc + mc));
                let (p0, p1) = (chunk * panels_per_chunk, panels.min(chunk * panels_per_chunk + panels_per_chunk));
                if p0 >= p1 {
                    return;
                }
                T::with_pack_buffer(|a_buffer| {
                    let a_pack = pack::pack_a(&a, (i0, i1), (pc, pc + kc), mr, isa, a_buffer);
                    for panel in p0..p1 {
                        let j = jc + panel * nr;
                        let n_live = nr.min(jc + nc - j);
                        let b_panel = &b_pack[panel * nr * kc..(panel + 1) * nr * kc];
                        for (slot, i) in (i0..i1).step_by(mr).enumerate() {
                            let a_panel = &a_pack[slot * mr * kc..(slot + 1) * mr * kc];
                            // SAFETY: the panels hold kc * mr and kc * nr values; the tile
                            // (i..i + m_live, j..j + n_live) lies inside C (i < m, j < n, row
                            // stride rs_c, checked by MatMut::new) and inside this task's block,
                            // which no other task touches; the kernel suits this CPU (Isa).
                            unsafe {
                                (kernel.run)(
                                    kc,
                                    a_panel.as_ptr(),
                                    b_panel.as_ptr(),
                                    alpha,
                                    c_ptr.get().add(i * rs_c + j),
                                    rs_c,
                                    mr.min(i1 - i),
                                    n_live,
                                    first,
                                )
                            };
                        }
                    }
                });
            };
            run_tasks(row_blocks * col_chunks, threads, task);
        }
    }
    crate::scratch::give_back(b_buffer);
}

fn worker_threads(muladds: usize) -> usize {
    #[cfg(feature = "rayon")]
    if muladds >= PARALLEL_MIN_MULADDS {
        return rayon::current_num_threads();
    }
    let _ = muladds;
    1
}

fn run_tasks(tasks: usize, threads: usize, task: impl Fn(usize) + Send + Sync) {
    #[cfg(feature = "rayon")]
    if threads > 1 && tasks > 1 {
        use rayon::prelude::*;
        (0..tasks).into_par_iter().for_each(task);
        return;
    }
    let _ = threads;
    (0..tasks).for_each(task);
}

#[cfg(test)]
mod tests;
