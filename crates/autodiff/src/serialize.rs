//! `Serialize` and `Deserialize` for [`Tensor`] (feature `serde`): a tensor is written as its
//! shape and its elements in row-major order, `{"shape": [2, 3], "data": [...]}`.
//!
//! Reading checks that the elements fill the shape exactly, and fails with a message naming
//! both counts otherwise.

use crate::{Float, Tensor};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

impl<T: Float + Serialize> Serialize for Tensor<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Stored { shape: self.shape().to_vec(), data: self.to_vec() }.serialize(serializer)
    }
}

impl<'de, T: Float + Deserialize<'de>> Deserialize<'de> for Tensor<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Stored { shape, data } = Stored::<T>::deserialize(deserializer)?;
        let needed = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        match needed {
            Some(n) if n == data.len() => Ok(Tensor::from_vec(&shape, data)),
            Some(n) => Err(D::Error::custom(format!(
                "a tensor of shape {shape:?} needs {n} elements, but {} were given",
                data.len()
            ))),
            None => Err(D::Error::custom(format!("the tensor shape {shape:?} overflows usize"))),
        }
    }
}
