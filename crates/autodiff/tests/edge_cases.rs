//! Values at the edges: infinities, NaN, zero exponents, mismatched index shapes.

use metagrad_autodiff::{Tape, Tensor};

fn vector(values: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(&[values.len()], values.to_vec())
}

#[test]
fn logsumexp_of_infinite_rows_is_infinite_not_nan() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(Tensor::from_vec(&[2, 2], vec![f64::NEG_INFINITY, f64::NEG_INFINITY, f64::INFINITY, 0.0]));
    assert_eq!(x.logsumexp(&[1], false).value().to_vec(), vec![f64::NEG_INFINITY, f64::INFINITY]);
}

#[test]
fn powf_zero_has_zero_gradient_at_zero() {
    let tape = Tape::<f64>::new();
    let x = tape.var(vector(&[0.0, 2.0]));
    assert_eq!(tape.grad(x.powf(0.0).sum(), &[x])[0].to_vec(), vec![0.0, 0.0]);
}

#[test]
fn nan_propagates_through_max_maximum_and_relu() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(vector(&[f64::NAN, 1.0]));
    let y = tape.constant(vector(&[1.0, f64::NAN]));
    assert!(x.max_axes(&[0], false).item().is_nan());
    assert!(x.maximum(y).value().to_vec().iter().all(|v| v.is_nan()));
    assert!(y.minimum(x).value().to_vec().iter().all(|v| v.is_nan()));
    assert!(x.relu().value().to_vec()[0].is_nan());
    let f32_tape = Tape::<f32>::new();
    let z = f32_tape.constant(Tensor::from_vec(&[2], vec![f32::NAN, -1.0]));
    assert!(z.relu().value().to_vec()[0].is_nan() && z.tanh().value().to_vec()[0].is_nan());
}

#[test]
fn f32_exp_near_overflow_is_finite() {
    let tape = Tape::<f32>::new();
    let x = tape.constant(Tensor::from_vec(&[1], vec![88.5f32]));
    let y = x.exp().item();
    assert!(y.is_finite() && (f64::from(y) / 88.5f64.exp() - 1.0).abs() < 1e-6, "{y}");
}

#[test]
#[should_panic(expected = "scatter_add: index of shape [2, 1] for a source of shape [2, 3]")]
fn scatter_add_index_must_match_the_source() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::zeros(&[2, 3]));
    let index = ndarray::ArrayD::from_shape_vec(vec![2, 1], vec![0usize, 1]).unwrap().into_shared();
    let _ = x.scatter_add(1, &index, 4);
}

#[test]
#[should_panic(expected = "hvp: direction 0 has shape [1, 3], its input has shape [3, 1]")]
fn hvp_direction_must_match_its_input() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::ones(&[3, 1]));
    let _ = tape.hvp(x.square().sum(), &[x], &[Tensor::ones(&[1, 3])]);
}

#[test]
fn uniform_stays_below_high() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let t = Tensor::<f32>::uniform(&[100_000], 0.0, 1.0, &mut rng);
    assert!(t.to_vec().iter().all(|&v| (0.0..1.0).contains(&v)));
}

#[test]
fn max_abs_diff_sees_nan() {
    assert!(vector(&[f64::NAN]).max_abs_diff(&vector(&[0.0])).is_nan());
}
