//! The supervised baseline the self-supervised methods are measured against: the same
//! encoder with a linear classifier, trained with cross-entropy on labelled (augmented)
//! images. Its encoder, probed like the others, is the "supervised encoder" of the tables.

use super::{apply_head, encode, Method, Objective, Step};
use metagrad_autodiff::Float;
use metagrad_nn::layers::Linear;
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, Module, ParamVars, Sequential};

/// Cross-entropy training of the encoder with a linear head.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{pretrain, Augment, Config, Supervised};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let config = Config { steps: 15, batch_size: 2, learning_rate: 0.05, ..Config::default() };
/// let run = pretrain(&encoder, &mut Supervised::new(3, 2), &batch, &Augment::none(), &config, |_| {}).unwrap();
/// // Two labelled images are quickly told apart.
/// assert!(run.losses[14] < run.losses[0] / 2.0);
/// ```
pub struct Supervised<T: Float> {
    /// `features -> classes`.
    pub classifier: Sequential<T>,
}

impl<T: Float> Supervised<T> {
    /// A linear head from `features` to `classes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Supervised};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let (params, _) = initial(&encoder, &Supervised::new(3, 10), 0);
    /// assert_eq!(params.get("head.classifier.0.weight").unwrap().shape(), &[3, 10]);
    /// ```
    pub fn new(features: usize, classes: usize) -> Self {
        Supervised { classifier: Sequential::default().push(Linear::new(features, classes)) }
    }
}

impl<T: Float> Method<T> for Supervised<T> {
    fn name(&self) -> &'static str {
        "supervised"
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
        let h = encode(encoder, params, images, ctx);
        let logits = apply_head(&self.classifier, "classifier", params, h, ctx);
        let loss = cross_entropy(logits, Targets::Classes(&step.batch.labels), 0.0, Reduction::Mean);
        Objective { loss, embeddings: Some((super::l2_normalize_rows(h), step.batch.labels.clone())) }
    }
}
