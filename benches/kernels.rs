//! GEMM and elementwise kernels.
//!
//! `cargo bench -p metagrad-kernels --bench kernels`
//!
//! For GEMM against other libraries in one table, run the `gemm_table` example instead.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use metagrad_kernels::{gemm, sum, unary, MatRef, Unary};

fn gemm_square(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm_f32");
    for (m, k, n) in [(25, 40, 40), (10, 1, 40), (64, 64, 64), (256, 256, 256), (512, 512, 512)] {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 17) as f32 / 17.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 13) as f32 / 13.0).collect();
        let mut out = vec![0.0f32; m * n];
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("{m}x{k}x{n}")), |bench| {
            bench.iter(|| gemm(MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n), &mut out))
        });
    }
    group.finish();
}

fn elementwise(c: &mut Criterion) {
    let len = 1 << 16;
    let x: Vec<f32> = (0..len).map(|i| (i as f32 / len as f32 - 0.5) * 10.0).collect();
    let mut out = vec![0.0f32; len];
    let mut group = c.benchmark_group("elementwise_f32_64k");
    group.throughput(Throughput::Elements(len as u64));
    for op in [Unary::Exp, Unary::Ln, Unary::Tanh, Unary::Sigmoid] {
        group.bench_function(format!("metagrad_{op:?}"), |bench| bench.iter(|| unary(op, black_box(&x), &mut out)));
    }
    group.bench_function("std_exp", |bench| {
        bench.iter(|| out.iter_mut().zip(black_box(&x)).for_each(|(o, v)| *o = v.exp()))
    });
    group.bench_function("std_tanh", |bench| {
        bench.iter(|| out.iter_mut().zip(black_box(&x)).for_each(|(o, v)| *o = v.tanh()))
    });
    group.bench_function("metagrad_sum", |bench| bench.iter(|| sum(black_box(&x))));
    group.bench_function("iter_sum", |bench| bench.iter(|| black_box(&x).iter().sum::<f32>()));
    group.finish();
}

criterion_group!(benches, gemm_square, elementwise);
criterion_main!(benches);
