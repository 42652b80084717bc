//! Gradient checking: analytic first and second derivatives against central finite
//! differences, in `f64`. A public feature, for users' own property tests as much as ours.
//!
//! Two checks of each order:
//!
//! - **Full Jacobian** ([`gradcheck`], [`gradgradcheck`]): every entry `dy_o / dx_e`, with
//!   analytic rows from one VJP per output element and numeric columns from one pair of
//!   evaluations per input element. Exact, and as costly as that sounds.
//! - **Random directions** ([`gradcheck_directional`], [`gradgradcheck_directional`]):
//!   `<u, J^T v>` from one VJP against `<J u, v>` from one central difference along `u`, for a
//!   few seeded random `u`, `v`. Cheap for large ops.
//!
//! Second order applies the same checks to the VJP map `(x, v) -> J(x)^T v`, computed with
//! [`Tape::vjp_graph`] so that the analytic side differentiates the recorded backward pass.
//! This is the check that catches an op whose VJP computes with raw arrays and returns a
//! fresh constant: its first derivatives are right, and every second derivative through it is
//! silently zero.
//!
//! ```
//! use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
//! use metagrad_autodiff::Tensor;
//!
//! let x = Tensor::from_vec(&[3], vec![0.3, -1.2, 2.0]);
//! // x tanh(x), summed: checked against central differences to first and second order.
//! gradcheck(|v| (v[0].tanh() * v[0]).sum(), &[x.clone()], &Tolerance::default()).assert_passed();
//! gradgradcheck(|v| (v[0].tanh() * v[0]).sum(), &[x], &Tolerance::default()).assert_passed();
//! ```

use crate::{concat, Tape, Tensor, Var};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::fmt;

/// Step and tolerances: an entry passes when `|analytic - numeric| <= atol + rtol * |numeric|`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{gradcheck, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// let default = Tolerance::default();
/// assert_eq!((default.eps, default.atol, default.rtol), (1e-6, 1e-5, 1e-3));
/// // A larger step for a steep function; the report records the tolerance it used.
/// let coarse = Tolerance { eps: 1e-4, ..default };
/// let report = gradcheck(|v| v[0].exp().sum(), &[Tensor::from_vec(&[2], vec![2.0, 3.0])], &coarse);
/// assert!(report.passed);
/// assert_eq!(report.tolerance.eps, 1e-4);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance { eps: 1e-6, atol: 1e-5, rtol: 1e-3 }
    }
}

/// One compared entry: where it is and both values.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{gradcheck, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// // x * detach(x) has the value x^2 but the gradient x (one factor is a constant): the
/// // worst entry is the element where analytic and numeric differ most.
/// let x = Tensor::from_vec(&[2], vec![0.1, 3.0]);
/// let report = gradcheck(|v| (v[0] * v[0].detach()).sum(), &[x], &Tolerance::default());
/// let worst = report.worst.expect("two entries were compared");
/// assert_eq!((worst.input, worst.input_index, worst.output_index), (0, vec![1], vec![]));
/// assert!((worst.analytic - 3.0).abs() < 1e-12);
/// assert!((worst.numeric - 6.0).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Which input (for directional checks, which random direction).
    pub input: usize,
    /// Multi-index of the input element (empty for directional checks).
    pub input_index: Vec<usize>,
    /// Multi-index of the output element (empty for directional checks).
    pub output_index: Vec<usize>,
    /// The derivative from the VJPs.
    pub analytic: f64,
    /// The derivative from central differences.
    pub numeric: f64,
}

/// The outcome of a check: how many entries were compared, and the worst one.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{gradcheck, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// // A scalar output of a 3-element input: one Jacobian entry per input element.
/// let x = Tensor::from_vec(&[3], vec![0.5, -1.0, 2.0]);
/// let report = gradcheck(|v| v[0].square().sum(), &[x], &Tolerance::default());
/// assert!(report.passed);
/// assert_eq!(report.compared, 3);
/// assert!(report.to_string().starts_with("gradcheck passed over 3 entries"));
/// ```
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// Which check ran.
    pub check: &'static str,
    /// Number of entries compared.
    pub compared: usize,
    /// The entry with the largest error relative to its allowance (furthest outside the
    /// tolerance, or closest to its edge).
    pub worst: Option<Mismatch>,
    /// True when every entry is within tolerance.
    pub passed: bool,
    /// The tolerance used.
    pub tolerance: Tolerance,
}

