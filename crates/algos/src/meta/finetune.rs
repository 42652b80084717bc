//! The transfer-learning baseline: pretrain a classifier on every training class, then
//! fine-tune a new head on each test task's support set (as in Chen, Liu, Kira, Wang & Huang
//! 2019, "A closer look at few-shot classification", whose "Baseline" this is).
//!
//! Pretraining is ordinary supervised learning of `softmax(W f(x) + b)` over all `C` training
//! classes; the encoder `f` is the model and `(W, b)` are method parameters
//! (`"meta.head.weight"`, `[features, C]`, and `"meta.head.bias"`). To pretrain through the
//! episode loop, an episode's *query* set is a minibatch labelled over all `C` classes and its
//! support set is ignored; [`FineTune::task_gradient`] is then the minibatch gradient.
//!
//! At test time the pretrained head is dropped. A new head `(V, c)`, zero at the start, is fit
//! to the support set by gradient descent on the cross-entropy with rate `lr`; the encoder is
//! frozen, or, with `backbone_lr`, fine-tuned too at its own (usually smaller) rate, a
//! layer-wise learning rate in its simplest form.

use super::inner::embed;
use super::{Batch, Episode, MetaMethod, Target, TaskGradient, EXTRA_PREFIX};
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use metagrad_nn::init;
use metagrad_nn::{Module, ParamVars, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Pretraining on all classes, then fine-tuning a new head.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{Batch, FineTune, MetaMethod};
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Linear;
/// use metagrad_nn::{Params, Sequential};
///
/// // An identity encoder on points of the plane: embeddings are the points themselves.
/// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
/// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
/// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
/// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
/// let method = FineTune { classes: 3, features: 2, lr: 1.0, backbone_lr: None, seed: 0 };
/// // Pretraining head over all 3 classes.
/// let mut all = meta.clone();
/// for (name, value) in method.init_extra(&meta).iter() {
///     all.insert(name, value.clone());
/// }
/// assert_eq!(all.get("meta.head.weight").unwrap().shape(), &[2, 3]);
/// // At test, a new 2-way head starts at zero (all logits 0) and learns the support set.
/// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 1.0]]), vec![0, 1]);
/// let logits = method.adapted_predictions(&encoder, &all, &support, &support.inputs, &[0, 20]);
/// assert!(logits[0].to_vec().iter().all(|&z| z == 0.0));
/// assert_eq!(logits[1].shape(), &[2, 2]);
/// assert_eq!(support.score(&logits[1]), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FineTune {
    /// The number of pretraining classes `C`.
    pub classes: usize,
    /// The encoder's output size (64 for conv-4).
    pub features: usize,
    /// The fine-tuning rate of the new head.
    pub lr: f64,
    /// The fine-tuning rate of the encoder; `None` freezes it.
    pub backbone_lr: Option<f64>,
    /// The seed of the pretraining head's initial weights.
    pub seed: u64,
}

fn head<'t, T: Float>(all: &ParamVars<'t, T>, name: &str) -> (Var<'t, T>, Var<'t, T>) {
    let head = all.scoped(&format!("{EXTRA_PREFIX}{name}"));
    (head.get("weight"), head.get("bias"))
}

impl FineTune {
    /// Fits a new `ways`-class head (and, with `backbone_lr`, the encoder) to `support`, and
    /// returns the logits on `inputs` after each step count in `steps`.
    fn fine_tune<T: Float>(
        &self,
        encoder: &dyn Module<T>,
        meta: &Params<T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
        steps: &[usize],
    ) -> Vec<Tensor<T>> {
        let Target::Classes(labels) = &support.target else {
            panic!("FineTune: the support set must be a classification batch");
        };
        let ways = labels.iter().max().map_or(0, |m| m + 1);
        let mut params = super::model_params(meta);
        params.insert(format!("{EXTRA_PREFIX}new.weight"), Tensor::zeros(&[self.features, ways]));
        params.insert(format!("{EXTRA_PREFIX}new.bias"), Tensor::zeros(&[ways]));
        fn logits<'t, T: Float>(all: &ParamVars<'t, T>, x: Var<'t, T>) -> Var<'t, T> {
            let (w, b) = head(all, "new");
            x.matmul(w) + b
        }
        // With a frozen encoder the features are computed once.
        let frozen = self.backbone_lr.is_none().then(|| {
            let tape = Tape::new();
            tape.no_grad(|| {
                let all = meta.on(&tape);
                (embed(encoder, &all, &support.inputs).value(), embed(encoder, &all, inputs).value())
            })
        });
        fn features<'t, T: Float>(
            encoder: &dyn Module<T>,
            all: &ParamVars<'t, T>,
            x: &Tensor<T>,
            frozen: Option<&Tensor<T>>,
        ) -> Var<'t, T> {
            match frozen {
                Some(f) => all.vars()[0].constant(f.clone()),
                None => embed(encoder, all, x),
            }
        }
        let last = steps.iter().copied().max().unwrap_or(0);
        let mut out = vec![None; last + 1];
        for (step, slot) in out.iter_mut().enumerate() {
            let tape = Tape::new();
            if steps.contains(&step) {
                let prediction = tape.no_grad(|| {
                    let all = params.on(&tape);
                    logits(&all, features(encoder, &all, inputs, frozen.as_ref().map(|f| &f.1))).value()
                });
                *slot = Some(prediction);
            }
            if step == last {
                break;
            }
            let all = params.on(&tape);
            let loss =
                support.loss(logits(&all, features(encoder, &all, &support.inputs, frozen.as_ref().map(|f| &f.0))));
            let grads = all.grad(loss);
            let rate = |name: &str| if name.starts_with(EXTRA_PREFIX) { Some(self.lr) } else { self.backbone_lr };
            params = Params::from_pairs(params.iter().map(|(name, value)| {
                let updated = match rate(name) {
                    Some(lr) => {
                        value.zip_map(grads.get(name).expect("a gradient per parameter"), |v, g| v - T::of(lr) * g)
                    }
                    None => value.clone(),
                };
                (name.to_string(), updated)
            }));
        }
        steps.iter().map(|&s| out[s].clone().expect("computed above")).collect()
    }
}

impl<T: Float> MetaMethod<T> for FineTune {
    fn name(&self) -> &'static str {
        "finetune"
    }

    /// The pretraining head, `[features, classes]` (Kaiming-uniform) and its bias (zero).
    fn init_extra(&self, _model: &Params<T>) -> Params<T> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut extra = Params::new();
        let gain = (1.0f64 / 3.0).sqrt();
        extra.insert(
            format!("{EXTRA_PREFIX}head.weight"),
            init::kaiming_uniform(&[self.features, self.classes], self.features, gain, &mut rng),
        );
        extra.insert(format!("{EXTRA_PREFIX}head.bias"), Tensor::zeros(&[self.classes]));
        extra
    }

    /// The pretraining gradient on `episode.query`, a minibatch labelled over all classes.
    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        let tape = Tape::new();
        let all = meta.on(&tape);
        let (w, b) = head(&all, "head");
        let loss = episode.query.loss(embed(model, &all, &episode.query.inputs).matmul(w) + b);
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
        self.fine_tune(model, meta, support, inputs, steps)
    }
}
