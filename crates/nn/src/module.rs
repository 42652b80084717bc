//! The `Module` trait: a layer is a description (sizes, options) plus a functional forward
//! that reads its parameters from a [`ParamVars`]. Parameters live outside the module, which
//! is what lets MAML run the same module on adapted parameters.

use crate::{ParamVars, Params};
use metagrad_autodiff::{Float, Var};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Training or evaluation behaviour (batch-norm statistics, dropout).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Dropout;
/// use metagrad_nn::{Context, Mode, Module, Params};
///
/// let mut ctx = Context::<f64>::train(Params::new(), 0);
/// assert_eq!(ctx.mode, Mode::Train);
/// ctx.mode = Mode::Eval; // for validation, say, keeping the same state
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::ones(&[4]));
/// let y = Dropout { p: 0.5 }.forward(&Params::new().on(&tape), x, &mut ctx);
/// assert_eq!(y.value().to_vec(), vec![1.0; 4]); // no dropout in evaluation
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics, dropout on.
    Train,
    /// Running statistics (unless transductive), dropout off.
    Eval,
}

/// What a forward pass needs besides parameters and input.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::BatchNorm;
/// use metagrad_nn::{Context, Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let bn = BatchNorm::new(1);
/// let params: Params<f64> = bn.init(&mut StdRng::seed_from_u64(0));
/// let mut ctx = Context::train(bn.init_state(), 0);
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::from_vec(&[2, 1], vec![1.0, 3.0]));
/// bn.forward(&params.on(&tape), x, &mut ctx);
/// // The running mean moved a tenth (the momentum) of the way from 0 to the batch mean 2.
/// assert!((ctx.state.get("running_mean").unwrap().item() - 0.2).abs() < 1e-12);
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Dropout;
    /// use metagrad_nn::{Context, Mode, Module, Params};
    ///
    /// let ctx = Context::<f64>::train(Params::new(), 42);
    /// assert!(ctx.mode == Mode::Train && !ctx.transductive);
    /// // The seed fixes the dropout masks: the same seed, the same mask.
    /// let tape = Tape::<f64>::new();
    /// let (x, none) = (tape.constant(Tensor::ones(&[16])), Params::new().on(&tape));
    /// let drop = Dropout { p: 0.5 };
    /// let a = drop.forward(&none, x, &mut Context::train(Params::new(), 42)).value();
    /// let b = drop.forward(&none, x, &mut Context::train(Params::new(), 42)).value();
    /// assert_eq!(a, b);
    /// ```
    pub fn train(state: Params<T>, seed: u64) -> Self {
        Context { mode: Mode::Train, state, transductive: false, rng: StdRng::seed_from_u64(seed) }
    }

    /// An evaluation context.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::BatchNorm;
    /// use metagrad_nn::{Context, Mode, Module, Params};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let bn = BatchNorm::new(2);
    /// let params: Params<f64> = bn.init(&mut StdRng::seed_from_u64(0));
    /// let mut ctx = Context::eval(bn.init_state());
    /// assert_eq!(ctx.mode, Mode::Eval);
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from_vec(&[1, 2], vec![4.0, -2.0]));
    /// // The fresh running statistics (mean 0, variance 1) make batch-norm almost the identity...
    /// let y = bn.forward(&params.on(&tape), x, &mut ctx).value();
    /// assert!(y.max_abs_diff(&x.value()) < 1e-4);
    /// // ...and evaluation leaves them alone.
    /// assert_eq!(ctx.state, bn.init_state());
    /// ```
    pub fn eval(state: Params<T>) -> Self {
        Context { mode: Mode::Eval, state, transductive: false, rng: StdRng::seed_from_u64(0) }
    }

    /// The transductive context MAML uses: batch statistics always, running statistics untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::BatchNorm;
    /// use metagrad_nn::{Context, Module, Params};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let bn = BatchNorm::new(1);
    /// let params: Params<f64> = bn.init(&mut StdRng::seed_from_u64(0));
    /// let mut ctx = Context::transductive(0);
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from_vec(&[2, 1], vec![1.0, 3.0]));
    /// // The batch's statistics (mean 2, variance 1); no running statistics read or written.
    /// let y = bn.forward(&params.on(&tape), x, &mut ctx).value().to_vec();
    /// assert!((y[0] + 1.0).abs() < 1e-4 && (y[1] - 1.0).abs() < 1e-4);
    /// assert!(ctx.state.is_empty());
    /// ```
    pub fn transductive(seed: u64) -> Self {
        Context { mode: Mode::Train, state: Params::new(), transductive: true, rng: StdRng::seed_from_u64(seed) }
    }
}

