//! Milliseconds per step of the Omniglot few-shot workloads on the conv-4 backbone, at 1 and 2
//! threads: forward + backward of the classifier at batch 25 and 75, one meta-iteration of
//! MAML 5-way 1-shot (15 queries, meta-batch 32, one inner step; second and first order),
//! and one prototypical-network step on 5-way and 60-way episodes. Inputs are random images:
//! only the time matters here.
//!
//! ```sh
//! cargo run --release -p metagrad-algos --example fewshot_speed            # the full table
//! cargo run --release -p metagrad-algos --example fewshot_speed -- --quick # a smoke run
//! cargo run --release -p metagrad-algos --example fewshot_speed -- --backbone # conv-4 rows only
//! cargo run --release -p metagrad-algos --example fewshot_speed -- --backbone --repeats 21
//! ```
//!
//! Each figure is the median of `--repeats` timed calls (default 5) after one warm-up call.
//! Compare with `python ../shared/anchors/conv_step.py` run in the same session.

use metagrad_algos::meta::{conv4, meta_step, Batch, Episode, Maml, MetaMethod, ProtoNet};
use metagrad_autodiff::{Tape, Tensor};
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::optim::Adam;
use metagrad_nn::{Context, Module, Params, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The median of `repeats` timed calls of `f` after one warm-up call, in milliseconds.
fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn images(n: usize, rng: &mut StdRng) -> Tensor<f32> {
    Tensor::randn(&[n, 1, 28, 28], rng)
}

fn episode(ways: usize, shots: usize, queries: usize, rng: &mut StdRng) -> Episode<f32> {
    let labels = |per: usize| (0..ways).flat_map(|k| std::iter::repeat_n(k, per)).collect::<Vec<_>>();
    Episode {
        support: Batch::classification(images(ways * shots, rng), labels(shots)),
        query: Batch::classification(images(ways * queries, rng), labels(queries)),
    }
}

fn forward_backward(net: &Sequential<f32>, params: &Params<f32>, x: &Tensor<f32>, labels: &[usize]) {
    let tape = Tape::new();
    let p = params.on(&tape);
    let out = net.forward(&p, tape.constant(x.clone()), &mut Context::transductive(0));
    std::hint::black_box(p.grad(cross_entropy(out, Targets::Classes(labels), 0.0, Reduction::Mean)));
}

/// Runs this program again with `MIMALLOC_PURGE_DELAY=-1` unless it is set, as the
/// `metagrad` program does: mimalloc then keeps freed pages instead of returning them to the
/// system and faulting them in again every step (docs/PERFORMANCE.md, "The allocator").
fn keep_freed_memory() {
    #[cfg(unix)]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(program) = std::env::current_exe() {
            // `exec` returns only if it failed; then the program carries on as it is.
            let _ = std::process::Command::new(program)
                .args(std::env::args_os().skip(1))
                .env("MIMALLOC_PURGE_DELAY", "-1")
                .exec();
        }
    }
}

fn main() {
    keep_freed_memory();
    let quick = std::env::args().any(|a| a == "--quick");
    // `--backbone`: only the conv-4 forward + backward rows (for profiling the layers).
    let backbone_only = std::env::args().any(|a| a == "--backbone");
    let repeats = match std::env::args().skip_while(|a| a != "--repeats").nth(1) {
        Some(n) => n.parse().expect("--repeats takes a positive count"),
        None if quick => 1,
        None => 5,
    };
    assert!(repeats > 0, "--repeats takes a positive count");
    let meta_batch = if quick { 2 } else { 32 };
    let mut rng = StdRng::seed_from_u64(0);
    let net = conv4::classifier::<f32>(5);
    let params: Params<f32> = net.init(&mut rng);
    let encoder = conv4::encoder::<f32>();
    let encoder_params: Params<f32> = encoder.init(&mut rng);
    let maml_tasks: Vec<Episode<f32>> = (0..meta_batch).map(|_| episode(5, 1, 15, &mut rng)).collect();
    let proto5 = vec![episode(5, 1, 15, &mut rng)];
    let proto60 = vec![episode(if quick { 10 } else { 60 }, 1, 5, &mut rng)];
    println!("| workload (ms) | 1 thread | 2 threads |");
    println!("|---|---|---|");
    let row = |name: &str, f: &mut (dyn FnMut() + Send)| {
        let times: Vec<f64> = [1, 2]
            .iter()
            .map(|&threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
                pool.install(|| median_ms(repeats, &mut *f))
            })
            .collect();
        println!("| {name} | {:.1} | {:.1} |", times[0], times[1]);
    };
    for batch in [25, 75] {
        let x = images(batch, &mut rng);
        let labels: Vec<usize> = (0..batch).map(|i| i % 5).collect();
        row(&format!("conv-4 forward + backward, batch {batch}"), &mut || forward_backward(&net, &params, &x, &labels));
    }
    if backbone_only {
        return;
    }
    let step = |name: &str,
                method: &dyn MetaMethod<f32>,
                model: &dyn Module<f32>,
                start: &Params<f32>,
                tasks: &[Episode<f32>]| {
        row(name, &mut || {
            let mut meta = start.clone();
            std::hint::black_box(meta_step(method, model, &mut meta, tasks, &mut Adam::new(1e-3), None));
        })
    };
    let (b, q) = (meta_batch, 15);
    step(&format!("MAML 5-way 1-shot, {q} queries, meta-batch {b}"), &Maml::new(1, 0.4), &net, &params, &maml_tasks);
    step("first-order MAML, same", &Maml::new(1, 0.4).first_order(), &net, &params, &maml_tasks);
    step("ProtoNet 5-way 1-shot, 15 queries", &ProtoNet, &encoder, &encoder_params, &proto5);
    let ways = proto60[0].support.len();
    step(&format!("ProtoNet {ways}-way 1-shot, 5 queries"), &ProtoNet, &encoder, &encoder_params, &proto60);
}
