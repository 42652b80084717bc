//! What every training command shares: the run directory, checkpoints that resume exactly,
//! the history of a run, the results JSON, and the progress bar.
//!
//! A checkpoint holds the meta-parameters (`param.*`), the optimiser's state (`optim.*`) and
//! the iteration count; the tasks of iteration `i` come from a generator seeded with
//! `(seed, i)`, so a resumed run draws exactly the tasks the uninterrupted run would have.

use indicatif::{ProgressBar, ProgressStyle};
use metagrad_autodiff::Tensor;
use metagrad_nn::optim::Optimizer;
use metagrad_nn::{checkpoint, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The command-line spelling of a value of `V` (`"split-mnist"`, `"fomaml"`), for paths
/// and messages.
pub fn value_name<V: clap::ValueEnum>(value: &V) -> String {
    value.to_possible_value().map_or_else(String::new, |v| v.get_name().to_string())
}

/// A failure the user can act on: one line, no panic.
pub type CliResult<T> = Result<T, String>;

/// The generator for iteration `iteration` of a run seeded with `seed` (SplitMix64 mixing,
/// so neighbouring iterations get unrelated streams).
pub fn iteration_rng(seed: u64, iteration: u64) -> StdRng {
    let mut z = seed ^ iteration.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// One row of a run's history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Meta-iterations done.
    pub iteration: u64,
    /// Mean meta-batch query loss since the previous record.
    pub meta_loss: f64,
    /// Evaluation scores (MSE or accuracy) after each of the evaluated step counts.
    pub eval: Vec<f64>,
}

/// The run directory and its files.
pub struct RunDir {
    /// The directory.
    pub path: PathBuf,
}

impl RunDir {
    /// Creates `path` (and parents) if needed.
    pub fn create(path: &Path) -> CliResult<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create the output directory {}: {e}", path.display()))?;
        Ok(RunDir { path: path.to_path_buf() })
    }

    /// A file in the run directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Saves meta-parameters, optimiser state and the iteration count atomically.
    pub fn save_checkpoint(&self, meta: &Params<f32>, optimizer: &dyn Optimizer<f32>, iteration: u64) -> CliResult<()> {
        let mut all = Params::new();
        all.extend_prefixed("param", meta.clone());
        all.extend_prefixed("optim", optimizer.state(meta));
        // Two halves of the count, each exact in f32.
        all.insert("progress.iteration_high", Tensor::scalar((iteration >> 20) as f32));
        all.insert("progress.iteration_low", Tensor::scalar((iteration & 0xFFFFF) as f32));
        checkpoint::save(&self.file("checkpoint.safetensors"), &all).map_err(|e| e.to_string())
    }

    /// Restores this directory's checkpoint into `meta` (which fixes the expected layout) and
    /// `optimizer`; returns the iteration count.
    pub fn load_checkpoint(&self, meta: &mut Params<f32>, optimizer: &mut dyn Optimizer<f32>) -> CliResult<u64> {
        let path = self.file("checkpoint.safetensors");
        if !path.exists() {
            return Err(format!("--resume: there is no checkpoint at {}", path.display()));
        }
        load_checkpoint(&path, meta, Some(optimizer))
    }

    /// Writes `value` as pretty JSON to `name`, atomically.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> CliResult<()> {
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        let path = self.file(name);
        let temp = path.with_extension("json.tmp");
        std::fs::write(&temp, text)
            .and_then(|_| std::fs::rename(&temp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Reads JSON written by [`RunDir::write_json`].
    pub fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> CliResult<T> {
        let path = self.file(name);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a results file of this program: {e}", path.display()))
    }
}

/// Prints a line above the progress bar, or to stdout when the bar is hidden (`--quiet`,
/// or stderr is not a terminal), so long runs report their evaluations either way.
pub fn report(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        println!("{line}");
    } else {
        bar.println(line);
    }
}

/// A progress bar over meta-iterations showing the running meta-loss (hidden when stderr is
/// not a terminal, or with `quiet`).
pub fn progress(total: u64, done: u64, quiet: bool) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(total) };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}")
            .expect("a valid template"),
    );
    bar.set_position(done);
    bar
}

/// Restores the checkpoint at `path` into `meta` (which fixes the expected layout) and, if
/// given, `optimizer`; returns the iteration count.
pub fn load_checkpoint(
    path: &Path,
    meta: &mut Params<f32>,
    optimizer: Option<&mut dyn Optimizer<f32>>,
) -> CliResult<u64> {
    let all: Params<f32> = checkpoint::load(path).map_err(|e| e.to_string())?;
    let part = |prefix: &str| {
        Params::from_pairs(
            all.iter().filter_map(|(n, v)| n.strip_prefix(prefix).map(|rest| (rest.to_string(), v.clone()))),
        )
    };
    let saved = part("param.");
    for (name, value) in meta.iter() {
        match saved.get(name) {
            Some(v) if v.shape() == value.shape() => {}
            Some(v) => {
                return Err(format!(
                    "{}: `{name}` has shape {:?}, this model needs {:?} (different --method or sizes?)",
                    path.display(),
                    v.shape(),
                    value.shape()
                ))
            }
            None => return Err(format!("{}: no parameter `{name}` (different --method?)", path.display())),
        }
    }
    *meta = Params::from_pairs(meta.names().map(|n| (n.to_string(), saved.get(n).expect("checked").clone())));
    let state = part("optim.");
    if let Some(optimizer) = optimizer {
        if !state.is_empty() {
            optimizer.load_state(meta, &state).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let count =
        |name: &str| all.get(name).map(|t| t.item() as u64).ok_or_else(|| format!("{}: no `{name}`", path.display()));
    Ok((count("progress.iteration_high")? << 20) | count("progress.iteration_low")?)
}
