//! N-way K-shot episodes: the unit of few-shot learning (Vinyals et al. 2016).
//!
//! An episode picks `ways` classes, gives each a label `0..ways` in a random order, and draws
//! `shots` support and `queries` query examples per class, with no example in both sets.

use ndarray::{Array3, Array4, ArrayView2, Axis};
use rand::seq::index::sample;
use rand::seq::SliceRandom;
use rand::Rng;

/// One class of a [`ClassDataset`]: which images belong to it, and the multiple of 90 degrees
/// they are rotated by (rotations as extra classes, as MAML and prototypical networks use).
///
/// # Examples
///
/// ```
/// use metagrad_data::episodes::{rotate, Class, ClassDataset};
/// use ndarray::Array3;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // One drawing, used by two classes: as it is, and turned a quarter.
/// let images = Array3::from_shape_vec((1, 2, 2), vec![1.0, 2.0, 3.0, 4.0])?;
/// let classes = vec![Class { examples: vec![0], quarter_turns: 0 }, Class { examples: vec![0], quarter_turns: 1 }];
/// let data = ClassDataset { images, classes };
/// let batch = data.sample_batch(8, &mut StdRng::seed_from_u64(0));
/// for (image, &label) in batch.images.outer_iter().zip(&batch.labels) {
///     let pixels: Vec<f32> = image.iter().copied().collect();
///     assert_eq!(pixels, rotate(data.images.index_axis(ndarray::Axis(0), 0), label as u8));
/// }
/// # Ok::<(), ndarray::ShapeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    /// Indices into the dataset's images.
    pub examples: Vec<usize>,
    /// Quarter turns counter-clockwise: 0, 1, 2 or 3.
    pub quarter_turns: u8,
}

/// Square grey images grouped into classes.
///
/// # Examples
///
/// ```
/// use metagrad_data::episodes::{Class, ClassDataset, EpisodeSampler};
/// use ndarray::Array3;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // Three classes of four 2 x 2 images; image i is filled with the value i.
/// let images = Array3::from_shape_fn((12, 2, 2), |(i, _, _)| i as f32);
/// let classes = (0..3).map(|c| Class { examples: (4 * c..4 * c + 4).collect(), quarter_turns: 0 }).collect();
/// let data = ClassDataset { images, classes };
/// // Episodes draw only from the images their classes list.
/// let episode = EpisodeSampler { ways: 2, shots: 1, queries: 1 }.sample(&data, &mut StdRng::seed_from_u64(0));
/// for (image, &label) in episode.support.images.outer_iter().zip(&episode.support.labels) {
///     assert!(data.classes[episode.classes[label]].examples.contains(&(image[[0, 0, 0]] as usize)));
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ClassDataset {
    /// `[count, side, side]`, values in `[0, 1]`.
    pub images: Array3<f32>,
    /// The classes.
    pub classes: Vec<Class>,
}

/// A batch of images with labels.
///
/// # Examples
///
/// ```
/// use metagrad_data::episodes::{Class, ClassDataset};
/// use ndarray::Array3;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let images = Array3::<f32>::zeros((6, 5, 5));
/// let classes = (0..2).map(|c| Class { examples: (3 * c..3 * c + 3).collect(), quarter_turns: 0 }).collect();
/// let batch = ClassDataset { images, classes }.sample_batch(4, &mut StdRng::seed_from_u64(0));
/// // NCHW with one channel, and one label per image.
/// assert_eq!(batch.images.shape(), &[4, 1, 5, 5]);
/// assert_eq!(batch.labels.len(), 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledBatch {
    /// `[count, 1, side, side]` (NCHW).
    pub images: Array4<f32>,
    /// Episode labels `0..ways`.
    pub labels: Vec<usize>,
}

