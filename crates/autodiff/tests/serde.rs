//! Tensors through serde (feature `serde`): exact round trips, and clear errors for stored
//! data that does not fit its shape.
#![cfg(feature = "serde")]

use metagrad_autodiff::Tensor;

#[test]
fn tensors_round_trip_exactly_through_json() {
    let t = Tensor::from_vec(&[2, 3], vec![0.1f64, -2.5, 1e-300, 3.0, f64::MAX, -0.0]);
    let json = serde_json::to_string(&t).unwrap();
    assert!(json.starts_with(r#"{"shape":[2,3],"data":["#), "{json}");
    let back: Tensor<f64> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.shape(), &[2, 3]);
    let bits = |t: &Tensor<f64>| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back), bits(&t));

    let scalar: Tensor<f32> = serde_json::from_str(r#"{"shape":[],"data":[1.5]}"#).unwrap();
    assert_eq!((scalar.shape().len(), scalar.item()), (0, 1.5));
}

#[test]
fn data_that_does_not_fill_the_shape_is_an_error_naming_both_counts() {
    let err = serde_json::from_str::<Tensor<f64>>(r#"{"shape":[2,2],"data":[1,2,3]}"#).unwrap_err();
    assert!(err.to_string().contains("shape [2, 2] needs 4 elements, but 3 were given"), "{err}");
    let huge = format!(r#"{{"shape":[{},{}],"data":[]}}"#, usize::MAX, 2);
    let err = serde_json::from_str::<Tensor<f64>>(&huge).unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
    let err = serde_json::from_str::<Tensor<f64>>(r#"{"shape":[1],"data":[1],"grad":[]}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}
