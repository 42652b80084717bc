//! Graph convolution (Kipf & Welling 2017): `H' = A_hat H W + b`, with `A_hat` the adjacency
//! with self-loops, normalised symmetrically (`D^-1/2 (A + I) D^-1/2`, Kipf) or by rows
//! (`D^-1 (A + I)`, the mean of the neighbourhood).

use crate::{init, ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};
use rand::rngs::StdRng;

/// How neighbours are combined.
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
#[derive(Clone, Copy, Debug)]
pub struct GraphConv {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
}

impl GraphConv {
    /// Fresh `weight [inputs, outputs]` (Glorot uniform) and zero `bias`.
    pub fn init<T: Float>(&self, rng: &mut StdRng) -> Params<T> {
        let mut p = Params::new();
        p.insert("weight", init::xavier_uniform(&[self.inputs, self.outputs], self.inputs, self.outputs, 1.0, rng));
        p.insert("bias", init::constant(&[self.outputs], 0.0));
        p
    }

    /// `A_hat H W + b` for node features `h [nodes, inputs]` and `a_hat [nodes, nodes]`.
    pub fn forward<'t, T: Float>(&self, p: &ParamVars<'t, T>, h: Var<'t, T>, a_hat: Var<'t, T>) -> Var<'t, T> {
        a_hat.matmul(h.matmul(p.get("weight"))) + p.get("bias")
    }
}
