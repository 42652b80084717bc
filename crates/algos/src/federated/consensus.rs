//! Decentralised consensus SGD (D-PSGD; Lian et al. 2017): no server. Each of `n` workers
//! keeps its own weights, and every round
//!
//! ```text
//! w_i <- w_i - lr grad L_i(w_i; minibatch)        (local_steps times),
//! w_i <- sum_j W_ij w_j                           (gossip with the neighbours),
//! ```
//!
//! with `W` the topology's mixing matrix. How far the workers are from agreeing is the
//! consensus distance `1/n sum_i ||w_i - w_mean||^2`; the better connected the graph, the faster
//! mixing shrinks it (a ring mixes slowly, the complete graph in one round).

use super::{stream, Client, Topology};
use crate::par::*;
use metagrad_autodiff::Float;
use metagrad_nn::{Module, Params};

/// A decentralised run: workers, their graph, and their local training.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{consensus_distance, Consensus, Topology};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Module, Params};
/// use rand::{rngs::StdRng, SeedableRng};
/// # use metagrad_algos::federated::Client;
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # // A client with `n` 2-d examples alternating class 0 at (1, 0) and class 1 at (0, 1).
/// # let client = |n: usize| {
/// #     let inputs = (0..n).flat_map(|i| if i % 2 == 0 { [1.0f64, 0.0] } else { [0.0, 1.0] }).collect();
/// #     Client { data: Labelled::new(Tensor::from_vec(&[n, 2], inputs), (0..n).map(|i| i % 2).collect()) }
/// # };
///
/// let model = Linear::new(2, 2);
/// let initial: Params<f64> = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let mut run = Consensus::new(&model, vec![client(2), client(4), client(6)], &initial, Topology::complete(3), 0);
/// run.local_steps = 0; // gossip only
/// for (i, w) in run.weights.iter_mut().enumerate() {
///     *w = w.map(|t| t.map(|v| v + i as f64));
/// }
/// let mean = run.mean();
/// // On the complete graph every mixing weight is 1/3: one round brings everyone to the mean.
/// assert!(run.round(0) < 1e-24);
/// assert!(consensus_distance(&[run.weights[2].clone(), mean]) < 1e-24);
/// ```
pub struct Consensus<'m, T: Float> {
    model: &'m dyn Module<T>,
    /// The workers' private data.
    pub clients: Vec<Client<T>>,
    /// Each worker's weights.
    pub weights: Vec<Params<T>>,
    /// Who talks to whom.
    pub topology: Topology,
    /// Local SGD steps per round.
    pub local_steps: usize,
    /// Local minibatch size.
    pub batch_size: usize,
    /// Local rate.
    pub lr: f64,
    seed: u64,
}

/// `1/n sum_i ||w_i - w_mean||^2`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::consensus_distance;
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let w = |a: f64, b: f64| Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![a, b]))]);
/// // Mean (1, 1); squared distances 2 and 2, averaged.
/// assert!((consensus_distance(&[w(0.0, 0.0), w(2.0, 2.0)]) - 2.0).abs() < 1e-12);
/// assert_eq!(consensus_distance(&[w(5.0, 1.0), w(5.0, 1.0)]), 0.0);
/// ```
pub fn consensus_distance<T: Float>(weights: &[Params<T>]) -> f64 {
    let n = weights.len() as f64;
    let mean = mean(weights);
    weights.iter().map(|w| w.axpy(-T::one(), &mean).l2_norm().to_f64().unwrap_or(f64::NAN).powi(2)).sum::<f64>() / n
}

/// The plain mean of `weights`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::consensus::mean;
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let w = |v: f64| Params::from_pairs([("w".to_string(), Tensor::scalar(v))]);
/// // Unweighted: every worker counts the same.
/// assert_eq!(mean(&[w(1.0), w(2.0), w(4.0), w(5.0)]).get("w").unwrap().item(), 3.0);
/// ```
pub fn mean<T: Float>(weights: &[Params<T>]) -> Params<T> {
    let share = T::of(1.0 / weights.len() as f64);
    weights.iter().skip(1).fold(weights[0].map(|t| t.map(|v| v * share)), |acc, w| acc.axpy(share, w))
}

