//! Optimisers on [`Params`] (outside any tape), learning-rate schedules, gradient clipping,
//! parameter groups, and the differentiable SGD step that inner loops record on a tape.

use crate::{ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};

/// Per-parameter learning-rate scales by name prefix: `0.0` freezes, `0.1` fine-tunes slowly.
/// The first matching prefix wins; names matching none get scale 1.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::optim::{Optimizer, ParamGroups, Sgd};
/// use metagrad_nn::Params;
///
/// let mut params = Params::from_pairs(["body.w", "head.w", "out.w"].map(|n| (n.to_string(), Tensor::scalar(1.0f64))));
/// let grads = params.map(|t| Tensor::ones(t.shape()));
/// let mut sgd = Sgd::new(0.5);
/// sgd.groups = ParamGroups::new().freeze("body").scale("head", 0.5);
/// sgd.step(&mut params, &grads);
/// let w = |name: &str| params.get(name).unwrap().item();
/// // Frozen, half the rate, the full rate: w - 0.5 * scale * 1.
/// assert_eq!((w("body.w"), w("head.w"), w("out.w")), (1.0, 0.75, 0.5));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ParamGroups {
    groups: Vec<(String, f64)>,
}

impl ParamGroups {
    /// Every parameter at the base rate.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Optimizer, ParamGroups, Sgd};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs(["a", "b"].map(|n| (n.to_string(), Tensor::scalar(1.0f64))));
    /// let grads = params.map(|t| Tensor::ones(t.shape()));
    /// let mut sgd = Sgd::new(0.25);
    /// sgd.groups = ParamGroups::new(); // what `Sgd::new` starts with
    /// sgd.step(&mut params, &grads);
    /// assert!(params.tensors().all(|t| t.item() == 0.75));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Parameters whose names start with `prefix` get `scale` times the base rate.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Optimizer, ParamGroups, Sgd};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs(["enc.first", "enc.last"].map(|n| (n.to_string(), Tensor::scalar(0.0f64))));
    /// let grads = params.map(|t| Tensor::ones(t.shape()));
    /// let mut sgd = Sgd::new(1.0);
    /// // The first matching prefix wins, so the second group never applies.
    /// sgd.groups = ParamGroups::new().scale("enc.", 0.25).scale("enc.last", 2.0);
    /// sgd.step(&mut params, &grads);
    /// assert_eq!(params.get("enc.last").unwrap().item(), -0.25);
    /// ```
    pub fn scale(mut self, prefix: &str, scale: f64) -> Self {
        self.groups.push((prefix.to_string(), scale));
        self
    }

    /// Parameters whose names start with `prefix` are not updated.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Adam, Optimizer, ParamGroups};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs(["backbone.w", "head.w"].map(|n| (n.to_string(), Tensor::scalar(1.0f64))));
    /// let grads = params.map(|t| Tensor::full(t.shape(), 3.0));
    /// let mut adam = Adam::new(0.1);
    /// adam.groups = ParamGroups::new().freeze("backbone.");
    /// adam.step(&mut params, &grads);
    /// assert_eq!(params.get("backbone.w").unwrap().item(), 1.0);
    /// assert!(params.get("head.w").unwrap().item() < 1.0);
    /// ```
    pub fn freeze(self, prefix: &str) -> Self {
        self.scale(prefix, 0.0)
    }

    fn scale_of(&self, name: &str) -> f64 {
        self.groups.iter().find(|(p, _)| name.starts_with(p.as_str())).map_or(1.0, |(_, s)| *s)
    }
}

