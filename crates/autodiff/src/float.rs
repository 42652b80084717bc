use metagrad_kernels::Element;
use ndarray::NdFloat;
use num_traits::FromPrimitive;

/// The floating-point types a tape can hold: `f32` for speed, `f64` for exact gradient checks.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Float;
///
/// // Generic code for both widths, its constants written once as f64 literals.
/// fn half<T: Float>(x: T) -> T {
///     x * T::of(0.5)
/// }
/// assert_eq!(half(3.0f32), 1.5f32);
/// assert_eq!(half(3.0f64), 1.5f64);
/// assert_eq!(<f32 as Float>::of(0.1), 0.1f32); // rounded to the nearest f32
/// ```
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
