//! # metagrad-kernels
//!
//! The CPU kernels under metagrad: plain slices in, plain slices out. This crate knows
//! nothing of tapes or gradients; `metagrad-autodiff` calls it for the heavy lifting.
//!
//! - [`gemm`], [`gemm_ex`], [`gemm_batched`]: matrix products on strided views, packed and
//!   blocked, with AVX2/FMA microkernels picked at run time and a portable path.
//! - [`unary`], [`sum`], [`max`]: elementwise maps (vectorised `f32` transcendentals) and
//!   reductions in a fixed order.
//! - [`im2col`], [`col2im`], [`max_pool2d`]: convolution lowering and pooling on
//!   `[channels, height, width]` images, described by a [`Window2d`]; [`im2col_wide`] and
//!   [`col2im_wide`] lay a batch's columns side by side, so a batch convolution is one
//!   matrix product; [`conv2d_forward`], [`conv2d_input_grad`] and [`conv2d_weight_grad`]
//!   do the same a block of images at a time, in cache.
//!
//! Every kernel is deterministic: the order in which a reduction visits its terms is fixed
//! by the problem size alone, never by the number of threads, so the same inputs give
//! bit-identical outputs on one core or many.
//!
//! ```
//! use metagrad_kernels::{gemm, MatRef};
//! // [1 2; 3 4] x [5; 6] = [17; 39]
//! let a = [1.0, 2.0, 3.0, 4.0];
//! let b = [5.0, 6.0];
//! let mut c = [0.0; 2];
//! gemm(MatRef::row_major(&a, 2, 2), MatRef::row_major(&b, 2, 1), &mut c);
//! assert_eq!(c, [17.0, 39.0]);
//! ```
#![deny(missing_docs)]

mod conv;
mod conv_gemm;
mod element;
mod elementwise;
mod fast_f32;
mod gemm;
mod isa;
mod scratch;

pub use conv::{col2im, col2im_batch, col2im_wide, im2col, im2col_batch, im2col_wide, max_pool2d, Window2d};
pub use conv_gemm::{conv2d_forward, conv2d_input_grad, conv2d_weight_grad};
pub use element::Element;
pub use elementwise::{max, sum, unary, Unary};
pub use gemm::{gemm, gemm_batched, gemm_ex, MatMut, MatRef};
pub use isa::Isa;
