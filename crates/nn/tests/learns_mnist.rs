//! A small CNN on MNIST from `../shared/data` reaches at least 98% test accuracy.
//!
//! Slow in a debug build, so it is ignored there; CI runs it in release:
//! `cargo test --release -p metagrad-nn --test learns_mnist -- --ignored --nocapture`

use metagrad_autodiff::{Tape, Tensor};
use metagrad_data::location::dataset_for_test;
use metagrad_data::mnist::Mnist;
use metagrad_nn::layers::{Activation, Conv2d, Flatten, Linear, MaxPool2d};
use metagrad_nn::loss::{self, Reduction, Targets};
use metagrad_nn::optim::{Adam, Optimizer};
use metagrad_nn::{Context, Module, Params, Sequential};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::time::Instant;

fn batch(images: &ndarray::Array2<f32>, labels: &[u8], indices: &[usize]) -> (Tensor<f32>, Vec<usize>) {
    let x = images
        .select(ndarray::Axis(0), indices)
        .into_shape_with_order((indices.len(), 1, 28, 28))
        .expect("28x28")
        .into_dyn();
    (Tensor::from_array(x), indices.iter().map(|&i| usize::from(labels[i])).collect())
}

#[test]
#[ignore = "about two minutes in release; run with --release -- --ignored"]
fn small_cnn_reaches_98_percent() {
    let Some(dir) = dataset_for_test("mnist") else { return };
    let mnist = Mnist::load(&dir).expect("MNIST loads");
    let net: Sequential<f32> = Sequential::default()
        .push(Conv2d::new(1, 16, 3, 1))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(16, 32, 3, 1))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten)
        .push(Linear::new(32 * 7 * 7, 10));
    let mut rng = StdRng::seed_from_u64(0);
    let mut params = net.init(&mut rng);
    let mut adam = Adam::new(2e-3);
    let start = Instant::now();
    let mut order: Vec<usize> = (0..mnist.train.labels.len()).collect();
    let mut step = 0u64;
    // Two epochs; the second at a quarter of the rate.
    for epoch in 0..2 {
        adam.set_learning_rate(if epoch == 0 { 2e-3 } else { 5e-4 });
        order.shuffle(&mut rng);
        for chunk in order.chunks(64) {
            step += 1;
            let (x, y) = batch(&mnist.train.images, &mnist.train.labels, chunk);
            let tape = Tape::new();
            let p = params.on(&tape);
            let logits = net.forward(&p, tape.constant(x), &mut Context::train(Params::new(), step));
            let l = loss::cross_entropy(logits, Targets::Classes(&y), 0.0, Reduction::Mean);
            if step.is_multiple_of(200) {
                eprintln!("step {step:4}: loss {:.4} ({:.1?})", l.item(), start.elapsed());
            }
            let grads = p.grad(l);
            adam.step(&mut params, &grads);
        }
    }
    let train_time = start.elapsed();
    let test: Vec<usize> = (0..mnist.test.labels.len()).collect();
    let mut correct = 0.0;
    for chunk in test.chunks(500) {
        let (x, y) = batch(&mnist.test.images, &mnist.test.labels, chunk);
        let tape = Tape::new();
        let logits =
            tape.no_grad(|| net.forward(&params.on(&tape), tape.constant(x), &mut Context::eval(Params::new())));
        correct += loss::accuracy(&logits.value(), &y) * y.len() as f64;
    }
    let accuracy = correct / test.len() as f64;
    eprintln!("two epochs in {train_time:.1?}; test accuracy {:.2}%", 100.0 * accuracy);
    assert!(accuracy >= 0.98, "test accuracy {accuracy}");
}
