//! Parameters through serde (feature `serde`): order and values survive, duplicates are refused.
#![cfg(feature = "serde")]

use metagrad_autodiff::Tensor;
use metagrad_nn::layers::Linear;
use metagrad_nn::{Module, Params, Sequential};
use rand::{rngs::StdRng, SeedableRng};

#[test]
fn a_models_parameters_round_trip_in_order() {
    let model: Sequential<f32> = Sequential::default().push(Linear::new(3, 4)).push(Linear::new(4, 2));
    let params = model.init(&mut StdRng::seed_from_u64(0));
    let json = serde_json::to_string(&params).unwrap();
    let back: Params<f32> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, params);
    assert_eq!(back.names().collect::<Vec<_>>(), params.names().collect::<Vec<_>>());
}

#[test]
fn a_name_given_twice_is_refused() {
    let one = Tensor::from_vec(&[1], vec![1.0f64]);
    let json = serde_json::to_string(&vec![("w", &one), ("w", &one)]).unwrap();
    let err = serde_json::from_str::<Params<f64>>(&json).unwrap_err();
    assert!(err.to_string().contains("the parameter `w` appears twice"), "{err}");
}
