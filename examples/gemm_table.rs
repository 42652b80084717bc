//! GFLOP/s of metagrad's GEMM beside ndarray's `dot` (matrixmultiply) and the `gemm` crate,
//! measured in one run so the ratios are fair on a shared machine.
//!
//! `cargo run --release -p metagrad-kernels --example gemm_table [-- --quick] [--sizes 256,512]`
//!
//! Square sizes 16 ... 2048 and the MAML sinusoid shapes (25x40x40: a hidden layer on 25
//! points; 10x1x40: the first layer on 10 points), f32 and f64, 1 and 2 threads. Each figure
//! is the best of 5 rounds of at least 0.1 s (0.02 s with --quick). matrixmultiply runs
//! single-threaded (ndarray's default build), so its 2-thread column repeats the 1-thread one
//! and is marked `(1T)`.
//!
//! `--conv4` instead times the products of one conv-4 training step at batch 75 (f32), with
//! the operands laid out as training lays them (transposed views where the backward pass
//! takes them), beside the `gemm` crate on the same strided operands.

use metagrad_kernels::{gemm, Element, MatRef};
use std::time::Instant;

fn time_best(round_seconds: f64, mut f: impl FnMut()) -> f64 {
    f();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let mut runs = 0u64;
        while start.elapsed().as_secs_f64() < round_seconds {
            f();
            runs += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() / runs as f64);
    }
    best
}

trait Scalar: Element + ndarray::LinalgScalar + From<f32> + 'static {
    const NAME: &'static str;
}
impl Scalar for f32 {
    const NAME: &'static str = "f32";
}
impl Scalar for f64 {
    const NAME: &'static str = "f64";
}

fn gemm_crate<T: Scalar>(m: usize, k: usize, n: usize, a: &[T], b: &[T], c: &mut [T], threads: usize) {
    let parallelism = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    // SAFETY: row-major m x k, k x n and m x n buffers of exactly those sizes; strides in
    // elements (column stride 1, row stride = columns).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            T::from(0.0),
            T::from(1.0),
            false,
            false,
            false,
            parallelism,
        )
    }
}

fn row<T: Scalar>(m: usize, k: usize, n: usize, round: f64) {
    let a: Vec<T> = (0..m * k).map(|i| T::from(((i * 7 % 13) as f32 - 6.0) / 7.0)).collect();
    let b: Vec<T> = (0..k * n).map(|i| T::from(((i * 5 % 11) as f32 - 5.0) / 6.0)).collect();
    let mut c = vec![T::from(0.0); m * n];
    let flops = 2.0 * (m * n * k) as f64;
    let a_nd = ndarray::Array2::from_shape_vec((m, k), a.clone()).unwrap();
    let b_nd = ndarray::Array2::from_shape_vec((k, n), b.clone()).unwrap();
    let mut cells = Vec::new();
    let mut ours_by_threads = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let ours = pool
            .install(|| time_best(round, || gemm(MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n), &mut c)));
        let mm = time_best(round, || {
            std::hint::black_box(a_nd.dot(&b_nd));
        });
        let gc = time_best(round, || gemm_crate(m, k, n, &a, &b, &mut c, threads));
        let gf = |t: f64| flops / t / 1e9;
        ours_by_threads.push(gf(ours));
        cells.push(format!(
            "{:>7.1} | {:>7.1}{} | {:>7.1} | {:>5.2} | {:>5.2}",
            gf(ours),
            gf(mm),
            if threads > 1 { "(1T)" } else { "    " },
            gf(gc),
            mm / ours,
            gc / ours
        ));
    }
    println!(
        "| {} | {m}x{k}x{n} | {} | {} | {:.2} |",
        T::NAME,
        cells[0],
        cells[1],
        ours_by_threads[1] / ours_by_threads[0]
    );
}

/// An operand as training holds it: `rows x cols`, transposed (a view of the transpose's
/// row-major buffer) or not.
#[derive(Clone, Copy)]
struct Operand {
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl Operand {
    /// (row stride, column stride) in elements.
    fn strides(self) -> (usize, usize) {
        if self.transposed {
            (1, self.rows)
        } else {
            (self.cols, 1)
        }
    }
    fn view<'a>(self, data: &'a [f32]) -> MatRef<'a, f32> {
        let (rs, cs) = self.strides();
        MatRef::new(data, self.rows, self.cols, rs, cs)
    }
}

