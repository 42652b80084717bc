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
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::ServerOptimizer;
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let w = |v: f64| Params::from_pairs([("w".to_string(), Tensor::scalar(v))]);
/// let mut opt = ServerOptimizer::momentum(1.0, 0.5);
/// // The velocity is created by the first step and kept for the next.
/// assert!(matches!(opt, ServerOptimizer::Momentum { velocity: None, .. }));
/// let next = opt.step(&w(0.0), &w(2.0));
/// assert_eq!(next, w(-2.0));
/// assert!(matches!(&opt, ServerOptimizer::Momentum { velocity: Some(v), .. } if *v == w(2.0)));
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::ServerOptimizer;
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let w = |v: f64| Params::from_pairs([("w".to_string(), Tensor::scalar(v))]);
    /// // Rate 1 lands on w - Delta: for FedAvg, exactly the clients' average.
    /// assert_eq!(ServerOptimizer::sgd(1.0).step(&w(3.0), &w(1.0)), w(2.0));
    /// assert_eq!(ServerOptimizer::sgd(0.5).step(&w(3.0), &w(1.0)), w(2.5));
    /// ```
    pub fn sgd(lr: f64) -> Self {
        ServerOptimizer::Sgd { lr }
    }

    /// FedAvgM with rate `lr` and momentum `beta`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::ServerOptimizer;
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let w = |v: f64| Params::from_pairs([("w".to_string(), Tensor::scalar(v))]);
    /// let mut opt = ServerOptimizer::momentum(1.0, 0.5);
    /// let once = opt.step(&w(0.0), &w(1.0));
    /// let twice = opt.step(&once, &w(1.0));
    /// // Velocities 1, then 0.5 * 1 + 1: the steps grow along a steady direction.
    /// assert_eq!((once, twice), (w(-1.0), w(-2.5)));
    /// ```
    pub fn momentum(lr: f64, beta: f64) -> Self {
        ServerOptimizer::Momentum { lr, beta, velocity: None }
    }

    /// FedAdam with rate `lr`, `betas = (0.9, 0.99)`, `tau = 1e-3`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::ServerOptimizer;
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let w = |v: f64| Params::from_pairs([("w".to_string(), Tensor::scalar(v))]);
    /// let next = ServerOptimizer::adam(1.0).step(&w(0.0), &w(1.0));
    /// // No bias correction: m = 0.1, v = 0.01, step 0.1 / (0.1 + 1e-3).
    /// assert!((next.get("w").unwrap().item() + 0.1 / 0.101).abs() < 1e-12);
    /// ```
    pub fn adam(lr: f64) -> Self {
        ServerOptimizer::Adam { lr, betas: (0.9, 0.99), tau: 1e-3, moments: None }
    }

    /// One step of `weights` along `delta`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::ServerOptimizer;
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let zero = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![0.0f64, 0.0]))]);
    /// let delta = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0, 100.0]))]);
    /// let next = ServerOptimizer::adam(0.01).step(&zero, &delta).get("w").unwrap().to_vec();
    /// // Adam's step hardly depends on the pseudo-gradient's scale; SGD's is proportional to it.
    /// assert!((next[1] / next[0] - 1.0).abs() < 0.02);
    /// let sgd = ServerOptimizer::sgd(0.01).step(&zero, &delta).get("w").unwrap().to_vec();
    /// assert!((sgd[1] / sgd[0] - 100.0).abs() < 1e-9);
    /// ```
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