/// One episode.
///
/// # Examples
///
/// ```
/// use metagrad_data::episodes::{Class, ClassDataset, EpisodeSampler};
/// use ndarray::Array3;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let images = Array3::<f32>::zeros((20, 3, 3));
/// let classes = (0..4).map(|c| Class { examples: (5 * c..5 * c + 5).collect(), quarter_turns: 0 }).collect();
/// let data = ClassDataset { images, classes };
/// let episode = EpisodeSampler { ways: 3, shots: 2, queries: 1 }.sample(&data, &mut StdRng::seed_from_u64(4));
/// // Grouped by label in label order; `classes` maps each label back to the dataset.
/// assert_eq!(episode.support.labels, vec![0, 0, 1, 1, 2, 2]);
/// assert_eq!(episode.query.labels, vec![0, 1, 2]);
/// assert_eq!(episode.classes.len(), 3);
/// assert!(episode.classes.iter().all(|&c| c < 4));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    /// `ways * shots` examples, grouped by label in label order.
    pub support: LabelledBatch,
    /// `ways * queries` examples, grouped by label in label order.
    pub query: LabelledBatch,
    /// For each label, the index of its class in the dataset.
    pub classes: Vec<usize>,
}

/// Draws N-way K-shot episodes.
///
/// # Examples
///
/// ```
/// use metagrad_data::episodes::{Class, ClassDataset, EpisodeSampler};
/// use ndarray::Array3;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let images = Array3::<f32>::zeros((50, 4, 4));
/// let classes = (0..10).map(|c| Class { examples: (5 * c..5 * c + 5).collect(), quarter_turns: 0 }).collect();
/// let data = ClassDataset { images, classes };
/// // 5-way 1-shot with 3 queries per class.
/// let sampler = EpisodeSampler { ways: 5, shots: 1, queries: 3 };
/// let episode = sampler.sample(&data, &mut StdRng::seed_from_u64(0));
/// assert_eq!(episode.support.images.shape(), &[5, 1, 4, 4]);
/// assert_eq!(episode.query.images.shape(), &[15, 1, 4, 4]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpisodeSampler {
    /// Classes per episode (N).
    pub ways: usize,
    /// Support examples per class (K).
    pub shots: usize,
    /// Query examples per class.
    pub queries: usize,
}

impl EpisodeSampler {
    /// Draws an episode from `data` with `rng`.
    ///
    /// # Panics
    /// If `data` has fewer than `ways` classes, or a chosen class has fewer than
    /// `shots + queries` examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::episodes::{Class, ClassDataset, EpisodeSampler};
    /// use ndarray::Array3;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// // Six classes of five images; image i is filled with the value i, so it names itself.
    /// let images = Array3::from_shape_fn((30, 3, 3), |(i, _, _)| i as f32);
    /// let classes = (0..6).map(|c| Class { examples: (5 * c..5 * c + 5).collect(), quarter_turns: 0 }).collect();
    /// let data = ClassDataset { images, classes };
    /// let sampler = EpisodeSampler { ways: 4, shots: 2, queries: 3 };
    /// let episode = sampler.sample(&data, &mut StdRng::seed_from_u64(1));
    /// let ids = |images: &ndarray::Array4<f32>| {
    ///     images.outer_iter().map(|im| im[[0, 0, 0]] as usize).collect::<Vec<_>>()
    /// };
    /// let (support, query) = (ids(&episode.support.images), ids(&episode.query.images));
    /// // No image is in both sets, and each belongs to the class of its label.
    /// assert!(support.iter().all(|i| !query.contains(i)));
    /// for (id, &label) in support.iter().zip(&episode.support.labels) {
    ///     assert_eq!(id / 5, episode.classes[label]);
    /// }
    /// // The same seed, the same episode.
    /// assert_eq!(sampler.sample(&data, &mut StdRng::seed_from_u64(1)), episode);
    /// ```
    pub fn sample(&self, data: &ClassDataset, rng: &mut impl Rng) -> Episode {
        assert!(
            data.classes.len() >= self.ways,
            "EpisodeSampler: {}-way episodes need {} classes, the dataset has {}",
            self.ways,
            self.ways,
            data.classes.len()
        );
        let mut classes: Vec<usize> = sample(rng, data.classes.len(), self.ways).into_vec();
        classes.shuffle(rng); // the label of each class is its position: random per episode
        let side = data.images.shape()[1];
        let mut support = Vec::with_capacity(self.ways * self.shots);
        let mut query = Vec::with_capacity(self.ways * self.queries);
        for &c in &classes {
            let class = &data.classes[c];
            let needed = self.shots + self.queries;
            assert!(
                class.examples.len() >= needed,
                "EpisodeSampler: class {c} has {} examples, an episode needs {needed}",
                class.examples.len()
            );
            let picks = sample(rng, class.examples.len(), needed).into_vec();
            let image =
                |k: usize| rotate(data.images.index_axis(Axis(0), class.examples[picks[k]]), class.quarter_turns);
            support.extend((0..self.shots).map(image));
            query.extend((self.shots..needed).map(image));
        }
        let batch = |images: Vec<Vec<f32>>, per_class: usize| LabelledBatch {
            images: Array4::from_shape_vec((images.len(), 1, side, side), images.concat()).expect("square images"),
            labels: (0..self.ways).flat_map(|label| std::iter::repeat_n(label, per_class)).collect(),
        };
        Episode { support: batch(support, self.shots), query: batch(query, self.queries), classes }
    }
}

