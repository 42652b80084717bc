//! The one training loop every method runs: sample a batch, ask the method for its loss (plus
//! the optional centroid term), take an Adam step, let the method react (BYOL's average).

use super::{centroid_loss, stream, Augment, Method, Step, ENCODER, HEAD};
use crate::Labelled;
use metagrad_autodiff::{Float, Tape};
use metagrad_nn::optim::{Adam, Optimizer};
use metagrad_nn::{Context, Module, Params};
use rand::Rng;
use std::fmt;

/// How long and how to train.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{Config, Sampling};
///
/// let config = Config { steps: 10, ..Config::default() };
/// assert_eq!((config.batch_size, config.learning_rate, config.sampling), (128, 1e-3, Sampling::Uniform));
/// // No centroid regularisation unless asked for.
/// assert_eq!(config.centroid_weight, 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Optimiser steps.
    pub steps: usize,
    /// Images per step (each method makes its views of them).
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Decoupled weight decay (AdamW); 0 for plain Adam.
    pub weight_decay: f64,
    /// The weight of [`centroid_loss`] on the method's embeddings; 0 for none.
    pub centroid_weight: f64,
    /// The seed of initialisation, batches and views.
    pub seed: u64,
    /// How batches are drawn.
    pub sampling: Sampling,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            steps: 500,
            batch_size: 128,
            learning_rate: 1e-3,
            weight_decay: 1e-5,
            centroid_weight: 0.0,
            seed: 0,
            sampling: Sampling::Uniform,
        }
    }
}

/// How a step's images are drawn from the training set.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{pretrain, Augment, Config, Sampling, Supervised};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// // Four images, two of each class: P x K batches of 2 classes x 2 images.
/// let data = batch.concat(&batch);
/// let config = Config { steps: 2, batch_size: 4, sampling: Sampling::ClassBalanced { per_class: 2 }, ..Config::default() };
/// let run = pretrain(&encoder, &mut Supervised::new(3, 2), &data, &Augment::none(), &config, |_| {}).unwrap();
/// assert_eq!(run.losses.len(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// `batch_size` distinct images, uniformly (so no image is its own negative).
    Uniform,
    /// `batch_size / per_class` classes, then `per_class` distinct images of each (the P x K
    /// batches of Hermans et al. 2017): with labels as positives, every row then has
    /// positives, which uniform batches from thousands of classes rarely give.
    ClassBalanced {
        /// Images per class, at least 2.
        per_class: usize,
    },
}

/// The indices of one batch.
fn draw(data: &Labelled<impl Float>, by_class: &[Vec<usize>], config: &Config, rng: &mut impl Rng) -> Vec<usize> {
    use rand::seq::index::sample;
    match config.sampling {
        Sampling::Uniform => sample(rng, data.len(), config.batch_size.min(data.len())).into_vec(),
        Sampling::ClassBalanced { per_class } => {
            let usable: Vec<&Vec<usize>> = by_class.iter().filter(|c| c.len() >= per_class).collect();
            let classes = (config.batch_size / per_class).clamp(1, usable.len());
            sample(rng, usable.len(), classes)
                .into_iter()
                .flat_map(|c| {
                    let members = usable[c];
                    sample(rng, members.len(), per_class).into_iter().map(|k| members[k]).collect::<Vec<_>>()
                })
                .collect()
        }
    }
}

/// What a progress callback sees after each step.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{pretrain, Augment, Config, Supervised};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let config = Config { steps: 3, batch_size: 2, ..Config::default() };
/// let mut heard = Vec::new();
/// let run = pretrain(&encoder, &mut Supervised::new(3, 2), &batch, &Augment::none(), &config, |p| heard.push(p)).unwrap();
/// // Steps counted from 1, each with the loss the run records.
/// assert_eq!(heard.iter().map(|p| p.step).collect::<Vec<_>>(), vec![1, 2, 3]);
/// assert_eq!(heard.iter().map(|p| p.loss).collect::<Vec<_>>(), run.losses);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Steps done.
    pub step: usize,
    /// This step's loss (before the update).
    pub loss: f64,
}

/// A trained encoder and heads.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{pretrain, Augment, Config, Supervised};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let config = Config { steps: 2, batch_size: 2, ..Config::default() };
/// let run = pretrain(&encoder, &mut Supervised::new(3, 2), &batch, &Augment::none(), &config, |_| {}).unwrap();
/// // The encoder's and the head's parameters, and one loss per step.
/// assert!(run.params.names().all(|n| n.starts_with("encoder.") || n.starts_with("head.classifier.")));
/// assert_eq!(run.losses.len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Pretrained<T: Float> {
    /// All parameters: `"encoder.…"` and `"head.…"`.
    pub params: Params<T>,
    /// Batch-norm running statistics, named like the parameters.
    pub state: Params<T>,
    /// The loss of every step.
    pub losses: Vec<f64>,
}

