//! BYOL, Bootstrap Your Own Latent (Grill et al. 2020): an online network learns to predict
//! a slowly moving target network's projection of another view, with no negatives.
//!
//! The online network is encoder `f_theta`, projector `g_theta` and predictor `q_theta`;
//! the target is `f_xi`, `g_xi` with `xi` an exponential moving average of `theta`. For views
//! `v`, `v'` of one image, with `p = q(g(f_theta(v)))` and `z' = g(f_xi(v'))`,
//!
//! ```text
//! l(p, z') = || p/||p|| - sg(z')/||z'|| ||^2 = 2 - 2 cos(p, z'),
//! L = mean over images of l(p_1, z'_2) + l(p_2, z'_1)      (both directions),
//! xi <- tau xi + (1 - tau) theta                            (after every step).
//! ```
//!
//! `sg` is the stop-gradient: the target gets no gradient, only the average.

use super::{apply_head, encode, mlp_head, two_views, Method, Objective, Positives, Step, ENCODER, HEAD};
use metagrad_autodiff::{Float, Var};
use metagrad_nn::{Context, Module, ParamVars, Params, Sequential};

/// `mean_i 2 - 2 cos(prediction_i, target_i)` with no gradient into `target` (`[n, d]` each).
///
/// # Panics
/// If the shapes differ.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::byol_loss;
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let p = tape.constant(Tensor::from_vec(&[2, 2], vec![1.0f64, 0.0, 0.0, 3.0]));
/// // 2 - 2 cos: 0 for the same directions (whatever the lengths), 4 for opposite ones.
/// // (Up to the 1e-8 that normalisation adds under the root.)
/// assert!(byol_loss(p, p * 5.0).item().abs() < 1e-6);
/// assert!((byol_loss(p, -p).item() - 4.0).abs() < 1e-6);
/// ```
pub fn byol_loss<'t, T: Float>(prediction: Var<'t, T>, target: Var<'t, T>) -> Var<'t, T> {
    assert_eq!(prediction.shape(), target.shape(), "byol_loss: {:?} vs {:?}", prediction.shape(), target.shape());
    let p = super::l2_normalize_rows(prediction);
    let z = super::l2_normalize_rows(target.detach());
    ((p * z).sum_axes(&[1], false) * T::of(-2.0) + T::of(2.0)).mean()
}

/// BYOL: projector and predictor heads and the moving-average target.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::{Byol, Method};
///
/// let byol = Byol::<f64>::new(8, 16, 4, 0.99);
/// // The target is empty until `Method::begin` copies the online weights.
/// assert!(byol.target.is_empty());
/// assert_eq!(byol.heads().iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec!["projector", "predictor"]);
/// ```
pub struct Byol<T: Float> {
    /// `Linear -> batch-norm -> ReLU -> Linear`, from the encoder's features.
    pub projector: Sequential<T>,
    /// `Linear -> batch-norm -> ReLU -> Linear`, from the projection to itself.
    pub predictor: Sequential<T>,
    /// The target's decay `tau`, constant (the paper raises it from 0.996 towards 1 on a
    /// cosine schedule; short runs here use 0.99).
    pub decay: f64,
    /// The target parameters (`"encoder.…"` and `"head.projector.…"`), empty until
    /// [`Method::begin`].
    pub target: Params<T>,
}

impl<T: Float> Byol<T> {
    /// Heads `features -> hidden -> projection` and `projection -> hidden -> projection`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, Byol};
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let (params, _) = initial(&encoder, &Byol::new(3, 6, 4, 0.99), 0);
    /// // The predictor maps a projection to a projection.
    /// assert_eq!(params.get("head.predictor.0.weight").unwrap().shape(), &[4, 6]);
    /// assert_eq!(params.get("head.predictor.3.weight").unwrap().shape(), &[6, 4]);
    /// ```
    pub fn new(features: usize, hidden: usize, projection: usize, decay: f64) -> Self {
        Byol {
            projector: mlp_head(features, hidden, projection),
            predictor: mlp_head(projection, hidden, projection),
            decay,
            target: Params::new(),
        }
    }

    fn in_target(name: &str) -> bool {
        name.starts_with(&format!("{ENCODER}.")) || name.starts_with(&format!("{HEAD}.projector."))
    }

