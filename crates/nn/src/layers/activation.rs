//! Activations as modules (parameter-free, except PReLU's learned slope).

use crate::{Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};
use rand::rngs::StdRng;

/// A parameter-free elementwise activation.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Activation;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let relu = Activation::Relu;
/// let params: Params<f64> = relu.init(&mut StdRng::seed_from_u64(0));
/// assert!(params.is_empty());
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::from_vec(&[1, 4], vec![-2.0, -0.5, 0.0, 3.0]));
/// let y = relu.forward(&params.on(&tape), x, &mut Context::eval(Params::new()));
/// assert_eq!(y.value().to_vec(), vec![0.0, 0.0, 0.0, 3.0]);
/// // A leaky ReLU scales the negative part by its slope: -2 * 0.1 and -0.5 * 0.1.
/// let leaky = Activation::LeakyRelu(0.1).apply(x).value().to_vec();
/// assert!((leaky[0] + 0.2).abs() < 1e-12 && (leaky[1] + 0.05).abs() < 1e-12 && leaky[3] == 3.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x` or `slope x`.
    LeakyRelu(f64),
    /// `x` or `alpha (e^x - 1)`.
    Elu(f64),
    /// GELU (tanh form).
    Gelu,
    /// `x sigmoid(x)`.
    Silu,
    /// Logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `ln(1 + e^x)`.
    Softplus,
}

impl Activation {
    /// Applies the activation.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Activation;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::zeros(&[2]));
    /// let y = Activation::Sigmoid.apply(x);
    /// assert_eq!(y.value().to_vec(), vec![0.5, 0.5]);
    /// // sigmoid' = s (1 - s) = 0.25 at 0.
    /// assert!(tape.grad(y.sum(), &[x])[0].to_vec().iter().all(|g| (g - 0.25).abs() < 1e-12));
    /// // ln(1 + e^0) = ln 2.
    /// assert!((Activation::Softplus.apply(x).value().to_vec()[0] - 2f64.ln()).abs() < 1e-12);
    /// ```
    pub fn apply<'t, T: Float>(self, x: Var<'t, T>) -> Var<'t, T> {
        match self {
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(slope) => x.leaky_relu(T::of(slope)),
            Activation::Elu(alpha) => x.elu(T::of(alpha)),
            Activation::Gelu => x.gelu(),
            Activation::Silu => x.silu(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Softplus => x.softplus(),
        }
    }
}

impl<T: Float> Module<T> for Activation {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::new()
    }
    fn forward<'t>(&self, _: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        self.apply(x)
    }
}

/// PReLU (He et al. 2015): `x` for `x > 0`, `a x` otherwise, with one learned slope `a` per
/// channel (axis 1), initialised to 0.25.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::PRelu;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let prelu = PRelu { channels: 2 };
/// let params: Params<f64> = prelu.init(&mut StdRng::seed_from_u64(0));
/// assert_eq!(params.get("slope").unwrap().to_vec(), vec![0.25, 0.25]);
/// let tape = Tape::new();
/// let p = params.on(&tape);
/// // Rows are samples, columns the two channels.
/// let x = tape.constant(Tensor::from_vec(&[2, 2], vec![-4.0, 2.0, 1.0, -8.0]));
/// let y = prelu.forward(&p, x, &mut Context::eval(Params::new()));
/// assert_eq!(y.value().to_vec(), vec![-1.0, 2.0, 1.0, -2.0]); // 0.25 x below zero
/// // d sum(y) / d slope[c] is the sum of channel c's negative inputs.
/// assert_eq!(p.grad(y.sum()).get("slope").unwrap().to_vec(), vec![-4.0, -8.0]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PRelu {
    /// Channels (size of axis 1).
    pub channels: usize,
}

impl<T: Float> Module<T> for PRelu {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::from_pairs([("slope".to_string(), Tensor::full(&[self.channels], T::of(0.25)))])
    }
    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let mut shape = vec![1; x.ndim()];
        shape[1] = self.channels;
        let slope = p.get("slope").reshape(&shape);
        // relu(x) - slope * relu(-x): both pieces differentiable, in x and in the slope.
        x.relu() - slope * (-x).relu()
    }
}
