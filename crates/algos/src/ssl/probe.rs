//! Judging a representation: a linear probe and k-nearest-neighbour accuracy on frozen
//! features.
//!
//! - **Linear probe** (the protocol of SimCLR, BYOL and Barlow Twins): the encoder is frozen,
//!   its features are standardised with the training set's mean and deviation, and a softmax
//!   regression `y = softmax(W h + b)` is fitted with Adam on the labelled training examples;
//!   the score is its test accuracy.
//! - **k-NN**: each test example takes the majority class of its `k` nearest training
//!   examples by cosine similarity (ties go to the class with the larger summed similarity).
//!   Wu et al. (2018) weight the votes by `exp(similarity / tau)`; the plain vote is simpler
//!   and, for `k = 1`, the one-shot nearest neighbour.

use crate::par::*;
use crate::Labelled;
use metagrad_autodiff::{Float, Tape, Tensor};
use metagrad_nn::layers::Linear;
use metagrad_nn::loss::{accuracy, cross_entropy, Reduction, Targets};
use metagrad_nn::optim::{Adam, Optimizer};
use metagrad_nn::{Context, Module, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The encoder's features of `images` (`[n, …]`) in evaluation mode (running statistics of
/// `state`), computed `chunk` images at a time: `[n, features]`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::probe::features;
/// use metagrad_nn::{Module, Params};
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
/// let params = encoder.init(&mut StdRng::seed_from_u64(0));
/// let images = batch.concat(&batch).concat(&batch).inputs; // six images
/// let whole = features(&encoder, &params, &Params::new(), &images, 100);
/// // One feature row per image, whatever the chunk size.
/// assert_eq!(whole.shape(), &[6, 3]);
/// assert_eq!(features(&encoder, &params, &Params::new(), &images, 4), whole);
/// ```
pub fn features<T: Float>(
    encoder: &dyn Module<T>,
    params: &Params<T>,
    state: &Params<T>,
    images: &Tensor<T>,
    chunk: usize,
) -> Tensor<T> {
    let all = Labelled::new(images.clone(), vec![0; images.shape()[0]]);
    let mut rows = Vec::new();
    let mut width = 0;
    for start in (0..all.len()).step_by(chunk.max(1)) {
        let indices: Vec<usize> = (start..(start + chunk.max(1)).min(all.len())).collect();
        let tape = Tape::new();
        let p = params.on(&tape);
        let mut ctx = Context::eval(state.clone());
        let out = tape.no_grad(|| encoder.forward(&p, tape.constant(all.select(&indices).inputs), &mut ctx).value());
        width = out.shape()[1..].iter().product();
        rows.extend(out.to_vec());
    }
    Tensor::from_vec(&[all.len(), width], rows)
}

/// How the linear probe is fitted.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::probe::ProbeConfig;
///
/// let config = ProbeConfig { epochs: 5, ..ProbeConfig::default() };
/// assert_eq!((config.batch_size, config.learning_rate, config.weight_decay), (256, 1e-3, 1e-4));
/// assert_eq!(ProbeConfig::default().epochs, 30);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeConfig {
    /// Passes over the labelled examples.
    pub epochs: usize,
    /// Examples per Adam step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay on the classifier (weights and bias).
    pub weight_decay: f64,
    /// The seed of the classifier's initialisation and the batch order.
    pub seed: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig { epochs: 30, batch_size: 256, learning_rate: 1e-3, weight_decay: 1e-4, seed: 0 }
    }
}

/// Per-column mean of `x` (`[n, d]`), and the factor that scales each column to unit
/// deviation. A feature constant on the training set (a dead unit) carries nothing a probe
/// could learn, and dividing by its ~0 deviation would blow up its first non-zero value at
/// test time: its factor is 0 instead.
fn column_moments(x: &[f32], d: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (x.len() / d.max(1)).max(1) as f64;
    let mut sum = vec![0f64; d];
    let mut square = vec![0f64; d];
    for row in x.chunks(d) {
        for (j, &v) in row.iter().enumerate() {
            sum[j] += f64::from(v);
            square[j] += f64::from(v) * f64::from(v);
        }
    }
    let scale = sum
        .iter()
        .zip(&square)
        .map(|(s, q)| {
            let std = (q / n - (s / n).powi(2)).max(0.0).sqrt();
            if std > 1e-6 {
                (1.0 / std) as f32
            } else {
                0.0
            }
        })
        .collect();
    (sum.iter().map(|s| (s / n) as f32).collect(), scale)
}

fn standardize(x: &Tensor<f32>, mean: &[f32], scale: &[f32]) -> Tensor<f32> {
    let d = mean.len();
    let values = x
        .to_vec()
        .chunks(d)
        .flat_map(|row| row.iter().enumerate().map(|(j, v)| (v - mean[j]) * scale[j]).collect::<Vec<_>>())
        .collect();
    Tensor::from_vec(x.shape(), values)
}

