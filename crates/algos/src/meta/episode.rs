//! Episodes (a task's support and query sets) and the episode loop every method shares.

use super::MetaMethod;
use crate::par::*;
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use metagrad_nn::loss::{self, Reduction, Targets};
use metagrad_nn::optim::{clip_grad_norm, Optimizer};
use metagrad_nn::{Module, Params};

/// What a batch's examples should produce.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{Batch, Target};
/// use metagrad_autodiff::Tensor;
///
/// // The constructor decides the kind of target, and with it the loss.
/// let classes = Batch::classification(Tensor::<f64>::zeros(&[2, 3]), vec![1, 0]);
/// assert_eq!(classes.target, Target::Classes(vec![1, 0]));
/// let values = Batch::regression(Tensor::<f64>::zeros(&[2, 1]), Tensor::ones(&[2, 1]));
/// assert!(matches!(values.target, Target::Values(_)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Target<T: Float> {
    /// Regression targets, `[n, outputs]`: the loss is the mean squared error.
    Values(Tensor<T>),
    /// Class indices within the episode (`0..ways`): the loss is cross-entropy.
    Classes(Vec<usize>),
}

/// Inputs and targets of one set of examples (a support or a query set).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::Batch;
/// use metagrad_autodiff::Tensor;
///
/// // Two 3-value inputs with their classes.
/// let batch = Batch::classification(Tensor::<f64>::zeros(&[2, 3]), vec![2, 0]);
/// assert_eq!((batch.len(), batch.inputs.shape()), (2, &[2, 3][..]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<T: Float> {
    /// Inputs, first axis the example.
    pub inputs: Tensor<T>,
    /// Targets, one per example.
    pub target: Target<T>,
}

impl<T: Float> Batch<T> {
    /// A regression batch.
    ///
    /// # Panics
    /// If the inputs and targets disagree on the number of examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Batch;
    /// use metagrad_autodiff::Tensor;
    ///
    /// let batch = Batch::regression(Tensor::<f64>::zeros(&[4, 1]), Tensor::zeros(&[4, 1]));
    /// assert_eq!(batch.len(), 4);
    /// // Four inputs, three targets: refused.
    /// let (inputs, targets) = (Tensor::<f64>::zeros(&[4, 1]), Tensor::zeros(&[3, 1]));
    /// let short = std::panic::catch_unwind(|| Batch::regression(inputs, targets));
    /// assert!(short.is_err());
    /// ```
    pub fn regression(inputs: Tensor<T>, targets: Tensor<T>) -> Self {
        assert_eq!(inputs.shape()[0], targets.shape()[0], "Batch::regression: inputs and targets differ in length");
        Batch { inputs, target: Target::Values(targets) }
    }

    /// A classification batch.
    ///
    /// # Panics
    /// If the inputs and labels disagree on the number of examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Batch;
    /// use metagrad_autodiff::Tensor;
    ///
    /// let batch = Batch::classification(Tensor::<f64>::zeros(&[3, 2]), vec![0, 1, 1]);
    /// assert_eq!(batch.len(), 3);
    /// // Three inputs, two labels: refused.
    /// assert!(std::panic::catch_unwind(|| Batch::classification(Tensor::<f64>::zeros(&[3, 2]), vec![0, 1])).is_err());
    /// ```
    pub fn classification(inputs: Tensor<T>, labels: Vec<usize>) -> Self {
        assert_eq!(inputs.shape()[0], labels.len(), "Batch::classification: inputs and labels differ in length");
        Batch { inputs, target: Target::Classes(labels) }
    }

    /// Number of examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Batch;
    /// use metagrad_autodiff::Tensor;
    ///
    /// // The first axis of the inputs, whatever the shape of an example.
    /// let images = Batch::classification(Tensor::<f64>::zeros(&[5, 1, 4, 4]), vec![0; 5]);
    /// assert_eq!(images.len(), 5);
    /// ```
    pub fn len(&self) -> usize {
        self.inputs.shape()[0]
    }

