//! Fully connected layer: `y = x W + b`, `W` of shape `[inputs, outputs]`.

use crate::{init, Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Var};
use rand::rngs::StdRng;

/// `y = x W + b` over the last axis of `x`.
#[derive(Clone, Copy, Debug)]
pub struct Linear {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    /// Whether to add a bias.
    pub bias: bool,
}

impl Linear {
    /// A layer with a bias.
    pub fn new(inputs: usize, outputs: usize) -> Self {
        Linear { inputs, outputs, bias: true }
    }
}

impl<T: Float> Module<T> for Linear {
    /// `W ~ U[-1/sqrt(inputs), 1/sqrt(inputs)]` (Kaiming uniform with gain 1/sqrt(3), the
    /// common default), bias likewise.
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let gain = (1.0f64 / 3.0).sqrt();
        let mut p = Params::new();
        p.insert("weight", init::kaiming_uniform(&[self.inputs, self.outputs], self.inputs, gain, rng));
        if self.bias {
            p.insert("bias", init::kaiming_uniform(&[self.outputs], self.inputs, gain, rng));
        }
        p
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let y = x.matmul(p.get("weight"));
        if self.bias {
            y + p.get("bias")
        } else {
            y
        }
    }
}
