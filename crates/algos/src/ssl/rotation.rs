//! Rotation prediction (Gidaris, Singh & Komodakis 2018): a pretext task whose labels come
//! free. Every image is shown at 0, 90, 180 and 270 degrees and a linear head on the
//! encoder's features must tell which; recognising "upright" needs the encoder to see the
//! object's shape. `L = cross-entropy over the 4n rotated images`.

use super::{apply_head, encode, Method, Objective, Step};
use metagrad_autodiff::{Float, Tensor};
use metagrad_nn::layers::Linear;
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, Module, ParamVars, Sequential};

/// `images` (`[n, c, h, w]` with `h = w`) turned `quarter_turns` x 90 degrees anticlockwise.
///
/// # Panics
/// If the images are not square.
pub fn rotate_quarter_turns<T: Float>(images: &Tensor<T>, quarter_turns: usize) -> Tensor<T> {
    let shape = images.shape().to_vec();
    assert!(shape.len() == 4 && shape[2] == shape[3], "rotate_quarter_turns: images of shape {shape:?} are not square");
    let side = shape[2];
    let values = images.to_vec();
    let mut out = Vec::with_capacity(values.len());
    for plane in values.chunks(side * side) {
        for y in 0..side {
            for x in 0..side {
                // Output (y, x) reads the input pixel that a turn carries there.
                let (sy, sx) = match quarter_turns % 4 {
                    0 => (y, x),
                    1 => (x, side - 1 - y),
                    2 => (side - 1 - y, side - 1 - x),
                    _ => (side - 1 - x, y),
                };
                out.push(plane[sy * side + sx]);
            }
        }
    }
    Tensor::from_vec(&shape, out)
}

/// Rotation prediction with a linear head.
pub struct Rotation<T: Float> {
    /// `features -> 4`.
    pub classifier: Sequential<T>,
}

impl<T: Float> Rotation<T> {
    /// A linear head on `features` encoder features.
    pub fn new(features: usize) -> Self {
        Rotation { classifier: Sequential::default().push(Linear::new(features, 4)) }
    }
}

impl<T: Float> Method<T> for Rotation<T> {
    fn name(&self) -> &'static str {
        "rotation"
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
        let n = step.batch.len();
        let mut shape = images.shape().to_vec();
        shape[0] = 4 * n;
        let rotated: Vec<T> = (0..4).flat_map(|k| rotate_quarter_turns(&images, k).to_vec()).collect();
        let labels: Vec<usize> = (0..4).flat_map(|k| std::iter::repeat_n(k, n)).collect();
        let h = encode(encoder, params, Tensor::from_vec(&shape, rotated), ctx);
        let logits = apply_head(&self.classifier, "classifier", params, h, ctx);
        Objective { loss: cross_entropy(logits, Targets::Classes(&labels), 0.0, Reduction::Mean), embeddings: None }
    }
}
