//! Per-channel standardisation, the core of batch-norm, as one fused op with a fused VJP.
//!
//! For a tensor `[N, C, ...]` and each channel `c`, over the `m` elements of every other axis:
//!
//! ```text
//! mu = mean(x),  r = (mean((x - mu)^2) + eps)^(-1/2),  x^ = (x - mu) r.
//! ```
//!
//! Its Jacobian, per channel, is `J = r (I - 1 1^T / m - x^ x^T / m)`, which is symmetric, so
//! the VJP of a cotangent `g` is
//!
//! ```text
//! N(g) = J g = r (g - mean(g) - x^ mean(g x^)).
//! ```
//!
//! `N` is itself an op of `(x, g)`, linear in `g`. Its VJP, for a cotangent `u` of its output
//! `dx = N(g)`, is `N(u)` for `g` (`J` is symmetric) and, for `x` (using
//! `dr/dx_j = -r^2 x^_j / m` and `d<v, x^>/dx = N(v)` for any `v` that does not depend on `x`),
//!
//! ```text
//! -(r / m) (x^ <u, dx> + <u, x^> dx) - r mean(g x^) N(u)          (<,> summed per channel)
//! ```
//!
//! written with `standardize_channels`, `N` and differentiable arithmetic, so every order of
//! derivative follows. Composed from primitives, the same forward would take six full-size
//! temporaries and its backward a dozen; fused, the forward reads `x` three times and writes
//! once, and the backward, which reuses the forward's per-channel statistics, reads `x` and
//! `g` twice and writes once.
//!
//! Statistics are summed per channel in one fixed order, so results do not depend on the
//! number of threads.

use crate::parallel;
use crate::{Float, Grads, Op, Tensor, Var};
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// Per channel `(mean, r)` of an op's input `x`: found by whichever op on that `x` runs first
/// (the forward) and shared with the VJP ops applied to the same `x` later, which would
/// otherwise read `x` twice more to find them again. A tape's values never change, so they
/// stay valid.
type Stats<T> = Arc<OnceLock<Vec<(T, T)>>>;

/// `x`'s elements in row-major order, borrowed when they already are.
pub(super) fn row_major<T: Float>(x: &Tensor<T>) -> Cow<'_, [T]> {
    match x.array().as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(x.to_vec()),
    }
}

/// `[N, C, S]`: the batch, the channels (axis 1) and the product of the remaining axes.
pub(super) fn layout(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

/// `sum f(i)` over `0..len`, in eight interleaved partial sums added pairwise at the end:
/// more accurate than one running sum, and a loop the compiler vectorises.
fn lane_sum<T: Float>(len: usize, f: impl Fn(usize) -> T) -> T {
    let mut lanes = [T::zero(); 8];
    let whole = len - len % 8;
    for i in (0..whole).step_by(8) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane += f(i + l);
        }
    }
    for (l, i) in (whole..len).enumerate() {
        lanes[l] += f(i);
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    ((a + b) + (c + d)) + ((e + f) + (g + h))
}

/// Per channel: the mean and `r = 1 / sqrt(biased variance + eps)` (`eps = None`: the
/// biased variance itself).
fn moments<T: Float>(x: &[T], (n, c, s): (usize, usize, usize), eps: Option<f64>) -> Vec<(T, T)> {
    let m = T::of((n * s) as f64);
    parallel::map_indices(c, n * s, |ch| {
        let blocks = || (0..n).map(move |b| &x[(b * c + ch) * s..(b * c + ch + 1) * s]);
        let mut sum = T::zero();
        for block in blocks() {
            sum += lane_sum(s, |i| block[i]);
        }
        let mean = sum / m;
        let mut squares = T::zero();
        for block in blocks() {
            squares += lane_sum(s, |i| (block[i] - mean) * (block[i] - mean));
        }
        let var = squares / m;
        (mean, eps.map_or(var, |eps| T::one() / (var + T::of(eps)).sqrt()))
    })
}

/// The per-channel mean and biased variance of `x` (`[N, C, ...]`), each of shape `[C]`:
/// the batch statistics that batch-norm keeps running estimates of.
///
/// # Panics
/// If `x` has fewer than two axes.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{channel_moments, Tensor};
///
/// // Two examples of two channels: channel 0 holds {1, 3}, channel 1 holds {10, 30}.
/// let x = Tensor::from_vec(&[2, 2], vec![1.0f64, 10.0, 3.0, 30.0]);
/// let (mean, var) = channel_moments(&x);
/// assert_eq!(mean.to_vec(), vec![2.0, 20.0]);
/// assert_eq!(var.to_vec(), vec![1.0, 100.0]); // biased: divided by 2, not 1
/// ```
pub fn channel_moments<T: Float>(x: &Tensor<T>) -> (Tensor<T>, Tensor<T>) {
    check_rank(x.shape(), "channel_moments");
    let (_, c, _) = layout(x.shape());
    let (mean, var): (Vec<T>, Vec<T>) = moments(&row_major(x), layout(x.shape()), None).into_iter().unzip();
    (Tensor::from_vec(&[c], mean), Tensor::from_vec(&[c], var))
}

fn check_rank(shape: &[usize], op: &str) {
    assert!(shape.len() >= 2, "{op}: needs [N, C, ...], got shape {shape:?}");
}

/// `x^ = (x - mu) r` per channel.
struct Standardize<T> {
    eps: f64,
    stats: Stats<T>,
}

