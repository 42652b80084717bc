//! First- and second-order gradient checks for every op, against central finite differences
//! in f64, over random shapes (size-1 and broadcast axes included) and values.

// `&[x.clone()]` reads better here than `std::slice::from_ref(&x)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::strategies::{
    broadcastable_shapes, distinct_tensor_of, shape, tensor, tensor_away_from_zero, tensor_of,
};
use metagrad_autodiff::{concat, select, stack, Tape, Tensor, Var};
use proptest::collection::vec;
use proptest::prelude::*;

/// Runs both checks; a failure names the worst element.
fn check<F>(f: F, inputs: &[Tensor<f64>]) -> Result<(), TestCaseError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let tolerance = Tolerance::default();
    let first = gradcheck(&f, inputs, &tolerance);
    prop_assert!(first.passed, "{}", first);
    let second = gradgradcheck(&f, inputs, &tolerance);
    prop_assert!(second.passed, "{}", second);
    Ok(())
}

/// A shape of rank >= 1 and one of its axes.
fn shape_and_axis() -> impl Strategy<Value = (Vec<usize>, usize)> {
    vec(1usize..=3, 1..=3).prop_flat_map(|s| {
        let rank = s.len();
        (Just(s), 0..rank)
    })
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(64)
}

proptest! {
    #![proptest_config(config())]

    // ---- elementwise, smooth ----

    #[test]
    fn exp(x in tensor(3, 3, -2.0, 2.0)) { check(|v| v[0].exp(), &[x])?; }

    #[test]
    fn log(x in tensor(3, 3, 0.2, 3.0)) { check(|v| v[0].log(), &[x])?; }

    #[test]
    fn sqrt(x in tensor(3, 3, 0.2, 3.0)) { check(|v| v[0].sqrt(), &[x])?; }

    #[test]
    fn tanh(x in tensor(3, 3, -3.0, 3.0)) { check(|v| v[0].tanh(), &[x])?; }

    #[test]
    fn sigmoid(x in tensor(3, 3, -8.0, 8.0)) { check(|v| v[0].sigmoid(), &[x])?; }

    #[test]
    fn softplus(x in tensor(3, 3, -8.0, 8.0)) { check(|v| v[0].softplus(), &[x])?; }

    #[test]
    fn gelu(x in tensor(3, 3, -3.0, 3.0)) { check(|v| v[0].gelu(), &[x])?; }

    #[test]
    fn silu(x in tensor(3, 3, -3.0, 3.0)) { check(|v| v[0].silu(), &[x])?; }

    #[test]
    fn powf(x in tensor(3, 3, 0.3, 2.5), p in -2.0f64..3.0) { check(move |v| v[0].powf(p), &[x])?; }

    #[test]
    fn powf_integer_exponent_on_negative_base(x in tensor(2, 3, -2.0, 2.0), p in 1u8..=3) {
        let p = p as f64;
        check(move |v| v[0].powf(p), &[x])?;
    }

    #[test]
    fn recip(x in shape(3, 3).prop_flat_map(|s| tensor_away_from_zero(s, 0.3, 2.0))) { check(|v| v[0].recip(), &[x])?; }

    #[test]
    fn neg_square_and_scalar_arithmetic(x in tensor(3, 3, -2.0, 2.0), c in -2.0f64..2.0) {
        check(move |v| -(v[0].square() * c + c) - c, &[x.clone()])?;
        check(move |v| (c - v[0]) / 2.0, &[x])?;
    }

    #[test]
    fn scalar_divided_by_var(x in shape(2, 3).prop_flat_map(|s| tensor_away_from_zero(s, 0.3, 2.0))) {
        check(|v| 1.5 / v[0], &[x])?;
    }

    // ---- elementwise, with kinks (values kept away from the kink) ----

    #[test]
    fn abs(x in shape(3, 3).prop_flat_map(|s| tensor_away_from_zero(s, 0.05, 2.0))) { check(|v| v[0].abs(), &[x])?; }

    #[test]
    fn relu(x in shape(3, 3).prop_flat_map(|s| tensor_away_from_zero(s, 0.05, 2.0))) { check(|v| v[0].relu() * v[0], &[x])?; }

    #[test]
    fn leaky_relu(x in shape(3, 3).prop_flat_map(|s| tensor_away_from_zero(s, 0.05, 2.0)), slope in 0.01f64..0.5) {
        check(move |v| v[0].leaky_relu(slope) * v[0], &[x])?;
    }

    #[test]
    fn elu(x in shape(3, 3).prop_flat_map(|s| tensor_away_from_zero(s, 0.05, 2.0)), alpha in 0.1f64..2.0) {
        check(move |v| v[0].elu(alpha), &[x])?;
    }

    // ---- binary, broadcasting ----

    #[test]
    fn add_sub_mul_broadcasting((a, b) in broadcastable_shapes(3, 3).prop_flat_map(|(s, t)| (tensor_of(s, -2.0, 2.0), tensor_of(t, -2.0, 2.0)))) {
        check(|v| v[0] + v[1], &[a.clone(), b.clone()])?;
        check(|v| v[1] - v[0], &[a.clone(), b.clone()])?;
        check(|v| v[0] * v[1] * v[1], &[a, b])?;
    }

    #[test]
    fn div_broadcasting((a, b) in broadcastable_shapes(3, 3).prop_flat_map(|(s, t)| (tensor_of(s, -2.0, 2.0), tensor_away_from_zero(t, 0.3, 2.0)))) {
        check(|v| v[0] / v[1], &[a.clone(), b.clone()])?;
        check(|v| v[1] / v[0].exp(), &[a, b])?;
    }

    #[test]
    fn maximum_minimum((a, b) in broadcastable_shapes(3, 3).prop_flat_map(|(s, t)| (tensor_of(s, -2.0, 2.0), tensor_of(t, -2.0, 2.0)))) {
        let bb = b.array().broadcast(a.shape()).unwrap().to_owned();
        prop_assume!(a.array().iter().zip(bb.iter()).all(|(x, y)| (x - y).abs() > 1e-3));
        check(|v| v[0].maximum(v[1]) * v[0], &[a.clone(), b.clone()])?;
        check(|v| v[1].minimum(v[0]) * v[1], &[a, b])?;
    }

    #[test]
    fn select_by_mask((a, b, bits) in shape(3, 3).prop_flat_map(|s| {
        let len: usize = s.iter().product();
        (tensor_of(s.clone(), -2.0, 2.0), tensor_of(s, -2.0, 2.0), vec(any::<bool>(), len))
    })) {
        let mask = ndarray::ArrayD::from_shape_vec(a.shape(), bits).unwrap().into_shared();
        check(move |v| select(&mask, v[0] * v[1], v[1].exp()), &[a, b])?;
    }

    // ---- matrix products ----

    #[test]
    fn matmul_2d((a, b) in (1usize..5, 1usize..5, 1usize..5).prop_flat_map(|(m, k, n)| (tensor_of(vec![m, k], -1.5, 1.5), tensor_of(vec![k, n], -1.5, 1.5)))) {
        check(|v| v[0].matmul(v[1]), &[a.clone(), b.clone()])?;
        check(|v| v[0].matmul(v[1]).tanh(), &[a, b])?;
    }

    #[test]
    fn matmul_batched((a, b) in (1usize..4, 1usize..4, 1usize..4, 1usize..4).prop_flat_map(|(batch, m, k, n)| (tensor_of(vec![batch, m, k], -1.5, 1.5), tensor_of(vec![batch, k, n], -1.5, 1.5)))) {
        check(|v| v[0].matmul(v[1]).tanh(), &[a, b])?;
    }

    #[test]
    fn matmul_broadcast_batch((a, b, w) in (1usize..3, 1usize..3, 1usize..3, 1usize..3).prop_flat_map(|(m, k, n, batch)| (
        tensor_of(vec![batch, 1, m, k], -1.5, 1.5), tensor_of(vec![2, k, n], -1.5, 1.5), tensor_of(vec![k, n], -1.5, 1.5)))) {
        check(|v| v[0].matmul(v[1]).tanh(), &[a.clone(), b])?;
        check(|v| v[0].matmul(v[1]).tanh(), &[a, w])?;
    }

    // A general square system (diagonally dominant, so well conditioned, but not symmetric),
    // and the symmetric ridge system R2D2's head solves: (X X^T + lambda I) W = Y.
    #[test]
    fn solve((a, b) in (1usize..5, 1usize..4).prop_flat_map(|(n, m)| (tensor_of(vec![n, n], -1.0, 1.0), tensor_of(vec![n, m], -1.5, 1.5)))) {
        let n = a.shape()[0];
        let a = Tensor::from_vec(&[n, n], a.to_vec().iter().enumerate().map(|(i, v)| if i % (n + 1) == 0 { v + 3.0 * n as f64 } else { *v }).collect());
        check(|v| v[0].solve(v[1]), &[a, b])?;
    }

    #[test]
    fn ridge_solve((x, y) in (1usize..4, 1usize..4, 1usize..3).prop_flat_map(|(n, d, m)| (tensor_of(vec![n, d], -1.5, 1.5), tensor_of(vec![n, m], -1.5, 1.5)))) {
        let n = x.shape()[0];
        let eye = Tensor::from_vec(&[n, n], (0..n * n).map(|i| if i % (n + 1) == 0 { 0.5 } else { 0.0 }).collect());
        check(|v| (v[0].matmul(v[0].t()) + v[0].tape().constant(eye.clone())).solve(v[1]), &[x, y])?;
    }

    // ---- shape ----

    #[test]
    fn permute_and_transpose((x, axes) in shape(3, 3).prop_flat_map(|s| {
        let rank = s.len();
        (tensor_of(s, -2.0, 2.0), Just((0..rank).collect::<Vec<_>>()).prop_shuffle())
    })) {
        check(move |v| v[0].permute(&axes) * v[0].permute(&axes), &[x.clone()])?;
        if x.ndim() >= 2 {
            check(|v| v[0].t().exp(), &[x])?;
        }
    }

    #[test]
    fn reshape_flatten_unsqueeze(x in tensor(3, 3, -2.0, 2.0)) {
        let reversed: Vec<usize> = x.shape().iter().rev().copied().collect();
        check(move |v| v[0].reshape(&reversed).square(), &[x.clone()])?;
        check(|v| v[0].flatten().unsqueeze(0).square().squeeze(0), &[x])?;
    }

    #[test]
    fn broadcast_to_and_sum_to((small, large) in broadcastable_shapes(3, 3).prop_flat_map(|(s, t)| (tensor_of(t, -2.0, 2.0), tensor_of(s, -2.0, 2.0)))) {
        let (from, to) = (small.shape().to_vec(), large.shape().to_vec());
        check(move |v| v[0].broadcast_to(&to).square(), &[small])?;
        check(move |v| v[0].square().sum_to(&from), &[large])?;
    }

    // ---- reductions ----

    #[test]
    fn sum_and_mean_over_axes(((s, axis), keepdim) in (shape_and_axis(), any::<bool>()), seed in 0u64..1000) {
        let x = Tensor::from_vec(&s, (0..s.iter().product::<usize>()).map(|i| ((i as u64 * 7919 + seed) % 97) as f64 / 25.0 - 2.0).collect());
        check(move |v| v[0].square().sum_axes(&[axis], keepdim), &[x.clone()])?;
        check(move |v| v[0].square().mean_axes(&[axis], keepdim), &[x.clone()])?;
        check(|v| v[0].square().sum(), &[x.clone()])?;
        check(|v| v[0].square().mean(), &[x])?;
    }

    #[test]
    fn max_and_min_over_axes(((x, axis), keepdim) in (shape_and_axis().prop_flat_map(|(s, a)| (distinct_tensor_of(s, 0.1), Just(a))), any::<bool>())) {
        check(move |v| v[0].max_axes(&[axis], keepdim).square(), &[x.clone()])?;
        check(move |v| v[0].min_axes(&[axis], keepdim).square(), &[x])?;
    }

    #[test]
    fn logsumexp_softmax_log_softmax((x, axis) in shape_and_axis().prop_flat_map(|(s, a)| (tensor_of(s, -3.0, 3.0), Just(a)))) {
        check(move |v| v[0].logsumexp(&[axis], false), &[x.clone()])?;
        check(move |v| v[0].softmax(axis), &[x.clone()])?;
        check(move |v| v[0].log_softmax(axis), &[x])?;
    }

    // ---- slicing and joining ----

    #[test]
    fn narrow_and_pad((x, axis, start, before, after) in shape_and_axis().prop_flat_map(|(s, a)| {
        let size = s[a];
        (tensor_of(s, -2.0, 2.0), Just(a), 0..size, 0usize..3, 0usize..3)
    })) {
        let len = x.shape()[axis] - start;
        check(move |v| v[0].narrow(axis, start, len).square(), &[x.clone()])?;
        check(move |v| v[0].square().pad_axis(axis, before, after), &[x])?;
    }

    #[test]
    fn concat_stack_split((a, b, axis) in shape_and_axis().prop_flat_map(|(s, axis)| {
        let mut t = s.clone();
        t[axis] += 1;
        (tensor_of(s, -2.0, 2.0), tensor_of(t, -2.0, 2.0), Just(axis))
    })) {
        check(move |v| concat(&[v[0].square(), v[1]], axis), &[a.clone(), b.clone()])?;
        check(move |v| stack(&[v[0], v[0].exp()], axis), &[a.clone()])?;
        let (na, nb) = (a.shape()[axis], b.shape()[axis]);
        check(move |v| {
            let parts = v[0].split(axis, &[na, nb - na]);
            parts[0].square() * parts[0]
        }, &[b])?;
    }

    // ---- indexing ----

    #[test]
    fn gather_and_scatter_add((x, axis, picks) in shape_and_axis().prop_flat_map(|(s, a)| {
        let size = s[a];
        let len: usize = s.iter().product();
        (tensor_of(s, -2.0, 2.0), Just(a), vec(0..size, len))
    })) {
        let index = ndarray::ArrayD::from_shape_vec(x.shape(), picks).unwrap().into_shared();
        let size = x.shape()[axis];
        let index2 = index.clone();
        check(move |v| v[0].gather(axis, &index).square(), &[x.clone()])?;
        check(move |v| v[0].square().scatter_add(axis, &index2, size + 1), &[x])?;
    }

    #[test]
    fn index_select((x, axis, indices) in shape_and_axis().prop_flat_map(|(s, a)| {
        let size = s[a];
        (tensor_of(s, -2.0, 2.0), Just(a), vec(0..size, 1..5))
    })) {
        check(move |v| v[0].index_select(axis, &indices).exp(), &[x])?;
    }
}

