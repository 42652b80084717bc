//! Convolution as im2col + GEMM, a block of images at a time.
//!
//! With `W` the filters as a `[c_out, rows]` matrix (`rows = C * kh * kw`) and `cols(x)` the
//! column matrix of a batch (`[rows, N * P]`, `P = out_h * out_w`, see [`im2col_wide`]):
//!
//! ```text
//! forward        y  = W cols(x)                 -> [N, c_out, P]
//! input grad     dx = col2im(W^T g)             -> [N, C, H, W]
//! weight grad    dW = g cols(x)^T               -> [c_out, rows]
//! ```
//!
//! Done for the whole batch at once, `cols(x)` and `W^T g` are `kh * kw` times the size of
//! the images (34 MB for 75 Omniglot images after the conv-4's first layer), written once and
//! read once from memory, and the product comes out `[c_out, N * P]`, so it needs a permute
//! to reach NCHW. Here the batch is cut into blocks of images whose columns fit in the L2
//! cache: each block is lowered, multiplied and raised (or scattered to NCHW) while it is
//! still in cache, and blocks run in parallel, one product per thread.
//!
//! Determinism: a block's product is computed by one thread in a fixed order, and the weight
//! gradient adds the blocks' partial products in block order, so the result does not depend
//! on the number of threads. The block size depends on the shapes alone.
//!
//! [`im2col_wide`]: crate::im2col_wide

use crate::conv::{add_row, fill_row};
use crate::gemm::gemm_serial;
use crate::{Element, MatRef, Window2d};

/// Columns per block to aim for: `rows x BLOCK_COLUMNS` values of `cols(x)` (576 x 256 f32,
/// 590 KB) and their packed copy fit a core's 1 MB L2 cache. (512 measured no different on
/// the conv-4, docs/PERFORMANCE.md.)
const BLOCK_COLUMNS: usize = 256;

/// Images per block: enough for `BLOCK_COLUMNS` columns, but at most a quarter of the batch,
/// so that there are blocks for two threads to share even when each image is small.
fn images_per_block(window: &Window2d, batch: usize) -> usize {
    let per_image = window.column_cols().max(1);
    BLOCK_COLUMNS.div_ceil(per_image).min(batch.div_ceil(4)).max(1)
}

/// Checks the buffers' lengths; returns the batch size.
fn batch_of(what: &str, window: &Window2d, c_out: usize, images: usize, grads: usize, filters: usize) -> usize {
    let batch = images.checked_div(window.input_len()).unwrap_or(0);
    let (rows, p) = (window.column_rows(), window.column_cols());
    assert!(
        images == batch * window.input_len() && grads == batch * c_out * p && filters == c_out * rows,
        "{what}: {images} image values, {grads} output values and {filters} filter values do not fit \
         {c_out} filters of {rows} taps on images of {} values with {p} outputs each",
        window.input_len()
    );
    batch
}

/// The column matrix `[rows, n * P]` of `n` images laid end to end.
fn lower<T: Element>(window: &Window2d, images: &[T]) -> Vec<T> {
    let (rows, p, len) = (window.column_rows(), window.column_cols(), window.input_len().max(1));
    let n = images.len() / len;
    let mut cols = vec![T::ZERO; rows * n * p];
    for (row, dst) in cols.chunks_exact_mut((n * p).max(1)).enumerate() {
        for (image, part) in images.chunks_exact(len).zip(dst.chunks_exact_mut(p.max(1))) {
            fill_row(window, row, image, part);
        }
    }
    cols
}

/// `g` of a block, `[n, c_out, P]`, as the matrix `[c_out, n * P]`.
fn widen<T: Element>(grads: &[T], c_out: usize, p: usize) -> Vec<T> {
    let n = grads.len() / (c_out * p).max(1);
    let mut wide = vec![T::ZERO; grads.len()];
    for (i, image) in grads.chunks_exact((c_out * p).max(1)).enumerate() {
        for (c, channel) in image.chunks_exact(p.max(1)).enumerate() {
            wide[c * n * p + i * p..c * n * p + (i + 1) * p].copy_from_slice(channel);
        }
    }
    wide
}

/// Runs `f(block index, input block, output block)` over blocks of `per_block` images, in
/// parallel when the `rayon` feature is on.
fn over_blocks<T: Element>(
    inputs: &[T],
    input_per_image: usize,
    outputs: &mut [T],
    output_per_image: usize,
    per_block: usize,
    f: impl Fn(&[T], &mut [T]) + Sync,
) {
    let (input_block, output_block) = ((input_per_image * per_block).max(1), (output_per_image * per_block).max(1));
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        outputs
            .par_chunks_mut(output_block)
            .zip(inputs.par_chunks(input_block))
            .for_each(|(output, input)| f(input, output));
    }
    #[cfg(not(feature = "rayon"))]
    outputs.chunks_mut(output_block).zip(inputs.chunks(input_block)).for_each(|(output, input)| f(input, output));
}