impl<T: Float> Op<T> for Standardize<T> {
    fn name(&self) -> &'static str {
        "standardize_channels"
    }
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        let x = row_major(inputs[0]);
        let (n, c, s) = layout(inputs[0].shape());
        let stats = self.stats.get_or_init(|| moments(&x, (n, c, s), Some(self.eps)));
        let out = parallel::fill_chunks(n, c * s, |b, out: &mut [T]| {
            let x = &x[b * c * s..(b + 1) * c * s];
            for ((&(mean, r), x), out) in stats.iter().zip(x.chunks_exact(s)).zip(out.chunks_exact_mut(s)) {
                for (y, &v) in out.iter_mut().zip(x) {
                    *y = (v - mean) * r;
                }
            }
        });
        Tensor::from_vec(inputs[0].shape(), out)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(standardize_vjp(x[0], g, self.eps, self.stats.clone()))]
    }
}

/// `N(g) = r (g - mean(g) - x^ mean(g x^))` per channel, from inputs `(x, g)`.
struct StandardizeVjp<T> {
    eps: f64,
    stats: Stats<T>,
}

impl<T: Float> Op<T> for StandardizeVjp<T> {
    fn name(&self) -> &'static str {
        "standardize_channels_vjp"
    }
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        let (x, g) = (row_major(inputs[0]), row_major(inputs[1]));
        let (n, c, s) = layout(inputs[0].shape());
        let m = T::of((n * s) as f64);
        let stats = self.stats.get_or_init(|| moments(&x, (n, c, s), Some(self.eps)));
        // Per channel: mean(g) and mean(g x^).
        let means = parallel::map_indices(c, n * s, |ch| {
            let (mean, r) = stats[ch];
            let (mut sum_g, mut sum_gx) = (T::zero(), T::zero());
            for b in 0..n {
                let start = (b * c + ch) * s;
                let (g, x) = (&g[start..start + s], &x[start..start + s]);
                sum_g += lane_sum(s, |i| g[i]);
                sum_gx += lane_sum(s, |i| g[i] * (x[i] - mean)) * r;
            }
            (sum_g / m, sum_gx / m)
        });
        let out = parallel::fill_chunks(n, c * s, |b, out: &mut [T]| {
            let (x, g) = (&x[b * c * s..(b + 1) * c * s], &g[b * c * s..(b + 1) * c * s]);
            let blocks = x.chunks_exact(s).zip(g.chunks_exact(s)).zip(out.chunks_exact_mut(s));
            for (ch, ((x, g), out)) in blocks.enumerate() {
                let ((mean, r), (mean_g, mean_gx)) = (stats[ch], means[ch]);
                for ((y, &xv), &gv) in out.iter_mut().zip(x).zip(g) {
                    *y = r * (gv - mean_g - (xv - mean) * r * mean_gx);
                }
            }
        });
        Tensor::from_vec(inputs[0].shape(), out)
    }
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], dx: Var<'t, T>, u: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (x, g) = (inputs[0], inputs[1]);
        let n_u = standardize_vjp(x, u, self.eps, self.stats.clone());
        let grad_x = wants[0].then(|| {
            let shape = x.shape();
            let axes: Vec<usize> = (0..shape.len()).filter(|&a| a != 1).collect();
            let m = T::of((shape[0] * layout(&shape).2) as f64);
            let centred = x - x.mean_axes(&axes, true);
            let r = (centred.square().mean_axes(&axes, true) + T::of(self.eps)).powf(T::of(-0.5));
            let x_hat = x.tape.apply(Standardize { eps: self.eps, stats: self.stats.clone() }, &[x]);
            let per_channel = |a: Var<'t, T>, b: Var<'t, T>| (a * b).sum_axes(&axes, true);
            let mean_g_x_hat = per_channel(g, x_hat) * (T::one() / m);
            -(r * (T::one() / m)) * (x_hat * per_channel(u, dx) + dx * per_channel(u, x_hat)) - r * mean_g_x_hat * n_u
        });
        vec![grad_x, wants[1].then_some(n_u)]
    }
}

/// `N(g)` for `x` (the VJP of [`Var::standardize_channels`]); `stats` are `x`'s, if known.
fn standardize_vjp<'t, T: Float>(x: Var<'t, T>, g: Var<'t, T>, eps: f64, stats: Stats<T>) -> Var<'t, T> {
    x.tape.apply(StandardizeVjp { eps, stats }, &[x, g])
}

impl<'t, T: Float> Var<'t, T> {
    /// Standardises each channel (axis 1) of `[N, C, ...]` with its own statistics over every
    /// other axis: `(x - mean) / sqrt(var + eps)`, with the biased variance. Batch-norm in
    /// training mode is this, then a per-channel scale and shift. One fused op forward and
    /// back (see the module's notes for the math); differentiable to any order.
    ///
    /// # Panics
    /// If `x` has fewer than two axes, or `eps` is negative.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// // Channel 0 holds {1, 3} (mean 2, variance 1), channel 1 holds {10, 30} (mean 20, variance 100).
    /// let x = tape.var(Tensor::from_vec(&[2, 2], vec![1.0, 10.0, 3.0, 30.0]));
    /// let y = x.standardize_channels(0.0);
    /// let want = Tensor::from_vec(&[2, 2], vec![-1.0, -1.0, 1.0, 1.0]);
    /// assert!(y.value().max_abs_diff(&want) < 1e-12);
    /// // Each channel's outputs always sum to zero, so their sum has zero gradient.
    /// let g = tape.grad(y.sum(), &[x])[0].clone();
    /// assert!(g.max_abs_diff(&Tensor::zeros(&[2, 2])) < 1e-12);
    /// ```
    pub fn standardize_channels(self, eps: f64) -> Self {
        check_rank(&self.shape(), "standardize_channels");
        assert!(eps >= 0.0, "standardize_channels: eps = {eps} is negative");
        self.tape.apply(Standardize { eps, stats: Stats::default() }, &[self])
    }
}
