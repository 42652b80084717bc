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
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{ClientTask, Reply, Simulated, Transport};
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
/// let weights = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let mut transport = Simulated::new(&model, vec![client(2), client(4), client(6)], 0);
/// let replies = transport.exchange(0, &weights, &[2, 0], &ClientTask::Gradient);
/// // One reply per selected client, in the order asked.
/// let senders: Vec<(usize, usize)> = replies
///     .iter()
///     .map(|r| match r {
///         Reply::Update(u) => (u.client, u.examples),
///         Reply::Dropped { .. } => unreachable!("no dropout"),
///     })
///     .collect();
/// assert_eq!(senders, vec![(2, 6), (0, 2)]);
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{ClientTask, Simulated, Traffic, Transport};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
/// # use metagrad_autodiff::Tensor;
///
/// let model = Linear::new(2, 3); // 6 weights and 3 biases
/// let weights = Module::<f32>::init(&model, &mut StdRng::seed_from_u64(0));
/// # let client = |n: usize| metagrad_algos::federated::Client { data: metagrad_algos::Labelled::new(Tensor::<f32>::zeros(&[n, 2]), vec![0; n]) };
/// let mut transport = Simulated::new(&model, vec![client(2), client(2)], 0);
/// transport.exchange(0, &weights, &[0, 1], &ClientTask::Gradient);
/// // Two copies of 9 f32 values each way.
/// assert_eq!(transport.traffic(), Traffic { sent: 2 * 9 * 4, received: 2 * 9 * 4 });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Server to clients.
    pub sent: u64,
    /// Clients to server.
    pub received: u64,
}

/// A channel between the server and its clients.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{ClientTask, Reply, Server, Traffic, Transport, Update};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// /// Clients that send back the weights they were given, as if they had nothing to learn.
/// struct Echo;
///
/// impl Transport<f64> for Echo {
///     fn clients(&self) -> usize {
///         3
///     }
///     fn exchange(&mut self, _: usize, weights: &Params<f64>, selected: &[usize], _: &ClientTask) -> Vec<Reply<f64>> {
///         selected.iter().map(|&client| Reply::Update(Update { client, examples: 1, payload: weights.clone() })).collect()
///     }
///     fn traffic(&self) -> Traffic {
///         Traffic::default()
///     }
/// }
///
/// let start = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0, -2.0]))]);
/// let mut weights = start.clone();
/// let report = Server::fedavg(1, None, 0.1, 1.0).round(0, &mut weights, &mut Echo);
/// // The server only sees the transport: averaging unchanged weights changes nothing.
/// assert_eq!(report.selected, vec![0, 1, 2]);
/// assert!(report.applied);
/// assert_eq!(weights, start);
/// ```
pub trait Transport<T: Float> {
    /// The number of clients reachable.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{Simulated, Transport};
    /// use metagrad_nn::layers::Linear;
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
    /// let transport = Simulated::<f64>::new(&model, vec![client(2), client(2), client(4)], 0);
    /// assert_eq!(transport.clients(), 3);
    /// ```
    fn clients(&self) -> usize;

    /// Sends `weights` and `task` to each of `selected` for round `round`; one reply per
    /// selected client, in the order of `selected`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{ClientTask, Reply, Simulated, Transport};
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
    /// let weights = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mut transport = Simulated::new(&model, vec![client(2), client(2)], 3);
    /// let task = ClientTask::Train { epochs: 1, batch_size: Some(1), lr: 0.1, proximal_mu: 0.0 };
    /// let payload = |r: Vec<Reply<f64>>| match r.into_iter().next() {
    ///     Some(Reply::Update(u)) => u.payload,
    ///     _ => unreachable!("no dropout"),
    /// };
    /// // A client's minibatches come from (seed, round, client): the same round replays exactly.
    /// let a = payload(transport.exchange(5, &weights, &[1], &task));
    /// let b = payload(transport.exchange(5, &weights, &[1], &task));
    /// assert_eq!(a, b);
    /// ```
    fn exchange(&mut self, round: usize, weights: &Params<T>, selected: &[usize], task: &ClientTask) -> Vec<Reply<T>>;

