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
use crate::scratch::with_scratch;
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

/// The column matrix `[rows, n * P]` of `n` images laid end to end, into `cols` (every value
/// overwritten).
fn lower<T: Element>(window: &Window2d, images: &[T], cols: &mut [T]) {
    let (p, len) = (window.column_cols(), window.input_len().max(1));
    let n = images.len() / len;
    debug_assert_eq!(cols.len(), window.column_rows() * n * p);
    if window.stride == (1, 1) && window.dilation == (1, 1) {
        lower_dense(window, images, cols);
        return;
    }
    for (row, dst) in cols.chunks_exact_mut((n * p).max(1)).enumerate() {
        for (image, part) in images.chunks_exact(len).zip(dst.chunks_exact_mut(p.max(1))) {
            fill_row(window, row, image, part);
        }
    }
}

/// The geometry [`lower_dense`] and [`raise_dense`] share: an input plane copied into a
/// zero-bordered one of `pitch` columns, where every tap's row of outputs is one unbroken run.
struct Bordered {
    /// Columns of the bordered plane (`w + 2 pw`).
    pitch: usize,
    /// Values of one input plane (`h w`).
    plane_len: usize,
    /// Outputs per image (`P`) and per output row.
    p: usize,
    out_w: usize,
    /// Columns of the column matrix (`n P`).
    width: usize,
}

impl Bordered {
    /// The geometry, and a zeroed bordered plane.
    fn new<T: Element>(window: &Window2d, cols_len: usize) -> (Self, Vec<T>) {
        let ((h, w), (ph, pw)) = (window.input, window.padding);
        let pitch = w + 2 * pw;
        let geometry = Bordered {
            pitch,
            plane_len: h * w,
            p: window.column_cols(),
            out_w: window.output().1,
            width: cols_len / window.column_rows().max(1),
        };
        (geometry, vec![T::ZERO; (h + 2 * ph) * pitch])
    }

    /// For each tap `(ki, kj)` of channel `c`, image `i`: the start of its `P` entries in the
    /// column matrix, and the start of its output row `oh`'s run in the bordered plane.
    fn taps(&self, window: &Window2d, c: usize, i: usize) -> impl Iterator<Item = (usize, impl Fn(usize) -> usize)> {
        let ((kh, kw), (pitch, width, p)) = (window.kernel, (self.pitch, self.width, self.p));
        (0..kh)
            .flat_map(move |ki| (0..kw).map(move |kj| (ki, kj)))
            .enumerate()
            .map(move |(tap, (ki, kj))| ((c * kh * kw + tap) * width + i * p, move |oh: usize| (oh + ki) * pitch + kj))
    }
}

/// [`lower`] for a dense window of stride 1: each input plane is first copied into a
/// zero-bordered one, so that every tap's row of outputs is one unbroken run of it, with no
/// padding to test for and no short fills (which had cost as much as the copies).
fn lower_dense<T: Element>(window: &Window2d, images: &[T], cols: &mut [T]) {
    let ((w, (ph, pw)), (geometry, mut padded)) = ((window.input.1, window.padding), Bordered::new(window, cols.len()));
    let Bordered { pitch, plane_len, p, out_w, .. } = geometry;
    for (i, image) in images.chunks_exact(window.input_len().max(1)).enumerate() {
        for (c, plane) in image.chunks_exact(plane_len.max(1)).enumerate() {
            for (y, src) in plane.chunks_exact(w.max(1)).enumerate() {
                padded[(y + ph) * pitch + pw..][..w].copy_from_slice(src);
            }
            for (at, run_start) in geometry.taps(window, c, i) {
                for (oh, run) in cols[at..][..p].chunks_exact_mut(out_w.max(1)).enumerate() {
                    copy_run(run, &padded[run_start(oh)..][..out_w]);
                }
            }
        }
    }
}

