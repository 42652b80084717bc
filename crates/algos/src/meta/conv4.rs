//! The conv-4 backbone of few-shot image classification (Vinyals et al. 2016; used by MAML,
//! prototypical, matching and relation networks on Omniglot), and episodes of images.
//!
//! Four blocks of `3x3 conv (64 channels, padding 1) -> batch-norm -> ReLU -> 2x2 max-pool`
//! take a `[n, 1, 28, 28]` batch to `[n, 64, 1, 1]` (28 -> 14 -> 7 -> 3 -> 1), flattened to
//! 64 features. Batch-norm uses each batch's own statistics (as MAML does, at training and at
//! test), so no running statistics are kept.
//!
//! # Initialisation
//!
//! [`reference_init`] draws the weights as MAML's reference implementations do: He-normal
//! convolutions (He et al. 2015), Glorot-uniform linear layers (Glorot & Bengio 2010), zero
//! biases. It matters for the MAML family: with the layers' own default (uniform with bound
//! `1/sqrt(fan_in)`, 2.5x smaller convolution weights) first-order MAML stalled near 55%
//! 5-way 1-shot for hundreds of iterations, in our runs and in the PyTorch reference alike,
//! while second-order MAML learned faster than the reference curve (docs/RESULTS.md).

use super::{Batch, Episode};
use metagrad_autodiff::{Float, Tensor};
use metagrad_data::episodes::{ClassDataset, Episode as ImageEpisode, LabelledBatch};
use metagrad_nn::layers::{Activation, BatchNorm, Conv2d, Flatten, Linear, MaxPool2d};
use metagrad_nn::{init, Module, Params, Sequential};
use rand::rngs::StdRng;
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

/// `net`'s parameters drawn as MAML's reference implementations draw them (see the module
/// docs): every 4-d weight `[out, in, kh, kw]` He-normal with gain `sqrt 2`, every 2-d weight
/// `[in, out]` Glorot-uniform, every bias of those layers zero; other parameters (batch-norm's
/// scale and shift) as `net.init` gives them.
pub fn reference_init<T: Float>(net: &dyn Module<T>, rng: &mut StdRng) -> Params<T> {
    let defaults = net.init(rng);
    let layer_of = |name: &str| name.rsplit_once('.').map_or("", |(layer, _)| layer).to_string();
    let weight_rank = |layer: &str| defaults.get(&format!("{layer}.weight")).map(|w| w.shape().len());
    Params::from_pairs(defaults.iter().map(|(name, value)| {
        let shape = value.shape();
        let layer = layer_of(name);
        let redrawn = match (name.ends_with(".weight"), shape.len(), weight_rank(&layer)) {
            (true, 4, _) => init::kaiming_normal(shape, shape[1] * shape[2] * shape[3], 2f64.sqrt(), rng),
            (true, 2, _) => init::xavier_uniform(shape, shape[0], shape[1], 1.0, rng),
            (false, _, Some(2 | 4)) if name.ends_with(".bias") => Tensor::zeros(shape),
            _ => value.clone(),
        };
        (name.to_string(), redrawn)
    }))
}
