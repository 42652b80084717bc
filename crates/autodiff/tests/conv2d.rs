//! `Var::conv2d` (three ops that are each other's VJPs, on kernels that work a block of
//! images at a time) against the same function composed from `im2col_wide`, `matmul` and
//! `permute`: values, gradients, Hessian-vector products and a third-order directional
//! derivative, over geometries and batches that span several blocks; and first- and
//! second-order checks of the two gradient ops on their own, against central differences.
//! (Those of `conv2d` itself are in `op_gradients.rs`.)

use metagrad_autodiff::check::{function, gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::strategies::tensor_of;
use metagrad_autodiff::{Tape, Tensor, Var, Window2d};
use proptest::prelude::*;

/// The convolution as it was composed before it had ops of its own.
fn composed<'t>(x: Var<'t, f64>, w: Var<'t, f64>, window: Window2d) -> Var<'t, f64> {
    let (n, c_out) = (x.shape()[0], w.shape()[0]);
    let (out_h, out_w) = window.output();
    let filters = w.reshape(&[c_out, window.column_rows()]);
    let out = filters.matmul(x.im2col_wide(window)).reshape(&[c_out, n, out_h * out_w]);
    out.permute(&[1, 0, 2]).reshape(&[n, c_out, out_h, out_w])
}

type Case = (Window2d, usize, Tensor<f64>, Tensor<f64>, Tensor<f64>, Tensor<f64>);

/// A geometry, a batch of 1 to 9 images, the input, the weight, a fixed weighting of the
/// output and a direction for the derivatives.
fn case() -> impl Strategy<Value = Case> {
    (1usize..3, 2usize..6, 2usize..6, 1usize..4, 1usize..3, 0usize..2, 1usize..3, 1usize..10, 1usize..3)
        .prop_filter("the dilated kernel fits the padded input", |&(_, h, w, k, _, p, d, _, _)| {
            h.min(w) + 2 * p > d * (k - 1)
        })
        .prop_flat_map(|(c, h, w, k, s, p, d, n, c_out)| {
            let window = Window2d {
                channels: c,
                input: (h, w),
                kernel: (k, k),
                stride: (s, s),
                padding: (p, p),
                dilation: (d, d),
            };
            let (out_h, out_w) = window.output();
            (
                Just(window),
                Just(c_out),
                tensor_of(vec![n, c, h, w], -1.0, 1.0),
                tensor_of(vec![c_out, c, k, k], -1.0, 1.0),
                tensor_of(vec![n, c_out, out_h, out_w], -1.0, 1.0),
                tensor_of(vec![n, c, h, w], -1.0, 1.0),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn conv2d_equals_its_composition_to_third_order((window, _c_out, x, w, weighting, v) in case()) {
        let derivatives = |fused: bool| {
            let tape = Tape::new();
            let (xv, wv) = (tape.var(x.clone()), tape.var(w.clone()));
            let (weighting, v) = (tape.constant(weighting.clone()), tape.constant(v.clone()));
            let y = if fused {
                xv.conv2d(wv, window.stride, window.padding, window.dilation)
            } else {
                composed(xv, wv, window)
            };
            // Squared, so that the second and third derivatives do not vanish.
            let loss = (y * weighting).square().sum();
            let g = tape.grad_graph(loss, &[xv, wv]);
            let hv = tape.grad_graph((g[0] * v).sum() + g[1].square().sum(), &[xv, wv]);
            let third = tape.grad((hv[0] * v).sum() + (hv[1] * wv).sum(), &[xv, wv]);
            vec![y.value(), g[0].value(), g[1].value(), hv[0].value(), hv[1].value(), third[0].clone(), third[1].clone()]
        };
        let (fused, reference) = (derivatives(true), derivatives(false));
        for (order, (a, b)) in fused.iter().zip(&reference).enumerate() {
            prop_assert_eq!(a.shape(), b.shape());
            let scale = b.to_vec().iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (p, q) in a.to_vec().iter().zip(b.to_vec()) {
                prop_assert!((p - q).abs() <= 1e-10 * scale, "term {}: ops {} vs composed {}", order, p, q);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The input gradient as a function of `(W, g)` and the weight gradient as a function of
    /// `(x, g)`, each reached as the gradient of `<conv2d(x, W), g>` and squared so that its
    /// second derivative does not vanish.
    #[test]
    fn the_gradient_ops_pass_first_and_second_order_checks((window, _c_out, x, w, g, _v) in case()) {
        let (stride, padding, dilation) = (window.stride, window.padding, window.dilation);
        let x_shape = x.shape().to_vec();
        let input_grad = function(move |v| {
            let x = v[0].tape().var(Tensor::zeros(&x_shape));
            let inner = (x.conv2d(v[0], stride, padding, dilation) * v[1]).sum();
            v[0].tape().grad_graph(inner, &[x])[0].square().sum()
        });
        let w_shape = w.shape().to_vec();
        let weight_grad = function(move |v| {
            let w = v[0].tape().var(Tensor::zeros(&w_shape));
            let inner = (v[0].conv2d(w, stride, padding, dilation) * v[1]).sum();
            v[0].tape().grad_graph(inner, &[w])[0].square().sum()
        });
        let tolerance = Tolerance::default();
        for (name, report) in [
            ("input gradient, first order", gradcheck(&input_grad, &[w.clone(), g.clone()], &tolerance)),
            ("input gradient, second order", gradgradcheck(&input_grad, &[w.clone(), g.clone()], &tolerance)),
            ("weight gradient, first order", gradcheck(&weight_grad, &[x.clone(), g.clone()], &tolerance)),
            ("weight gradient, second order", gradgradcheck(&weight_grad, &[x.clone(), g.clone()], &tolerance)),
        ] {
            prop_assert!(report.passed, "{}: {}", name, report);
        }
    }
}

#[test]
#[should_panic(expected = "conv2d: input [2, 3, 4, 4] and weight [1, 2, 3, 3] do not match")]
fn channels_that_differ_are_rejected() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::zeros(&[2, 3, 4, 4]));
    let _ = x.conv2d(tape.var(Tensor::zeros(&[1, 2, 3, 3])), (1, 1), (0, 0), (1, 1));
}
