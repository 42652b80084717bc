//! The fused per-channel scale and shift (`scale_shift_channels`, `scale_channels`) and
//! `channel_dot`: first- and second-order gradient checks against central differences, and
//! the same bits as the broadcast `mul`, `add` and `sum_to` they replace, values and
//! gradients, in f32.

use metagrad_autodiff::check::{function, gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::strategies::tensor_of;
use metagrad_autodiff::{Tape, Tensor};
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

/// `x`, a fixed weighting of the output (so that every output element's cotangent differs),
/// a per-channel scale and a shift.
#[allow(clippy::type_complexity)]
fn cases() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>, Tensor<f64>, Tensor<f64>)> {
    channel_shape().prop_flat_map(|s| {
        let c = s[1];
        (
            tensor_of(s.clone(), -2.0, 2.0),
            tensor_of(s, -1.0, 1.0),
            tensor_of(vec![c], -2.0, 2.0),
            tensor_of(vec![c], -1.0, 1.0),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scale_shift_channels_first_and_second_order((x, r, w, b) in cases()) {
        let f = function(|v| v[0].scale_shift_channels(v[1], v[2]) * v[3]);
        let tolerance = Tolerance::default();
        let inputs = [x, w, b, r];
        let first = gradcheck(f, &inputs, &tolerance);
        prop_assert!(first.passed, "{}", first);
        let second = gradgradcheck(f, &inputs, &tolerance);
        prop_assert!(second.passed, "{}", second);
    }

    #[test]
    fn scale_channels_and_channel_dot_first_and_second_order((x, r, w, _) in cases()) {
        let tolerance = Tolerance::default();
        let scale = function(|v| v[0].scale_channels(v[1]) * v[2]);
        let inputs = [x.clone(), w.clone(), r.clone()];
        let (first, second) = (gradcheck(scale, &inputs, &tolerance), gradgradcheck(scale, &inputs, &tolerance));
        prop_assert!(first.passed && second.passed, "{}\n{}", first, second);
        // Weighted by w, so that the [C] output's cotangent differs per channel.
        let dot = function(|v| v[0].channel_dot(v[1]) * v[2]);
        let inputs = [x, r, w];
        let (first, second) = (gradcheck(dot, &inputs, &tolerance), gradgradcheck(dot, &inputs, &tolerance));
        prop_assert!(first.passed && second.passed, "{}\n{}", first, second);
    }
}

/// Values and first-order gradients of the fused ops are the broadcast composition's bits
/// (f32, shapes of a conv-4 layer and of a linear layer).
#[test]
fn fused_ops_keep_the_compositions_bits() {
    for shape in [vec![5usize, 16, 7, 7], vec![9, 12], vec![2, 20, 3, 1]] {
        let c = shape[1];
        let n: usize = shape.iter().product();
        let noise = |len: usize, seed: usize| -> Vec<f32> {
            (0..len).map(|i| (((i * 7919 + seed) % 1009) as f32 * 0.618).sin() * 3.0).collect()
        };
        let (x, g, w, b) = (noise(n, 1), noise(n, 2), noise(c, 3), noise(c, 4));
        let mut per_channel = vec![1; shape.len()];
        per_channel[1] = c;
        let run = |fused: bool| {
            let tape = Tape::<f32>::new();
            let xv = tape.var(Tensor::from_vec(&shape, x.clone()));
            let (wv, bv) = (tape.var(Tensor::from_vec(&[c], w.clone())), tape.var(Tensor::from_vec(&[c], b.clone())));
            let y = if fused {
                xv.scale_shift_channels(wv, bv)
            } else {
                xv * wv.reshape(&per_channel) + bv.reshape(&per_channel)
            };
            let loss = (y * tape.constant(Tensor::from_vec(&shape, g.clone()))).sum();
            let grads = tape.grad(loss, &[xv, wv, bv]);
            let bits = |t: &Tensor<f32>| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            (bits(&y.value()), grads.iter().map(bits).collect::<Vec<_>>())
        };
        assert_eq!(run(true), run(false), "{shape:?}");
    }
}

#[test]
#[should_panic(expected = "scale_channels: the scale has shape [3], not [2]")]
fn a_scale_of_the_wrong_length_is_rejected() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(Tensor::zeros(&[1, 2, 2]));
    let _ = x.scale_channels(tape.constant(Tensor::zeros(&[3])));
}
