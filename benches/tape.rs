//! Tape overhead and a small MLP's first- and second-order passes.
//!
//! `cargo bench -p metagrad-autodiff --bench tape`
//!
//! - `record_op/*`: a chain of 1,000 ops on one-element tensors, so the time is almost all
//!   bookkeeping (node push, op allocation, shape checks); divide by 1,000 for ns per op.
//! - `mlp_1_40_40_1/*`: the MAML sinusoid network on 10 points: forward; forward + `grad`;
//!   forward + `grad_graph` + a second backward through it (what one MAML inner step and the
//!   meta-gradient through it cost, without the optimiser).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use rand::rngs::StdRng;
use rand::SeedableRng;

const CHAIN: usize = 1_000;

fn record_ops(c: &mut Criterion) {
    let mut group = c.benchmark_group("record_op");
    group.bench_function("add_scalar_x1000", |b| {
        b.iter(|| {
            let tape = Tape::<f32>::new();
            let mut x = tape.var(Tensor::scalar(1.0));
            for _ in 0..CHAIN {
                x = x + 1.0;
            }
            black_box(x.item())
        })
    });
    group.bench_function("mul_var_var_x1000", |b| {
        b.iter(|| {
            let tape = Tape::<f32>::new();
            let w = tape.var(Tensor::scalar(1.0001));
            let mut x = w;
            for _ in 0..CHAIN {
                x = x * w;
            }
            black_box(x.item())
        })
    });
    group.bench_function("mul_var_var_x1000_plus_grad", |b| {
        b.iter(|| {
            let tape = Tape::<f32>::new();
            let w = tape.var(Tensor::scalar(1.0001));
            let mut x = w;
            for _ in 0..CHAIN {
                x = x * w;
            }
            black_box(tape.grad(x, &[w]))
        })
    });
    group.bench_function("mul_var_var_x1000_no_grad", |b| {
        b.iter(|| {
            let tape = Tape::<f32>::new();
            let w = tape.var(Tensor::scalar(1.0001));
            tape.no_grad(|| {
                let mut x = w;
                for _ in 0..CHAIN {
                    x = x * w;
                }
                black_box(x.item())
            })
        })
    });
    group.finish();
}

struct Mlp<T: Float> {
    params: Vec<Tensor<T>>,
    x: Tensor<T>,
    y: Tensor<T>,
}

impl<T: Float> Mlp<T> {
    fn new() -> Self {
        let mut rng = StdRng::seed_from_u64(0);
        let layer = |i: usize, o: usize, rng: &mut StdRng| {
            let bound = T::of((6.0 / (i + o) as f64).sqrt());
            [Tensor::uniform(&[i, o], -bound, bound, rng), Tensor::zeros(&[o])]
        };
        let mut params = Vec::new();
        for (i, o) in [(1, 40), (40, 40), (40, 1)] {
            params.extend(layer(i, o, &mut rng));
        }
        let x = Tensor::uniform(&[10, 1], T::of(-5.0), T::of(5.0), &mut rng);
        let y = x.map(|v| v.sin());
        Mlp { params, x, y }
    }

    fn loss<'t>(&self, tape: &'t Tape<T>, p: &[Var<'t, T>]) -> Var<'t, T> {
        let x = tape.constant(self.x.clone());
        let h = (x.matmul(p[0]) + p[1]).relu();
        let h = (h.matmul(p[2]) + p[3]).relu();
        let out = h.matmul(p[4]) + p[5];
        (out - tape.constant(self.y.clone())).square().mean()
    }
}

fn mlp<T: Float>(c: &mut Criterion, name: &str) {
    let mlp = Mlp::<T>::new();
    let mut group = c.benchmark_group(format!("mlp_1_40_40_1/{name}"));
    group.bench_function("forward", |b| {
        b.iter(|| {
            let tape = Tape::new();
            let p: Vec<_> = mlp.params.iter().map(|t| tape.var(t.clone())).collect();
            black_box(mlp.loss(&tape, &p).item())
        })
    });
    group.bench_function("forward_backward", |b| {
        b.iter(|| {
            let tape = Tape::new();
            let p: Vec<_> = mlp.params.iter().map(|t| tape.var(t.clone())).collect();
            black_box(tape.grad(mlp.loss(&tape, &p), &p))
        })
    });
    group.bench_function("forward_backward_double_backward", |b| {
        b.iter(|| {
            let tape = Tape::new();
            let p: Vec<_> = mlp.params.iter().map(|t| tape.var(t.clone())).collect();
            let grads = tape.grad_graph(mlp.loss(&tape, &p), &p);
            // One SGD step with the graph kept, then the loss at the adapted weights,
            // differentiated back to the original weights: the MAML meta-gradient.
            let adapted: Vec<_> = p.iter().zip(&grads).map(|(w, g)| *w - *g * T::of(0.01)).collect();
            black_box(tape.grad(mlp.loss(&tape, &adapted), &p))
        })
    });
    group.finish();
}

fn mlps(c: &mut Criterion) {
    mlp::<f32>(c, "f32");
    mlp::<f64>(c, "f64");
}

criterion_group!(benches, record_ops, mlps);
criterion_main!(benches);