/// The convolution of a batch of images `[N, C, H, W]` (the window's shape) with `filters`
/// `[c_out, C * kh * kw]` (row-major, the `[c_out, C, kh, kw]` weight as it is stored), into
/// `out` `[N, c_out, out_h * out_w]` (overwritten): `out = W cols(x)`, image by image.
///
/// # Panics
/// If the lengths do not fit the window and `c_out`.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{conv2d_forward, Window2d};
///
/// // A 2x2 image of ones and twos, two 1x1 filters (x1 and x10): the image scaled twice.
/// let window = Window2d::new(1, (2, 2), (1, 1), (1, 1), (0, 0));
/// let mut out = [0.0; 8];
/// conv2d_forward(&window, &[1.0, 2.0, 1.0, 2.0], &[1.0, 10.0], 2, &mut out);
/// assert_eq!(out, [1.0, 2.0, 1.0, 2.0, 10.0, 20.0, 10.0, 20.0]);
/// ```
pub fn conv2d_forward<T: Element>(window: &Window2d, images: &[T], filters: &[T], c_out: usize, out: &mut [T]) {
    let batch = batch_of("conv2d_forward", window, c_out, images.len(), out.len(), filters.len());
    let (rows, p) = (window.column_rows(), window.column_cols());
    let per_block = images_per_block(window, batch);
    over_blocks(images, window.input_len(), out, c_out * p, per_block, |block, out| {
        let n = out.len() / (c_out * p).max(1);
        let cols = lower(window, block);
        if n == 1 {
            // A block of one image (28x28 and larger): the product is already NCHW.
            gemm_serial(MatRef::row_major(filters, c_out, rows), MatRef::row_major(&cols, rows, p), out);
            return;
        }
        let mut product = vec![T::ZERO; c_out * n * p];
        gemm_serial(MatRef::row_major(filters, c_out, rows), MatRef::row_major(&cols, rows, n * p), &mut product);
        // [c_out, n * P] -> [n, c_out, P]
        for (i, image) in out.chunks_exact_mut((c_out * p).max(1)).enumerate() {
            for (c, channel) in image.chunks_exact_mut(p.max(1)).enumerate() {
                channel.copy_from_slice(&product[c * n * p + i * p..c * n * p + (i + 1) * p]);
            }
        }
    });
}

/// The gradient of [`conv2d_forward`] with respect to the images: `grads` `[N, c_out, P]` in,
/// `images_grad` `[N, C, H, W]` out (overwritten), `col2im(W^T g)` image block by block.
///
/// # Panics
/// If the lengths do not fit the window and `c_out`.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{conv2d_input_grad, Window2d};
///
/// // A 1x2 kernel [1, 10] over a 1x3 image: two windows. Output gradients [1, 2] flow
/// // back as 1 * [1, 10] at columns 0..2 and 2 * [1, 10] at columns 1..3.
/// let window = Window2d::new(1, (1, 3), (1, 2), (1, 1), (0, 0));
/// let mut dx = [f64::NAN; 3];
/// conv2d_input_grad(&window, &[1.0, 10.0], 1, &[1.0, 2.0], &mut dx);
/// assert_eq!(dx, [1.0, 10.0 + 2.0, 20.0]);
/// ```
pub fn conv2d_input_grad<T: Element>(
    window: &Window2d,
    filters: &[T],
    c_out: usize,
    grads: &[T],
    images_grad: &mut [T],
) {
    let batch = batch_of("conv2d_input_grad", window, c_out, images_grad.len(), grads.len(), filters.len());
    let (rows, p, len) = (window.column_rows(), window.column_cols(), window.input_len());
    let per_block = images_per_block(window, batch);
    // W^T, a view of the stored filters.
    let filters_t = MatRef::new(filters, rows, c_out, 1, rows);
    over_blocks(grads, c_out * p, images_grad, len, per_block, |block, images| {
        let n = images.len() / len.max(1);
        let wide = widen(block, c_out, p);
        let mut cols = vec![T::ZERO; rows * n * p];
        gemm_serial(filters_t, MatRef::row_major(&wide, c_out, n * p), &mut cols);
        for (i, image) in images.chunks_exact_mut(len.max(1)).enumerate() {
            image.fill(T::ZERO);
            for (row, src) in cols.chunks_exact((n * p).max(1)).enumerate() {
                add_row(window, row, &src[i * p..(i + 1) * p], image);
            }
        }
    });
}

