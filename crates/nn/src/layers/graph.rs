//! Graph convolution (Kipf & Welling 2017): `H' = A_hat H W + b`, with `A_hat` the adjacency
//! with self-loops, normalised symmetrically (`D^-1/2 (A + I) D^-1/2`, Kipf) or by rows
//! (`D^-1 (A + I)`, the mean of the neighbourhood).

use crate::{init, ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};
use rand::rngs::StdRng;

/// How neighbours are combined.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::layers::{normalized_adjacency, Aggregation};
///
/// // The path 0 - 1 - 2; with self-loops the degrees are 2, 3 and 2.
/// let mean: Tensor<f64> = normalized_adjacency(3, &[(0, 1), (1, 2)], Aggregation::Mean);
/// let kipf: Tensor<f64> = normalized_adjacency(3, &[(0, 1), (1, 2)], Aggregation::Kipf);
/// let (m, k) = (mean.to_vec(), kipf.to_vec());
/// // Mean: every row sums to 1.
/// assert!(m.chunks(3).all(|row| (row.iter().sum::<f64>() - 1.0).abs() < 1e-12));
/// // Kipf: symmetric, with entry (0, 1) = 1 / sqrt(2 * 3).
/// assert_eq!(k[1], k[3]);
/// assert!((k[1] - 1.0 / 6f64.sqrt()).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    /// The mean over the node and its neighbours.
    Mean,
    /// Kipf & Welling's symmetric normalisation.
    Kipf,
}

/// `A_hat` for an undirected graph on `nodes` nodes given by its `edges`.
///
/// # Panics
/// If an edge names a node that does not exist.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::layers::{normalized_adjacency, Aggregation};
///
/// // Nodes 0 and 1 joined, node 2 alone: with self-loops the degrees are 2, 2 and 1.
/// let a: Tensor<f64> = normalized_adjacency(3, &[(0, 1)], Aggregation::Mean);
/// assert_eq!(a.shape(), &[3, 3]);
/// assert_eq!(a.to_vec(), vec![0.5, 0.5, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 1.0]);
/// ```
pub fn normalized_adjacency<T: Float>(nodes: usize, edges: &[(usize, usize)], aggregation: Aggregation) -> Tensor<T> {
    let mut a = vec![0.0f64; nodes * nodes];
    for i in 0..nodes {
        a[i * nodes + i] = 1.0;
    }
    for &(i, j) in edges {
        assert!(i < nodes && j < nodes, "normalized_adjacency: edge ({i}, {j}) in a graph of {nodes} nodes");
        a[i * nodes + j] = 1.0;
        a[j * nodes + i] = 1.0;
    }
    let degree: Vec<f64> = (0..nodes).map(|i| a[i * nodes..(i + 1) * nodes].iter().sum()).collect();
    let values = (0..nodes * nodes)
        .map(|ij| {
            let (i, j) = (ij / nodes, ij % nodes);
            T::of(match aggregation {
                Aggregation::Mean => a[ij] / degree[i],
                Aggregation::Kipf => a[ij] / (degree[i] * degree[j]).sqrt(),
            })
        })
        .collect();
    Tensor::from_vec(&[nodes, nodes], values)
}

/// One graph-convolution layer, `inputs -> outputs` features per node.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::{normalized_adjacency, Aggregation, GraphConv};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let gcn = GraphConv { inputs: 2, outputs: 4 };
/// let params = gcn.init::<f64>(&mut StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let a_hat = tape.constant(normalized_adjacency(3, &[(0, 1), (1, 2)], Aggregation::Mean));
/// let h = tape.constant(Tensor::ones(&[3, 2])); // 3 nodes with the same 2 features
/// let out = gcn.forward(&params.on(&tape), h, a_hat);
/// assert_eq!(out.shape(), vec![3, 4]);
/// // Averaging equal neighbours changes nothing, so every node gets the same output.
/// let rows = out.value().to_vec();
/// assert!((0..4).all(|j| (rows[j] - rows[4 + j]).abs() < 1e-12 && (rows[j] - rows[8 + j]).abs() < 1e-12));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct GraphConv {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
}

impl GraphConv {
    /// Fresh `weight [inputs, outputs]` (Glorot uniform) and zero `bias`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::layers::GraphConv;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let params = GraphConv { inputs: 3, outputs: 2 }.init::<f64>(&mut StdRng::seed_from_u64(0));
    /// let weight = params.get("weight").unwrap();
    /// assert_eq!(weight.shape(), &[3, 2]);
    /// // Glorot's bound sqrt(6 / (3 + 2)).
    /// assert!(weight.to_vec().iter().all(|w| w.abs() <= (6.0f64 / 5.0).sqrt()));
    /// assert_eq!(params.get("bias").unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn init<T: Float>(&self, rng: &mut StdRng) -> Params<T> {
        let mut p = Params::new();
        p.insert("weight", init::xavier_uniform(&[self.inputs, self.outputs], self.inputs, self.outputs, 1.0, rng));
        p.insert("bias", init::constant(&[self.outputs], 0.0));
        p
    }

    /// `A_hat H W + b` for node features `h [nodes, inputs]` and `a_hat [nodes, nodes]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::{normalized_adjacency, Aggregation, GraphConv};
    /// use metagrad_nn::Params;
    ///
    /// let gcn = GraphConv { inputs: 1, outputs: 1 };
    /// let params = Params::from_pairs([
    ///     ("weight".to_string(), Tensor::from_vec(&[1, 1], vec![2.0f64])),
    ///     ("bias".to_string(), Tensor::from_vec(&[1], vec![1.0])),
    /// ]);
    /// let tape = Tape::new();
    /// // Nodes 0 and 1 joined, node 2 alone.
    /// let a_hat = tape.constant(normalized_adjacency(3, &[(0, 1)], Aggregation::Mean));
    /// let h = tape.constant(Tensor::from_vec(&[3, 1], vec![1.0, 3.0, 5.0]));
    /// let out = gcn.forward(&params.on(&tape), h, a_hat);
    /// // Nodes 0 and 1 average to 2 and node 2 keeps 5; then 2 x + 1.
    /// assert_eq!(out.value().to_vec(), vec![5.0, 5.0, 11.0]);
    /// ```
    pub fn forward<'t, T: Float>(&self, p: &ParamVars<'t, T>, h: Var<'t, T>, a_hat: Var<'t, T>) -> Var<'t, T> {
        a_hat.matmul(h.matmul(p.get("weight"))) + p.get("bias")
    }
}
