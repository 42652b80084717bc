//! The `metagrad` command: meta-train and evaluate on sinusoids and few-shot benchmarks.
//!
//! ```sh
//! metagrad sinusoid                              # MAML on the MAML paper's sinusoids, ~1 minute
//! metagrad sinusoid --method fomaml --shots 5 --iterations 70000
//! metagrad sinusoid --resume --out runs/sinusoid-maml-k10
//! metagrad fewshot --method maml --dataset omniglot --data ../shared/data/omniglot --ways 5 --shots 1
//! ```
//!
//! Bad arguments or paths end in a one-line error and a non-zero exit status, never a panic.

mod fewshot;
mod plot;
mod sinusoid;
mod training;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Training allocates and frees many large tensors; glibc's malloc returns their pages to the
// system and faults them back in on every step, which cost the conv backbone half its time.
// mimalloc keeps them (docs/PERFORMANCE.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sinusoid(args) => sinusoid::run(args),
        Command::Fewshot(args) => fewshot::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
