//! Gradients, a Hessian-vector product and a Hessian of the Rosenbrock function.
//!
//! `cargo run --release --example hello_gradients`
//!
//! f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, at (x, y) = (-1.2, 1), the classic start point.
//! Closed forms for comparison:
//!   df/dx = -2 (1 - x) - 400 x (y - x^2),   df/dy = 200 (y - x^2)
//!   H = [[2 - 400 (y - x^2) + 800 x^2, -400 x], [-400 x, 200]]

use metagrad::prelude::*;

fn rosenbrock<'t>(p: Var<'t, f64>) -> Var<'t, f64> {
    let x = p.narrow(0, 0, 1);
    let y = p.narrow(0, 1, 1);
    ((-x + 1.0).square() + (y - x.square()).square() * 100.0).sum()
}

fn main() {
    let point = Tensor::from_vec(&[2], vec![-1.2, 1.0]);
    let (x, y) = (-1.2f64, 1.0f64);

    let tape = Tape::new();
    let p = tape.var(point.clone());
    let f = rosenbrock(p);
    println!("f(-1.2, 1)            = {:.4}", f.item());

    // First order, the fast path: no graph is recorded for the backward pass.
    let grad = tape.grad(f, &[p])[0].to_vec();
    let expected = [-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)];
    println!("gradient              = {grad:?}");
    println!("closed form           = {expected:?}");

    // Second order: the gradient of <grad f, v>, never forming H.
    let v = Tensor::from_vec(&[2], vec![1.0, 0.0]);
    let hv = tape.hvp(f, &[p], &[v])[0].to_vec();
    println!("Hessian-vector (1, 0) = {hv:?}");

    let hessian = metagrad::autodiff::hessian(rosenbrock, &point).to_vec();
    let expected_h = [2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x, -400.0 * x, 200.0];
    println!("Hessian               = {hessian:?}");
    println!("closed form           = {expected_h:?}");

    let worst = hessian.iter().zip(&expected_h).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("largest Hessian error = {worst:.1e}");
}