impl<T: Float> Pretrained<T> {
    /// The encoder's parameters and running statistics, named relative to the encoder.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{pretrain, Augment, Config, Supervised};
    /// use metagrad_nn::Module;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let config = Config { steps: 1, batch_size: 2, ..Config::default() };
    /// let run = pretrain(&encoder, &mut Supervised::new(3, 2), &batch, &Augment::none(), &config, |_| {}).unwrap();
    /// let (params, _) = run.encoder();
    /// // Named as the encoder itself names them, ready for `features` or a probe; no head.
    /// let fresh = encoder.init(&mut StdRng::seed_from_u64(0));
    /// assert_eq!(params.names().collect::<Vec<_>>(), fresh.names().collect::<Vec<_>>());
    /// ```
    pub fn encoder(&self) -> (Params<T>, Params<T>) {
        let strip =
            |all: &Params<T>| {
                Params::from_pairs(all.iter().filter_map(|(n, v)| {
                    n.strip_prefix(&format!("{ENCODER}.")).map(|rest| (rest.to_string(), v.clone()))
                }))
            };
        (strip(&self.params), strip(&self.state))
    }
}

/// Training stopped because the loss stopped being a number.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::Diverged;
///
/// let error = Diverged { step: 12, loss: f64::INFINITY };
/// assert_eq!(error.to_string(), "the loss became inf at step 12; try a smaller learning rate");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    /// The step whose loss was not finite.
    pub step: usize,
    /// That loss.
    pub loss: f64,
}

impl fmt::Display for Diverged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the loss became {} at step {}; try a smaller learning rate", self.loss, self.step)
    }
}

impl std::error::Error for Diverged {}

/// Fresh parameters for `encoder` and the method's heads, and their initial running
/// statistics.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{initial, Supervised};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let method = Supervised::new(3, 2);
/// let (params, state) = initial(&encoder, &method, 4);
/// // Reproducible from the seed; no batch-norm here, so no running statistics.
/// assert_eq!(initial(&encoder, &method, 4).0, params);
/// assert_ne!(initial(&encoder, &method, 5).0, params);
/// assert!(state.is_empty());
/// ```
pub fn initial<T: Float>(encoder: &dyn Module<T>, method: &dyn Method<T>, seed: u64) -> (Params<T>, Params<T>) {
    let mut rng = stream(seed, u64::MAX);
    let (mut params, mut state) = (Params::new(), Params::new());
    params.extend_prefixed(ENCODER, encoder.init(&mut rng));
    state.extend_prefixed(ENCODER, encoder.init_state());
    for (name, head) in method.heads() {
        params.extend_prefixed(&format!("{HEAD}.{name}"), head.init(&mut rng));
        state.extend_prefixed(&format!("{HEAD}.{name}"), head.init_state());
    }
    (params, state)
}

/// Trains `encoder` with `method` on `data` (images `[n, c, h, w]`), calling `progress` after
/// every step.
///
/// # Errors
/// [`Diverged`] if a loss is not finite (the parameters are not updated with it).
///
/// # Panics
/// If `data` is empty or `config.batch_size` is 0, or class-balanced sampling asks for fewer
/// than 2 images per class or no class has that many.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{pretrain, Augment, Config, Supervised};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let config = Config { steps: 10, batch_size: 2, learning_rate: 0.05, ..Config::default() };
/// let run = pretrain(&encoder, &mut Supervised::new(3, 2), &batch, &Augment::none(), &config, |_| {}).unwrap();
/// // One loss per step, falling as the two images are told apart.
/// assert_eq!(run.losses.len(), 10);
/// assert!(run.losses[9] < run.losses[0]);
/// ```
pub fn pretrain<T: Float>(
    encoder: &dyn Module<T>,
    method: &mut dyn Method<T>,
    data: &Labelled<T>,
    augment: &Augment,
    config: &Config,
    mut progress: impl FnMut(Progress),
) -> Result<Pretrained<T>, Diverged> {
    assert!(!data.is_empty() && config.batch_size > 0, "pretrain: needs examples and a batch size above 0");
    let classes = data.labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class = vec![Vec::new(); classes];
    for (i, &label) in data.labels.iter().enumerate() {
        by_class[label].push(i);
    }
    if let Sampling::ClassBalanced { per_class } = config.sampling {
        assert!(
            per_class >= 2 && by_class.iter().any(|c| c.len() >= per_class),
            "pretrain: class-balanced batches of {per_class} per class need classes with that many images (and at least 2)"
        );
    }
    let (mut params, state) = initial(encoder, method, config.seed);
    method.begin(&params);
    let mut ctx = Context::train(state, config.seed);
    let mut optimizer: Adam<T> = Adam::adamw(config.learning_rate, config.weight_decay);
    let mut losses = Vec::with_capacity(config.steps);
    for step in 0..config.steps {
        let mut rng = stream(config.seed, step as u64);
        let batch = data.select(&draw(data, &by_class, config, &mut rng));
        let tape = Tape::new();
        let vars = params.on(&tape);
        let objective = method.objective(encoder, &vars, &Step { batch: &batch, augment, seed: rng.gen() }, &mut ctx);
        let loss = match (&objective.embeddings, config.centroid_weight) {
            (Some((z, groups)), w) if w > 0.0 => objective.loss + centroid_loss(*z, groups) * T::of(w),
            _ => objective.loss,
        };
        let value = loss.item().to_f64().unwrap_or(f64::NAN);
        if !value.is_finite() {
            return Err(Diverged { step, loss: value });
        }
        let grads = vars.grad(loss);
        optimizer.step(&mut params, &grads);
        method.after_step(&params);
        losses.push(value);
        progress(Progress { step: step + 1, loss: value });
    }
    Ok(Pretrained { params, state: ctx.state, losses })
}