impl CheckReport {
    /// Panics with the report when the check failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::check::{gradcheck, Tolerance};
    /// use metagrad_autodiff::Tensor;
    ///
    /// let x = Tensor::from_vec(&[2], vec![1.0, 2.0]);
    /// let tol = Tolerance::default();
    /// gradcheck(|v| v[0].square().sum(), &[x.clone()], &tol).assert_passed(); // returns quietly
    /// // A gradient that is half the true one: the panic message is the report.
    /// let wrong = gradcheck(|v| (v[0] * v[0].detach()).sum(), &[x], &tol);
    /// # std::panic::set_hook(Box::new(|_| {})); // keep the expected panic out of the output
    /// let panic = std::panic::catch_unwind(|| wrong.assert_passed()).unwrap_err();
    /// let message = panic.downcast_ref::<String>().unwrap();
    /// assert!(message.starts_with("gradcheck FAILED over 2 entries"), "{message}");
    /// ```
    pub fn assert_passed(&self) {
        assert!(self.passed, "{self}");
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "passed" } else { "FAILED" };
        write!(f, "{} {verdict} over {} entries", self.check, self.compared)?;
        if let Some(w) = &self.worst {
            write!(
                f,
                "; worst: input {} element {:?}, output element {:?}: analytic {:.10e}, numeric {:.10e} (|diff| {:.3e}, allowed {:.3e})",
                w.input,
                w.input_index,
                w.output_index,
                w.analytic,
                w.numeric,
                (w.analytic - w.numeric).abs(),
                self.tolerance.atol + self.tolerance.rtol * w.numeric.abs()
            )?;
        }
        Ok(())
    }
}

/// Collects comparisons and keeps the worst.
struct Worst {
    tolerance: Tolerance,
    compared: usize,
    worst: Option<(f64, Mismatch)>,
}

impl Worst {
    fn new(tolerance: Tolerance) -> Self {
        Worst { tolerance, compared: 0, worst: None }
    }

    fn compare(&mut self, m: Mismatch) {
        // How far out of tolerance, as a fraction of the allowance: <= 1 passes.
        let allowed = self.tolerance.atol + self.tolerance.rtol * m.numeric.abs();
        let ratio = (m.analytic - m.numeric).abs() / allowed;
        let ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
        self.compared += 1;
        if self.worst.as_ref().is_none_or(|(r, _)| ratio > *r) {
            self.worst = Some((ratio, m));
        }
    }

    fn report(self, check: &'static str) -> CheckReport {
        let passed = self.worst.as_ref().is_none_or(|(r, _)| *r <= 1.0);
        CheckReport {
            check,
            compared: self.compared,
            worst: self.worst.map(|(_, m)| m),
            passed,
            tolerance: self.tolerance,
        }
    }
}

fn evaluate<F>(f: &F, inputs: &[Tensor<f64>]) -> Tensor<f64>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let tape = Tape::new();
    let vars: Vec<_> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    f(&vars).value()
}

/// `inputs` with `direction * step` added to input `which` (all of them when `which` is None).
fn nudged(inputs: &[Tensor<f64>], directions: &[Tensor<f64>], step: f64) -> Vec<Tensor<f64>> {
    inputs.iter().zip(directions).map(|(x, d)| x.zip_map(d, |a, b| a + step * b)).collect()
}

fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &size) in shape.iter().enumerate().rev() {
        index[i] = flat % size;
        flat /= size;
    }
    index
}

