//! Memory: dropping a tape frees its nodes. In a test binary of its own, so no other test
//! allocates in the same process while resident memory is measured.

use metagrad_autodiff::{Tape, Tensor};

#[cfg(target_os = "linux")]
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).expect("resident field").parse().expect("a number");
    pages * 4096
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_tapes_frees_their_nodes() {
    let run = |tapes: usize| {
        for i in 0..tapes {
            let tape = Tape::<f64>::new();
            let w = tape.var(Tensor::full(&[16], i as f64 * 1e-5));
            let loss = (w.tanh() * w).sum();
            let g = tape.grad_graph(loss, &[w])[0];
            let _ = tape.grad(g.sum(), &[w]);
        }
    };
    run(10_000); // warm up the allocator
    let before = resident_bytes();
    run(100_000);
    let grown = resident_bytes().saturating_sub(before);
    // 100k tapes of ~40 nodes each would hold hundreds of MB if nodes leaked.
    assert!(grown < 8 << 20, "resident memory grew by {grown} bytes over 100k tapes");
}
