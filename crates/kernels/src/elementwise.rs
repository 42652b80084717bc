//! Elementwise maps and whole-slice reductions.
//!
//! - `f32` runs on vectorisable approximations of `exp`, `ln`, `tanh` and the sigmoid
//!   (`fast_f32`), a few ulp from the correctly rounded value, compiled a second time with
//!   AVX2 + FMA and picked at run time. `f64`, which metagrad uses for exact gradient checks,
//!   keeps the standard library's functions.
//! - Long slices are cut into fixed blocks that rayon maps in parallel. A map's result does
//!   not depend on the cut; a reduction adds the blocks' partial results in block order, and
//!   the blocks have a fixed size, so sums too are the same on any number of threads.

use crate::{Element, Isa};

/// Elements per parallel block: a multiple of every vector width, fixed so that sums do not
/// depend on the thread count.
const BLOCK: usize = 1 << 14;

/// An elementwise function for [`unary`].
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{unary, Unary};
///
/// // In f64 every op is the standard library's function (or its definition).
/// let x = [-1.5, 0.5, 2.0];
/// let reference: [(Unary, fn(f64) -> f64); 5] = [
///     (Unary::Exp, f64::exp),
///     (Unary::Ln, f64::ln),
///     (Unary::Tanh, f64::tanh),
///     (Unary::Sigmoid, |v| 1.0 / (1.0 + (-v).exp())),
///     (Unary::Relu, |v| v.max(0.0)),
/// ];
/// for (op, f) in reference {
///     let mut out = [0.0; 3];
///     unary(op, &x, &mut out);
///     for (o, v) in out.iter().zip(x) {
///         // ln(-1.5) is NaN on both sides.
///         assert!((o - f(v)).abs() < 1e-15 || (o.is_nan() && f(v).is_nan()), "{op:?} at {v}");
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    /// `e^x`.
    Exp,
    /// Natural logarithm.
    Ln,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid, `1 / (1 + e^-x)`.
    Sigmoid,
    /// `max(x, 0)`.
    Relu,
}

/// `out[i] = op(x[i])`.
///
/// # Panics
/// If the slices differ in length.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{unary, Unary};
///
/// let x = [-2.0, 0.0, 3.0];
/// let mut out = [0.0; 3];
/// unary(Unary::Relu, &x, &mut out);
/// assert_eq!(out, [0.0, 0.0, 3.0]);
/// // f32 uses fast approximations, a few ulp from the exact value: e^1 = 2.71828...
/// let mut e = [0.0f32];
/// unary(Unary::Exp, &[1.0f32], &mut e);
/// assert!((e[0] - std::f32::consts::E).abs() <= 4.0 * f32::EPSILON * std::f32::consts::E);
/// ```
pub fn unary<T: Element>(op: Unary, x: &[T], out: &mut [T]) {
    assert_eq!(x.len(), out.len(), "unary {op:?}: input has {} elements, output {}", x.len(), out.len());
    let isa = Isa::detected();
    let run = |(x, out): (&[T], &mut [T])| T::unary_block(isa, op, x, out);
    #[cfg(feature = "rayon")]
    if x.len() > BLOCK {
        use rayon::prelude::*;
        x.par_chunks(BLOCK).zip(out.par_chunks_mut(BLOCK)).for_each(run);
        return;
    }
    run((x, out));
}

/// The sum of `x`, in a fixed order: blocks of `BLOCK` elements, each summed with eight
/// interleaved accumulators, then the block sums in order.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::sum;
///
/// // 1 + 2 + ... + 100 = 100 * 101 / 2.
/// let x: Vec<f64> = (1..=100).map(f64::from).collect();
/// assert_eq!(sum(&x), 5050.0);
/// assert_eq!(sum::<f32>(&[]), 0.0);
/// ```
pub fn sum<T: Element>(x: &[T]) -> T {
    reduce(x, T::ZERO, |a, b| a + b)
}

/// The largest element of `x` (NaN if any element is NaN), or `None` for an empty slice.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::max;
///
/// assert_eq!(max(&[3.0, -1.0, 7.5, 2.0]), Some(7.5));
/// assert_eq!(max::<f64>(&[]), None);
/// // A NaN anywhere wins, unlike f64::max, which skips it.
/// assert!(max(&[1.0, f64::NAN, 3.0]).unwrap().is_nan());
/// ```
pub fn max<T: Element>(x: &[T]) -> Option<T> {
    let first = *x.first()?;
    // `v != v` holds only for NaN; NaN wins, then the larger value.
    #[allow(clippy::eq_op)]
    let larger = |a: T, b: T| {
        if a != a {
            a
        } else if b != b || b > a {
            b
        } else {
            a
        }
    };
    Some(reduce(x, first, larger))
}

fn reduce<T: Element>(x: &[T], identity: T, combine: impl Fn(T, T) -> T + Copy + Send + Sync) -> T {
    let block = move |x: &[T]| {
        let mut lanes = [identity; 8];
        let mut chunks = x.chunks_exact(8);
        for chunk in &mut chunks {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                *lane = combine(*lane, v);
            }
        }
        let tail = chunks.remainder().iter().fold(identity, |a, &v| combine(a, v));
        let pairs = [
            combine(lanes[0], lanes[4]),
            combine(lanes[1], lanes[5]),
            combine(lanes[2], lanes[6]),
            combine(lanes[3], lanes[7]),
        ];
        combine(combine(combine(pairs[0], pairs[2]), combine(pairs[1], pairs[3])), tail)
    };
    #[cfg(feature = "rayon")]
    if x.len() > BLOCK {
        use rayon::prelude::*;
        let partials: Vec<T> = x.par_chunks(BLOCK).map(block).collect();
        return partials.into_iter().fold(identity, combine);
    }
    x.chunks(BLOCK).map(block).fold(identity, combine)
}

