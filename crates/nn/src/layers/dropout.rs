//! Dropout (Srivastava et al. 2014) and embeddings.

use crate::{Context, Mode, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};
use rand::rngs::StdRng;
use rand::Rng;

/// In training, zeroes each element with probability `p` and scales the rest by `1 / (1 - p)`,
/// with masks drawn from the context's seeded generator; in evaluation, the identity.
#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    /// Probability of dropping an element, in `[0, 1)`.
    pub p: f64,
}

impl<T: Float> Module<T> for Dropout {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::new()
    }
    fn forward<'t>(&self, _: &ParamVars<'t, T>, x: Var<'t, T>, ctx: &mut Context<T>) -> Var<'t, T> {
        assert!((0.0..1.0).contains(&self.p), "Dropout: p = {} is not in [0, 1)", self.p);
        if ctx.mode == Mode::Eval || self.p == 0.0 {
            return x;
        }
        let keep = T::of(1.0 / (1.0 - self.p));
        let mask: Vec<T> = (0..x.len()).map(|_| if ctx.rng.gen::<f64>() < self.p { T::zero() } else { keep }).collect();
        x * x.constant(Tensor::from_vec(&x.shape(), mask))
    }
}

/// A table of `count` vectors of size `dim`, looked up by index (`weight ~ N(0, 1)`).
#[derive(Clone, Copy, Debug)]
pub struct Embedding {
    /// Number of entries.
    pub count: usize,
    /// Size of each vector.
    pub dim: usize,
}

impl Embedding {
    /// Fresh weights `[count, dim]`.
    pub fn init<T: Float>(&self, rng: &mut StdRng) -> Params<T> {
        Params::from_pairs([("weight".to_string(), Tensor::randn(&[self.count, self.dim], rng))])
    }

    /// The vectors of `indices`, `[indices.len(), dim]`; gradients scatter back into the rows
    /// (index_select is a gather, whose adjoint is scatter-add).
    pub fn lookup<'t, T: Float>(&self, p: &ParamVars<'t, T>, indices: &[usize]) -> Var<'t, T> {
        p.get("weight").index_select(0, indices)
    }
}
