//! # metagrad-nn
//!
//! Parameters, functional modules, layers, losses, optimisers and checkpoints.
//!
//! Parameters live outside tapes as [`Params`]; a forward pass lifts them onto a tape
//! ([`Params::on`]) and runs a [`Module`]'s functional forward. That is what makes MAML's inner
//! loop plain code: the same module runs on the adapted parameters.
//!
//! ```
//! use metagrad_autodiff::{Tape, Tensor};
//! use metagrad_nn::{layers::{Activation, Linear}, loss, Context, Module, Sequential};
//! use rand::SeedableRng;
//!
//! let net = Sequential::<f64>::default().push(Linear::new(2, 8)).push(Activation::Tanh).push(Linear::new(8, 1));
//! let params = net.init(&mut rand::rngs::StdRng::seed_from_u64(0));
//! let tape = Tape::new();
//! let p = params.on(&tape);
//! let x = tape.constant(Tensor::from_vec(&[4, 2], vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]));
//! let y = tape.constant(Tensor::from_vec(&[4, 1], vec![0.0, 1.0, 1.0, 0.0]));
//! let mut ctx = Context::train(net.init_state(), 0);
//! let l = loss::mse(net.forward(&p, x, &mut ctx), y, loss::Reduction::Mean);
//! let grads = p.grad(l);
//! assert_eq!(grads.names().collect::<Vec<_>>(), vec!["0.weight", "0.bias", "2.weight", "2.bias"]);
//! ```
#![deny(missing_docs)]

pub mod checkpoint;
pub mod init;
pub mod layers;
pub mod loss;
mod module;
pub mod optim;
mod params;
#[cfg(feature = "serde")]
mod serialize;

pub use module::{Context, Mode, Module, Sequential};
pub use params::{ParamVars, Params};
