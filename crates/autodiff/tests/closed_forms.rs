//! Derivatives with known closed forms: Hessians, third derivatives, and the one-step MAML
//! meta-gradient.

use approx::assert_abs_diff_eq;
use metagrad_autodiff::{hessian, jacobian, Tape, Tensor, Var};

fn tensor(shape: &[usize], values: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(shape, values.to_vec())
}

/// Plain matrix helpers for the expected values (row-major, n x n).
fn mat_vec(a: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n).map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum()).collect()
}

#[test]
fn hessian_of_quadratic_form_is_a_plus_a_transpose() {
    let n = 4;
    let a: Vec<f64> = (0..n * n).map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0).collect();
    let a_t = tensor(&[n, n], &a);
    let x = tensor(&[n], &[0.3, -1.1, 2.0, 0.7]);
    let h = hessian(|x| (x.unsqueeze(0).matmul(x.constant(a_t.clone())).squeeze(0) * x).sum(), &x);
    assert_eq!(h.shape(), &[n, n]);
    for i in 0..n {
        for j in 0..n {
            assert_abs_diff_eq!(h.to_vec()[i * n + j], a[i * n + j] + a[j * n + i], epsilon = 1e-12);
        }
    }
}

#[test]
fn third_derivative_of_a_tanh_chain() {
    // f(x) = tanh(tanh(x)). With t = tanh x, u = tanh t, s = 1 - t^2, r = 1 - u^2:
    // f' = r s; f'' = -2 u r s^2 - 2 t r s; f''' by differentiating again (below, analytic).
    let x0 = 0.37;
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::scalar(x0));
    let f = x.tanh().tanh();
    let d1 = tape.grad_graph(f, &[x])[0];
    let d2 = tape.grad_graph(d1, &[x])[0];
    let d3 = tape.grad(d2, &[x])[0].item();

    let t = x0.tanh();
    let u = t.tanh();
    let s = 1.0 - t * t;
    let r = 1.0 - u * u;
    let (ds, du, dr) = (-2.0 * t * s, r * s, -2.0 * u * r * s); // derivatives in x
    let f1 = r * s;
    let f2 = -2.0 * u * r * s * s - 2.0 * t * r * s;
    // f'' = -2 (u r s^2 + t r s); differentiate each product term.
    let dt = s;
    let f3 =
        -2.0 * (du * r * s * s + u * dr * s * s + u * r * 2.0 * s * ds) - 2.0 * (dt * r * s + t * dr * s + t * r * ds);
    assert_abs_diff_eq!(d1.item(), f1, epsilon = 1e-12);
    assert_abs_diff_eq!(d2.item(), f2, epsilon = 1e-12);
    assert_abs_diff_eq!(d3, f3, epsilon = 1e-12);

    // And the fourth, against a central difference of the third.
    let third = |x0: f64| {
        let tape = Tape::<f64>::new();
        let x = tape.var(Tensor::scalar(x0));
        let d1 = tape.grad_graph(x.tanh().tanh(), &[x])[0];
        let d2 = tape.grad_graph(d1, &[x])[0];
        tape.grad(d2, &[x])[0].item()
    };
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::scalar(x0));
    let d1 = tape.grad_graph(x.tanh().tanh(), &[x])[0];
    let d2 = tape.grad_graph(d1, &[x])[0];
    let d3 = tape.grad_graph(d2, &[x])[0];
    let d4 = tape.grad(d3, &[x])[0].item();
    let h = 1e-5;
    assert_abs_diff_eq!(d4, (third(x0 + h) - third(x0 - h)) / (2.0 * h), epsilon = 1e-6);
}

