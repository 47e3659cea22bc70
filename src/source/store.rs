//! The cache of downloaded service-tag files: one file per cloud plus a small metadata file
//! (URL, validators, when fetched, changeNumber, size). Both are replaced atomically, data first;
//! metadata that does not match the data file's size is ignored, so a crash between the two writes
//! costs at most one unconditional download, never a wrong 304.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;
use crate::http::Validators;
use crate::snapshot::Cloud;

/// What is known about a cached file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub url: String,
    pub found_via: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Seconds since the Unix epoch of the last successful check with the server.
    pub fetched_at: u64,
    pub change_number: u64,
    pub bytes: u64,
}

impl Meta {
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        }
    }
}

/// A cache directory.
#[derive(Clone, Debug)]
pub struct Store {
    pub dir: PathBuf,
}

/// `$TAGROUTE_CACHE_DIR`, else the platform's cache directory (`$XDG_CACHE_HOME/tagroute`,
/// `~/.cache/tagroute` on Linux, `~/Library/Caches/tagroute` on macOS).
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TAGROUTE_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "tagroute").map(|p| p.cache_dir().to_path_buf())
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Store { dir: dir.into() }
    }

    /// The cached service-tag file of a cloud.
    pub(crate) fn data_path(&self, cloud: Cloud) -> PathBuf {
        self.dir
            .join(format!("ServiceTags_{}.json", cloud.as_str()))
    }

    fn meta_path(&self, cloud: Cloud) -> PathBuf {
        self.dir
            .join(format!("ServiceTags_{}.meta.json", cloud.as_str()))
    }

    /// The metadata, when it describes the data file that is there.
    pub(crate) fn meta(&self, cloud: Cloud) -> Option<Meta> {
        let meta: Meta =
            serde_json::from_slice(&std::fs::read(self.meta_path(cloud)).ok()?).ok()?;
        let len = std::fs::metadata(self.data_path(cloud)).ok()?.len();
        (len == meta.bytes).then_some(meta)
    }

    /// How long ago the server was last asked about this cloud's file (`None`: nothing cached).
    pub fn age(&self, cloud: Cloud) -> Option<Duration> {
        if !self.data_path(cloud).is_file() {
            return None;
        }
        let at = match self.meta(cloud) {
            Some(m) => UNIX_EPOCH + Duration::from_secs(m.fetched_at),
            None => std::fs::metadata(self.data_path(cloud))
                .and_then(|m| m.modified())
                .ok()?,
        };
        Some(
            SystemTime::now()
                .duration_since(at)
                .unwrap_or(Duration::ZERO),
        )
    }

    /// Stores a validated file and its metadata.
    pub fn save(&self, cloud: Cloud, bytes: &[u8], meta: &Meta) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        write_atomic(&self.data_path(cloud), bytes)?;
        self.save_meta(cloud, meta)
    }

    /// Replaces the metadata alone (after a 304).
    pub(crate) fn save_meta(&self, cloud: Cloud, meta: &Meta) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(meta).expect("metadata serialises");
        write_atomic(&self.meta_path(cloud), &text)
    }
}
