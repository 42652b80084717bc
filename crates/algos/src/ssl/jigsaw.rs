//! Jigsaw puzzles (Noroozi & Favaro 2016): cut every image into a 2 x 2 grid of tiles, shuffle
//! the tiles by one of the 4! = 24 permutations, embed each tile with the shared encoder, and
//! classify the permutation from the concatenated tile embeddings (the paper's context-free
//! network, with 3 x 3 tiles of larger images and 1000 chosen permutations). Solving it needs
//! the encoder to know which part of a shape goes where.
//!
//! `L = cross-entropy of the permutation, over the batch.`
//!
//! Two simplifications against the paper, both worth knowing when reading the results:
//! - Tiles are cut edge to edge. Noroozi & Favaro leave gaps and jitter between tiles so that
//!   the network cannot solve the puzzle by matching strokes across tile borders; here it can.
//! - The encoder's batch-norm running statistics are gathered on tiles, while the probe runs
//!   it on whole images, whose per-channel statistics differ.

use super::{apply_head, encode, mlp_head, stream, Method, Objective, Step};
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, Module, ParamVars, Sequential};
use rand::Rng;

/// The 24 orders of four tiles, in lexicographic order; label `k` puts tile `orders[k][slot]`
/// (tiles numbered row-major) in position `slot`.
fn permutations() -> Vec<[usize; 4]> {
    let mut all = Vec::with_capacity(24);
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let p = [a, b, c, d];
                    if (0..4).all(|k| p.contains(&k)) {
                        all.push(p);
                    }
                }
            }
        }
    }
    all
}

/// The jigsaw pretext task with an MLP head on the four tiles' features.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{Jigsaw, Method};
///
/// let jigsaw = Jigsaw::<f64>::new(3, 8);
/// assert_eq!(jigsaw.name(), "jigsaw");
/// assert_eq!(jigsaw.heads().iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec!["classifier"]);
/// ```
pub struct Jigsaw<T: Float> {
    /// `4 * tile_features -> hidden -> 24`.
    pub classifier: Sequential<T>,
}

impl<T: Float> Jigsaw<T> {
    /// The 24 tile orders, indexed by label: label `k` puts tile `orders[k][slot]` (tiles
    /// numbered row-major) in position `slot`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::Jigsaw;
    ///
    /// let orders = Jigsaw::<f64>::permutations();
    /// // All 4! orders, lexicographic: the identity first, the reversal last.
    /// assert_eq!(orders.len(), 24);
    /// assert_eq!((orders[0], orders[23]), ([0, 1, 2, 3], [3, 2, 1, 0]));
    /// ```
    pub fn permutations() -> Vec<[usize; 4]> {
        permutations()
    }

    /// A head for an encoder that gives `tile_features` features per tile.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Jigsaw};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let (params, _) = initial(&encoder, &Jigsaw::new(3, 8), 0);
    /// // The head reads the four tiles' 3 features side by side and scores 24 orders.
    /// assert_eq!(params.get("head.classifier.0.weight").unwrap().shape(), &[12, 8]);
    /// assert_eq!(params.get("head.classifier.3.weight").unwrap().shape(), &[8, 24]);
    /// ```
    pub fn new(tile_features: usize, hidden: usize) -> Self {
        Jigsaw { classifier: mlp_head(4 * tile_features, hidden, 24) }
    }

    /// The tiles of every image in the order of its permutation, `[4n, c, h/2, w/2]`
    /// (image-major), and each image's permutation index.
    ///
    /// # Panics
    /// If the images are not `[n, c, h, w]` with even `h` and `w`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::Jigsaw;
    /// use metagrad_autodiff::Tensor;
    ///
    /// // A 2x2 image cut into four 1x1 tiles, numbered row-major by their pixel values.
    /// let image = Tensor::from_vec(&[1, 1, 2, 2], vec![0.0f64, 1.0, 2.0, 3.0]);
    /// let (tiles, labels) = Jigsaw::shuffled_tiles(&image, 5);
    /// assert_eq!(tiles.shape(), &[4, 1, 1, 1]);
    /// // Slot k holds tile orders[label][k].
    /// let order = Jigsaw::<f64>::permutations()[labels[0]];
    /// assert_eq!(tiles.to_vec(), order.iter().map(|&t| t as f64).collect::<Vec<_>>());
    /// ```
    pub fn shuffled_tiles(images: &Tensor<T>, seed: u64) -> (Tensor<T>, Vec<usize>) {
        let shape = images.shape().to_vec();
        assert!(
            shape.len() == 4 && shape[2].is_multiple_of(2) && shape[3].is_multiple_of(2),
            "Jigsaw: images of shape {shape:?} are not [n, c, h, w] with even sides"
        );
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
        let (th, tw) = (h / 2, w / 2);
        let orders = permutations();
        let values = images.to_vec();
        let mut tiles = Vec::with_capacity(values.len());
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let label = stream(seed, i as u64).gen_range(0..orders.len());
            labels.push(label);
            for &tile in &orders[label] {
                let (ty, tx) = (tile / 2, tile % 2);
                for ch in 0..c {
                    for y in 0..th {
                        let start = ((i * c + ch) * h + ty * th + y) * w + tx * tw;
                        tiles.extend_from_slice(&values[start..start + tw]);
                    }
                }
            }
        }
        (Tensor::from_vec(&[4 * n, c, th, tw], tiles), labels)
    }
}

impl<T: Float> Method<T> for Jigsaw<T> {
    fn name(&self) -> &'static str {
        "jigsaw"
    }

    fn heads(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        vec![("classifier", &self.classifier)]
    }

    fn objective<'t>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        step: &Step<'_, T>,
        ctx: &mut Context<T>,
    ) -> Objective<'t, T> {
        let images = step.augment.apply(&step.batch.inputs, step.seed);
        let (tiles, labels) = Self::shuffled_tiles(&images, step.seed ^ 0x0011_C5A3);
        let n = labels.len();
        let h = encode(encoder, params, tiles, ctx);
        let per_tile = h.shape()[1];
        let logits = apply_head(&self.classifier, "classifier", params, h.reshape(&[n, 4 * per_tile]), ctx);
        Objective { loss: cross_entropy(logits, Targets::Classes(&labels), 0.0, Reduction::Mean), embeddings: None }
    }
}