/// Pins a closure to the signature the checks take, so that it can be bound to a variable
/// and used twice: `let f = check::function(|v| v[0].tanh().sum());`. (Rust infers a
/// closure's higher-ranked lifetimes only when it is passed straight to a function that
/// names them; a closure first bound with `let` fails to compile without this.)
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{self, gradcheck, gradgradcheck, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// let f = check::function(|v| (v[0].tanh() * v[0]).sum());
/// let x = [Tensor::from_vec(&[2], vec![0.2, -0.7])];
/// // The same closure, checked to first and second order.
/// assert!(gradcheck(&f, &x, &Tolerance::default()).passed);
/// assert!(gradgradcheck(&f, &x, &Tolerance::default()).passed);
/// ```
pub fn function<F>(f: F) -> F
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    f
}

/// Compares every entry of the Jacobian of `f` at `inputs` with central differences.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{gradcheck, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// // The elementwise product of two inputs: a 3 x 3 Jacobian block for each input.
/// let a = Tensor::from_vec(&[3], vec![0.5, -1.5, 2.0]);
/// let b = Tensor::from_vec(&[3], vec![1.0, 0.25, -3.0]);
/// let report = gradcheck(|v| v[0] * v[1], &[a, b], &Tolerance::default());
/// assert!(report.passed, "{report}");
/// assert_eq!(report.compared, 18);
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor<f64>], tolerance: &Tolerance) -> CheckReport
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    full_jacobian_check(&f, inputs, tolerance, "gradcheck")
}

fn full_jacobian_check<F>(f: &F, inputs: &[Tensor<f64>], tolerance: &Tolerance, check: &'static str) -> CheckReport
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    // Analytic: row o of the Jacobian is the VJP with the one-hot cotangent e_o.
    let tape = Tape::new();
    let vars: Vec<_> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    let y = f(&vars);
    let out_shape = y.shape();
    let outputs = y.len();
    let mut rows: Vec<Vec<Tensor<f64>>> = Vec::with_capacity(outputs);
    for o in 0..outputs {
        let mut seed = vec![0.0; outputs];
        seed[o] = 1.0;
        rows.push(tape.vjp(y, &vars, &Tensor::from_vec(&out_shape, seed)));
    }
    let rows: Vec<Vec<Vec<f64>>> = rows.iter().map(|r| r.iter().map(Tensor::to_vec).collect()).collect();

    // Numeric: column e of input i from f(x + eps e) - f(x - eps e).
    let mut worst = Worst::new(*tolerance);
    let zeros: Vec<Tensor<f64>> = inputs.iter().map(|x| Tensor::zeros(x.shape())).collect();
    for (i, x) in inputs.iter().enumerate() {
        for e in 0..x.len() {
            let mut basis = zeros.clone();
            let mut one_hot = vec![0.0; x.len()];
            one_hot[e] = 1.0;
            basis[i] = Tensor::from_vec(x.shape(), one_hot);
            let plus = evaluate(f, &nudged(inputs, &basis, tolerance.eps)).to_vec();
            let minus = evaluate(f, &nudged(inputs, &basis, -tolerance.eps)).to_vec();
            for o in 0..outputs {
                worst.compare(Mismatch {
                    input: i,
                    input_index: unravel(e, x.shape()),
                    output_index: unravel(o, &out_shape),
                    analytic: rows[o][i][e],
                    numeric: (plus[o] - minus[o]) / (2.0 * tolerance.eps),
                });
            }
        }
    }
    worst.report(check)
}

/// Compares `<u, J^T v>` (one VJP) with `<J u, v>` (one central difference along `u`) for
/// `directions` seeded random pairs `u`, `v`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{gradcheck_directional, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// let a = Tensor::from_vec(&[2, 3], vec![0.1, 0.2, -0.3, 0.4, 0.5, -0.6]);
/// let b = Tensor::from_vec(&[3, 2], vec![1.0, -1.0, 0.5, 2.0, -0.5, 0.3]);
/// let tol = Tolerance::default();
/// // One comparison per random direction, whatever the sizes.
/// let report = gradcheck_directional(|v| v[0].matmul(v[1]), &[a.clone(), b], &tol, 4, 7);
/// assert!(report.passed && report.compared == 4, "{report}");
/// // A gradient that misses a factor is caught.
/// assert!(!gradcheck_directional(|v| v[0] * v[0].detach(), &[a], &tol, 4, 7).passed);
/// ```
pub fn gradcheck_directional<F>(
    f: F,
    inputs: &[Tensor<f64>],
    tolerance: &Tolerance,
    directions: usize,
    seed: u64,
) -> CheckReport
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    directional_check(&f, inputs, tolerance, directions, seed, "gradcheck_directional")
}

