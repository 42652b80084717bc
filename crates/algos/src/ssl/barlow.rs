//! Barlow Twins (Zbontar, Jing, Misra, LeCun & Deny 2021): make the cross-correlation of two
//! views' embeddings the identity.
//!
//! With the projections of the two views standardised along the batch (each feature to mean
//! 0 and variance 1 over the `n` rows), `C = z1^T z2 / n` is their `d x d` cross-correlation, and
//!
//! ```text
//! L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2:
//! ```
//!
//! the diagonal term makes each feature invariant to the augmentation, the off-diagonal term
//! decorrelates the features (redundancy reduction), which is what prevents collapse
//! without negatives or a momentum encoder. The paper uses `lambda = 5e-3` with 8192
//! features; with few features `1 / d` is a common choice.

use super::{apply_head, encode, mlp_head, two_views, Method, Objective, Positives, Step};
use metagrad_autodiff::{Float, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars, Sequential};

/// Each column of `z` (`[n, d]`) to mean 0 and (biased) variance 1 over the rows.
fn standardize_columns<'t, T: Float>(z: Var<'t, T>) -> Var<'t, T> {
    let centred = z - z.mean_axes(&[0], true);
    centred / (centred.square().mean_axes(&[0], true) + T::of(1e-5)).sqrt()
}

/// The Barlow Twins loss of two batches of projections (`[n, d]` each) with off-diagonal
/// weight `lambda`.
///
/// # Panics
/// If the shapes differ.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::barlow_twins_loss;
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// // Two standardised, uncorrelated columns: identical views give C = I (up to the 1e-5 in the
/// // deviation), opposite views C = -I, two diagonal entries 2 away from 1.
/// let z = tape.constant(Tensor::from_vec(&[4, 2], vec![1.0f64, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0]));
/// assert!(barlow_twins_loss(z, z, 0.005).item() < 1e-8);
/// assert!((barlow_twins_loss(z, -z, 0.005).item() - 8.0).abs() < 1e-3);
/// ```
pub fn barlow_twins_loss<'t, T: Float>(z1: Var<'t, T>, z2: Var<'t, T>, lambda: f64) -> Var<'t, T> {
    assert_eq!(z1.shape(), z2.shape(), "barlow_twins_loss: views of shapes {:?} and {:?}", z1.shape(), z2.shape());
    let [n, d] = [z1.shape()[0], z1.shape()[1]];
    let c = standardize_columns(z1).t().matmul(standardize_columns(z2)) * T::of(1.0 / n as f64);
    let identity =
        Tensor::from_vec(&[d, d], (0..d * d).map(|k| if k / d == k % d { T::one() } else { T::zero() }).collect());
    let off_weights = identity.map(|v| if v > T::zero() { T::zero() } else { T::of(lambda) });
    let on_diagonal = ((c - c.constant(identity.clone())) * c.constant(identity)).square().sum();
    let off_diagonal = (c.square() * c.constant(off_weights)).sum();
    on_diagonal + off_diagonal
}

/// Barlow Twins with an MLP projector.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{BarlowTwins, Method};
///
/// let method = BarlowTwins::<f64>::new(8, 16, 4, 0.005);
/// assert_eq!((method.name(), method.lambda), ("barlow-twins", 0.005));
/// assert_eq!(method.heads().len(), 1);
/// ```
pub struct BarlowTwins<T: Float> {
    /// `Linear -> batch-norm -> ReLU -> Linear`, from the encoder's features.
    pub projector: Sequential<T>,
    /// The off-diagonal weight.
    pub lambda: f64,
}

impl<T: Float> BarlowTwins<T> {
    /// A projector `features -> hidden -> projection`, off-diagonal weight `lambda`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, BarlowTwins};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let (params, _) = initial(&encoder, &BarlowTwins::new(3, 6, 4, 0.005), 0);
    /// // features 3 -> hidden 6 -> projection 4.
    /// assert_eq!(params.get("head.projector.0.weight").unwrap().shape(), &[3, 6]);
    /// assert_eq!(params.get("head.projector.3.weight").unwrap().shape(), &[6, 4]);
    /// ```
    pub fn new(features: usize, hidden: usize, projection: usize, lambda: f64) -> Self {
        BarlowTwins { projector: mlp_head(features, hidden, projection), lambda }
    }
}

impl<T: Float> Method<T> for BarlowTwins<T> {
    fn name(&self) -> &'static str {
        "barlow-twins"
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
        // Each view through the projector on its own, so batch-norm sees one view at a time.
        let z1 = apply_head(&self.projector, "projector", params, h.narrow(0, 0, n), ctx);
        let z2 = apply_head(&self.projector, "projector", params, h.narrow(0, n, n), ctx);
        Objective {
            loss: barlow_twins_loss(z1, z2, self.lambda),
            embeddings: Some((super::l2_normalize_rows(h), groups)),
        }
    }
}
