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

use super::{aggregate_against, Aggregation, ClientTask, Rejection, Reply, ServerOptimizer, Transport, Update};
use metagrad_autodiff::Float;
use metagrad_nn::Params;
use rand::seq::index::sample;

/// A federated run's server.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{Aggregation, ClientTask, Fault, Server, ServerOptimizer, Simulated};
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
/// let mut weights = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let start = weights.clone();
/// let mut server = Server {
///     task: ClientTask::Gradient,
///     fraction: 1.0,
///     aggregation: Aggregation::Median,
///     optimizer: ServerOptimizer::sgd(0.1),
///     seed: 0,
/// };
/// let mut transport = Simulated::new(&model, vec![client(4), client(4), client(4)], 0);
/// transport.faults = vec![(1, Fault::NotANumber)];
/// let report = server.round(0, &mut weights, &mut transport);
/// // Client 1's NaNs are rejected; the median of two equal gradients is that gradient.
/// assert_eq!(report.rejected[0].client, 1);
/// let g = client(4).run(0, &model, &start, &ClientTask::Gradient, &mut StdRng::seed_from_u64(0)).payload;
/// assert!(weights.axpy(-1.0, &start.axpy(-0.1, &g)).l2_norm() < 1e-12);
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{Server, Simulated};
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
/// let mut weights = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let mut transport = Simulated::new(&model, (0..4).map(|_| client(2)).collect(), 0);
/// let report = Server::fedavg(1, None, 0.1, 0.5).round(0, &mut weights, &mut transport);
/// // Half of four clients asked; all answered and were accepted, so the step was taken.
/// assert_eq!(report.selected.len(), 2);
/// assert!(report.dropped.is_empty() && report.rejected.is_empty() && report.applied);
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{ClientTask, Server, Simulated};
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
    /// let start = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mut weights = start.clone();
    /// let mut server = Server::fedavg(2, Some(2), 0.1, 1.0);
    /// let mut transport = Simulated::new(&model, vec![client(4)], 0);
    /// server.round(0, &mut weights, &mut transport);
    /// // With one client and server rate 1, the new weights are that client's trained weights.
    /// let mut rng = metagrad_algos::federated::stream(0, 0, 0);
    /// let local = client(4).run(0, &model, &start, &server.task, &mut rng).payload;
    /// assert!(weights.axpy(-1.0, &local).l2_norm() < 1e-12);
    /// assert!(matches!(server.task, ClientTask::Train { epochs: 2, proximal_mu: 0.0, .. }));
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{ClientTask, Server, Simulated};
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
    /// let start = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mut weights = start.clone();
    /// let mut transport = Simulated::new(&model, vec![client(2), client(6)], 0);
    /// Server::fedsgd(0.5, 1.0).round(0, &mut weights, &mut transport);
    /// // One step along the gradients weighted 2/8 and 6/8 by the clients' sizes.
    /// let grad = |n| client(n).run(0, &model, &start, &ClientTask::Gradient, &mut StdRng::seed_from_u64(0)).payload;
    /// let g = grad(2).map(|t| t.map(|v| v * 0.25)).axpy(0.75, &grad(6));
    /// assert!(weights.axpy(-1.0, &start.axpy(-0.5, &g)).l2_norm() < 1e-12);
    /// ```
    pub fn fedsgd(lr: f64, fraction: f64) -> Self {
        Server {
            task: ClientTask::Gradient,
            fraction,
            aggregation: Aggregation::WeightedMean,
            optimizer: ServerOptimizer::sgd(lr),
            seed: 0,
        }
    }

    /// The clients of round `round`: `C K` of `0..clients` rounded to the nearest integer and
    /// kept within `1..=K`, drawn without replacement, in ascending order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Server;
    ///
    /// let server = Server::<f64>::fedsgd(0.1, 0.3);
    /// let chosen = server.sample_clients(4, 10);
    /// // Three distinct clients of ten, ascending, the same every time for round 4.
    /// assert_eq!(chosen.len(), 3);
    /// assert!(chosen.windows(2).all(|p| p[0] < p[1]) && chosen[2] < 10);
    /// assert_eq!(server.sample_clients(4, 10), chosen);
    /// // Never fewer than one.
    /// assert_eq!(Server::<f64>::fedsgd(0.1, 0.0).sample_clients(0, 10).len(), 1);
    /// ```
    pub fn sample_clients(&self, round: usize, clients: usize) -> Vec<usize> {
        let m = ((self.fraction * clients as f64).round() as usize).clamp(1, clients);
        let mut chosen = sample(&mut super::stream(self.seed, round as u64, u64::MAX), clients, m).into_vec();
        chosen.sort_unstable();
        chosen
    }

    /// One round on `weights`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{Server, Simulated};
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
    /// let start = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mut weights = start.clone();
    /// let mut transport = Simulated::new(&model, vec![client(2), client(2)], 0);
    /// transport.dropout = 1.0;
    /// let report = Server::fedavg(1, None, 0.1, 1.0).round(0, &mut weights, &mut transport);
    /// // Everyone dropped out: nothing to aggregate, so the weights stay as they were.
    /// assert_eq!(report.dropped, vec![0, 1]);
    /// assert!(!report.applied);
    /// assert_eq!(weights, start);
    /// ```
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
        let (combined, rejected) = aggregate_against(weights, &updates, self.aggregation);
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
