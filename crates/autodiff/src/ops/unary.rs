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
            ///
            /// At `x = 0.7`, the first derivative and the second (the derivative of the
            /// recorded first) agree with central differences:
            ///
            /// ```
            /// use metagrad_autodiff::{Tape, Tensor};
            ///
            /// let derivatives = |x: f64| {
            ///     let tape = Tape::new();
            ///     let v = tape.var(Tensor::scalar(x));
            #[doc = concat!("     let y = v.", stringify!($method), "();")]
            ///     let d1 = tape.grad_graph(y, &[v])[0];
            ///     [y.item(), d1.item(), tape.grad(d1, &[v])[0].item()]
            /// };
            /// let (x, h) = (0.7, 1e-5);
            /// let ([_, d1, d2], above, below) = (derivatives(x), derivatives(x + h), derivatives(x - h));
            /// assert!((d1 - (above[0] - below[0]) / (2.0 * h)).abs() < 1e-6);
            /// assert!((d2 - (above[1] - below[1]) / (2.0 * h)).abs() < 1e-6);
            /// ```
            pub fn $method(self) -> Self {
                self.tape.apply($Op, &[self])
            }
        }
    };
}

unary_op!(
    /// `e^x`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![0.0, 1.0]));
    /// let y = x.exp();
    /// let e = std::f64::consts::E;
    /// assert_eq!(y.value().to_vec(), vec![1.0, e]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![1.0, e]); // its own derivative
    /// ```
    exp, Exp, kernel: Some(Unary::Exp), forward: |x| x.exp(), vjp: |_x, y, g| g * y
);
unary_op!(
    /// Natural logarithm.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 4.0]));
    /// let y = x.log();
    /// assert_eq!(y.value().to_vec(), vec![0.0, 4f64.ln()]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![1.0, 0.25]); // 1 / x
    /// ```
    log, Log, kernel: Some(Unary::Ln), forward: |x| x.ln(), vjp: |x, _y, g| g / x
);
unary_op!(
    /// Square root.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![4.0, 9.0]));
    /// let y = x.sqrt();
    /// assert_eq!(y.value().to_vec(), vec![2.0, 3.0]);
    /// let g = tape.grad(y.sum(), &[x])[0].to_vec(); // 1 / (2 sqrt x)
    /// assert!((g[0] - 0.25).abs() < 1e-15 && (g[1] - 1.0 / 6.0).abs() < 1e-15);
    /// ```
    sqrt, Sqrt, forward: |x| x.sqrt(), vjp: |_x, y, g| g / y * T::of(0.5)
);
unary_op!(
    /// `tanh(x)`; d/dx = 1 - tanh^2.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// // tanh(ln 2) = (4 - 1) / (4 + 1) = 0.6, so its slope there is 1 - 0.36 = 0.64.
    /// let x = tape.var(Tensor::from_vec(&[2], vec![0.0, 2f64.ln()]));
    /// let y = x.tanh();
    /// let g = tape.grad(y.sum(), &[x])[0].clone();
    /// assert!(y.value().max_abs_diff(&Tensor::from_vec(&[2], vec![0.0, 0.6])) < 1e-15);
    /// assert!(g.max_abs_diff(&Tensor::from_vec(&[2], vec![1.0, 0.64])) < 1e-15);
    /// ```
    tanh, Tanh, kernel: Some(Unary::Tanh), forward: |x| x.tanh(), vjp: |_x, y, g| g * (-(y * y) + T::one())
);
unary_op!(
    /// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow for large `|x|`;
    /// d/dx = s (1 - s).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// // sigmoid(ln 3) = 3 / (3 + 1), with slope (3/4)(1/4) = 3/16.
    /// let x = tape.var(Tensor::from_vec(&[2], vec![0.0, 3f64.ln()]));
    /// let y = x.sigmoid();
    /// let g = tape.grad(y.sum(), &[x])[0].clone();
    /// assert!(y.value().max_abs_diff(&Tensor::from_vec(&[2], vec![0.5, 0.75])) < 1e-15);
    /// assert!(g.max_abs_diff(&Tensor::from_vec(&[2], vec![0.25, 3.0 / 16.0])) < 1e-15);
    /// // Far out it saturates to 0 and 1 instead of overflowing to NaN.
    /// let far = tape.constant(Tensor::from_vec(&[2], vec![-1000.0, 1000.0])).sigmoid();
    /// assert_eq!(far.value().to_vec(), vec![0.0, 1.0]);
    /// ```
    sigmoid, Sigmoid, kernel: Some(Unary::Sigmoid), forward: |x| stable_sigmoid(x), vjp: |_x, y, g| g * y * (-y + T::one())
);
unary_op!(
    /// `softplus(x) = ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so it neither
    /// overflows nor loses precision; d/dx = sigmoid(x).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// // softplus(ln 3) = ln(1 + 3), with slope sigmoid(ln 3) = 3/4.
    /// let x = tape.var(Tensor::from_vec(&[2], vec![0.0, 3f64.ln()]));
    /// let y = x.softplus();
    /// let g = tape.grad(y.sum(), &[x])[0].clone();
    /// assert!(y.value().max_abs_diff(&Tensor::from_vec(&[2], vec![2f64.ln(), 4f64.ln()])) < 1e-15);
    /// assert!(g.max_abs_diff(&Tensor::from_vec(&[2], vec![0.5, 0.75])) < 1e-15);
    /// // No overflow: softplus(1000) = 1000, softplus(-1000) = e^-1000, which is 0 in f64.
    /// let far = tape.constant(Tensor::from_vec(&[2], vec![1000.0, -1000.0])).softplus();
    /// assert_eq!(far.value().to_vec(), vec![1000.0, 0.0]);
    /// ```
    softplus, Softplus, forward: |x| x.max(T::zero()) + (-x.abs()).exp().ln_1p(), vjp: |x, _y, g| g * x.sigmoid()
);
unary_op!(
    /// `|x|`; d/dx = sign(x) (0 at 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3], vec![-2.0, 0.0, 3.0]));
    /// let y = x.abs();
    /// assert_eq!(y.value().to_vec(), vec![2.0, 0.0, 3.0]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![-1.0, 0.0, 1.0]); // the sign
    /// ```
    abs, Abs, forward: |x| x.abs(), vjp: |x, _y, g| g * x.mask_values(|v| if v > T::zero() { T::one() } else if v < T::zero() { -T::one() } else { T::zero() })
);
unary_op!(
    /// `max(x, 0)` (NaN stays NaN); d/dx = `1[x > 0]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3], vec![-2.0, 0.0, 3.0]));
    /// let y = x.relu();
    /// assert_eq!(y.value().to_vec(), vec![0.0, 0.0, 3.0]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![0.0, 0.0, 1.0]); // 0 at the kink
    /// assert!(tape.scalar(f64::NAN).relu().item().is_nan());
    /// ```
    relu, Relu, kernel: Some(Unary::Relu), forward: |x| if x > T::zero() || x.is_nan() { x } else { T::zero() }, vjp: |x, _y, g| g.where_positive(x)
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![4.0, 9.0]));
    /// let y = x.powf(1.5);
    /// let g = tape.grad(y.sum(), &[x])[0].clone(); // 1.5 x^0.5
    /// assert!(y.value().max_abs_diff(&Tensor::from_vec(&[2], vec![8.0, 27.0])) < 1e-12);
    /// assert!(g.max_abs_diff(&Tensor::from_vec(&[2], vec![3.0, 4.5])) < 1e-12);
    /// // p = 0: the constant 1, whose derivative is 0 even at x = 0 (not 0 * 0^-1 = NaN).
    /// let z = tape.var(Tensor::scalar(0.0));
    /// assert_eq!(tape.grad(z.powf(0.0), &[z])[0].item(), 0.0);
    /// ```
    pub fn powf(self, p: T) -> Self {
        self.tape.apply(Powf(p), &[self])
    }

    /// `x` for `x > 0`, `slope * x` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![-2.0, 3.0]));
    /// let y = x.leaky_relu(0.125);
    /// assert_eq!(y.value().to_vec(), vec![-0.25, 3.0]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![0.125, 1.0]);
    /// ```
    pub fn leaky_relu(self, slope: T) -> Self {
        self.tape.apply(LeakyRelu(slope), &[self])
    }

    /// `x` for `x > 0`, `alpha (e^x - 1)` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// // At x = -ln 2, e^x = 1/2: elu = 2 (1/2 - 1) = -1, with slope 2 e^x = 1.
    /// let x = tape.var(Tensor::from_vec(&[2], vec![-(2f64.ln()), 3.0]));
    /// let y = x.elu(2.0);
    /// let g = tape.grad(y.sum(), &[x])[0].clone();
    /// assert!(y.value().max_abs_diff(&Tensor::from_vec(&[2], vec![-1.0, 3.0])) < 1e-15);
    /// assert!(g.max_abs_diff(&Tensor::from_vec(&[2], vec![1.0, 1.0])) < 1e-15);
    /// ```
    pub fn elu(self, alpha: T) -> Self {
        self.tape.apply(Elu(alpha), &[self])
    }

    /// GELU in its tanh form, `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (Hendrycks &
    /// Gimpel 2016). A composite of primitives, so all its derivatives come free.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3], vec![0.0, 1.0, -1.0]));
    /// let y = x.gelu().value().to_vec();
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_191_990_6).abs() < 1e-10);
    /// assert!((y[1] - y[2] - 1.0).abs() < 1e-15); // gelu(x) - gelu(-x) = x
    /// let z = tape.var(Tensor::scalar(0.0));
    /// assert_eq!(tape.grad(z.gelu(), &[z])[0].item(), 0.5); // the slope at 0
    /// ```
    pub fn gelu(self) -> Self {
        let c = T::of((2.0 / std::f64::consts::PI).sqrt());
        let inner = (self + self * self * self * T::of(0.044715)) * c;
        self * (inner.tanh() + T::one()) * T::of(0.5)
    }

    /// SiLU (swish), `x sigmoid(x)`. A composite.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// // At ln 3: sigmoid = 3/4, so silu = (3/4) ln 3, with slope 3/4 + ln 3 (3/4)(1/4).
    /// let x = tape.var(Tensor::from_vec(&[2], vec![0.0, 3f64.ln()]));
    /// let y = x.silu();
    /// let g = tape.grad(y.sum(), &[x])[0].clone();
    /// let ln3 = 3f64.ln();
    /// assert!(y.value().max_abs_diff(&Tensor::from_vec(&[2], vec![0.0, 0.75 * ln3])) < 1e-15);
    /// assert!(g.max_abs_diff(&Tensor::from_vec(&[2], vec![0.5, 0.75 + ln3 * 3.0 / 16.0])) < 1e-15);
    /// ```
    pub fn silu(self) -> Self {
        self * self.sigmoid()
    }

    /// A constant of this Var's shape with `f` applied to each element of its value: the
    /// non-differentiable factors (steps, signs) that VJPs multiply by.
    pub(crate) fn mask_values(self, f: impl Fn(T) -> T + Sync) -> Self {
        self.constant(self.value().map(f))
    }

    /// `self * 1[x > 0]` in one pass (ReLU's VJP), with no mask tensor in between.
    pub(crate) fn where_positive(self, x: Self) -> Self {
        self.tape.apply(WherePositive, &[self, x])
    }
}

/// `g * 1[x > 0]`, elementwise over inputs `[g, x]` of one shape. Linear in `g`, and the
/// step's derivative is zero almost everywhere, so the VJP is the same op on the incoming
/// cotangent and nothing for `x`: every order of ReLU's derivative goes through this op.
struct WherePositive;
impl<T: Float> Op<T> for WherePositive {
    fn name(&self) -> &'static str {
        "where_positive"
    }
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        // `g * 0` rather than `0` where masked, as the product with a mask gave: a NaN
        // cotangent still shows.
        inputs[0].zip_map(inputs[1], |g, x| if x > T::zero() { g } else { g * T::zero() })
    }
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.where_positive(inputs[1])), None]
    }
}
