//! Transposed convolution, nearest upsampling, and a residual block.

use crate::layers::{Activation, BatchNorm, Conv2d};
use crate::{init, Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Var, Window2d};
use rand::rngs::StdRng;

/// Transposed 2-D convolution with weight `[inputs, outputs, kh, kw]`: the adjoint of a
/// convolution's input map, built as one matrix product and `col2im`. Output size per axis:
/// `(in - 1) stride - 2 padding + dilation (k - 1) + 1`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::ConvTranspose2d;
/// use metagrad_nn::{Context, Module, Params};
///
/// let up =
///     ConvTranspose2d { inputs: 1, outputs: 1, kernel: (2, 2), stride: (2, 2), padding: (0, 0), dilation: (1, 1) };
/// // An all-ones 2x2 kernel with stride 2 copies each pixel into a 2x2 block.
/// let params = Params::from_pairs([
///     ("weight".to_string(), Tensor::ones(&[1, 1, 2, 2])),
///     ("bias".to_string(), Tensor::zeros(&[1])),
/// ]);
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(Tensor::from_vec(&[1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]));
/// let y = up.forward(&params.on(&tape), x, &mut Context::eval(Params::new()));
/// assert_eq!(y.shape(), vec![1, 1, 4, 4]); // (2 - 1) * 2 - 2 * 0 + 1 * (2 - 1) + 1 = 4
/// #[rustfmt::skip]
/// let expected = vec![
///     1.0, 1.0, 2.0, 2.0,
///     1.0, 1.0, 2.0, 2.0,
///     3.0, 3.0, 4.0, 4.0,
///     3.0, 3.0, 4.0, 4.0,
/// ];
/// assert_eq!(y.value().to_vec(), expected);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ConvTranspose2d {
    /// Input channels.
    pub inputs: usize,
    /// Output channels.
    pub outputs: usize,
    /// Kernel height and width.
    pub kernel: (usize, usize),
    /// Stride (the upsampling factor).
    pub stride: (usize, usize),
    /// Padding removed from each side of the output.
    pub padding: (usize, usize),
    /// Dilation.
    pub dilation: (usize, usize),
}

impl<T: Float> Module<T> for ConvTranspose2d {
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let fan_in = self.outputs * self.kernel.0 * self.kernel.1;
        let gain = (1.0f64 / 3.0).sqrt();
        let mut p = Params::new();
        p.insert(
            "weight",
            init::kaiming_uniform(&[self.inputs, self.outputs, self.kernel.0, self.kernel.1], fan_in, gain, rng),
        );
        p.insert("bias", init::kaiming_uniform(&[self.outputs], fan_in, gain, rng));
        p
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let s = x.shape();
        assert!(
            s.len() == 4 && s[1] == self.inputs,
            "ConvTranspose2d: input of shape {s:?} is not [N, {}, H, W]",
            self.inputs
        );
        let size = |input: usize, k: usize, stride: usize, pad: usize, dil: usize| {
            ((input - 1) * stride + dil * (k - 1) + 1).checked_sub(2 * pad)
        };
        let out = size(s[2], self.kernel.0, self.stride.0, self.padding.0, self.dilation.0)
            .zip(size(s[3], self.kernel.1, self.stride.1, self.padding.1, self.dilation.1))
            .unwrap_or_else(|| panic!("ConvTranspose2d: padding {:?} removes more than the output", self.padding));
        let window = Window2d {
            channels: self.outputs,
            input: out,
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
        };
        assert_eq!(window.output(), (s[2], s[3]), "ConvTranspose2d: inconsistent geometry");
        let taps = self.outputs * self.kernel.0 * self.kernel.1;
        let columns =
            p.get("weight").reshape(&[self.inputs, taps]).t().matmul(x.reshape(&[s[0], self.inputs, s[2] * s[3]]));
        columns.col2im(window) + p.get("bias").reshape(&[1, self.outputs, 1, 1])
    }
}

/// Nearest-neighbour upsampling of NCHW by integer factors (each pixel repeated).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Upsample;
/// use metagrad_nn::{Context, Module, Params};
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(&[1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]));
/// let y = Upsample { scale: (1, 3) }.forward(&Params::new().on(&tape), x, &mut Context::eval(Params::new()));
/// assert_eq!(y.shape(), vec![1, 1, 2, 6]);
/// assert_eq!(y.value().to_vec(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0]);
/// // Each pixel's gradient sums over its 3 copies.
/// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![3.0; 4]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Upsample {
    /// Vertical and horizontal factors.
    pub scale: (usize, usize),
}

impl<T: Float> Module<T> for Upsample {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::new()
    }
    fn forward<'t>(&self, _: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let s = x.shape();
        assert_eq!(s.len(), 4, "Upsample: input of shape {s:?} is not [N, C, H, W]");
        let rows: Vec<usize> = (0..s[2] * self.scale.0).map(|i| i / self.scale.0).collect();
        let cols: Vec<usize> = (0..s[3] * self.scale.1).map(|j| j / self.scale.1).collect();
        x.index_select(2, &rows).index_select(3, &cols)
    }
}

/// A residual block (He et al. 2016): `relu(x + BN(conv(relu(BN(conv(x))))))`, 3x3 convolutions
/// keeping the channel count and size.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Residual;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let block = Residual { channels: 2 };
/// let mut rng = StdRng::seed_from_u64(0);
/// let params: Params<f64> = block.init(&mut rng);
/// let names: Vec<&str> = params.names().collect();
/// assert_eq!(names, ["conv1.weight", "norm1.weight", "norm1.bias", "conv2.weight", "norm2.weight", "norm2.bias"]);
/// let mut ctx = Context::train(block.init_state(), 0);
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::randn(&[3, 2, 4, 4], &mut rng));
/// let y = block.forward(&params.on(&tape), x, &mut ctx);
/// // Channels and size are kept, and the final ReLU leaves nothing negative.
/// assert_eq!(y.shape(), vec![3, 2, 4, 4]);
/// assert!(y.value().to_vec().iter().all(|&v| v >= 0.0));
/// // Training moved both batch-norms' running statistics.
/// assert_eq!(ctx.state.len(), 4);
/// assert_ne!(ctx.state, block.init_state());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Residual {
    /// Channels in and out.
    pub channels: usize,
}

impl Residual {
    fn parts(&self) -> (Conv2d, BatchNorm) {
        (Conv2d { bias: false, ..Conv2d::new(self.channels, self.channels, 3, 1) }, BatchNorm::new(self.channels))
    }
}

impl<T: Float> Module<T> for Residual {
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let (conv, norm) = self.parts();
        let mut p = Params::new();
        for name in ["1", "2"] {
            p.extend_prefixed(&format!("conv{name}"), Module::<T>::init(&conv, rng));
            p.extend_prefixed(&format!("norm{name}"), Module::<T>::init(&norm, rng));
        }
        p
    }

    fn init_state(&self) -> Params<T> {
        let (_, norm) = self.parts();
        let mut state = Params::new();
        state.extend_prefixed("norm1", Module::<T>::init_state(&norm));
        state.extend_prefixed("norm2", Module::<T>::init_state(&norm));
        state
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, ctx: &mut Context<T>) -> Var<'t, T> {
        let (conv, norm) = self.parts();
        let h = norm.forward(&p.scoped("norm1"), conv.forward(&p.scoped("conv1"), x, ctx), ctx).relu();
        let h = norm.forward(&p.scoped("norm2"), conv.forward(&p.scoped("conv2"), h, ctx), ctx);
        Activation::Relu.apply(x + h)
    }
}
