//! The `Module` trait: a layer is a description (sizes, options) plus a functional forward
//! that reads its parameters from a [`ParamVars`]. Parameters live outside the module, which
//! is what lets MAML run the same module on adapted parameters.

use crate::{ParamVars, Params};
use metagrad_autodiff::{Float, Var};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Training or evaluation behaviour (batch-norm statistics, dropout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics, dropout on.
    Train,
    /// Running statistics (unless transductive), dropout off.
    Eval,
}

/// What a forward pass needs besides parameters and input.
#[derive(Clone, Debug)]
pub struct Context<T: Float> {
    /// Train or eval.
    pub mode: Mode,
    /// Non-parameter state by full name: batch-norm running statistics. Kept apart from
    /// [`Params`] so adapted parameters can be swapped in without touching it.
    pub state: Params<T>,
    /// Batch-norm normalises with the batch's own statistics in both modes and leaves the
    /// running statistics alone, as MAML does per task.
    pub transductive: bool,
    /// The source of dropout masks.
    pub rng: StdRng,
}

impl<T: Float> Context<T> {
    /// A training context with the module's initial state.
    pub fn train(state: Params<T>, seed: u64) -> Self {
        Context { mode: Mode::Train, state, transductive: false, rng: StdRng::seed_from_u64(seed) }
    }

    /// An evaluation context.
    pub fn eval(state: Params<T>) -> Self {
        Context { mode: Mode::Eval, state, transductive: false, rng: StdRng::seed_from_u64(0) }
    }

    /// The transductive context MAML uses: batch statistics always, running statistics untouched.
    pub fn transductive(seed: u64) -> Self {
        Context { mode: Mode::Train, state: Params::new(), transductive: true, rng: StdRng::seed_from_u64(seed) }
    }
}

/// A layer or a network.
pub trait Module<T: Float>: Send + Sync {
    /// Fresh parameters, named relative to this module.
    fn init(&self, rng: &mut StdRng) -> Params<T>;

    /// Fresh non-parameter state (running statistics), named relative to this module.
    fn init_state(&self) -> Params<T> {
        Params::new()
    }

    /// The output for input `x` with parameters `p` (scoped to this module).
    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, ctx: &mut Context<T>) -> Var<'t, T>;
}

/// Modules applied one after another; the parameters of part `i` are named `"{i}.…"`.
pub struct Sequential<T: Float> {
    parts: Vec<Box<dyn Module<T>>>,
}

impl<T: Float> Sequential<T> {
    /// The parts, in order.
    pub fn new(parts: Vec<Box<dyn Module<T>>>) -> Self {
        Sequential { parts }
    }

    /// Appends a part.
    pub fn push(mut self, part: impl Module<T> + 'static) -> Self {
        self.parts.push(Box::new(part));
        self
    }
}

impl<T: Float> Default for Sequential<T> {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl<T: Float> Module<T> for Sequential<T> {
    fn init(&self, rng: &mut StdRng) -> Params<T> {
        let mut params = Params::new();
        for (i, part) in self.parts.iter().enumerate() {
            params.extend_prefixed(&i.to_string(), part.init(rng));
        }
        params
    }

    fn init_state(&self) -> Params<T> {
        let mut state = Params::new();
        for (i, part) in self.parts.iter().enumerate() {
            state.extend_prefixed(&i.to_string(), part.init_state());
        }
        state
    }

    fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, ctx: &mut Context<T>) -> Var<'t, T> {
        self.parts.iter().enumerate().fold(x, |x, (i, part)| part.forward(&p.scoped(&i.to_string()), x, ctx))
    }
}
