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
//! the first accepted update's, is rejected before aggregating, and the rejection says which
//! client and why.

use super::Update;
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::Params;

/// How updates are combined.
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

/// Combines `updates` by `how`, leaving out (and reporting) the non-finite ones. `None` when
/// no update is left.
pub fn aggregate<T: Float>(updates: &[Update<T>], how: Aggregation) -> (Option<Params<T>>, Vec<Rejection>) {
    let mut rejected = Vec::new();
    let mut kept: Vec<&Update<T>> = Vec::new();
    for u in updates {
        let layout_differs = kept.first().is_some_and(|first| !same_layout(&first.payload, &u.payload));
        if layout_differs {
            rejected.push(Rejection { client: u.client, reason: "its names or shapes differ from the model's".into() });
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
