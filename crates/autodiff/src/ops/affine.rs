//! A per-channel scale and shift, batch-norm's affine step, as fused ops.
//!
//! For `x` of shape `[N, C, ...]`, a scale `w` and a shift `b` of shape `[C]`, and a cotangent
//! `g` of the output:
//!
//! ```text
//! y = x w_c + b_c                       (scale_shift_channels; scale_channels without b)
//! dx = g w_c,   dw_c = <g, x>_c,   db_c = <g, 1>_c
//! <a, b>_c = sum of a b over every axis but 1, in channel c          (channel_dot)
//! ```
//!
//! `channel_dot` is bilinear, so its VJP for a cotangent `u` of shape `[C]` is
//! `scale_channels(b, u)` for `a` and `scale_channels(a, u)` for `b`: the two ops are each
//! other's VJPs, and every order of derivative follows.
//!
//! Composed from `mul` and `add` with broadcasting, the forward takes two passes and a
//! full-size temporary, and `dw` a third pass through the temporary `g x`. Fused, each is one
//! pass. The arithmetic is the composition's: `x w` rounded, then `+ b`; `dw` as `g x`
//! rounded per element and summed as `sum_to` does (each image's run in order from zero, then
//! the images in order), so the results are the same to the bit.

use super::norm::{layout, row_major};
use crate::parallel;
use crate::{Float, Grads, Op, Tensor, Var};
use std::borrow::Cow;

/// `x w_c (+ b_c)`: inputs `x`, `w` and, with `shift`, `b`.
struct ChannelAffine {
    shift: bool,
}

impl<T: Float> Op<T> for ChannelAffine {
    fn name(&self) -> &'static str {
        if self.shift {
            "scale_shift_channels"
        } else {
            "scale_channels"
        }
    }
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        let (x, w) = (row_major(inputs[0]), row_major(inputs[1]));
        let b = if self.shift { row_major(inputs[2]) } else { Cow::Owned(Vec::new()) };
        let (n, c, s) = layout(inputs[0].shape());
        let out = parallel::fill_chunks(n, c * s, |i, out: &mut [T]| {
            let x = &x[i * c * s..(i + 1) * c * s];
            for (channel, (x, out)) in x.chunks_exact(s.max(1)).zip(out.chunks_exact_mut(s.max(1))).enumerate() {
                let scale = w[channel];
                if self.shift {
                    let shift = b[channel];
                    for (y, &v) in out.iter_mut().zip(x) {
                        *y = v * scale + shift;
                    }
                } else {
                    for (y, &v) in out.iter_mut().zip(x) {
                        *y = v * scale;
                    }
                }
            }
        });
        Tensor::from_vec(inputs[0].shape(), out)
    }
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (x, w) = (inputs[0], inputs[1]);
        let mut grads = vec![wants[0].then(|| g.scale_channels(w)), wants[1].then(|| g.channel_dot(x))];
        if self.shift {
            let shape = x.shape();
            let mut per_channel = vec![1; shape.len()];
            per_channel[1] = shape[1];
            grads.push(wants[2].then(|| g.sum_to(&per_channel).reshape(&[shape[1]])));
        }
        grads
    }
}

/// `<a, b>_c`, summed over every axis but 1.
struct ChannelDot;

impl<T: Float> Op<T> for ChannelDot {
    fn name(&self) -> &'static str {
        "channel_dot"
    }
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        let (a, b) = (row_major(inputs[0]), row_major(inputs[1]));
        let (n, c, s) = layout(inputs[0].shape());
        // Each image's per-channel sums (in parallel when long), then added in image order:
        // `sum_to`'s additions, in its order, on any number of threads.
        let partials = parallel::map_indices(n, c * s, |i| {
            let range = i * c * s..(i + 1) * c * s;
            dot_runs(&a[range.clone()], &b[range], c, s)
        });
        let mut total = vec![T::zero(); c];
        for partial in partials {
            for (t, p) in total.iter_mut().zip(partial) {
                *t += p;
            }
        }
        Tensor::from_vec(&[c], total)
    }
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], _: Var<'t, T>, u: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let (a, b) = (inputs[0], inputs[1]);
        vec![wants[0].then(|| b.scale_channels(u)), wants[1].then(|| a.scale_channels(u))]
    }
}

