//! Fully connected layer: `y = x W + b`, `W` of shape `[inputs, outputs]`.

use crate::{init, Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Var};
use rand::rngs::StdRng;

/// `y = x W + b` over the last axis of `x`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let layer = Linear::new(3, 2);
/// let params: Params<f64> = layer.init(&mut StdRng::seed_from_u64(0));
/// assert_eq!(params.get("weight").unwrap().shape(), &[3, 2]); // [inputs, outputs]
/// // The initial values lie within 1 / sqrt(inputs).
/// assert!(params.tensors().all(|t| t.to_vec().iter().all(|w| w.abs() <= 1.0 / 3f64.sqrt())));
/// let tape = Tape::new();
/// // Over the last axis: leading axes are kept.
/// let x = tape.constant(Tensor::zeros(&[4, 5, 3]));
/// let y = layer.forward(&params.on(&tape), x, &mut Context::eval(Params::new()));
/// assert_eq!(y.shape(), vec![4, 5, 2]);
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Context, Module, Params};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let layer = Linear::new(2, 1);
    /// let params = Params::from_pairs([
    ///     ("weight".to_string(), Tensor::from_vec(&[2, 1], vec![3.0f64, 4.0])),
    ///     ("bias".to_string(), Tensor::from_vec(&[1], vec![0.5])),
    /// ]);
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from_vec(&[1, 2], vec![1.0, 2.0]));
    /// let y = layer.forward(&params.on(&tape), x, &mut Context::eval(Params::new()));
    /// assert_eq!(y.value().to_vec(), vec![11.5]); // 1 * 3 + 2 * 4 + 0.5
    /// // Without the bias, the weight is the only parameter.
    /// let no_bias: Params<f64> = Linear { bias: false, ..layer }.init(&mut StdRng::seed_from_u64(0));
    /// assert_eq!(no_bias.names().collect::<Vec<_>>(), vec!["weight"]);
    /// ```
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