/// Ops compose: a small MLP-shaped function of several inputs, checked to second order.
#[test]
fn composition_of_many_ops() {
    let x = Tensor::from_vec(&[3, 2], vec![0.1, -0.4, 0.7, 1.2, -0.9, 0.3]);
    let w = Tensor::from_vec(&[2, 4], vec![0.5, -0.3, 0.8, 0.1, -0.6, 0.2, 0.4, -0.7]);
    let b = Tensor::from_vec(&[4], vec![0.05, -0.1, 0.2, 0.0]);
    let tolerance = Tolerance::default();
    let inputs = [x, w, b];
    gradcheck(|v| (v[0].matmul(v[1]) + v[2]).tanh().log_softmax(1).mean(), &inputs, &tolerance).assert_passed();
    gradgradcheck(|v| (v[0].matmul(v[1]) + v[2]).tanh().log_softmax(1).mean(), &inputs, &tolerance).assert_passed();
}

/// The random-direction checks keep large ops cheap: a 24x40 by 40x32 product has 1,728
/// inputs, so a full Jacobian would need 3,456 evaluations and 768 backward passes; this uses 8.
#[test]
fn directional_checks_on_a_large_matmul() {
    use metagrad_autodiff::check::{gradcheck_directional, gradgradcheck_directional};
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let a = Tensor::<f64>::randn(&[24, 40], &mut rng);
    let b = Tensor::<f64>::randn(&[40, 32], &mut rng);
    let tolerance = Tolerance::default();
    gradcheck_directional(|v| (v[0].matmul(v[1]) * 0.1).tanh(), &[a.clone(), b.clone()], &tolerance, 4, 1)
        .assert_passed();
    gradgradcheck_directional(|v| (v[0].matmul(v[1]) * 0.1).tanh(), &[a, b], &tolerance, 4, 2).assert_passed();
}