/// For each of the `runs` runs of `s` values of `a` and `b`: `sum a_i b_i`, each product
/// rounded, then added from zero in order. Eight runs' sums are interleaved so that their
/// additions overlap (the same arithmetic as one run at a time).
fn dot_runs<T: Float>(a: &[T], b: &[T], runs: usize, s: usize) -> Vec<T> {
    const LANES: usize = 8;
    if s == 0 {
        return vec![T::zero(); runs];
    }
    let mut sums = Vec::with_capacity(runs);
    for (a, b) in a.chunks_exact(LANES * s).zip(b.chunks_exact(LANES * s)) {
        let pairs: [(&[T], &[T]); LANES] = std::array::from_fn(|j| (&a[j * s..(j + 1) * s], &b[j * s..(j + 1) * s]));
        let mut lanes = [T::zero(); LANES];
        for i in 0..s {
            for (lane, (a, b)) in lanes.iter_mut().zip(&pairs) {
                *lane += a[i] * b[i];
            }
        }
        sums.extend_from_slice(&lanes);
    }
    let done = sums.len() * s;
    for (a, b) in a[done..].chunks_exact(s).zip(b[done..].chunks_exact(s)) {
        sums.push(a.iter().zip(b).fold(T::zero(), |acc, (&x, &y)| acc + x * y));
    }
    sums
}

/// Checks `[N, C, ...]` against a `[C]` parameter.
fn check(x: &[usize], per_channel: &[usize], what: &str, op: &str) {
    assert!(x.len() >= 2, "{op}: x has shape {x:?}, not [N, C, ...]");
    assert!(
        per_channel == [x[1]],
        "{op}: the {what} has shape {per_channel:?}, not [{}] (one per channel of {x:?})",
        x[1]
    );
}

impl<'t, T: Float> Var<'t, T> {
    /// Each channel (axis 1) of `[N, C, ...]` times its own `scale` (shape `[C]`): one fused
    /// op, the same values as `self * scale.reshape(&[1, C, 1, ...])`; differentiable to any
    /// order (see the module's notes).
    ///
    /// # Panics
    /// If `self` has fewer than two axes or `scale` is not `[C]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// // Two images of two channels with two pixels each.
    /// let x = tape.var(Tensor::from_vec(&[2, 2, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]));
    /// let w = tape.var(Tensor::from_vec(&[2], vec![10.0, -1.0]));
    /// let y = x.scale_channels(w);
    /// assert_eq!(y.value().to_vec(), vec![10.0, 20.0, -3.0, -4.0, 50.0, 60.0, -7.0, -8.0]);
    /// // d(sum y)/dw_c is the sum of channel c: 1 + 2 + 5 + 6 and 3 + 4 + 7 + 8.
    /// assert_eq!(tape.grad(y.sum(), &[w])[0].to_vec(), vec![14.0, 22.0]);
    /// ```
    pub fn scale_channels(self, scale: Var<'t, T>) -> Self {
        check(&self.shape(), &scale.shape(), "scale", "scale_channels");
        self.tape.apply(ChannelAffine { shift: false }, &[self, scale])
    }

    /// `self * scale_c + shift_c` per channel (axis 1) of `[N, C, ...]`, `scale` and `shift`
    /// of shape `[C]`: batch-norm's affine step as one fused op, with the same values as the
    /// broadcast `mul` and `add`; differentiable to any order (see the module's notes).
    ///
    /// # Panics
    /// If `self` has fewer than two axes or `scale` or `shift` is not `[C]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    /// let (w, b) = (tape.var(Tensor::from_vec(&[2], vec![2.0, 3.0])), tape.var(Tensor::from_vec(&[2], vec![0.5, -1.0])));
    /// let y = x.scale_shift_channels(w, b);
    /// assert_eq!(y.value().to_vec(), vec![2.5, 4.5, 8.0, 11.0]);
    /// // Each shift's gradient counts its channel's elements.
    /// assert_eq!(tape.grad(y.sum(), &[b])[0].to_vec(), vec![2.0, 2.0]);
    /// ```
    pub fn scale_shift_channels(self, scale: Var<'t, T>, shift: Var<'t, T>) -> Self {
        check(&self.shape(), &scale.shape(), "scale", "scale_shift_channels");
        check(&self.shape(), &shift.shape(), "shift", "scale_shift_channels");
        self.tape.apply(ChannelAffine { shift: true }, &[self, scale, shift])
    }

    /// `sum self * other` over every axis but 1 of two `[N, C, ...]` tensors: shape `[C]`.
    /// A per-channel scale's gradient; the same values as `(self * other).sum_to(&[1, C, 1,
    /// ...])`, without the full-size product. Differentiable to any order.
    ///
    /// # Panics
    /// If the shapes differ or have fewer than two axes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let a = tape.constant(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    /// let b = tape.constant(Tensor::from_vec(&[2, 2], vec![5.0, 6.0, 7.0, 8.0]));
    /// // Channel 0: 1 * 5 + 3 * 7; channel 1: 2 * 6 + 4 * 8.
    /// assert_eq!(a.channel_dot(b).value().to_vec(), vec![26.0, 44.0]);
    /// ```
    pub fn channel_dot(self, other: Var<'t, T>) -> Self {
        let (a, b) = (self.shape(), other.shape());
        assert!(a == b && a.len() >= 2, "channel_dot: shapes {a:?} and {b:?} are not one [N, C, ...]");
        self.tape.apply(ChannelDot, &[self, other])
    }
}
