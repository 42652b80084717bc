//! Higher-level derivatives built on `grad`, `grad_graph` and `vjp`: Hessian-vector
//! products, Jacobians and Hessians.

use crate::{Float, Tape, Tensor, Var};

impl<T: Float> Tape<T> {
    /// Hessian-vector products `H v` of the scalar `y` with respect to `xs`, one per input,
    /// where `H` is the Hessian over all of `xs` jointly and `vs[i]` has `xs[i]`'s shape.
    ///
    /// Computed as the gradient of `<grad y, v>`: double backward, never forming `H`.
    ///
    /// # Panics
    /// If `y` is not scalar, or a direction's shape differs from its input's.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Tensor::scalar(1.0));
    /// let b = tape.var(Tensor::scalar(2.0));
    /// let y = a * a * b;
    /// // The joint Hessian of a^2 b is [[2b, 2a], [2a, 0]] = [[4, 2], [2, 0]] at (1, 2),
    /// // so H (1, 1) = (6, 2).
    /// let hv = tape.hvp(y, &[a, b], &[Tensor::scalar(1.0), Tensor::scalar(1.0)]);
    /// assert_eq!((hv[0].item(), hv[1].item()), (6.0, 2.0));
    /// ```
    pub fn hvp(&self, y: Var<'_, T>, xs: &[Var<'_, T>], vs: &[Tensor<T>]) -> Vec<Tensor<T>> {
        assert_eq!(xs.len(), vs.len(), "hvp: {} inputs but {} directions", xs.len(), vs.len());
        for (k, (x, v)) in xs.iter().zip(vs).enumerate() {
            assert_eq!(
                x.shape(),
                v.shape(),
                "hvp: direction {k} has shape {:?}, its input has shape {:?}",
                v.shape(),
                x.shape()
            );
        }
        let grads = self.grad_graph(y, xs);
        let inner = grads
            .iter()
            .zip(vs)
            .map(|(g, v)| (*g * self.constant(v.clone())).sum())
            .reduce(|a, b| a + b)
            .expect("at least one input");
        self.grad(inner, xs)
    }
}

/// The Jacobian of `f` at `x`: shape `f(x).shape ++ x.shape`, one VJP per output element.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{jacobian, Tensor};
///
/// // f(x)_i = x_i * sum(x), so df_i/dx_j = [i == j] sum(x) + x_i.
/// let x = Tensor::from_vec(&[2], vec![1.0f64, 3.0]);
/// let j = jacobian(|v| v * v.sum(), &x);
/// assert_eq!(j.shape(), &[2, 2]); // output shape, then input shape
/// assert_eq!(j.to_vec(), vec![5.0, 1.0, 3.0, 7.0]);
/// ```
pub fn jacobian<T: Float, F>(f: F, x: &Tensor<T>) -> Tensor<T>
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xv = tape.var(x.clone());
    let y = f(xv);
    rows_of(&tape, y, xv)
}

/// The Hessian of the scalar function `f` at `x`: shape `x.shape ++ x.shape`. Meant for small
/// inputs (one backward pass per element of `x`).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{hessian, Tensor};
///
/// // f(x) = sum(x^2) sum(x): H_ij = 2 [i == j] sum(x) + 2 x_i + 2 x_j.
/// let x = Tensor::from_vec(&[2], vec![1.0f64, 2.0]);
/// let h = hessian(|v| (v * v).sum() * v.sum(), &x);
/// assert_eq!(h.shape(), &[2, 2]);
/// assert_eq!(h.to_vec(), vec![10.0, 6.0, 6.0, 14.0]);
/// ```
pub fn hessian<T: Float, F>(f: F, x: &Tensor<T>) -> Tensor<T>
where
    F: for<'t> Fn(Var<'t, T>) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xv = tape.var(x.clone());
    let y = f(xv);
    let g = tape.grad_graph(y, &[xv])[0];
    rows_of(&tape, g, xv)
}

/// Stacks `d y[i] / d x` for every element `i` of `y`.
fn rows_of<T: Float>(tape: &Tape<T>, y: Var<'_, T>, x: Var<'_, T>) -> Tensor<T> {
    let (y_shape, x_shape) = (y.shape(), x.shape());
    let mut data = Vec::with_capacity(y.len() * x.len());
    for i in 0..y.len() {
        let mut seed = vec![T::zero(); y.len()];
        seed[i] = T::one();
        let row = tape.vjp(y, &[x], &Tensor::from_vec(&y_shape, seed));
        data.extend(row[0].to_vec());
    }
    Tensor::from_vec(&[y_shape, x_shape].concat(), data)
}
