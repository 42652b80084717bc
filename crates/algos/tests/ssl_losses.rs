//! The self-supervised losses: each by hand on a tiny batch, and each against central
//! differences to first and second order (f64, proptest over shapes and values; the losses
//! with hinges or mining only where no hinge or choice is within reach of the step).

// `&[x.clone()]` reads better here than `std::slice::from_ref(&x)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use metagrad_algos::ssl::{
    barlow_twins_loss, byol_loss, centroid_loss, contrastive_loss, nt_xent, triplet_loss, Distance, Mining,
};
use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::strategies::tensor_of;
use metagrad_autodiff::{Tape, Tensor};
use proptest::prelude::*;

fn rows(xs: &[&[f64]]) -> Tensor<f64> {
    Tensor::from_vec(&[xs.len(), xs[0].len()], xs.iter().flat_map(|r| r.iter().copied()).collect())
}

fn value(
    f: impl for<'t> Fn(&[metagrad_autodiff::Var<'t, f64>]) -> metagrad_autodiff::Var<'t, f64>,
    inputs: &[Tensor<f64>],
) -> f64 {
    let tape = Tape::new();
    let vars: Vec<_> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    f(&vars).item()
}

fn assert_near(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "got {got}, want {want}");
}

// ---------------------------------------------------------------------------------------------
// Values by hand
// ---------------------------------------------------------------------------------------------

#[test]
fn contrastive_by_hand() {
    // Rows (0,0), (1,0) in group 0 and (0,2) in group 1. The positive pair is 1 apart; the
    // negatives 2 and sqrt(5). Hinge on the squared distance, margin 4.5: 1/1 + (0.5 + 0)/2.
    let z = rows(&[&[0.0, 0.0], &[1.0, 0.0], &[0.0, 2.0]]);
    assert_near(value(|v| contrastive_loss(v[0], &[0, 0, 1], 4.5, Distance::Squared), &[z.clone()]), 1.25, 1e-12);
    // Hadsell et al.'s squared hinge on the distance, margin 2.5: 1 + (0.5^2 + (2.5 - sqrt 5)^2)/2.
    let want = 1.0 + (0.25 + (2.5 - 5f64.sqrt()).powi(2)) / 2.0;
    assert_near(value(|v| contrastive_loss(v[0], &[0, 0, 1], 2.5, Distance::Euclidean), &[z]), want, 1e-9);
}

#[test]
fn triplet_mining_by_hand() {
    // One-dimensional embeddings 0 and 1 (group 0), 1.5 and 3.2 (group 1), margin 1; squared
    // distances d01 = 1, d02 = 2.25, d03 = 10.24, d12 = 0.25, d13 = 4.84, d23 = 2.89.
    let z = rows(&[&[0.0], &[1.0], &[1.5], &[3.2]]);
    let groups = [0, 0, 1, 1];
    let loss = |mining| value(move |v| triplet_loss(v[0], &groups, 1.0, mining, Distance::Squared), &[z.clone()]);
    // Batch-hard, per anchor: 0: (1, 2.25) -> 0; 1: (1, 0.25) -> 1.75; 2: (2.89, 0.25) -> 3.64;
    // 3: (2.89, 4.84) -> 0.
    assert_near(loss(Mining::BatchHard), (1.75 + 3.64) / 4.0, 1e-12);
    // Semi-hard, per positive pair: (0,1) -> n 2.25 -> 0; (1,0) -> n 4.84 -> 0; (2,3): no
    // negative farther than 2.89, so the farthest, 2.25 -> 1.64; (3,2) -> n 4.84 -> 0.
    assert_near(loss(Mining::SemiHard), 1.64 / 4.0, 1e-12);
    // All 8 triplets: 1.75 (1,0,2), 1.64 (2,3,0), 3.64 (2,3,1), the rest 0.
    assert_near(loss(Mining::All), (1.75 + 1.64 + 3.64) / 8.0, 1e-12);
    // Batch-hard on Euclidean distances (1, 1.5, 3.2, 0.5, 2.2, 1.7), per anchor:
    // 0: (1, 1.5) -> 0.5; 1: (1, 0.5) -> 1.5; 2: (1.7, 0.5) -> 2.2; 3: (1.7, 2.2) -> 0.5.
    let euclidean = value(|v| triplet_loss(v[0], &groups, 1.0, Mining::BatchHard, Distance::Euclidean), &[z.clone()]);
    assert_near(euclidean, (0.5 + 1.5 + 2.2 + 0.5) / 4.0, 1e-9);
}

