//! The `Op` trait: one primitive operation, its forward computation and its VJP side by side.

use crate::{Float, Tensor, Var};

/// The gradients an op's VJP returns, one per input (`None` for an input that needs none).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Grads, Tape, Tensor};
///
/// // What a VJP of two inputs returns when only the first needs a gradient
/// // (see `Op` for a whole custom op).
/// let tape = Tape::<f64>::new();
/// let g = tape.scalar(1.0);
/// let grads: Grads<'_, f64> = vec![Some(g * 2.0), None];
/// assert_eq!(grads[0].unwrap().item(), 2.0);
/// assert!(grads[1].is_none());
/// ```
pub type Grads<'t, T> = Vec<Option<Var<'t, T>>>;

/// A primitive operation: how to compute its output, and how to pull a cotangent back.
///
/// Every built-in op implements this trait, and so can yours (a "custom op"): apply it with
/// [`Tape::apply`](crate::Tape::apply).
///
/// The one rule that makes gradients of every order work: **write `vjp` with differentiable
/// [`Var`] operations, never with raw arrays.** When the tape records the backward pass
/// (`grad_graph`), the VJP's own operations land on the tape and can be differentiated again.
/// A VJP that computes its result with raw arrays and wraps it as a fresh constant gets
/// first-order gradients right and every Hessian silently wrong; [`gradgradcheck`](crate::check::gradgradcheck)
/// catches exactly that.
///
/// # Example: a custom op
///
/// ```
/// use metagrad_autodiff::{Float, Grads, Op, Tape, Tensor, Var};
///
/// /// x^3, with d/dx = 3 x^2.
/// struct Cube;
///
/// impl<T: Float> Op<T> for Cube {
///     fn name(&self) -> &'static str { "cube" }
///     fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
///         inputs[0].map(|x| x * x * x)
///     }
///     fn vjp<'t>(&self, inputs: &[Var<'t, T>], _out: Var<'t, T>, grad: Var<'t, T>, _wants: &[bool]) -> Grads<'t, T> {
///         let x = inputs[0];
///         vec![Some(grad * x * x * T::of(3.0))] // Var ops only: this VJP is differentiable too
///     }
/// }
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::scalar(2.0));
/// let y = tape.apply(Cube, &[x]);
/// let dy = tape.grad_graph(y, &[x])[0];   // 3 x^2 = 12, recorded
/// let d2y = tape.grad(dy, &[x])[0].item(); // 6 x = 12
/// assert_eq!((y.item(), dy.item(), d2y), (8.0, 12.0, 12.0));
/// ```
pub trait Op<T: Float>: Send + Sync + 'static {
    /// A short name, used in panics and anomaly reports.
    fn name(&self) -> &'static str;

    /// Computes the output from the input values.
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T>;

    /// Pulls the cotangent `grad` of the output back to each input.
    ///
    /// `inputs` and `out` are this op's inputs and output as they sit on the tape. `wants[i]`
    /// is false when no gradient is needed for input `i`; an op may then return `None` there
    /// to save work. Each returned gradient must have its input's shape.
    fn vjp<'t>(&self, inputs: &[Var<'t, T>], out: Var<'t, T>, grad: Var<'t, T>, wants: &[bool]) -> Grads<'t, T>;
}
