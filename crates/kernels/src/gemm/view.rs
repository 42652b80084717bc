//! Strided matrix views over slices.

use crate::Element;

/// A read-only strided matrix view over a slice.
///
/// Element `(i, j)` lives at `data[i * row_stride + j * col_stride]`. A transposed operand is
/// the same memory with the strides swapped ([`MatRef::t`]), so `A^T B` needs no copy.
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

    /// Element `(i, j)`.
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

/// A mutable row-major matrix view with a row stride (leading dimension) of at least `cols`.
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
