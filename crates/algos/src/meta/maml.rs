//! MAML: model-agnostic meta-learning (Finn, Abbeel & Levine 2017), its first-order
//! approximation, and a checkpointed inner loop whose memory does not grow with its length.
//!
//! # The objective
//!
//! For a task with support loss `L_S` and query loss `L_Q`, `k` inner steps of gradient descent
//! from the meta-parameters `theta`,
//!
//! ```text
//! theta_0 = theta,    theta_{i+1} = theta_i - alpha * grad L_S(theta_i)    (i < k),
//! ```
//!
//! and the meta-objective is the query loss of the adapted parameters, averaged over tasks:
//! `min_theta E_T [ L_Q(theta_k(theta)) ]`. Its gradient runs back through every inner step:
//!
//! ```text
//! d L_Q(theta_k) / d theta = (I - alpha H_0) (I - alpha H_1) ... (I - alpha H_{k-1}) grad L_Q(theta_k),
//! ```
//!
//! with `H_i` the Hessian of `L_S` at `theta_i`. Here that product is never formed: the inner
//! gradients are recorded on the task's tape (`grad_graph`), and one backward pass from
//! `L_Q(theta_k)` multiplies by each `(I - alpha H_i)` as a Hessian-vector product.
//!
//! **First-order MAML** (FOMAML, same paper, §5.2) drops the Hessians: the inner gradients enter
//! the tape as constants, and the meta-gradient is `grad L_Q(theta_k)` at the adapted point.
//!
//! # The checkpointed inner loop
//!
//! Backward through `k` recorded steps keeps every step's activations alive at once, so memory
//! grows with `k`. With [`Maml::checkpointed`] the forward loop keeps only the parameters
//! `theta_0 .. theta_k` and the backward pass recomputes one step at a time:
//!
//! ```text
//! g_k = grad L_Q(theta_k),    g_i = g_{i+1} - alpha H_i g_{i+1}    (i = k-1, ..., 0),
//! ```
//!
//! each on a fresh tape that re-runs step `i` with its graph and pulls `g_{i+1}` back through
//! it (one Hessian-vector product). The peak then holds one step's graph plus `k + 1` copies of
//! the parameters, and the result equals the plain meta-gradient up to rounding. The cost is
//! one extra forward and backward of the support loss per step.
//!
//! # Variants sharing this code
//!
//! Meta-SGD ([`super::meta_sgd`]) replaces `alpha` by learned per-parameter rates; ANIL
//! ([`super::anil`]) adapts only the head's parameters. A negative inner rate is allowed.
//! Batch-norm in the model normalises each forward pass with its own batch statistics, as
//! in the paper.

use super::inner::{batch_loss, predictions_along};
use super::meta_sgd::LearnedRates;
use super::{extra_params, model_vars, Batch, Episode, MetaMethod, TaskGradient, EXTRA_PREFIX};
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use metagrad_nn::{Module, ParamVars, Params};

/// MAML and the methods that share its inner loop (FOMAML, Meta-SGD, ANIL).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{meta_step, sinusoid, Maml};
/// use metagrad_nn::optim::Adam;
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // A few meta-iterations on one fixed sinusoid task lower its post-adaptation query loss.
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = sinusoid::network::<f64>(8);
/// let mut meta = model.init(&mut rng);
/// let episodes = sinusoid::meta_batch(1, 5, 5, &mut rng);
/// let (maml, mut adam) = (Maml::new(1, 0.01), Adam::new(0.01));
/// let first = meta_step(&maml, &model, &mut meta, &episodes, &mut adam, None).query_loss;
/// let mut last = first;
/// for _ in 0..5 {
///     last = meta_step(&maml, &model, &mut meta, &episodes, &mut adam, None).query_loss;
/// }
/// assert!(last < first);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Maml {
    /// Inner gradient steps per task during meta-training.
    pub inner_steps: usize,
    /// The inner learning rate `alpha` (ignored for parameters with learned rates).
    pub inner_lr: f64,
    /// Treat inner gradients as constants (first-order MAML).
    pub first_order: bool,
    /// Recompute each inner step during the meta-backward instead of keeping all of them.
    pub checkpoint: bool,
    /// Adapt only the parameters whose names start with this prefix (ANIL); `None` adapts all.
    pub adapt_only: Option<String>,
    /// Learned inner rates (Meta-SGD).
    pub learned_rates: Option<LearnedRates>,
}

