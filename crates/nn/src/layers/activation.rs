//! Activations as modules (parameter-free, except PReLU's learned slope).

use crate::{Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};
use rand::rngs::StdRng;

/// A parameter-free elementwise activation.
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