/// Fits a softmax regression on `train` features (`[n, d]`, with labels in `0..classes`) and
/// returns its accuracy on `test`.
///
/// # Panics
/// If `train` is empty or a label is not below `classes`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::probe::{linear_probe, ProbeConfig};
/// use metagrad_algos::Labelled;
/// use metagrad_autodiff::Tensor;
///
/// // Features whose first coordinate's sign is the class; the second is noise.
/// let points = |xs: &[(f32, f32)]| {
///     let labels = xs.iter().map(|&(a, _)| usize::from(a > 0.0)).collect();
///     Labelled::new(Tensor::from_vec(&[xs.len(), 2], xs.iter().flat_map(|&(a, b)| [a, b]).collect()), labels)
/// };
/// let train = points(&[(-2.0, 0.3), (-1.0, -0.5), (-1.5, 0.1), (1.0, 0.2), (2.0, -0.4), (1.5, 0.5)]);
/// let test = points(&[(-1.2, 0.0), (0.9, 0.4), (-0.8, -0.3), (2.5, 0.1)]);
/// let config = ProbeConfig { epochs: 20, batch_size: 6, learning_rate: 0.1, ..ProbeConfig::default() };
/// assert_eq!(linear_probe(&train, &test, 2, &config), 1.0);
/// ```
pub fn linear_probe(train: &Labelled<f32>, test: &Labelled<f32>, classes: usize, config: &ProbeConfig) -> f64 {
    assert!(!train.is_empty(), "linear_probe: no training examples");
    let d = train.inputs.shape()[1];
    let (mean, scale) = column_moments(&train.inputs.to_vec(), d);
    let train = Labelled::new(standardize(&train.inputs, &mean, &scale), train.labels.clone());
    let test = Labelled::new(standardize(&test.inputs, &mean, &scale), test.labels.clone());
    let head = Linear::new(d, classes);
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut params: Params<f32> = head.init(&mut rng);
    let mut optimizer = Adam::adamw(config.learning_rate, config.weight_decay);
    for _ in 0..config.epochs {
        for batch in train.epoch(Some(config.batch_size), &mut rng) {
            let tape = Tape::new();
            let p = params.on(&tape);
            let logits = head.forward(&p, tape.constant(batch.inputs), &mut Context::eval(Params::new()));
            let grads = p.grad(cross_entropy(logits, Targets::Classes(&batch.labels), 0.0, Reduction::Mean));
            optimizer.step(&mut params, &grads);
        }
    }
    let tape = Tape::new();
    let p = params.on(&tape);
    let logits = tape
        .no_grad(|| head.forward(&p, tape.constant(test.inputs.clone()), &mut Context::eval(Params::new())).value());
    accuracy(&logits, &test.labels)
}

/// The accuracy of a `k`-nearest-neighbour vote by cosine similarity: each row of `queries`
/// against the rows of `bank` (both `[n, d]` features).
///
/// # Panics
/// If `bank` is empty, `k` is 0, the feature sizes differ, or a bank label is not below
/// `classes`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::probe::knn_accuracy;
/// use metagrad_algos::Labelled;
/// use metagrad_autodiff::Tensor;
///
/// let bank = Labelled::new(Tensor::from_vec(&[3, 2], vec![1.0f32, 0.0, 1.0, 1.0, 0.9, 1.0]), vec![0, 1, 1]);
/// let query = Labelled::new(Tensor::from_vec(&[1, 2], vec![5.0f32, 0.5]), vec![0]);
/// // By cosine, the query's nearest neighbour is (1, 0), of its class; but two of its three
/// // nearest are of class 1, which outvotes it.
/// assert_eq!(knn_accuracy(&bank, &query, 2, 1), 1.0);
/// assert_eq!(knn_accuracy(&bank, &query, 2, 3), 0.0);
/// ```
pub fn knn_accuracy(bank: &Labelled<f32>, queries: &Labelled<f32>, classes: usize, k: usize) -> f64 {
    assert!(!bank.is_empty() && k > 0, "knn_accuracy: needs a bank and k above 0");
    let d = bank.inputs.shape()[1];
    assert_eq!(queries.inputs.shape()[1], d, "knn_accuracy: features of different sizes");
    let unit = |x: &Tensor<f32>| {
        let values = x.to_vec();
        let rows: Vec<f32> = values
            .chunks(d)
            .flat_map(|row| {
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                row.iter().map(move |v| v / norm).collect::<Vec<_>>()
            })
            .collect();
        Tensor::from_vec(x.shape(), rows)
    };
    let (bank_unit, query_unit) = (unit(&bank.inputs), unit(&queries.inputs).to_vec());
    let chunk = 256;
    let correct: usize = (0..queries.len())
        .step_by(chunk)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|start| {
            let rows: Vec<usize> = (start..(start + chunk).min(queries.len())).collect();
            let block = Tensor::from_vec(&[rows.len(), d], query_unit[start * d..(start + rows.len()) * d].to_vec());
            let tape = Tape::new();
            // (Cloning a tensor shares its buffer.)
            let similarity =
                tape.no_grad(|| tape.constant(block).matmul(tape.constant(bank_unit.clone()).t()).value()).to_vec();
            let m = bank.len();
            rows.iter()
                .enumerate()
                .filter(|(r, &q)| {
                    let row = &similarity[r * m..(r + 1) * m];
                    let mut order: Vec<usize> = (0..m).collect();
                    let k = k.min(m);
                    order.select_nth_unstable_by(k - 1, |a, b| row[*b].total_cmp(&row[*a]));
                    let mut votes = vec![(0usize, 0f32); classes];
                    for &j in &order[..k] {
                        votes[bank.labels[j]].0 += 1;
                        votes[bank.labels[j]].1 += row[j];
                    }
                    let best = (0..classes)
                        .max_by(|&a, &b| votes[a].0.cmp(&votes[b].0).then(votes[a].1.total_cmp(&votes[b].1)))
                        .expect("classes > 0");
                    best == queries.labels[q]
                })
                .count()
        })
        .sum();
    correct as f64 / queries.len().max(1) as f64
}
