#![doc = include_str!("../../../README.md")]
#![deny(missing_docs)]

/// The learning algorithms: meta-learning (MAML and family), continual, self-supervised and
/// federated learning.
pub use metagrad_algos as algos;
/// The autodiff engine: tensors, tapes, ops, gradient checks.
pub use metagrad_autodiff as autodiff;
/// Datasets and episode samplers.
pub use metagrad_data as data;
/// The CPU kernels (GEMM) under the engine.
pub use metagrad_kernels as kernels;
/// Parameters, layers, losses, optimisers, checkpoints.
pub use metagrad_nn as nn;

pub use metagrad_autodiff::{check, Float, Grads, Op, Tape, Tensor, Var};

/// The names most programs need: `use metagrad::prelude::*;`.
pub mod prelude {
    pub use metagrad_autodiff::check::{gradcheck, gradgradcheck, Tolerance};
    pub use metagrad_autodiff::{concat, select, stack, Float, Tape, Tensor, Var};
    pub use metagrad_nn::{Context, Module, ParamVars, Params, Sequential};
}

/// The book's chapters, compiled and run as doctests so their code cannot rot.
#[cfg(doctest)]
pub mod book {
    #[doc = include_str!("../../../docs/introduction.md")]
    pub struct Introduction;

    #[doc = include_str!("../../../docs/how-the-tape-works.md")]
    pub struct HowTheTapeWorks;

    #[doc = include_str!("../../../docs/gradients-of-gradients.md")]
    pub struct GradientsOfGradients;

    #[doc = include_str!("../../../docs/kernels.md")]
    pub struct Kernels;

    #[doc = include_str!("../../../docs/layers.md")]
    pub struct Layers;

    #[doc = include_str!("../../../docs/meta-learning.md")]
    pub struct MetaLearning;

    #[doc = include_str!("../../../docs/continual-learning.md")]
    pub struct ContinualLearning;

    #[doc = include_str!("../../../docs/federated-learning.md")]
    pub struct FederatedLearning;

    #[doc = include_str!("../../../docs/self-supervised-learning.md")]
    pub struct SelfSupervisedLearning;
}
