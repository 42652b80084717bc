//! How weights reach the clients and updates come back.
//!
//! [`Transport`] is the only thing the server knows about the clients: send these weights and
//! this task to these clients, get back what each replied (or that it dropped out). The
//! in-process [`Simulated`] transport runs the clients in parallel with rayon, counts the
//! bytes a real network would carry, and can be told to drop clients or to corrupt their
//! updates, to test the server's defences. A networked implementation serialises the weights
//! and the [`ClientTask`] and implements the same trait.

use super::{stream, Client, ClientTask, Update};
use crate::par::*;
use metagrad_autodiff::Float;
use metagrad_nn::{Module, Params};
use rand::Rng;

/// What came back from one client.
#[derive(Clone, Debug)]
pub enum Reply<T: Float> {
    /// Its update.
    Update(Update<T>),
    /// It dropped out of the round (no reply).
    Dropped {
        /// The client's index.
        client: usize,
    },
}

/// Bytes carried so far, each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Server to clients.
    pub sent: u64,
    /// Clients to server.
    pub received: u64,
}

/// A channel between the server and its clients.
pub trait Transport<T: Float> {
    /// The number of clients reachable.
    fn clients(&self) -> usize;

    /// Sends `weights` and `task` to each of `selected` for round `round`; one reply per
    /// selected client, in the order of `selected`.
    fn exchange(&mut self, round: usize, weights: &Params<T>, selected: &[usize], task: &ClientTask) -> Vec<Reply<T>>;

    /// Bytes carried so far.
    fn traffic(&self) -> Traffic;
}

/// A misbehaving client, for tests of robust aggregation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Every value of its update is NaN.
    NotANumber,
    /// Its payload (gradient, or trained weights) scaled by this factor: a huge, or a
    /// sign-flipped, reply.
    Scale(f64),
}

/// Clients in this process (see the module docs).
pub struct Simulated<'m, T: Float> {
    model: &'m dyn Module<T>,
    clients: Vec<Client<T>>,
    seed: u64,
    /// Each selected client drops out of a round with this probability.
    pub dropout: f64,
    /// Clients that corrupt their updates, by index.
    pub faults: Vec<(usize, Fault)>,
    traffic: Traffic,
}

impl<'m, T: Float> Simulated<'m, T> {
    /// `clients` training `model`, randomness from `seed`.
    pub fn new(model: &'m dyn Module<T>, clients: Vec<Client<T>>, seed: u64) -> Self {
        Simulated { model, clients, seed, dropout: 0.0, faults: Vec::new(), traffic: Traffic::default() }
    }

    /// The clients.
    pub fn client_data(&self) -> &[Client<T>] {
        &self.clients
    }
}

fn bytes<T: Float>(params: &Params<T>) -> u64 {
    (params.numel() * std::mem::size_of::<T>()) as u64
}

impl<T: Float> Transport<T> for Simulated<'_, T> {
    fn clients(&self) -> usize {
        self.clients.len()
    }

    fn exchange(&mut self, round: usize, weights: &Params<T>, selected: &[usize], task: &ClientTask) -> Vec<Reply<T>> {
        let replies: Vec<Reply<T>> = selected
            .par_iter()
            .map(|&k| {
                // Who drops out has its own stream, so turning dropout on leaves every
                // remaining client's minibatches as they were.
                let presence = stream(self.seed ^ 0xD509, round as u64, k as u64).gen::<f64>();
                if presence < self.dropout {
                    return Reply::Dropped { client: k };
                }
                let mut rng = stream(self.seed, round as u64, k as u64);
                let mut update = self.clients[k].run(k, self.model, weights, task, &mut rng);
                if let Some((_, fault)) = self.faults.iter().find(|(c, _)| *c == k) {
                    update.payload = match *fault {
                        Fault::NotANumber => update.payload.map(|t| t.map(|_| T::nan())),
                        Fault::Scale(s) => update.payload.map(|t| t.map(|v| v * T::of(s))),
                    };
                }
                Reply::Update(update)
            })
            .collect();
        self.traffic.sent += selected.len() as u64 * bytes(weights);
        self.traffic.received +=
            replies.iter().filter(|r| matches!(r, Reply::Update(_))).count() as u64 * bytes(weights);
        replies
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }
}