/// An optimiser: updates parameters in place from gradients of the same layout.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::optim::{Adam, Optimizer, Sgd};
/// use metagrad_nn::Params;
///
/// // Any optimiser minimises w^2 from w = 2 through the same calls.
/// fn minimise(opt: &mut dyn Optimizer<f64>, steps: usize) -> f64 {
///     let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(2.0))]);
///     for _ in 0..steps {
///         let tape = Tape::new();
///         let p = params.on(&tape);
///         let grads = p.grad(p.get("w").square());
///         opt.step(&mut params, &grads);
///     }
///     params.get("w").unwrap().item()
/// }
/// assert!(minimise(&mut Sgd::new(0.1), 50).abs() < 1e-3);
/// assert!(minimise(&mut Adam::new(0.1), 200).abs() < 0.05);
/// ```
pub trait Optimizer<T: Float> {
    /// One update. `grads` must have the names and shapes of `params`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Optimizer, Sgd};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0f64, -2.0]))]);
    /// let grads = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![0.5, 0.25]))]);
    /// Sgd::new(0.5).step(&mut params, &grads);
    /// // w - lr * g, against the gradient.
    /// assert_eq!(params.get("w").unwrap().to_vec(), vec![0.75, -2.125]);
    /// ```
    fn step(&mut self, params: &mut Params<T>, grads: &Params<T>);
    /// The base learning rate.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::optim::{Adagrad, Optimizer, Sgd};
    ///
    /// assert_eq!(Optimizer::<f64>::learning_rate(&Sgd::new(0.01)), 0.01);
    /// assert_eq!(Optimizer::<f32>::learning_rate(&Adagrad::new(0.5)), 0.5);
    /// ```
    fn learning_rate(&self) -> f64;
    /// Sets the base learning rate (schedules call this).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Optimizer, Schedule, Sgd};
    /// use metagrad_nn::Params;
    ///
    /// let mut sgd = Sgd::new(1.0);
    /// // Step 20 of a schedule that halves the rate every 10 steps.
    /// sgd.set_learning_rate(Schedule::Step { every: 10, gamma: 0.5 }.at(1.0, 20));
    /// assert_eq!(sgd.learning_rate(), 0.25);
    /// // The next step uses the new rate.
    /// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
    /// let grads = params.map(|t| Tensor::ones(t.shape()));
    /// sgd.step(&mut params, &grads);
    /// assert_eq!(params.get("w").unwrap().item(), 0.75);
    /// ```
    fn set_learning_rate(&mut self, lr: f64);
    /// The running state (moments, step count) as named tensors, `"{slot}.{parameter}"`, for
    /// a checkpoint ([`crate::checkpoint::save`]). Before the first step no per-parameter
    /// slot exists yet; counters such as Adam's `step` are there from the start.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Optimizer, Sgd};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
    /// let grads = params.map(|t| Tensor::full(t.shape(), 0.5));
    /// let mut sgd = Sgd::new(0.1).with_momentum(0.9, false);
    /// assert!(sgd.state(&params).is_empty());
    /// sgd.step(&mut params, &grads);
    /// // After one step the velocity is the gradient itself.
    /// let state = sgd.state(&params);
    /// assert_eq!(state.names().collect::<Vec<_>>(), vec!["velocity.w"]);
    /// assert_eq!(state.get("velocity.w").unwrap().item(), 0.5);
    /// ```
    fn state(&self, params: &Params<T>) -> Params<T>;
    /// Restores state saved by [`Optimizer::state`] for parameters laid out like `params`.
    ///
    /// # Errors
    /// Names the first slot that is missing or has the wrong shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Adam, Optimizer};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
    /// let grads = params.map(|t| Tensor::full(t.shape(), 0.3));
    /// let mut adam = Adam::new(0.1);
    /// adam.step(&mut params, &grads);
    /// // A fresh optimiser resumed from the state takes exactly the same next step.
    /// let mut resumed = Adam::new(0.1);
    /// resumed.load_state(&params, &adam.state(&params))?;
    /// let (mut a, mut b) = (params.clone(), params.clone());
    /// adam.step(&mut a, &grads);
    /// resumed.step(&mut b, &grads);
    /// assert_eq!(a, b);
    /// // State for other parameters is refused, naming the missing slot.
    /// let other = Params::from_pairs([("v".to_string(), Tensor::scalar(0.0))]);
    /// assert_eq!(resumed.load_state(&other, &adam.state(&params)).unwrap_err(), "optimizer state has no `m.v`");
    /// # Ok::<(), String>(())
    /// ```
    fn load_state(&mut self, params: &Params<T>, state: &Params<T>) -> Result<(), String>;
}

/// Saves per-parameter slots as `"{slot}.{name}"`.
fn save_slots<T: Float>(params: &Params<T>, slots: &[(&str, &Vec<Tensor<T>>)]) -> Params<T> {
    let mut out = Params::new();
    for (slot, values) in slots {
        for (name, value) in params.names().zip(values.iter()) {
            out.insert(format!("{slot}.{name}"), value.clone());
        }
    }
    out
}

