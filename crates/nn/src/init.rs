//! Initialisers (Glorot & Bengio 2010; He et al. 2015). `fan_in`/`fan_out` of a weight of
//! shape `[out, in, k...]` (conv) or `[in, out]` (our linear layers) are passed explicitly.

use metagrad_autodiff::{Float, Tensor};
use rand::rngs::StdRng;

/// Xavier/Glorot uniform: `U[-a, a]`, `a = gain sqrt(6 / (fan_in + fan_out))`.
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
pub fn kaiming_uniform<T: Float>(shape: &[usize], fan_in: usize, gain: f64, rng: &mut StdRng) -> Tensor<T> {
    let bound = gain * (3.0 / fan_in as f64).sqrt();
    Tensor::uniform(shape, T::of(-bound), T::of(bound), rng)
}

/// He/Kaiming normal: `N(0, s^2)`, `s = gain / sqrt(fan_in)`.
pub fn kaiming_normal<T: Float>(shape: &[usize], fan_in: usize, gain: f64, rng: &mut StdRng) -> Tensor<T> {
    let std = gain / (fan_in as f64).sqrt();
    Tensor::<T>::randn(shape, rng).map(|v| v * T::of(std))
}

/// A constant tensor (zeros, ones, or any value).
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
