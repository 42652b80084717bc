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
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::conv4::{encoder, FEATURES};
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // Parts 0, 4, 8 and 12 are the four convolutions: 1 -> FEATURES channels, then
/// // FEATURES -> FEATURES, all 3x3.
/// let params = encoder::<f64>().init(&mut StdRng::seed_from_u64(0));
/// assert_eq!(params.get("0.weight").unwrap().shape(), &[FEATURES, 1, 3, 3]);
/// assert_eq!(params.get("12.weight").unwrap().shape(), &[FEATURES, FEATURES, 3, 3]);
/// ```
pub const FEATURES: usize = 64;

/// One block: `3x3 conv -> batch-norm -> ReLU`, then 2x2 max-pooling if `pool`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::conv4::block;
/// use metagrad_nn::Sequential;
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::{Context, Module};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // `forward` runs a freshly initialised network on a batch.
/// # let forward = |net: &dyn Module<f64>, x: Tensor<f64>| {
/// #     let tape = Tape::new();
/// #     let params = net.init(&mut StdRng::seed_from_u64(0));
/// #     net.forward(&params.on(&tape), tape.constant(x), &mut Context::transductive(0)).value()
/// # };
/// let x = Tensor::ones(&[2, 1, 8, 8]);
/// // Padding 1 keeps the size; pooling halves it. Channels become `outputs`.
/// assert_eq!(forward(&block(Sequential::default(), 1, 4, true), x.clone()).shape(), &[2, 4, 4, 4]);
/// let unpooled = forward(&block(Sequential::default(), 1, 4, false), x);
/// assert_eq!(unpooled.shape(), &[2, 4, 8, 8]);
/// // The block ends in a ReLU.
/// assert!(unpooled.to_vec().iter().all(|&v| v >= 0.0));
/// ```
pub fn block<T: Float>(net: Sequential<T>, inputs: usize, outputs: usize, pool: bool) -> Sequential<T> {
    let net = net.push(Conv2d::new(inputs, outputs, 3, 1)).push(BatchNorm::new(outputs)).push(Activation::Relu);
    if pool {
        net.push(MaxPool2d::new(2))
    } else {
        net
    }
}

/// `blocks` blocks of [`block`] from `channels` input channels; the first `pooled` blocks pool.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::conv4::{blocks, FEATURES};
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::{Context, Module};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // `forward` runs a freshly initialised network on a batch.
/// # let forward = |net: &dyn Module<f64>, x: Tensor<f64>| {
/// #     let tape = Tape::new();
/// #     let params = net.init(&mut StdRng::seed_from_u64(0));
/// #     net.forward(&params.on(&tape), tape.constant(x), &mut Context::transductive(0)).value()
/// # };
/// // Three blocks, the first two pooled: 8 -> 4 -> 2 -> 2, with FEATURES channels.
/// let out = forward(&blocks(1, 3, 2), Tensor::ones(&[1, 1, 8, 8]));
/// assert_eq!(out.shape(), &[1, FEATURES, 2, 2]);
/// ```
pub fn blocks<T: Float>(channels: usize, blocks: usize, pooled: usize) -> Sequential<T> {
    (0..blocks).fold(Sequential::default(), |net, i| {
        block(net, if i == 0 { channels } else { FEATURES }, FEATURES, i < pooled)
    })
}

/// The embedding network: four pooled blocks and a flatten, `[n, 1, 28, 28] -> [n, 64]`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::conv4::encoder;
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::{Context, Module};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // `forward` runs a freshly initialised network on a batch.
/// # let forward = |net: &dyn Module<f64>, x: Tensor<f64>| {
/// #     let tape = Tape::new();
/// #     let params = net.init(&mut StdRng::seed_from_u64(0));
/// #     net.forward(&params.on(&tape), tape.constant(x), &mut Context::transductive(0)).value()
/// # };
/// // 28 -> 14 -> 7 -> 3 -> 1, flattened: 64 features per image.
/// let x = Tensor::uniform(&[2, 1, 28, 28], 0.0, 1.0, &mut StdRng::seed_from_u64(1));
/// assert_eq!(forward(&encoder(), x).shape(), &[2, 64]);
/// ```
pub fn encoder<T: Float>() -> Sequential<T> {
    blocks(1, 4, 4).push(Flatten)
}

/// [`encoder`] followed by a linear head with `ways` outputs (the MAML family's network).
/// The head is part `"17."` ([`HEAD_PREFIX`]).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::conv4::{classifier, FEATURES, HEAD_PREFIX};
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let params = classifier::<f64>(5).init(&mut StdRng::seed_from_u64(0));
/// // The head is the only part under HEAD_PREFIX: a [64, 5] weight and its bias.
/// let head: Vec<&str> = params.names().filter(|n| n.starts_with(HEAD_PREFIX)).collect();
/// assert_eq!(head, vec!["17.weight", "17.bias"]);
/// assert_eq!(params.get("17.weight").unwrap().shape(), &[FEATURES, 5]);
/// ```
pub fn classifier<T: Float>(ways: usize) -> Sequential<T> {
    encoder().push(Linear::new(FEATURES, ways))
}

