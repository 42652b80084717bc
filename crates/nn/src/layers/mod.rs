//! Layers: one file per family.

mod activation;
mod attention;
mod conv;
mod dropout;
mod graph;
mod linear;
mod norm;
mod pool;
mod recurrent;
mod spatial;

pub use activation::{Activation, PRelu};
pub use attention::{MultiHeadAttention, TransformerBlock};
pub use conv::Conv2d;
pub use dropout::{Dropout, Embedding};
pub use graph::{normalized_adjacency, Aggregation, GraphConv};
pub use linear::Linear;
pub use norm::{BatchNorm, LayerNorm};
pub use pool::{AvgPool2d, Flatten, GlobalAvgPool, MaxPool2d};
pub use recurrent::{CellKind, Recurrent, State};
pub use spatial::{ConvTranspose2d, Residual, Upsample};
