//! Multi-head self-attention and a (pre-norm) transformer encoder block (Vaswani et al. 2017).
//!
//! `attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V` per head, with `Q = x W_q`, `K = x W_k`,
//! `V = x W_v` split into `heads` heads of width `d = dim / heads`, and the heads joined and
//! projected by `W_o`. The block is `x + MHA(LN(x))`, then `x + FFN(LN(x))` with a GELU MLP.

use crate::layers::{LayerNorm, Linear};
use crate::{Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Var};
use rand::rngs::StdRng;

/// Multi-head self-attention over `[N, T, dim]`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::MultiHeadAttention;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mha = MultiHeadAttention { dim: 4, heads: 2 };
/// let mut rng = StdRng::seed_from_u64(0);
/// let params: Params<f64> = mha.init(&mut rng);
/// assert_eq!(params.len(), 8); // weight and bias of the q, k, v and o projections
/// let tape = Tape::new();
/// let p = params.on(&tape);
/// let mut ctx = Context::eval(Params::new());
/// let x = tape.constant(Tensor::randn(&[1, 3, 4], &mut rng)); // [N, T, dim]
/// let y = mha.forward(&p, x, &mut ctx);
/// assert_eq!(y.shape(), vec![1, 3, 4]);
/// // Without positions, reordering the tokens reorders the outputs the same way.
/// let reversed = mha.forward(&p, x.index_select(1, &[2, 1, 0]), &mut ctx);
/// assert!(reversed.value().max_abs_diff(&y.index_select(1, &[2, 1, 0]).value()) < 1e-12);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MultiHeadAttention {
    /// Model width.
    pub dim: usize,
    /// Heads (must divide `dim`).
    pub heads: usize,
}

impl<T: Float> Module<T> for MultiHeadAttention {
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        assert_eq!(
            self.dim % self.heads,
            0,
            "MultiHeadAttention: {} heads do not divide width {}",
            self.heads,
            self.dim
        );
        let mut p = Params::new();
        for name in ["q", "k", "v", "o"] {
            p.extend_prefixed(name, Module::<T>::init(&Linear::new(self.dim, self.dim), rng));
        }
        p
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, ctx: &mut Context<T>) -> Var<'t, T> {
        let s = x.shape();
        assert!(
            s.len() == 3 && s[2] == self.dim,
            "MultiHeadAttention: input of shape {s:?} is not [N, T, {}]",
            self.dim
        );
        let (n, t, d) = (s[0], s[1], self.dim / self.heads);
        let linear = Linear::new(self.dim, self.dim);
        // [N, T, dim] -> [N, heads, T, d]
        let split = |v: Var<'t, T>| v.reshape(&[n, t, self.heads, d]).permute(&[0, 2, 1, 3]);
        let q = split(linear.forward(&p.scoped("q"), x, ctx));
        let k = split(linear.forward(&p.scoped("k"), x, ctx));
        let v = split(linear.forward(&p.scoped("v"), x, ctx));
        let weights = (q.matmul(k.t()) * T::of(1.0 / (d as f64).sqrt())).softmax(3);
        let joined = weights.matmul(v).permute(&[0, 2, 1, 3]).reshape(&[n, t, self.dim]);
        linear.forward(&p.scoped("o"), joined, ctx)
    }
}

/// A pre-norm transformer encoder block over `[N, T, dim]`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::TransformerBlock;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let block = TransformerBlock { dim: 4, heads: 2, hidden: 8 };
/// let mut rng = StdRng::seed_from_u64(0);
/// let params: Params<f64> = block.init(&mut rng);
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::randn(&[2, 3, 4], &mut rng));
/// let mut ctx = Context::eval(Params::new());
/// assert_eq!(block.forward(&params.on(&tape), x, &mut ctx).shape(), vec![2, 3, 4]);
/// // With the output projections of both residual branches zeroed, the block is the identity.
/// let silent = Params::from_pairs(params.iter().map(|(name, t)| {
///     let zero = name.starts_with("attention.o.") || name.starts_with("down.");
///     (name.to_string(), if zero { t.map(|_| 0.0) } else { t.clone() })
/// }));
/// assert_eq!(block.forward(&silent.on(&tape), x, &mut ctx).value(), x.value());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TransformerBlock {
    /// Model width.
    pub dim: usize,
    /// Attention heads.
    pub heads: usize,
    /// Hidden width of the feed-forward part.
    pub hidden: usize,
}

impl<T: Float> Module<T> for TransformerBlock {
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let mut p = Params::new();
        p.extend_prefixed("norm1", Module::<T>::init(&LayerNorm::new(&[self.dim]), rng));
        p.extend_prefixed(
            "attention",
            Module::<T>::init(&MultiHeadAttention { dim: self.dim, heads: self.heads }, rng),
        );
        p.extend_prefixed("norm2", Module::<T>::init(&LayerNorm::new(&[self.dim]), rng));
        p.extend_prefixed("up", Module::<T>::init(&Linear::new(self.dim, self.hidden), rng));
        p.extend_prefixed("down", Module::<T>::init(&Linear::new(self.hidden, self.dim), rng));
        p
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, ctx: &mut Context<T>) -> Var<'t, T> {
        let norm = LayerNorm::new(&[self.dim]);
        let attention = MultiHeadAttention { dim: self.dim, heads: self.heads };
        let x = x + attention.forward(&p.scoped("attention"), norm.forward(&p.scoped("norm1"), x, ctx), ctx);
        let h = Linear::new(self.dim, self.hidden)
            .forward(&p.scoped("up"), norm.forward(&p.scoped("norm2"), x, ctx), ctx)
            .gelu();
        x + Linear::new(self.hidden, self.dim).forward(&p.scoped("down"), h, ctx)
    }
}