fn directional_check<F>(
    f: &F,
    inputs: &[Tensor<f64>],
    tolerance: &Tolerance,
    directions: usize,
    seed: u64,
    check: &'static str,
) -> CheckReport
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let mut rng = StdRng::seed_from_u64(seed);
    let tape = Tape::new();
    let vars: Vec<_> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    let y = f(&vars);
    let mut worst = Worst::new(*tolerance);
    for d in 0..directions {
        let u: Vec<Tensor<f64>> = inputs.iter().map(|x| Tensor::randn(x.shape(), &mut rng)).collect();
        let v = Tensor::randn(&y.shape(), &mut rng);
        let vjps = tape.vjp(y, &vars, &v);
        let analytic: f64 = u.iter().zip(&vjps).map(|(u, g)| u.zip_map(g, |a, b| a * b).sum_all()).sum();
        let plus = evaluate(f, &nudged(inputs, &u, tolerance.eps));
        let minus = evaluate(f, &nudged(inputs, &u, -tolerance.eps));
        let jvp = plus.zip_map(&minus, |p, m| (p - m) / (2.0 * tolerance.eps));
        let numeric = jvp.zip_map(&v, |a, b| a * b).sum_all();
        worst.compare(Mismatch { input: d, input_index: vec![], output_index: vec![], analytic, numeric });
    }
    worst.report(check)
}

/// The VJP map of `f` as a function of `(inputs.., cotangent)`, flattened into one vector:
/// the function whose first derivatives are `f`'s second derivatives.
fn vjp_map<F>(f: &F) -> impl for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64> + '_
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    move |vars| {
        let (xs, cotangent) = vars.split_at(vars.len() - 1);
        let tape = cotangent[0].tape();
        let y = f(xs);
        let grads = tape.vjp_graph(y, xs, cotangent[0]);
        let flat: Vec<_> = grads.iter().map(|g| g.flatten()).collect();
        concat(&flat, 0)
    }
}

/// Inputs extended by a seeded random cotangent of `f`'s output shape.
fn with_cotangent<F>(f: &F, inputs: &[Tensor<f64>], seed: u64) -> Vec<Tensor<f64>>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let out_shape = evaluate(f, inputs).shape().to_vec();
    let mut extended = inputs.to_vec();
    extended.push(Tensor::randn(&out_shape, &mut StdRng::seed_from_u64(seed)));
    extended
}

/// Full second-order check: [`gradcheck`] applied to the VJP map `(x, v) -> J(x)^T v`, whose
/// Jacobian holds `f`'s second derivatives (and `J` itself, through `v`). Input index
/// `inputs.len()` in the report is the cotangent `v`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{self, gradcheck, gradgradcheck, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// let x = [Tensor::from_vec(&[2], vec![0.5, -1.5])];
/// let tol = Tolerance::default();
/// assert!(gradgradcheck(|v| (v[0].sigmoid() * v[0]).sum(), &x, &tol).passed);
/// // The value x^2 and the right gradient 2x, but the gradient is recorded as a constant,
/// // so every second derivative through it is zero: first order passes, second fails.
/// let f = check::function(|v| {
///     let c = v[0].detach();
///     (c.square() + (v[0] - c) * (c * 2.0)).sum()
/// });
/// assert!(gradcheck(&f, &x, &tol).passed);
/// let report = gradgradcheck(&f, &x, &tol);
/// assert!(!report.passed);
/// assert_eq!(report.worst.unwrap().analytic, 0.0);
/// ```
pub fn gradgradcheck<F>(f: F, inputs: &[Tensor<f64>], tolerance: &Tolerance) -> CheckReport
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    full_jacobian_check(&vjp_map(&f), &with_cotangent(&f, inputs, 0x5eed), tolerance, "gradgradcheck")
}

