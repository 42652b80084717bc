//! `metagrad fewshot`: few-shot classification. The arguments and their checks are here; the
//! training loops for Omniglot arrive with the few-shot issue, and until then the command says
//! so after validating everything it was given.

use crate::training::CliResult;
use std::path::PathBuf;

/// Few-shot methods.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Second-order MAML.
    Maml,
    /// First-order MAML.
    Fomaml,
    /// Meta-SGD.
    MetaSgd,
    /// ANIL.
    Anil,
    /// Reptile.
    Reptile,
    /// Prototypical networks.
    Protonet,
    /// Matching networks.
    Matching,
    /// Relation networks.
    Relation,
    /// Siamese networks.
    Siamese,
    /// Pretrain on all classes, fine-tune a new head.
    Finetune,
    /// Nearest neighbour in pixel space.
    NearestNeighbour,
}

/// Datasets.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// Omniglot (Lake et al. 2015), images_background + images_evaluation.
    Omniglot,
}

/// Arguments of `metagrad fewshot`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The method.
    #[arg(long, value_enum)]
    method: Method,
    /// The dataset.
    #[arg(long, value_enum, default_value_t = Dataset::Omniglot)]
    dataset: Dataset,
    /// The dataset's directory (for Omniglot: the folder holding images_background/ and
    /// images_evaluation/, or their zip files).
    #[arg(long)]
    data: PathBuf,
    /// Classes per episode (N).
    #[arg(long, default_value_t = 5)]
    ways: usize,
    /// Support examples per class (K).
    #[arg(long, default_value_t = 1)]
    shots: usize,
    /// Query examples per class.
    #[arg(long, default_value_t = 15)]
    queries: usize,
}

/// Runs `metagrad fewshot`.
pub fn run(args: Args) -> CliResult<()> {
    if args.ways < 2 {
        return Err(format!("--ways must be at least 2, got {}", args.ways));
    }
    if args.shots == 0 || args.queries == 0 {
        return Err("--shots and --queries must be at least 1".into());
    }
    if !args.data.is_dir() {
        return Err(format!("--data {} is not a directory", args.data.display()));
    }
    for set in ["images_background", "images_evaluation"] {
        if !args.data.join(set).is_dir() {
            return Err(format!(
                "--data {}: no {set}/ folder (unpack Omniglot's images_background.zip and images_evaluation.zip there)",
                args.data.display()
            ));
        }
    }
    let name = |v: Option<clap::builder::PossibleValue>| v.map_or_else(String::new, |v| v.get_name().to_string());
    Err(format!(
        "{} on {} {}-way {}-shot: few-shot training is not implemented yet (it arrives with the Omniglot few-shot issue)",
        name(clap::ValueEnum::to_possible_value(&args.method)),
        name(clap::ValueEnum::to_possible_value(&args.dataset)),
        args.ways,
        args.shots
    ))
}
