//! SimCLR (Chen, Kornblith, Norouzi & Hinton 2020): two augmented views of every image, an
//! encoder `f`, a projection head `g`, and the NT-Xent loss on `z = g(f(x))`.
//!
//! With the `2n` projections L2-normalised and `s_ij = z_i . z_j / tau`, each view's positive
//! is the other view of its image, `pos(i)`, and every other row of the batch is a negative:
//!
//! ```text
//! l_i = -log( exp(s_i,pos(i)) / sum_{k != i} exp(s_ik) ),   L = mean_i l_i  (over all 2n rows).
//! ```
//!
//! The linear probe reads the encoder's features `f(x)`, not the projections: the paper
//! found the features before the head transfer better.

use super::{apply_head, encode, l2_normalize_rows, mlp_head, two_views, Method, Objective, Positives, Step};
use metagrad_autodiff::{one_hot, Float, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars, Sequential};

/// The NT-Xent loss of two batches of projections `z1`, `z2` (`[n, d]` each; row `i` of one
/// is the positive of row `i` of the other) at temperature `temperature`.
///
/// # Panics
/// If the shapes differ.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::nt_xent;
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let z = tape.constant(Tensor::from_vec(&[2, 2], vec![1.0f64, 0.0, 0.0, 1.0]));
/// // Each row's positive has similarity 1/tau = 1 and its two negatives 0:
/// // l = -log(e / (e + 2)) = ln(1 + 2/e), for every row.
/// let expected = (1.0 + 2.0 / std::f64::consts::E).ln();
/// assert!((nt_xent(z, z, 1.0).item() - expected).abs() < 1e-6); // 1e-8 in the normalisation
/// ```
pub fn nt_xent<'t, T: Float>(z1: Var<'t, T>, z2: Var<'t, T>, temperature: f64) -> Var<'t, T> {
    assert_eq!(z1.shape(), z2.shape(), "nt_xent: views of shapes {:?} and {:?}", z1.shape(), z2.shape());
    let n = z1.shape()[0];
    let z = l2_normalize_rows(metagrad_autodiff::concat(&[z1, z2], 0));
    let similarity = z.matmul(z.t()) * T::of(1.0 / temperature);
    // A row is not its own negative: push the diagonal far below every other logit.
    let self_mask = Tensor::from_vec(
        &[2 * n, 2 * n],
        (0..4 * n * n)
            .map(|k| if k / (2 * n) == k % (2 * n) { T::of(-1e4 / temperature) } else { T::zero() })
            .collect(),
    );
    let log_probs = (similarity + z.constant(self_mask)).log_softmax(1);
    let positive: Vec<usize> = (0..2 * n).map(|i| (i + n) % (2 * n)).collect();
    -(log_probs * z.constant(one_hot::<T>(&positive, 2 * n))).sum() * T::of(1.0 / (2 * n) as f64)
}

/// SimCLR with an MLP projection head.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{Method, SimClr};
///
/// let method = SimClr::<f64>::new(8, 16, 4, 0.5);
/// assert_eq!((method.name(), method.temperature), ("simclr", 0.5));
/// assert_eq!(method.heads().len(), 1);
/// ```
pub struct SimClr<T: Float> {
    /// `Linear -> batch-norm -> ReLU -> Linear`, from the encoder's features.
    pub projector: Sequential<T>,
    /// The temperature `tau`.
    pub temperature: f64,
}

impl<T: Float> SimClr<T> {
    /// A projector `features -> hidden -> projection` and temperature `tau`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, SimClr};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let (params, _) = initial(&encoder, &SimClr::new(3, 6, 4, 0.5), 0);
    /// assert_eq!(params.get("head.projector.3.weight").unwrap().shape(), &[6, 4]);
    /// ```
    pub fn new(features: usize, hidden: usize, projection: usize, temperature: f64) -> Self {
        SimClr { projector: mlp_head(features, hidden, projection), temperature }
    }
}

impl<T: Float> Method<T> for SimClr<T> {
    fn name(&self) -> &'static str {
        "simclr"
    }

    fn heads(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        vec![("projector", &self.projector)]
    }

    fn objective<'t>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        step: &Step<'_, T>,
        ctx: &mut Context<T>,
    ) -> Objective<'t, T> {
        let (views, groups) = two_views(step, Positives::Views);
        let n = step.batch.len();
        let h = encode(encoder, params, views, ctx);
        let z = apply_head(&self.projector, "projector", params, h, ctx);
        let (z1, z2) = (z.narrow(0, 0, n), z.narrow(0, n, n));
        Objective { loss: nt_xent(z1, z2, self.temperature), embeddings: Some((l2_normalize_rows(h), groups)) }
    }
}
