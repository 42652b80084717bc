//! Milliseconds per meta-iteration of sinusoid MAML (the anchors' workload: 25 tasks, K = 10
//! support and 10 query points, 1 inner step of rate 0.01, Adam), second and first order, on
//! 1 and 2 threads; then the peak heap memory of one task's meta-gradient for k = 1, 5, 10, 20
//! inner steps with and without the checkpointed inner loop.
//!
//! ```sh
//! cargo run --release -p metagrad-algos --example maml_speed            # the full table
//! cargo run --release -p metagrad-algos --example maml_speed -- --quick # a smoke run
//! ```
//!
//! Compare with `python ../shared/anchors/maml_sinusoid.py --lib jax --impl vmap --threads 1`
//! run in the same session.

use metagrad_algos::meta::{meta_gradient, meta_step, sinusoid, Maml};
use metagrad_nn::optim::Adam;
use metagrad_nn::{Module, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;

/// mimalloc (the allocator of the `metagrad` program), counting live bytes and their
/// high-water mark while `COUNTING` is on (off for the timings, so they pay nothing for it).
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to mimalloc unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = mimalloc::MiMalloc.alloc(layout);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let size = layout.size() as isize;
            let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        mimalloc::MiMalloc.dealloc(ptr, layout);
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms_per_iteration(method: &Maml, threads: usize, iterations: usize) -> f64 {
    let model = sinusoid::network::<f32>(40);
    let mut meta = model.init(&mut StdRng::seed_from_u64(0));
    let mut adam = Adam::new(1e-3);
    let mut rng = StdRng::seed_from_u64(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    pool.install(|| {
        let mut times = Vec::new();
        for i in 0..iterations + iterations / 10 {
            let start = Instant::now();
            let episodes = sinusoid::meta_batch(25, 10, 10, &mut rng);
            meta_step(method, &model, &mut meta, &episodes, &mut adam, None);
            if i >= iterations / 10 {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        median(times)
    })
}

/// Peak heap bytes above the baseline while computing one task's meta-gradient.
fn peak_bytes(method: &Maml, model: &dyn Module<f32>, meta: &Params<f32>) -> usize {
    let episodes = sinusoid::meta_batch(1, 10, 10, &mut StdRng::seed_from_u64(2));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a thread pool");
    pool.install(|| {
        // Counting starts here: a block allocated before and freed now takes LIVE below zero,
        // so the peak counts only what is allocated from here on.
        LIVE.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
        let (grads, _) = meta_gradient(method, model, meta, &episodes);
        let peak = PEAK.load(Ordering::Relaxed).max(0) as usize;
        drop(grads);
        COUNTING.store(false, Ordering::Relaxed);
        peak
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let iterations = if quick { 20 } else { 300 };
    println!("sinusoid MAML, meta-batch 25, K = 10, 1 inner step, f32: median ms per meta-iteration");
    println!("| order | 1 thread | 2 threads |");
    println!("|---|---|---|");
    for (label, method) in [("second", Maml::new(1, 0.01)), ("first", Maml::new(1, 0.01).first_order())] {
        let one = ms_per_iteration(&method, 1, iterations);
        let two = ms_per_iteration(&method, 2, iterations);
        println!("| {label} | {one:.3} | {two:.3} |");
    }
    println!();
    println!("peak heap of one task's meta-gradient (KiB), 1-40-40-1 net, K = 10");
    println!("| inner steps | recorded | checkpointed |");
    println!("|---|---|---|");
    let model = sinusoid::network::<f32>(40);
    let meta = model.init(&mut StdRng::seed_from_u64(0));
    for k in [1, 5, 10, 20] {
        let plain = Maml::new(k, 0.01);
        let recorded = peak_bytes(&plain, &model, &meta);
        let checkpointed = peak_bytes(&plain.clone().checkpointed(), &model, &meta);
        println!("| {k} | {:.1} | {:.1} |", recorded as f64 / 1024.0, checkpointed as f64 / 1024.0);
    }
}
