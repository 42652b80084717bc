//! Centroid regularisation: pull every embedding towards the centroid of its group in the
//! batch, tightening clusters (in the spirit of the centre loss of Wen et al. 2016, with
//! in-batch centroids instead of learned centres):
//!
//! ```text
//! c_g = mean_{i in g} z_i,   L_c = mean_i ||z_i - c_{g(i)}||^2.
//! ```
//!
//! The training loop adds `weight * L_c` to any method that reports its embeddings
//! ([`super::Config::centroid_weight`]).

use metagrad_autodiff::{one_hot, Float, Tensor, Var};

/// `L_c` of embeddings `z` (`[rows, d]`) with one group id per row.
///
/// # Panics
/// If `groups` does not have one entry per row.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::centroid_loss;
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let z = tape.constant(Tensor::from_vec(&[3, 2], vec![0.0f64, 0.0, 2.0, 0.0, 5.0, 5.0]));
/// // Rows 0 and 1 share centroid (1, 0), one unit from each; row 2 is its own centroid.
/// assert!((centroid_loss(z, &[7, 7, 3]).item() - 2.0 / 3.0).abs() < 1e-12);
/// assert_eq!(centroid_loss(z, &[0, 1, 2]).item(), 0.0);
/// ```
pub fn centroid_loss<'t, T: Float>(z: Var<'t, T>, groups: &[usize]) -> Var<'t, T> {
    let rows = z.shape()[0];
    assert_eq!(groups.len(), rows, "centroid_loss: {} groups for {rows} rows", groups.len());
    // Renumber the groups 0..k in order of appearance.
    let mut ids: Vec<usize> = Vec::new();
    let dense: Vec<usize> = groups
        .iter()
        .map(|g| {
            ids.iter().position(|x| x == g).unwrap_or_else(|| {
                ids.push(*g);
                ids.len() - 1
            })
        })
        .collect();
    let k = ids.len();
    let membership: Tensor<T> = one_hot(&dense, k);
    let mut counts = vec![T::zero(); k];
    for &g in &dense {
        counts[g] += T::one();
    }
    // Row i of `averaging` averages the rows of i's group: M diag(1/count) M^T.
    let m = membership.to_vec();
    let averaging: Vec<T> =
        (0..rows * rows).map(|idx| m[(idx / rows) * k + dense[idx % rows]] / counts[dense[idx % rows]]).collect();
    let centroids = z.constant(Tensor::from_vec(&[rows, rows], averaging)).matmul(z);
    (z - centroids).square().sum() * T::of(1.0 / rows as f64)
}
