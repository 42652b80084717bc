//! Linear solve, `X = A^{-1} B`, by LU factorisation with partial pivoting.
//!
//! The VJP follows from differentiating `A X = B`: `dA X + A dX = dB`, so
//! `dX = A^{-1} (dB - dA X)`. Pulling a cotangent `G` of `X` back gives
//!
//! ```text
//! B_bar = A^{-T} G          (one more solve, with the transposed matrix)
//! A_bar = -B_bar X^T
//! ```
//!
//! Both are written with `solve`, `t` and `matmul` on the tape, so the backward pass is itself
//! differentiable: gradients of every order (the closed-form ridge head of R2D2 needs the
//! second, because MAML-style meta-training differentiates through it).
//!
//! The matrices here are small (a few-shot support set, a ridge system of tens of rows), so
//! the factorisation is a plain O(n^3) loop: no blocking, no threads.

use crate::{Float, Grads, Op, Tensor, Var};

struct Solve;
impl<T: Float> Op<T> for Solve {
    fn name(&self) -> &'static str {
        "solve"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let (a, b) = (x[0], x[1]);
        let (n, m) = (a.shape()[0], b.shape()[1]);
        let mut lu = a.to_vec();
        let mut rhs = b.to_vec();
        lu_factor_solve(&mut lu, n, &mut rhs, m);
        Tensor::from_vec(&[n, m], rhs)
    }
    fn vjp<'t>(&self, x: &[Var<'t, T>], out: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let a = x[0];
        let b_bar = a.t().solve(g);
        let a_bar = wants[0].then(|| -b_bar.matmul(out.t()));
        vec![a_bar, wants[1].then_some(b_bar)]
    }
}

/// Solves `A X = B` in place: `a` (`n x n`, row-major) is overwritten by its LU factors and
/// `b` (`n x m`, row-major) by `X`. A singular matrix gives infinite or NaN entries (a zero
/// pivot divides), which anomaly mode reports like any other non-finite value.
fn lu_factor_solve<T: Float>(a: &mut [T], n: usize, b: &mut [T], m: usize) {
    for col in 0..n {
        // Partial pivoting: the largest magnitude in this column moves to the diagonal.
        let pivot = (col..n).fold(col, |best, r| if a[r * n + col].abs() > a[best * n + col].abs() { r } else { best });
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
            }
            for k in 0..m {
                b.swap(col * m + k, pivot * m + k);
            }
        }
        let diag = a[col * n + col];
        for r in col + 1..n {
            let factor = a[r * n + col] / diag;
            a[r * n + col] = factor;
            for k in col + 1..n {
                let upper = a[col * n + k];
                a[r * n + k] -= factor * upper;
            }
            for k in 0..m {
                let upper = b[col * m + k];
                b[r * m + k] -= factor * upper;
            }
        }
    }
    // Back substitution with the upper factor.
    for r in (0..n).rev() {
        for k in 0..m {
            let mut acc = b[r * m + k];
            for c in r + 1..n {
                acc -= a[r * n + c] * b[c * m + k];
            }
            b[r * m + k] = acc / a[r * n + r];
        }
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// `A^{-1} B` for a square `A` (`self`, `[n, n]`) and `B` (`[n, m]`), by LU factorisation
    /// with partial pivoting; differentiable to every order in both arguments.
    ///
    /// A singular `A` gives non-finite entries (anomaly mode names the op).
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Tensor::from_vec(&[2, 2], vec![2.0, 1.0, 1.0, 3.0]));
    /// let b = tape.var(Tensor::from_vec(&[2, 1], vec![3.0, 5.0]));
    /// let x = a.solve(b); // 2 x0 + x1 = 3, x0 + 3 x1 = 5
    /// assert!(x.value().max_abs_diff(&Tensor::from_vec(&[2, 1], vec![0.8, 1.4])) < 1e-12);
    /// ```
    ///
    /// # Panics
    /// If `A` is not square, either operand is not 2-D, or the row counts differ.
    pub fn solve(self, b: Self) -> Self {
        let (sa, sb) = (self.shape(), b.shape());
        assert!(
            sa.len() == 2 && sb.len() == 2 && sa[0] == sa[1] && sb[0] == sa[0],
            "solve: needs a square [n, n] matrix and an [n, m] right-hand side, got {sa:?} and {sb:?}"
        );
        self.tape.apply(Solve, &[self, b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tape;

    #[test]
    fn solves_a_system_that_needs_pivoting() {
        // The leading entry is zero: without row exchanges the first division fails.
        let tape = Tape::<f64>::new();
        let a = tape.constant(Tensor::from_vec(&[3, 3], vec![0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 3.0, 0.0, 1.0]));
        let x_true = Tensor::from_vec(&[3, 2], vec![1.0, -1.0, 2.0, 0.5, -3.0, 4.0]);
        let b = a.matmul(tape.constant(x_true.clone()));
        assert!(a.solve(b).value().max_abs_diff(&x_true) < 1e-12);
    }

    #[test]
    fn singular_matrix_gives_non_finite_values() {
        let tape = Tape::<f64>::new();
        let a = tape.constant(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 2.0, 4.0]));
        let b = tape.constant(Tensor::ones(&[2, 1]));
        assert!(!a.solve(b).value().is_finite());
    }

    #[test]
    #[should_panic(expected = "solve: needs a square")]
    fn non_square_matrix_is_named() {
        let tape = Tape::<f64>::new();
        tape.constant(Tensor::zeros(&[2, 3])).solve(tape.constant(Tensor::zeros(&[2, 1])));
    }
}
