//! A multilayer perceptron that can show its layers' inputs and pre-activations, which is what
//! per-example gradients need ([`super::importance`]).

use super::importance::{per_example_moments_batched, Classifier, ExampleLoss, Moment};
use metagrad_autodiff::{Float, Tensor, Var};
use metagrad_nn::layers::Linear;
use metagrad_nn::{Context, Module, ParamVars, Params};
use rand::rngs::StdRng;

/// `Linear -> ReLU -> ... -> Linear` through the given widths; inputs are flattened to
/// `[n, sizes[0]]`. Parameters are `"{k}.weight"` (`[in, out]`) and `"{k}.bias"` for layer
/// `k`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::Mlp;
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let params = Module::<f64>::init(&Mlp::new(&[4, 3, 2]), &mut StdRng::seed_from_u64(0));
/// // Two linear layers: weights [in, out] and biases, named by layer.
/// assert_eq!(params.names().collect::<Vec<_>>(), vec!["0.weight", "0.bias", "1.weight", "1.bias"]);
/// assert_eq!(params.get("1.weight").unwrap().shape(), &[3, 2]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mlp {
    /// Widths from input to output; at least two.
    pub sizes: Vec<usize>,
}

/// One layer's input and pre-activation during a forward pass.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::Mlp;
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mlp = Mlp::new(&[2, 3, 1]);
/// let params = Module::<f64>::init(&mlp, &mut StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let (_, taps) = mlp.forward_tapped(&params.on(&tape), tape.constant(Tensor::ones(&[5, 2])));
/// // The second layer's input is the first layer's pre-activation through the ReLU.
/// let relu: Vec<f64> = taps[0].output.value().to_vec().iter().map(|v| v.max(0.0)).collect();
/// assert_eq!(taps[1].layer, "1");
/// assert_eq!(taps[1].input.value().to_vec(), relu);
/// ```
pub struct Tap<'t, T: Float> {
    /// The layer's name prefix (`"0"`, `"1"`, ...).
    pub layer: String,
    /// `[n, in]`.
    pub input: Var<'t, T>,
    /// `[n, out]`: `input W + b`.
    pub output: Var<'t, T>,
}

impl Mlp {
    /// An MLP through `sizes` (e.g. `[784, 400, 400, 10]`).
    ///
    /// # Panics
    /// With fewer than two sizes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Mlp;
    ///
    /// let mlp = Mlp::new(&[784, 400, 400, 10]);
    /// assert_eq!(mlp.sizes.len() - 1, 3); // three linear layers
    /// ```
    pub fn new(sizes: &[usize]) -> Self {
        assert!(sizes.len() >= 2, "Mlp: needs input and output widths, got {sizes:?}");
        Mlp { sizes: sizes.to_vec() }
    }

    fn layer(&self, k: usize) -> Linear {
        Linear::new(self.sizes[k], self.sizes[k + 1])
    }

    /// The forward pass, with every layer's input and pre-activation.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Mlp;
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::{Context, Module, Params};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let mlp = Mlp::new(&[2, 3, 4]);
    /// let params = Module::<f64>::init(&mlp, &mut StdRng::seed_from_u64(0));
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// let x = tape.constant(Tensor::from_vec(&[1, 2], vec![0.5, -1.0]));
    /// let (out, taps) = mlp.forward_tapped(&p, x);
    /// // One tap per layer; the output is the last pre-activation, as `forward` gives it.
    /// assert_eq!(taps.iter().map(|t| t.output.shape()[1]).collect::<Vec<_>>(), vec![3, 4]);
    /// assert_eq!(out.value(), taps[1].output.value());
    /// assert_eq!(out.value(), mlp.forward(&p, x, &mut Context::eval(Params::new())).value());
    /// ```
    pub fn forward_tapped<'t, T: Float>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>) -> (Var<'t, T>, Vec<Tap<'t, T>>) {
        let n = x.shape()[0];
        let mut h = x.reshape(&[n, x.len() / n.max(1)]);
        let layers = self.sizes.len() - 1;
        let mut taps = Vec::with_capacity(layers);
        for k in 0..layers {
            let name = k.to_string();
            let z = self.layer(k).forward(&p.scoped(&name), h, &mut Context::eval(Params::new()));
            taps.push(Tap { layer: name, input: h, output: z });
            h = if k + 1 < layers { z.relu() } else { z };
        }
        (h, taps)
    }
}

impl<T: Float> Module<T> for Mlp {
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let mut p = Params::new();
        for k in 0..self.sizes.len() - 1 {
            p.extend_prefixed(&k.to_string(), Module::<T>::init(&self.layer(k), rng));
        }
        p
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        self.forward_tapped(p, x).0
    }
}

impl<T: Float> Classifier<T> for Mlp {
    /// One batched pass (see [`super::importance`]).
    fn per_example_moments(
        &self,
        params: &Params<T>,
        inputs: &Tensor<T>,
        loss: &ExampleLoss,
        moment: Moment,
    ) -> Params<T> {
        per_example_moments_batched(self, params, inputs, loss, moment)
    }
}