#[test]
fn nt_xent_by_hand() {
    // Views (1,0), (0,1) and (1,0), (-1,0) at temperature 0.5: logits are 2 x cosines.
    let (z1, z2) = (rows(&[&[1.0, 0.0], &[0.0, 1.0]]), rows(&[&[1.0, 0.0], &[-1.0, 0.0]]));
    let e = f64::exp;
    let l0 = -(e(2.0) / (e(0.0) + e(2.0) + e(-2.0))).ln(); // row 0, and row 2 alike
    let l1 = 3f64.ln(); // row 1: every other logit is 0
    let l3 = -(1.0 / (e(-2.0) + 1.0 + e(-2.0))).ln(); // row 3
                                                      // (The 1e-8 inside the normalising root moves the value by about 1e-9.)
    assert_near(value(|v| nt_xent(v[0], v[1], 0.5), &[z1, z2]), (2.0 * l0 + l1 + l3) / 4.0, 1e-7);
}

#[test]
fn byol_by_hand() {
    // cos((1,0), (1,1)) = 1/sqrt(2); a target in the same direction costs nothing.
    let (p, z) = (rows(&[&[1.0, 0.0], &[0.0, 3.0]]), rows(&[&[1.0, 1.0], &[0.0, 0.5]]));
    assert_near(value(|v| byol_loss(v[0], v[1]), &[p, z]), (2.0 - 2f64.sqrt() + 0.0) / 2.0, 1e-7);
}

#[test]
fn barlow_twins_by_hand() {
    // Standardised along the batch, both columns of z1 are (1, -1); z2's are (1, -1) and
    // (-1, 1). C = [[1, -1], [1, -1]] (up to the 1e-5 in the variance), so the diagonal costs
    // (1 - 1)^2 + (1 + 1)^2 = 4 and the off-diagonal lambda (1 + 1).
    let z1 = rows(&[&[1.0, 2.0], &[-1.0, -2.0]]);
    let z2 = rows(&[&[3.0, -2.0], &[1.0, 2.0]]);
    assert_near(value(|v| barlow_twins_loss(v[0], v[1], 0.25), &[z1.clone(), z2]), 4.0 + 0.5, 1e-3);
    // Identical views with uncorrelated features reach 0.
    let z = rows(&[&[1.0, 1.0], &[1.0, -1.0], &[-1.0, 1.0], &[-1.0, -1.0]]);
    assert_near(value(|v| barlow_twins_loss(v[0], v[1], 0.25), &[z.clone(), z]), 0.0, 1e-4);
}

#[test]
fn centroid_by_hand() {
    // Group 7 has (0,0) and (2,0), centroid (1,0): 1 + 1; group 3 is alone: 0. Mean over 3 rows.
    let z = rows(&[&[0.0, 0.0], &[2.0, 0.0], &[5.0, 5.0]]);
    assert_near(value(|v| centroid_loss(v[0], &[7, 7, 3]), &[z]), 2.0 / 3.0, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Gradients to second order
// ---------------------------------------------------------------------------------------------

fn check_both(
    f: impl for<'t> Fn(&[metagrad_autodiff::Var<'t, f64>]) -> metagrad_autodiff::Var<'t, f64>,
    inputs: &[Tensor<f64>],
) -> Result<(), TestCaseError> {
    let tolerance = Tolerance::default();
    let first = gradcheck(&f, inputs, &tolerance);
    prop_assert!(first.passed, "{}", first);
    let second = gradgradcheck(&f, inputs, &tolerance);
    prop_assert!(second.passed, "{}", second);
    Ok(())
}

/// Squared distances between the rows of `z`.
fn distances(z: &Tensor<f64>) -> Vec<Vec<f64>> {
    let (n, d) = (z.shape()[0], z.shape()[1]);
    let v = z.to_vec();
    (0..n).map(|i| (0..n).map(|j| (0..d).map(|k| (v[i * d + k] - v[j * d + k]).powi(2)).sum()).collect()).collect()
}

