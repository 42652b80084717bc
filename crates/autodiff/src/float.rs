use metagrad_kernels::Element;
use ndarray::NdFloat;
use num_traits::FromPrimitive;

/// The floating-point types a tape can hold: `f32` for speed, `f64` for exact gradient checks.
pub trait Float: NdFloat + FromPrimitive + Element + Default {
    /// Converts an `f64` constant (a literal in an op's formula) to this type.
    fn of(x: f64) -> Self;
}

impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
}

impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
}
