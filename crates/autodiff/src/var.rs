//! `Var<'t, T>`: a `Copy` handle to a value on a tape.

use crate::{Float, Tape, Tensor};
use std::fmt;

/// A value on a [`Tape`]: a tape reference and a node id. `Copy`, so math reads like math:
/// `(x.matmul(w) + b).relu()`.
///
/// The methods that compute new values (`exp`, `matmul`, `sum_axes`, ...) live beside each
/// op's VJP in the `ops` modules.
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
    pub fn tape(&self) -> &'t Tape<T> {
        self.tape
    }

    /// The node id on the tape (its position in the Wengert list).
    pub fn id(&self) -> usize {
        self.id
    }

    pub(crate) fn tape_id(&self) -> usize {
        self.tape.id()
    }

    /// The value (shares storage, no copy).
    pub fn value(&self) -> Tensor<T> {
        self.tape.value(self.id)
    }

    /// The shape of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.tape.with_value(self.id, |v| v.shape().to_vec())
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.tape.with_value(self.id, |v| v.ndim())
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.tape.with_value(self.id, |v| v.len())
    }

    /// True when the value holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single element of a one-element Var.
    ///
    /// # Panics
    /// If the Var does not hold exactly one element.
    pub fn item(&self) -> T {
        self.tape.with_value(self.id, |v| v.item())
    }

    /// True when gradients can flow into this Var (it depends on a [`Tape::var`] leaf and was
    /// recorded).
    pub fn requires_grad(&self) -> bool {
        self.tape.requires_grad(self.id)
    }

    /// The same value as a constant: gradients stop here (stop_gradient). No copy.
    pub fn detach(self) -> Self {
        self.tape.constant(self.value())
    }

    /// A constant on the same tape as `self`.
    pub fn constant(self, value: Tensor<T>) -> Self {
        self.tape.constant(value)
    }
}

impl<T: Float> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var#{} {:?}", self.id, self.value())
    }
}
