//! A client: private data, and the work it does on the weights it is sent.
//!
//! FedProx (Li et al. 2020) adds a proximal term to the local objective,
//!
//! ```text
//! min_w  L_k(w) + mu/2 ||w - w_server||^2,
//! ```
//!
//! which keeps clients with very different data from drifting far from the server's weights
//! in their local epochs; `mu = 0` is FedAvg.

use super::Update;
use crate::Labelled;
use metagrad_autodiff::{Float, Tape};
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, Module, Params};
use rand::rngs::StdRng;

/// What the server asks of a client this round.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::ClientTask;
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
/// let mut rng = StdRng::seed_from_u64(0);
/// let w = Module::<f64>::init(&model, &mut rng);
/// let c = client(4);
/// let g = c.run(0, &model, &w, &ClientTask::Gradient, &mut rng).payload;
/// let train = ClientTask::Train { epochs: 1, batch_size: None, lr: 0.5, proximal_mu: 0.0 };
/// let trained = c.run(0, &model, &w, &train, &mut rng).payload;
/// // One full-batch epoch is one SGD step along the gradient FedSGD would return.
/// assert!(trained.axpy(-1.0, &w.axpy(-0.5, &g)).l2_norm() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ClientTask {
    /// The gradient of the mean loss over all local data at the sent weights (FedSGD).
    Gradient,
    /// Local training from the sent weights (FedAvg, FedProx).
    Train {
        /// Passes over the local data (`E`).
        epochs: usize,
        /// Minibatch size (`B`); `None` is the whole local set (`B = inf`).
        batch_size: Option<usize>,
        /// The local SGD rate.
        lr: f64,
        /// FedProx's `mu` (0 for FedAvg).
        proximal_mu: f64,
    },
}

/// A client holding `data` (never sent anywhere).
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::ClientTask;
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
/// let mut rng = StdRng::seed_from_u64(0);
/// let w = Module::<f64>::init(&model, &mut rng);
/// let update = client(6).run(3, &model, &w, &ClientTask::Gradient, &mut rng);
/// // The update names its sender and its weight in the mean, and is laid out like the model.
/// assert_eq!((update.client, update.examples), (3, 6));
/// assert_eq!(update.payload.names().collect::<Vec<_>>(), w.names().collect::<Vec<_>>());
/// ```
#[derive(Clone, Debug)]
pub struct Client<T: Float> {
    /// The private examples.
    pub data: Labelled<T>,
}

/// The mean cross-entropy of `model` with `params` on `batch`, and its gradient; with
/// `anchor`, plus `mu/2 ||params - anchor||^2`.
fn loss_and_gradient<T: Float>(
    model: &dyn Module<T>,
    params: &Params<T>,
    batch: &Labelled<T>,
    anchor: Option<(&Params<T>, f64)>,
) -> Params<T> {
    let tape = Tape::new();
    let p = params.on(&tape);
    let logits = model.forward(&p, tape.constant(batch.inputs.clone()), &mut Context::eval(Params::new()));
    let mut loss = cross_entropy(logits, Targets::Classes(&batch.labels), 0.0, Reduction::Mean);
    if let Some((server, mu)) = anchor.filter(|(_, mu)| *mu > 0.0) {
        let proximal = server
            .iter()
            .map(|(name, w)| (p.get(name) - tape.constant(w.clone())).square().sum())
            .reduce(|a, b| a + b)
            .expect("a model with parameters");
        loss = loss + proximal * T::of(mu / 2.0);
    }
    p.grad(loss)
}

impl<T: Float> Client<T> {
    /// Runs `task` from `weights`; `rng` orders the local minibatches.
    ///
    /// # Panics
    /// If the client has no data.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::ClientTask;
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
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let server = Module::<f64>::init(&model, &mut rng);
    /// let c = client(4);
    /// let drift = |mu| {
    ///     let task = ClientTask::Train { epochs: 3, batch_size: Some(2), lr: 0.5, proximal_mu: mu };
    ///     let trained = c.run(0, &model, &server, &task, &mut StdRng::seed_from_u64(1)).payload;
    ///     trained.axpy(-1.0, &server).l2_norm()
    /// };
    /// // FedProx's proximal term keeps the local weights nearer the server's than FedAvg's.
    /// assert!(drift(1.0) < drift(0.0));
    /// ```
    pub fn run(
        &self,
        index: usize,
        model: &dyn Module<T>,
        weights: &Params<T>,
        task: &ClientTask,
        rng: &mut StdRng,
    ) -> Update<T> {
        assert!(!self.data.is_empty(), "client {index} has no data");
        let payload = match task {
            ClientTask::Gradient => loss_and_gradient(model, weights, &self.data, None),
            ClientTask::Train { epochs, batch_size, lr, proximal_mu } => {
                let mut w = weights.clone();
                for _ in 0..*epochs {
                    for batch in self.data.epoch(*batch_size, rng) {
                        let g = loss_and_gradient(model, &w, &batch, Some((weights, *proximal_mu)));
                        w = w.axpy(T::of(-lr), &g);
                    }
                }
                w
            }
        };
        Update { client: index, examples: self.data.len(), payload }
    }
}