impl Maml {
    /// Second-order MAML with `inner_steps` steps of rate `inner_lr`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, Episode, Maml, MetaMethod};
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// let maml = Maml::new(1, 0.25);
    /// assert!(!maml.first_order && !maml.checkpoint && maml.adapt_only.is_none());
    /// // f(x) = w x from w = 1; the support set is the point (1, 0), the query set (1, 1).
    /// # let model = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
    /// # let meta = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0]))]);
    /// # let column = |v: f64| Tensor::from_vec(&[1, 1], vec![v]);
    /// # let point = |x: f64, y: f64| Batch::regression(column(x), column(y));
    /// # let episode = Episode { support: point(1.0, 0.0), query: point(1.0, 1.0) };
    /// // Second order: the slope -1 of the query loss at w' = 0.5 times dw'/dw = 1 - 0.25 * 2.
    /// let grad = maml.task_gradient(&model, &meta, &episode).grads;
    /// assert!((grad.get("0.weight").unwrap().item() + 0.5).abs() < 1e-12);
    /// ```
    pub fn new(inner_steps: usize, inner_lr: f64) -> Self {
        Maml { inner_steps, inner_lr, first_order: false, checkpoint: false, adapt_only: None, learned_rates: None }
    }

    /// First-order MAML (inner gradients as constants).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, Episode, Maml, MetaMethod};
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // f(x) = w x from w = 1; the support set is the point (1, 0), the query set (1, 1).
    /// # let model = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
    /// # let meta = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0]))]);
    /// # let column = |v: f64| Tensor::from_vec(&[1, 1], vec![v]);
    /// # let point = |x: f64, y: f64| Batch::regression(column(x), column(y));
    /// # let episode = Episode { support: point(1.0, 0.0), query: point(1.0, 1.0) };
    /// // The inner step still moves w to 0.5, but dw'/dw is taken as 1: the meta-gradient is the
    /// // query loss's slope at w', 2 (0.5 - 1) = -1 (second order gives -0.5).
    /// let grad = Maml::new(1, 0.25).first_order().task_gradient(&model, &meta, &episode).grads;
    /// assert!((grad.get("0.weight").unwrap().item() + 1.0).abs() < 1e-12);
    /// ```
    pub fn first_order(mut self) -> Self {
        self.first_order = true;
        self
    }

    /// The checkpointed inner loop (second order only; first order keeps no graph anyway).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{sinusoid, Maml, MetaMethod};
    /// use metagrad_nn::Module;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// // The recomputed backward gives the plain second-order meta-gradient, up to rounding.
    /// let mut rng = StdRng::seed_from_u64(1);
    /// let model = sinusoid::network::<f64>(4);
    /// let meta = model.init(&mut rng);
    /// let (_, episode) = sinusoid::episode(4, 4, &mut rng);
    /// let plain = Maml::new(3, 0.1).task_gradient(&model, &meta, &episode);
    /// let checkpointed = Maml::new(3, 0.1).checkpointed().task_gradient(&model, &meta, &episode);
    /// let gap = plain.grads.axpy(-1.0, &checkpointed.grads).l2_norm();
    /// assert!(gap < 1e-10 * (1.0 + plain.grads.l2_norm()));
    /// ```
    pub fn checkpointed(mut self) -> Self {
        self.checkpoint = true;
        self
    }

    fn adapts(&self, name: &str) -> bool {
        self.adapt_only.as_ref().is_none_or(|prefix| name.starts_with(prefix.as_str()))
    }

