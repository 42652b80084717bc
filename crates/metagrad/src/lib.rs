#![doc = include_str!("../../../README.md")]
#![deny(missing_docs)]

/// The autodiff engine: tensors, tapes, ops, gradient checks.
pub use metagrad_autodiff as autodiff;
/// The CPU kernels (GEMM) under the engine.
pub use metagrad_kernels as kernels;

pub use metagrad_autodiff::{check, Float, Grads, Op, Tape, Tensor, Var};

/// The names most programs need: `use metagrad::prelude::*;`.
pub mod prelude {
    pub use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
    pub use metagrad_autodiff::{concat, select, stack, Float, Tape, Tensor, Var};
}
