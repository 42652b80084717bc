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
///
/// # Examples
///
/// ```
/// use metagrad_algos::federated::Topology;
///
/// let ring = Topology::ring(4);
/// assert_eq!((ring.name.as_str(), ring.neighbours.clone()), ("ring", vec![vec![1, 3], vec![0, 2], vec![1, 3], vec![0, 2]]));
/// // Edges are undirected: j lists i whenever i lists j.
/// assert!((0..4).all(|i| ring.neighbours[i].iter().all(|&j| ring.neighbours[j].contains(&i))));
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Topology;
    ///
    /// let ring = Topology::ring(5);
    /// // Node 0 sits between 4 and 1; every node has two neighbours.
    /// assert_eq!(ring.neighbours[0], vec![1, 4]);
    /// assert!(ring.neighbours.iter().all(|l| l.len() == 2));
    /// ```
    pub fn ring(n: usize) -> Self {
        Self::from_edges("ring".into(), n, (0..n).map(|i| (i, (i + 1) % n)))
    }

    /// A `rows x cols` grid with wrap-around (each node has up to four neighbours).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Topology;
    ///
    /// let torus = Topology::torus(3, 4);
    /// assert_eq!((torus.len(), torus.name.as_str()), (12, "torus 3x4"));
    /// // Node (1, 1) = 5 has up, down, left and right: 1, 9, 4 and 6.
    /// assert_eq!(torus.neighbours[5], vec![1, 4, 6, 9]);
    /// assert!(torus.neighbours.iter().all(|l| l.len() == 4));
    /// ```
    pub fn torus(rows: usize, cols: usize) -> Self {
        let id = |r: usize, c: usize| (r % rows) * cols + c % cols;
        let edges =
            (0..rows).flat_map(|r| (0..cols).flat_map(move |c| [(id(r, c), id(r + 1, c)), (id(r, c), id(r, c + 1))]));
        Self::from_edges(format!("torus {rows}x{cols}"), rows * cols, edges)
    }

    /// Every pair connected.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Topology;
    ///
    /// let complete = Topology::complete(4);
    /// assert_eq!(complete.neighbours[2], vec![0, 1, 3]);
    /// // Metropolis-Hastings weights on the complete graph: 1/n everywhere, so one mixing round
    /// // averages.
    /// assert!(complete.mixing().iter().flatten().all(|&(_, w)| w == 0.25));
    /// ```
    pub fn complete(n: usize) -> Self {
        Self::from_edges("complete".into(), n, (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))))
    }

    /// A random `degree`-regular graph from `seed` (the pairing model, redrawn until simple).
    /// The expected number of draws grows like `exp((degree^2 - 1) / 4)`: fine for small
    /// degrees (about 50 at degree 4), hopeless beyond about 8.
    ///
    /// # Panics
    /// If `n * degree` is odd or `degree >= n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Topology;
    ///
    /// let graph = Topology::random_regular(10, 3, 42);
    /// // Simple and 3-regular: three distinct neighbours each, never itself.
    /// assert!(graph.neighbours.iter().enumerate().all(|(i, l)| l.len() == 3 && !l.contains(&i)));
    /// assert_eq!(Topology::random_regular(10, 3, 42), graph);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Topology;
    ///
    /// assert_eq!(Topology::torus(2, 3).len(), 6);
    /// assert_eq!(Topology::random_regular(6, 2, 0).len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        self.neighbours.len()
    }

    /// True for the empty graph.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Topology;
    ///
    /// assert!(Topology::complete(0).is_empty());
    /// assert!(!Topology::ring(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.neighbours.is_empty()
    }

    /// The Metropolis-Hastings mixing matrix, row by row as `(node, weight)` pairs (self
    /// included).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::federated::Topology;
    ///
    /// let mixing = Topology::ring(4).mixing();
    /// // Degree 2 everywhere: 1/3 to each neighbour and 1/3 kept, rows sorted by node.
    /// assert_eq!(mixing[0].iter().map(|&(j, _)| j).collect::<Vec<_>>(), vec![0, 1, 3]);
    /// assert!(mixing[0].iter().all(|&(_, w)| (w - 1.0 / 3.0).abs() < 1e-12));
    /// // Doubly stochastic: every row sums to 1.
    /// assert!(mixing.iter().all(|row| (row.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-12));
    /// ```
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
