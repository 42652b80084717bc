//! MNIST (LeCun, Cortes & Burges) from the original idx files, and the views continual and
//! federated learning use: permuted MNIST, split MNIST, and client partitions.

use crate::idx::read_idx;
use crate::{DataError, Result};
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma};
use std::path::{Path, PathBuf};

/// Images and labels of one split.
///
/// # Examples
///
/// ```
/// use metagrad_data::mnist::Split;
/// use ndarray::Array2;
///
/// // Row i of `images` is example i: here every pixel of image i is i / 10.
/// let split = Split { images: Array2::from_shape_fn((4, 784), |(i, _)| i as f32 / 10.0), labels: vec![7, 1, 7, 3] };
/// // The sevens alone, for a one-digit task.
/// let sevens: Vec<usize> = (0..split.labels.len()).filter(|&i| split.labels[i] == 7).collect();
/// let only = split.select(&sevens);
/// assert_eq!(only.labels, vec![7, 7]);
/// assert_eq!((only.images.nrows(), only.images[[1, 0]]), (2, 0.2));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// `[count, 784]`, row-major 28 x 28 pixels scaled to `[0, 1]` (ink is high).
    pub images: Array2<f32>,
    /// Digits 0-9.
    pub labels: Vec<u8>,
}

/// The MNIST training (60,000) and test (10,000) splits.
///
/// # Examples
///
/// ```
/// use metagrad_data::{mnist::Mnist, DataError};
///
/// // A folder without the idx files: a layout error naming the first file looked for.
/// let empty = tempfile::tempdir()?;
/// let err = Mnist::load(empty.path()).unwrap_err();
/// assert!(matches!(err, DataError::Layout { .. }));
/// assert!(err.to_string().contains("neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"), "{err}");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    /// The training split.
    pub train: Split,
    /// The test split.
    pub test: Split,
}

impl Mnist {
    /// Loads `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
    /// and `t10k-labels-idx1-ubyte` from `dir`, each plain or with a `.gz` suffix.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::mnist::Mnist;
    /// use std::io::Write;
    ///
    /// # fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    /// #     let mut out = vec![0, 0, 8, dims.len() as u8];
    /// #     dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    /// #     out.extend(data);
    /// #     out
    /// # }
    ///
    /// // A tiny MNIST: two training images (all ink, blank) and one test image.
    /// let dir = tempfile::tempdir()?;
    /// let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.path().join(name), bytes);
    /// write("train-images-idx3-ubyte", idx(&[2, 28, 28], &[[255; 784], [0; 784]].concat()))?;
    /// write("train-labels-idx1-ubyte", idx(&[2], &[3, 8]))?;
    /// write("t10k-images-idx3-ubyte", idx(&[1, 28, 28], &[128; 784]))?;
    /// // Any of the four may be gzipped instead.
    /// let file = std::fs::File::create(dir.path().join("t10k-labels-idx1-ubyte.gz"))?;
    /// let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    /// gz.write_all(&idx(&[1], &[7]))?;
    /// gz.finish()?;
    ///
    /// let mnist = Mnist::load(dir.path())?;
    /// assert_eq!((mnist.train.images.dim(), mnist.train.labels.clone()), ((2, 784), vec![3, 8]));
    /// assert_eq!((mnist.train.images[[0, 0]], mnist.train.images[[1, 0]]), (1.0, 0.0));
    /// assert_eq!(mnist.test.labels, vec![7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(dir: &Path) -> Result<Mnist> {
        Ok(Mnist { train: load_split(dir, "train")?, test: load_split(dir, "t10k")? })
    }
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    [dir.join(stem), dir.join(format!("{stem}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| DataError::layout(dir, format!("neither {stem} nor {stem}.gz is here")))
}

/// Loads one split (`prefix` is `train` or `t10k`).
///
/// # Examples
///
/// ```
/// use metagrad_data::mnist::load_split;
/// # fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
/// #     let mut out = vec![0, 0, 8, dims.len() as u8];
/// #     dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
/// #     out.extend(data);
/// #     out
/// # }
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), idx(&[2, 28, 28], &[51; 2 * 784]))?;
/// std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), idx(&[2], &[0, 9]))?;
/// let test = load_split(dir.path(), "t10k")?;
/// // Bytes scaled to [0, 1]: 51 / 255 = 0.2.
/// assert_eq!((test.images.dim(), test.images[[1, 783]], test.labels), ((2, 784), 0.2, vec![0, 9]));
/// // A label that is not a digit is a format error naming the file and the index.
/// std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), idx(&[2], &[0, 10]))?;
/// let err = load_split(dir.path(), "t10k").unwrap_err().to_string();
/// assert!(err.ends_with("t10k-labels-idx1-ubyte: label 10 at index 1 is not a digit"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_split(dir: &Path, prefix: &str) -> Result<Split> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = read_idx(&images_path)?;
    let labels = read_idx(&labels_path)?;
    if images.magic() != 2051 || images.dims[1..] != [28, 28] {
        return Err(DataError::format(
            &images_path,
            format!(
                "expected images (magic 2051, [n, 28, 28]), found magic {} with dimensions {:?}",
                images.magic(),
                images.dims
            ),
        ));
    }
    if labels.magic() != 2049 {
        return Err(DataError::format(
            &labels_path,
            format!("expected labels (magic 2049), found magic {}", labels.magic()),
        ));
    }
    if labels.dims[0] != images.dims[0] {
        return Err(DataError::format(
            &labels_path,
            format!("{} labels for {} images in {}", labels.dims[0], images.dims[0], images_path.display()),
        ));
    }
    if let Some((i, &bad)) = labels.data.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(DataError::format(&labels_path, format!("label {bad} at index {i} is not a digit")));
    }
    let pixels =
        Array2::from_shape_vec((images.dims[0], 784), images.data.iter().map(|&p| f32::from(p) / 255.0).collect())
            .expect("dims checked");
    Ok(Split { images: pixels, labels: labels.data })
}

