//! R2D2: a closed-form ridge-regression head, meta-learned through its solution (Bertinetto,
//! Henriques, Torr & Vedaldi 2019, "Meta-learning with differentiable closed-form solvers").
//!
//! The body `f_phi` maps the `n` support inputs to features `X` (`n x d`, with a column of ones
//! appended for a bias), and the head is the ridge-regression solution for the support targets
//! `Y` (`n x m`: values, or one-hot classes):
//!
//! ```text
//! W = argmin_W ||X W - Y||^2 + lambda ||W||^2 = X^T (X X^T + lambda I_n)^{-1} Y.
//! ```
//!
//! The second form (Woodbury's identity) solves an `n x n` system instead of `d x d`, which is
//! what makes it cheap in the few-shot regime, `n << d`. Query predictions are
//! `scale * f_phi(x_q) W + offset`; `phi`, `lambda` (as `log lambda`), `scale` and `offset`
//! are meta-learned by differentiating the query loss through the solve, which the engine's
//! [`solve`](metagrad_autodiff::Var::solve) op supports to every order.
//!
//! There is no inner loop, so "steps" mean nothing here: predictions are the same for every
//! requested step count.

use super::inner::{closed_form_gradient, closed_form_predictions, ClosedForm};
use super::{model_vars, Batch, Episode, MetaMethod, Target, TaskGradient, EXTRA_PREFIX};
use metagrad_autodiff::{concat, one_hot, Float, Tensor, Var};
use metagrad_nn::{Context, Module, ParamVars, Params};

/// The ridge head over a body network's features.
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{MetaMethod, R2d2};
/// use metagrad_nn::Params;
///
/// // The head's own meta-parameters: log lambda, a scale starting at 1, an offset at 0.
/// let extra = R2d2 { lambda: 0.5 }.init_extra(&Params::<f64>::new());
/// let value = |name: &str| extra.get(name).unwrap().item();
/// assert!((value("meta.r2d2.log_lambda") - 0.5f64.ln()).abs() < 1e-12);
/// assert_eq!((value("meta.r2d2.scale"), value("meta.r2d2.offset")), (1.0, 0.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct R2d2 {
    /// The initial ridge penalty `lambda` (learned as `log lambda`).
    pub lambda: f64,
}

const LOG_LAMBDA: &str = "r2d2.log_lambda";
const SCALE: &str = "r2d2.scale";
const OFFSET: &str = "r2d2.offset";

fn extra(name: &str) -> String {
    format!("{EXTRA_PREFIX}{name}")
}

impl R2d2 {
    /// A ridge head starting from penalty `lambda`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{evaluate, Batch, Episode, MetaMethod, R2d2};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // An identity encoder on points of the plane: embeddings are the points themselves.
    /// # let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    /// # let identity = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// # let meta = Params::from_pairs([("0.weight".to_string(), identity)]);
    /// # let rows = |xs: &[[f64; 2]]| Tensor::from_vec(&[xs.len(), 2], xs.concat());
    /// let r2d2 = R2d2::new(0.1);
    /// let mut all = meta.clone();
    /// for (name, value) in r2d2.init_extra(&meta).iter() {
    ///     all.insert(name, value.clone());
    /// }
    /// // A lightly penalised ridge fit to one-hot targets classifies its own support points.
    /// let support = Batch::classification(rows(&[[1.0, 0.0], [0.0, 1.0], [2.0, 0.1]]), vec![0, 1, 0]);
    /// let episode = Episode { support: support.clone(), query: support };
    /// assert_eq!(evaluate(&r2d2, &encoder, &all, &[episode], &[0])[0].mean, 1.0);
    /// ```
    pub fn new(lambda: f64) -> Self {
        R2d2 { lambda }
    }

    /// Predictions on `inputs` of the ridge head fitted to `support`, on the tape of `all`
    /// (every meta-parameter, lifted: the body's and the head's own). The body must produce
    /// `[n, d]` features (end a convolutional body with `Flatten`).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::meta::{Batch, MetaMethod, R2d2};
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::Linear;
    /// use metagrad_nn::{Params, Sequential};
    ///
    /// // The body f(x) = x, so the features are (x, 1); lambda = 1.
    /// let body = Sequential::<f64>::default().push(Linear { inputs: 1, outputs: 1, bias: false });
    /// let mut all = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[1, 1], vec![1.0]))]);
    /// let r2d2 = R2d2::new(1.0);
    /// for (name, value) in r2d2.init_extra(&all).iter() {
    ///     all.insert(name, value.clone());
    /// }
    /// // One support point, x = 1 with y = 2: X = [1 1], so W = X^T (X X^T + 1)^-1 y = (2/3, 2/3),
    /// // and at x = 2 the prediction is 2 (2/3) + 2/3 = 2.
    /// let support = Batch::regression(Tensor::from_vec(&[1, 1], vec![1.0]), Tensor::from_vec(&[1, 1], vec![2.0]));
    /// let tape = Tape::new();
    /// let y = r2d2.predictions(&body, &all.on(&tape), &support, &Tensor::from_vec(&[1, 1], vec![2.0])).value();
    /// assert!((y.item() - 2.0).abs() < 1e-12);
    /// ```
    pub fn predictions<'t, T: Float>(
        &self,
        body: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        let tape = all.vars()[0].tape();
        let model = model_vars(all);
        let features = |x: &Tensor<T>| {
            let f = body.forward(&model, tape.constant(x.clone()), &mut Context::transductive(0));
            let ones = tape.constant(Tensor::ones(&[f.shape()[0], 1]));
            concat(&[f, ones], 1)
        };
        let (xs, xq) = (features(&support.inputs), features(inputs));
        let n = support.len();
        let y = match &support.target {
            Target::Values(v) => tape.constant(v.clone()),
            Target::Classes(c) => tape.constant(one_hot(c, c.iter().max().map_or(0, |m| m + 1))),
        };
        let eye = tape.constant(Tensor::from_vec(
            &[n, n],
            (0..n * n).map(|i| T::of(f64::from(u8::from(i % (n + 1) == 0)))).collect(),
        ));
        let lambda = all.get(&extra(LOG_LAMBDA)).exp();
        let system = xs.matmul(xs.t()) + eye * lambda;
        let w = xs.t().matmul(system.solve(y));
        xq.matmul(w) * all.get(&extra(SCALE)) + all.get(&extra(OFFSET))
    }
}

impl<T: Float> MetaMethod<T> for R2d2 {
    fn name(&self) -> &'static str {
        "r2d2"
    }

    fn init_extra(&self, _model: &Params<T>) -> Params<T> {
        let mut p = Params::new();
        p.insert(extra(LOG_LAMBDA), Tensor::full(&[1], T::of(self.lambda.ln())));
        p.insert(extra(SCALE), Tensor::full(&[1], T::one()));
        p.insert(extra(OFFSET), Tensor::zeros(&[1]));
        p
    }

    fn task_gradient(&self, model: &dyn Module<T>, meta: &Params<T>, episode: &Episode<T>) -> TaskGradient<T> {
        closed_form_gradient(self, model, meta, episode)
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

impl<T: Float> ClosedForm<T> for R2d2 {
    fn predict_on_tape<'t>(
        &self,
        model: &dyn Module<T>,
        all: &ParamVars<'t, T>,
        support: &Batch<T>,
        inputs: &Tensor<T>,
    ) -> Var<'t, T> {
        self.predictions(model, all, support, inputs)
    }
}
