//! Losses, each a composite of differentiable ops (so second-order methods can use them).
//! Every loss takes a [`Reduction`]: the mean or sum over examples, or none (per example).

use metagrad_autodiff::{one_hot, Float, Tensor, Var};

/// How per-example losses combine.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{nll, Reduction};
///
/// let tape = Tape::<f64>::new();
/// let log_probs = tape.var(Tensor::from_vec(&[2, 2], vec![-1.0, -2.0, -3.0, -4.0]));
/// // Per-example losses -log p[label] = [1, 4]: their sum, their mean, or both kept.
/// assert_eq!(nll(log_probs, &[0, 1], Reduction::None).value().to_vec(), vec![1.0, 4.0]);
/// assert_eq!(nll(log_probs, &[0, 1], Reduction::Sum).item(), 5.0);
/// assert_eq!(nll(log_probs, &[0, 1], Reduction::Mean).item(), 2.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Mean over examples.
    Mean,
    /// Sum over examples.
    Sum,
    /// One loss per example (shape `[N]`).
    None,
}

/// Reduces per-example losses `[N]`.
fn reduce<'t, T: Float>(per_example: Var<'t, T>, reduction: Reduction) -> Var<'t, T> {
    match reduction {
        Reduction::Mean => per_example.mean(),
        Reduction::Sum => per_example.sum(),
        Reduction::None => per_example,
    }
}

/// Sums everything but the first axis: `[N, ...] -> [N]`.
fn per_example<'t, T: Float>(x: Var<'t, T>) -> Var<'t, T> {
    let axes: Vec<usize> = (1..x.ndim()).collect();
    if axes.is_empty() {
        x
    } else {
        x.sum_axes(&axes, false)
    }
}

fn check_same_shape<T: Float>(what: &str, a: Var<'_, T>, b: Var<'_, T>) {
    assert_eq!(
        a.shape(),
        b.shape(),
        "{what}: prediction of shape {:?} and target of shape {:?} differ",
        a.shape(),
        b.shape()
    );
}

/// Squared error `sum (pred - target)^2` per example (the Gaussian negative log-likelihood with
/// unit variance, up to a factor 1/2 and a constant).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{mse, Reduction};
///
/// let tape = Tape::<f64>::new();
/// let prediction = tape.var(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]));
/// let target = tape.constant(Tensor::ones(&[2, 2]));
/// // Squared errors [[0, 1], [4, 9]]: summed per example, and `Mean` over all four elements.
/// assert_eq!(mse(prediction, target, Reduction::None).value().to_vec(), vec![1.0, 13.0]);
/// assert_eq!(mse(prediction, target, Reduction::Sum).item(), 14.0);
/// assert_eq!(mse(prediction, target, Reduction::Mean).item(), 3.5);
/// ```
pub fn mse<'t, T: Float>(prediction: Var<'t, T>, target: Var<'t, T>, reduction: Reduction) -> Var<'t, T> {
    check_same_shape("mse", prediction, target);
    let per = per_example((prediction - target).square());
    // Mean over every element (the usual MSE), not only over examples.
    match reduction {
        Reduction::Mean => (prediction - target).square().mean(),
        _ => reduce(per, reduction),
    }
}

/// Huber loss (Huber 1964): quadratic within `delta`, linear beyond, per element, summed per
/// example (`Mean` averages over all elements).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{huber, Reduction};
///
/// let tape = Tape::<f64>::new();
/// let prediction = tape.var(Tensor::from_vec(&[2, 1], vec![0.5, 3.0]));
/// let target = tape.constant(Tensor::zeros(&[2, 1]));
/// // |d| = 0.5 is within delta = 1: 0.5 d^2 = 0.125. |d| = 3 is beyond: delta (|d| - delta / 2) = 2.5.
/// let l = huber(prediction, target, 1.0, Reduction::None);
/// assert_eq!(l.value().to_vec(), vec![0.125, 2.5]);
/// ```
pub fn huber<'t, T: Float>(prediction: Var<'t, T>, target: Var<'t, T>, delta: f64, reduction: Reduction) -> Var<'t, T> {
    check_same_shape("huber", prediction, target);
    let d = prediction - target;
    let a = d.abs();
    let quadratic = d.square() * T::of(0.5);
    let linear = (a - T::of(0.5 * delta)) * T::of(delta);
    let inside = a.mask(|v| v <= T::of(delta));
    let elementwise = metagrad_autodiff::select(&inside, quadratic, linear);
    match reduction {
        Reduction::Mean => elementwise.mean(),
        _ => reduce(per_example(elementwise), reduction),
    }
}

