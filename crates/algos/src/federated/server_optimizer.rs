//! What the server does with the aggregate (Reddi et al. 2021, "Adaptive federated
//! optimization").
//!
//! FedSGD's aggregate is a gradient `g`. FedAvg's is an average of weights `w_avg`, and
//! `Delta = w - w_avg` is a *pseudo-gradient*: the direction the clients moved, reversed.
//! Either way the server steps with `Delta`:
//!
//! ```text
//! SGD       w <- w - lr Delta                                  (lr = 1: plain FedAvg)
//! momentum  v <- beta v + Delta,  w <- w - lr v                (FedAvgM, Hsu et al. 2019)
//! Adam      m <- b1 m + (1-b1) Delta,  v <- b2 v + (1-b2) Delta^2,
//!           w <- w - lr m / (sqrt v + tau)                     (FedAdam)
//! ```
//!
//! FedAdam has no bias correction and a larger `tau` than Adam's epsilon, as in the paper.

use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::Params;

/// The server's update rule.
#[derive(Clone, Debug)]
pub enum ServerOptimizer<T: Float> {
    /// `w - lr Delta`.
    Sgd {
        /// The server rate.
        lr: f64,
    },
    /// Heavy-ball momentum on `Delta` (FedAvgM).
    Momentum {
        /// The server rate.
        lr: f64,
        /// `beta`.
        beta: f64,
        /// The velocity (created on the first step).
        velocity: Option<Params<T>>,
    },
    /// Adam on `Delta` without bias correction (FedAdam).
    Adam {
        /// The server rate.
        lr: f64,
        /// `(b1, b2)`.
        betas: (f64, f64),
        /// `tau`, the adaptivity.
        tau: f64,
        /// First and second moments (created on the first step).
        moments: Option<(Params<T>, Params<T>)>,
    },
}

impl<T: Float> ServerOptimizer<T> {
    /// Plain FedAvg / FedSGD with server rate `lr`.
    pub fn sgd(lr: f64) -> Self {
        ServerOptimizer::Sgd { lr }
    }

    /// FedAvgM with rate `lr` and momentum `beta`.
    pub fn momentum(lr: f64, beta: f64) -> Self {
        ServerOptimizer::Momentum { lr, beta, velocity: None }
    }

    /// FedAdam with rate `lr`, `betas = (0.9, 0.99)`, `tau = 1e-3`.
    pub fn adam(lr: f64) -> Self {
        ServerOptimizer::Adam { lr, betas: (0.9, 0.99), tau: 1e-3, moments: None }
    }

    /// One step of `weights` along `delta`.
    pub fn step(&mut self, weights: &Params<T>, delta: &Params<T>) -> Params<T> {
        match self {
            ServerOptimizer::Sgd { lr } => weights.axpy(T::of(-*lr), delta),
            ServerOptimizer::Momentum { lr, beta, velocity } => {
                let b = T::of(*beta);
                let v = match velocity.take() {
                    Some(v) => v.zip_map(delta, |v, d| b * v + d),
                    None => delta.clone(),
                };
                let next = weights.axpy(T::of(-*lr), &v);
                *velocity = Some(v);
                next
            }
            ServerOptimizer::Adam { lr, betas, tau, moments } => {
                let (b1, b2) = (T::of(betas.0), T::of(betas.1));
                let zeros = || delta.map(|t| Tensor::zeros(t.shape()));
                let (m, v) = moments.take().unwrap_or_else(|| (zeros(), zeros()));
                let m = m.zip_map(delta, |m, d| b1 * m + (T::one() - b1) * d);
                let v = v.zip_map(delta, |v, d| b2 * v + (T::one() - b2) * d * d);
                let (rate, tau) = (T::of(*lr), T::of(*tau));
                let step = m.zip_map(&v, |m, v| rate * m / (v.sqrt() + tau));
                let next = weights.axpy(-T::one(), &step);
                *moments = Some((m, v));
                next
            }
        }
    }
}