    /// The loss with the target's parameters given explicitly (on the same tape as
    /// `online`), on `views` `[2n, …]`: the first views of `n` images, then their second
    /// views. Returns the loss and the online encoder's features.
    ///
    /// # Panics
    /// If `views` has an odd number of rows.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::{initial, two_views, Augment, Byol, Positives, Step};
    /// use metagrad_autodiff::Tape;
    /// use metagrad_nn::Context;
    /// # use metagrad_algos::Labelled;
    /// # use metagrad_autodiff::Tensor;
    /// # use metagrad_nn::layers::{Flatten, Linear};
    /// # use metagrad_nn::Sequential;
    /// # // A tiny encoder (1x2x2 images flattened, then 3 features) and two images, labels 1 and 0.
    /// # let encoder = Sequential::<f64>::default().push(Flatten).push(Linear::new(4, 3));
    /// # let pixels = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
    /// # let batch = Labelled::new(Tensor::from_vec(&[2, 1, 2, 2], pixels), vec![1, 0]);
    ///
    /// let byol = Byol::new(3, 6, 4, 0.99);
    /// let (params, state) = initial(&encoder, &byol, 0);
    /// let (views, _) = two_views(&Step { batch: &batch, augment: &Augment::none(), seed: 0 }, Positives::Views);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// let (loss, h) = byol.loss_with_target(&encoder, &p, &p, views, &mut Context::train(state, 0));
    /// // Two symmetric terms, each a mean of 2 - 2 cos: between 0 and 8; features of all 4 views.
    /// assert!((0.0..=8.0).contains(&loss.item()));
    /// assert_eq!(h.shape(), &[4, 3]);
    /// ```
    pub fn loss_with_target<'t>(
        &self,
        encoder: &dyn Module<T>,
        online: &ParamVars<'t, T>,
        target: &ParamVars<'t, T>,
        views: metagrad_autodiff::Tensor<T>,
        ctx: &mut Context<T>,
    ) -> (Var<'t, T>, Var<'t, T>) {
        let rows = views.shape()[0];
        assert!(rows.is_multiple_of(2), "Byol: {rows} rows are not two views of each image");
        let n = rows / 2;
        let h = encode(encoder, online, views.clone(), ctx);
        let z = apply_head(&self.projector, "projector", online, h, ctx);
        let p = apply_head(&self.predictor, "predictor", online, z, ctx);
        // The target normalises with batch statistics of its own and keeps no running ones.
        let mut target_ctx = Context::transductive(0);
        let z_target = apply_head(
            &self.projector,
            "projector",
            target,
            encode(encoder, target, views, &mut target_ctx),
            &mut target_ctx,
        );
        let loss = byol_loss(p.narrow(0, 0, n), z_target.narrow(0, n, n))
            + byol_loss(p.narrow(0, n, n), z_target.narrow(0, 0, n));
        (loss, h)
    }
}

impl<T: Float> Method<T> for Byol<T> {
    fn name(&self) -> &'static str {
        "byol"
    }

    fn heads(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        vec![("projector", &self.projector), ("predictor", &self.predictor)]
    }

    fn objective<'t>(
        &self,
        encoder: &dyn Module<T>,
        params: &ParamVars<'t, T>,
        step: &Step<'_, T>,
        ctx: &mut Context<T>,
    ) -> Objective<'t, T> {
        assert!(!self.target.is_empty(), "Byol: no target network; call Method::begin first");
        let (views, groups) = two_views(step, Positives::Views);
        let tape = params.vars()[0].tape();
        let target = self.target.on(tape);
        let (loss, h) = self.loss_with_target(encoder, params, &target, views, ctx);
        Objective { loss, embeddings: Some((super::l2_normalize_rows(h), groups)) }
    }

    fn begin(&mut self, params: &Params<T>) {
        self.target = Params::from_pairs(
            params.iter().filter(|(n, _)| Self::in_target(n)).map(|(n, v)| (n.to_string(), v.clone())),
        );
    }

    fn after_step(&mut self, params: &Params<T>) {
        let tau = T::of(self.decay);
        let online = Params::from_pairs(
            params.iter().filter(|(n, _)| Self::in_target(n)).map(|(n, v)| (n.to_string(), v.clone())),
        );
        self.target = self.target.zip_map(&online, |xi, theta| tau * xi + (T::one() - tau) * theta);
    }
}
