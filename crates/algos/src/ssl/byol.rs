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
pub fn byol_loss<'t, T: Float>(prediction: Var<'t, T>, target: Var<'t, T>) -> Var<'t, T> {
    assert_eq!(prediction.shape(), target.shape(), "byol_loss: {:?} vs {:?}", prediction.shape(), target.shape());
    let p = super::l2_normalize_rows(prediction);
    let z = super::l2_normalize_rows(target.detach());
    ((p * z).sum_axes(&[1], false) * T::of(-2.0) + T::of(2.0)).mean()
}

/// BYOL: projector and predictor heads and the moving-average target.
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