/// Reads the slot `slot` for every parameter of `params` from `state`.
fn load_slot<T: Float>(params: &Params<T>, state: &Params<T>, slot: &str) -> Result<Vec<Tensor<T>>, String> {
    params
        .iter()
        .map(|(name, value)| {
            let key = format!("{slot}.{name}");
            let found = state.get(&key).ok_or_else(|| format!("optimizer state has no `{key}`"))?;
            if found.shape() != value.shape() {
                return Err(format!(
                    "optimizer state `{key}` has shape {:?}, the parameter {:?}",
                    found.shape(),
                    value.shape()
                ));
            }
            Ok(found.clone())
        })
        .collect()
}

/// Applies `update(name, index in params, value, grad) -> new value` to every parameter whose
/// group scale is not zero.
fn for_each<T: Float>(
    params: &mut Params<T>,
    grads: &Params<T>,
    groups: &ParamGroups,
    mut update: impl FnMut(usize, f64, &Tensor<T>, &Tensor<T>) -> Tensor<T>,
) {
    let names: Vec<String> = params.names().map(str::to_string).collect();
    for (k, name) in names.iter().enumerate() {
        let grad = grads.get(name).unwrap_or_else(|| panic!("optimizer: no gradient for `{name}`"));
        let value = params.get(name).expect("own name");
        assert_eq!(
            value.shape(),
            grad.shape(),
            "optimizer: gradient of `{name}` has shape {:?}, the parameter {:?}",
            grad.shape(),
            value.shape()
        );
        let scale = groups.scale_of(name);
        if scale != 0.0 {
            let new = update(k, scale, value, grad);
            params.insert(name.clone(), new);
        }
    }
}

fn zeros_like<T: Float>(params: &Params<T>) -> Vec<Tensor<T>> {
    params.tensors().map(|t| Tensor::zeros(t.shape())).collect()
}

/// Stochastic gradient descent with momentum (Polyak; Nesterov as an option) and L2 weight decay.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::optim::{Optimizer, Sgd};
/// use metagrad_nn::Params;
///
/// // Weight decay alone: a zero gradient still shrinks w by lr * weight_decay * w.
/// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(2.0f64))]);
/// let mut sgd = Sgd::new(0.25);
/// sgd.weight_decay = 0.5;
/// let zero = params.map(|t| Tensor::zeros(t.shape()));
/// sgd.step(&mut params, &zero);
/// assert_eq!(params.get("w").unwrap().item(), 1.75);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T: Float> {
    /// Learning rate.
    pub lr: f64,
    /// Momentum coefficient (0 for plain SGD).
    pub momentum: f64,
    /// Nesterov's look-ahead form.
    pub nesterov: bool,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Learning-rate scales by parameter name.
    pub groups: ParamGroups,
    velocity: Vec<Tensor<T>>,
}

impl<T: Float> Sgd<T> {
    /// Plain SGD.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Optimizer, Sgd};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
    /// let grads = params.map(|t| Tensor::full(t.shape(), 0.5));
    /// let mut sgd = Sgd::new(0.5);
    /// assert_eq!((sgd.momentum, sgd.weight_decay), (0.0, 0.0));
    /// // No momentum: every step moves by lr * g = 0.25.
    /// sgd.step(&mut params, &grads);
    /// sgd.step(&mut params, &grads);
    /// assert_eq!(params.get("w").unwrap().item(), 0.5);
    /// ```
    pub fn new(lr: f64) -> Self {
        Sgd { lr, momentum: 0.0, nesterov: false, weight_decay: 0.0, groups: ParamGroups::new(), velocity: Vec::new() }
    }