    /// True when there are no examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Batch;
    /// use metagrad_autodiff::Tensor;
    ///
    /// assert!(Batch::classification(Tensor::<f64>::zeros(&[0, 2]), vec![]).is_empty());
    /// assert!(!Batch::classification(Tensor::<f64>::zeros(&[1, 2]), vec![0]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The mean loss of `prediction` against this batch's targets (MSE or cross-entropy).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Batch;
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// // Regression: the mean of (1 - 0)^2 and (3 - 1)^2, differentiable on the tape.
    /// let batch = Batch::regression(Tensor::zeros(&[2, 1]), Tensor::from_vec(&[2, 1], vec![0.0, 1.0]));
    /// let tape = Tape::new();
    /// let prediction = tape.var(Tensor::from_vec(&[2, 1], vec![1.0f64, 3.0]));
    /// let loss = batch.loss(prediction);
    /// assert_eq!(loss.item(), 2.5);
    /// // d/dp of the mean squared error: 2 (p - y) / 2.
    /// assert_eq!(tape.grad(loss, &[prediction])[0].to_vec(), vec![1.0, 2.0]);
    /// ```
    pub fn loss<'t>(&self, prediction: Var<'t, T>) -> Var<'t, T> {
        match &self.target {
            Target::Values(y) => loss::mse(prediction, prediction.constant(y.clone()), Reduction::Mean),
            Target::Classes(labels) => loss::cross_entropy(prediction, Targets::Classes(labels), 0.0, Reduction::Mean),
        }
    }

    /// The value of [`Batch::loss`] for a fixed prediction.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Batch;
    /// use metagrad_autodiff::Tensor;
    ///
    /// // Two classes with equal logits: cross-entropy ln 2 for each example.
    /// let batch = Batch::classification(Tensor::<f64>::zeros(&[2, 1]), vec![0, 1]);
    /// let loss = batch.loss_value(&Tensor::zeros(&[2, 2]));
    /// assert!((loss - 2f64.ln()).abs() < 1e-12);
    /// ```
    pub fn loss_value(&self, prediction: &Tensor<T>) -> f64 {
        let tape = Tape::new();
        tape.no_grad(|| self.loss(tape.constant(prediction.clone())).item().to_f64().unwrap_or(f64::NAN))
    }

    /// How good `prediction` is: the mean squared error for regression, the accuracy for
    /// classification.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Batch;
    /// use metagrad_autodiff::Tensor;
    ///
    /// // Classification: the fraction of rows whose largest logit is the label.
    /// let classes = Batch::classification(Tensor::<f64>::zeros(&[2, 1]), vec![0, 1]);
    /// assert_eq!(classes.score(&Tensor::from_vec(&[2, 2], vec![2.0, 1.0, 3.0, 0.0])), 0.5);
    /// // Regression: the mean squared error, ((1 - 0)^2 + (1 - 3)^2) / 2.
    /// let values = Batch::regression(Tensor::zeros(&[2, 1]), Tensor::from_vec(&[2, 1], vec![0.0, 3.0]));
    /// assert_eq!(values.score(&Tensor::ones(&[2, 1])), 2.5);
    /// ```
    pub fn score(&self, prediction: &Tensor<T>) -> f64 {
        match &self.target {
            Target::Values(y) => {
                let sq = prediction.zip_map(y, |p, t| (p - t) * (p - t));
                sq.sum_all().to_f64().unwrap_or(f64::NAN) / sq.len() as f64
            }
            Target::Classes(labels) => loss::accuracy(prediction, labels),
        }
    }
}