/// The prefix of [`classifier`]'s head parameters (for ANIL).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::conv4::{classifier, encoder, HEAD_PREFIX};
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let body = encoder::<f64>().init(&mut StdRng::seed_from_u64(0));
/// let whole = classifier::<f64>(5).init(&mut StdRng::seed_from_u64(0));
/// // Nothing of the encoder is under the prefix; the classifier adds exactly its head.
/// assert!(body.names().all(|n| !n.starts_with(HEAD_PREFIX)));
/// assert_eq!(whole.names().filter(|n| n.starts_with(HEAD_PREFIX)).count(), 2);
/// assert_eq!(whole.len(), body.len() + 2);
/// ```
pub const HEAD_PREFIX: &str = "17.";

/// A labelled image batch as a classification [`Batch`].
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{conv4, Batch, Target};
/// use metagrad_data::episodes::LabelledBatch;
/// use ndarray::Array4;
///
/// // `images(n)`: n 2x2 images, image i filled with i / 4, labels alternating 0, 1.
/// # let images = |n: usize| LabelledBatch {
/// #     images: Array4::from_shape_fn((n, 1, 2, 2), |(i, _, _, _)| i as f32 / 4.0),
/// #     labels: (0..n).map(|i| i % 2).collect(),
/// # };
/// let batch: Batch<f64> = conv4::batch(&images(3));
/// assert_eq!(batch.inputs.shape(), &[3, 1, 2, 2]);
/// assert_eq!(batch.inputs.to_vec()[4], 0.25); // the first value of image 1
/// assert_eq!(batch.target, Target::Classes(vec![0, 1, 0]));
/// ```
pub fn batch<T: Float>(images: &LabelledBatch) -> Batch<T> {
    let shape = images.images.shape().to_vec();
    let values = images.images.iter().map(|&v| T::of(f64::from(v))).collect();
    Batch::classification(Tensor::from_vec(&shape, values), images.labels.clone())
}

/// An image episode as an [`Episode`].
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{conv4, Episode};
/// use metagrad_data::episodes::Episode as ImageEpisode;
/// use metagrad_data::episodes::LabelledBatch;
/// use ndarray::Array4;
///
/// // `images(n)`: n 2x2 images, image i filled with i / 4, labels alternating 0, 1.
/// # let images = |n: usize| LabelledBatch {
/// #     images: Array4::from_shape_fn((n, 1, 2, 2), |(i, _, _, _)| i as f32 / 4.0),
/// #     labels: (0..n).map(|i| i % 2).collect(),
/// # };
/// let images = ImageEpisode { support: images(2), query: images(4), classes: vec![7, 3] };
/// let episode: Episode<f64> = conv4::episode(&images);
/// // Both sets carry over; the dataset's class ids do not.
/// assert_eq!((episode.support.len(), episode.query.len()), (2, 4));
/// assert_eq!(episode.query.inputs.shape(), &[4, 1, 2, 2]);
/// ```
pub fn episode<T: Float>(images: &ImageEpisode) -> Episode<T> {
    Episode { support: batch(&images.support), query: batch(&images.query) }
}

/// A minibatch of `size` images from `data`, labelled over all of its classes (pretraining).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{conv4, Batch, Target};
/// use metagrad_data::episodes::{Class, ClassDataset};
/// use ndarray::Array3;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // Three classes of two 3x3 images each.
/// let classes = (0..3).map(|c| Class { examples: vec![2 * c, 2 * c + 1], quarter_turns: 0 }).collect();
/// let data = ClassDataset { images: Array3::zeros((6, 3, 3)), classes };
/// let batch: Batch<f64> = conv4::class_batch(&data, 5, &mut StdRng::seed_from_u64(0));
/// assert_eq!(batch.inputs.shape(), &[5, 1, 3, 3]);
/// // Labels range over all the dataset's classes.
/// let Target::Classes(labels) = &batch.target else { unreachable!() };
/// assert!(labels.len() == 5 && labels.iter().all(|&l| l < 3));
/// ```
pub fn class_batch<T: Float>(data: &ClassDataset, size: usize, rng: &mut impl Rng) -> Batch<T> {
    batch(&data.sample_batch(size, rng))
}

/// `net`'s parameters drawn as MAML's reference implementations draw them (see the module
/// docs): every 4-d weight `[out, in, kh, kw]` He-normal with gain `sqrt 2`, every 2-d weight
/// `[in, out]` Glorot-uniform, every bias of those layers zero; other parameters (batch-norm's
/// scale and shift) as `net.init` gives them.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::conv4::{block, reference_init};
/// use metagrad_nn::layers::{Flatten, Linear};
/// use metagrad_nn::{Module, Sequential};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // conv (part 0), batch-norm (1), ReLU, pool, flatten, then a linear layer (part 5).
/// let net = block(Sequential::<f64>::default(), 1, 2, true).push(Flatten).push(Linear::new(8, 3));
/// let params = reference_init(&net, &mut StdRng::seed_from_u64(0));
/// let defaults = net.init(&mut StdRng::seed_from_u64(0));
/// // Zero biases for the convolution and the linear layer...
/// assert!(params.get("0.bias").unwrap().to_vec().iter().all(|&b| b == 0.0));
/// assert!(params.get("5.bias").unwrap().to_vec().iter().all(|&b| b == 0.0));
/// // ...Glorot-uniform linear weights, within sqrt(6 / (8 + 3))...
/// let bound = (6.0f64 / 11.0).sqrt();
/// assert!(params.get("5.weight").unwrap().to_vec().iter().all(|w| w.abs() <= bound));
/// // ...and batch-norm's scale as the layer makes it.
/// assert_eq!(params.get("1.weight"), defaults.get("1.weight"));
/// ```
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
