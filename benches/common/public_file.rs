//! The newest real public snapshot, found through `$TAGROUTE_TEST_DATA` or
//! `../shared/data/servicetags`, for the benches that run on it.

use std::path::PathBuf;

/// The bytes of `ServiceTags_Public_20251028.json`, or `None` when it is not there.
pub fn public_file() -> Option<Vec<u8>> {
    let dir = std::env::var_os("TAGROUTE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/servicetags")
        });
    std::fs::read(dir.join("ServiceTags_Public_20251028.json")).ok()
}
