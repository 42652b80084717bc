//! `Serialize` and `Deserialize` for [`Params`] (feature `serde`): a list of `[name, tensor]`
//! pairs in the parameters' order, so the order (which fixes every sum over parameters)
//! survives the round trip. Reading rejects a name that appears twice.

use crate::Params;
use metagrad_autodiff::{Float, Tensor};
use serde::de::Error as _;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl<T: Float + Serialize> Serialize for Params<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for pair in self.iter() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

impl<'de, T: Float + Deserialize<'de>> Deserialize<'de> for Params<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(String, Tensor<T>)>::deserialize(deserializer)?;
        let mut params = Params::new();
        for (name, value) in pairs {
            if params.get(&name).is_some() {
                return Err(D::Error::custom(format!("the parameter `{name}` appears twice")));
            }
            params.insert(name, value);
        }
        Ok(params)
    }
}
