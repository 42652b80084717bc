//! The supervised baseline the self-supervised methods are measured against: the same
//! encoder with a linear classifier, trained with cross-entropy on labelled (augmented)
//! images. Its encoder, probed like the others, is the "supervised encoder" of the tables.

use super::{apply_head, encode, Method, Objective, Step};
use metagrad_autodiff::Float;
use metagrad_nn::layers::Linear;
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, Module, ParamVars, Sequential};

/// Cross-entropy training of the encoder with a linear head.
pub struct Supervised<T: Float> {
    /// `features -> classes`.
    pub classifier: Sequential<T>,
}

impl<T: Float> Supervised<T> {
    /// A linear head from `features` to `classes`.
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
