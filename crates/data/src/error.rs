//! Typed errors for everything that reads the outside world.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong while reading a dataset, always with the file or folder it concerns.
#[derive(Debug)]
pub enum DataError {
    /// The file or folder could not be read.
    Io {
        /// The path being read.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are not what the format requires (bad magic number, truncated, undecodable).
    Format {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong, in words.
        problem: String,
    },
    /// The folder layout is not the expected one (a missing split, an empty class).
    Layout {
        /// The folder at fault.
        path: PathBuf,
        /// What is wrong, in words.
        problem: String,
    },
}

impl DataError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        DataError::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn format(path: &Path, problem: impl Into<String>) -> Self {
        DataError::Format { path: path.to_path_buf(), problem: problem.into() }
    }

    pub(crate) fn layout(path: &Path, problem: impl Into<String>) -> Self {
        DataError::Layout { path: path.to_path_buf(), problem: problem.into() }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            DataError::Format { path, problem } => write!(f, "{}: {problem}", path.display()),
            DataError::Layout { path, problem } => write!(f, "{}: {problem}", path.display()),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Results of reading datasets.
pub type Result<T> = std::result::Result<T, DataError>;