impl ClassDataset {
    /// A minibatch of `size` examples drawn uniformly (with replacement) from all images of
    /// all classes, labelled by class index (`0..classes.len()`): for ordinary supervised
    /// training over every class, as the fine-tuning baseline's pretraining does.
    ///
    /// # Panics
    /// If the dataset has no examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::episodes::{Class, ClassDataset};
    /// use ndarray::Array3;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// // Three classes of four images; image i is filled with the value i.
    /// let images = Array3::from_shape_fn((12, 2, 2), |(i, _, _)| i as f32);
    /// let classes = (0..3).map(|c| Class { examples: (4 * c..4 * c + 4).collect(), quarter_turns: 0 }).collect();
    /// let data = ClassDataset { images, classes };
    /// let batch = data.sample_batch(32, &mut StdRng::seed_from_u64(5));
    /// // Each label is the index of the class its image came from.
    /// for (image, &label) in batch.images.outer_iter().zip(&batch.labels) {
    ///     assert_eq!(image[[0, 0, 0]] as usize / 4, label);
    /// }
    /// ```
    pub fn sample_batch(&self, size: usize, rng: &mut impl Rng) -> LabelledBatch {
        let total: usize = self.classes.iter().map(|c| c.examples.len()).sum();
        assert!(total > 0, "ClassDataset::sample_batch: the dataset has no examples");
        let side = self.images.shape()[1];
        let mut pixels = Vec::with_capacity(size * side * side);
        let mut labels = Vec::with_capacity(size);
        for _ in 0..size {
            let (mut class, mut index) = (0, rng.gen_range(0..total));
            while index >= self.classes[class].examples.len() {
                index -= self.classes[class].examples.len();
                class += 1;
            }
            let c = &self.classes[class];
            pixels.extend(rotate(self.images.index_axis(Axis(0), c.examples[index]), c.quarter_turns));
            labels.push(class);
        }
        LabelledBatch { images: Array4::from_shape_vec((size, 1, side, side), pixels).expect("square images"), labels }
    }
}

