//! The `metagrad` command: meta-train and evaluate on sinusoids and few-shot benchmarks.
//!
//! ```sh
//! metagrad sinusoid                              # MAML on the MAML paper's sinusoids, ~1 minute
//! metagrad sinusoid --method fomaml --shots 5 --iterations 70000
//! metagrad sinusoid --resume --out runs/sinusoid-maml-k10
//! metagrad fewshot --method maml --dataset omniglot --data ../shared/data/omniglot --ways 5 --shots 1
//! metagrad continual --benchmark split-mnist --scenario class --method replay --data ../shared/data/mnist
//! metagrad federated --algorithm fedavg --model cnn --partition shards --epochs 5 --batch-size 10 --data ../shared/data/mnist
//! metagrad ssl --method simclr --dataset mnist --data ../shared/data/mnist
//! ```
//!
//! Bad arguments or paths end in a one-line error and a non-zero exit status, never a panic.

mod continual;
mod federated;
mod fewshot;
mod plot;
mod sinusoid;
mod ssl;
mod training;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Training allocates and frees many large tensors; glibc's malloc returns their pages to the
// system and faults them back in on every step, which cost the conv backbone half its time.
// mimalloc keeps them (docs/PERFORMANCE.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Makes mimalloc keep freed memory instead of returning it to the system, by running this
/// program again with `MIMALLOC_PURGE_DELAY=-1` unless the variable is already set (mimalloc
/// reads it when the process starts, before `main`, and setting the option later did not take
/// effect in our measurements). By default it purges pages idle for a while, and a training
/// step frees and reallocates the same large tensors, so their pages were faulted in and
/// zeroed by the kernel again on every step: a 60-way prototypical-network run spent 40% of
/// its time in the kernel (docs/PERFORMANCE.md, "The allocator"). Memory stays at the run's
/// peak instead. If the program cannot be run again, it carries on as it is.
fn keep_freed_memory() {
    #[cfg(unix)]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(program) = std::env::current_exe() {
            // `exec` returns only if it failed.
            let _ = std::process::Command::new(program)
                .args(std::env::args_os().skip(1))
                .env("MIMALLOC_PURGE_DELAY", "-1")
                .exec();
        }
    }
}

/// Meta-learning from the command line.
#[derive(Parser, Debug)]
#[command(name = "metagrad", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sinusoid regression (Finn et al. 2017, §5.1): meta-train, evaluate, plot.
    Sinusoid(sinusoid::Args),
    /// Few-shot classification (Omniglot).
    Fewshot(fewshot::Args),
    /// Continual learning on MNIST (permuted or split): every method, the accuracy matrix.
    Continual(continual::Args),
    /// Federated learning on MNIST split across clients: FedSGD, FedAvg, decentralised SGD.
    Federated(federated::Args),
    /// Self-supervised representation learning on MNIST or Omniglot, judged by a linear probe,
    /// k-NN or one-shot nearest neighbour.
    Ssl(ssl::Args),
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sinusoid(args) => sinusoid::run(args),
        Command::Fewshot(args) => fewshot::run(args),
        Command::Continual(args) => continual::run(args),
        Command::Federated(args) => federated::run(args),
        Command::Ssl(args) => ssl::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