/// One task: adapt on `support`, be judged on `query`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{Batch, Episode};
/// use metagrad_autodiff::Tensor;
///
/// // One support example per class, two queries.
/// let episode = Episode {
///     support: Batch::classification(Tensor::<f64>::zeros(&[2, 3]), vec![0, 1]),
///     query: Batch::classification(Tensor::zeros(&[2, 3]), vec![1, 0]),
/// };
/// assert_eq!((episode.support.len(), episode.query.len()), (2, 2));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Episode<T: Float> {
    /// The examples the learner adapts to.
    pub support: Batch<T>,
    /// The examples the adapted learner is judged on.
    pub query: Batch<T>,
}

/// What one meta-iteration measured.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{meta_step, Batch, Episode, Reptile};
/// use metagrad_nn::optim::Sgd;
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Params, Sequential};
///
/// // f(x) = w x from w = 1; the support set is the point (1, 0), the query set (1, 1).
/// # let model = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
/// # let mut meta = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0]))]);
/// # let column = |v: f64| Tensor::from_vec(&[1, 1], vec![v]);
/// # let point = |x: f64, y: f64| Batch::regression(column(x), column(y));
/// # let episode = Episode { support: point(1.0, 0.0), query: point(1.0, 1.0) };
/// // Reptile's task gradient is 1 - 0.5 = 0.5 (see `Reptile`); its norm is measured before
/// // clipping, and the query loss is taken before the update.
/// let step = meta_step(&Reptile::new(1, 0.25), &model, &mut meta, &[episode], &mut Sgd::new(1.0), Some(0.1));
/// assert_eq!(step.grad_norm, 0.5);
/// assert_eq!(step.query_loss, 0.25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetaStep {
    /// Mean query loss over the meta-batch, after adaptation, before the update.
    pub query_loss: f64,
    /// The meta-gradient's L2 norm before clipping.
    pub grad_norm: f64,
}

/// The mean meta-gradient over `episodes` and the mean query loss.
///
/// Tasks run in parallel (one tape each); their gradients are summed in task order, so the
/// result is bit-identical whatever the number of threads.
///
/// # Panics
/// If `episodes` is empty.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{meta_gradient, Batch, Episode, Reptile};
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
/// // Reptile moves w to 0.5 on this support set and to 1 - 0.25 * 2 * (1 - 1) = 1 on a second
/// // task whose support point is (1, 1): gradients 0.5 and 0, mean 0.25.
/// let other = Episode { support: point(1.0, 1.0), query: point(1.0, 1.0) };
/// let (grads, loss) = meta_gradient(&Reptile::new(1, 0.25), &model, &meta, &[episode, other]);
/// assert_eq!(grads.get("0.weight").unwrap().item(), 0.25);
/// // Query losses (0.5 - 1)^2 and 0, averaged.
/// assert_eq!(loss, 0.125);
/// ```
pub fn meta_gradient<T: Float>(
    method: &dyn MetaMethod<T>,
    model: &dyn Module<T>,
    meta: &Params<T>,
    episodes: &[Episode<T>],
) -> (Params<T>, f64) {
    assert!(!episodes.is_empty(), "meta_gradient: no episodes");
    let per_task: Vec<_> = episodes.par_iter().map(|e| method.task_gradient(model, meta, e)).collect();
    let scale = T::one() / T::of(episodes.len() as f64);
    let mut sum = per_task[0].grads.clone();
    for task in &per_task[1..] {
        sum = sum.axpy(T::one(), &task.grads);
    }
    let loss = per_task.iter().map(|t| t.query_loss).sum::<f64>() / episodes.len() as f64;
    (sum.map(|g| g.map(|v| v * scale)), loss)
}