impl<'m, T: Float> Consensus<'m, T> {
    /// Every worker starts from `initial`.
    ///
    /// # Panics
    /// If the topology's size is not the number of clients.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{consensus_distance, Consensus, Topology};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::Module;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// # use metagrad_algos::federated::Client;
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # // A client with `n` 2-d examples alternating class 0 at (1, 0) and class 1 at (0, 1).
    /// # let client = |n: usize| {
    /// #     let inputs = (0..n).flat_map(|i| if i % 2 == 0 { [1.0f64, 0.0] } else { [0.0, 1.0] }).collect();
    /// #     Client { data: Labelled::new(Tensor::from_vec(&[n, 2], inputs), (0..n).map(|i| i % 2).collect()) }
    /// # };
    ///
    /// let model = Linear::new(2, 2);
    /// let initial = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let run = Consensus::new(&model, vec![client(2), client(2), client(2), client(2)], &initial, Topology::ring(4), 9);
    /// // Everyone starts at `initial`: in consensus, with the default local training.
    /// assert!(run.weights.iter().all(|w| *w == initial));
    /// assert_eq!(consensus_distance(&run.weights), 0.0);
    /// assert_eq!((run.local_steps, run.batch_size, run.lr), (1, 32, 0.05));
    /// ```
    pub fn new(
        model: &'m dyn Module<T>,
        clients: Vec<Client<T>>,
        initial: &Params<T>,
        topology: Topology,
        seed: u64,
    ) -> Self {
        assert_eq!(
            topology.len(),
            clients.len(),
            "Consensus: a {}-node topology for {} clients",
            topology.len(),
            clients.len()
        );
        let weights = vec![initial.clone(); clients.len()];
        Consensus { model, clients, weights, topology, local_steps: 1, batch_size: 32, lr: 0.05, seed }
    }

    /// One round: local steps in parallel, then one gossip step. Returns the consensus
    /// distance after it.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{consensus_distance, Consensus, Topology};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::Module;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// # use metagrad_algos::federated::Client;
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # // A client with `n` 2-d examples alternating class 0 at (1, 0) and class 1 at (0, 1).
    /// # let client = |n: usize| {
    /// #     let inputs = (0..n).flat_map(|i| if i % 2 == 0 { [1.0f64, 0.0] } else { [0.0, 1.0] }).collect();
    /// #     Client { data: Labelled::new(Tensor::from_vec(&[n, 2], inputs), (0..n).map(|i| i % 2).collect()) }
    /// # };
    ///
    /// let model = Linear::new(2, 2);
    /// let initial = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mut run = Consensus::new(&model, (0..4).map(|_| client(2)).collect(), &initial, Topology::ring(4), 0);
    /// run.lr = 0.0; // gossip only
    /// run.weights[0] = initial.map(|t| t.map(|v| v + 4.0));
    /// let (before, mean) = (consensus_distance(&run.weights), run.mean());
    /// let after = run.round(0);
    /// // A ring mixes slowly, but every round shrinks the disagreement and keeps the mean.
    /// assert!(after < before && after > 0.0);
    /// assert!(run.mean().axpy(-1.0, &mean).l2_norm() < 1e-12);
    /// ```
    pub fn round(&mut self, round: usize) -> f64 {
        let task =
            super::ClientTask::Train { epochs: 1, batch_size: Some(self.batch_size), lr: self.lr, proximal_mu: 0.0 };
        let (model, seed, steps) = (self.model, self.seed, self.local_steps);
        if steps > 0 && self.lr > 0.0 {
            self.weights = self
                .clients
                .par_iter()
                .zip(self.weights.par_iter())
                .enumerate()
                .map(|(i, (client, w))| {
                    let mut rng = stream(seed, round as u64, i as u64);
                    // `local_steps` minibatches drawn from the worker's data.
                    let mut w = w.clone();
                    for _ in 0..steps {
                        let batch = client.data.sample(self.batch_size, &mut rng);
                        w = Client { data: batch }.run(i, model, &w, &task, &mut rng).payload;
                    }
                    w
                })
                .collect();
        }
        let mixing = self.topology.mixing();
        let mixed: Vec<Params<T>> = mixing
            .par_iter()
            .map(|row| {
                let first = &self.weights[row[0].0];
                row.iter().skip(1).fold(first.map(|t| t.map(|v| v * T::of(row[0].1))), |acc, &(j, w)| {
                    acc.axpy(T::of(w), &self.weights[j])
                })
            })
            .collect();
        self.weights = mixed;
        consensus_distance(&self.weights)
    }

    /// The mean of the workers' weights.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{Consensus, Topology};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::Module;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// # use metagrad_algos::federated::Client;
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # // A client with `n` 2-d examples alternating class 0 at (1, 0) and class 1 at (0, 1).
    /// # let client = |n: usize| {
    /// #     let inputs = (0..n).flat_map(|i| if i % 2 == 0 { [1.0f64, 0.0] } else { [0.0, 1.0] }).collect();
    /// #     Client { data: Labelled::new(Tensor::from_vec(&[n, 2], inputs), (0..n).map(|i| i % 2).collect()) }
    /// # };
    ///
    /// let model = Linear::new(2, 2);
    /// let initial = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mut run = Consensus::new(&model, vec![client(2), client(2)], &initial, Topology::ring(2), 0);
    /// run.weights[1] = initial.map(|t| t.map(|v| v + 2.0));
    /// // Halfway between the two workers.
    /// assert!(run.mean().axpy(-1.0, &initial.map(|t| t.map(|v| v + 1.0))).l2_norm() < 1e-12);
    /// ```
    pub fn mean(&self) -> Params<T> {
        mean(&self.weights)
    }
}
