//! Strided matrix views over slices.

use crate::Element;

/// A read-only strided matrix view over a slice.
///
/// Element `(i, j)` lives at `data[i * row_stride + j * col_stride]`. A transposed operand is
/// the same memory with the strides swapped ([`MatRef::t`]), so `A^T B` needs no copy.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::MatRef;
///
/// // The same six numbers read row-major (2x3) and column-major (row stride 1, column stride 2).
/// let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let rows = MatRef::row_major(&data, 2, 3);
/// let columns = MatRef::new(&data, 2, 3, 1, 2);
/// assert_eq!((rows.at(1, 0), columns.at(1, 0)), (4.0, 2.0));
/// assert_eq!((rows.at(0, 2), columns.at(0, 2)), (3.0, 5.0));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a, T: Element> MatRef<'a, T> {
    /// A view with explicit strides.
    ///
    /// # Panics
    /// If the last element, `(rows - 1, cols - 1)`, would lie outside `data`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::MatRef;
    ///
    /// // The bottom-right 2x2 block of the row-major 3x3 matrix [1 2 3; 4 5 6; 7 8 9]: it
    /// // starts at element 4 and keeps the row stride 3.
    /// let data: Vec<f64> = (1..=9).map(f64::from).collect();
    /// let block = MatRef::new(&data[4..], 2, 2, 3, 1);
    /// assert_eq!([block.at(0, 0), block.at(0, 1), block.at(1, 0), block.at(1, 1)], [5.0, 6.0, 8.0, 9.0]);
    /// // A view that would read past the slice is refused.
    /// # std::panic::set_hook(Box::new(|_| {})); // keep the expected panic out of the output
    /// assert!(std::panic::catch_unwind(|| MatRef::new(&data[5..], 2, 2, 3, 1)).is_err());
    /// ```
    pub fn new(data: &'a [T], rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Self {
        if rows > 0 && cols > 0 {
            let last = (rows - 1)
                .checked_mul(row_stride)
                .and_then(|r| (cols - 1).checked_mul(col_stride).and_then(|c| r.checked_add(c)))
                .filter(|&last| last <= isize::MAX as usize)
                .unwrap_or_else(|| panic!("MatRef: a {rows}x{cols} matrix with strides ({row_stride}, {col_stride}) overflows the address space"));
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::MatRef;
    ///
    /// // Element (i, j) is data[i * cols + j].
    /// let m = MatRef::row_major(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2);
    /// assert_eq!((m.rows(), m.cols(), m.at(2, 1)), (3, 2, 6.0));
    /// ```
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose, as a view of the same memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::{gemm, MatRef};
    ///
    /// let a = MatRef::row_major(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3);
    /// let at = a.t();
    /// assert_eq!((at.rows(), at.cols(), at.at(2, 0)), (3, 2, a.at(0, 2)));
    /// // A^T A without copying A: entry (0, 0) is 1*1 + 4*4 = 17, (0, 1) is 1*2 + 4*5 = 22.
    /// let mut c = [0.0; 9];
    /// gemm(a.t(), a, &mut c);
    /// assert_eq!(c, [17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::MatRef;
    ///
    /// assert_eq!(MatRef::row_major(&[0.0; 6], 2, 3).rows(), 2);
    /// ```
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::MatRef;
    ///
    /// assert_eq!(MatRef::row_major(&[0.0; 6], 2, 3).cols(), 3);
    /// ```
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Element `(i, j)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::MatRef;
    ///
    /// // Row stride 4, column stride 2: element (1, 1) is data[4 + 2].
    /// let data = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
    /// assert_eq!(MatRef::new(&data, 2, 2, 4, 2).at(1, 1), 6.0);
    /// ```
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

/// A mutable row-major matrix view with a row stride (leading dimension) of at least `cols`.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{gemm_ex, MatMut, MatRef};
///
/// // The product [1 2] x [3; 4] = [11] written into element (1, 1) of a 2x2 buffer: a 1x1
/// // view starting at index 3.
/// let mut c = [0.0; 4];
/// let one = MatRef::row_major(&[1.0, 2.0], 1, 2);
/// let other = MatRef::row_major(&[3.0, 4.0], 2, 1);
/// gemm_ex(1.0, one, other, 0.0, MatMut::row_major(&mut c[3..], 1, 1));
/// assert_eq!(c, [0.0, 0.0, 0.0, 11.0]);
/// ```
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub(crate) data: &'a mut [T],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) row_stride: usize,
}

impl<'a, T: Element> MatMut<'a, T> {
    /// A view of `rows x cols` elements, row `i` starting at `data[i * row_stride]`.
    ///
    /// # Panics
    /// If `row_stride < cols` or the view does not fit in `data`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::{gemm_ex, MatMut, MatRef};
    ///
    /// // The left 2x2 block of a row-major 2x3 buffer (row stride 3): the identity times B is
    /// // written there, and the third column (9s) is left alone.
    /// let mut c = [9.0; 6];
    /// let identity = MatRef::row_major(&[1.0, 0.0, 0.0, 1.0], 2, 2);
    /// let b = MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2);
    /// gemm_ex(1.0, identity, b, 0.0, MatMut::new(&mut c, 2, 2, 3));
    /// assert_eq!(c, [1.0, 2.0, 9.0, 3.0, 4.0, 9.0]);
    /// // A row stride shorter than a row is refused.
    /// # std::panic::set_hook(Box::new(|_| {})); // keep the expected panic out of the output
    /// let too_narrow = std::panic::catch_unwind(|| {
    ///     MatMut::new(&mut [0.0; 6], 2, 3, 2);
    /// });
    /// assert!(too_narrow.is_err());
    /// ```
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, row_stride: usize) -> Self {
        assert!(row_stride >= cols, "MatMut: row stride {row_stride} is less than the {cols} columns");
        if rows > 0 && cols > 0 {
            let needed = (rows - 1)
                .checked_mul(row_stride)
                .and_then(|r| r.checked_add(cols))
                .filter(|&n| n <= isize::MAX as usize)
                .unwrap_or_else(|| {
                    panic!("MatMut: a {rows}x{cols} matrix with row stride {row_stride} overflows the address space")
                });
            assert!(
                needed <= data.len(),
                "MatMut: a {rows}x{cols} matrix with row stride {row_stride} needs {needed} elements, the slice has {}",
                data.len()
            );
        }
        MatMut { data, rows, cols, row_stride }
    }

    /// A contiguous row-major view.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::{gemm_ex, MatMut, MatRef};
    ///
    /// // c = a * b + c, accumulating into a 1x2 result: [1 1] x [1 2; 3 4] = [4 6], plus [10 20].
    /// let mut c = [10.0, 20.0];
    /// let a = MatRef::row_major(&[1.0, 1.0], 1, 2);
    /// let b = MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2);
    /// gemm_ex(1.0, a, b, 1.0, MatMut::row_major(&mut c, 1, 2));
    /// assert_eq!(c, [14.0, 26.0]);
    /// ```
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols)
    }

    /// `C = beta * C`, reading nothing when `beta` is zero (so NaNs in `C` do not survive).
    pub(crate) fn scale(&mut self, beta: T) {
        if beta == T::ONE {
            return;
        }
        for i in 0..self.rows {
            let row = &mut self.data[i * self.row_stride..i * self.row_stride + self.cols];
            if beta == T::ZERO {
                row.fill(T::ZERO);
            } else {
                row.iter_mut().for_each(|x| *x *= beta);
            }
        }
    }
}
