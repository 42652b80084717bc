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
pub fn consensus_distance<T: Float>(weights: &[Params<T>]) -> f64 {
    let n = weights.len() as f64;
    let mean = mean(weights);
    weights.iter().map(|w| w.axpy(-T::one(), &mean).l2_norm().to_f64().unwrap_or(f64::NAN).powi(2)).sum::<f64>() / n
}

/// The plain mean of `weights`.
pub fn mean<T: Float>(weights: &[Params<T>]) -> Params<T> {
    let share = T::of(1.0 / weights.len() as f64);
    weights.iter().skip(1).fold(weights[0].map(|t| t.map(|v| v * share)), |acc, w| acc.axpy(share, w))
}

impl<'m, T: Float> Consensus<'m, T> {
    /// Every worker starts from `initial`.
    ///
    /// # Panics
    /// If the topology's size is not the number of clients.
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
    pub fn mean(&self) -> Params<T> {
        mean(&self.weights)
    }
}
