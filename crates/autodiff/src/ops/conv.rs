//! Convolution and max-pooling, built from the adjoint pair `im2col` / `col2im`, `matmul`,
//! and `gather`: none of them needs a VJP of its own beyond the pair, so every order works.
//!
//! Shapes are NCHW: `[batch, channels, height, width]`.

use crate::{Float, Grads, Op, Tensor, Var};
use metagrad_kernels::{col2im_batch, col2im_wide, im2col_batch, im2col_wide, max_pool2d, Window2d};
use ndarray::ArrayD;

/// `[N, C, H, W] -> [N, C * kh * kw, out_h * out_w]`.
struct Im2col(Window2d);
impl<T: Float> Op<T> for Im2col {
    fn name(&self) -> &'static str {
        "im2col"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let batch = x[0].shape()[0];
        let (rows, cols) = (self.0.column_rows(), self.0.column_cols());
        let mut out = vec![T::zero(); batch * rows * cols];
        im2col_batch(&self.0, &contiguous(x[0]), &mut out);
        Tensor::from_vec(&[batch, rows, cols], out)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.col2im(self.0))]
    }
}

/// `[N, C * kh * kw, out_h * out_w] -> [N, C, H, W]`, adding overlapping taps.
struct Col2im(Window2d);
impl<T: Float> Op<T> for Col2im {
    fn name(&self) -> &'static str {
        "col2im"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let batch = x[0].shape()[0];
        let mut out = vec![T::zero(); batch * self.0.input_len()];
        col2im_batch(&self.0, &contiguous(x[0]), &mut out);
        Tensor::from_vec(&[batch, self.0.channels, self.0.input.0, self.0.input.1], out)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.im2col(self.0))]
    }
}

/// `[N, C, H, W] -> [C * kh * kw, N * out_h * out_w]`, image `i`'s columns at `i * out_h * out_w..`.
struct Im2colWide(Window2d);
impl<T: Float> Op<T> for Im2colWide {
    fn name(&self) -> &'static str {
        "im2col_wide"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let batch = x[0].shape()[0];
        let (rows, cols) = (self.0.column_rows(), batch * self.0.column_cols());
        let mut out = vec![T::zero(); rows * cols];
        im2col_wide(&self.0, &contiguous(x[0]), &mut out);
        Tensor::from_vec(&[rows, cols], out)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.col2im_wide(self.0))]
    }
}

struct Col2imWide(Window2d);
impl<T: Float> Op<T> for Col2imWide {
    fn name(&self) -> &'static str {
        "col2im_wide"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let batch = x[0].shape()[1] / self.0.column_cols().max(1);
        let mut out = vec![T::zero(); batch * self.0.input_len()];
        col2im_wide(&self.0, &contiguous(x[0]), &mut out);
        Tensor::from_vec(&[batch, self.0.channels, self.0.input.0, self.0.input.1], out)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.im2col_wide(self.0))]
    }
}

/// The elements in row-major order, borrowed when already laid out so.
pub(super) fn contiguous<T: Float>(t: &Tensor<T>) -> std::borrow::Cow<'_, [T]> {
    match t.array().as_slice() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(t.to_vec()),
    }
}

impl<'t, T: Float> Var<'t, T> {
    fn window_for(self, op: &str, window: &Window2d) {
        let shape = self.shape();
        let expected = [window.channels, window.input.0, window.input.1];
        assert!(
            shape.len() == 4 && shape[1..] == expected,
            "{op}: input of shape {shape:?} does not match the window's [N, {}, {}, {}]",
            expected[0],
            expected[1],
            expected[2]
        );
    }