    /// Bytes carried so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::{ClientTask, Simulated, Traffic, Transport};
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
    /// let weights = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
    /// let mut transport = Simulated::new(&model, vec![client(2), client(2)], 0);
    /// assert_eq!(transport.traffic(), Traffic::default());
    /// transport.dropout = 1.0;
    /// transport.exchange(0, &weights, &[0, 1], &ClientTask::Gradient);
    /// // The weights went out (6 f64 values to each of two clients); nothing came back.
    /// assert_eq!(transport.traffic(), Traffic { sent: 2 * 6 * 8, received: 0 });
    /// ```
    fn traffic(&self) -> Traffic;
}

/// A misbehaving client, for tests of robust aggregation.
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{ClientTask, Fault, Reply, Simulated, Transport};
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
/// let weights = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let mut transport = Simulated::new(&model, vec![client(2), client(2), client(2)], 0);
/// transport.faults = vec![(1, Fault::Scale(-1.0)), (2, Fault::NotANumber)];
/// let payloads: Vec<_> = transport
///     .exchange(0, &weights, &[0, 1, 2], &ClientTask::Gradient)
///     .into_iter()
///     .map(|r| match r {
///         Reply::Update(u) => u.payload,
///         Reply::Dropped { .. } => unreachable!("no dropout"),
///     })
///     .collect();
/// // Same data, so client 1 sends the honest gradient with its sign flipped; client 2 sends NaN.
/// assert_eq!(payloads[1], payloads[0].map(|t| t.map(|v| -v)));
/// assert!(payloads[2].tensors().all(|t| t.to_vec().iter().all(|v| v.is_nan())));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Every value of its update is NaN.
    NotANumber,
    /// Its payload (gradient, or trained weights) scaled by this factor: a huge, or a
    /// sign-flipped, reply.
    Scale(f64),
}

/// Clients in this process (see the module docs).
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::{ClientTask, Reply, Simulated, Transport};
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
/// let weights = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let mut transport = Simulated::new(&model, (0..20).map(|_| client(2)).collect(), 0);
/// transport.dropout = 0.5;
/// let selected: Vec<usize> = (0..20).collect();
/// let dropped = |t: &mut Simulated<f64>| {
///     let replies = t.exchange(1, &weights, &selected, &ClientTask::Gradient);
///     replies.iter().filter(|r| matches!(r, Reply::Dropped { .. })).count()
/// };
/// // Some, but not all, of twenty clients drop out, and the same ones again for the same round.
/// let n = dropped(&mut transport);
/// assert!(n > 0 && n < 20);
/// assert_eq!(dropped(&mut transport), n);
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Simulated;
    /// use metagrad_nn::layers::Linear;
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
    /// let transport = Simulated::<f64>::new(&model, vec![client(2), client(4)], 0);
    /// // Well-behaved until told otherwise.
    /// assert_eq!(transport.dropout, 0.0);
    /// assert!(transport.faults.is_empty());
    /// ```
    pub fn new(model: &'m dyn Module<T>, clients: Vec<Client<T>>, seed: u64) -> Self {
        Simulated { model, clients, seed, dropout: 0.0, faults: Vec::new(), traffic: Traffic::default() }
    }

    /// The clients.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Simulated;
    /// use metagrad_nn::layers::Linear;
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
    /// let transport = Simulated::<f64>::new(&model, vec![client(2), client(4)], 0);
    /// let sizes: Vec<usize> = transport.client_data().iter().map(|c| c.data.len()).collect();
    /// assert_eq!(sizes, vec![2, 4]);
    /// ```
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
        self.traffic.received += replies
            .iter()
            .map(|r| match r {
                Reply::Update(u) => bytes(&u.payload),
                Reply::Dropped { .. } => 0,
            })
            .sum::<u64>();
        replies
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }
}
