//! `cargo run --release -p metagrad-embed-example [iterations]`: MAML on a custom model
//! with a custom op, through metagrad's public API only.

use metagrad_embed_example::meta_train;

fn main() {
    let iterations = match std::env::args().nth(1) {
        None => 2000,
        Some(arg) => arg.parse().unwrap_or_else(|_| {
            eprintln!("usage: metagrad-embed-example [iterations]; `{arg}` is not a count");
            std::process::exit(2)
        }),
    };
    println!("MAML, 1 inner step, on a 1-40-40-1 swish MLP (custom op), {iterations} meta-iterations");
    let report = meta_train(40, iterations, 25, 0, |it, loss| println!("iteration {it:>6}: query loss {loss:.4}"));
    println!("test MSE after 0 / 1 / 10 inner steps, 100 fixed tasks:");
    println!("  at the initialisation: {:.3} / {:.3} / {:.3}", report.before[0], report.before[1], report.before[2]);
    println!("  after meta-training:   {:.3} / {:.3} / {:.3}", report.after[0], report.after[1], report.after[2]);
}
