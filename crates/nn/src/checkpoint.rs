//! Checkpoints: [`Params`] as safetensors files, the format PyTorch, JAX and others read.
//!
//! Writes go to a temporary file in the same folder and are renamed into place, so a crash
//! never leaves a half-written checkpoint. Reading checks everything and returns a typed
//! error naming the problem; it never panics on bad bytes.

use crate::Params;
use metagrad_autodiff::{Float, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Metadata key holding the parameter order (safetensors itself does not keep one).
const ORDER_KEY: &str = "metagrad.order";

/// What went wrong with a checkpoint.
///
/// # Examples
///
/// ```
/// use metagrad_nn::checkpoint::{self, CheckpointError};
/// use std::path::Path;
///
/// let dir = tempfile::tempdir()?;
/// let missing = checkpoint::load::<f32>(&dir.path().join("absent.safetensors")).unwrap_err();
/// assert!(matches!(missing, CheckpointError::Io { .. }));
/// let junk = checkpoint::from_safetensors::<f32>(b"not a checkpoint", Path::new("junk.safetensors"));
/// assert!(matches!(junk, Err(CheckpointError::Corrupt { .. })));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub enum CheckpointError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser found.
        problem: String,
    },
    /// The file is valid but does not match what was asked for.
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Which tensor and how (missing, wrong shape, wrong dtype).
        problem: String,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            CheckpointError::Corrupt { path, problem } => {
                write!(f, "{}: not a valid safetensors file: {problem}", path.display())
            }
            CheckpointError::Mismatch { path, problem } => write!(f, "{}: {problem}", path.display()),
        }
    }
}

impl std::error::Error for CheckpointError {}

/// The safetensors dtype of `T`.
fn dtype<T: Float>() -> Dtype {
    if std::mem::size_of::<T>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

fn to_bytes<T: Float>(t: &Tensor<T>) -> Vec<u8> {
    t.array()
        .iter()
        .flat_map(|&v| {
            if std::mem::size_of::<T>() == 4 {
                v.to_f32().unwrap_or(f32::NAN).to_le_bytes().to_vec()
            } else {
                v.to_f64().unwrap_or(f64::NAN).to_le_bytes().to_vec()
            }
        })
        .collect()
}

/// The checkpoint as bytes.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::{checkpoint, Params};
///
/// let params = Params::from_pairs([("w".to_string(), Tensor::<f32>::ones(&[2, 3]))]);
/// let bytes = checkpoint::to_safetensors(&params);
/// // The safetensors layout: an 8-byte little-endian header length, the JSON header,
/// // then the six f32 values.
/// let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
/// assert_eq!(bytes.len(), 8 + header + 6 * 4);
/// ```
pub fn to_safetensors<T: Float>(params: &Params<T>) -> Vec<u8> {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> =
        params.iter().map(|(n, t)| (n.to_string(), t.shape().to_vec(), to_bytes(t))).collect();
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(n, shape, bytes)| (n.clone(), TensorView::new(dtype::<T>(), shape.clone(), bytes).expect("sizes agree")))
        .collect();
    let order = params.names().collect::<Vec<_>>().join("\n");
    let metadata = Some(HashMap::from([(ORDER_KEY.to_string(), order)]));
    safetensors::tensor::serialize(views, &metadata).expect("serialising in-memory tensors")
}

/// Writes `params` to `path` atomically.
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::{checkpoint, Params};
///
/// let params = Params::from_pairs([("layer.weight".to_string(), Tensor::<f32>::ones(&[2, 3]))]);
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.safetensors");
/// checkpoint::save(&path, &params)?;
/// assert_eq!(checkpoint::load_matching(&path, &params)?, params);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save<T: Float>(path: &Path, params: &Params<T>) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io { path: path.to_path_buf(), source };
    let bytes = to_safetensors(params);
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::write(&temp, &bytes).and_then(|_| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io(e));
    }
    Ok(())
}

/// Reads every tensor of a checkpoint (in saved order when the file records it).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::{checkpoint, Params};
///
/// // Names out of alphabetical order come back in the order they were saved.
/// let params = Params::from_pairs([
///     ("z.weight".to_string(), Tensor::from_vec(&[2], vec![1.0f64, -2.0])),
///     ("a.bias".to_string(), Tensor::scalar(0.5)),
/// ]);
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.safetensors");
/// checkpoint::save(&path, &params)?;
/// let loaded = checkpoint::load::<f64>(&path)?;
/// assert_eq!(loaded.names().collect::<Vec<_>>(), vec!["z.weight", "a.bias"]);
/// assert_eq!(loaded, params);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load<T: Float>(path: &Path) -> Result<Params<T>, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io { path: path.to_path_buf(), source })?;
    from_safetensors(&bytes, path)
}

