//! Arithmetic: add, sub, mul, div, neg, and the scalar forms `x + c`, `x * c`.
//!
//! The binary primitives act on operands of one shape; the public methods first broadcast
//! both operands to a common shape with `broadcast_to`, whose VJP (`sum_to`) then undoes the
//! broadcast on the way back. So no arithmetic VJP needs to know about broadcasting.

use crate::{Float, Grads, Op, Tensor, Var};

pub(crate) struct Add;
impl<T: Float> Op<T> for Add {
    fn name(&self) -> &'static str {
        "add"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].zip_map(x[1], |a, b| a + b)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g), Some(g)]
    }
}

pub(crate) struct Sub;
impl<T: Float> Op<T> for Sub {
    fn name(&self) -> &'static str {
        "sub"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].zip_map(x[1], |a, b| a - b)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        vec![Some(g), wants[1].then(|| -g)]
    }
}

pub(crate) struct Mul;
impl<T: Float> Op<T> for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].zip_map(x[1], |a, b| a * b)
    }
    // d(ab) = b da + a db
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        vec![wants[0].then(|| g * x[1]), wants[1].then(|| g * x[0])]
    }
}

pub(crate) struct Div;
impl<T: Float> Op<T> for Div {
    fn name(&self) -> &'static str {
        "div"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].zip_map(x[1], |a, b| a / b)
    }
    // d(a/b) = da / b - (a/b) db / b
    fn vjp<'t>(&self, x: &[Var<'t, T>], out: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        vec![wants[0].then(|| g / x[1]), wants[1].then(|| -(g * out) / x[1])]
    }
}

pub(crate) struct Neg;
impl<T: Float> Op<T> for Neg {
    fn name(&self) -> &'static str {
        "neg"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].map(|a| -a)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(-g)]
    }
}

struct AddScalar<T>(T);
impl<T: Float> Op<T> for AddScalar<T> {
    fn name(&self) -> &'static str {
        "add_scalar"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].map(|a| a + self.0)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g)]
    }
}

struct MulScalar<T>(T);
impl<T: Float> Op<T> for MulScalar<T> {
    fn name(&self) -> &'static str {
        "mul_scalar"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        x[0].map(|a| a * self.0)
    }
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
        vec![Some(g.mul_scalar(self.0))]
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// Broadcasts both operands to their common shape, then applies a same-shape primitive.
    pub(crate) fn broadcasting(self, other: Self, op: impl Op<T>) -> Self {
        let (a, b) = self.broadcast_pair(other, op.name());
        self.tape.apply(op, &[a, b])
    }

    /// `self + c` for a scalar `c`.
    pub fn add_scalar(self, c: T) -> Self {
        self.tape.apply(AddScalar(c), &[self])
    }

    /// `self * c` for a scalar `c`.
    pub fn mul_scalar(self, c: T) -> Self {
        self.tape.apply(MulScalar(c), &[self])
    }

    /// `self * self`.
    pub fn square(self) -> Self {
        self * self
    }

    /// `1 / self`.
    pub fn recip(self) -> Self {
        self.powf(-T::one())
    }
}