/// `f64` maps: the standard library's functions (exact references for gradient checks).
pub(crate) fn unary_block_f64(op: Unary, x: &[f64], out: &mut [f64]) {
    let f: fn(f64) -> f64 = match op {
        Unary::Exp => f64::exp,
        Unary::Ln => f64::ln,
        Unary::Tanh => f64::tanh,
        Unary::Sigmoid => |v| if v >= 0.0 { 1.0 / (1.0 + (-v).exp()) } else { v.exp() / (1.0 + v.exp()) },
        Unary::Relu => |v| if v > 0.0 || v.is_nan() { v } else { 0.0 },
    };
    out.iter_mut().zip(x).for_each(|(o, &v)| *o = f(v));
}

pub(crate) fn unary_block_f32(isa: Isa, op: Unary, x: &[f32], out: &mut [f32]) {
    match isa {
        #[cfg(all(target_arch = "x86_64", feature = "simd"))]
        // SAFETY: the guard checks that the CPU reports AVX2 and FMA.
        Isa::Avx2Fma if isa.is_supported() => unsafe { unary_f32_avx2(op, x, out) },
        _ => unary_f32(op, x, out),
    }
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(all(target_arch = "x86_64", feature = "simd"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn unary_f32_avx2(op: Unary, x: &[f32], out: &mut [f32]) {
    unary_f32(op, x, out)
}

/// The loops, one per op, inlined into the AVX2 copy above. Eight lanes at a time in a
/// fixed-size array, the shape the compiler's vectoriser handles best.
#[inline(always)]
fn unary_f32(op: Unary, x: &[f32], out: &mut [f32]) {
    use crate::fast_f32::{exp, ln, sigmoid, tanh};
    match op {
        Unary::Exp => map_lanes(x, out, exp),
        Unary::Ln => map_lanes(x, out, ln),
        Unary::Tanh => map_lanes(x, out, tanh),
        Unary::Sigmoid => map_lanes(x, out, sigmoid),
        Unary::Relu => map_lanes(x, out, |v| if v > 0.0 || v.is_nan() { v } else { 0.0 }),
    }
}

#[inline(always)]
fn map_lanes(x: &[f32], out: &mut [f32], f: impl Fn(f32) -> f32) {
    let mut out_chunks = out.chunks_exact_mut(8);
    let mut x_chunks = x.chunks_exact(8);
    for (o, v) in (&mut out_chunks).zip(&mut x_chunks) {
        let v: &[f32; 8] = v.try_into().expect("eight lanes");
        let o: &mut [f32; 8] = o.try_into().expect("eight lanes");
        *o = v.map(&f);
    }
    for (o, &v) in out_chunks.into_remainder().iter_mut().zip(x_chunks.remainder()) {
        *o = f(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_maps_match_std() {
        let x: Vec<f64> = (0..1000).map(|i| (i as f64 - 500.0) / 37.0).collect();
        let mut out = vec![0.0; x.len()];
        unary(Unary::Tanh, &x, &mut out);
        assert!(x.iter().zip(&out).all(|(v, o)| o.to_bits() == v.tanh().to_bits()));
        unary(Unary::Relu, &x, &mut out);
        assert!(x.iter().zip(&out).all(|(v, o)| *o == v.max(0.0)));
    }

    #[test]
    fn sum_and_max_in_a_fixed_order() {
        let x: Vec<f32> = (0..100_003).map(|i| ((i * 7919) % 1013) as f32 / 1013.0 - 0.4).collect();
        let exact: f64 = x.iter().map(|&v| f64::from(v)).sum();
        assert!((f64::from(sum(&x)) - exact).abs() < 1e-3 * exact.abs().max(1.0));
        assert_eq!(max(&x), x.iter().copied().reduce(f32::max));
        assert_eq!(max::<f32>(&[]), None);
        assert!(max(&[1.0, f32::NAN, 3.0]).unwrap().is_nan());
        #[cfg(feature = "rayon")]
        {
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| sum(&x));
            assert_eq!(one.to_bits(), sum(&x).to_bits());
        }
    }

    #[test]
    fn every_isa_maps_f32_within_a_few_ulp() {
        let x: Vec<f32> = (0..20_001).map(|i| (i as f32 - 10_000.0) / 500.0).collect();
        for isa in Isa::available() {
            for (op, reference) in [
                (Unary::Exp, (|v: f64| v.exp()) as fn(f64) -> f64),
                (Unary::Tanh, |v: f64| v.tanh()),
                (Unary::Sigmoid, |v: f64| 1.0 / (1.0 + (-v).exp())),
            ] {
                let mut out = vec![0.0f32; x.len()];
                unary_block_f32(isa, op, &x, &mut out);
                for (&v, &o) in x.iter().zip(&out) {
                    let want = reference(f64::from(v));
                    let err = (f64::from(o) - want).abs();
                    assert!(
                        err <= 4.0 * f64::from(f32::EPSILON) * want.abs() + 1e-37,
                        "{op:?} {isa:?} at {v}: {o} vs {want}"
                    );
                }
            }
            let positive: Vec<f32> = (1..20_001).map(|i| i as f32 / 97.0).chain([1e-30, 1.0, 3e38]).collect();
            let mut out = vec![0.0f32; positive.len()];
            unary_block_f32(isa, Unary::Ln, &positive, &mut out);
            for (&v, &o) in positive.iter().zip(&out) {
                let want = f64::from(v).ln();
                assert!(
                    (f64::from(o) - want).abs() <= 4.0 * f64::from(f32::EPSILON) * want.abs().max(1.0),
                    "ln {isa:?} at {v}: {o} vs {want}"
                );
            }
        }
    }
}
