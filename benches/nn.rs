//! The networks of the anchors' workloads, f32:
//! - the Omniglot MAML backbone (4 x [conv3x3 64, batch-norm with batch statistics, ReLU,
//!   2x2 max-pool] on 1x28x28, then linear 64 -> 5): forward, forward + backward, and one
//!   second-order inner step (grad_graph, SGD step with lr 0.4, loss at the adapted
//!   parameters, backward to the original ones), at batch 25 and 75;
//! - the 784-256-256-10 MLP train step at batch 128 (forward, backward, Adam).
//!
//! `cargo bench -p metagrad-nn --bench nn`; beside it, `python conv_step.py --what backbone`
//! and `python mlp_train.py --lib torch` from `../shared/anchors`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

// The allocator of the `metagrad` program (docs/PERFORMANCE.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use metagrad_autodiff::{Tape, Tensor};
use metagrad_nn::layers::{Activation, BatchNorm, Conv2d, Flatten, Linear, MaxPool2d};
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::optim::{sgd_step, Adam, Optimizer};
use metagrad_nn::{Context, Module, Params, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn backbone() -> Sequential<f32> {
    let mut net = Sequential::default();
    for block in 0..4 {
        net = net
            .push(Conv2d::new(if block == 0 { 1 } else { 64 }, 64, 3, 1))
            .push(BatchNorm::new(64))
            .push(Activation::Relu)
            .push(MaxPool2d::new(2));
    }
    net.push(Flatten).push(Linear::new(64, 5))
}

fn conv4(c: &mut Criterion) {
    let net = backbone();
    let mut rng = StdRng::seed_from_u64(0);
    let params: Params<f32> = net.init(&mut rng);
    for batch in [25usize, 75] {
        let x = Tensor::<f32>::randn(&[batch, 1, 28, 28], &mut rng);
        let labels: Vec<usize> = (0..batch).map(|i| i % 5).collect();
        let mut group = c.benchmark_group(format!("conv4_omniglot/batch_{batch}"));
        group.sample_size(20);
        group.bench_function("forward", |b| {
            b.iter(|| {
                let tape = Tape::new();
                let out = net.forward(&params.on(&tape), tape.constant(x.clone()), &mut Context::transductive(0));
                black_box(out.value())
            })
        });
        group.bench_function("forward_backward", |b| {
            b.iter(|| {
                let tape = Tape::new();
                let p = params.on(&tape);
                let out = net.forward(&p, tape.constant(x.clone()), &mut Context::transductive(0));
                black_box(p.grad(cross_entropy(out, Targets::Classes(&labels), 0.0, Reduction::Mean)))
            })
        });
        group.bench_function("second_order_inner_step", |b| {
            b.iter(|| {
                let tape = Tape::new();
                let p = params.on(&tape);
                let input = tape.constant(x.clone());
                let support = cross_entropy(
                    net.forward(&p, input, &mut Context::transductive(0)),
                    Targets::Classes(&labels),
                    0.0,
                    Reduction::Mean,
                );
                let adapted = sgd_step(&p, &p.grad_graph(support), 0.4);
                let query = cross_entropy(
                    net.forward(&adapted, input, &mut Context::transductive(0)),
                    Targets::Classes(&labels),
                    0.0,
                    Reduction::Mean,
                );
                black_box(p.grad(query))
            })
        });
        group.finish();
    }
}

fn mlp(c: &mut Criterion) {
    let net: Sequential<f32> = Sequential::default()
        .push(Linear::new(784, 256))
        .push(Activation::Relu)
        .push(Linear::new(256, 256))
        .push(Activation::Relu)
        .push(Linear::new(256, 10));
    let mut rng = StdRng::seed_from_u64(1);
    let mut params: Params<f32> = net.init(&mut rng);
    let x = Tensor::<f32>::randn(&[128, 784], &mut rng);
    let labels: Vec<usize> = (0..128).map(|i| i % 10).collect();
    let mut adam = Adam::new(1e-3);
    c.bench_function("mlp_784_256_256_10/batch_128/train_step", |b| {
        b.iter(|| {
            let tape = Tape::new();
            let p = params.on(&tape);
            let logits = net.forward(&p, tape.constant(x.clone()), &mut Context::train(Params::new(), 0));
            let grads = p.grad(cross_entropy(logits, Targets::Classes(&labels), 0.0, Reduction::Mean));
            adam.step(&mut params, &grads);
        })
    });
}

criterion_group!(benches, conv4, mlp);
criterion_main!(benches);
