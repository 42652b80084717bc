//! 2-D convolution on NCHW batches: `im2col`, one matrix product, and a per-channel bias.

use crate::{init, Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Var};
use rand::rngs::StdRng;

/// A 2-D convolution with weight `[outputs, inputs, kh, kw]` and bias `[outputs]`.
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Conv2d;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::SeedableRng;
///
/// let conv = Conv2d::new(1, 8, 3, 1); // 3x3, padding 1: the size is kept
/// let params: Params<f32> = conv.init(&mut rand::rngs::StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::zeros(&[2, 1, 28, 28]));
/// let y = conv.forward(&params.on(&tape), x, &mut Context::train(Params::new(), 0));
/// assert_eq!(y.shape(), vec![2, 8, 28, 28]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Conv2d {
    /// Input channels.
    pub inputs: usize,
    /// Output channels.
    pub outputs: usize,
    /// Kernel height and width.
    pub kernel: (usize, usize),
    /// Stride.
    pub stride: (usize, usize),
    /// Zero padding on each side.
    pub padding: (usize, usize),
    /// Dilation.
    pub dilation: (usize, usize),
    /// Whether to add a bias.
    pub bias: bool,
}

impl Conv2d {
    /// A square `k x k` convolution with stride 1, the given padding, and a bias.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Conv2d;
    /// use metagrad_nn::{Context, Module, Params};
    ///
    /// let conv = Conv2d::new(1, 1, 3, 1);
    /// assert_eq!((conv.stride, conv.padding, conv.bias), ((1, 1), (1, 1), true));
    /// // An all-ones 3x3 kernel on an all-ones image counts each pixel's in-bounds neighbourhood.
    /// let params = Params::from_pairs([
    ///     ("weight".to_string(), Tensor::ones(&[1, 1, 3, 3])),
    ///     ("bias".to_string(), Tensor::zeros(&[1])),
    /// ]);
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(Tensor::ones(&[1, 1, 3, 3]));
    /// let y = conv.forward(&params.on(&tape), x, &mut Context::eval(Params::new()));
    /// assert_eq!(y.value().to_vec(), vec![4.0, 6.0, 4.0, 6.0, 9.0, 6.0, 4.0, 6.0, 4.0]);
    /// ```
    pub fn new(inputs: usize, outputs: usize, k: usize, padding: usize) -> Self {
        Conv2d {
            inputs,
            outputs,
            kernel: (k, k),
            stride: (1, 1),
            padding: (padding, padding),
            dilation: (1, 1),
            bias: true,
        }
    }
}

impl<T: Float> Module<T> for Conv2d {
    /// Kaiming uniform with gain 1/sqrt(3) over `fan_in = inputs * kh * kw`; bias likewise.
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let fan_in = self.inputs * self.kernel.0 * self.kernel.1;
        let gain = (1.0f64 / 3.0).sqrt();
        let mut p = Params::new();
        p.insert(
            "weight",
            init::kaiming_uniform(&[self.outputs, self.inputs, self.kernel.0, self.kernel.1], fan_in, gain, rng),
        );
        if self.bias {
            p.insert("bias", init::kaiming_uniform(&[self.outputs], fan_in, gain, rng));
        }
        p
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let y = x.conv2d(p.get("weight"), self.stride, self.padding, self.dilation);
        if self.bias {
            y + p.get("bias").reshape(&[1, self.outputs, 1, 1])
        } else {
            y
        }
    }
}
