//! Against the real datasets in `../shared/data` (or `$METAGRAD_DATA`); skipped with a notice
//! when absent, and failing instead when `METAGRAD_REQUIRE_DATA=1` (CI).

use metagrad_data::episodes::EpisodeSampler;
use metagrad_data::location::dataset_for_test;
use metagrad_data::mnist::Mnist;
use metagrad_data::omniglot::Omniglot;
use metagrad_data::DataError;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;

/// A fresh directory, removed when the returned guard drops (also when a test panics).
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a scratch directory")
}

#[test]
fn omniglot_counts_cache_and_episodes() {
    let Some(root) = dataset_for_test("omniglot") else { return };
    let scratch = scratch();
    let cache = scratch.path().join("omniglot-28.bin");
    let start = Instant::now();
    let first = Omniglot::load(&root, Some(&cache)).expect("Omniglot loads");
    let decode_time = start.elapsed();
    let start = Instant::now();
    let second = Omniglot::load(&root, Some(&cache)).expect("Omniglot loads from the cache");
    eprintln!("omniglot: decoded in {decode_time:.2?}, cached load in {:.2?}", start.elapsed());
    assert_eq!(first, second, "the cache round-trips bit-exactly");

    let background = first.characters_in("images_background");
    let evaluation = first.characters_in("images_evaluation");
    assert_eq!((background.len(), evaluation.len()), (964, 659));
    assert!(first.characters.iter().all(|c| c.examples.len() == 20));
    assert_eq!(first.images.shape(), &[32_460, 28, 28]);
    assert!(first.images.iter().all(|v| (0.0..=1.0).contains(v)));
    // Strokes are a minority of each drawing: mean ink well below one half.
    let mean = first.images.mean().unwrap();
    assert!(mean > 0.02 && mean < 0.3, "mean ink {mean}");

    let (train, test) = first.random_split(1200, 0);
    assert_eq!((train.len(), test.len()), (1200, 423));
    let classes = first.classes(&train, true);
    assert_eq!(classes.classes.len(), 4800);
    let episode = EpisodeSampler { ways: 20, shots: 5, queries: 15 }.sample(&classes, &mut StdRng::seed_from_u64(1));
    assert_eq!(episode.support.images.shape(), &[100, 1, 28, 28]);
    assert_eq!(episode.query.images.shape(), &[300, 1, 28, 28]);

    // A changed source invalidates the cache: a cache made for other files is not used.
    std::fs::write(&cache, b"MGOMNI01 junk").unwrap();
    assert_eq!(Omniglot::load(&root, Some(&cache)).unwrap(), first, "a corrupt cache is rebuilt");
}

#[test]
fn mnist_counts_and_first_labels() {
    let Some(dir) = dataset_for_test("mnist") else { return };
    let mnist = Mnist::load(&dir).expect("MNIST loads");
    assert_eq!((mnist.train.images.nrows(), mnist.test.images.nrows()), (60_000, 10_000));
    assert_eq!(&mnist.train.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    let mut counts = [0usize; 10];
    mnist.train.labels.iter().for_each(|&l| counts[usize::from(l)] += 1);
    assert_eq!(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_file() {
    let scratch = scratch();
    let dir = scratch.path();
    // A missing folder.
    match Omniglot::load(&dir.join("nowhere"), None) {
        Err(DataError::Layout { problem, .. }) => assert!(problem.contains("images_background"), "{problem}"),
        other => panic!("expected a layout error, got {other:?}"),
    }
    // An empty class.
    let empty = dir.join("images_background/Alpha/character01");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(dir.join("images_evaluation")).unwrap();
    let err = Omniglot::load(dir, None).unwrap_err().to_string();
    assert!(err.contains("character01") && err.contains("empty class"), "{err}");
    // A PNG that does not decode.
    std::fs::write(empty.join("0001_01.png"), b"\x89PNG\r\n\x1a\n truncated").unwrap();
    let cache = dir.join("cache.bin");
    let err = Omniglot::load(dir, Some(&cache)).unwrap_err().to_string();
    assert!(err.contains("0001_01.png") && err.contains("PNG"), "{err}");
    assert!(!cache.exists(), "nothing written to the cache on failure");
    // Truncated and mislabeled idx files.
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let header = |magic: u32, dims: &[u32]| {
        let mut b = magic.to_be_bytes().to_vec();
        dims.iter().for_each(|d| b.extend(d.to_be_bytes()));
        b
    };
    let mut images = header(2051, &[2, 28, 28]);
    images.extend(vec![0u8; 2 * 784]);
    std::fs::write(mnist.join("train-images-idx3-ubyte"), &images).unwrap();
    let mut labels = header(2049, &[2]);
    labels.extend([3u8, 11]);
    std::fs::write(mnist.join("train-labels-idx1-ubyte"), &labels).unwrap();
    let err = metagrad_data::mnist::load_split(&mnist, "train").unwrap_err().to_string();
    assert!(err.contains("train-labels") && err.contains("label 11"), "{err}");
    std::fs::write(mnist.join("train-images-idx3-ubyte"), &images[..100]).unwrap();
    let err = metagrad_data::mnist::load_split(&mnist, "train").unwrap_err().to_string();
    assert!(err.contains("train-images") && err.contains("need"), "{err}");
    std::fs::write(mnist.join("train-images-idx3-ubyte"), header(2049, &[0])).unwrap();
    let err = metagrad_data::mnist::load_split(&mnist, "train").unwrap_err().to_string();
    assert!(err.contains("magic 2051"), "{err}");
}