    /// With momentum.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Optimizer, Sgd};
    /// use metagrad_nn::Params;
    ///
    /// let after_steps = |mut sgd: Sgd<f64>, steps: usize| {
    ///     let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0))]);
    ///     let grads = params.map(|t| Tensor::ones(t.shape()));
    ///     (0..steps).for_each(|_| sgd.step(&mut params, &grads));
    ///     params.get("w").unwrap().item()
    /// };
    /// // Heavy ball: velocities 1 then 1.9, so w = 1 - 0.1 - 0.19.
    /// assert!((after_steps(Sgd::new(0.1).with_momentum(0.9, false), 2) - 0.71).abs() < 1e-12);
    /// // Nesterov looks ahead: the first step already moves by 0.1 * (1 + 0.9).
    /// assert!((after_steps(Sgd::new(0.1).with_momentum(0.9, true), 1) - 0.81).abs() < 1e-12);
    /// ```
    pub fn with_momentum(mut self, momentum: f64, nesterov: bool) -> Self {
        self.momentum = momentum;
        self.nesterov = nesterov;
        self
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut Params<T>, grads: &Params<T>) {
        if self.velocity.len() != params.len() {
            self.velocity = zeros_like(params);
        }
        let (lr, mu, wd, nesterov) = (T::of(self.lr), T::of(self.momentum), T::of(self.weight_decay), self.nesterov);
        let velocity = &mut self.velocity;
        for_each(params, grads, &self.groups, |k, scale, w, g| {
            let g = g.zip_map(w, |g, w| g + wd * w);
            velocity[k] = velocity[k].zip_map(&g, |v, g| mu * v + g);
            let direction = if nesterov { g.zip_map(&velocity[k], |g, v| g + mu * v) } else { velocity[k].clone() };
            w.zip_map(&direction, |w, d| w - lr * T::of(scale) * d)
        });
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state(&self, params: &Params<T>) -> Params<T> {
        save_slots(params, &[("velocity", &self.velocity)])
    }
    fn load_state(&mut self, params: &Params<T>, state: &Params<T>) -> Result<(), String> {
        self.velocity = load_slot(params, state, "velocity")?;
        Ok(())
    }
}

/// Adam (Kingma & Ba 2015) and, with `decoupled`, AdamW (Loshchilov & Hutter 2019).
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::optim::{Adam, Optimizer};
/// use metagrad_nn::Params;
///
/// // Minimise (w - 3)^2.
/// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(0.0f64))]);
/// let mut adam = Adam::new(0.1);
/// for _ in 0..200 {
///     let tape = Tape::new();
///     let p = params.on(&tape);
///     let grads = p.grad((p.get("w") - 3.0).square());
///     adam.step(&mut params, &grads);
/// }
/// assert!((params.get("w").unwrap().item() - 3.0).abs() < 0.05);
/// ```
#[derive(Clone, Debug)]
pub struct Adam<T: Float> {
    /// Learning rate.
    pub lr: f64,
    /// First- and second-moment decay.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// Weight decay: L2 in the gradient (Adam) or decoupled from it (AdamW).
    pub weight_decay: f64,
    /// AdamW's decoupled weight decay.
    pub decoupled: bool,
    /// Learning-rate scales by parameter name.
    pub groups: ParamGroups,
    moments: Vec<(Tensor<T>, Tensor<T>)>,
    steps: i32,
}

impl<T: Float> Adam<T> {
    /// Adam with betas (0.9, 0.999) and eps 1e-8.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Adam, Optimizer};
    /// use metagrad_nn::Params;
    ///
    /// // With bias correction the first step moves every entry by about lr, whatever the
    /// // gradient's scale: only its sign matters.
    /// let mut params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0f64, 1.0]))]);
    /// let grads = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1000.0, -0.001]))]);
    /// Adam::new(0.1).step(&mut params, &grads);
    /// let w = params.get("w").unwrap().to_vec();
    /// assert!((w[0] - 0.9).abs() < 1e-4 && (w[1] - 1.1).abs() < 1e-4);
    /// ```
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            groups: ParamGroups::new(),
            moments: Vec::new(),
            steps: 0,
        }
    }

    /// AdamW with the given decoupled weight decay.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::optim::{Adam, Optimizer};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(4.0f64))]);
    /// let zero = params.map(|t| Tensor::zeros(t.shape()));
    /// let mut adamw = Adam::adamw(0.1, 0.5);
    /// assert!(adamw.decoupled);
    /// // With a zero gradient only the decay acts: w (1 - lr * weight_decay) = 4 * 0.95.
    /// adamw.step(&mut params, &zero);
    /// assert!((params.get("w").unwrap().item() - 3.8).abs() < 1e-12);
    /// ```
    pub fn adamw(lr: f64, weight_decay: f64) -> Self {
        Adam { weight_decay, decoupled: true, ..Self::new(lr) }
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut Params<T>, grads: &Params<T>) {
        if self.moments.len() != params.len() {
            self.moments = zeros_like(params).into_iter().map(|z| (z.clone(), z)).collect();
            self.steps = 0;
        }
        self.steps += 1;
        let (b1, b2) = self.betas;
        let correction1 = 1.0 - b1.powi(self.steps);
        let correction2 = 1.0 - b2.powi(self.steps);
        let (lr, eps, wd, decoupled) = (self.lr, T::of(self.eps), T::of(self.weight_decay), self.decoupled);
        let (b1t, b2t) = (T::of(b1), T::of(b2));
        let moments = &mut self.moments;
        for_each(params, grads, &self.groups, |k, scale, w, g| {
            let g = if decoupled { g.clone() } else { g.zip_map(w, |g, w| g + wd * w) };
            let (m, v) = &mut moments[k];
            *m = m.zip_map(&g, |m, g| b1t * m + (T::one() - b1t) * g);
            *v = v.zip_map(&g, |v, g| b2t * v + (T::one() - b2t) * g * g);
            let step_size = T::of(lr * scale / correction1);
            let denom = v.map(|v| (v / T::of(correction2)).sqrt() + eps);
            let decayed = if decoupled { w.map(|w| w - T::of(lr * scale) * wd * w) } else { w.clone() };
            let update = m.zip_map(&denom, |m, d| m / d);
            decayed.zip_map(&update, |w, u| w - step_size * u)
        });
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state(&self, params: &Params<T>) -> Params<T> {
        let (m, v): (Vec<Tensor<T>>, Vec<Tensor<T>>) = self.moments.iter().cloned().unzip();
        let mut out = save_slots(params, &[("m", &m), ("v", &v)]);
        out.insert("step", Tensor::scalar(T::of(f64::from(self.steps))));
        out
    }
    fn load_state(&mut self, params: &Params<T>, state: &Params<T>) -> Result<(), String> {
        let m = load_slot(params, state, "m")?;
        let v = load_slot(params, state, "v")?;
        let step = state.get("step").filter(|s| s.len() == 1).ok_or("optimizer state has no scalar `step`")?;
        self.steps = step.item().to_f64().unwrap_or(0.0) as i32;
        self.moments = m.into_iter().zip(v).collect();
        Ok(())
    }
}

