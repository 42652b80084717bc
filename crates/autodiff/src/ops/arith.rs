//! Arithmetic: add, sub, mul, div, neg, and the scalar forms `x + c`, `x * c`.
//!
//! The binary primitives broadcast their operands (NumPy rules) while computing, reading the
//! smaller operand through a stride-0 view rather than copying it out to full size. Their VJPs
//! sum each cotangent back to its operand's shape with `sum_to`, the adjoint of broadcasting
//! (and the identity when no broadcasting happened).

use crate::{broadcast_shape, Float, Grads, Op, Tensor, Var};
use ndarray::Zip;

/// `f` elementwise over two tensors that broadcast together.
fn zip_broadcast<T: Float>(a: &Tensor<T>, b: &Tensor<T>, f: impl Fn(T, T) -> T) -> Tensor<T> {
    if a.shape() == b.shape() {
        return a.zip_map(b, f);
    }
    if let Some(out) = zip_trailing(a, b, &f) {
        return out;
    }
    let shape = broadcast_shape(a.shape(), b.shape()).expect("checked when the op was applied");
    let a = a.array().broadcast(shape.as_slice()).expect("broadcasts");
    let b = b.array().broadcast(shape.as_slice()).expect("broadcasts");
    Tensor::from_array(Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)))
}

/// The fast path for the most common broadcast, a bias: one contiguous operand whose shape is
/// the trailing part of the other's (`[n, d] + [d]`), both row-major. `None` otherwise.
fn zip_trailing<T: Float>(a: &Tensor<T>, b: &Tensor<T>, f: &impl Fn(T, T) -> T) -> Option<Tensor<T>> {
    let (xa, xb) = (a.array().as_slice()?, b.array().as_slice()?);
    let trailing =
        |big: &[usize], small: &[usize], len: usize| len > 0 && small.len() <= big.len() && big.ends_with(small);
    let mut out = Vec::with_capacity(xa.len().max(xb.len()));
    if trailing(a.shape(), b.shape(), xb.len()) {
        for row in xa.chunks_exact(xb.len()) {
            out.extend(row.iter().zip(xb).map(|(&x, &y)| f(x, y)));
        }
        Some(Tensor::from_vec(a.shape(), out))
    } else if trailing(b.shape(), a.shape(), xa.len()) {
        for row in xb.chunks_exact(xa.len()) {
            out.extend(xa.iter().zip(row).map(|(&x, &y)| f(x, y)));
        }
        Some(Tensor::from_vec(b.shape(), out))
    } else {
        None
    }
}

pub(crate) struct Add;
impl<T: Float> Op<T> for Add {
    fn name(&self) -> &'static str {
        "add"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        zip_broadcast(x[0], x[1], |a, b| a + b)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        vec![wants[0].then(|| g.sum_to(&x[0].shape())), wants[1].then(|| g.sum_to(&x[1].shape()))]
    }
}

pub(crate) struct Sub;
impl<T: Float> Op<T> for Sub {
    fn name(&self) -> &'static str {
        "sub"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        zip_broadcast(x[0], x[1], |a, b| a - b)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        vec![wants[0].then(|| g.sum_to(&x[0].shape())), wants[1].then(|| (-g).sum_to(&x[1].shape()))]
    }
}

pub(crate) struct Mul;
impl<T: Float> Op<T> for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        zip_broadcast(x[0], x[1], |a, b| a * b)
    }
    // d(ab) = b da + a db
    fn vjp<'t>(&self, x: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        vec![wants[0].then(|| (g * x[1]).sum_to(&x[0].shape())), wants[1].then(|| (g * x[0]).sum_to(&x[1].shape()))]
    }
}

pub(crate) struct Div;
impl<T: Float> Op<T> for Div {
    fn name(&self) -> &'static str {
        "div"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        zip_broadcast(x[0], x[1], |a, b| a / b)
    }
    // d(a/b) = da / b - (a/b) db / b
    fn vjp<'t>(&self, x: &[Var<'t, T>], out: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        vec![
            wants[0].then(|| (g / x[1]).sum_to(&x[0].shape())),
            wants[1].then(|| (-(g * out) / x[1]).sum_to(&x[1].shape())),
        ]
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
    /// Applies a broadcasting binary primitive after checking that the shapes broadcast.
    pub(crate) fn broadcasting(self, other: Self, op: impl Op<T>) -> Self {
        let same = self.tape.with_value(self.id, |a| other.tape.with_value(other.id, |b| a.shape() == b.shape()));
        if !same {
            let (a, b) = (self.shape(), other.shape());
            assert!(broadcast_shape(&a, &b).is_some(), "{}: shapes {a:?} and {b:?} do not broadcast", op.name());
        }
        self.tape.apply(op, &[self, other])
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
