//! Convolution lowering: `im2col` and its adjoint `col2im`, and max-pooling with arg-max
//! indices, for `[channels, height, width]` images (batches are loops over these).
//!
//! `im2col` copies every receptive field of the input into a column, so that a convolution
//! becomes one matrix product: `out[c_out, l] = sum_k weight[c_out, k] * cols[k, l]`, with
//! `k` running over (input channel, kernel row, kernel column) and `l` over output positions.
//! `col2im` adds the columns back into image positions: it is the transpose of `im2col` as a
//! linear map, which makes it the VJP of `im2col` (and the other way round).

use crate::Element;

/// The shape arithmetic of a 2-D sliding window: input size, kernel, stride, padding,
/// dilation.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::Window2d;
///
/// // A 3x3 kernel with taps two apart spans 5 pixels: on a 5x5 image it fits once.
/// let window = Window2d { dilation: (2, 2), ..Window2d::new(1, (5, 5), (3, 3), (1, 1), (0, 0)) };
/// assert_eq!(window.output(), (1, 1));
/// assert_eq!((window.column_rows(), window.column_cols()), (9, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window2d {
    /// Input channels.
    pub channels: usize,
    /// Input height and width.
    pub input: (usize, usize),
    /// Kernel height and width.
    pub kernel: (usize, usize),
    /// Step between windows, vertical and horizontal.
    pub stride: (usize, usize),
    /// Zeros added on each side, vertical and horizontal.
    pub padding: (usize, usize),
    /// Spacing between kernel taps (1 = dense).
    pub dilation: (usize, usize),
}

