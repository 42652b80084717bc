//! Where the datasets are: an explicit path everywhere, with one convention for examples and
//! tests: `METAGRAD_DATA`, else `../shared/data` when it exists.

use std::path::PathBuf;

/// The data folder for examples and tests: `$METAGRAD_DATA` if set, else `../shared/data`
/// (relative to the current directory, then to this crate's workspace) when it exists.
///
/// # Examples
///
/// ```
/// use metagrad_data::location::default_data_dir;
/// use std::path::PathBuf;
///
/// // `METAGRAD_DATA` wins over any `../shared/data`, whether or not it exists yet.
/// std::env::set_var("METAGRAD_DATA", "/srv/datasets");
/// assert_eq!(default_data_dir(), Some(PathBuf::from("/srv/datasets")));
/// ```
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("METAGRAD_DATA") {
        return Some(PathBuf::from(dir));
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    [PathBuf::from("../shared/data"), workspace].into_iter().find(|p| p.is_dir())
}

/// For tests that need a dataset under the data folder: its path, or `None` with a printed
/// notice when it is absent, so the test can return early.
///
/// # Panics
/// When the dataset is absent and `METAGRAD_REQUIRE_DATA=1` (as CI sets): a skipped test
/// must never pass for a run that was meant to check it.
///
/// # Examples
///
/// ```
/// use metagrad_data::location::dataset_for_test;
///
/// let data = tempfile::tempdir()?;
/// std::fs::create_dir(data.path().join("mnist"))?;
/// std::env::set_var("METAGRAD_DATA", data.path());
/// std::env::remove_var("METAGRAD_REQUIRE_DATA");
/// assert_eq!(dataset_for_test("mnist"), Some(data.path().join("mnist")));
/// // Absent: `None` (and a notice), so that the test can return early...
/// assert_eq!(dataset_for_test("omniglot"), None);
/// // ...unless the run requires the data, as CI does.
/// std::env::set_var("METAGRAD_REQUIRE_DATA", "1");
/// # std::panic::set_hook(Box::new(|_| {})); // keep the expected panic out of the output
/// assert!(std::panic::catch_unwind(|| dataset_for_test("omniglot")).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn dataset_for_test(name: &str) -> Option<PathBuf> {
    let found = default_data_dir().map(|d| d.join(name)).filter(|p| p.exists());
    if found.is_none() {
        let required = std::env::var("METAGRAD_REQUIRE_DATA").is_ok_and(|v| v == "1");
        assert!(!required, "dataset `{name}` not found (METAGRAD_DATA or ../shared/data) and METAGRAD_REQUIRE_DATA=1");
        eprintln!("notice: dataset `{name}` not found (set METAGRAD_DATA); skipping this test");
    }
    found
}
