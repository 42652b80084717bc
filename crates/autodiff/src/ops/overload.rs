//! Operator overloading: `+ - * /` and unary `-` for Var with Var and with scalars, in both
//! orders. Scalar-on-the-left forms are written for `f32` and `f64` (Rust's orphan rule
//! rules out a generic `impl<T> Add<Var<T>> for T`).

use super::arith;
use crate::{Float, Var};
use std::ops::{Add, Div, Mul, Neg, Sub};

impl<'t, T: Float> Add for Var<'t, T> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.broadcasting(rhs, arith::Add)
    }
}
impl<'t, T: Float> Sub for Var<'t, T> {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.broadcasting(rhs, arith::Sub)
    }
}
impl<'t, T: Float> Mul for Var<'t, T> {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.broadcasting(rhs, arith::Mul)
    }
}
impl<'t, T: Float> Div for Var<'t, T> {
    type Output = Self;
    fn div(self, rhs: Self) -> Self {
        self.broadcasting(rhs, arith::Div)
    }
}
impl<'t, T: Float> Neg for Var<'t, T> {
    type Output = Self;
    fn neg(self) -> Self {
        self.tape.apply(arith::Neg, &[self])
    }
}
impl<'t, T: Float> Add<T> for Var<'t, T> {
    type Output = Self;
    fn add(self, c: T) -> Self {
        self.add_scalar(c)
    }
}
impl<'t, T: Float> Sub<T> for Var<'t, T> {
    type Output = Self;
    fn sub(self, c: T) -> Self {
        self.add_scalar(-c)
    }
}
impl<'t, T: Float> Mul<T> for Var<'t, T> {
    type Output = Self;
    fn mul(self, c: T) -> Self {
        self.mul_scalar(c)
    }
}
impl<'t, T: Float> Div<T> for Var<'t, T> {
    type Output = Self;
    fn div(self, c: T) -> Self {
        self.mul_scalar(T::one() / c)
    }
}

macro_rules! scalar_on_the_left {
    ($t:ty) => {
        impl<'t> Add<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn add(self, v: Var<'t, $t>) -> Var<'t, $t> {
                v.add_scalar(self)
            }
        }
        impl<'t> Sub<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn sub(self, v: Var<'t, $t>) -> Var<'t, $t> {
                (-v).add_scalar(self)
            }
        }
        impl<'t> Mul<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn mul(self, v: Var<'t, $t>) -> Var<'t, $t> {
                v.mul_scalar(self)
            }
        }
        impl<'t> Div<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn div(self, v: Var<'t, $t>) -> Var<'t, $t> {
                v.recip().mul_scalar(self)
            }
        }
    };
}
scalar_on_the_left!(f32);
scalar_on_the_left!(f64);
