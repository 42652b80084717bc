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