/// RMSProp (Tieleman & Hinton 2012): `v = rho v + (1 - rho) g^2`, `w -= lr g / (sqrt(v) + eps)`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::optim::{Optimizer, RmsProp};
/// use metagrad_nn::Params;
///
/// // First step: v = 0.01 g^2, so w moves by lr * g / (0.1 |g|) = 10 lr.
/// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
/// let mut rms = RmsProp::new(0.01);
/// let grads = params.map(|t| Tensor::full(t.shape(), 3.0));
/// rms.step(&mut params, &grads);
/// assert!((params.get("w").unwrap().item() - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp<T: Float> {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the squared-gradient average.
    pub rho: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Learning-rate scales by parameter name.
    pub groups: ParamGroups,
    squares: Vec<Tensor<T>>,
}

impl<T: Float> RmsProp<T> {
    /// `rho = 0.99`, `eps = 1e-8`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::optim::RmsProp;
    ///
    /// let rms = RmsProp::<f32>::new(1e-3);
    /// assert_eq!((rms.lr, rms.rho, rms.eps), (1e-3, 0.99, 1e-8));
    /// ```
    pub fn new(lr: f64) -> Self {
        RmsProp { lr, rho: 0.99, eps: 1e-8, groups: ParamGroups::new(), squares: Vec::new() }
    }
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, params: &mut Params<T>, grads: &Params<T>) {
        if self.squares.len() != params.len() {
            self.squares = zeros_like(params);
        }
        let (lr, rho, eps) = (self.lr, T::of(self.rho), T::of(self.eps));
        let squares = &mut self.squares;
        for_each(params, grads, &self.groups, |k, scale, w, g| {
            squares[k] = squares[k].zip_map(g, |v, g| rho * v + (T::one() - rho) * g * g);
            let update = g.zip_map(&squares[k], |g, v| g / (v.sqrt() + eps));
            w.zip_map(&update, |w, u| w - T::of(lr * scale) * u)
        });
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state(&self, params: &Params<T>) -> Params<T> {
        save_slots(params, &[("square", &self.squares)])
    }
    fn load_state(&mut self, params: &Params<T>, state: &Params<T>) -> Result<(), String> {
        self.squares = load_slot(params, state, "square")?;
        Ok(())
    }
}

