//! Combining the clients' updates.
//!
//! - **Weighted mean** (McMahan et al. 2017): `sum_k n_k u_k / sum_k n_k`, `n_k` the client's
//!   number of examples. One bad client can move it anywhere.
//! - **Coordinate-wise median** (Yin et al. 2018): each coordinate's median over clients;
//!   fewer than half the clients cannot drag it outside the honest values.
//! - **Trimmed mean** (Yin et al. 2018): each coordinate's mean after dropping the largest
//!   and the smallest `beta` fraction of the values.
//!
//! Whatever the rule, an update with a value that is not finite, or whose layout differs from
//! the model's ([`aggregate_against`], which the server uses) or, without a model, from the
//! first accepted update's ([`aggregate`]), is rejected before aggregating, and the rejection
//! says which client and why.

use super::Update;
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::Params;

/// How updates are combined.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{aggregate, Aggregation, Update};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let update = |client, w: f64| Update { client, examples: 1, payload: Params::from_pairs([("w".to_string(), Tensor::scalar(w))]) };
/// let updates = [update(0, 1.0), update(1, 2.0), update(2, 99.0)];
/// let combine = |how| aggregate(&updates, how).0.unwrap().get("w").unwrap().item();
/// // One outlier drags the mean to 34; the median and the trimmed mean stay at 2.
/// assert!((combine(Aggregation::WeightedMean) - 34.0).abs() < 1e-12);
/// assert_eq!(combine(Aggregation::Median), 2.0);
/// assert_eq!(combine(Aggregation::TrimmedMean(0.34)), 2.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregation {
    /// Mean weighted by each client's number of examples.
    WeightedMean,
    /// Coordinate-wise median (unweighted).
    Median,
    /// Coordinate-wise mean after trimming this fraction from each end (unweighted).
    TrimmedMean(f64),
}

/// An update left out, and why.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{aggregate, Aggregation, Update};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let update = |client, w: f64| Update { client, examples: 1, payload: Params::from_pairs([("w".to_string(), Tensor::scalar(w))]) };
/// let (mean, rejected) = aggregate(&[update(0, 1.0), update(5, f64::NAN), update(2, 3.0)], Aggregation::WeightedMean);
/// // Client 5 is left out, with the reason, and the others are averaged.
/// assert_eq!(rejected.len(), 1);
/// assert_eq!(rejected[0].client, 5);
/// assert!(rejected[0].reason.starts_with("not finite"));
/// assert_eq!(mean.unwrap().get("w").unwrap().item(), 2.0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The client.
    pub client: usize,
    /// Why (for the log).
    pub reason: String,
}

fn first_non_finite<T: Float>(params: &Params<T>) -> Option<String> {
    params.iter().find_map(|(name, t)| {
        let bad = t.to_vec().into_iter().find(|v| !v.is_finite())?;
        Some(format!("`{name}` holds {}", bad.to_f64().unwrap_or(f64::NAN)))
    })
}

fn same_layout<T: Float>(a: &Params<T>, b: &Params<T>) -> bool {
    a.len() == b.len() && a.iter().zip(b.iter()).all(|((n, x), (m, y))| n == m && x.shape() == y.shape())
}

/// The median of `values` (mean of the middle two for an even count); sorts them.
fn median<T: Float>(values: &mut [T]) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("finite values"));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / T::of(2.0)
    }
}

fn trimmed_mean<T: Float>(values: &mut [T], beta: f64) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("finite values"));
    let n = values.len();
    let cut = ((beta * n as f64).floor() as usize).min((n - 1) / 2);
    let kept = &values[cut..n - cut];
    kept.iter().fold(T::zero(), |s, &v| s + v) / T::of(kept.len() as f64)
}