/// One meta-iteration: the mean meta-gradient over `episodes`, clipped to L2 norm `clip` if
/// given (deep unrolls can explode), then one step of `optimizer` on `meta`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{meta_step, Batch, Episode, Maml};
/// use metagrad_nn::optim::Sgd;
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Params, Sequential};
///
/// // f(x) = w x from w = 1; the support set is the point (1, 0), the query set (1, 1).
/// # let model = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
/// # let mut meta = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0]))]);
/// # let column = |v: f64| Tensor::from_vec(&[1, 1], vec![v]);
/// # let point = |x: f64, y: f64| Batch::regression(column(x), column(y));
/// # let episode = Episode { support: point(1.0, 0.0), query: point(1.0, 1.0) };
/// // MAML's meta-gradient here is -0.5 (see `Maml::new`); SGD of rate 1 moves w to 1.5.
/// let step = meta_step(&Maml::new(1, 0.25), &model, &mut meta, &[episode], &mut Sgd::new(1.0), None);
/// assert!((step.grad_norm - 0.5).abs() < 1e-12);
/// assert!((meta.get("0.weight").unwrap().item() - 1.5).abs() < 1e-12);
/// ```
pub fn meta_step<T: Float>(
    method: &dyn MetaMethod<T>,
    model: &dyn Module<T>,
    meta: &mut Params<T>,
    episodes: &[Episode<T>],
    optimizer: &mut dyn Optimizer<T>,
    clip: Option<f64>,
) -> MetaStep {
    let (mut grads, query_loss) = meta_gradient(method, model, meta, episodes);
    let grad_norm = match clip {
        Some(max) => clip_grad_norm(&mut grads, max),
        None => grads.l2_norm().to_f64().unwrap_or(f64::NAN),
    };
    optimizer.step(meta, &grads);
    MetaStep { query_loss, grad_norm }
}

/// The mean and the half-width of the 95% confidence interval of a score over episodes.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::Score;
///
/// let score = Score::of(&[0.5, 0.7]);
/// assert!((score.mean - 0.6).abs() < 1e-12);
/// assert!(score.ci95 > 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Mean over episodes.
    pub mean: f64,
    /// `1.96 * standard deviation / sqrt(episodes)`.
    pub ci95: f64,
}

impl Score {
    /// The mean and 95% interval of `values`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::Score;
    ///
    /// // Mean 2 and sample standard deviation sqrt 2 over 2 values: 1.96 sqrt 2 / sqrt 2.
    /// let score = Score::of(&[1.0, 3.0]);
    /// assert_eq!(score.mean, 2.0);
    /// assert!((score.ci95 - 1.96).abs() < 1e-12);
    /// // A single value has no spread.
    /// assert_eq!(Score::of(&[0.8]).ci95, 0.0);
    /// ```
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var =
            if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        Score { mean, ci95: 1.96 * var.sqrt() / n.sqrt() }
    }
}

/// The query score (MSE or accuracy, see [`Batch::score`]) after each step count in `steps`,
/// over `episodes` (run in parallel, reduced in order).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{evaluate, Batch, Episode, Reptile};
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
/// // After 0, 1 and 2 SGD steps on w^2, w is 1, 0.5 and 0.25: the query MSE (w - 1)^2 grows.
/// let scores = evaluate(&Reptile::new(1, 0.25), &model, &meta, &[episode], &[0, 1, 2]);
/// let means: Vec<f64> = scores.iter().map(|s| s.mean).collect();
/// assert_eq!(means, vec![0.0, 0.25, 0.5625]);
/// // One episode: no interval.
/// assert_eq!(scores[0].ci95, 0.0);
/// ```
pub fn evaluate<T: Float>(
    method: &dyn MetaMethod<T>,
    model: &dyn Module<T>,
    meta: &Params<T>,
    episodes: &[Episode<T>],
    steps: &[usize],
) -> Vec<Score> {
    let per_task: Vec<Vec<f64>> = episodes
        .par_iter()
        .map(|e| {
            let predictions = method.adapted_predictions(model, meta, &e.support, &e.query.inputs, steps);
            predictions.iter().map(|p| e.query.score(p)).collect()
        })
        .collect();
    (0..steps.len()).map(|k| Score::of(&per_task.iter().map(|t| t[k]).collect::<Vec<_>>())).collect()
}