/// Parses checkpoint bytes; `path` names the source in errors.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::{checkpoint, Params};
/// use std::path::Path;
///
/// let params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[3], vec![0.25f32, -1.0, 8.0]))]);
/// let bytes = checkpoint::to_safetensors(&params);
/// assert_eq!(checkpoint::from_safetensors::<f32>(&bytes, Path::new("memory"))?, params);
/// // A truncated buffer is an error naming the source, never a panic.
/// let cut = checkpoint::from_safetensors::<f32>(&bytes[..bytes.len() - 1], Path::new("memory"));
/// assert!(cut.unwrap_err().to_string().starts_with("memory: "));
/// # Ok::<(), checkpoint::CheckpointError>(())
/// ```
pub fn from_safetensors<T: Float>(bytes: &[u8], path: &Path) -> Result<Params<T>, CheckpointError> {
    let corrupt = |problem: String| CheckpointError::Corrupt { path: path.to_path_buf(), problem };
    let mismatch = |problem: String| CheckpointError::Mismatch { path: path.to_path_buf(), problem };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| corrupt(format!("{e:?}")))?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| corrupt(format!("{e:?}")))?;
    let mut names: Vec<String> = file.names().into_iter().cloned().collect();
    names.sort();
    if let Some(order) = header.metadata().as_ref().and_then(|m| m.get(ORDER_KEY)) {
        let listed: Vec<String> = order.split('\n').filter(|s| !s.is_empty()).map(str::to_string).collect();
        let mut sorted = listed.clone();
        sorted.sort();
        if sorted == names {
            names = listed;
        }
    }
    let mut params = Params::new();
    for name in names {
        let view = file.tensor(&name).map_err(|e| corrupt(format!("{e:?}")))?;
        if view.dtype() != dtype::<T>() {
            return Err(mismatch(format!("tensor `{name}` is {:?}, expected {:?}", view.dtype(), dtype::<T>())));
        }
        let values: Vec<T> = if std::mem::size_of::<T>() == 4 {
            view.data()
                .chunks_exact(4)
                .map(|b| T::of(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
                .collect()
        } else {
            view.data().chunks_exact(8).map(|b| T::of(f64::from_le_bytes(b.try_into().expect("8 bytes")))).collect()
        };
        if values.len() != view.shape().iter().product::<usize>() {
            return Err(corrupt(format!("tensor `{name}` has {} values for shape {:?}", values.len(), view.shape())));
        }
        params.insert(name, Tensor::from_vec(view.shape(), values));
    }
    Ok(params)
}

/// Reads a checkpoint and checks it against `template` (a model's fresh parameters): the same
/// names, shapes and dtype, so a checkpoint for another model is refused with the first
/// difference named.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::{checkpoint, Params};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.safetensors");
/// checkpoint::save(&path, &Params::from_pairs([("w".to_string(), Tensor::<f32>::zeros(&[4, 2]))]))?;
/// // A model whose `w` is [2, 4] refuses this checkpoint.
/// let other_model = Params::from_pairs([("w".to_string(), Tensor::<f32>::zeros(&[2, 4]))]);
/// let err = checkpoint::load_matching(&path, &other_model).unwrap_err();
/// assert!(err.to_string().ends_with("tensor `w` has shape [4, 2], the model expects [2, 4]"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_matching<T: Float>(path: &Path, template: &Params<T>) -> Result<Params<T>, CheckpointError> {
    let loaded = load::<T>(path)?;
    let mismatch = |problem: String| CheckpointError::Mismatch { path: path.to_path_buf(), problem };
    for (name, want) in template.iter() {
        let got = loaded.get(name).ok_or_else(|| mismatch(format!("missing tensor `{name}`")))?;
        if got.shape() != want.shape() {
            return Err(mismatch(format!(
                "tensor `{name}` has shape {:?}, the model expects {:?}",
                got.shape(),
                want.shape()
            )));
        }
    }
    if let Some(extra) = loaded.names().find(|n| template.get(n).is_none()) {
        return Err(mismatch(format!("unexpected tensor `{extra}`")));
    }
    Ok(Params::from_pairs(template.names().map(|n| (n.to_string(), loaded.get(n).expect("checked").clone()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Params<f32> {
        Params::from_pairs([
            ("z.weight".to_string(), Tensor::from_vec(&[2, 3], vec![1.0, -2.0, 3.5, 0.0, 1e-8, -7.0])),
            ("a.bias".to_string(), Tensor::from_vec(&[3], vec![0.5, 0.25, -0.125])),
        ])
    }

    #[test]
    fn round_trip_keeps_values_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        save(&path, &sample()).unwrap();
        assert_eq!(load::<f32>(&path).unwrap(), sample());
        assert_eq!(load_matching(&path, &sample()).unwrap(), sample());
        let err = load::<f64>(&path).unwrap_err().to_string();
        assert!(err.contains("is F32, expected F64"), "{err}");
        let mut other = sample();
        other.insert("extra", Tensor::zeros(&[1]));
        assert!(load_matching(&path, &other).unwrap_err().to_string().contains("missing tensor `extra`"));
        let mut reshaped = Params::new();
        reshaped.insert("z.weight", Tensor::<f32>::zeros(&[3, 2]));
        reshaped.insert("a.bias", Tensor::zeros(&[3]));
        assert!(load_matching(&path, &reshaped)
            .unwrap_err()
            .to_string()
            .contains("has shape [2, 3], the model expects [3, 2]"));
    }

    proptest! {
        #[test]
        fn random_and_truncated_bytes_are_errors_not_panics(junk in proptest::collection::vec(any::<u8>(), 0..256), cut in 0usize..400) {
            let _ = from_safetensors::<f32>(&junk, Path::new("junk"));
            let good = to_safetensors(&sample());
            let cut = cut.min(good.len());
            if cut < good.len() {
                prop_assert!(from_safetensors::<f32>(&good[..cut], Path::new("cut")).is_err());
            }
        }
    }
}