impl Split {
    /// The examples at `indices`, in that order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::mnist::Split;
    /// use ndarray::Array2;
    ///
    /// // Every pixel of image i is i / 4.
    /// let split = Split { images: Array2::from_shape_fn((3, 784), |(i, _)| i as f32 / 4.0), labels: vec![4, 1, 7] };
    /// // In the order asked for, repeats allowed.
    /// let picked = split.select(&[2, 0, 0]);
    /// assert_eq!(picked.labels, vec![7, 4, 4]);
    /// assert_eq!(picked.images.column(0).to_vec(), vec![0.5, 0.0, 0.0]);
    /// ```
    pub fn select(&self, indices: &[usize]) -> Split {
        Split {
            images: self.images.select(ndarray::Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The same images with their pixels reordered by `permutation` (`new[j] = old[perm[j]]`).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::mnist::Split;
    /// use ndarray::Array2;
    ///
    /// // One image whose pixel j is j / 783, permuted by reversal.
    /// let split = Split { images: Array2::from_shape_fn((1, 784), |(_, j)| j as f32 / 783.0), labels: vec![5] };
    /// let reversed: Vec<usize> = (0..784).rev().collect();
    /// let permuted = split.permute_pixels(&reversed);
    /// assert_eq!((permuted.images[[0, 0]], permuted.images[[0, 783]]), (1.0, 0.0));
    /// assert_eq!(permuted.labels, split.labels);
    /// ```
    pub fn permute_pixels(&self, permutation: &[usize]) -> Split {
        Split { images: self.images.select(ndarray::Axis(1), permutation), labels: self.labels.clone() }
    }
}

/// Permuted MNIST: `tasks` fixed pixel permutations drawn from `seed`, the first being the
/// identity (the original images), as in Goodfellow et al. (2013) and Kirkpatrick et al. (2017).
///
/// # Examples
///
/// ```
/// use metagrad_data::mnist::pixel_permutations;
///
/// let perms = pixel_permutations(3, 42);
/// assert_eq!(perms[0], (0..784).collect::<Vec<_>>()); // task 0: the original images
/// let mut sorted = perms[1].clone();
/// sorted.sort_unstable();
/// assert_eq!(sorted, perms[0]); // a true permutation of the 784 pixels
/// assert_ne!(perms[1], perms[2]);
/// assert_eq!(pixel_permutations(3, 42), perms); // fixed by the seed
/// ```
pub fn pixel_permutations(tasks: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..tasks)
        .map(|t| {
            let mut p: Vec<usize> = (0..784).collect();
            if t > 0 {
                p.shuffle(&mut rng);
            }
            p
        })
        .collect()
}

/// Split MNIST: the indices of the examples of each digit pair (0/1, 2/3, 4/5, 6/7, 8/9), as in
/// Zenke et al. (2017). Labels stay the original digits; a task-incremental setup maps them to
/// 0/1 by `label % 2`.
///
/// # Examples
///
/// ```
/// use metagrad_data::mnist::digit_pair_tasks;
///
/// let labels = [0, 1, 2, 3, 9, 4, 8];
/// // Tasks 0/1, 2/3, 4/5, 6/7 and 8/9, as indices into `labels`.
/// assert_eq!(digit_pair_tasks(&labels), vec![vec![0, 1], vec![2, 3], vec![5], vec![], vec![4, 6]]);
/// ```
pub fn digit_pair_tasks(labels: &[u8]) -> Vec<Vec<usize>> {
    (0..5).map(|t| (0..labels.len()).filter(|&i| labels[i] / 2 == t).collect()).collect()
}

/// IID partition: a seeded shuffle of `0..count` dealt into `clients` near-equal parts.
///
/// # Examples
///
/// ```
/// use metagrad_data::mnist::partition_iid;
///
/// let parts = partition_iid(10, 3, 7);
/// assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 3, 3]);
/// // Every example goes to exactly one client.
/// let mut all: Vec<usize> = parts.concat();
/// all.sort_unstable();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
pub fn partition_iid(count: usize, clients: usize, seed: u64) -> Vec<Vec<usize>> {
    assert!(clients > 0, "partition_iid: no clients");
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    let mut parts = vec![Vec::new(); clients];
    for (i, example) in order.into_iter().enumerate() {
        parts[i % clients].push(example);
    }
    parts
}

/// The pathological non-IID partition of McMahan et al. (2017): examples sorted by label, cut
/// into `clients * shards_per_client` shards, and each client given `shards_per_client` shards
/// at random, so most clients see two digits.
///
/// # Examples
///
/// ```
/// use metagrad_data::mnist::partition_shards;
///
/// // Four digits with two examples each: 2 clients x 2 shards, one digit per shard.
/// let labels = [3, 1, 0, 2, 1, 3, 0, 2];
/// let parts = partition_shards(&labels, 2, 2, 5);
/// for part in &parts {
///     let mut digits: Vec<u8> = part.iter().map(|&i| labels[i]).collect();
///     digits.dedup();
///     assert_eq!((part.len(), digits.len()), (4, 2));
/// }
/// ```
pub fn partition_shards(labels: &[u8], clients: usize, shards_per_client: usize, seed: u64) -> Vec<Vec<usize>> {
    let shards = clients * shards_per_client;
    assert!(shards > 0 && shards <= labels.len(), "partition_shards: {shards} shards for {} examples", labels.len());
    let mut by_label: Vec<usize> = (0..labels.len()).collect();
    by_label.sort_by_key(|&i| (labels[i], i));
    let size = labels.len() / shards;
    let mut order: Vec<usize> = (0..shards).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    order
        .chunks(shards_per_client)
        .map(|mine| mine.iter().flat_map(|&s| by_label[s * size..(s + 1) * size].iter().copied()).collect())
        .collect()
}

/// Dirichlet partition (Hsu et al. 2019): for each class, client shares drawn from
/// `Dir(alpha)`; small `alpha` gives skewed clients, large `alpha` near-IID ones.
///
/// # Examples
///
/// ```
/// use metagrad_data::mnist::partition_dirichlet;
///
/// let labels: Vec<u8> = (0..1000).map(|i| (i % 10) as u8).collect();
/// // The number of digits each client holds, summed over clients.
/// let digit_count = |alpha: f64| -> usize {
///     let parts = partition_dirichlet(&labels, 10, alpha, 1);
///     assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), 1000); // each example once
///     parts.iter().map(|p| (0..10).filter(|&d| p.iter().any(|&i| labels[i] == d)).count()).sum()
/// };
/// assert!(digit_count(0.05) < digit_count(100.0));
/// ```
pub fn partition_dirichlet(labels: &[u8], clients: usize, alpha: f64, seed: u64) -> Vec<Vec<usize>> {
    assert!(
        clients > 0 && alpha > 0.0,
        "partition_dirichlet: needs clients > 0 and alpha > 0, got {clients} and {alpha}"
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let gamma = Gamma::new(alpha, 1.0).expect("alpha > 0");
    let mut parts = vec![Vec::new(); clients];
    let classes = labels.iter().copied().max().map_or(0, |m| usize::from(m) + 1);
    for class in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| usize::from(labels[i]) == class).collect();
        members.shuffle(&mut rng);
        let weights: Vec<f64> = (0..clients).map(|_| gamma.sample(&mut rng) + f64::MIN_POSITIVE).collect();
        let total: f64 = weights.iter().sum();
        let mut start = 0;
        let mut cumulative = 0.0;
        for (client, w) in weights.iter().enumerate() {
            cumulative += w / total;
            let end = if client + 1 == clients {
                members.len()
            } else {
                ((cumulative * members.len() as f64).round() as usize).min(members.len())
            };
            parts[client].extend_from_slice(&members[start..end.max(start)]);
            start = end.max(start);
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<u8> {
        (0..1000).map(|i| (i * 7 % 10) as u8).collect()
    }

    fn is_partition(parts: &[Vec<usize>], count: usize) -> bool {
        let mut all: Vec<usize> = parts.iter().flatten().copied().collect();
        all.sort_unstable();
        all == (0..count).collect::<Vec<_>>()
    }

    #[test]
    fn partitions_cover_every_example_once_and_are_seeded() {
        let l = labels();
        assert!(is_partition(&partition_iid(1000, 7, 1), 1000));
        assert!(is_partition(&partition_shards(&l, 10, 2, 1), 1000));
        assert!(is_partition(&partition_dirichlet(&l, 10, 0.5, 1), 1000));
        assert_eq!(partition_dirichlet(&l, 10, 0.5, 3), partition_dirichlet(&l, 10, 0.5, 3));
        assert_ne!(partition_iid(1000, 7, 1), partition_iid(1000, 7, 2));
    }

    #[test]
    fn shards_give_clients_few_digits_and_small_alpha_skews() {
        let l = labels();
        let digits = |part: &Vec<usize>| {
            let mut d: Vec<u8> = part.iter().map(|&i| l[i]).collect();
            d.sort_unstable();
            d.dedup();
            d.len()
        };
        assert!(partition_shards(&l, 10, 2, 4).iter().all(|p| digits(p) <= 2));
        let skewed: usize = partition_dirichlet(&l, 10, 0.05, 4).iter().map(digits).sum();
        let even: usize = partition_dirichlet(&l, 10, 100.0, 4).iter().map(digits).sum();
        assert!(skewed < even, "alpha 0.05 gives {skewed} client-digit pairs, alpha 100 gives {even}");
    }

    #[test]
    fn permutations_and_pairs() {
        let perms = pixel_permutations(3, 9);
        assert_eq!(perms[0], (0..784).collect::<Vec<_>>());
        assert_ne!(perms[1], perms[0]);
        let mut sorted = perms[2].clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..784).collect::<Vec<_>>());
        let pairs = digit_pair_tasks(&labels());
        assert!(pairs[2].iter().all(|&i| [4, 5].contains(&labels()[i])));
        assert_eq!(pairs.iter().map(Vec::len).sum::<usize>(), 1000);
    }
}
