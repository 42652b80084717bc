//! Federated learning: training one model on data that stays with its owners. Only weights
//! and updates travel.
//!
//! | method | file | what a round does |
//! |---|---|---|
//! | federated gradients (FedSGD) | [`server`] | sampled clients return their gradient; the server takes one step on the weighted mean |
//! | federated averaging (FedAvg) | [`server`] | sampled clients train `E` epochs of minibatch SGD from the server's weights; the server averages the weights |
//! | FedAvgM, FedAdam | [`server_optimizer`] | the server treats `weights - average` as a gradient for momentum or Adam |
//! | FedProx | [`client`] | clients add `mu/2 ||w - w_server||^2` to their loss |
//! | decentralised consensus SGD | [`consensus`] | no server: each worker steps on its data, then averages with its neighbours |
//!
//! The pieces:
//!
//! - a [`Client`] holds private data and runs a [`ClientTask`] (return a gradient, or train
//!   locally) on the weights it is sent;
//! - a [`Transport`] carries weights out and updates back. [`Simulated`] runs the clients in
//!   this process, in parallel with rayon, and can make clients drop out or send garbage; a
//!   networked transport would implement the same trait, and nothing else would change;
//! - [`aggregate()`] combines the updates (weighted mean, coordinate-wise median, trimmed mean),
//!   rejecting any that is not finite, with the reason;
//! - [`Server`] runs rounds: samples the clients, exchanges, aggregates, steps.
//!
//! Every random choice (which clients, their minibatches, who drops out) comes from the seed,
//! the round and the client's index, so a run gives the same bits at any thread count.

pub mod aggregate;
pub mod client;
pub mod consensus;
pub mod server;
pub mod server_optimizer;
pub mod topology;
pub mod transport;

pub use aggregate::{aggregate, aggregate_against, Aggregation, Rejection};
pub use client::{Client, ClientTask};
pub use consensus::{consensus_distance, Consensus};
pub use server::{RoundReport, Server};
pub use server_optimizer::ServerOptimizer;
pub use topology::Topology;
pub use transport::{Fault, Reply, Simulated, Traffic, Transport};

use metagrad_autodiff::Float;
use metagrad_nn::Params;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// What a client sends back.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{aggregate, Aggregation, Update};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let update = |client, examples, w: f64| Update { client, examples, payload: Params::from_pairs([("w".to_string(), Tensor::scalar(w))]) };
/// // One example says 0, three say 4: the weighted mean is (0 + 3 * 4) / 4.
/// let (mean, _) = aggregate(&[update(0, 1, 0.0), update(1, 3, 4.0)], Aggregation::WeightedMean);
/// assert_eq!(mean.unwrap().get("w").unwrap().item(), 3.0);
/// ```
#[derive(Clone, Debug)]
pub struct Update<T: Float> {
    /// The client's index.
    pub client: usize,
    /// Its number of examples `n_k` (the weight of its update in the mean).
    pub examples: usize,
    /// Its gradient (FedSGD) or its trained weights (FedAvg), laid out like the model.
    pub payload: Params<T>,
}

/// A generator for `(seed, round, who)`: SplitMix64 mixing, so neighbouring rounds and clients
/// get unrelated streams, and no stream depends on which thread runs it.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::stream;
/// use rand::Rng;
///
/// let draw = |seed, round, who| stream(seed, round, who).gen::<u64>();
/// // The same (seed, round, who) always gives the same stream; a neighbour gets another.
/// assert_eq!(draw(7, 3, 1), draw(7, 3, 1));
/// assert_ne!(draw(7, 3, 1), draw(7, 3, 2));
/// assert_ne!(draw(7, 3, 1), draw(7, 4, 1));
/// ```
pub fn stream(seed: u64, round: u64, who: u64) -> StdRng {
    let mut z =
        seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ who.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}
