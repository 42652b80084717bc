//! Memory of the fast-path backward pass: `Tape::grad` drops each cotangent once it has been
//! pulled back, so its peak does not grow with the depth of the graph. In a test binary of its
//! own, with a counting allocator, so no other test allocates while the peak is measured.

use metagrad_autodiff::{Tape, Tensor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts the bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn the_fast_path_backward_holds_a_few_cotangents_not_one_per_node() {
    const LEN: usize = 1 << 17; // 1 MiB of f64 per tensor
    const DEPTH: usize = 24;
    let tensor_bytes = LEN * std::mem::size_of::<f64>();
    let tape = Tape::<f64>::new();
    let w = tape.var(Tensor::full(&[LEN], 0.5));
    // A deep chain of elementwise ops; each backward step makes two or three temporaries of
    // the full size (the products of the VJP and the accumulated cotangent of `w`).
    let mut x = w;
    for _ in 0..DEPTH {
        x = (x * w).tanh();
    }
    let loss = x.sum();
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let grad = tape.grad(loss, &[w]);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(grad[0].is_finite());
    // Holding every scratch value until the end would take about 4 * DEPTH tensors.
    assert!(
        peak < 8 * tensor_bytes,
        "the backward pass peaked at {:.1} tensors' worth above the forward ({peak} bytes)",
        peak as f64 / tensor_bytes as f64
    );
    // The recorded backward keeps its graph: the same pass with grad_graph must hold more.
    let before = CURRENT.load(Ordering::Relaxed);
    let recorded = tape.grad_graph(loss, &[w]);
    let held = CURRENT.load(Ordering::Relaxed) - before;
    assert!(held > 2 * DEPTH * tensor_bytes, "the recorded graph holds only {held} bytes");
    assert_eq!(recorded[0].value(), grad[0]);
}
