//! Relation networks (Sung, Yang, Zhang, Xiang, Torr & Hospedales 2018).
//!
//! An encoder `f` maps images to feature maps; a class is represented by the sum of its
//! support examples' feature maps, `c_k = sum_{y_i = k} f(x_i)`. A learned *relation module*
//! `g` scores each (class, query) pair from their feature maps concatenated along the
//! channels,
//!
//! ```text
//! r_{q,k} = g([c_k, f(x_q)]) in (0, 1),
//! ```
//!
//! and both are trained by regressing the scores onto the match indicator,
//! `L = sum_{q,k} (r_{q,k} - 1[y_q = k])^2` (mean over pairs here). A query is labelled by its
//! highest relation score. The metric itself is learned, where prototypical and matching
//! networks fix it (Euclidean, cosine).
//!
//! On 28x28 Omniglot the encoder is four conv blocks of which the first two pool
//! (`[n, 64, 7, 7]`), and the relation module is two pooled conv blocks on 128 channels
//! (`7 -> 3 -> 1`), then `64 -> 8 -> 1` fully connected with ReLU and a sigmoid, following the
//! paper's design. The relation module's parameters are method parameters under
//! `"meta.relation."`.

use super::inner::{class_counts, closed_form_predictions, ClosedForm};
use super::{conv4, Batch, Episode, MetaMethod, Target, TaskGradient, EXTRA_PREFIX};
use metagrad_autodiff::{concat, one_hot, Float, Tape, Tensor, Var};
use metagrad_nn::layers::{Activation, Flatten, Linear};
use metagrad_nn::loss::{mse, Reduction};
use metagrad_nn::{Context, Module, ParamVars, Params, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Relation networks; `seed` initialises the relation module.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{Batch, Episode, MetaMethod, RelationNet};
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::layers::Conv2d;
/// use metagrad_nn::{Module, Sequential};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // A cheap stand-in encoder: a 1x1 convolution to 64 channels of 4x4 images.
/// let encoder = Sequential::<f64>::default().push(Conv2d::new(1, 64, 1, 0));
/// let method = RelationNet { seed: 0 };
/// let mut meta = encoder.init(&mut StdRng::seed_from_u64(1));
/// let extra = method.init_extra(&meta);
/// assert!(extra.names().all(|n| n.starts_with("meta.relation.")));
/// for (name, value) in extra.iter() {
///     meta.insert(name, value.clone());
/// }
/// let mut rng = StdRng::seed_from_u64(2);
/// let support = Batch::classification(Tensor::uniform(&[2, 1, 4, 4], 0.0, 1.0, &mut rng), vec![0, 1]);
/// let query = Batch::classification(Tensor::uniform(&[2, 1, 4, 4], 0.0, 1.0, &mut rng), vec![1, 0]);
/// let task = method.task_gradient(&encoder, &meta, &Episode { support, query });
/// // Scores in (0, 1) against 0/1 targets: a mean squared error below 1, and a gradient for
/// // the encoder and the relation module alike.
/// assert!(task.query_loss > 0.0 && task.query_loss < 1.0);
/// assert_eq!(task.grads.len(), meta.len());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RelationNet {
    /// The seed of the relation module's initial weights.
    pub seed: u64,
}

impl RelationNet {
    /// The paper's Omniglot encoder: four conv blocks, the first two pooled,
    /// `[n, 1, 28, 28] -> [n, 64, 7, 7]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::RelationNet;
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::{Context, Module};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let encoder = RelationNet::encoder::<f64>();
    /// let params = encoder.init(&mut StdRng::seed_from_u64(0));
    /// let tape = Tape::new();
    /// let image = tape.constant(Tensor::uniform(&[1, 1, 28, 28], 0.0, 1.0, &mut StdRng::seed_from_u64(1)));
    /// // Only two of the four blocks pool: 28 -> 14 -> 7.
    /// let maps = encoder.forward(&params.on(&tape), image, &mut Context::transductive(0));
    /// assert_eq!(maps.shape(), &[1, 64, 7, 7]);
    /// ```
    pub fn encoder<T: Float>() -> Sequential<T> {
        conv4::blocks(1, 4, 2)
    }

    /// The relation module on `[pairs, 128, h, w]`: scores `[pairs, 1]` in `(0, 1)`. Its two
    /// pooled blocks take the encoder's 7x7 maps (28x28 inputs) to 1x1; any `h` and `w` from 4
    /// to 7 pool to 1x1 as well and give the same shapes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::RelationNet;
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::{Context, Module};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let module = RelationNet::relation_module::<f64>();
    /// let params = module.init(&mut StdRng::seed_from_u64(0));
    /// let tape = Tape::new();
    /// // Two pairs of concatenated 64-channel maps.
    /// let pairs = tape.constant(Tensor::randn(&[2, 128, 7, 7], &mut StdRng::seed_from_u64(1)));
    /// let scores = module.forward(&params.on(&tape), pairs, &mut Context::transductive(0)).value();
    /// // One sigmoid score per pair.
    /// assert_eq!(scores.shape(), &[2, 1]);
    /// assert!(scores.to_vec().iter().all(|&s| s > 0.0 && s < 1.0));
    /// ```
    pub fn relation_module<T: Float>() -> Sequential<T> {
        conv4::blocks(2 * conv4::FEATURES, 2, 2)
            .push(Flatten)
            .push(Linear::new(conv4::FEATURES, 8))
            .push(Activation::Relu)
            .push(Linear::new(8, 1))
            .push(Activation::Sigmoid)
    }