/// `distances` under `distance`.
fn measured(z: &Tensor<f64>, distance: Distance) -> Vec<Vec<f64>> {
    let d = distances(z);
    match distance {
        Distance::Squared => d,
        Distance::Euclidean => d.into_iter().map(|row| row.into_iter().map(f64::sqrt).collect()).collect(),
    }
}

/// The smallest distance of any hinge argument or mining comparison from a tie.
fn triplet_clearance(z: &Tensor<f64>, groups: &[usize], margin: f64, distance: Distance) -> f64 {
    let d = measured(z, distance);
    let n = groups.len();
    let mut clearance = f64::INFINITY;
    for a in 0..n {
        for j in 0..n {
            for k in 0..n {
                if j != k && j != a && k != a {
                    clearance = clearance.min((d[a][j] - d[a][k]).abs());
                    if groups[j] == groups[a] && groups[k] != groups[a] {
                        clearance = clearance.min((d[a][j] - d[a][k] + margin).abs());
                    }
                }
            }
        }
    }
    clearance
}

/// Two batches `[n, d]` of one random shape.
fn two_batches() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    (1usize..4, 1usize..4).prop_flat_map(|(n, d)| (tensor_of(vec![n, d], -1.0, 1.0), tensor_of(vec![n, d], -1.0, 1.0)))
}

fn groups_of(n: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..2, n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn nt_xent_gradients((z1, z2) in two_batches(), temperature in 0.2f64..2.0) {
        check_both(move |v| nt_xent(v[0], v[1], temperature), &[z1, z2])?;
    }

    #[test]
    fn byol_gradients_reach_the_prediction_only(p in tensor_of(vec![3, 3], -1.0, 1.0), z in tensor_of(vec![3, 3], 0.2, 1.0)) {
        let target = z.clone();
        check_both(move |v| byol_loss(v[0], v[0].constant(target.clone())), &[p.clone()])?;
        let tape = Tape::new();
        let (pv, zv) = (tape.var(p), tape.var(z));
        let grads = tape.grad(byol_loss(pv, zv), &[pv, zv]);
        prop_assert!(grads[1].to_vec().iter().all(|g| *g == 0.0), "the target got a gradient: {:?}", grads[1]);
    }

    #[test]
    fn barlow_twins_gradients(z1 in tensor_of(vec![4, 3], -1.0, 1.0), z2 in tensor_of(vec![4, 3], -1.0, 1.0), lambda in 0.01f64..1.0) {
        check_both(move |v| barlow_twins_loss(v[0], v[1], lambda), &[z1, z2])?;
    }

    #[test]
    fn centroid_gradients(z in tensor_of(vec![5, 2], -1.0, 1.0), groups in groups_of(5)) {
        check_both(move |v| centroid_loss(v[0], &groups), &[z])?;
    }

    #[test]
    fn contrastive_gradients(z in tensor_of(vec![5, 2], -1.0, 1.0), groups in groups_of(5), margin in 0.1f64..2.0) {
        for distance in [Distance::Euclidean, Distance::Squared] {
            // Away from the hinge, and rows apart (the Euclidean distance has a kink at 0).
            let d = measured(&z, distance);
            let apart = (0..5).all(|i| (0..5).all(|j| i == j || d[i][j] > 1e-2));
            prop_assume!(apart && d.iter().flatten().all(|x| (x - margin).abs() > 1e-3));
            let g = groups.clone();
            check_both(move |v| contrastive_loss(v[0], &g, margin, distance), &[z.clone()])?;
        }
    }

    #[test]
    fn triplet_gradients(z in tensor_of(vec![5, 2], -1.0, 1.0), groups in groups_of(5), margin in 0.1f64..1.0) {
        for distance in [Distance::Euclidean, Distance::Squared] {
            prop_assume!(triplet_clearance(&z, &groups, margin, distance) > 1e-3);
            prop_assume!(measured(&z, distance).iter().enumerate().all(|(i, row)| row.iter().enumerate().all(|(j, x)| i == j || *x > 1e-2)));
            for mining in [Mining::BatchHard, Mining::SemiHard, Mining::All] {
                let g = groups.clone();
                check_both(move |v| triplet_loss(v[0], &g, margin, mining, distance), &[z.clone()])?;
            }
        }
    }
}
