//! General matrix multiply, `C = A * B`, for strided operands.
//!
//! Strides let a caller pass a transposed or otherwise permuted view without copying it: the
//! autodiff engine's matmul VJP needs `A^T` and `B^T`, which are the same buffers read with
//! their strides swapped. `B` is packed once into a contiguous row-major copy when it is not
//! already one, so the inner loop is always a unit-stride `axpy` over a row of `C` that the
//! compiler vectorises.
//!
//! Blocking: `k` is cut into blocks of `KC` rows of `B` so that a block stays in cache while
//! every row of `A` in a chunk streams past it. Rows of `C` are split into chunks that rayon
//! runs in parallel; each element of `C` sums its `k` terms in ascending order whatever the
//! chunking, which is what makes the result independent of the thread count.

use crate::Element;

/// Rows of `B` kept hot in cache per block.
const KC: usize = 256;
/// Rows of `C` per parallel work item.
const ROWS_PER_TASK: usize = 16;
/// Below this many multiply-adds the work is not worth splitting across threads.
const PARALLEL_THRESHOLD: usize = 1 << 15;

/// A read-only strided matrix view over a slice.
///
/// Element `(i, j)` lives at `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T: Element> MatRef<'a, T> {
    /// A view with explicit strides.
    ///
    /// # Panics
    /// If the last element, `(rows - 1, cols - 1)`, would lie outside `data`.
    pub fn new(data: &'a [T], rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Self {
        if rows > 0 && cols > 0 {
            let last = (rows - 1) * row_stride + (cols - 1) * col_stride;
            assert!(
                last < data.len(),
                "MatRef: a {rows}x{cols} matrix with strides ({row_stride}, {col_stride}) needs {} elements, the slice has {}",
                last + 1,
                data.len()
            );
        }
        MatRef { data, rows, cols, row_stride, col_stride }
    }

    /// A contiguous row-major view.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose, as a view of the same memory.
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    #[inline]
    fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// The matrix as one contiguous row-major slice, copying only if it is not one already.
    fn to_row_major(self) -> std::borrow::Cow<'a, [T]> {
        if self.col_stride == 1 && self.row_stride == self.cols {
            std::borrow::Cow::Borrowed(&self.data[..self.rows * self.cols])
        } else {
            let mut packed = Vec::with_capacity(self.rows * self.cols);
            for i in 0..self.rows {
                packed.extend((0..self.cols).map(|j| self.at(i, j)));
            }
            std::borrow::Cow::Owned(packed)
        }
    }
}

/// `c = a * b`, with `c` a contiguous row-major `a.rows() x b.cols()` buffer (overwritten).
///
/// # Panics
/// If the inner dimensions differ or `c` has the wrong length.
pub fn gemm<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "gemm: inner dimensions differ: A is {m}x{k}, B is {}x{n}", b.rows);
    assert_eq!(c.len(), m * n, "gemm: C has {} elements, a {m}x{n} result needs {}", c.len(), m * n);
    c.fill(T::ZERO);
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let b = b.to_row_major();
    let rows_kernel = |row0: usize, c_rows: &mut [T]| {
        for p0 in (0..k).step_by(KC) {
            let p1 = (p0 + KC).min(k);
            for (r, c_row) in c_rows.chunks_mut(n).enumerate() {
                let i = row0 + r;
                for p in p0..p1 {
                    axpy(a.at(i, p), &b[p * n..(p + 1) * n], c_row);
                }
            }
        }
    };
    let chunk = ROWS_PER_TASK * n;
    #[cfg(feature = "rayon")]
    if m * n * k >= PARALLEL_THRESHOLD && m > ROWS_PER_TASK {
        use rayon::prelude::*;
        c.par_chunks_mut(chunk).enumerate().for_each(|(t, rows)| rows_kernel(t * ROWS_PER_TASK, rows));
        return;
    }
    let _ = PARALLEL_THRESHOLD;
    for (t, rows) in c.chunks_mut(chunk).enumerate() {
        rows_kernel(t * ROWS_PER_TASK, rows);
    }
}

/// `y += alpha * x`, unit stride: the loop the compiler vectorises.
#[inline]
fn axpy<T: Element>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Vec<f64> {
        let mut c = vec![0.0; a.rows() * b.cols()];
        for i in 0..a.rows() {
            for j in 0..b.cols() {
                c[i * b.cols() + j] = (0..a.cols()).map(|p| a.at(i, p) * b.at(p, j)).sum();
            }
        }
        c
    }

    proptest! {
        #[test]
        fn matches_naive_for_any_strides(m in 1usize..40, k in 1usize..300, n in 1usize..40,
                                         ta: bool, tb: bool, seed in 0u64..1000) {
            let gen = |len: usize, s: u64| -> Vec<f64> {
                (0..len).map(|i| (((i as u64 * 2654435761 + s) % 1000) as f64) / 500.0 - 1.0).collect()
            };
            let ad = gen(m * k, seed);
            let bd = gen(k * n, seed + 7);
            let a = if ta { MatRef::row_major(&ad, k, m).t() } else { MatRef::row_major(&ad, m, k) };
            let b = if tb { MatRef::row_major(&bd, n, k).t() } else { MatRef::row_major(&bd, k, n) };
            let mut c = vec![f64::NAN; m * n];
            gemm(a, b, &mut c);
            let want = naive(a, b);
            for (x, y) in c.iter().zip(&want) {
                prop_assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{x} vs {y}");
            }
        }
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let mut c = [1.0f32; 6];
        gemm(MatRef::row_major(&[], 2, 0), MatRef::row_major(&[], 0, 3), &mut c);
        assert_eq!(c, [0.0; 6]);
    }

    #[test]
    #[should_panic(expected = "inner dimensions differ: A is 2x3, B is 2x2")]
    fn mismatched_shapes_panic_with_both_shapes() {
        let mut c = [0.0f64; 4];
        gemm(MatRef::row_major(&[0.0; 6], 2, 3), MatRef::row_major(&[0.0; 4], 2, 2), &mut c);
    }

    #[test]
    fn same_result_with_one_thread_or_many() {
        let (m, k, n) = (97, 301, 53);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 53 % 89) as f32).cos()).collect();
        let run = || {
            let mut c = vec![0.0f32; m * n];
            gemm(MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n), &mut c);
            c
        };
        let many = run();
        #[cfg(feature = "rayon")]
        {
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(run);
            assert!(one.iter().zip(&many).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        assert_eq!(run(), many);
    }
}