    /// Every receptive field of an NCHW batch as a column: `[N, C*kh*kw, out_h*out_w]`. The
    /// adjoint of [`Var::col2im`].
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor, Window2d};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[1, 1, 3, 3], (0..9).map(f64::from).collect()));
    /// let window = Window2d::new(1, (3, 3), (2, 2), (1, 1), (0, 0)); // 2x2 kernel, stride 1
    /// let cols = x.im2col(window);
    /// assert_eq!(cols.shape(), vec![1, 4, 4]);
    /// // Row (ki, kj), column (oh, ow) holds x[oh + ki, ow + kj].
    /// assert_eq!(cols.value().to_vec(), vec![
    ///     0.0, 1.0, 3.0, 4.0,
    ///     1.0, 2.0, 4.0, 5.0,
    ///     3.0, 4.0, 6.0, 7.0,
    ///     4.0, 5.0, 7.0, 8.0,
    /// ]);
    /// // The gradient (through col2im) counts the windows each pixel is in.
    /// let g = tape.grad(cols.sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
    /// ```
    pub fn im2col(self, window: Window2d) -> Self {
        self.window_for("im2col", &window);
        self.tape.apply(Im2col(window), &[self])
    }

    /// The receptive fields of an NCHW batch as one wide column matrix
    /// `[C*kh*kw, N*out_h*out_w]`, image `i`'s columns at `i*out_h*out_w..`: a convolution of
    /// the batch is then one 2-D product. The adjoint of [`Var::col2im_wide`].
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor, Window2d};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 1, 3, 3], (0..18).map(f64::from).collect()));
    /// let window = Window2d::new(1, (3, 3), (2, 2), (1, 1), (0, 0));
    /// let wide = x.im2col_wide(window);
    /// assert_eq!(wide.shape(), vec![4, 8]); // [C * 2 * 2, N * 2 * 2]
    /// // Row 0 (tap (0, 0)): image 0's four windows, then image 1's, whose pixels are 9 more.
    /// assert_eq!(wide.value().to_vec()[..8], [0.0, 1.0, 3.0, 4.0, 9.0, 10.0, 12.0, 13.0]);
    /// ```
    pub fn im2col_wide(self, window: Window2d) -> Self {
        self.window_for("im2col_wide", &window);
        self.tape.apply(Im2colWide(window), &[self])
    }

    /// Adds a wide column matrix `[C*kh*kw, N*out_h*out_w]` back into N images. The adjoint
    /// of [`Var::im2col_wide`].
    ///
    /// # Panics
    /// If the shape does not match the window.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor, Window2d};
    ///
    /// let tape = Tape::<f64>::new();
    /// let window = Window2d::new(1, (3, 3), (2, 2), (1, 1), (0, 0));
    /// let cols = tape.var(Tensor::ones(&[4, 8])); // two images' worth of columns
    /// let images = cols.col2im_wide(window);
    /// assert_eq!(images.shape(), vec![2, 1, 3, 3]);
    /// // Each pixel receives one 1 per window that covers it.
    /// let per_image = [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0];
    /// assert_eq!(images.value().to_vec(), [per_image, per_image].concat());
    /// ```
    pub fn col2im_wide(self, window: Window2d) -> Self {
        let shape = self.shape();
        let per = window.column_cols();
        let valid = shape.len() == 2 && shape[0] == window.column_rows() && per > 0 && shape[1].is_multiple_of(per);
        assert!(
            valid,
            "col2im_wide: columns of shape {shape:?} do not match the window's [{}, N * {per}]",
            window.column_rows()
        );
        self.tape.apply(Col2imWide(window), &[self])
    }

    /// Adds columns `[N, C*kh*kw, out_h*out_w]` back into NCHW images. The adjoint of
    /// [`Var::im2col`].
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor, Window2d};
    ///
    /// let tape = Tape::<f64>::new();
    /// let window = Window2d::new(1, (3, 3), (2, 2), (1, 1), (0, 0));
    /// let cols = tape.var(Tensor::ones(&[1, 4, 4])); // [N, 1 * 2 * 2, 2 * 2]
    /// let image = cols.col2im(window);
    /// assert_eq!(image.shape(), vec![1, 1, 3, 3]);
    /// // Overlapping taps add: the centre pixel is in all four windows.
    /// assert_eq!(image.value().to_vec(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
    /// ```
    pub fn col2im(self, window: Window2d) -> Self {
        let shape = self.shape();
        let valid = shape.len() == 3 && shape[1] == window.column_rows() && shape[2] == window.column_cols();
        assert!(
            valid,
            "col2im: columns of shape {shape:?} do not match the window's [N, {}, {}]",
            window.column_rows(),
            window.column_cols()
        );
        self.tape.apply(Col2im(window), &[self])
    }

    /// 2-D max-pooling of an NCHW batch: each window's largest value. The arg-max positions
    /// are found on the values and the output is a `gather` at them, so gradients route to
    /// the winners (at ties, the first in row-major order) at every order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[1, 1, 2, 4], vec![1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 6.0]));
    /// let y = x.max_pool2d((2, 2), (2, 2), (0, 0)); // two 2x2 windows side by side
    /// assert_eq!(y.shape(), vec![1, 1, 1, 2]);
    /// assert_eq!(y.value().to_vec(), vec![5.0, 8.0]);
    /// // The gradient goes to the winners only.
    /// let g = tape.grad(y.sum(), &[x])[0].to_vec();
    /// assert_eq!(g, vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    /// ```
    pub fn max_pool2d(self, kernel: (usize, usize), stride: (usize, usize), padding: (usize, usize)) -> Self {
        let shape = self.shape();
        assert!(shape.len() == 4, "max_pool2d: input of shape {shape:?} is not [N, C, H, W]");
        let (batch, channels, h, w) = (shape[0], shape[1], shape[2], shape[3]);
        let window = Window2d::new(channels, (h, w), kernel, stride, padding);
        let (out_h, out_w) = window.output();
        let value = self.value();
        let data = contiguous(&value);
        let per_image = channels * out_h * out_w;
        // Each image's winners, in parallel over the batch when it is large.
        let (mut maxima, mut argmax) = (vec![T::zero(); batch * per_image], vec![0usize; batch * per_image]);
        crate::parallel::fill_chunk_pairs(&mut maxima, &mut argmax, batch, |i, maxima, winners| {
            max_pool2d(&window, &data[i * window.input_len()..(i + 1) * window.input_len()], maxima, winners);
        });
        let index =
            ArrayD::from_shape_vec(vec![batch, channels, out_h * out_w], argmax).expect("sizes agree").into_shared();
        // The kernel found the maxima with their positions: the gather records them as its
        // output rather than picking them out again.
        let maxima = Tensor::from_vec(&[batch, channels, out_h * out_w], maxima);
        self.reshape(&[batch, channels, h * w])
            .gather_known(2, &index, maxima)
            .reshape(&[batch, channels, out_h, out_w])
    }
}