#[test]
fn one_step_maml_meta_gradient_on_linear_regression() {
    // L_s(w) = |X_s w - y_s|^2 / n_s, L_q likewise; w' = w - alpha grad L_s(w).
    // d L_q(w') / dw = (I - alpha H_s) grad L_q(w'), with H_s = 2 X_s^T X_s / n_s.
    let (n, d, alpha) = (5, 3, 0.1);
    let xs: Vec<f64> = (0..n * d).map(|i| ((i * 13 % 17) as f64 - 8.0) / 6.0).collect();
    let ys: Vec<f64> = (0..n).map(|i| (i as f64 - 2.0) / 2.0).collect();
    let xq: Vec<f64> = (0..n * d).map(|i| ((i * 5 % 19) as f64 - 9.0) / 7.0).collect();
    let yq: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
    let w0 = [0.2, -0.5, 0.9];

    let tape = Tape::<f64>::new();
    let w = tape.var(tensor(&[d, 1], &w0));
    fn loss<'t>(w: Var<'t, f64>, x: &[f64], y: &[f64]) -> Var<'t, f64> {
        let x = w.constant(tensor(&[y.len(), x.len() / y.len()], x));
        let y = w.constant(tensor(&[y.len(), 1], y));
        (x.matmul(w) - y).square().mean()
    }
    let g_support = tape.grad_graph(loss(w, &xs, &ys), &[w])[0];
    let adapted = w - g_support * alpha;
    let meta_grad = tape.grad(loss(adapted, &xq, &yq), &[w])[0].to_vec();

    // Expected, with plain arithmetic.
    let h_s: Vec<f64> = (0..d * d)
        .map(|ij| (0..n).map(|k| 2.0 * xs[k * d + ij / d] * xs[k * d + ij % d]).sum::<f64>() / n as f64)
        .collect();
    let residual_s: Vec<f64> = (0..n).map(|k| (0..d).map(|j| xs[k * d + j] * w0[j]).sum::<f64>() - ys[k]).collect();
    let grad_s: Vec<f64> =
        (0..d).map(|j| (0..n).map(|k| 2.0 * xs[k * d + j] * residual_s[k]).sum::<f64>() / n as f64).collect();
    let w1: Vec<f64> = (0..d).map(|j| w0[j] - alpha * grad_s[j]).collect();
    let residual_q: Vec<f64> = (0..n).map(|k| (0..d).map(|j| xq[k * d + j] * w1[j]).sum::<f64>() - yq[k]).collect();
    let grad_q: Vec<f64> =
        (0..d).map(|j| (0..n).map(|k| 2.0 * xq[k * d + j] * residual_q[k]).sum::<f64>() / n as f64).collect();
    let h_g = mat_vec(&h_s, &grad_q);
    for j in 0..d {
        assert_abs_diff_eq!(meta_grad[j], grad_q[j] - alpha * h_g[j], epsilon = 1e-12);
    }
}

#[test]
fn hvp_matches_hessian_times_vector() {
    let x = tensor(&[3], &[0.4, -0.8, 1.3]);
    /// Smooth, not polynomial, and coupling the elements (a full Hessian).
    fn f<'t>(x: Var<'t, f64>) -> Var<'t, f64> {
        (x.exp() * (x.tanh() + x.square() * 0.5)).sum() * x.tanh().sum()
    }
    let h = hessian(f, &x).to_vec();
    let v = [1.0, -2.0, 0.5];
    let tape = Tape::<f64>::new();
    let xv = tape.var(x.clone());
    let hv = tape.hvp(f(xv), &[xv], &[tensor(&[3], &v)])[0].to_vec();
    for i in 0..3 {
        let expected: f64 = (0..3).map(|j| h[i * 3 + j] * v[j]).sum();
        assert_abs_diff_eq!(hv[i], expected, epsilon = 1e-12);
    }
}

#[test]
fn jacobian_of_softmax_is_diag_p_minus_p_p_transpose() {
    let x = tensor(&[3], &[0.5, -1.0, 2.0]);
    let j = jacobian(|x| x.softmax(0), &x).to_vec();
    let e: Vec<f64> = x.to_vec().iter().map(|v| v.exp()).collect();
    let z: f64 = e.iter().sum();
    let p: Vec<f64> = e.iter().map(|v| v / z).collect();
    for a in 0..3 {
        for b in 0..3 {
            let expected = if a == b { p[a] } else { 0.0 } - p[a] * p[b];
            assert_abs_diff_eq!(j[a * 3 + b], expected, epsilon = 1e-12);
        }
    }
}
