//! # metagrad-autodiff
//!
//! A tape-based reverse-mode automatic differentiation engine whose backward pass is itself
//! differentiable, so gradients of gradients work to any order.
//!
//! ```
//! use metagrad_autodiff::{Tape, Tensor};
//!
//! let tape = Tape::<f64>::new();
//! let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 2.0]));
//! let y = (x * x * x).sum();                // y = sum x^3
//! let g = tape.grad_graph(y, &[x])[0];      // dy/dx = 3x^2, recorded on the tape
//! assert_eq!(g.value().to_vec(), vec![3.0, 12.0]);
//! let h = tape.grad(g.sum(), &[x])[0].to_vec(); // d/dx sum 3x^2 = 6x
//! assert_eq!(h, vec![6.0, 12.0]);
//! ```
//!
//! - [`Tape`] owns an arena of nodes; [`Var`] is a `Copy` handle into it.
//! - Every op ([`Op`]) writes its VJP with differentiable `Var` ops, so
//!   [`Tape::grad_graph`] records the backward pass and the result can be differentiated again;
//!   [`Tape::grad`] runs the same VJPs without recording (the fast path).
//! - [`check`] compares analytic first and second derivatives with finite differences.
#![deny(missing_docs)]

pub mod check;
mod float;
mod functional;
mod op;
mod ops;
mod parallel;
mod scratch;
#[cfg(feature = "serde")]
mod serialize;
mod small_list;
#[cfg(feature = "proptest")]
pub mod strategies;
mod tape;
mod tensor;
mod var;

pub use float::Float;
pub use functional::{hessian, jacobian};
pub use metagrad_kernels::Window2d;
pub use op::{Grads, Op};
pub use ops::{broadcast_shape, channel_moments, concat, one_hot, select, stack, Indices, Mask};
pub use tape::{Anomaly, Tape};
pub use tensor::Tensor;
pub use var::Var;