/// Binary cross-entropy with logits: `softplus(z) - y z` per element (stable for any `z`).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{bce_with_logits, Reduction};
///
/// let tape = Tape::<f64>::new();
/// let logits = tape.var(Tensor::from_vec(&[3], vec![0.0, 2.0, 1000.0]));
/// let targets = tape.constant(Tensor::ones(&[3]));
/// let l = bce_with_logits(logits, targets, Reduction::None).value().to_vec();
/// // -log sigmoid(z): ln 2 at z = 0, ln(1 + e^-2) at z = 2, and 0 (not NaN) at z = 1000.
/// assert!((l[0] - 2f64.ln()).abs() < 1e-12);
/// assert!((l[1] - (-2f64).exp().ln_1p()).abs() < 1e-12);
/// assert_eq!(l[2], 0.0);
/// ```
pub fn bce_with_logits<'t, T: Float>(logits: Var<'t, T>, target: Var<'t, T>, reduction: Reduction) -> Var<'t, T> {
    check_same_shape("bce_with_logits", logits, target);
    let elementwise = logits.softplus() - target * logits;
    match reduction {
        Reduction::Mean => elementwise.mean(),
        _ => reduce(per_example(elementwise), reduction),
    }
}

/// Negative log-likelihood of class indices from log-probabilities `[N, C]`.
///
/// # Panics
/// If the counts differ or a label is not below `C`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{nll, Reduction};
///
/// let tape = Tape::<f64>::new();
/// let probs: Vec<f64> = vec![0.5, 0.5, 0.25, 0.75];
/// let log_probs = tape.var(Tensor::from_vec(&[2, 2], probs.iter().map(|p| p.ln()).collect()));
/// // -log 0.5 and -log 0.25, averaged: 1.5 ln 2.
/// let l = nll(log_probs, &[1, 0], Reduction::Mean);
/// assert!((l.item() - 1.5 * 2f64.ln()).abs() < 1e-12);
/// ```
pub fn nll<'t, T: Float>(log_probs: Var<'t, T>, labels: &[usize], reduction: Reduction) -> Var<'t, T> {
    let s = log_probs.shape();
    assert!(s.len() == 2 && s[0] == labels.len(), "nll: log-probabilities of shape {s:?} for {} labels", labels.len());
    let targets = log_probs.constant(one_hot(labels, s[1]));
    reduce(-(log_probs * targets).sum_axes(&[1], false), reduction)
}

