//! Communication graphs of decentralised training, and their mixing matrices.
//!
//! The mixing matrix uses Metropolis-Hastings weights (Xiao & Boyd 2004):
//!
//! ```text
//! W_ij = 1 / (1 + max(d_i, d_j))   for each edge ij,     W_ii = 1 - sum_{j != i} W_ij,
//! ```
//!
//! with `d_i` the degree of node `i`. `W` is symmetric and doubly stochastic, so repeated
//! mixing keeps the mean and, on a connected graph, drives every node to it.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// A graph on `n` nodes, as sorted neighbour lists (no self-loops).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// A short name (`"ring"`, `"torus 4x4"`).
    pub name: String,
    /// `neighbours[i]`: the nodes `i` talks to, ascending.
    pub neighbours: Vec<Vec<usize>>,
}

impl Topology {
    fn from_edges(name: String, n: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let mut neighbours = vec![Vec::new(); n];
        for (a, b) in edges {
            if a != b && !neighbours[a].contains(&b) {
                neighbours[a].push(b);
                neighbours[b].push(a);
            }
        }
        neighbours.iter_mut().for_each(|l| l.sort_unstable());
        Topology { name, neighbours }
    }

    /// A cycle through `n` nodes.
    pub fn ring(n: usize) -> Self {
        Self::from_edges("ring".into(), n, (0..n).map(|i| (i, (i + 1) % n)))
    }

    /// A `rows x cols` grid with wrap-around (each node has up to four neighbours).
    pub fn torus(rows: usize, cols: usize) -> Self {
        let id = |r: usize, c: usize| (r % rows) * cols + c % cols;
        let edges =
            (0..rows).flat_map(|r| (0..cols).flat_map(move |c| [(id(r, c), id(r + 1, c)), (id(r, c), id(r, c + 1))]));
        Self::from_edges(format!("torus {rows}x{cols}"), rows * cols, edges)
    }

    /// Every pair connected.
    pub fn complete(n: usize) -> Self {
        Self::from_edges("complete".into(), n, (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))))
    }

    /// A random `degree`-regular graph from `seed` (the pairing model, redrawn until simple).
    /// The expected number of draws grows like `exp((degree^2 - 1) / 4)`: fine for small
    /// degrees (about 50 at degree 4), hopeless beyond about 8.
    ///
    /// # Panics
    /// If `n * degree` is odd or `degree >= n`.
    pub fn random_regular(n: usize, degree: usize, seed: u64) -> Self {
        assert!(degree < n && (n * degree).is_multiple_of(2), "random_regular: no {degree}-regular graph on {n} nodes");
        let mut rng = StdRng::seed_from_u64(seed);
        loop {
            let mut stubs: Vec<usize> = (0..n).flat_map(|i| std::iter::repeat_n(i, degree)).collect();
            stubs.shuffle(&mut rng);
            let pairs: Vec<(usize, usize)> = stubs.chunks(2).map(|p| (p[0], p[1])).collect();
            let t = Self::from_edges(format!("random {degree}-regular"), n, pairs);
            if t.neighbours.iter().all(|l| l.len() == degree) {
                return t;
            }
        }
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.neighbours.len()
    }

    /// True for the empty graph.
    pub fn is_empty(&self) -> bool {
        self.neighbours.is_empty()
    }

    /// The Metropolis-Hastings mixing matrix, row by row as `(node, weight)` pairs (self
    /// included).
    pub fn mixing(&self) -> Vec<Vec<(usize, f64)>> {
        let degree = |i: usize| self.neighbours[i].len() as f64;
        (0..self.len())
            .map(|i| {
                let mut row: Vec<(usize, f64)> =
                    self.neighbours[i].iter().map(|&j| (j, 1.0 / (1.0 + degree(i).max(degree(j))))).collect();
                let own = 1.0 - row.iter().map(|(_, w)| w).sum::<f64>();
                row.push((i, own));
                row.sort_by_key(|&(j, _)| j);
                row
            })
            .collect()
    }
}
