//! Layers: one file per family.

mod activation;
mod conv;
mod dropout;
mod linear;
mod norm;
mod pool;

pub use activation::{Activation, PRelu};
pub use conv::Conv2d;
pub use dropout::{Dropout, Embedding};
pub use linear::Linear;
pub use norm::{BatchNorm, LayerNorm};
pub use pool::{AvgPool2d, Flatten, MaxPool2d};