/// A layer or a network.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Float, Tape, Tensor, Var};
/// use metagrad_nn::{Context, Module, ParamVars, Params, Sequential};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // `y = gain x` with one learned scalar that starts at 1.
/// struct Scale;
///
/// impl<T: Float> Module<T> for Scale {
///     fn init(&self, _: &mut StdRng) -> Params<T> {
///         Params::from_pairs([("gain".to_string(), Tensor::scalar(T::one()))])
///     }
///     fn forward<'t>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
///         x * p.get("gain")
///     }
/// }
///
/// let net = Sequential::<f64>::default().push(Scale).push(Scale);
/// let params = net.init(&mut StdRng::seed_from_u64(0));
/// assert_eq!(params.names().collect::<Vec<_>>(), vec!["0.gain", "1.gain"]);
/// let tape = Tape::new();
/// let p = params.on(&tape);
/// let y = net.forward(&p, tape.constant(Tensor::scalar(3.0)), &mut Context::eval(net.init_state()));
/// // y = g1 g0 x, so dy/dg0 = g1 x = 3.
/// assert_eq!(p.grad(y).get("0.gain").unwrap().item(), 3.0);
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::{Activation, Linear};
/// use metagrad_nn::{Context, Module, Params, Sequential};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let net = Sequential::<f64>::default().push(Linear::new(3, 4)).push(Activation::Relu).push(Linear::new(4, 2));
/// let params = net.init(&mut StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let p = params.on(&tape);
/// let x = tape.constant(Tensor::ones(&[5, 3]));
/// let mut ctx = Context::eval(Params::new());
/// let y = net.forward(&p, x, &mut ctx);
/// assert_eq!(y.shape(), vec![5, 2]);
/// // The same as running the parts by hand, each in its own scope.
/// let h = Linear::new(3, 4).forward(&p.scoped("0"), x, &mut ctx).relu();
/// let by_hand = Linear::new(4, 2).forward(&p.scoped("2"), h, &mut ctx);
/// assert_eq!(y.value(), by_hand.value());
/// ```
pub struct Sequential<T: Float> {
    parts: Vec<Box<dyn Module<T>>>,
}

impl<T: Float> Sequential<T> {
    /// The parts, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::layers::{Activation, Linear};
    /// use metagrad_nn::{Module, Sequential};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let parts: Vec<Box<dyn Module<f32>>> =
    ///     vec![Box::new(Linear::new(2, 3)), Box::new(Activation::Tanh), Box::new(Linear::new(3, 1))];
    /// let net = Sequential::new(parts);
    /// // Part `i` names its parameters "{i}.…"; the activation (part 1) has none.
    /// let params = net.init(&mut StdRng::seed_from_u64(0));
    /// assert_eq!(params.names().collect::<Vec<_>>(), vec!["0.weight", "0.bias", "2.weight", "2.bias"]);
    /// assert_eq!(params.numel(), 2 * 3 + 3 + 3 * 1 + 1);
    /// ```
    pub fn new(parts: Vec<Box<dyn Module<T>>>) -> Self {
        Sequential { parts }
    }

    /// Appends a part.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::layers::{BatchNorm, Linear};
    /// use metagrad_nn::{Module, Sequential};
    ///
    /// let net = Sequential::<f64>::default().push(Linear::new(2, 3)).push(BatchNorm::new(3));
    /// // Non-parameter state is named by part too.
    /// assert_eq!(net.init_state().names().collect::<Vec<_>>(), vec!["1.running_mean", "1.running_var"]);
    /// ```
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