/// Combines `updates` by `how`, leaving out (and reporting) the non-finite ones and those
/// whose layout differs from the first accepted update's. `None` when no update is left. With
/// the model at hand, [`aggregate_against`] is the safer check.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{aggregate, Aggregation, Update};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let update = |client, examples, w: Vec<f64>| Update {
///     client,
///     examples,
///     payload: Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], w))]),
/// };
/// // Clients of 1 and 3 examples: (1 * (0, 8) + 3 * (4, 0)) / 4 = (3, 2).
/// let (mean, rejected) = aggregate(&[update(0, 1, vec![0.0, 8.0]), update(1, 3, vec![4.0, 0.0])], Aggregation::WeightedMean);
/// assert_eq!(mean.unwrap().get("w").unwrap().to_vec(), vec![3.0, 2.0]);
/// assert!(rejected.is_empty());
/// // An update laid out unlike the first accepted one is rejected ...
/// let odd = Update { client: 2, examples: 1, payload: Params::from_pairs([("v".to_string(), Tensor::scalar(1.0))]) };
/// let (_, rejected) = aggregate(&[update(0, 1, vec![1.0, 1.0]), odd], Aggregation::Median);
/// assert_eq!(rejected[0].client, 2);
/// // ... and with no update left there is no aggregate.
/// let (none, rejected) = aggregate(&[update(0, 1, vec![f64::INFINITY, 0.0])], Aggregation::Median);
/// assert!(none.is_none());
/// assert_eq!(rejected.len(), 1);
/// ```
pub fn aggregate<T: Float>(updates: &[Update<T>], how: Aggregation) -> (Option<Params<T>>, Vec<Rejection>) {
    combine(updates, how, None)
}

/// [`aggregate`], with every update's names and shapes checked against `model`'s rather than
/// against the first accepted update's: a client of the wrong layout cannot then set the
/// layout the honest clients are judged by, whatever order the replies come in.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{aggregate_against, Aggregation, Update};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let update = |client, values: Vec<f64>| Update {
///     client,
///     examples: 1,
///     payload: Params::from_pairs([("w".to_string(), Tensor::from_vec(&[values.len()], values))]),
/// };
/// let model = Params::from_pairs([("w".to_string(), Tensor::zeros(&[2]))]);
/// // The odd-shaped reply comes first; the two honest ones are still averaged.
/// let replies = [update(7, vec![1.0, 2.0, 3.0]), update(0, vec![1.0, 2.0]), update(1, vec![3.0, 4.0])];
/// let (mean, rejected) = aggregate_against(&model, &replies, Aggregation::WeightedMean);
/// assert_eq!(mean.unwrap().get("w").unwrap().to_vec(), vec![2.0, 3.0]);
/// assert_eq!(rejected.iter().map(|r| r.client).collect::<Vec<_>>(), vec![7]);
/// ```
pub fn aggregate_against<T: Float>(
    model: &Params<T>,
    updates: &[Update<T>],
    how: Aggregation,
) -> (Option<Params<T>>, Vec<Rejection>) {
    combine(updates, how, Some(model))
}

fn combine<T: Float>(
    updates: &[Update<T>],
    how: Aggregation,
    model: Option<&Params<T>>,
) -> (Option<Params<T>>, Vec<Rejection>) {
    let mut rejected = Vec::new();
    let mut kept: Vec<&Update<T>> = Vec::new();
    for u in updates {
        let (reference, whose) = match model {
            Some(model) => (Some(model), "the model's"),
            None => (kept.first().map(|first| &first.payload), "the first accepted update's"),
        };
        if reference.is_some_and(|r| !same_layout(r, &u.payload)) {
            rejected.push(Rejection { client: u.client, reason: format!("its names or shapes differ from {whose}") });
            continue;
        }
        match first_non_finite(&u.payload) {
            Some(reason) => rejected.push(Rejection { client: u.client, reason: format!("not finite: {reason}") }),
            None => kept.push(u),
        }
    }
    let Some(first) = kept.first() else { return (None, rejected) };
    let combined = match how {
        Aggregation::WeightedMean => {
            let total: usize = kept.iter().map(|u| u.examples).sum();
            let zero = first.payload.map(|t| Tensor::zeros(t.shape()));
            kept.iter().fold(zero, |acc, u| acc.axpy(T::of(u.examples as f64 / total.max(1) as f64), &u.payload))
        }
        Aggregation::Median | Aggregation::TrimmedMean(_) => {
            let columns: Vec<Vec<T>> =
                kept.iter().map(|u| u.payload.tensors().flat_map(|t| t.to_vec()).collect()).collect();
            let mut offset = 0;
            Params::from_pairs(first.payload.iter().map(|(name, t)| {
                let values: Vec<T> = (offset..offset + t.len())
                    .map(|i| {
                        let mut coordinate: Vec<T> = columns.iter().map(|c| c[i]).collect();
                        match how {
                            Aggregation::TrimmedMean(beta) => trimmed_mean(&mut coordinate, beta),
                            _ => median(&mut coordinate),
                        }
                    })
                    .collect();
                offset += t.len();
                (name.to_string(), Tensor::from_vec(t.shape(), values))
            }))
        }
    };
    (Some(combined), rejected)
}
