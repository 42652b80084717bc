//! The primitive ops and the composites built from them.
//!
//! Each file holds a few related ops; each op's forward computation and its VJP sit side by
//! side. Composites (softmax, gelu, maximum, index_select, ...) are written in terms of
//! primitives and so need no VJP of their own: their gradients, of every order, come free.
//!
//! Linear ops that are not elementwise come in adjoint pairs whose VJPs are each other:
//! `broadcast_to`/`sum_to`, `narrow`/`pad_axis`, `gather`/`scatter_add`, `reshape`/`reshape`,
//! `permute`/`permute`, `im2col`/`col2im`, `im2col_wide`/`col2im_wide`,
//! `scale_channels`/`channel_dot` (bilinear: each one's VJP is the other); convolution's three
//! ops (`conv2d`, its input gradient and its weight gradient) are each other's VJPs.

mod affine;
mod arith;
mod compare;
mod conv;
mod conv2d;
mod index;
mod matmul;
mod norm;
mod overload;
mod reduce;
mod shape;
mod slice;
mod solve;
mod unary;

pub use compare::{select, Mask};
pub use index::{one_hot, Indices};
pub use norm::channel_moments;
pub use shape::broadcast_shape;
pub use slice::{concat, stack};
