//! Elementwise functions of one input: each forward formula beside its derivative.
//!
//! Where the derivative holds a non-smooth factor (the step of `relu`, the sign of `abs`),
//! that factor enters the VJP as a constant mask: its own derivative is zero almost
//! everywhere, which is exactly right for the second derivative.

use crate::{Float, Grads, Op, Tensor, Var};
use metagrad_kernels::Unary;

/// Declares a stateless elementwise op: its forward formula (and the kernel that computes it,
/// where there is one), its VJP, and the `Var` method.
macro_rules! unary_op {
    ($(#[$doc:meta])* $method:ident, $Op:ident, forward: |$x:ident| $forward:expr, vjp: |$xv:ident, $out:ident, $g:ident| $vjp:expr) => {
        unary_op!($(#[$doc])* $method, $Op, kernel: None, forward: |$x| $forward, vjp: |$xv, $out, $g| $vjp);
    };
    ($(#[$doc:meta])* $method:ident, $Op:ident, kernel: $kernel:expr, forward: |$x:ident| $forward:expr, vjp: |$xv:ident, $out:ident, $g:ident| $vjp:expr) => {
        struct $Op;
        impl<T: Float> Op<T> for $Op {
            fn name(&self) -> &'static str {
                stringify!($method)
            }
            fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
                map_elementwise(inputs[0], $kernel, |$x: T| $forward)
            }
            fn vjp<'t>(&self, inputs: &[Var<'t, T>], $out: Var<'t, T>, $g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
                let $xv = inputs[0];
                vec![Some($vjp)]
            }
        }
        impl<'t, T: Float> Var<'t, T> {
            $(#[$doc])*
            pub fn $method(self) -> Self {
                self.tape.apply($Op, &[self])
            }
        }
    };
}

unary_op!(
    /// `e^x`.
    exp, Exp, kernel: Some(Unary::Exp), forward: |x| x.exp(), vjp: |_x, y, g| g * y
);
unary_op!(
    /// Natural logarithm.
    log, Log, kernel: Some(Unary::Ln), forward: |x| x.ln(), vjp: |x, _y, g| g / x
);
unary_op!(
    /// Square root.
    sqrt, Sqrt, forward: |x| x.sqrt(), vjp: |_x, y, g| g / y * T::of(0.5)
);
unary_op!(
    /// `tanh(x)`; d/dx = 1 - tanh^2.
    tanh, Tanh, kernel: Some(Unary::Tanh), forward: |x| x.tanh(), vjp: |_x, y, g| g * (-(y * y) + T::one())
);
unary_op!(
    /// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow for large `|x|`;
    /// d/dx = s (1 - s).
    sigmoid, Sigmoid, kernel: Some(Unary::Sigmoid), forward: |x| stable_sigmoid(x), vjp: |_x, y, g| g * y * (-y + T::one())
);
unary_op!(
    /// `softplus(x) = ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so it neither
    /// overflows nor loses precision; d/dx = sigmoid(x).
    softplus, Softplus, forward: |x| x.max(T::zero()) + (-x.abs()).exp().ln_1p(), vjp: |x, _y, g| g * x.sigmoid()
);
unary_op!(
    /// `|x|`; d/dx = sign(x) (0 at 0).
    abs, Abs, forward: |x| x.abs(), vjp: |x, _y, g| g * x.mask_values(|v| if v > T::zero() { T::one() } else if v < T::zero() { -T::one() } else { T::zero() })
);
unary_op!(
    /// `max(x, 0)` (NaN stays NaN); d/dx = `1[x > 0]`.
    relu, Relu, kernel: Some(Unary::Relu), forward: |x| if x > T::zero() || x.is_nan() { x } else { T::zero() }, vjp: |x, _y, g| g * x.mask_values(|v| if v > T::zero() { T::one() } else { T::zero() })
);

/// Applies an elementwise function: with the kernel when there is one and the values are
/// contiguous (vectorised, parallel for long tensors), with `f` otherwise.
fn map_elementwise<T: Float>(x: &Tensor<T>, kernel: Option<Unary>, f: impl Fn(T) -> T + Sync) -> Tensor<T> {
    match (kernel, x.array().as_slice()) {
        (Some(op), Some(values)) => {
            let mut out = vec![T::zero(); values.len()];
            metagrad_kernels::unary(op, values, &mut out);
            Tensor::from_vec(x.shape(), out)
        }
        _ => x.map(f),
    }
}

fn stable_sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

struct Powf<T>(T);
impl<T: Float> Op<T> for Powf<T> {
    fn name(&self) -> &'static str {
        "powf"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].map(|v| v.powf(self.0))
    }
    // d(x^p) = p x^(p-1) dx; for p = 1 skip the x^0 factor, whose own derivative is 0 * x^-1,
    // and for p = 0 the derivative is zero (not 0 * x^-1, which is NaN at 0).
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        let p = self.0;
        let grad = if p == T::zero() {
            g * T::zero()
        } else if p == T::one() {
            g
        } else {
            g * x[0].powf(p - T::one()) * p
        };
        vec![Some(grad)]
    }
}

struct LeakyRelu<T>(T);
impl<T: Float> Op<T> for LeakyRelu<T> {
    fn name(&self) -> &'static str {
        "leaky_relu"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].map(|v| if v > T::zero() { v } else { v * self.0 })
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        let slope = self.0;
        vec![Some(g * x[0].mask_values(|v| if v > T::zero() { T::one() } else { slope }))]
    }
}

struct Elu<T>(T);
impl<T: Float> Op<T> for Elu<T> {
    fn name(&self) -> &'static str {
        "elu"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].map(|v| if v > T::zero() { v } else { self.0 * v.exp_m1() })
    }
    // For x <= 0, y = a (e^x - 1), so dy/dx = a e^x = y + a: written with y, it stays differentiable.
    fn vjp<'t>(&self, x: &[Var<'t, T>], y: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        let positive = x[0].mask(|v| v > T::zero());
        vec![Some(crate::select(&positive, g, g * (y + self.0)))]
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// `x^p` for a scalar exponent `p` (x > 0 unless `p` is an integer).
    pub fn powf(self, p: T) -> Self {
        self.tape.apply(Powf(p), &[self])
    }

    /// `x` for `x > 0`, `slope * x` otherwise.
    pub fn leaky_relu(self, slope: T) -> Self {
        self.tape.apply(LeakyRelu(slope), &[self])
    }

    /// `x` for `x > 0`, `alpha (e^x - 1)` otherwise.
    pub fn elu(self, alpha: T) -> Self {
        self.tape.apply(Elu(alpha), &[self])
    }

    /// GELU in its tanh form, `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (Hendrycks &
    /// Gimpel 2016). A composite of primitives, so all its derivatives come free.
    pub fn gelu(self) -> Self {
        let c = T::of((2.0 / std::f64::consts::PI).sqrt());
        let inner = (self + self * self * self * T::of(0.044715)) * c;
        self * (inner.tanh() + T::one()) * T::of(0.5)
    }

    /// SiLU (swish), `x sigmoid(x)`. A composite.
    pub fn silu(self) -> Self {
        self * self.sigmoid()
    }

    /// A constant of this Var's shape with `f` applied to each element of its value: the
    /// non-differentiable factors (steps, signs) that VJPs multiply by.
    pub(crate) fn mask_values(self, f: impl Fn(T) -> T + Sync) -> Self {
        self.constant(self.value().map(f))
    }
}
