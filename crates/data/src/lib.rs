//! # metagrad-data
//!
//! Datasets and task samplers, with explicit paths and typed errors:
//!
//! - [`sinusoid`]: the MAML paper's sinusoid regression tasks.
//! - [`omniglot`]: Omniglot from the official layout, resized to 28 x 28, with a cache.
//! - [`mnist`]: MNIST from idx files (plain or gzip), permuted / split views, client partitions.
//! - [`episodes`]: N-way K-shot episodes with rotations as classes.
//! - [`location`]: where examples and tests find the data (`METAGRAD_DATA`).
//!
//! Anything read from disk returns [`DataError`] naming the file and the problem; nothing
//! here panics on bad input, and the cache is written atomically.
#![deny(missing_docs)]

pub mod episodes;
mod error;
pub mod idx;
pub mod location;
pub mod mnist;
pub mod omniglot;
pub mod sinusoid;

pub use error::{DataError, Result};
