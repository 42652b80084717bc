//! Where the datasets are: an explicit path everywhere, with one convention for examples and
//! tests: `METAGRAD_DATA`, else `../shared/data` when it exists.

use std::path::PathBuf;

/// The data folder for examples and tests: `$METAGRAD_DATA` if set, else `../shared/data`
/// (relative to the current directory, then to this crate's workspace) when it exists.
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
pub fn dataset_for_test(name: &str) -> Option<PathBuf> {
    let found = default_data_dir().map(|d| d.join(name)).filter(|p| p.exists());
    if found.is_none() {
        let required = std::env::var("METAGRAD_REQUIRE_DATA").is_ok_and(|v| v == "1");
        assert!(!required, "dataset `{name}` not found (METAGRAD_DATA or ../shared/data) and METAGRAD_REQUIRE_DATA=1");
        eprintln!("notice: dataset `{name}` not found (set METAGRAD_DATA); skipping this test");
    }
    found
}
