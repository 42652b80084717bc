//! The server's round: federated gradients (FedSGD) and federated averaging (FedAvg; McMahan,
//! Moore, Ramage, Hampson & Agüera y Arcas 2017).
//!
//! With `K` clients, client `k` holding `n_k` examples (`n = sum_k n_k`), each round samples
//! `m = max(C K, 1)` clients and
//!
//! ```text
//! FedSGD:  g = sum_k n_k/n_S grad L_k(w),                w <- w - eta g
//! FedAvg:  w_k = E epochs of minibatch SGD (batch B) on L_k from w,
//!          w_avg = sum_k n_k/n_S w_k,                    w <- w - lr (w - w_avg)
//! ```
//!
//! (`n_S` sums over the clients that answered). With the server rate 1 FedAvg's step is
//! `w <- w_avg`; FedSGD is FedAvg with `E = 1`, `B = inf` and one local step. Clients that
//! drop out leave the round to the rest; updates that are not finite are rejected; if no
//! update is left, the weights stay as they were.

use super::{aggregate, Aggregation, ClientTask, Rejection, Reply, ServerOptimizer, Transport, Update};
use metagrad_autodiff::Float;
use metagrad_nn::Params;
use rand::seq::index::sample;

/// A federated run's server.
#[derive(Clone, Debug)]
pub struct Server<T: Float> {
    /// What the sampled clients do (FedSGD: [`ClientTask::Gradient`]; FedAvg: train).
    pub task: ClientTask,
    /// `C`, the fraction of clients sampled per round.
    pub fraction: f64,
    /// How updates are combined.
    pub aggregation: Aggregation,
    /// The server's step.
    pub optimizer: ServerOptimizer<T>,
    /// Seed of the client sampling.
    pub seed: u64,
}

/// What happened in a round.
#[derive(Clone, Debug, Default)]
pub struct RoundReport {
    /// The clients asked.
    pub selected: Vec<usize>,
    /// Those that did not answer.
    pub dropped: Vec<usize>,
    /// Updates left out, with the reason.
    pub rejected: Vec<Rejection>,
    /// Whether the weights changed.
    pub applied: bool,
}

impl<T: Float> Server<T> {
    /// FedAvg: `E = epochs`, `B = batch_size` (`None`: all local data), local rate `lr`,
    /// fraction `C`, weighted mean, server rate 1.
    pub fn fedavg(epochs: usize, batch_size: Option<usize>, lr: f64, fraction: f64) -> Self {
        Server {
            task: ClientTask::Train { epochs, batch_size, lr, proximal_mu: 0.0 },
            fraction,
            aggregation: Aggregation::WeightedMean,
            optimizer: ServerOptimizer::sgd(1.0),
            seed: 0,
        }
    }

    /// FedSGD with rate `lr` and fraction `C`.
    pub fn fedsgd(lr: f64, fraction: f64) -> Self {
        Server {
            task: ClientTask::Gradient,
            fraction,
            aggregation: Aggregation::WeightedMean,
            optimizer: ServerOptimizer::sgd(lr),
            seed: 0,
        }
    }

    /// The clients of round `round`: `max(C K, 1)` of `0..clients`, without replacement, in
    /// ascending order.
    pub fn sample_clients(&self, round: usize, clients: usize) -> Vec<usize> {
        let m = ((self.fraction * clients as f64).round() as usize).clamp(1, clients);
        let mut chosen = sample(&mut super::stream(self.seed, round as u64, u64::MAX), clients, m).into_vec();
        chosen.sort_unstable();
        chosen
    }

    /// One round on `weights`.
    pub fn round(&mut self, round: usize, weights: &mut Params<T>, transport: &mut dyn Transport<T>) -> RoundReport {
        let selected = self.sample_clients(round, transport.clients());
        let replies = transport.exchange(round, weights, &selected, &self.task);
        let mut report = RoundReport { selected, ..RoundReport::default() };
        let mut updates: Vec<Update<T>> = Vec::new();
        for reply in replies {
            match reply {
                Reply::Update(u) => updates.push(u),
                Reply::Dropped { client } => report.dropped.push(client),
            }
        }
        let (combined, rejected) = aggregate(&updates, self.aggregation);
        report.rejected = rejected;
        if let Some(combined) = combined {
            let delta = match self.task {
                ClientTask::Gradient => combined,
                ClientTask::Train { .. } => weights.axpy(-T::one(), &combined),
            };
            *weights = self.optimizer.step(weights, &delta);
            report.applied = true;
        }
        report
    }
}
