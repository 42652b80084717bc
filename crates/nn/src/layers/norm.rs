//! Normalisation: batch-norm (Ioffe & Szegedy 2015) and layer-norm (Ba et al. 2016), written
//! with differentiable ops so that MAML can differentiate through them to any order (batch
//! statistics through the fused `standardize_channels`, whose VJP is itself differentiable).

use crate::{Context, Mode, Module, ParamVars, Params};
use metagrad_autodiff::{channel_moments, Float, Tensor, Var};
use rand::rngs::StdRng;

/// Batch normalisation over `[N, C]` or `[N, C, H, W]`, per channel:
/// `y = gamma (x - mean) / sqrt(var + eps) + beta`.
///
/// Training uses the batch's mean and (biased) variance and updates running estimates,
/// `running = (1 - momentum) running + momentum batch` (with the unbiased variance);
/// evaluation uses the running estimates. A transductive [`Context`] uses batch statistics in
/// both modes and leaves the running estimates alone, as MAML does.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::BatchNorm;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let bn = BatchNorm::new(2);
/// let params: Params<f64> = bn.init(&mut StdRng::seed_from_u64(0));
/// let mut ctx = Context::train(bn.init_state(), 0);
/// let tape = Tape::new();
/// // Four samples of two channels; channel 1 is ten times channel 0.
/// let x = tape.constant(Tensor::from_vec(&[4, 2], vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0]));
/// let y = bn.forward(&params.on(&tape), x, &mut ctx).value().to_vec();
/// // Both channels become [-3, -1, 1, 3] / sqrt(5): mean 0, variance 1.
/// for c in 0..2 {
///     let column: Vec<f64> = y.iter().skip(c).step_by(2).copied().collect();
///     assert!(column.iter().zip([-3.0, -1.0, 1.0, 3.0]).all(|(v, e)| (v - e / 5f64.sqrt()).abs() < 1e-4));
/// }
/// // The running means moved a tenth of the way from 0 to the batch means 2.5 and 25.
/// let running = ctx.state.get("running_mean").unwrap().to_vec();
/// assert!((running[0] - 0.25).abs() < 1e-12 && (running[1] - 2.5).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BatchNorm {
    /// Channels (size of axis 1).
    pub channels: usize,
    /// Added to the variance.
    pub eps: f64,
    /// Weight of the newest batch in the running estimates.
    pub momentum: f64,
}

impl BatchNorm {
    /// `eps = 1e-5`, `momentum = 0.1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::layers::BatchNorm;
    /// use metagrad_nn::{Module, Params};
    ///
    /// let bn = BatchNorm::new(3);
    /// assert_eq!((bn.channels, bn.eps, bn.momentum), (3, 1e-5, 0.1));
    /// // Fresh state: running mean 0 and variance 1 in every channel.
    /// let state: Params<f32> = bn.init_state();
    /// assert_eq!(state.get("running_mean").unwrap().to_vec(), vec![0.0; 3]);
    /// assert_eq!(state.get("running_var").unwrap().to_vec(), vec![1.0; 3]);
    /// ```
    pub fn new(channels: usize) -> Self {
        BatchNorm { channels, eps: 1e-5, momentum: 0.1 }
    }
}