    /// One inner step on the tape: `theta - rate * grad L_S(theta)` for the parameters that
    /// adapt. With `graph` the gradient is recorded (second order), otherwise it enters as a
    /// constant. `rates` holds the learned rates, if any, under their full names.
    fn inner_step<'t, T: Float>(
        &self,
        model: &dyn Module<T>,
        theta: &ParamVars<'t, T>,
        rates: &ParamVars<'t, T>,
        step: usize,
        support: &Batch<T>,
        graph: bool,
    ) -> ParamVars<'t, T> {
        let loss = batch_loss(model, theta, support);
        let tape = loss.tape();
        let (names, mut vars) = (theta.names(), theta.vars());
        let adapting: Vec<usize> = (0..names.len()).filter(|&k| self.adapts(&names[k])).collect();
        let wrt: Vec<Var<'t, T>> = adapting.iter().map(|&k| vars[k]).collect();
        let grads: Vec<Var<'t, T>> = if graph {
            tape.grad_graph(loss, &wrt)
        } else {
            tape.grad(loss, &wrt).into_iter().map(|g| tape.constant(g)).collect()
        };
        for (&k, g) in adapting.iter().zip(grads) {
            let scaled = match &self.learned_rates {
                Some(learned) => g * rates.get(&learned.name(step, self.inner_steps, &names[k])),
                None => g * T::of(self.inner_lr),
            };
            vars[k] = vars[k] - scaled;
        }
        ParamVars::from_pairs(names.into_iter().zip(vars).collect())
    }

    /// The meta-gradient with every inner step on one tape.
    fn recorded_gradient<T: Float>(&self, model: &dyn Module<T>, meta: &Params<T>, e: &Episode<T>) -> TaskGradient<T> {
        let tape = Tape::new();
        let all = meta.on(&tape);
        let mut theta = model_vars(&all);
        for step in 0..self.inner_steps {
            theta = self.inner_step(model, &theta, &all, step, &e.support, !self.first_order);
        }
        let loss = batch_loss(model, &theta, &e.query);
        TaskGradient { query_loss: to_f64(loss.item()), grads: all.grad(loss) }
    }

    /// The same meta-gradient, one recomputed step at a time (see the module docs).
    fn checkpointed_gradient<T: Float>(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        e: &Episode<T>,
    ) -> TaskGradient<T> {
        let rates = extra_params(meta);
        let mut thetas = vec![super::model_params(meta)];
        for step in 0..self.inner_steps {
            let tape = Tape::new();
            let next = self.inner_step(model, &thetas[step].on(&tape), &rates.on(&tape), step, &e.support, false);
            thetas.push(next.values());
        }
        let tape = Tape::new();
        let last = thetas[self.inner_steps].on(&tape);
        let loss = batch_loss(model, &last, &e.query);
        let query_loss = to_f64(loss.item());
        let mut cotangent = last.grad(loss);
        let mut rate_grads = rates.map(|r| Tensor::zeros(r.shape()));
        for step in (0..self.inner_steps).rev() {
            let tape = Tape::new();
            let (theta, r) = (thetas[step].on(&tape), rates.on(&tape));
            let next = self.inner_step(model, &theta, &r, step, &e.support, true);
            // <theta_{i+1}(theta_i, rates), g_{i+1}>: its gradient is the VJP we need.
            let pulled = next
                .vars()
                .iter()
                .zip(cotangent.tensors())
                .map(|(v, g)| (*v * tape.constant(g.clone())).sum())
                .reduce(|a, b| a + b)
                .expect("a model with parameters");
            let wrt: Vec<Var<'_, T>> = theta.vars().into_iter().chain(r.vars()).collect();
            let mut grads = tape.grad(pulled, &wrt);
            let rate_part = grads.split_off(theta.vars().len());
            cotangent = Params::from_pairs(theta.names().into_iter().zip(grads));
            rate_grads =
                Params::from_pairs(rates.names().map(str::to_string).zip(rate_part)).axpy(T::one(), &rate_grads);
        }
        let grads = Params::from_pairs(meta.names().map(|n| {
            let source = if n.starts_with(EXTRA_PREFIX) { &rate_grads } else { &cotangent };
            (n.to_string(), source.get(n).expect("every meta-parameter has a gradient").clone())
        }));
        TaskGradient { grads, query_loss }
    }
}

impl<T: Float> MetaMethod<T> for Maml {
    fn name(&self) -> &'static str {
        match (&self.learned_rates, &self.adapt_only, self.first_order) {
            (Some(_), _, _) => "meta-sgd",
            (None, Some(_), _) => "anil",
            (None, None, true) => "fomaml",
            (None, None, false) => "maml",
        }
    }

    fn init_extra(&self, model: &Params<T>) -> Params<T> {
        match &self.learned_rates {
            Some(learned) => learned.init(model, self.inner_steps, |n| self.adapts(n)),
            None => Params::new(),
        }
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        if self.checkpoint && !self.first_order {
            self.checkpointed_gradient(model, meta, episode)
        } else {
            self.recorded_gradient(model, meta, episode)
        }
    }

    fn adapted_predictions(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        let rates = extra_params(meta);
        predictions_along(model, super::model_params(meta), inputs, steps, |step, theta| {
            let tape = Tape::new();
            self.inner_step(model, &theta.on(&tape), &rates.on(&tape), step, support, false).values()
        })
    }
}

fn to_f64<T: Float>(x: T) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}