fn conv4_row(what: &str, a: Operand, b: Operand, round: f64) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let a_data: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
    let b_data: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 6.0).collect();
    let mut c = vec![0.0f32; m * n];
    let flops = 2.0 * (m * n * k) as f64;
    let mut cells = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let ours = pool.install(|| time_best(round, || gemm(a.view(&a_data), b.view(&b_data), &mut c)));
        let parallelism = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
        let ((a_rs, a_cs), (b_rs, b_cs)) = (a.strides(), b.strides());
        let other = time_best(round, || {
            // SAFETY: the buffers hold m x k, k x n and m x n elements at these strides.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a_data.as_ptr(),
                    a_cs as isize,
                    a_rs as isize,
                    b_data.as_ptr(),
                    b_cs as isize,
                    b_rs as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    parallelism,
                )
            }
        });
        cells.push(format!("{:.2} | {:.2} | {:.2}", ours * 1e3, flops / ours / 1e9, other / ours));
    }
    println!("| {what} | {m}x{k}x{n} | {} | {} |", cells[0], cells[1]);
}

/// The products of one conv-4 step at batch 75: forward `W x cols`, the columns' gradient
/// `W^T x g`, the weight's `g x cols^T`, for the layers on 28x28 (1 input channel), 14x14 and 7x7.
fn conv4(round: f64) {
    println!("conv-4 products at batch 75 (f32); ms, GFLOP/s, and the gemm crate's time / ours");
    println!();
    println!("| product | m x k x n | ms 1T | GFLOP/s 1T | gemm crate / ours 1T | ms 2T | GFLOP/s 2T | gemm crate / ours 2T |");
    println!("|---|---|---|---|---|---|---|---|");
    let op = |rows, cols, transposed| Operand { rows, cols, transposed };
    for (layer, rows, spatial) in [("28x28", 9, 75 * 784), ("14x14", 576, 75 * 196), ("7x7", 576, 75 * 49)] {
        conv4_row(&format!("{layer} forward"), op(64, rows, false), op(rows, spatial, false), round);
        if rows > 9 {
            conv4_row(&format!("{layer} columns' gradient"), op(rows, 64, true), op(64, spatial, false), round);
        }
        conv4_row(&format!("{layer} weight gradient"), op(64, spatial, false), op(spatial, rows, true), round);
    }
}

fn main() {
    if std::env::args().any(|a| a == "--conv4") {
        let quick = std::env::args().any(|a| a == "--quick");
        conv4(if quick { 0.02 } else { 0.1 });
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let round = if quick { 0.02 } else { 0.1 };
    println!(
        "metagrad-kernels GEMM, GFLOP/s (best of 5 rounds); isa: {:?}; ratio = metagrad / other",
        metagrad_kernels::Isa::detected()
    );
    println!();
    println!("| type | m x k x n | ours 1T | matrixmultiply 1T | gemm crate 1T | x mm | x gemm | ours 2T | matrixmultiply | gemm crate 2T | x mm | x gemm | ours 2T/1T |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let args: Vec<String> = std::env::args().collect();
    let chosen: Option<Vec<usize>> = args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').map(|n| n.parse().expect("--sizes takes numbers, like 256,512")).collect());
    let default: &[usize] = if quick { &[16, 64, 256, 512] } else { &[16, 32, 64, 128, 256, 512, 1024, 2048] };
    let sizes = chosen.as_deref().unwrap_or(default);
    let maml_shapes: &[(usize, usize, usize)] = if chosen.is_some() { &[] } else { &[(25, 40, 40), (10, 1, 40)] };
    for &shape in maml_shapes {
        row::<f32>(shape.0, shape.1, shape.2, round);
        row::<f64>(shape.0, shape.1, shape.2, round);
    }
    for &n in sizes {
        row::<f32>(n, n, n, round);
    }
    for &n in sizes {
        row::<f64>(n, n, n, round);
    }
}