impl<T: Float> Module<T> for BatchNorm {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::from_pairs([
            ("weight".to_string(), Tensor::ones(&[self.channels])),
            ("bias".to_string(), Tensor::zeros(&[self.channels])),
        ])
    }

    fn init_state(&self) -> Params<T> {
        Params::from_pairs([
            ("running_mean".to_string(), Tensor::zeros(&[self.channels])),
            ("running_var".to_string(), Tensor::ones(&[self.channels])),
        ])
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, ctx: &mut Context<T>) -> Var<'t, T> {
        let shape = x.shape();
        assert!(
            (shape.len() == 2 || shape.len() == 4) && shape[1] == self.channels,
            "BatchNorm({}): input of shape {shape:?} is not [N, C] or [N, C, H, W] with C = {}",
            self.channels,
            self.channels
        );
        let mut channel_shape = vec![1; shape.len()];
        channel_shape[1] = self.channels;
        let (mean_key, var_key) = (p.full_name("running_mean"), p.full_name("running_var"));
        let normalised = if ctx.mode == Mode::Train || ctx.transductive {
            if ctx.mode == Mode::Train && !ctx.transductive {
                let (mean, var) = channel_moments(&x.value());
                let count = x.len() / self.channels;
                let unbiased = T::of(count as f64 / (count.max(2) - 1) as f64);
                let m = T::of(self.momentum);
                let mut update = |key: &str, batch: Tensor<T>, scale: T, default: T| {
                    let old = ctx.state.get(key).cloned().unwrap_or_else(|| Tensor::full(&[self.channels], default));
                    let new = old.zip_map(&batch, |o, b| (T::one() - m) * o + m * b * scale);
                    ctx.state.insert(key, new);
                };
                update(&mean_key, mean, T::one(), T::zero());
                update(&var_key, var, unbiased, T::one());
            }
            // One fused op, forward and back; the same function as the composition below.
            x.standardize_channels(self.eps)
        } else {
            let running = |key: &str| {
                let t = ctx.state.get(key).unwrap_or_else(|| {
                    panic!(
                        "BatchNorm: no running statistic `{key}` in the context's state; start from Module::init_state"
                    )
                });
                x.constant(Tensor::from_vec(&channel_shape, t.to_vec()))
            };
            (x - running(&mean_key)) / (running(&var_key) + T::of(self.eps)).sqrt()
        };
        // One fused op, the same values as the broadcast `mul` and `add`.
        normalised.scale_shift_channels(p.get("weight"), p.get("bias"))
    }
}

/// Layer normalisation over the trailing axes given by `shape`, with a learned scale and shift of that shape.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::LayerNorm;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let norm = LayerNorm::new(&[4]);
/// let params: Params<f64> = norm.init(&mut StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::from_vec(&[2, 4], vec![1.0, 2.0, 3.0, 4.0, -5.0, 0.0, 5.0, 100.0]));
/// let y = norm.forward(&params.on(&tape), x, &mut Context::eval(Params::new())).value().to_vec();
/// // Each row on its own: mean 0 and variance 1 (up to eps).
/// for row in y.chunks(4) {
///     let mean = row.iter().sum::<f64>() / 4.0;
///     let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
///     assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-4);
/// }
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm {
    /// The normalised trailing shape.
    pub shape: Vec<usize>,
    /// Added to the variance.
    pub eps: f64,
}

impl LayerNorm {
    /// Normalises over trailing axes of the given shape, `eps = 1e-5`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::LayerNorm;
    /// use metagrad_nn::{Context, Module, Params};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let norm = LayerNorm::new(&[2, 2]);
    /// assert_eq!((norm.shape.as_slice(), norm.eps), (&[2, 2][..], 1e-5));
    /// // The last two axes together: the map [0, 0, 0, 4] has mean 1 and variance 3.
    /// let params: Params<f64> = norm.init(&mut StdRng::seed_from_u64(0));
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from_vec(&[1, 2, 2], vec![0.0, 0.0, 0.0, 4.0]));
    /// let y = norm.forward(&params.on(&tape), x, &mut Context::eval(Params::new())).value().to_vec();
    /// assert!((y[0] + 1.0 / 3f64.sqrt()).abs() < 1e-5 && (y[3] - 3f64.sqrt()).abs() < 1e-5);
    /// ```
    pub fn new(shape: &[usize]) -> Self {
        LayerNorm { shape: shape.to_vec(), eps: 1e-5 }
    }
}

impl<T: Float> Module<T> for LayerNorm {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::from_pairs([
            ("weight".to_string(), Tensor::ones(&self.shape)),
            ("bias".to_string(), Tensor::zeros(&self.shape)),
        ])
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let s = x.shape();
        assert!(s.ends_with(&self.shape), "LayerNorm: input of shape {s:?} does not end with {:?}", self.shape);
        let axes: Vec<usize> = (s.len() - self.shape.len()..s.len()).collect();
        let mean = x.mean_axes(&axes, true);
        let var = (x - mean).square().mean_axes(&axes, true);
        (x - mean) / (var + T::of(self.eps)).sqrt() * p.get("weight") + p.get("bias")
    }
}
