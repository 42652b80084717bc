//! Selection by a mask: `select` (where), and `maximum`/`minimum` built on it.

use crate::{Float, Grads, Op, Tensor, Var};
use ndarray::{ArcArray, IxDyn, Zip};

/// A boolean mask for [`select`]; build one with [`Var::mask`].
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Mask, Tape, Tensor};
/// use ndarray::{ArrayD, IxDyn};
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(&[3], vec![-1.0, 0.0, 2.0]));
/// let positive: Mask = x.mask(|v| v > 0.0);
/// // The same mask built directly, as any ndarray array of bool:
/// let direct: Mask = ArrayD::from_shape_vec(IxDyn(&[3]), vec![false, false, true]).unwrap().into_shared();
/// assert_eq!(positive, direct);
/// ```
pub type Mask = ArcArray<bool, IxDyn>;

struct Select(Mask);
impl<T: Float> Op<T> for Select {
    fn name(&self) -> &'static str {
        "select"
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> {
        let out =
            Zip::from(&self.0).and(x[0].array()).and(x[1].array()).map_collect(|&m, &a, &b| if m { a } else { b });
        Tensor::from_array(out)
    }
    // The cotangent goes to whichever input was picked; the other gets zero there.
    fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, wants: &[bool]) -> Grads<'t, T> {
        let zeros = g.constant(Tensor::zeros(&g.shape()));
        let pick = |a, b| g.tape.apply(Select(self.0.clone()), &[a, b]);
        vec![wants[0].then(|| pick(g, zeros)), wants[1].then(|| pick(zeros, g))]
    }
}

/// Elementwise `if mask { on_true } else { on_false }`. Both operands are broadcast to the
/// mask's shape.
///
/// # Panics
/// If an operand does not broadcast to the mask's shape.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{select, Tape, Tensor};
///
/// let tape = Tape::<f64>::new();
/// let a = tape.var(Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0]));
/// let b = tape.var(Tensor::scalar(-1.0)); // broadcast to the mask's shape
/// let y = select(&a.mask(|v| v != 2.0), a, b);
/// assert_eq!(y.value().to_vec(), vec![1.0, -1.0, 3.0]);
/// let g = tape.grad(y.sum(), &[a, b]);
/// assert_eq!(g[0].to_vec(), vec![1.0, 0.0, 1.0]); // where `a` was picked
/// assert_eq!(g[1].item(), 1.0); // `b` was picked once
/// ```
pub fn select<'t, T: Float>(mask: &Mask, on_true: Var<'t, T>, on_false: Var<'t, T>) -> Var<'t, T> {
    let shape = mask.shape();
    let (a, b) = (on_true.broadcast_to(shape), on_false.broadcast_to(shape));
    a.tape.apply(Select(mask.clone()), &[a, b])
}

impl<'t, T: Float> Var<'t, T> {
    /// A mask holding `predicate` of each element of the value (not differentiable).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2, 2], vec![-1.0, 0.0, 2.0, -3.0]));
    /// let m = x.mask(|v| v >= 0.0);
    /// assert_eq!(m.shape(), &[2, 2]);
    /// assert_eq!(m.iter().copied().collect::<Vec<_>>(), vec![false, true, true, false]);
    /// ```
    pub fn mask(self, predicate: impl Fn(T) -> bool) -> Mask {
        self.value().array().map(|&v| predicate(v)).into_shared()
    }

    /// Elementwise maximum, broadcasting; at a tie the gradient goes to `self`; a NaN on either
    /// side gives NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Tensor::from_vec(&[3], vec![1.0, 5.0, 2.0]));
    /// let b = tape.var(Tensor::scalar(2.0));
    /// let y = a.maximum(b);
    /// assert_eq!(y.value().to_vec(), vec![2.0, 5.0, 2.0]);
    /// let g = tape.grad(y.sum(), &[a, b]);
    /// assert_eq!(g[0].to_vec(), vec![0.0, 1.0, 1.0]); // the tie at index 2 goes to `a`
    /// assert_eq!(g[1].item(), 1.0);
    /// assert!(tape.scalar(1.0).maximum(tape.scalar(f64::NAN)).item().is_nan());
    /// ```
    pub fn maximum(self, other: Self) -> Self {
        let (a, b) = self.broadcast_pair(other, "maximum");
        let a_wins = Zip::from(a.value().array())
            .and(b.value().array())
            .map_collect(|&x, &y| x >= y || x.is_nan())
            .into_shared();
        select(&a_wins, a, b)
    }

    /// Elementwise minimum, broadcasting; at a tie the gradient goes to `self`; a NaN on either
    /// side gives NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Tensor::from_vec(&[3], vec![1.0, 5.0, 2.0]));
    /// let b = tape.var(Tensor::scalar(2.0));
    /// let y = a.minimum(b);
    /// assert_eq!(y.value().to_vec(), vec![1.0, 2.0, 2.0]);
    /// let g = tape.grad(y.sum(), &[a, b]);
    /// assert_eq!(g[0].to_vec(), vec![1.0, 0.0, 1.0]); // the tie at index 2 goes to `a`
    /// assert_eq!(g[1].item(), 1.0);
    /// assert!(tape.scalar(f64::NAN).minimum(tape.scalar(1.0)).item().is_nan());
    /// ```
    pub fn minimum(self, other: Self) -> Self {
        let (a, b) = self.broadcast_pair(other, "minimum");
        let a_wins = Zip::from(a.value().array())
            .and(b.value().array())
            .map_collect(|&x, &y| x <= y || x.is_nan())
            .into_shared();
        select(&a_wins, a, b)
    }
}
