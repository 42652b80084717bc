//! The idx format of the MNIST distribution (LeCun et al.), plain or gzip-compressed.
//!
//! A file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
//! one big-endian `u32` per dimension, then the elements in row-major order. Only unsigned
//! bytes (type code `0x08`) occur in MNIST and only they are read here.

use crate::{DataError, Result};
use std::io::Read;
use std::path::Path;

/// An idx array of unsigned bytes.
///
/// # Examples
///
/// ```
/// use metagrad_data::idx::parse_idx;
/// use std::path::Path;
///
/// // Two zero bytes, type 0x08, 2 dimensions; then 2 and 3 as big-endian u32; then 6 bytes.
/// let bytes = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
/// let array = parse_idx(&bytes, Path::new("small.idx"))?;
/// assert_eq!(array.dims, vec![2, 3]);
/// // Row 1, column 0 of a row-major 2 x 3 array.
/// assert_eq!(array.data[1 * 3 + 0], 4);
/// # Ok::<(), metagrad_data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The size of each dimension.
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

impl IdxArray {
    /// The magic number as a big-endian `u32` (2051 for MNIST images, 2049 for labels).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::idx::IdxArray;
    ///
    /// let images = IdxArray { dims: vec![1, 28, 28], data: vec![0; 784] };
    /// let labels = IdxArray { dims: vec![1], data: vec![7] };
    /// assert_eq!((images.magic(), labels.magic()), (2051, 2049));
    /// ```
    pub fn magic(&self) -> u32 {
        0x0800 + self.dims.len() as u32
    }
}

/// Parses idx bytes; `path` is only used to name the file in errors.
///
/// # Examples
///
/// ```
/// use metagrad_data::idx::parse_idx;
/// use std::path::Path;
///
/// let labels = [0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4];
/// assert_eq!(parse_idx(&labels, Path::new("labels.idx"))?.data, vec![5, 0, 4]);
/// // One byte short: the error names the file and the sizes.
/// let err = parse_idx(&labels[..10], Path::new("labels.idx")).unwrap_err().to_string();
/// assert_eq!(err, "labels.idx: dimensions [3] need 3 data bytes, the file has 2");
/// # Ok::<(), metagrad_data::DataError>(())
/// ```
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    let bad = |problem: String| DataError::format(path, problem);
    if bytes.len() < 4 {
        return Err(bad(format!("{} bytes is too short for an idx header", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(format!(
            "bad magic number {:02x}{:02x}{:02x}{:02x}: an idx file starts with two zero bytes",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!("element type 0x{:02x} is not unsigned bytes (0x08)", bytes[2])));
    }
    let ndim = usize::from(bytes[3]);
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad(format!(
            "truncated header: {ndim} dimensions need {header} bytes, the file has {}",
            bytes.len()
        )));
    }
    let dims: Vec<usize> =
        bytes[4..header].chunks_exact(4).map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize).collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
    let found = bytes.len() - header;
    if found != expected {
        return Err(bad(format!("dimensions {dims:?} need {expected} data bytes, the file has {found}")));
    }
    Ok(IdxArray { dims, data: bytes[header..].to_vec() })
}

/// Reads an idx file, decompressing it first if it is gzip (by its first two bytes).
///
/// # Examples
///
/// ```
/// use metagrad_data::idx::read_idx;
/// use std::io::Write;
///
/// let labels = [0, 0, 8, 1, 0, 0, 0, 2, 9, 1];
/// let dir = tempfile::tempdir()?;
/// let plain = dir.path().join("labels-idx1-ubyte");
/// std::fs::write(&plain, labels)?;
/// // The same bytes gzipped, under a name that says nothing: the content decides.
/// let zipped = dir.path().join("labels-copy");
/// let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&zipped)?, flate2::Compression::default());
/// gz.write_all(&labels)?;
/// gz.finish()?;
/// assert_eq!(read_idx(&plain)?, read_idx(&zipped)?);
/// assert_eq!(read_idx(&zipped)?.data, vec![9, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::format(path, format!("gzip: {e}")))?;
        out
    } else {
        raw
    };
    parse_idx(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out.extend(data);
        out
    }

    #[test]
    fn round_trip_and_errors() {
        let p = Path::new("x.idx");
        let a = parse_idx(&encode(&[2, 3], &[1, 2, 3, 4, 5, 6]), p).unwrap();
        assert_eq!((a.dims.clone(), a.data.clone(), a.magic()), (vec![2, 3], vec![1, 2, 3, 4, 5, 6], 2050));
        let truncated = parse_idx(&encode(&[2, 3], &[1, 2, 3]), p).unwrap_err().to_string();
        assert!(truncated.contains("x.idx") && truncated.contains("need 6 data bytes, the file has 3"), "{truncated}");
        let magic = parse_idx(&[1, 0, 8, 1, 0, 0, 0, 0], p).unwrap_err().to_string();
        assert!(magic.contains("bad magic number"), "{magic}");
        assert!(parse_idx(&[0, 0, 0x0d, 0], p).unwrap_err().to_string().contains("not unsigned bytes"));
        assert!(parse_idx(&encode(&[u32::MAX, u32::MAX, u32::MAX], &[]), p).is_err());
    }

    proptest! {
        /// Random and truncated bytes give an error or an array, never a panic.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_idx(&bytes, Path::new("fuzz"));
        }

        #[test]
        fn every_truncation_of_a_valid_file_is_an_error(cut in 0usize..22) {
            let file = encode(&[2, 5], &[7; 10]);
            prop_assume!(cut < file.len());
            prop_assert!(parse_idx(&file[..cut], Path::new("cut")).is_err());
        }

        #[test]
        fn random_gzip_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.gz");
            let mut gz = vec![0x1f, 0x8b];
            gz.extend(&bytes);
            std::fs::write(&path, gz).unwrap();
            // The property is the absence of a panic; random bytes are almost never valid gzip.
            let _ = read_idx(&path);
        }
    }
}