/// The image turned by `quarter_turns` x 90 degrees counter-clockwise, row-major.
///
/// # Examples
///
/// ```
/// use metagrad_data::episodes::rotate;
///
/// // [[1, 2], [3, 4]] a quarter turn counter-clockwise is [[2, 4], [1, 3]].
/// let image = ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(rotate(image.view(), 1), vec![2.0, 4.0, 1.0, 3.0]);
/// assert_eq!(rotate(image.view(), 2), vec![4.0, 3.0, 2.0, 1.0]);
/// // Four quarter turns are the identity.
/// assert_eq!(rotate(image.view(), 4), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
pub fn rotate(image: ArrayView2<'_, f32>, quarter_turns: u8) -> Vec<f32> {
    let n = image.nrows();
    assert_eq!(n, image.ncols(), "rotate: images must be square, this one is {n}x{}", image.ncols());
    let at = |r: usize, c: usize| match quarter_turns % 4 {
        0 => image[(r, c)],
        1 => image[(c, n - 1 - r)],
        2 => image[(n - 1 - r, n - 1 - c)],
        _ => image[(n - 1 - c, r)],
    };
    (0..n * n).map(|i| at(i / n, i % n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// 6 classes of 5 images; image i is filled with the value i.
    fn toy() -> ClassDataset {
        let images = Array3::from_shape_fn((30, 3, 3), |(i, _, _)| i as f32);
        let classes = (0..6).map(|c| Class { examples: (c * 5..c * 5 + 5).collect(), quarter_turns: 0 }).collect();
        ClassDataset { images, classes }
    }

    #[test]
    fn episodes_have_the_right_shapes_labels_and_no_overlap() {
        let sampler = EpisodeSampler { ways: 4, shots: 2, queries: 3 };
        let data = toy();
        let mut rng = StdRng::seed_from_u64(0);
        for _ in 0..50 {
            let e = sampler.sample(&data, &mut rng);
            assert_eq!(e.support.images.shape(), &[8, 1, 3, 3]);
            assert_eq!(e.query.images.shape(), &[12, 1, 3, 3]);
            assert_eq!(e.support.labels, vec![0, 0, 1, 1, 2, 2, 3, 3]);
            let ids = |b: &LabelledBatch| b.images.outer_iter().map(|im| im[[0, 0, 0]] as usize).collect::<Vec<_>>();
            let (s, q) = (ids(&e.support), ids(&e.query));
            assert!(s.iter().all(|i| !q.contains(i)), "support {s:?} and query {q:?} overlap");
            for (k, &label) in e.support.labels.iter().enumerate() {
                assert_eq!(s[k] / 5, e.classes[label], "each example belongs to its label's class");
            }
        }
    }

    #[test]
    fn same_seed_same_episode_and_labels_are_shuffled() {
        let sampler = EpisodeSampler { ways: 5, shots: 1, queries: 1 };
        let draw = |seed| sampler.sample(&toy(), &mut StdRng::seed_from_u64(seed));
        assert_eq!(draw(7), draw(7));
        let orders: std::collections::HashSet<Vec<usize>> = (0..20).map(|s| draw(s).classes).collect();
        assert!(orders.len() > 10, "class-to-label assignments should vary between episodes");
    }

    #[test]
    fn minibatches_label_examples_by_their_class_and_cover_every_class() {
        let data = toy();
        let batch = data.sample_batch(600, &mut StdRng::seed_from_u64(3));
        assert_eq!(batch.images.shape(), &[600, 1, 3, 3]);
        for (image, &label) in batch.images.outer_iter().zip(&batch.labels) {
            assert_eq!(image[[0, 0, 0]] as usize / 5, label, "image {} is in class {label}", image[[0, 0, 0]]);
        }
        let seen: std::collections::HashSet<usize> = batch.labels.iter().copied().collect();
        assert_eq!(seen.len(), 6, "600 draws over 6 classes reach every class");
    }

    #[test]
    fn rotations_turn_counter_clockwise() {
        let image = ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(rotate(image.view(), 1), vec![2.0, 4.0, 1.0, 3.0]);
        assert_eq!(rotate(image.view(), 2), vec![4.0, 3.0, 2.0, 1.0]);
        assert_eq!(rotate(image.view(), 3), vec![3.0, 1.0, 4.0, 2.0]);
        assert_eq!(rotate(image.view(), 4), vec![1.0, 2.0, 3.0, 4.0]);
    }
}