/// Targets for [`cross_entropy`].
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
///
/// let tape = Tape::<f64>::new();
/// let logits = tape.var(Tensor::from_vec(&[1, 3], vec![1.0, 2.0, 0.5]));
/// // A one-hot distribution is the same target as its class index.
/// let one_hot = tape.constant(Tensor::from_vec(&[1, 3], vec![0.0, 0.0, 1.0]));
/// let hard = cross_entropy(logits, Targets::Classes(&[2]), 0.0, Reduction::Sum).item();
/// let soft = cross_entropy(logits, Targets::Soft(one_hot), 0.0, Reduction::Sum).item();
/// assert!((hard - soft).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, 't, T: Float> {
    /// Class indices.
    Classes(&'a [usize]),
    /// A distribution per example, `[N, C]`.
    Soft(Var<'t, T>),
}

/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
///
/// let tape = Tape::<f64>::new();
/// let logits = tape.var(Tensor::from_vec(&[1, 2], vec![0.0, 0.0]));
/// let l = cross_entropy(logits, Targets::Classes(&[1]), 0.0, Reduction::Mean);
/// assert!((l.item() - 2f64.ln()).abs() < 1e-12); // -log(1/2)
/// ```
///
/// Cross-entropy from logits `[N, C]`: `-sum_c q_c log softmax(z)_c`, with `q` the one-hot
/// (or soft) targets, smoothed as `(1 - s) q + s / C` when `label_smoothing = s > 0`
/// (Szegedy et al. 2016).
pub fn cross_entropy<'a, 't, T: Float>(
    logits: Var<'t, T>,
    targets: Targets<'a, 't, T>,
    label_smoothing: f64,
    reduction: Reduction,
) -> Var<'t, T> {
    let s = logits.shape();
    assert_eq!(s.len(), 2, "cross_entropy: logits of shape {s:?} are not [N, C]");
    let q = match targets {
        Targets::Classes(labels) => {
            assert_eq!(labels.len(), s[0], "cross_entropy: {} labels for {} examples", labels.len(), s[0]);
            logits.constant(one_hot(labels, s[1]))
        }
        Targets::Soft(q) => {
            check_same_shape("cross_entropy", logits, q);
            q
        }
    };
    let q =
        if label_smoothing > 0.0 { q * T::of(1.0 - label_smoothing) + T::of(label_smoothing / s[1] as f64) } else { q };
    reduce(-(logits.log_softmax(1) * q).sum_axes(&[1], false), reduction)
}

/// KL divergence `KL(p || q) = sum p (log p - log q)` from `log_q` and target probabilities `p`,
/// summed per example (terms with `p = 0` count as 0). `p` is a fixed target: gradients flow
/// into `log_q` only.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::loss::{kl_div, Reduction};
///
/// let tape = Tape::<f64>::new();
/// let log_q = tape.var(Tensor::from_vec(&[2, 2], vec![0.5f64, 0.5, 0.25, 0.75]).map(f64::ln));
/// let p = tape.constant(Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.25, 0.75]));
/// // Row 1: 1 ln(1 / 0.5) = ln 2, its p = 0 term counting 0. Row 2: p = q, so KL = 0.
/// let kl = kl_div(log_q, p, Reduction::None).value().to_vec();
/// assert!((kl[0] - 2f64.ln()).abs() < 1e-12 && kl[1].abs() < 1e-12);
/// ```
pub fn kl_div<'t, T: Float>(log_q: Var<'t, T>, p: Var<'t, T>, reduction: Reduction) -> Var<'t, T> {
    check_same_shape("kl_div", log_q, p);
    let p = p.detach();
    let log_p = p.constant(p.value().map(|v| if v > T::zero() { v.ln() } else { T::zero() }));
    reduce(per_example(p * (log_p - log_q)), reduction)
}

/// Accuracy of logits `[N, C]` against labels (not differentiable).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::loss::accuracy;
///
/// // Predicted classes (the largest logit of each row): 0, 1, 0.
/// let logits = Tensor::from_vec(&[3, 2], vec![2.0f32, 1.0, 0.0, 3.0, 5.0, 4.0]);
/// assert_eq!(accuracy(&logits, &[0, 1, 1]), 2.0 / 3.0);
/// ```
pub fn accuracy<T: Float>(logits: &Tensor<T>, labels: &[usize]) -> f64 {
    let classes = logits.shape()[1];
    let values = logits.to_vec();
    let correct = labels
        .iter()
        .enumerate()
        .filter(|(i, &label)| {
            let row = &values[i * classes..(i + 1) * classes];
            let best = (0..classes).fold(0, |b, c| if row[c] > row[b] { c } else { b });
            best == label
        })
        .count();
    correct as f64 / labels.len().max(1) as f64
}
