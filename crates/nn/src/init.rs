//! Initialisers (Glorot & Bengio 2010; He et al. 2015). `fan_in`/`fan_out` of a weight of
//! shape `[out, in, k...]` (conv) or `[in, out]` (our linear layers) are passed explicitly.

use metagrad_autodiff::{Float, Tensor};
use rand::rngs::StdRng;

/// Xavier/Glorot uniform: `U[-a, a]`, `a = gain sqrt(6 / (fan_in + fan_out))`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::init::xavier_uniform;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // fan_in + fan_out = 600, so a = sqrt(6 / 600) = 0.1.
/// let w: Tensor<f64> = xavier_uniform(&[200, 400], 200, 400, 1.0, &mut StdRng::seed_from_u64(0));
/// assert_eq!(w.shape(), &[200, 400]);
/// let largest = w.to_vec().iter().fold(0.0f64, |m, v| m.max(v.abs()));
/// assert!(largest <= 0.1 && largest > 0.099);
/// ```
pub fn xavier_uniform<T: Float>(
    shape: &[usize],
    fan_in: usize,
    fan_out: usize,
    gain: f64,
    rng: &mut StdRng,
) -> Tensor<T> {
    let bound = gain * (6.0 / (fan_in + fan_out) as f64).sqrt();
    Tensor::uniform(shape, T::of(-bound), T::of(bound), rng)
}

/// Xavier/Glorot normal: `N(0, s^2)`, `s = gain sqrt(2 / (fan_in + fan_out))`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::init::xavier_normal;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // s^2 = 2 / (100 + 100) = 0.01; the sample variance of 10,000 draws is close to it.
/// let w: Tensor<f64> = xavier_normal(&[100, 100], 100, 100, 1.0, &mut StdRng::seed_from_u64(1));
/// let variance = w.to_vec().iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
/// assert!((variance - 0.01).abs() < 0.001, "variance {variance}");
/// ```
pub fn xavier_normal<T: Float>(
    shape: &[usize],
    fan_in: usize,
    fan_out: usize,
    gain: f64,
    rng: &mut StdRng,
) -> Tensor<T> {
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    Tensor::<T>::randn(shape, rng).map(|v| v * T::of(std))
}

/// He/Kaiming uniform for ReLU nets: `U[-a, a]`, `a = gain sqrt(3 / fan_in)`; `gain = sqrt(2)`
/// for ReLU, 1 for linear.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::init::kaiming_uniform;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // A conv weight [out, in, k, k] with fan_in = 3 * 5 * 5 = 75 and the ReLU gain:
/// // a = sqrt(2) sqrt(3 / 75) = sqrt(0.08).
/// let w: Tensor<f32> = kaiming_uniform(&[8, 3, 5, 5], 75, 2f64.sqrt(), &mut StdRng::seed_from_u64(2));
/// let bound = 0.08f32.sqrt();
/// assert!(w.to_vec().iter().all(|v| v.abs() <= bound * 1.0001));
/// ```
pub fn kaiming_uniform<T: Float>(shape: &[usize], fan_in: usize, gain: f64, rng: &mut StdRng) -> Tensor<T> {
    let bound = gain * (3.0 / fan_in as f64).sqrt();
    Tensor::uniform(shape, T::of(-bound), T::of(bound), rng)
}

/// He/Kaiming normal: `N(0, s^2)`, `s = gain / sqrt(fan_in)`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::init::kaiming_normal;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // With the ReLU gain sqrt(2) and fan_in = 50: s^2 = 2 / 50 = 0.04.
/// let w: Tensor<f64> = kaiming_normal(&[50, 200], 50, 2f64.sqrt(), &mut StdRng::seed_from_u64(3));
/// let variance = w.to_vec().iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
/// assert!((variance - 0.04).abs() < 0.004, "variance {variance}");
/// ```
pub fn kaiming_normal<T: Float>(shape: &[usize], fan_in: usize, gain: f64, rng: &mut StdRng) -> Tensor<T> {
    let std = gain / (fan_in as f64).sqrt();
    Tensor::<T>::randn(shape, rng).map(|v| v * T::of(std))
}

/// A constant tensor (zeros, ones, or any value).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::init::constant;
///
/// let bias: Tensor<f32> = constant(&[2, 3], 0.5);
/// assert_eq!(bias.shape(), &[2, 3]);
/// assert_eq!(bias.to_vec(), vec![0.5; 6]);
/// ```
pub fn constant<T: Float>(shape: &[usize], value: f64) -> Tensor<T> {
    Tensor::full(shape, T::of(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn spreads_match_their_formulas() {
        let mut rng = StdRng::seed_from_u64(0);
        let w: Tensor<f64> = kaiming_normal(&[200, 100], 100, 2f64.sqrt(), &mut rng);
        let var = w.to_vec().iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
        assert!((var - 2.0 / 100.0).abs() < 0.002, "variance {var}");
        let u: Tensor<f64> = xavier_uniform(&[50, 50], 50, 50, 1.0, &mut rng);
        let bound = (6.0f64 / 100.0).sqrt();
        assert!(u.to_vec().iter().all(|v| v.abs() <= bound));
        assert_eq!(constant::<f32>(&[2], 0.5).to_vec(), vec![0.5, 0.5]);
    }
}