/// Adagrad (Duchi et al. 2011): `s += g^2`, `w -= lr g / (sqrt(s) + eps)`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::optim::{Adagrad, Optimizer};
/// use metagrad_nn::Params;
///
/// // The same gradient twice: steps of lr, then lr / sqrt(2), as the squares accumulate.
/// let mut params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
/// let grads = params.map(|t| Tensor::full(t.shape(), 2.0));
/// let mut adagrad = Adagrad::new(0.1);
/// adagrad.step(&mut params, &grads);
/// assert!((params.get("w").unwrap().item() - 0.9).abs() < 1e-9);
/// adagrad.step(&mut params, &grads);
/// assert!((params.get("w").unwrap().item() - (0.9 - 0.1 / 2f64.sqrt())).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad<T: Float> {
    /// Learning rate.
    pub lr: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Learning-rate scales by parameter name.
    pub groups: ParamGroups,
    sums: Vec<Tensor<T>>,
}

impl<T: Float> Adagrad<T> {
    /// `eps = 1e-10`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::optim::{Adagrad, Optimizer};
    ///
    /// let adagrad = Adagrad::<f64>::new(0.05);
    /// assert_eq!((adagrad.eps, adagrad.learning_rate()), (1e-10, 0.05));
    /// ```
    pub fn new(lr: f64) -> Self {
        Adagrad { lr, eps: 1e-10, groups: ParamGroups::new(), sums: Vec::new() }
    }
}

impl<T: Float> Optimizer<T> for Adagrad<T> {
    fn step(&mut self, params: &mut Params<T>, grads: &Params<T>) {
        if self.sums.len() != params.len() {
            self.sums = zeros_like(params);
        }
        let (lr, eps) = (self.lr, T::of(self.eps));
        let sums = &mut self.sums;
        for_each(params, grads, &self.groups, |k, scale, w, g| {
            sums[k] = sums[k].zip_map(g, |s, g| s + g * g);
            let update = g.zip_map(&sums[k], |g, s| g / (s.sqrt() + eps));
            w.zip_map(&update, |w, u| w - T::of(lr * scale) * u)
        });
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state(&self, params: &Params<T>) -> Params<T> {
        save_slots(params, &[("sum", &self.sums)])
    }
    fn load_state(&mut self, params: &Params<T>, state: &Params<T>) -> Result<(), String> {
        self.sums = load_slot(params, state, "sum")?;
        Ok(())
    }
}

/// A learning rate as a function of the step.
///
/// # Examples
///
/// ```
/// use metagrad_nn::optim::Schedule;
///
/// let step = Schedule::Step { every: 10, gamma: 0.5 };
/// assert_eq!([0, 9, 10, 25].map(|s| step.at(1.0, s)), [1.0, 1.0, 0.5, 0.25]);
/// let exponential = Schedule::Exponential { gamma: 0.5 };
/// assert_eq!(exponential.at(2.0, 3), 0.25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// `base * gamma^(step / every)`.
    Step {
        /// Steps between decays.
        every: usize,
        /// Decay factor.
        gamma: f64,
    },
    /// `base * gamma^step`.
    Exponential {
        /// Decay per step.
        gamma: f64,
    },
    /// Linear warm-up to `base`, then cosine decay to `floor` at `total` (Loshchilov & Hutter 2017).
    CosineWarmup {
        /// Warm-up steps.
        warmup: usize,
        /// Total steps.
        total: usize,
        /// Final rate.
        floor: f64,
    },
}