/// Cheap second-order check: [`gradcheck_directional`] applied to the VJP map.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::check::{self, gradgradcheck_directional, Tolerance};
/// use metagrad_autodiff::Tensor;
///
/// let x = [Tensor::from_vec(&[2, 2], vec![0.3, -0.8, 1.1, 0.4])];
/// let tol = Tolerance::default();
/// let smooth = check::function(|v| v[0].tanh().square().sum());
/// let report = gradgradcheck_directional(&smooth, &x, &tol, 3, 11);
/// assert!(report.passed && report.compared == 3, "{report}");
/// // A gradient recorded as a constant has no second derivative: caught here too.
/// let frozen = check::function(|v| {
///     let c = v[0].detach();
///     (c.square() + (v[0] - c) * (c * 2.0)).sum()
/// });
/// assert!(!gradgradcheck_directional(&frozen, &x, &tol, 3, 11).passed);
/// ```
pub fn gradgradcheck_directional<F>(
    f: F,
    inputs: &[Tensor<f64>],
    tolerance: &Tolerance,
    directions: usize,
    seed: u64,
) -> CheckReport
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let extended = with_cotangent(&f, inputs, seed ^ 0x5eed);
    directional_check(&vjp_map(&f), &extended, tolerance, directions, seed, "gradgradcheck_directional")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Grads, Op};

    /// x^2 with a VJP that computes on raw values and returns a constant: the classic trap.
    struct LeakySquare;
    impl Op<f64> for LeakySquare {
        fn name(&self) -> &'static str {
            "leaky_square"
        }
        fn forward(&self, x: &[&Tensor<f64>]) -> Tensor<f64> {
            x[0].map(|v| v * v)
        }
        fn vjp<'t>(&self, x: &[Var<'t, f64>], _: Var<'t, f64>, g: Var<'t, f64>, _: &[bool]) -> Grads<'t, f64> {
            let raw = g.value().zip_map(&x[0].value(), |g, x| 2.0 * g * x);
            vec![Some(g.constant(raw))]
        }
    }

    #[test]
    fn first_order_passes_but_second_order_catches_a_constant_vjp() {
        fn f<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
            v[0].tape().apply(LeakySquare, &[v[0]]).sum()
        }
        let x = [Tensor::from_vec(&[2], vec![0.5, -1.5])];
        let tol = Tolerance::default();
        gradcheck(f, &x, &tol).assert_passed();
        gradcheck_directional(f, &x, &tol, 3, 1).assert_passed();
        let full = gradgradcheck(f, &x, &tol);
        assert!(!full.passed, "{full}");
        let worst = full.worst.clone().expect("a worst entry");
        // The constant VJP claims a zero second derivative where the true one is 2v or 2x.
        assert_eq!(worst.analytic, 0.0);
        assert!(worst.numeric.abs() > 0.5, "{full}");
        assert!(!gradgradcheck_directional(f, &x, &tol, 3, 1).passed);
    }

    #[test]
    fn a_wrong_first_derivative_fails_and_names_the_element() {
        struct WrongSquare;
        impl Op<f64> for WrongSquare {
            fn name(&self) -> &'static str {
                "wrong_square"
            }
            fn forward(&self, x: &[&Tensor<f64>]) -> Tensor<f64> {
                x[0].map(|v| v * v)
            }
            fn vjp<'t>(&self, x: &[Var<'t, f64>], _: Var<'t, f64>, g: Var<'t, f64>, _: &[bool]) -> Grads<'t, f64> {
                vec![Some(g * x[0] * 3.0)] // should be 2
            }
        }
        let report = gradcheck(
            |v| v[0].tape().apply(WrongSquare, &[v[0]]),
            &[Tensor::from_vec(&[3], vec![0.1, 2.0, -0.5])],
            &Tolerance::default(),
        );
        assert!(!report.passed);
        let worst = report.worst.clone().unwrap();
        assert_eq!((worst.input_index.clone(), worst.output_index.clone()), (vec![1], vec![1]));
        assert!((worst.analytic - 6.0).abs() < 1e-12 && (worst.numeric - 4.0).abs() < 1e-6);
        assert!(report.to_string().contains("FAILED"));
    }
}