/// The adjoint of [`lower_dense`], as `col2im` of each image (overwritten): the columns'
/// entries are added into a zero-bordered plane, whose interior is the image's gradient. Every
/// pixel gets its entries in the order of `add_row`'s (row by row of `cols`, from zero), so
/// the bits are the same, without the padding's tests.
fn raise_dense<T: Element>(window: &Window2d, cols: &[T], images: &mut [T]) {
    let ((w, (ph, pw)), (geometry, mut padded)) = ((window.input.1, window.padding), Bordered::new(window, cols.len()));
    let Bordered { pitch, plane_len, p, out_w, .. } = geometry;
    for (i, image) in images.chunks_exact_mut(window.input_len().max(1)).enumerate() {
        for (c, plane) in image.chunks_exact_mut(plane_len.max(1)).enumerate() {
            padded.fill(T::ZERO);
            for (at, run_start) in geometry.taps(window, c, i) {
                for (oh, run) in cols[at..][..p].chunks_exact(out_w.max(1)).enumerate() {
                    for (d, &v) in padded[run_start(oh)..][..out_w].iter_mut().zip(run) {
                        *d += v;
                    }
                }
            }
            for (y, dst) in plane.chunks_exact_mut(w.max(1)).enumerate() {
                dst.copy_from_slice(&padded[(y + ph) * pitch + pw..][..w]);
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for the short runs of a lowering (3 to 28 values): runs of at
/// least 8 are copied 8 values at a time, the last 8 overlapping the one before, as fixed-size
/// copies the compiler keeps inline rather than one `memcpy` call per run.
#[inline(always)]
fn copy_run<T: Element>(dst: &mut [T], src: &[T]) {
    let len = dst.len();
    assert_eq!(len, src.len());
    if len < 8 {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = v;
        }
        return;
    }
    let chunk = |dst: &mut [T], at: usize| {
        let from: &[T; 8] = src[at..at + 8].try_into().expect("8 values");
        let to: &mut [T; 8] = (&mut dst[at..at + 8]).try_into().expect("8 values");
        *to = *from;
    };
    let mut at = 0;
    while at + 8 < len {
        chunk(dst, at);
        at += 8;
    }
    chunk(dst, len - 8);
}

/// `g` of a block, `[n, c_out, P]`, as the matrix `[c_out, n * P]`, into `wide` (every value
/// overwritten); returns it. A block of one image is that matrix already: then `grads` itself.
fn widen<'a, T: Element>(grads: &'a [T], c_out: usize, p: usize, wide: &'a mut [T]) -> &'a [T] {
    let n = grads.len() / (c_out * p).max(1);
    if n == 1 {
        return grads;
    }
    for (i, image) in grads.chunks_exact((c_out * p).max(1)).enumerate() {
        for (c, channel) in image.chunks_exact(p.max(1)).enumerate() {
            wide[c * n * p + i * p..c * n * p + (i + 1) * p].copy_from_slice(channel);
        }
    }
    wide
}

/// The scratch length [`widen`] needs for a block of `grads`: none for one image.
fn widen_len(grads: usize, c_out: usize, p: usize) -> usize {
    if grads == c_out * p {
        0
    } else {
        grads
    }
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
        with_scratch(rows * n * p, |cols| {
            lower(window, block, cols);
            if n == 1 {
                // A block of one image (28x28 and larger): the product is already NCHW.
                gemm_serial(MatRef::row_major(filters, c_out, rows), MatRef::row_major(cols, rows, p), out);
                return;
            }
            with_scratch(c_out * n * p, |product| {
                gemm_serial(MatRef::row_major(filters, c_out, rows), MatRef::row_major(cols, rows, n * p), product);
                // [c_out, n * P] -> [n, c_out, P]
                for (i, image) in out.chunks_exact_mut((c_out * p).max(1)).enumerate() {
                    for (c, channel) in image.chunks_exact_mut(p.max(1)).enumerate() {
                        channel.copy_from_slice(&product[c * n * p + i * p..c * n * p + (i + 1) * p]);
                    }
                }
            });
        });
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
        with_scratch(widen_len(block.len(), c_out, p), |wide| {
            let wide = widen(block, c_out, p, wide);
            with_scratch(rows * n * p, |cols| {
                gemm_serial(filters_t, MatRef::row_major(wide, c_out, n * p), cols);
                if window.stride == (1, 1) && window.dilation == (1, 1) {
                    raise_dense(window, cols, images);
                    return;
                }
                for (i, image) in images.chunks_exact_mut(len.max(1)).enumerate() {
                    image.fill(T::ZERO);
                    for (row, src) in cols.chunks_exact((n * p).max(1)).enumerate() {
                        add_row(window, row, &src[i * p..(i + 1) * p], image);
                    }
                }
            });
        });
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
        let block = &grads[i0 * c_out * p..i1 * c_out * p];
        let mut part = vec![T::ZERO; c_out * rows];
        with_scratch(rows * n * p, |cols| {
            lower(window, &images[i0 * len..i1 * len], cols);
            with_scratch(widen_len(block.len(), c_out, p), |wide| {
                let wide = widen(block, c_out, p, wide);
                if rows < c_out {
                    // Few taps (a first layer's 9): dW^T = cols g^T, so that the long operand,
                    // g, is the one packed by fast transposes and the short one fills the
                    // tiles' rows. Each element adds the same products in the same order, so
                    // the bits are those of g cols^T.
                    let mut part_t = vec![T::ZERO; rows * c_out];
                    let wide_t = MatRef::new(wide, n * p, c_out, 1, n * p);
                    gemm_serial(MatRef::row_major(cols, rows, n * p), wide_t, &mut part_t);
                    for (r, row) in part_t.chunks_exact(c_out).enumerate() {
                        for (c, &v) in row.iter().enumerate() {
                            part[c * rows + r] = v;
                        }
                    }
                } else {
                    // cols^T, a view of the block's column matrix.
                    let cols_t = MatRef::new(cols, n * p, rows, 1, n * p);
                    gemm_serial(MatRef::row_major(wide, c_out, n * p), cols_t, &mut part);
                }
            });
        });
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

            let mut buffer = vec![0.0; dy.len()];
            let wide = widen(&dy, c_out, p, &mut buffer);
            let mut dcols = vec![0.0; rows * batch * p];
            gemm(MatRef::new(&w, rows, c_out, 1, rows), MatRef::row_major(wide, c_out, batch * p), &mut dcols);
            let mut want_dx = vec![0.0; x.len()];
            col2im_wide(&g, &dcols, &mut want_dx);
            let mut dx = vec![f64::NAN; x.len()];
            conv2d_input_grad(&g, &w, c_out, &dy, &mut dx);
            prop_assert_eq!(dx, want_dx);

            let mut want_dw = vec![0.0; w.len()];
            gemm(MatRef::row_major(wide, c_out, batch * p), MatRef::new(&cols, batch * p, rows, 1, batch * p), &mut want_dw);
            let mut dw = vec![f64::NAN; w.len()];
            conv2d_weight_grad(&g, &x, &dy, c_out, &mut dw);
            prop_assert_eq!(dw, want_dw);
        }
    }

    /// With fewer taps than filters (a first layer: 9 taps, 64 filters), the weight gradient
    /// is computed as `(cols g^T)^T`; its f32 bits must be those of `g cols^T`, block by block
    /// in block order, for blocks of one image (28x28, the packed path) and of several (5x5,
    /// the small path).
    #[test]
    fn few_taps_keep_the_bits_of_g_cols_transposed() {
        for (side, batch) in [(28, 3), (5, 20)] {
            let g = Window2d::new(1, (side, side), (3, 3), (1, 1), (1, 1));
            let (rows, p, c_out) = (g.column_rows(), g.column_cols(), 64);
            let noise = |n: usize, seed: usize| -> Vec<f32> {
                (0..n).map(|i| (((i * 7919 + seed) % 1009) as f32 * 0.618).sin()).collect()
            };
            let (x, dy) = (noise(batch * g.input_len(), 1), noise(batch * c_out * p, 2));
            let per_block = images_per_block(&g, batch);
            let mut want = vec![0.0f32; c_out * rows];
            for i0 in (0..batch).step_by(per_block) {
                let n = per_block.min(batch - i0);
                let mut cols = vec![0.0f32; rows * n * p];
                lower(&g, &x[i0 * g.input_len()..(i0 + n) * g.input_len()], &mut cols);
                let mut buffer = vec![0.0f32; n * c_out * p];
                let wide = widen(&dy[i0 * c_out * p..(i0 + n) * c_out * p], c_out, p, &mut buffer);
                let mut part = vec![0.0f32; c_out * rows];
                gemm(MatRef::row_major(wide, c_out, n * p), MatRef::new(&cols, n * p, rows, 1, n * p), &mut part);
                want.iter_mut().zip(&part).for_each(|(w, v)| *w += v);
            }
            let mut dw = vec![f32::NAN; c_out * rows];
            conv2d_weight_grad(&g, &x, &dy, c_out, &mut dw);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dw), bits(&want), "{side}x{side}, batch {batch}");
        }
    }

    /// The dense lowering and raising (stride 1, through zero-bordered planes) keep the bits
    /// of `im2col_wide` and `col2im_wide` in f32: the forward against `W cols(x)`, the input
    /// gradient against `col2im(W^T g)`, with padding 0, 1 and 2.
    #[test]
    fn dense_lowering_keeps_the_bits_of_im2col_and_col2im() {
        let noise = |n: usize, seed: usize| -> Vec<f32> {
            (0..n).map(|i| (((i * 7919 + seed) % 1009) as f32 * 0.618).sin()).collect()
        };
        for (side, pad, batch) in [(14, 1, 3), (7, 0, 5), (5, 2, 2)] {
            let g = Window2d::new(3, (side, side), (3, 3), (1, 1), (pad, pad));
            let (rows, p, c_out) = (g.column_rows(), g.column_cols(), 8);
            let (x, w, dy) = (noise(batch * g.input_len(), 1), noise(c_out * rows, 2), noise(batch * c_out * p, 3));
            let mut cols = vec![0.0f32; rows * batch * p];
            im2col_wide(&g, &x, &mut cols);
            let mut lowered = vec![f32::NAN; cols.len()];
            lower(&g, &x, &mut lowered);
            assert_eq!(lowered, cols, "{side}x{side}, padding {pad}");
            let mut buffer = vec![0.0f32; dy.len()];
            let wide = widen(&dy, c_out, p, &mut buffer);
            let mut dcols = vec![0.0f32; rows * batch * p];
            gemm(MatRef::new(&w, rows, c_out, 1, rows), MatRef::row_major(wide, c_out, batch * p), &mut dcols);
            let (mut want, mut got) = (vec![0.0f32; x.len()], vec![f32::NAN; x.len()]);
            col2im_wide(&g, &dcols, &mut want);
            raise_dense(&g, &dcols, &mut got);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{side}x{side}, padding {pad}");
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
