//! One sinusoid MAML meta-iteration, the anchors' workload (`maml_sinusoid.py --mode time`):
//! 25 tasks, K = 10 support and 10 query points, a 1-40-40-1 ReLU net in f32, one inner SGD
//! step of rate 0.01, Adam on the mean meta-gradient; second order, first order, and second
//! order with the checkpointed inner loop; on 1 and 2 threads.
//!
//! `cargo bench -p metagrad-algos --bench meta`; beside it,
//! `python ../shared/anchors/maml_sinusoid.py --lib jax --impl vmap --threads 1`.
//! `cargo run --release -p metagrad-algos --example maml_speed` prints the same as a table,
//! with peak memory.

use criterion::{criterion_group, criterion_main, Criterion};

// The allocator of the `metagrad` program (docs/PERFORMANCE.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use metagrad_algos::meta::{meta_step, sinusoid, Maml};
use metagrad_nn::optim::Adam;
use metagrad_nn::Module;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn sinusoid_maml(c: &mut Criterion) {
    let model = sinusoid::network::<f32>(40);
    let episodes = sinusoid::meta_batch(25, 10, 10, &mut StdRng::seed_from_u64(1));
    let mut group = c.benchmark_group("sinusoid_maml_meta_iteration");
    group.sample_size(30);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
        for (label, method) in [
            ("second_order", Maml::new(1, 0.01)),
            ("first_order", Maml::new(1, 0.01).first_order()),
            ("second_order_checkpointed", Maml::new(1, 0.01).checkpointed()),
        ] {
            let mut meta = model.init(&mut StdRng::seed_from_u64(0));
            let mut adam = Adam::new(1e-3);
            group.bench_function(format!("{label}/{threads}_threads"), |b| {
                b.iter(|| pool.install(|| meta_step(&method, &model, &mut meta, &episodes, &mut adam, None)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, sinusoid_maml);
criterion_main!(benches);
