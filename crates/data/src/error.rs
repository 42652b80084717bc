//! Typed errors for everything that reads the outside world.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong while reading a dataset, always with the file or folder it concerns.
///
/// # Examples
///
/// ```
/// use metagrad_data::{mnist, omniglot, DataError};
/// use std::error::Error;
/// use std::path::Path;
///
/// let dir = tempfile::tempdir()?;
/// // A folder without the MNIST files: a layout error naming the folder.
/// match mnist::load_split(dir.path(), "train") {
///     Err(DataError::Layout { path, problem }) => {
///         assert_eq!(path, dir.path());
///         assert_eq!(problem, "neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz is here");
///     }
///     other => panic!("expected a layout error, got {other:?}"),
/// }
/// // A file that cannot be opened: the operating system's error is the source.
/// let err = omniglot::decode_png(&dir.path().join("absent.png")).unwrap_err();
/// assert!(matches!(err, DataError::Io { .. }));
/// assert_eq!(err.source().unwrap().downcast_ref::<std::io::Error>().unwrap().kind(), std::io::ErrorKind::NotFound);
/// // Bytes that are not a PNG: a format error, displayed as "path: problem".
/// let err = omniglot::decode_png_bytes(&b"not a png"[..], Path::new("x.png")).unwrap_err();
/// assert!(matches!(err, DataError::Format { .. }) && err.source().is_none());
/// assert!(err.to_string().starts_with("x.png: PNG"), "{err}");
/// # Ok::<(), std::io::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use metagrad_data::omniglot::decode_png;
/// use std::path::Path;
///
/// // `?` carries a DataError up from any loader.
/// fn width(path: &Path) -> metagrad_data::Result<usize> {
///     Ok(decode_png(path)?.ncols())
/// }
/// let err = width(Path::new("/nonexistent/0101_01.png")).unwrap_err();
/// assert!(err.to_string().starts_with("/nonexistent/0101_01.png: "), "{err}");
/// ```
pub type Result<T> = std::result::Result<T, DataError>;
