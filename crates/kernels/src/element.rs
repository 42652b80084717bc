use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul};

/// A floating-point type the kernels are specialised for (`f32` and `f64`).
pub trait Element:
    Copy + Send + Sync + Debug + PartialEq + Add<Output = Self> + Mul<Output = Self> + AddAssign + 'static
{
    /// Additive identity.
    const ZERO: Self;
}

impl Element for f32 {
    const ZERO: Self = 0.0;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
}
