//! 2-D convolution as three ops closed under differentiation.
//!
//! With `cols(x)` the column matrix of an NCHW batch (`im2col_wide`) and `W` the weight as a
//! `[c_out, C * kh * kw]` matrix, the three ops are
//!
//! ```text
//! conv2d(x, W)            y  = W cols(x)           [N, C_out, out_h, out_w]
//! conv2d_input_grad(W, g) dx = col2im(W^T g)       [N, C, H, W]
//! conv2d_weight_grad(x, g) dW = g cols(x)^T         [C_out, C, kh, kw]
//! ```
//!
//! Each is linear in each of its two inputs, and the VJPs of each are the other two:
//!
//! ```text
//! conv2d(x, W), cotangent g:            x <- conv2d_input_grad(W, g)   W <- conv2d_weight_grad(x, g)
//! conv2d_input_grad(W, g), cotangent h: W <- conv2d_weight_grad(h, g)  g <- conv2d(h, W)
//! conv2d_weight_grad(x, g), cotangent H: x <- conv2d_input_grad(H, g)  g <- conv2d(x, H)
//! ```
//!
//! (for the second: `<h, col2im(W^T g)> = <cols(h), W^T g> = <W, g cols(h)^T>` and
//! `= <W cols(h), g>`; the third is the same identity read the other way). So gradients of
//! every order go through these three ops, and the kernels behind them
//! (`metagrad_kernels::conv2d_forward` and its two gradients) never build the whole batch's
//! column matrix: they work a block of images at a time, in cache. The composition
//! `im2col_wide`, `matmul`, `permute` computes the same function; `tests/conv2d.rs` checks
//! that they agree at every order.

use super::conv::contiguous;
use crate::{Float, Grads, Op, Tensor, Var};
use metagrad_kernels::{conv2d_forward, conv2d_input_grad, conv2d_weight_grad, Window2d};

/// `[N, C, H, W], [C_out, C, kh, kw] -> [N, C_out, out_h, out_w]`.
struct Conv2d(Window2d);
impl<T: Float> Op<T> for Conv2d {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let (batch, c_out) = (x[0].shape()[0], x[1].shape()[0]);
        let (out_h, out_w) = self.0.output();
        let mut out = vec![T::zero(); batch * c_out * out_h * out_w];
        conv2d_forward(&self.0, &contiguous(x[0]), &contiguous(x[1]), c_out, &mut out);
        Tensor::from_vec(&[batch, c_out, out_h, out_w], out)
    }
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (x, w) = (inputs[0], inputs[1]);
        vec![wants[0].then(|| conv_input_grad(w, g, self.0)), wants[1].then(|| conv_weight_grad(x, g, self.0))]
    }
}

/// `[C_out, C, kh, kw], [N, C_out, out_h, out_w] -> [N, C, H, W]`.
struct Conv2dInputGrad(Window2d);
impl<T: Float> Op<T> for Conv2dInputGrad {
    fn name(&self) -> &'static str {
        "conv2d_input_grad"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let (c_out, batch) = (x[0].shape()[0], x[1].shape()[0]);
        let mut out = vec![T::zero(); batch * self.0.input_len()];
        conv2d_input_grad(&self.0, &contiguous(x[0]), c_out, &contiguous(x[1]), &mut out);
        Tensor::from_vec(&[batch, self.0.channels, self.0.input.0, self.0.input.1], out)
    }
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], _: Var<'t, T>, h: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (w, g) = (inputs[0], inputs[1]);
        vec![wants[0].then(|| conv_weight_grad(h, g, self.0)), wants[1].then(|| h.tape.apply(Conv2d(self.0), &[h, w]))]
    }
}

/// `[N, C, H, W], [N, C_out, out_h, out_w] -> [C_out, C, kh, kw]`.
struct Conv2dWeightGrad(Window2d);
impl<T: Float> Op<T> for Conv2dWeightGrad {
    fn name(&self) -> &'static str {
        "conv2d_weight_grad"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let c_out = x[1].shape()[1];
        let mut out = vec![T::zero(); c_out * self.0.column_rows()];
        conv2d_weight_grad(&self.0, &contiguous(x[0]), &contiguous(x[1]), c_out, &mut out);
        Tensor::from_vec(&[c_out, self.0.channels, self.0.kernel.0, self.0.kernel.1], out)
    }
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], _: Var<'t, T>, h: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (x, g) = (inputs[0], inputs[1]);
        vec![wants[0].then(|| conv_input_grad(h, g, self.0)), wants[1].then(|| x.tape.apply(Conv2d(self.0), &[x, h]))]
    }
}

fn conv_input_grad<'t, T: Float>(w: Var<'t, T>, g: Var<'t, T>, window: Window2d) -> Var<'t, T> {
    w.tape.apply(Conv2dInputGrad(window), &[w, g])
}

fn conv_weight_grad<'t, T: Float>(x: Var<'t, T>, g: Var<'t, T>, window: Window2d) -> Var<'t, T> {
    x.tape.apply(Conv2dWeightGrad(window), &[x, g])
}

impl<'t, T: Float> Var<'t, T> {
    /// 2-D convolution (cross-correlation, as in deep learning) of an NCHW batch with
    /// `weight` of shape `[C_out, C, kh, kw]`: `W cols(x)`, with `cols` as in
    /// [`Var::im2col_wide`], computed a block of images at a time (see the module docs).
    ///
    /// # Panics
    /// If the input is not 4-D or its channels differ from the weight's.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[1, 1, 3, 3], (0..9).map(f64::from).collect()));
    /// let w = tape.var(Tensor::from_vec(&[1, 1, 2, 2], vec![1.0, 0.0, 0.0, 1.0]));
    /// let y = x.conv2d(w, (1, 1), (0, 0), (1, 1));
    /// assert_eq!(y.shape(), vec![1, 1, 2, 2]);
    /// assert_eq!(y.value().to_vec(), vec![4.0, 6.0, 10.0, 12.0]); // x[i, j] + x[i + 1, j + 1]
    /// // d sum(y) / d w[ki, kj] adds up the four pixels that tap sees.
    /// assert_eq!(tape.grad(y.sum(), &[w])[0].to_vec(), vec![8.0, 12.0, 20.0, 24.0]);
    /// ```
    pub fn conv2d(
        self,
        weight: Self,
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
    ) -> Self {
        let (x_shape, w_shape) = (self.shape(), weight.shape());
        assert!(
            x_shape.len() == 4 && w_shape.len() == 4 && x_shape[1] == w_shape[1],
            "conv2d: input {x_shape:?} and weight {w_shape:?} do not match; need [N, C, H, W] and [C_out, C, kh, kw]"
        );
        let window = Window2d {
            channels: x_shape[1],
            input: (x_shape[2], x_shape[3]),
            kernel: (w_shape[2], w_shape[3]),
            stride,
            padding,
            dilation,
        };
        self.tape.apply(Conv2d(window), &[self, weight])
    }
}
