//! The downstream crate's own tests: its custom op is checked like a built-in one, and MAML
//! on its custom model learns.

use metagrad::autodiff::strategies::tensor;
use metagrad::prelude::*;
use metagrad_embed_example::{fused_swish, meta_train};
use proptest::prelude::*;

fn of_first<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
    fused_swish(v[0])
}

fn silu<'t>(x: Var<'t, f64>) -> Var<'t, f64> {
    x.silu()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// First and second derivatives of the custom op against central differences.
    #[test]
    fn fused_swish_passes_gradcheck_and_gradgradcheck(x in tensor(3, 4, -4.0, 4.0)) {
        let tolerance = Tolerance::default();
        let first = gradcheck(of_first, std::slice::from_ref(&x), &tolerance);
        prop_assert!(first.passed, "{first:?}");
        let second = gradgradcheck(of_first, std::slice::from_ref(&x), &tolerance);
        prop_assert!(second.passed, "{second:?}");
    }
}

/// The one-node op and the built-in two-node composite `Var::silu` agree on values and on derivatives up
/// to third order (the derivative of a Hessian-vector product).
#[test]
fn fused_swish_matches_the_composite_to_third_order() {
    let x0 = Tensor::from_vec(&[5], vec![-3.0, -0.7, 0.0, 0.4, 2.5]);
    let third = |swish: for<'t> fn(Var<'t, f64>) -> Var<'t, f64>| {
        let tape = Tape::new();
        let x = tape.var(x0.clone());
        let y = swish(x);
        let g = tape.grad_graph(y.sum(), &[x])[0];
        let h = tape.grad_graph(g.sum(), &[x])[0];
        let t = tape.grad(h.sum(), &[x])[0].to_vec();
        (y.value().to_vec(), g.value().to_vec(), h.value().to_vec(), t)
    };
    let fused = third(fused_swish);
    let composite = third(silu);
    let pairs =
        [(&fused.0, &composite.0), (&fused.1, &composite.1), (&fused.2, &composite.2), (&fused.3, &composite.3)];
    for (order, (a, b)) in pairs.into_iter().enumerate() {
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() < 1e-12, "order {order}: fused {u} vs composite {v}");
        }
    }
}

/// MAML on the custom model learns: after meta-training, one inner step on a new task's
/// support set gives a much lower query error than one step from the initialisation.
#[test]
fn maml_on_the_custom_model_learns() {
    let mut losses = Vec::new();
    let report = meta_train(20, 1500, 10, 1, |_, loss| losses.push(loss));
    assert_eq!(losses.len(), 10, "progress is reported every tenth of the run");
    let (before, after) = (report.before[1], report.after[1]);
    assert!(after < 0.5 * before, "test MSE after one inner step: {before:.3} at the start, {after:.3} after");
    // And what was learned is an initialisation to adapt from: the step itself helps.
    assert!(after < 0.5 * report.after[0], "after meta-training, 0 steps {:.3} vs 1 step {after:.3}", report.after[0]);
}