/// A small NCHW geometry: (batch, channels, height, width, kernel, stride, padding, dilation).
type ConvGeometry = (usize, usize, usize, usize, (usize, usize), (usize, usize), (usize, usize), (usize, usize));

fn conv_geometry() -> impl Strategy<Value = ConvGeometry> {
    (
        1usize..3,
        1usize..3,
        2usize..6,
        2usize..6,
        (1usize..4, 1usize..4),
        (1usize..3, 1usize..3),
        (0usize..2, 0usize..2),
        (1usize..3, 1usize..3),
    )
        .prop_filter("the dilated kernel fits the padded input", |&(_, _, h, w, k, _, p, d)| {
            h + 2 * p.0 > d.0 * (k.0 - 1) && w + 2 * p.1 > d.1 * (k.1 - 1)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn im2col_and_col2im((n, c, h, w, kernel, stride, padding, dilation) in conv_geometry(), seed in 0u64..1000) {
        let window = metagrad_autodiff::Window2d { channels: c, input: (h, w), kernel, stride, padding, dilation };
        let x = Tensor::from_vec(&[n, c, h, w], (0..n * c * h * w).map(|i| ((i as u64 * 7919 + seed) % 97) as f64 / 30.0 - 1.5).collect());
        check(move |v| v[0].im2col(window).square(), &[x.clone()])?;
        let cols = Tensor::from_vec(&[n, window.column_rows(), window.column_cols()], (0..n * window.column_rows() * window.column_cols()).map(|i| ((i as u64 * 31 + seed) % 89) as f64 / 30.0 - 1.4).collect());
        check(move |v| v[0].square().col2im(window), &[cols])?;
    }

    #[test]
    fn im2col_wide_and_col2im_wide((n, c, h, w, kernel, stride, padding, dilation) in conv_geometry(), seed in 0u64..1000) {
        let window = metagrad_autodiff::Window2d { channels: c, input: (h, w), kernel, stride, padding, dilation };
        let x = Tensor::from_vec(&[n, c, h, w], (0..n * c * h * w).map(|i| ((i as u64 * 7919 + seed) % 97) as f64 / 30.0 - 1.5).collect());
        check(move |v| v[0].im2col_wide(window).square(), &[x.clone()])?;
        let width = n * window.column_cols();
        let cols = Tensor::from_vec(&[window.column_rows(), width], (0..window.column_rows() * width).map(|i| ((i as u64 * 31 + seed) % 89) as f64 / 30.0 - 1.4).collect());
        check(move |v| v[0].square().col2im_wide(window), &[cols])?;
        // The wide layout holds the same columns as the per-image one.
        let tape = Tape::new();
        let (per_image, wide) = (tape.constant(x.clone()).im2col(window).value(), tape.constant(x).im2col_wide(window).value());
        let per_image = per_image.array().view().permuted_axes(vec![1, 0, 2]).as_standard_layout().into_owned();
        prop_assert_eq!(per_image.as_slice().unwrap(), wide.array().as_slice().unwrap());
    }

    #[test]
    fn conv2d((n, c, h, w, kernel, stride, padding, dilation) in conv_geometry(), c_out in 1usize..3, seed in 0u64..1000) {
        let x = Tensor::from_vec(&[n, c, h, w], (0..n * c * h * w).map(|i| ((i as u64 * 7919 + seed) % 97) as f64 / 40.0 - 1.2).collect());
        let weight = Tensor::from_vec(&[c_out, c, kernel.0, kernel.1], (0..c_out * c * kernel.0 * kernel.1).map(|i| ((i as u64 * 104_729 + seed) % 83) as f64 / 40.0 - 1.0).collect());
        check(move |v| v[0].conv2d(v[1], stride, padding, dilation).tanh(), &[x, weight])?;
    }

    #[test]
    fn max_pool2d((n, c, h, w) in (1usize..3, 1usize..3, 2usize..6, 2usize..6), kernel in 1usize..3, stride in 1usize..3) {
        prop_assume!(h >= kernel && w >= kernel);
        let x = distinct_values(&[n, c, h, w]);
        check(move |v| v[0].max_pool2d((kernel, kernel), (stride, stride), (0, 0)).square(), &[x])?;
    }
}

/// Values at least 0.05 apart, in a scrambled order, so that max-pooling has no ties.
fn distinct_values(shape: &[usize]) -> Tensor<f64> {
    let len: usize = shape.iter().product();
    Tensor::from_vec(shape, (0..len).map(|i| ((i * 37) % len) as f64 * 0.05 - 1.0).collect())
}

#[test]
fn conv2d_matches_a_direct_convolution() {
    let (n, c, h, w, c_out, k) = (2, 3, 5, 6, 4, 3);
    let x: Vec<f64> = (0..n * c * h * w).map(|i| (i as f64 * 0.37).sin()).collect();
    let wt: Vec<f64> = (0..c_out * c * k * k).map(|i| (i as f64 * 0.53).cos()).collect();
    let tape = metagrad_autodiff::Tape::new();
    let out = tape.var(Tensor::from_vec(&[n, c, h, w], x.clone())).conv2d(
        tape.var(Tensor::from_vec(&[c_out, c, k, k], wt.clone())),
        (1, 2),
        (1, 1),
        (1, 1),
    );
    let (oh, ow) = ((h + 2 - k) + 1, (w + 2 - k) / 2 + 1);
    assert_eq!(out.shape(), vec![n, c_out, oh, ow]);
    let got = out.value().to_vec();
    for b in 0..n {
        for o in 0..c_out {
            for i in 0..oh {
                for j in 0..ow {
                    let mut want = 0.0;
                    for ci in 0..c {
                        for ki in 0..k {
                            for kj in 0..k {
                                let (r, col) = (i as isize + ki as isize - 1, (2 * j) as isize + kj as isize - 1);
                                if r >= 0 && col >= 0 && (r as usize) < h && (col as usize) < w {
                                    want += wt[((o * c + ci) * k + ki) * k + kj]
                                        * x[((b * c + ci) * h + r as usize) * w + col as usize];
                                }
                            }
                        }
                    }
                    let at = ((b * c_out + o) * oh + i) * ow + j;
                    assert!((got[at] - want).abs() < 1e-12, "({b}, {o}, {i}, {j}): {} vs {want}", got[at]);
                }
            }
        }
    }
}

#[test]
fn max_pool2d_takes_window_maxima() {
    let tape = metagrad_autodiff::Tape::new();
    let x = tape.var(Tensor::from_vec(&[1, 1, 2, 4], vec![1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, -1.0]));
    let y = x.max_pool2d((2, 2), (2, 2), (0, 0));
    assert_eq!(y.value().to_vec(), vec![5.0, 8.0]);
    let g = tape.grad(y.sum(), &[x])[0].to_vec();
    assert_eq!(g, vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
}
