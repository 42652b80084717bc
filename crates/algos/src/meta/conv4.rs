//! The conv-4 backbone of few-shot image classification (Vinyals et al. 2016; used by MAML,
//! prototypical, matching and relation networks on Omniglot), and episodes of images.
//!
//! Four blocks of `3x3 conv (64 channels, padding 1) -> batch-norm -> ReLU -> 2x2 max-pool`
//! take a `[n, 1, 28, 28]` batch to `[n, 64, 1, 1]` (28 -> 14 -> 7 -> 3 -> 1), flattened to
//! 64 features. Batch-norm uses each batch's own statistics (as MAML does, at training and at
//! test), so no running statistics are kept.

use super::{Batch, Episode};
use metagrad_autodiff::{Float, Tensor};
use metagrad_data::episodes::{ClassDataset, Episode as ImageEpisode, LabelledBatch};
use metagrad_nn::layers::{Activation, BatchNorm, Conv2d, Flatten, Linear, MaxPool2d};
use metagrad_nn::Sequential;
use rand::Rng;

/// Channels of every block, and the number of features of [`encoder`] on 28x28 inputs.
pub const FEATURES: usize = 64;

/// One block: `3x3 conv -> batch-norm -> ReLU`, then 2x2 max-pooling if `pool`.
pub fn block<T: Float>(net: Sequential<T>, inputs: usize, outputs: usize, pool: bool) -> Sequential<T> {
    let net = net.push(Conv2d::new(inputs, outputs, 3, 1)).push(BatchNorm::new(outputs)).push(Activation::Relu);
    if pool {
        net.push(MaxPool2d::new(2))
    } else {
        net
    }
}

/// `blocks` blocks of [`block`] from `channels` input channels; the first `pooled` blocks pool.
pub fn blocks<T: Float>(channels: usize, blocks: usize, pooled: usize) -> Sequential<T> {
    (0..blocks).fold(Sequential::default(), |net, i| {
        block(net, if i == 0 { channels } else { FEATURES }, FEATURES, i < pooled)
    })
}

/// The embedding network: four pooled blocks and a flatten, `[n, 1, 28, 28] -> [n, 64]`.
pub fn encoder<T: Float>() -> Sequential<T> {
    blocks(1, 4, 4).push(Flatten)
}

/// [`encoder`] followed by a linear head with `ways` outputs (the MAML family's network).
/// The head is part `"17."` ([`HEAD_PREFIX`]).
pub fn classifier<T: Float>(ways: usize) -> Sequential<T> {
    encoder().push(Linear::new(FEATURES, ways))
}

/// The prefix of [`classifier`]'s head parameters (for ANIL).
pub const HEAD_PREFIX: &str = "17.";

/// A labelled image batch as a classification [`Batch`].
pub fn batch<T: Float>(images: &LabelledBatch) -> Batch<T> {
    let shape = images.images.shape().to_vec();
    let values = images.images.iter().map(|&v| T::of(f64::from(v))).collect();
    Batch::classification(Tensor::from_vec(&shape, values), images.labels.clone())
}

/// An image episode as an [`Episode`].
pub fn episode<T: Float>(images: &ImageEpisode) -> Episode<T> {
    Episode { support: batch(&images.support), query: batch(&images.query) }
}

/// A minibatch of `size` images from `data`, labelled over all of its classes (pretraining).
pub fn class_batch<T: Float>(data: &ClassDataset, size: usize, rng: &mut impl Rng) -> Batch<T> {
    batch(&data.sample_batch(size, rng))
}
