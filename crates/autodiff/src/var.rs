//! `Var<'t, T>`: a `Copy` handle to a value on a tape.

use crate::{Float, Tape, Tensor};
use std::fmt;

/// A value on a [`Tape`]: a tape reference and a node id. `Copy`, so math reads like math:
/// `(x.matmul(w) + b).relu()`.
///
/// The methods that compute new values (`exp`, `matmul`, `sum_axes`, ...) live beside each
/// op's VJP in the `ops` modules.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(Tensor::from_vec(&[1, 2], vec![1.0, 2.0]));
/// let w = tape.var(Tensor::from_vec(&[2, 1], vec![3.0, 4.0]));
/// let b = tape.var(Tensor::scalar(0.5));
/// let y = (x.matmul(w) + b).relu(); // relu(1 * 3 + 2 * 4 + 0.5)
/// assert_eq!(y.item(), 11.5);
/// let g = tape.grad(y, &[w, b]); // w and b are Copy: still usable here
/// assert_eq!(g[0].to_vec(), vec![1.0, 2.0]); // x^T
/// assert_eq!(g[1].item(), 1.0);
/// ```
#[derive(Clone, Copy)]
pub struct Var<'t, T: Float> {
    pub(crate) tape: &'t Tape<T>,
    pub(crate) id: usize,
}

impl<'t, T: Float> Var<'t, T> {
    pub(crate) fn new(tape: &'t Tape<T>, id: usize) -> Self {
        Var { tape, id }
    }

    /// The tape this Var lives on.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(1.5));
    /// assert!(std::ptr::eq(x.tape(), &tape));
    /// let two = x.tape().scalar(2.0); // reach the tape without passing it around
    /// assert_eq!(x.tape().grad(x * two, &[x])[0].item(), 2.0);
    /// ```
    pub fn tape(&self) -> &'t Tape<T> {
        self.tape
    }

    /// The node id on the tape (its position in the Wengert list).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Tensor::scalar(1.0));
    /// let b = tape.var(Tensor::scalar(2.0));
    /// let c = a + b;
    /// assert_eq!((a.id(), b.id(), c.id()), (0, 1, 2)); // inputs come before the op
    /// ```
    pub fn id(&self) -> usize {
        self.id
    }

    pub(crate) fn tape_id(&self) -> usize {
        self.tape.id()
    }

    /// The value (shares storage, no copy).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let t = Tensor::from_vec(&[2], vec![0.0, 1.0]);
    /// let x = tape.var(t.clone());
    /// assert_eq!(x.value().array().as_ptr(), t.array().as_ptr()); // no copy
    /// assert_eq!(x.exp().value().to_vec(), vec![1.0, 1f64.exp()]);
    /// ```
    pub fn value(&self) -> Tensor<T> {
        self.tape.value(self.id)
    }

    /// The shape of the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::zeros(&[2, 3]));
    /// assert_eq!(x.shape(), vec![2, 3]);
    /// assert_eq!(x.t().shape(), vec![3, 2]);
    /// assert_eq!(x.sum().shape(), Vec::<usize>::new());
    /// ```
    pub fn shape(&self) -> Vec<usize> {
        self.tape.with_value(self.id, |v| v.shape().to_vec())
    }

    /// The number of axes.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::zeros(&[2, 3, 4]));
    /// assert_eq!(x.ndim(), 3);
    /// assert_eq!(x.sum().ndim(), 0);
    /// ```
    pub fn ndim(&self) -> usize {
        self.tape.with_value(self.id, |v| v.ndim())
    }

    /// The number of elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::zeros(&[2, 3]));
    /// assert_eq!(x.len(), 6);
    /// assert_eq!(x.sum().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.tape.with_value(self.id, |v| v.len())
    }

    /// True when the value holds no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// assert!(tape.var(Tensor::zeros(&[0, 3])).is_empty());
    /// assert!(!tape.scalar(0.0).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single element of a one-element Var.
    ///
    /// # Panics
    /// If the Var does not hold exactly one element.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0]));
    /// assert_eq!(x.sum().item(), 6.0);
    /// assert_eq!(x.reshape(&[1, 3]).narrow(1, 2, 1).item(), 3.0); // shape [1, 1]: one element
    /// ```
    pub fn item(&self) -> T {
        self.tape.with_value(self.id, |v| v.item())
    }

    /// True when gradients can flow into this Var (it depends on a [`Tape::var`] leaf and was
    /// recorded).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(1.0));
    /// let c = tape.scalar(2.0);
    /// assert!(x.requires_grad() && (x * c).requires_grad()); // a leaf and what depends on it
    /// assert!(!c.requires_grad() && !(c * c).requires_grad());
    /// assert!(!x.detach().requires_grad());
    /// assert!(!tape.no_grad(|| x * c).requires_grad());
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.tape.requires_grad(self.id)
    }

    /// The same value as a constant: gradients stop here (stop_gradient). No copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(3.0));
    /// let y = x * x.detach(); // the second factor is a constant 3
    /// assert_eq!(y.item(), 9.0);
    /// assert_eq!(tape.grad(y, &[x])[0].item(), 3.0); // not 2 x = 6
    /// ```
    pub fn detach(self) -> Self {
        self.tape.constant(self.value())
    }

    /// A constant on the same tape as `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 2.0]));
    /// let w = x.constant(Tensor::from_vec(&[2], vec![10.0, 20.0]));
    /// assert!(!w.requires_grad());
    /// assert!(std::ptr::eq(w.tape(), x.tape()));
    /// assert_eq!(tape.grad((x * w).sum(), &[x])[0].to_vec(), vec![10.0, 20.0]);
    /// ```
    pub fn constant(self, value: Tensor<T>) -> Self {
        self.tape.constant(value)
    }
}

impl<T: Float> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var#{} {:?}", self.id, self.value())
    }
}