impl Window2d {
    /// A dense window (dilation 1) with the given stride and padding.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::Window2d;
    ///
    /// let window = Window2d::new(3, (8, 6), (3, 3), (2, 2), (1, 1));
    /// assert_eq!((window.channels, window.input, window.kernel), (3, (8, 6), (3, 3)));
    /// assert_eq!((window.stride, window.padding, window.dilation), ((2, 2), (1, 1), (1, 1)));
    /// ```
    pub fn new(
        channels: usize,
        input: (usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Self {
        Window2d { channels, input, kernel, stride, padding, dilation: (1, 1) }
    }

    /// Output height and width: `(in + 2 pad - dilation (kernel - 1) - 1) / stride + 1`.
    ///
    /// # Panics
    /// If the kernel, stride or dilation is zero, or the dilated kernel is larger than the padded input.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::Window2d;
    ///
    /// // Padding 1 keeps a 3x3 convolution's size; a 2x2 pool of stride 2 halves it.
    /// assert_eq!(Window2d::new(1, (28, 28), (3, 3), (1, 1), (1, 1)).output(), (28, 28));
    /// assert_eq!(Window2d::new(1, (28, 28), (2, 2), (2, 2), (0, 0)).output(), (14, 14));
    /// // Vertical (7 - 3) / 2 + 1 = 3; horizontal (8 + 2 - 3) / 3 + 1 = 3 (rounded down).
    /// assert_eq!(Window2d::new(1, (7, 8), (3, 3), (2, 3), (0, 1)).output(), (3, 3));
    /// ```
    pub fn output(&self) -> (usize, usize) {
        let axis = |input: usize, kernel: usize, stride: usize, padding: usize, dilation: usize, name: &str| {
            assert!(
                stride > 0 && dilation > 0 && kernel > 0,
                "Window2d: {name} kernel {kernel}, stride {stride} and dilation {dilation} must be positive"
            );
            let span = dilation * (kernel - 1) + 1;
            assert!(
                input + 2 * padding >= span,
                "Window2d: {name} kernel spans {span} but the padded input is only {}",
                input + 2 * padding
            );
            (input + 2 * padding - span) / stride + 1
        };
        (
            axis(self.input.0, self.kernel.0, self.stride.0, self.padding.0, self.dilation.0, "vertical"),
            axis(self.input.1, self.kernel.1, self.stride.1, self.padding.1, self.dilation.1, "horizontal"),
        )
    }

    /// Rows of the column matrix: `channels * kernel height * kernel width`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::Window2d;
    ///
    /// // 2 channels of a 3x2 kernel: 2 * 3 * 2 taps per receptive field.
    /// assert_eq!(Window2d::new(2, (5, 5), (3, 2), (1, 1), (0, 0)).column_rows(), 12);
    /// ```
    pub fn column_rows(&self) -> usize {
        self.channels * self.kernel.0 * self.kernel.1
    }

    /// Columns of the column matrix: output height times output width.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::Window2d;
    ///
    /// // A 2x2 kernel on a 4x5 image: 3 x 4 output positions.
    /// assert_eq!(Window2d::new(1, (4, 5), (2, 2), (1, 1), (0, 0)).column_cols(), 12);
    /// ```
    pub fn column_cols(&self) -> usize {
        let (h, w) = self.output();
        h * w
    }

    /// Elements of one input image.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::Window2d;
    ///
    /// // Channels times height times width; the kernel plays no part.
    /// assert_eq!(Window2d::new(3, (4, 5), (2, 2), (1, 1), (0, 0)).input_len(), 60);
    /// ```
    pub fn input_len(&self) -> usize {
        self.channels * self.input.0 * self.input.1
    }

    /// For row `(c, ki, kj)` of the column matrix and output row `oh`: the input row, if inside.
    #[inline]
    fn input_row(&self, ki: usize, oh: usize) -> Option<usize> {
        (oh * self.stride.0 + ki * self.dilation.0).checked_sub(self.padding.0).filter(|&r| r < self.input.0)
    }

    #[inline]
    fn input_col(&self, kj: usize, ow: usize) -> Option<usize> {
        (ow * self.stride.1 + kj * self.dilation.1).checked_sub(self.padding.1).filter(|&c| c < self.input.1)
    }

    /// For kernel column `kj`: the output columns `lo..hi` (of `out_w`) whose tap lands
    /// inside the input, `ow * stride + kj * dilation - padding` in `0..width`. The taps of
    /// the columns outside that run fall in the padding.
    #[inline]
    fn inside_cols(&self, kj: usize, out_w: usize) -> (usize, usize) {
        let (stride, offset, padding, width) = (self.stride.1, kj * self.dilation.1, self.padding.1, self.input.1);
        // The first column with ow * stride + offset >= padding, and the first past the
        // last with ow * stride + offset < padding + width.
        let lo = padding.saturating_sub(offset).div_ceil(stride).min(out_w);
        let hi = (padding + width).saturating_sub(offset).div_ceil(stride).min(out_w);
        (lo, hi.max(lo))
    }

    fn check(&self, what: &str, image: usize, cols: usize) {
        assert_eq!(
            image,
            self.input_len(),
            "{what}: image has {image} elements, the window expects {}",
            self.input_len()
        );
        let want = self.column_rows() * self.column_cols();
        assert_eq!(cols, want, "{what}: column matrix has {cols} elements, the window needs {want}");
    }
}

/// Copies every receptive field of `image` (`[channels, height, width]`) into a column of
/// `cols` (`[channels * kh * kw, out_h * out_w]`, row-major); padding reads as zero.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{gemm, im2col, MatRef, Window2d};
///
/// // A 2x2 kernel on the 3x3 image [1 2 3; 4 5 6; 7 8 9]: four windows, whose top-left
/// // corners are 1, 2, 4 and 5. Row (ki, kj) holds that tap of every window.
/// let window = Window2d::new(1, (3, 3), (2, 2), (1, 1), (0, 0));
/// let image: Vec<f64> = (1..=9).map(f64::from).collect();
/// let mut cols = vec![0.0; 16];
/// im2col(&window, &image, &mut cols);
/// assert_eq!(cols, [1.0, 2.0, 4.0, 5.0, 2.0, 3.0, 5.0, 6.0, 4.0, 5.0, 7.0, 8.0, 5.0, 6.0, 8.0, 9.0]);
/// // The convolution with the kernel [1 0; 0 -1] is one product: top-left minus bottom-right.
/// let mut out = [0.0; 4];
/// gemm(MatRef::row_major(&[1.0, 0.0, 0.0, -1.0], 1, 4), MatRef::row_major(&cols, 4, 4), &mut out);
/// assert_eq!(out, [-4.0; 4]);
/// // With padding, taps outside the image read as zero.
/// let padded = Window2d::new(1, (1, 1), (3, 3), (1, 1), (1, 1));
/// let mut cols = [f64::NAN; 9];
/// im2col(&padded, &[7.0], &mut cols);
/// assert_eq!(cols, [0.0, 0.0, 0.0, 0.0, 7.0, 0.0, 0.0, 0.0, 0.0]);
/// ```
pub fn im2col<T: Element>(window: &Window2d, image: &[T], cols: &mut [T]) {
    window.check("im2col", image.len(), cols.len());
    for (row, dst) in cols.chunks_exact_mut(window.column_cols().max(1)).enumerate() {
        fill_row(window, row, image, dst);
    }
}

/// Row `row` (a tap `(c, ki, kj)`) of one image's column matrix, written to `dst`
/// (`out_h * out_w` values).
#[inline]
pub(crate) fn fill_row<T: Element>(window: &Window2d, row: usize, image: &[T], dst: &mut [T]) {
    let (out_h, out_w) = window.output();
    let (kh, kw) = window.kernel;
    let (h, w) = window.input;
    let (c, ki, kj) = (row / (kh * kw), row / kw % kh, row % kw);
    let plane = &image[c * h * w..(c + 1) * h * w];
    let (lo, hi) = window.inside_cols(kj, out_w);
    let (stride, offset) = (window.stride.1, kj * window.dilation.1);
    for oh in 0..out_h {
        let dst_row = &mut dst[oh * out_w..(oh + 1) * out_w];
        let Some(r) = window.input_row(ki, oh) else {
            dst_row.fill(T::ZERO);
            continue;
        };
        let src = &plane[r * w..(r + 1) * w];
        dst_row[..lo].fill(T::ZERO);
        dst_row[hi..].fill(T::ZERO);
        if lo == hi {
            continue;
        }
        if stride == 1 {
            // Output columns lo..hi read input columns lo + offset - padding.. in a run.
            let start = lo + offset - window.padding.1;
            dst_row[lo..hi].copy_from_slice(&src[start..start + (hi - lo)]);
        } else {
            for (ow, d) in (lo..hi).zip(&mut dst_row[lo..hi]) {
                *d = src[ow * stride + offset - window.padding.1];
            }
        }
    }
}

/// The adjoint of [`fill_row`]: adds row `row` of a column matrix (`src`) into `image`.
#[inline]
pub(crate) fn add_row<T: Element>(window: &Window2d, row: usize, src: &[T], image: &mut [T]) {
    let (out_h, out_w) = window.output();
    let (kh, kw) = window.kernel;
    let (h, w) = window.input;
    let (c, ki, kj) = (row / (kh * kw), row / kw % kh, row % kw);
    let plane = &mut image[c * h * w..(c + 1) * h * w];
    let (lo, hi) = window.inside_cols(kj, out_w);
    let (stride, offset) = (window.stride.1, kj * window.dilation.1);
    for oh in 0..out_h {
        let Some(r) = window.input_row(ki, oh) else { continue };
        if lo == hi {
            continue;
        }
        let dst = &mut plane[r * w..(r + 1) * w];
        let src_row = &src[oh * out_w + lo..oh * out_w + hi];
        if stride == 1 {
            let start = lo + offset - window.padding.1;
            for (d, &v) in dst[start..start + (hi - lo)].iter_mut().zip(src_row) {
                *d += v;
            }
        } else {
            for (ow, &v) in (lo..hi).zip(src_row) {
                dst[ow * stride + offset - window.padding.1] += v;
            }
        }
    }
}

/// The adjoint of [`im2col`]: `image` (overwritten) gets, at every position, the sum of the
/// column entries that `im2col` would have copied from it.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{col2im, Window2d};
///
/// // A 2x2 kernel on a 3x3 image: columns of ones add up, at each pixel, the number of
/// // windows that cover it (4 for the centre, 1 for the corners).
/// let window = Window2d::new(1, (3, 3), (2, 2), (1, 1), (0, 0));
/// let mut image = [f64::NAN; 9];
/// col2im(&window, &[1.0; 16], &mut image);
/// assert_eq!(image, [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
/// ```
pub fn col2im<T: Element>(window: &Window2d, cols: &[T], image: &mut [T]) {
    window.check("col2im", image.len(), cols.len());
    image.fill(T::ZERO);
    // Rows of `cols` in order, positions in order: a fixed summation order.
    for (row, src) in cols.chunks_exact(window.column_cols().max(1)).enumerate() {
        add_row(window, row, src, image);
    }
}

/// [`im2col`] for a batch of `n` images laid end to end, into one wide column matrix
/// `[channels * kh * kw, n * out_h * out_w]`: image `i`'s columns are columns
/// `i * out_h * out_w ..` of every row. A convolution of the whole batch is then one matrix
/// product, `weight [c_out, rows] x cols -> [c_out, n * out_h * out_w]`, and the gradient of
/// the weight another, `g x cols^T`. Rows are filled in parallel.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{im2col_wide, Window2d};
///
/// // Two 2x2 images, a 2x1 kernel: two windows per image, one column each.
/// let window = Window2d::new(1, (2, 2), (2, 1), (1, 1), (0, 0));
/// let images = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
/// let mut cols = [0.0; 8];
/// im2col_wide(&window, &images, &mut cols);
/// // Row 0 (the top tap): [1 2] from image 0, then [5 6] from image 1; row 1 the bottom tap.
/// assert_eq!(cols, [1.0, 2.0, 5.0, 6.0, 3.0, 4.0, 7.0, 8.0]);
/// ```
pub fn im2col_wide<T: Element>(window: &Window2d, images: &[T], cols: &mut [T]) {
    let count = images.len().checked_div(window.input_len()).unwrap_or(0);
    let width = count * window.column_cols();
    assert!(
        images.len() == count * window.input_len() && cols.len() == window.column_rows() * width,
        "im2col_wide: {} and {} elements are not whole images and their columns",
        images.len(),
        cols.len()
    );
    let fill = |(row, dst): (usize, &mut [T])| {
        for (image, part) in
            images.chunks_exact(window.input_len().max(1)).zip(dst.chunks_exact_mut(window.column_cols().max(1)))
        {
            fill_row(window, row, image, part);
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        cols.par_chunks_exact_mut(width.max(1)).enumerate().for_each(fill);
    }
    #[cfg(not(feature = "rayon"))]
    cols.chunks_exact_mut(width.max(1)).enumerate().for_each(fill);
}

/// The adjoint of [`im2col_wide`]: each image (overwritten) gets the sum of the entries of
/// its columns that came from each position, rows in order (a fixed summation order). Images
/// are done in parallel.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{col2im_wide, Window2d};
///
/// // Two 1x3 images, a 1x2 kernel: two overlapping windows per image, so the middle pixel
/// // gets two entries. Image 0's columns hold ones, image 1's twos.
/// let window = Window2d::new(1, (1, 3), (1, 2), (1, 1), (0, 0));
/// let cols = [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0];
/// let mut images = [f64::NAN; 6];
/// col2im_wide(&window, &cols, &mut images);
/// assert_eq!(images, [1.0, 2.0, 1.0, 2.0, 4.0, 2.0]);
/// ```
pub fn col2im_wide<T: Element>(window: &Window2d, cols: &[T], images: &mut [T]) {
    let count = images.len().checked_div(window.input_len()).unwrap_or(0);
    let width = count * window.column_cols();
    assert!(
        images.len() == count * window.input_len() && cols.len() == window.column_rows() * width,
        "col2im_wide: {} and {} elements are not whole images and their columns",
        images.len(),
        cols.len()
    );
    let per_cols = window.column_cols();
    let gather = |(i, image): (usize, &mut [T])| {
        image.fill(T::ZERO);
        for (row, src) in cols.chunks_exact(width.max(1)).enumerate() {
            add_row(window, row, &src[i * per_cols..(i + 1) * per_cols], image);
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        images.par_chunks_exact_mut(window.input_len().max(1)).enumerate().for_each(gather);
    }
    #[cfg(not(feature = "rayon"))]
    images.chunks_exact_mut(window.input_len().max(1)).enumerate().for_each(gather);
}

/// [`im2col`] for a batch of images laid end to end, in parallel across images.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{im2col_batch, Window2d};
///
/// // Two 2x2 images, a 2x1 kernel: each image's 2x2 column matrix, one after the other
/// // (im2col_wide would interleave them row by row instead).
/// let window = Window2d::new(1, (2, 2), (2, 1), (1, 1), (0, 0));
/// let images = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
/// let mut cols = [0.0; 8];
/// im2col_batch(&window, &images, &mut cols);
/// assert_eq!(cols, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
/// ```
pub fn im2col_batch<T: Element>(window: &Window2d, images: &[T], cols: &mut [T]) {
    per_image(window.input_len(), window.column_rows() * window.column_cols(), images, cols, |x, y| {
        im2col(window, x, y)
    });
}

/// [`col2im`] for a batch of column matrices laid end to end, in parallel across images.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{col2im_batch, Window2d};
///
/// // Two 1x3 images, a 1x2 kernel (the middle pixel is in both windows); image 0's column
/// // matrix holds ones, image 1's twos.
/// let window = Window2d::new(1, (1, 3), (1, 2), (1, 1), (0, 0));
/// let cols = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0];
/// let mut images = [f64::NAN; 6];
/// col2im_batch(&window, &cols, &mut images);
/// assert_eq!(images, [1.0, 2.0, 1.0, 2.0, 4.0, 2.0]);
/// ```
pub fn col2im_batch<T: Element>(window: &Window2d, cols: &[T], images: &mut [T]) {
    per_image(window.column_rows() * window.column_cols(), window.input_len(), cols, images, |x, y| {
        col2im(window, x, y)
    });
}

fn per_image<T: Element>(
    in_len: usize,
    out_len: usize,
    input: &[T],
    output: &mut [T],
    f: impl Fn(&[T], &mut [T]) + Sync,
) {
    let count = input.len().checked_div(in_len).unwrap_or(0);
    assert!(
        input.len() == count * in_len && output.len() == count * out_len,
        "batch: {} and {} elements are not whole images of {in_len} and {out_len}",
        input.len(),
        output.len()
    );
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        input.par_chunks(in_len.max(1)).zip(output.par_chunks_mut(out_len.max(1))).for_each(|(x, y)| f(x, y));
    }
    #[cfg(not(feature = "rayon"))]
    input.chunks(in_len.max(1)).zip(output.chunks_mut(out_len.max(1))).for_each(|(x, y)| f(x, y));
}

/// Max-pooling of `image` (`[channels, height, width]`): for each channel and output
/// position, the largest value in the window and its index within the channel's plane
/// (`row * width + col`). Padding never wins; at ties the first position in row-major order
/// does. `values` and `argmax` have `channels * out_h * out_w` elements.
///
/// # Panics
/// If a window lies entirely in the padding (padding must be less than the kernel span).
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{max_pool2d, Window2d};
///
/// // 2x2 pooling of stride 2 on a 4x4 image; the top-right window has a tie (9 at indices
/// // 6 and 7), which the first in row-major order wins.
/// let image = [
///     1.0, 5.0, 2.0, 0.0, //
///     3.0, 4.0, 9.0, 9.0, //
///     0.0, 0.0, 7.0, 1.0, //
///     2.0, 0.0, 3.0, 8.0,
/// ];
/// let window = Window2d::new(1, (4, 4), (2, 2), (2, 2), (0, 0));
/// let (mut values, mut argmax) = ([0.0; 4], [0; 4]);
/// max_pool2d(&window, &image, &mut values, &mut argmax);
/// assert_eq!((values, argmax), ([5.0, 9.0, 2.0, 8.0], [1, 6, 12, 15]));
/// // Padding never wins, even against a negative value.
/// let padded = Window2d::new(1, (1, 1), (3, 3), (1, 1), (1, 1));
/// max_pool2d(&padded, &[-3.0], &mut values[..1], &mut argmax[..1]);
/// assert_eq!((values[0], argmax[0]), (-3.0, 0));
/// ```
pub fn max_pool2d<T: Element>(window: &Window2d, image: &[T], values: &mut [T], argmax: &mut [usize]) {
    let (out_h, out_w) = window.output();
    let per_channel = out_h * out_w;
    assert_eq!(
        image.len(),
        window.input_len(),
        "max_pool2d: image has {} elements, the window expects {}",
        image.len(),
        window.input_len()
    );
    assert!(
        values.len() == window.channels * per_channel && argmax.len() == values.len(),
        "max_pool2d: outputs need {} elements",
        window.channels * per_channel
    );
    if window.padding == (0, 0) {
        max_pool2d_unpadded(window, image, values, argmax);
    } else {
        max_pool2d_general(window, image, values, argmax);
    }
}

/// [`max_pool2d`] for any window: taps in the padding are skipped.
fn max_pool2d_general<T: Element>(window: &Window2d, image: &[T], values: &mut [T], argmax: &mut [usize]) {
    let (out_h, out_w) = window.output();
    let (h, w) = window.input;
    let per_channel = out_h * out_w;
    for c in 0..window.channels {
        let plane = &image[c * h * w..(c + 1) * h * w];
        for oh in 0..out_h {
            for ow in 0..out_w {
                let mut best: Option<(T, usize)> = None;
                for ki in 0..window.kernel.0 {
                    let Some(r) = window.input_row(ki, oh) else { continue };
                    for kj in 0..window.kernel.1 {
                        let Some(col) = window.input_col(kj, ow) else { continue };
                        let v = plane[r * w + col];
                        let better = match best {
                            None => true,
                            Some((b, _)) => beats(v, b),
                        };
                        if better {
                            best = Some((v, r * w + col));
                        }
                    }
                }
                let (v, at) = best.expect("max_pool2d: a window lies entirely in the padding");
                let out = c * per_channel + oh * out_w + ow;
                values[out] = v;
                argmax[out] = at;
            }
        }
    }
}

/// Whether `v` replaces `best` as a window's maximum: larger, or NaN (which propagates: it
/// beats everything, and nothing beats it). At ties the earlier position stays. Written
/// without short-circuits, so that the pooling loops compile to selects, not branches: on
/// random data a branch here is mispredicted about half the time.
#[inline(always)]
#[allow(clippy::eq_op)]
fn beats<T: Element>(v: T, best: T) -> bool {
    (best == best) & ((v > best) | (v != v))
}

/// [`max_pool2d`] without padding, where every tap lies in the image: no bounds to test per
/// tap, and the window's first tap starts as the best, so the order of comparison and hence
/// the winner at ties are those of the general loop.
fn max_pool2d_unpadded<T: Element>(window: &Window2d, image: &[T], values: &mut [T], argmax: &mut [usize]) {
    let (h, w) = window.input;
    let ((kh, kw), (dh, dw)) = (window.kernel, window.dilation);
    // Each tap's offset from the window's corner, in the window's order.
    let taps: Vec<usize> = (0..kh).flat_map(|ki| (0..kw).map(move |kj| ki * dh * w + kj * dw)).collect();
    let outputs = window.output().0 * window.output().1;
    for c in 0..window.channels {
        let plane = &image[c * h * w..(c + 1) * h * w];
        let (values, argmax) =
            (&mut values[c * outputs..(c + 1) * outputs], &mut argmax[c * outputs..(c + 1) * outputs]);
        if window.kernel == (2, 2) && window.stride == (2, 2) && window.dilation == (1, 1) {
            pool_plane_2x2(window, plane, values, argmax);
        } else {
            pool_plane(window, plane, &taps, values, argmax);
        }
    }
}

/// One channel's windows of [`max_pool2d_unpadded`]; `taps` are the offsets from the corner.
fn pool_plane<T: Element>(window: &Window2d, plane: &[T], taps: &[usize], values: &mut [T], argmax: &mut [usize]) {
    let ((out_h, out_w), w, (sh, sw)) = (window.output(), window.input.1, window.stride);
    for oh in 0..out_h {
        let row = &mut values[oh * out_w..(oh + 1) * out_w];
        let row_argmax = &mut argmax[oh * out_w..(oh + 1) * out_w];
        for (ow, (value, winner)) in row.iter_mut().zip(row_argmax).enumerate() {
            let corner = oh * sh * w + ow * sw;
            let (mut best, mut at) = (plane[corner], corner);
            for &tap in taps {
                let v = plane[corner + tap];
                let take = beats(v, best);
                best = if take { v } else { best };
                at = if take { corner + tap } else { at };
            }
            (*value, *winner) = (best, at);
        }
    }
}

/// [`pool_plane`] for the 2x2 pool of stride 2 (the conv-4's): the four taps of a window are
/// two pairs of neighbours on two rows, compared in the same order as the general loop
/// (top left, top right, bottom left, bottom right), with selects rather than branches.
fn pool_plane_2x2<T: Element>(window: &Window2d, plane: &[T], values: &mut [T], argmax: &mut [usize]) {
    let ((out_h, out_w), w) = (window.output(), window.input.1);
    for oh in 0..out_h {
        let top = &plane[2 * oh * w..2 * oh * w + 2 * out_w];
        let bottom = &plane[(2 * oh + 1) * w..(2 * oh + 1) * w + 2 * out_w];
        let row = &mut values[oh * out_w..(oh + 1) * out_w];
        let row_argmax = &mut argmax[oh * out_w..(oh + 1) * out_w];
        for (ow, (((t, b), value), winner)) in
            top.chunks_exact(2).zip(bottom.chunks_exact(2)).zip(row.iter_mut()).zip(row_argmax).enumerate()
        {
            let (mut best, mut at) = (t[0], 0);
            for (v, offset) in [(t[1], 1), (b[0], w), (b[1], w + 1)] {
                let take = beats(v, best);
                best = if take { v } else { best };
                at = if take { offset } else { at };
            }
            (*value, *winner) = (best, 2 * oh * w + 2 * ow + at);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Windows of every kind: strides up to 3, padding up to 2, dilation up to 2.
    pub(crate) fn window() -> impl Strategy<Value = Window2d> {
        (
            1usize..3,
            1usize..7,
            1usize..7,
            1usize..4,
            1usize..4,
            1usize..4,
            1usize..4,
            0usize..3,
            0usize..3,
            1usize..3,
            1usize..3,
        )
            .prop_map(|(channels, h, w, kh, kw, sh, sw, ph, pw, dh, dw)| Window2d {
                channels,
                input: (h, w),
                kernel: (kh, kw),
                stride: (sh, sw),
                padding: (ph, pw),
                dilation: (dh, dw),
            })
            .prop_filter("the kernel fits", |g| {
                g.input.0 + 2 * g.padding.0 > g.dilation.0 * (g.kernel.0 - 1)
                    && g.input.1 + 2 * g.padding.1 > g.dilation.1 * (g.kernel.1 - 1)
            })
    }

    /// The definition, written out: cols[(c, ki, kj), (oh, ow)] = padded image at the tap.
    fn im2col_reference(g: &Window2d, image: &[f64]) -> Vec<f64> {
        let (out_h, out_w) = g.output();
        let mut cols = Vec::new();
        for c in 0..g.channels {
            for ki in 0..g.kernel.0 {
                for kj in 0..g.kernel.1 {
                    for oh in 0..out_h {
                        for ow in 0..out_w {
                            let r = (oh * g.stride.0 + ki * g.dilation.0) as isize - g.padding.0 as isize;
                            let col = (ow * g.stride.1 + kj * g.dilation.1) as isize - g.padding.1 as isize;
                            let inside = r >= 0 && col >= 0 && (r as usize) < g.input.0 && (col as usize) < g.input.1;
                            cols.push(if inside {
                                image[(c * g.input.0 + r as usize) * g.input.1 + col as usize]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        cols
    }

    proptest! {
        #[test]
        fn im2col_matches_the_definition_and_col2im_is_its_adjoint(g in window(), seed in 0u64..1000) {
            let image: Vec<f64> = (0..g.input_len()).map(|i| ((i as u64 * 7919 + seed) % 101) as f64 - 50.0).collect();
            let mut cols = vec![f64::NAN; g.column_rows() * g.column_cols()];
            im2col(&g, &image, &mut cols);
            prop_assert_eq!(&cols, &im2col_reference(&g, &image));
            // <im2col(x), y> = <x, col2im(y)> for any x, y: col2im is the transpose.
            let y: Vec<f64> = (0..cols.len()).map(|i| ((i as u64 * 104_729 + seed) % 37) as f64 - 18.0).collect();
            let mut back = vec![f64::NAN; image.len()];
            col2im(&g, &y, &mut back);
            let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
            let rhs: f64 = image.iter().zip(&back).map(|(a, b)| a * b).sum();
            prop_assert_eq!(lhs, rhs);
        }

        #[test]
        fn wide_columns_are_the_images_columns_side_by_side_and_col2im_wide_their_adjoint(
            g in window(), n in 1usize..4, seed in 0u64..1000,
        ) {
            let images: Vec<f64> =
                (0..n * g.input_len()).map(|i| ((i as u64 * 7919 + seed) % 101) as f64 - 50.0).collect();
            let (rows, per) = (g.column_rows(), g.column_cols());
            let mut wide = vec![f64::NAN; rows * n * per];
            im2col_wide(&g, &images, &mut wide);
            for (i, image) in images.chunks(g.input_len()).enumerate() {
                let reference = im2col_reference(&g, image);
                for r in 0..rows {
                    prop_assert_eq!(&wide[r * n * per + i * per..r * n * per + (i + 1) * per], &reference[r * per..(r + 1) * per]);
                }
            }
            let y: Vec<f64> = (0..wide.len()).map(|i| ((i as u64 * 104_729 + seed) % 37) as f64 - 18.0).collect();
            let mut back = vec![f64::NAN; images.len()];
            col2im_wide(&g, &y, &mut back);
            let lhs: f64 = wide.iter().zip(&y).map(|(a, b)| a * b).sum();
            let rhs: f64 = images.iter().zip(&back).map(|(a, b)| a * b).sum();
            prop_assert_eq!(lhs, rhs);
        }

        #[test]
        fn max_pool_picks_the_window_maximum(g in window(), seed in 0u64..1000) {
            let (out_h, out_w) = g.output();
            let rows_ok = (0..out_h).all(|oh| (0..g.kernel.0).any(|ki| g.input_row(ki, oh).is_some()));
            let cols_ok = (0..out_w).all(|ow| (0..g.kernel.1).any(|kj| g.input_col(kj, ow).is_some()));
            prop_assume!(rows_ok && cols_ok, "every window must reach the image");
            let image: Vec<f64> = (0..g.input_len()).map(|i| ((i as u64 * 7919 + seed) % 101) as f64).collect();
            let n = g.channels * g.column_cols();
            let (mut values, mut argmax) = (vec![0.0; n], vec![0; n]);
            max_pool2d(&g, &image, &mut values, &mut argmax);
            // Against im2col: the max over each column's taps inside the image.
            let per = g.column_cols();
            let taps = g.kernel.0 * g.kernel.1;
            let cols = im2col_reference(&Window2d { padding: g.padding, ..g }, &image.iter().map(|v| v + 1.0).collect::<Vec<_>>());
            for c in 0..g.channels {
                for l in 0..per {
                    // Shifted by one so that padding (0) never wins against an image value.
                    let best = (0..taps).map(|t| cols[((c * taps + t) * per) + l]).fold(0.0, f64::max) - 1.0;
                    prop_assert_eq!(values[c * per + l], best);
                    prop_assert_eq!(image[c * g.input.0 * g.input.1 + argmax[c * per + l]], best);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn max_pool_without_padding_agrees_with_the_general_loop(
            g in window(),
            values in proptest::collection::vec(prop_oneof![8 => 0i8..4, 1 => Just(-1i8)], 1..400),
            pool_2x2 in any::<bool>(),
        ) {
            // Few distinct values, so ties are common, and -1 stands for NaN. Half the cases
            // are the 2x2 pool of stride 2, which has a loop of its own.
            let g = Window2d { padding: (0, 0), ..g };
            let g = if pool_2x2 { Window2d { kernel: (2, 2), stride: (2, 2), dilation: (1, 1), ..g } } else { g };
            prop_assume!(g.input.0 > g.dilation.0 * (g.kernel.0 - 1) && g.input.1 > g.dilation.1 * (g.kernel.1 - 1));
            let image: Vec<f32> = (0..g.input_len())
                .map(|i| match values[i % values.len()] { -1 => f32::NAN, v => f32::from(v) })
                .collect();
            let n = g.channels * g.column_cols();
            let (mut fast, mut fast_at) = (vec![0.0; n], vec![0; n]);
            let (mut general, mut general_at) = (vec![0.0; n], vec![0; n]);
            max_pool2d_unpadded(&g, &image, &mut fast, &mut fast_at);
            max_pool2d_general(&g, &image, &mut general, &mut general_at);
            prop_assert_eq!(fast_at, general_at);
            prop_assert_eq!(fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), general.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn output_size_formula() {
        // 28x28, 3x3, stride 1, pad 1 keeps the size; 2x2 pool, stride 2 halves it.
        assert_eq!(Window2d::new(1, (28, 28), (3, 3), (1, 1), (1, 1)).output(), (28, 28));
        assert_eq!(Window2d::new(1, (28, 28), (2, 2), (2, 2), (0, 0)).output(), (14, 14));
        let dilated = Window2d { dilation: (2, 2), ..Window2d::new(1, (7, 7), (3, 3), (1, 1), (0, 0)) };
        assert_eq!(dilated.output(), (3, 3));
    }

    #[test]
    #[should_panic(expected = "kernel spans 5 but the padded input is only 4")]
    fn kernel_larger_than_input_panics() {
        Window2d::new(1, (4, 4), (5, 5), (1, 1), (0, 0)).output();
    }
}