/// The gradient of [`conv2d_forward`] with respect to the filters: `filters_grad`
/// `[c_out, C * kh * kw]` (overwritten) `= g cols(x)^T`, the blocks' partial products added
/// in block order.
///
/// # Panics
/// If the lengths do not fit the window and `c_out`.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{conv2d_weight_grad, Window2d};
///
/// // A 1x2 kernel over the 1x3 image [1, 2, 3], output gradients [1, 1]: each tap's
/// // gradient is the sum of the pixels it saw, [1 + 2, 2 + 3].
/// let window = Window2d::new(1, (1, 3), (1, 2), (1, 1), (0, 0));
/// let mut dw = [f64::NAN; 2];
/// conv2d_weight_grad(&window, &[1.0, 2.0, 3.0], &[1.0, 1.0], 1, &mut dw);
/// assert_eq!(dw, [3.0, 5.0]);
/// ```
pub fn conv2d_weight_grad<T: Element>(
    window: &Window2d,
    images: &[T],
    grads: &[T],
    c_out: usize,
    filters_grad: &mut [T],
) {
    let batch = batch_of("conv2d_weight_grad", window, c_out, images.len(), grads.len(), filters_grad.len());
    let (rows, p, len) = (window.column_rows(), window.column_cols(), window.input_len());
    let per_block = images_per_block(window, batch);
    let blocks = batch.div_ceil(per_block);
    let partial = |b: usize| {
        let (i0, i1) = (b * per_block, batch.min(b * per_block + per_block));
        let n = i1 - i0;
        let cols = lower(window, &images[i0 * len..i1 * len]);
        let wide = widen(&grads[i0 * c_out * p..i1 * c_out * p], c_out, p);
        let mut part = vec![T::ZERO; c_out * rows];
        // cols^T, a view of the block's column matrix.
        let cols_t = MatRef::new(&cols, n * p, rows, 1, n * p);
        gemm_serial(MatRef::row_major(&wide, c_out, n * p), cols_t, &mut part);
        part
    };
    #[cfg(feature = "rayon")]
    let parts: Vec<Vec<T>> = {
        use rayon::prelude::*;
        (0..blocks).into_par_iter().map(partial).collect()
    };
    #[cfg(not(feature = "rayon"))]
    let parts: Vec<Vec<T>> = (0..blocks).map(partial).collect();
    filters_grad.fill(T::ZERO);
    for part in &parts {
        for (total, &x) in filters_grad.iter_mut().zip(part) {
            *total += x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::tests::window;
    use crate::{col2im_wide, gemm, im2col_wide};
    use proptest::prelude::*;

    /// Small integers, so that every sum is exact in any order and the blocked results must
    /// equal the whole-batch ones exactly.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        (0..n).map(|i| ((i as u64 * 7919 + seed) % 9) as f64 - 4.0).collect()
    }

    proptest! {
        /// Against the whole batch lowered at once: `W cols(x)` permuted to NCHW,
        /// `col2im(W^T g)` and `g cols(x)^T`, over batches that span several blocks.
        #[test]
        fn blocks_agree_with_the_whole_batch(g in window(), batch in 1usize..10, c_out in 1usize..4, seed in 0u64..100) {
            let (rows, p) = (g.column_rows(), g.column_cols());
            let x = values(batch * g.input_len(), seed);
            let w = values(c_out * rows, seed + 1);
            let dy = values(batch * c_out * p, seed + 2);
            let mut cols = vec![0.0; rows * batch * p];
            im2col_wide(&g, &x, &mut cols);

            let mut product = vec![0.0; c_out * batch * p];
            gemm(MatRef::row_major(&w, c_out, rows), MatRef::row_major(&cols, rows, batch * p), &mut product);
            let mut y = vec![f64::NAN; batch * c_out * p];
            conv2d_forward(&g, &x, &w, c_out, &mut y);
            for i in 0..batch {
                for c in 0..c_out {
                    prop_assert_eq!(&y[(i * c_out + c) * p..(i * c_out + c + 1) * p], &product[c * batch * p + i * p..c * batch * p + (i + 1) * p]);
                }
            }

            let wide = widen(&dy, c_out, p);
            let mut dcols = vec![0.0; rows * batch * p];
            gemm(MatRef::new(&w, rows, c_out, 1, rows), MatRef::row_major(&wide, c_out, batch * p), &mut dcols);
            let mut want_dx = vec![0.0; x.len()];
            col2im_wide(&g, &dcols, &mut want_dx);
            let mut dx = vec![f64::NAN; x.len()];
            conv2d_input_grad(&g, &w, c_out, &dy, &mut dx);
            prop_assert_eq!(dx, want_dx);

            let mut want_dw = vec![0.0; w.len()];
            gemm(MatRef::row_major(&wide, c_out, batch * p), MatRef::new(&cols, batch * p, rows, 1, batch * p), &mut want_dw);
            let mut dw = vec![f64::NAN; w.len()];
            conv2d_weight_grad(&g, &x, &dy, c_out, &mut dw);
            prop_assert_eq!(dw, want_dw);
        }
    }

    #[test]
    fn several_blocks_for_a_batch_of_small_images() {
        let g = Window2d::new(64, (3, 3), (3, 3), (1, 1), (1, 1));
        assert_eq!(images_per_block(&g, 75), 19, "a quarter of the batch, rounded up");
        let g = Window2d::new(1, (28, 28), (3, 3), (1, 1), (1, 1));
        assert_eq!(images_per_block(&g, 75), 1, "784 outputs per image: one image a block");
        assert_eq!(images_per_block(&g, 0), 1);
    }

    #[test]
    #[should_panic(expected = "conv2d_forward: 5 image values")]
    fn lengths_that_do_not_fit_are_rejected() {
        let g = Window2d::new(1, (2, 2), (1, 1), (1, 1), (0, 0));
        conv2d_forward(&g, &[0.0f32; 5], &[1.0], 1, &mut [0.0; 4]);
    }
}
