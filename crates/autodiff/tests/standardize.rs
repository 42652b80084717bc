//! The fused per-channel standardisation (`Var::standardize_channels`, batch-norm's core):
//! first- and second-order gradient checks against central differences, and agreement, to
//! third order, with the same function composed from primitives.

use metagrad_autodiff::check::{function, gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::strategies::tensor_of;
use metagrad_autodiff::{channel_moments, Tape, Tensor, Var};
use proptest::collection::vec;
use proptest::prelude::*;

/// `[N, C, ...]` shapes of rank 2 to 4, small enough for full Jacobians.
fn channel_shape() -> impl Strategy<Value = Vec<usize>> {
    (1usize..=3, 1usize..=3, vec(1usize..=3, 0..=2)).prop_map(|(n, c, rest)| {
        let mut shape = vec![n, c];
        shape.extend(rest);
        shape
    })
}

/// The same standardisation from primitives: `(x - mean) / sqrt(var + eps)`.
fn composed<'t>(x: Var<'t, f64>, eps: f64) -> Var<'t, f64> {
    let axes: Vec<usize> = (0..x.shape().len()).filter(|&a| a != 1).collect();
    let centred = x - x.mean_axes(&axes, true);
    centred / (centred.square().mean_axes(&axes, true) + eps).sqrt()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    // The output is weighted by a fixed random tensor, so that every output element's
    // cotangent differs (a plain sum of a standardised channel is identically zero).
    #[test]
    fn standardize_channels_first_and_second_order(
        (x, w) in channel_shape().prop_flat_map(|s| (tensor_of(s.clone(), -2.0, 2.0), tensor_of(s, -1.0, 1.0))),
        eps in 0.05f64..1.0,
    ) {
        let f = function(move |v| v[0].standardize_channels(eps) * v[1]);
        let tolerance = Tolerance::default();
        let first = gradcheck(f, &[x.clone(), w.clone()], &tolerance);
        prop_assert!(first.passed, "{}", first);
        let second = gradgradcheck(f, &[x, w], &tolerance);
        prop_assert!(second.passed, "{}", second);
    }

    // Values, gradients, Hessian-vector products and one third-order directional derivative
    // of the fused op and of the composed one agree to rounding.
    #[test]
    fn standardize_channels_equals_its_composition_to_third_order(
        (x, w, v) in channel_shape().prop_flat_map(|s| (
            tensor_of(s.clone(), -2.0, 2.0), tensor_of(s.clone(), -1.0, 1.0), tensor_of(s, -1.0, 1.0))),
        eps in 1e-5f64..1.0,
    ) {
        let derivatives = |fused: bool| {
            let tape = Tape::new();
            let xv = tape.var(x.clone());
            let (wc, vc) = (tape.constant(w.clone()), tape.constant(v.clone()));
            let y = if fused { xv.standardize_channels(eps) } else { composed(xv, eps) };
            let loss = ((y * wc).square()).sum();
            let g = tape.grad_graph(loss, &[xv])[0];
            let hv = tape.grad_graph((g * vc).sum(), &[xv])[0];
            let third = tape.grad((hv * vc).sum(), &[xv])[0].clone();
            [y.value(), g.value(), hv.value(), third]
        };
        let (fused, reference) = (derivatives(true), derivatives(false));
        for (order, (a, b)) in fused.iter().zip(&reference).enumerate() {
            let scale = b.to_vec().iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (p, q) in a.to_vec().iter().zip(b.to_vec()) {
                prop_assert!((p - q).abs() <= 1e-9 * scale, "order {order}: fused {p} vs composed {q}");
            }
        }
    }
}

#[test]
fn channel_moments_are_the_per_channel_mean_and_biased_variance() {
    // Two images, two channels of three pixels.
    let x = Tensor::from_vec(&[2, 2, 3], vec![1.0, 2.0, 3.0, 0.0, 0.0, 6.0, 5.0, 6.0, 7.0, 2.0, 2.0, 2.0]);
    let (mean, var) = channel_moments(&x);
    assert_eq!(mean.to_vec(), vec![4.0, 2.0]);
    // Channel 0: 1 2 3 5 6 7, squared deviations 9 4 1 1 4 9; channel 1: 0 0 6 2 2 2, 4 4 16 0 0 0.
    assert_eq!(var.to_vec(), vec![28.0 / 6.0, 24.0 / 6.0]);
}

#[test]
fn standardized_channels_have_zero_mean_and_unit_variance() {
    let values: Vec<f64> = (0..2 * 3 * 20).map(|k| ((k * 37 % 17) as f64).sin() * 3.0 + (k % 3) as f64).collect();
    let x = Tensor::from_vec(&[2, 3, 4, 5], values);
    let tape = Tape::new();
    let y = tape.var(x).standardize_channels(0.0).value();
    let (mean, var) = channel_moments(&y);
    for (m, v) in mean.to_vec().into_iter().zip(var.to_vec()) {
        assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-12, "mean {m}, variance {v}");
    }
}

#[test]
#[should_panic(expected = "standardize_channels: needs [N, C, ...]")]
fn a_vector_has_no_channel_axis() {
    let tape = Tape::<f64>::new();
    tape.var(Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0])).standardize_channels(1e-5);
}

#[test]
fn in_f32_the_fused_gradient_is_as_accurate_as_the_composed_one() {
    // A batch-norm-sized channel (16 x 28 x 28 elements), values with an offset, cotangents
    // from a fixed weighting; both f32 results against the f64 composition.
    let shape = [16, 3, 28, 28];
    let len: usize = shape.iter().product();
    let x: Vec<f64> = (0..len).map(|k| 2.0 + ((k * 7919 % 1013) as f64 / 1013.0 - 0.5) * 3.0).collect();
    let w: Vec<f64> = (0..len).map(|k| ((k * 104_729 % 997) as f64 / 997.0) - 0.5).collect();
    let gradient_f64 = {
        let tape = Tape::<f64>::new();
        let xv = tape.var(Tensor::from_vec(&shape, x.clone()));
        let y = (composed(xv, 1e-5) * tape.constant(Tensor::from_vec(&shape, w.clone()))).square().sum();
        tape.grad(y, &[xv])[0].to_vec()
    };
    let gradient_f32 = |fused: bool| {
        let tape = Tape::<f32>::new();
        let xv = tape.var(Tensor::from_vec(&shape, x.iter().map(|&v| v as f32).collect()));
        let normalised = if fused {
            xv.standardize_channels(1e-5)
        } else {
            let axes = [0, 2, 3];
            let centred = xv - xv.mean_axes(&axes, true);
            centred / (centred.square().mean_axes(&axes, true) + 1e-5).sqrt()
        };
        let y = (normalised * tape.constant(Tensor::from_vec(&shape, w.iter().map(|&v| v as f32).collect())))
            .square()
            .sum();
        tape.grad(y, &[xv])[0].to_vec()
    };
    let error = |g: Vec<f32>| {
        let scale = gradient_f64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        g.iter().zip(&gradient_f64).fold(0.0f64, |m, (&a, &b)| m.max((a as f64 - b).abs())) / scale
    };
    let (fused, composed_f32) = (error(gradient_f32(true)), error(gradient_f32(false)));
    println!("largest error relative to the largest gradient: fused {fused:.2e}, composed {composed_f32:.2e}");
    assert!(fused < 1e-5 && fused <= 2.0 * composed_f32.max(1e-7), "fused {fused:.2e}, composed {composed_f32:.2e}");
}
