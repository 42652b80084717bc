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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::rotate_quarter_turns;
/// use metagrad_autodiff::Tensor;
///
/// // [[1, 2], [3, 4]] a quarter turn anticlockwise is [[2, 4], [1, 3]]; four turns are none.
/// let image = Tensor::from_vec(&[1, 1, 2, 2], vec![1.0f64, 2.0, 3.0, 4.0]);
/// assert_eq!(rotate_quarter_turns(&image, 1).to_vec(), vec![2.0, 4.0, 1.0, 3.0]);
/// assert_eq!(rotate_quarter_turns(&image, 4), image);
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{initial, Augment, Method, Rotation, Step};
/// use metagrad_autodiff::Tape;
/// use metagrad_nn::{Context, Params};
/// # use metagrad_algos::Labelled;
/// # use metagrad_autodiff::Tensor;
/// # use metagrad_nn::layers::{Flatten, Linear};
/// # use metagrad_nn::Sequential;
/// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
/// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
/// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
/// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
///
/// let method = Rotation::new(3);
/// let (params, state) = initial(&encoder, &method, 0);
/// // A zero classifier cannot tell the four rotations apart: cross-entropy ln 4.
/// let params = Params::from_pairs(params.iter().map(|(n, t)| {
///     (n.to_string(), if n.starts_with("head.") { Tensor::zeros(t.shape()) } else { t.clone() })
/// }));
/// let tape = Tape::new();
/// let step = Step { batch: &batch, augment: &Augment::none(), seed: 0 };
/// let loss = method.objective(&encoder, &params.on(&tape), &step, &mut Context::eval(state)).loss;
/// assert!((loss.item() - 4f64.ln()).abs() < 1e-12);
/// ```
pub struct Rotation<T: Float> {
    /// `features -> 4`.
    pub classifier: Sequential<T>,
}

impl<T: Float> Rotation<T> {
    /// A linear head on `features` encoder features.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Rotation};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let (params, _) = initial(&encoder, &Rotation::new(3), 0);
    /// // One logit per rotation: 0, 90, 180 and 270 degrees.
    /// assert_eq!(params.get("head.classifier.0.weight").unwrap().shape(), &[3, 4]);
    /// ```
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