impl Schedule {
    /// The rate at `step` for base rate `base`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::optim::Schedule;
    ///
    /// let cosine = Schedule::CosineWarmup { warmup: 4, total: 14, floor: 0.1 };
    /// // Linear warm-up over steps 0..4, reaching the base rate at step 3.
    /// assert_eq!([0, 1, 3].map(|s| cosine.at(1.0, s)), [0.25, 0.5, 1.0]);
    /// // Halfway through the decay, halfway between base and floor; the floor from `total` on.
    /// assert!((cosine.at(1.0, 9) - 0.55).abs() < 1e-12);
    /// assert!((cosine.at(1.0, 14) - 0.1).abs() < 1e-12 && (cosine.at(1.0, 100) - 0.1).abs() < 1e-12);
    /// ```
    pub fn at(&self, base: f64, step: usize) -> f64 {
        match *self {
            Schedule::Step { every, gamma } => base * gamma.powi((step / every.max(1)) as i32),
            Schedule::Exponential { gamma } => base * gamma.powi(step as i32),
            Schedule::CosineWarmup { warmup, total, floor } => {
                if step < warmup {
                    base * (step + 1) as f64 / warmup as f64
                } else {
                    let t = ((step - warmup) as f64 / (total.saturating_sub(warmup)).max(1) as f64).min(1.0);
                    floor + (base - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
                }
            }
        }
    }
}

/// Scales `grads` so that their global L2 norm is at most `max_norm`; returns the norm before.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::optim::clip_grad_norm;
/// use metagrad_nn::Params;
///
/// // Norm 5 over two tensors, clipped to 1: same direction, a fifth of the length.
/// let mut grads = Params::from_pairs([
///     ("a".to_string(), Tensor::scalar(3.0f64)),
///     ("b".to_string(), Tensor::scalar(4.0)),
/// ]);
/// assert_eq!(clip_grad_norm(&mut grads, 1.0), 5.0);
/// assert!((grads.get("a").unwrap().item() - 0.6).abs() < 1e-12);
/// assert!((grads.get("b").unwrap().item() - 0.8).abs() < 1e-12);
/// // Already within the limit: unchanged.
/// let before = grads.clone();
/// clip_grad_norm(&mut grads, 10.0);
/// assert_eq!(grads, before);
/// ```
pub fn clip_grad_norm<T: Float>(grads: &mut Params<T>, max_norm: f64) -> f64 {
    let norm = grads.l2_norm().to_f64().unwrap_or(f64::INFINITY);
    if norm > max_norm && norm.is_finite() {
        let factor = T::of(max_norm / norm);
        *grads = grads.map(|g| g.map(|v| v * factor));
    }
    norm
}

/// One SGD step recorded on the tape, `theta' = theta - lr * g`, for inner loops that are
/// differentiated through (MAML). `grads` are in the order of `params.vars()`.
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::optim::sgd_step;
/// use metagrad_nn::Params;
///
/// // L(w) = w^2 at w = 1; one step with lr 0.25 gives w' = w - 0.5 w = 0.5 w;
/// // the meta-loss w'^2 = 0.25 w^2 has gradient 0.5 w = 0.5 with respect to the original w.
/// let params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
/// let tape = Tape::new();
/// let p = params.on(&tape);
/// let adapted = sgd_step(&p, &p.grad_graph(p.get("w").square()), 0.25);
/// let meta = p.grad(adapted.get("w").square());
/// assert!((meta.get("w").unwrap().item() - 0.5).abs() < 1e-12);
/// ```
pub fn sgd_step<'t, T: Float>(params: &ParamVars<'t, T>, grads: &[Var<'t, T>], lr: T) -> ParamVars<'t, T> {
    let vars = params.vars();
    assert_eq!(vars.len(), grads.len(), "sgd_step: {} parameters but {} gradients", vars.len(), grads.len());
    ParamVars::from_pairs(
        params.names().into_iter().zip(vars.iter().zip(grads)).map(|(n, (w, g))| (n, *w - *g * lr)).collect(),
    )
}

/// Meta-SGD's step (Li et al. 2017): `theta' = theta - alpha (.) g` with a learned rate tensor
/// `alpha` per parameter (same names and shapes), itself a leaf that takes gradients.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::optim::meta_sgd_step;
/// use metagrad_nn::Params;
///
/// // L(w) = w^2 at w = 1 with alpha = 0.1: w' = w - alpha * 2w = 0.8, and the meta-loss
/// // w'^2 has gradient 2 w' * (-2w) = -3.2 with respect to alpha.
/// let params = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
/// let rates = Params::from_pairs([("w".to_string(), Tensor::scalar(0.1))]);
/// let tape = Tape::new();
/// let (p, alpha) = (params.on(&tape), rates.on(&tape));
/// let adapted = meta_sgd_step(&p, &p.grad_graph(p.get("w").square()), &alpha);
/// assert!((adapted.get("w").value().item() - 0.8).abs() < 1e-12);
/// let meta = alpha.grad(adapted.get("w").square());
/// assert!((meta.get("w").unwrap().item() + 3.2).abs() < 1e-12);
/// ```
pub fn meta_sgd_step<'t, T: Float>(
    params: &ParamVars<'t, T>,
    grads: &[Var<'t, T>],
    rates: &ParamVars<'t, T>,
) -> ParamVars<'t, T> {
    let vars = params.vars();
    assert_eq!(vars.len(), grads.len(), "meta_sgd_step: {} parameters but {} gradients", vars.len(), grads.len());
    let names = params.names();
    ParamVars::from_pairs(
        names.iter().zip(vars.iter().zip(grads)).map(|(n, (w, g))| (n.clone(), *w - *g * rates.get(n))).collect(),
    )
}