    /// Relation scores `[n, ways]` of each row of `inputs` against each class of `support`,
    /// on the tape of `all` (the encoder's parameters and the relation module's).
    ///
    /// # Panics
    /// If `support` is not a classification batch, or some class in `0..ways` has no example.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, MetaMethod, RelationNet};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Conv2d;
    /// use metagrad_nn::{Module, Sequential};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// // A cheap stand-in encoder: a 1x1 convolution to 64 channels of 4x4 images.
    /// let encoder = Sequential::<f64>::default().push(Conv2d::new(1, 64, 1, 0));
    /// let method = RelationNet { seed: 0 };
    /// let mut all = encoder.init(&mut StdRng::seed_from_u64(1));
    /// for (name, value) in method.init_extra(&all).iter() {
    ///     all.insert(name, value.clone());
    /// }
    /// let mut rng = StdRng::seed_from_u64(2);
    /// // Three classes, the first with two examples (their maps are summed).
    /// let support = Batch::classification(Tensor::uniform(&[4, 1, 4, 4], 0.0, 1.0, &mut rng), vec![0, 1, 2, 0]);
    /// let queries = Tensor::uniform(&[5, 1, 4, 4], 0.0, 1.0, &mut rng);
    /// let tape = Tape::new();
    /// let scores = method.scores(&encoder, &all.on(&tape), &support, &queries).value();
    /// // One score in (0, 1) per (query, class) pair.
    /// assert_eq!(scores.shape(), &[5, 3]);
    /// assert!(scores.to_vec().iter().all(|&s| s > 0.0 && s < 1.0));
    /// ```
    pub fn scores<'t, T: Float>(
        &self,
        encoder: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let tape = all.vars()[0].tape();
        let (labels, ways, _) = class_counts(support, "RelationNet");
        let features = |x: &Tensor<T>| encoder.forward(all, tape.constant(x.clone()), &mut Context::transductive(0));
        let support_maps = features(&support.inputs);
        let map_shape = support_maps.shape()[1..].to_vec();
        let size: usize = map_shape.iter().product();
        let classes =
            tape.constant(one_hot::<T>(labels, ways)).t().matmul(support_maps.reshape(&[support.len(), size]));
        let queries = features(inputs);
        let n = queries.shape()[0];
        let pairs = concat(
            &[
                classes.reshape(&[1, ways, size]).broadcast_to(&[n, ways, size]),
                queries.reshape(&[n, 1, size]).broadcast_to(&[n, ways, size]),
            ],
            2,
        );
        let pair_shape = [n * ways, 2 * map_shape[0], map_shape[1], map_shape[2]];
        let relation = Self::relation_module::<T>();
        let scores = relation.forward(
            &all.scoped(&relation_prefix()),
            pairs.reshape(&pair_shape),
            &mut Context::transductive(0),
        );
        scores.reshape(&[n, ways])
    }
}

fn relation_prefix() -> String {
    format!("{EXTRA_PREFIX}relation")
}

impl<T: Float> MetaMethod<T> for RelationNet {
    fn name(&self) -> &'static str {
        "relation"
    }

    fn init_extra(&self, _model: &Params<T>) -> Params<T> {
        let mut extra = Params::new();
        extra.extend_prefixed(&relation_prefix(), Self::relation_module().init(&mut StdRng::seed_from_u64(self.seed)));
        extra
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        let Target::Classes(labels) = &episode.query.target else {
            panic!("RelationNet: the query set must be a classification batch");
        };
        let tape = Tape::new();
        let all = meta.on(&tape);
        let scores = self.scores(model, &all, &episode.support, &episode.query.inputs);
        let matches = tape.constant(one_hot::<T>(labels, scores.shape()[1]));
        let loss = mse(scores, matches, Reduction::Mean);
        TaskGradient { query_loss: loss.item().to_f64().unwrap_or(f64::NAN), grads: all.grad(loss) }
    }

    fn adapted_predictions(
        &self,
        model: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        closed_form_predictions(self, model, meta, support, inputs, steps)
    }
}

impl<T: Float> ClosedForm<T> for RelationNet {
    fn predict_on_tape<'t>(
        &self,
        model: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        self.scores(model, all, support, inputs)
    }
}
