//! Dropout (Srivastava et al. 2014) and embeddings.

use crate::{Context, Mode, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};
use rand::rngs::StdRng;
use rand::Rng;

/// In training, zeroes each element with probability `p` and scales the rest by `1 / (1 - p)`,
/// with masks drawn from the context's seeded generator; in evaluation, the identity.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Dropout;
/// use metagrad_nn::{Context, Module, Params};
///
/// let drop = Dropout { p: 0.5 };
/// let tape = Tape::<f64>::new();
/// let none = Params::new().on(&tape);
/// let x = tape.constant(Tensor::full(&[64], 3.0));
/// // Evaluation: the identity.
/// let y = drop.forward(&none, x, &mut Context::eval(Params::new()));
/// assert_eq!(y.value(), x.value());
/// // Training: each element is dropped (0) or kept and scaled by 1 / (1 - 0.5).
/// let y = drop.forward(&none, x, &mut Context::train(Params::new(), 0)).value().to_vec();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 6.0));
/// assert!(y.contains(&0.0) && y.contains(&6.0));
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tape;
/// use metagrad_nn::layers::Embedding;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let table = Embedding { count: 10, dim: 4 };
/// let params = table.init::<f64>(&mut StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let tokens = table.lookup(&params.on(&tape), &[3, 1, 4, 1]);
/// assert_eq!(tokens.shape(), vec![4, 4]);
/// // The same index, the same vector.
/// let rows = tokens.value().to_vec();
/// assert_eq!(rows[4..8], rows[12..16]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Embedding {
    /// Number of entries.
    pub count: usize,
    /// Size of each vector.
    pub dim: usize,
}

impl Embedding {
    /// Fresh weights `[count, dim]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::layers::Embedding;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let table = Embedding { count: 5, dim: 3 };
    /// let params = table.init::<f32>(&mut StdRng::seed_from_u64(1));
    /// assert_eq!(params.names().collect::<Vec<_>>(), vec!["weight"]);
    /// assert_eq!(params.get("weight").unwrap().shape(), &[5, 3]);
    /// // The same seed, the same table.
    /// assert_eq!(params, table.init(&mut StdRng::seed_from_u64(1)));
    /// ```
    pub fn init<T: Float>(&self, rng: &mut StdRng) -> Params<T> {
        Params::from_pairs([("weight".to_string(), Tensor::randn(&[self.count, self.dim], rng))])
    }

    /// The vectors of `indices`, `[indices.len(), dim]`; gradients scatter back into the rows
    /// (index_select is a gather, whose adjoint is scatter-add).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Embedding;
    /// use metagrad_nn::Params;
    ///
    /// let table = Embedding { count: 3, dim: 2 };
    /// let weight = Tensor::from_vec(&[3, 2], vec![0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0]);
    /// let params = Params::from_pairs([("weight".to_string(), weight)]);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// let v = table.lookup(&p, &[2, 0, 2]);
    /// assert_eq!(v.value().to_vec(), vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
    /// // Row 2 was used twice and row 1 never: the gradient counts the uses.
    /// assert_eq!(p.grad(v.sum()).get("weight").unwrap().to_vec(), vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
    /// ```
    pub fn lookup<'t, T: Float>(&self, p: &ParamVars<'t, T>, indices: &[usize]) -> Var<'t, T> {
        p.get("weight").index_select(0, indices)
    }
}
