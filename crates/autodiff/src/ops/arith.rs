//! Arithmetic: add, sub, mul, div, neg, and the scalar forms `x + c`, `x * c`.
//!
//! The binary primitives broadcast their operands (NumPy rules) while computing, reading the
//! smaller operand through a stride-0 view rather than copying it out to full size. Their VJPs
//! sum each cotangent back to its operand's shape with `sum_to`, the adjoint of broadcasting
//! (and the identity when no broadcasting happened).

use super::shape::block_layout;
use crate::parallel;
use crate::{broadcast_shape, Float, Grads, Op, Tensor, Var};
use ndarray::Zip;

/// `f` elementwise over two tensors that broadcast together.
fn zip_broadcast<T: Float>(a: &Tensor<T>, b: &Tensor<T>, f: impl Fn(T, T) -> T + Sync) -> Tensor<T> {
    if a.shape() == b.shape() {
        return a.zip_map(b, f);
    }
    if let Some(out) = zip_blocks(a, b, &f) {
        return out;
    }
    let shape = broadcast_shape(a.shape(), b.shape()).expect("checked when the op was applied");
    let a = a.array().broadcast(shape.as_slice()).expect("broadcasts");
    let b = b.array().broadcast(shape.as_slice()).expect("broadcasts");
    Tensor::from_array(Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)))
}

/// The fast path for the common broadcasts (a bias row, a per-channel scale, a scalar): one
/// row-major operand read as `[outer, mid, inner]` blocks, the other varying along `mid` only
/// (see [`block_layout`]). `None` otherwise.
fn zip_blocks<T: Float>(a: &Tensor<T>, b: &Tensor<T>, f: &(impl Fn(T, T) -> T + Sync)) -> Option<Tensor<T>> {
    let (xa, xb) = (a.array().as_slice()?, b.array().as_slice()?);
    let blocks = |large: &[T], small: &[T], (outer, mid, inner): (usize, usize, usize), small_first: bool| {
        // One chunk per outer index (an image of a batch), in parallel when long.
        parallel::fill_chunks(outer, mid * inner, |o, out: &mut [T]| {
            let large = &large[o * mid * inner..(o + 1) * mid * inner];
            for ((&s, block), out) in small.iter().zip(large.chunks_exact(inner)).zip(out.chunks_exact_mut(inner)) {
                for (y, &x) in out.iter_mut().zip(block) {
                    *y = if small_first { f(s, x) } else { f(x, s) };
                }
            }
        })
    };
    if let Some(layout) = block_layout(a.shape(), b.shape()) {
        Some(Tensor::from_vec(a.shape(), blocks(xa, xb, layout, false)))
    } else {
        block_layout(b.shape(), a.shape()).map(|layout| Tensor::from_vec(b.shape(), blocks(xb, xa, layout, true)))
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
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 2.0]));
    /// let y = x.add_scalar(0.5);
    /// assert_eq!(y.value().to_vec(), vec![1.5, 2.5]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![1.0, 1.0]); // a shift has slope 1
    /// ```
    pub fn add_scalar(self, c: T) -> Self {
        self.tape.apply(AddScalar(c), &[self])
    }

    /// `self * c` for a scalar `c`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, -2.0]));
    /// let y = x.mul_scalar(3.0);
    /// assert_eq!(y.value().to_vec(), vec![3.0, -6.0]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![3.0, 3.0]);
    /// ```
    pub fn mul_scalar(self, c: T) -> Self {
        self.tape.apply(MulScalar(c), &[self])
    }

    /// `self * self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![-3.0, 2.0]));
    /// let y = x.square();
    /// assert_eq!(y.value().to_vec(), vec![9.0, 4.0]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![-6.0, 4.0]); // 2 x
    /// ```
    pub fn square(self) -> Self {
        self * self
    }

    /// `1 / self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![2.0, 4.0]));
    /// let y = x.recip();
    /// assert_eq!(y.value().to_vec(), vec![0.5, 0.25]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![-0.25, -0.0625]); // -1 / x^2
    /// ```
    pub fn recip(self) -> Self {
        self.powf(-T::one())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Zip;

    /// The block fast path against ndarray's general broadcasting, both operand orders, on the
    /// shapes it takes (bias, per-channel, scalar, middle axes) and ones it must decline.
    #[test]
    fn block_broadcasting_agrees_with_the_general_path() {
        let pairs: [(&[usize], &[usize]); 9] = [
            // Long enough for the parallel blocks.
            (&[2, 3, 64, 100], &[1, 3, 1, 1]),
            (&[700, 64], &[64]),
            (&[4, 3], &[3]),
            (&[2, 3, 4, 5], &[1, 3, 1, 1]),
            (&[2, 3, 4], &[]),
            (&[2, 3, 4], &[3, 4]),
            (&[2, 3, 4], &[3, 1]),
            (&[3, 1], &[1, 4]),
            (&[2, 1, 4], &[3, 1]),
        ];
        let fill = |shape: &[usize], offset: f64| {
            let n = shape.iter().product::<usize>();
            Tensor::from_vec(shape, (0..n).map(|i| (i as f64 * 0.37 + offset).sin()).collect())
        };
        for (s, t) in pairs {
            let (a, b) = (fill(s, 0.0), fill(t, 1.0));
            for (x, y) in [(&a, &b), (&b, &a)] {
                let shape = broadcast_shape(x.shape(), y.shape()).unwrap();
                let xv = x.array().broadcast(shape.as_slice()).unwrap();
                let yv = y.array().broadcast(shape.as_slice()).unwrap();
                let reference = Tensor::from_array(Zip::from(&xv).and(&yv).map_collect(|&p, &q| p - 2.0 * q));
                let got = zip_broadcast(x, y, |p, q| p - 2.0 * q);
                assert_eq!(got, reference, "{:?} with {:?}", x.shape(), y.shape());
            }
        }
    }
}
