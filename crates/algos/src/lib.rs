//! # metagrad-algos
//!
//! The learning algorithms that need metagrad's gradients, one file per method, each with its
//! mathematics and its paper in the file's doc comment.
//!
//! - [`meta`]: meta-learning — MAML (second and first order, with an optional checkpointed
//!   inner loop), Meta-SGD, ANIL, the R2D2 closed-form ridge head, Reptile, and a
//!   pretrained-then-fine-tuned baseline, and prototypical networks, all driven by one episode
//!   loop.
//! - [`continual`]: continual learning — naive and joint training, EWC and online EWC, MAS,
//!   SI, experience replay, deep generative replay and learning without forgetting, all
//!   driven by one training loop over a task sequence, with the accuracy-matrix metrics.
//! - [`ssl`]: self-supervised and metric representation learning — margin contrastive
//!   (siamese), triplet with mining, SimCLR, BYOL, Barlow Twins, centroid regularisation,
//!   rotation and jigsaw pretext tasks, on seeded augmentations, with linear-probe and k-NN
//!   evaluation, all driven by one pretraining loop.
//! - [`federated`]: federated learning — FedSGD, FedAvg (with FedProx, FedAvgM and FedAdam as
//!   options), robust aggregation, dropped and faulty clients, and decentralised consensus SGD
//!   on ring, torus, random regular and complete graphs, behind a transport trait.
#![deny(missing_docs)]

pub mod continual;
pub mod federated;
pub mod labelled;
pub mod meta;
mod par;
pub mod ssl;

pub use labelled::Labelled;
