//! Which copy of a cloud's file a command reads: a path the user gave, the cache as it is, the
//! cache re-checked when older than a given age, or the newest file fetched now; and where that
//! copy came from, as a refresh records it. Every command that reads a cloud's file asks here,
//! so the cache's rules (an offline run never touches the network; a download is validated
//! before it replaces the cached file) hold the same for all of them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::store::Store;
use super::{Endpoints, Method, Outcome, SourceError};
use crate::http::{Http, Progress};
use crate::snapshot::Cloud;

/// Which copy of the file is wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The cached file, whatever its age; never the network.
    Offline,
    /// The cached file, fetched first when missing or older than this.
    MaxAge(Duration),
    /// The newest file: always asked for (conditionally, so an unchanged file costs a 304).
    Newest,
}

/// How to reach the servers when a fetch is needed.
pub struct Fetcher<'a> {
    pub http: &'a Http,
    pub endpoints: &'a Endpoints,
    pub method: &'a Method,
    pub progress: &'a dyn Progress,
}

/// Where a file came from, as a refresh's summary records it.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Provenance {
    /// A file read (`-` for stdin), or the cache with `offline`.
    File {
        file: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        offline: bool,
    },
    /// A download, as the fetch reports it.
    Download(Outcome),
}

impl Provenance {
    /// The name the file's errors are reported under.
    pub fn name(&self) -> &str {
        match self {
            Provenance::File { file, .. } => file,
            Provenance::Download(outcome) => &outcome.url,
        }
    }
}

/// The bytes of a file the user gave (`-` for stdin), within the size limit, and its
/// provenance.
pub fn given(path: &str) -> Result<(Vec<u8>, Provenance), crate::snapshot::LoadError> {
    let bytes = crate::snapshot::read_source(path)?;
    let file = crate::snapshot::source_name(path);
    Ok((
        bytes,
        Provenance::File {
            file,
            offline: false,
        },
    ))
}

/// The cached copy of `cloud`'s file as `wanted` asks, fetching it into `store` when needed
/// (`fetcher` is then required). Returns its path and where it came from: the fetch's outcome
/// when one was made, else the cached path. Notes for the user are pushed on `notes`.
pub async fn cached(
    store: &Store,
    cloud: Cloud,
    wanted: Wanted,
    fetcher: Option<Fetcher<'_>>,
    notes: &mut Vec<String>,
) -> Result<(PathBuf, Provenance), SourceError> {
    let path = store.data_path(cloud);
    let fetch = match wanted {
        Wanted::Offline => false,
        Wanted::MaxAge(age) => super::needs_refresh(store, cloud, age),
        Wanted::Newest => true,
    };
    let fetcher = match fetcher {
        Some(f) if fetch => f,
        _ => {
            if !path.is_file() {
                return Err(SourceError::NotCached {
                    cloud,
                    dir: store.dir.display().to_string(),
                });
            }
            let file = path.display().to_string();
            let offline = wanted == Wanted::Offline;
            return Ok((path, Provenance::File { file, offline }));
        }
    };
    let outcome = super::fetch(
        fetcher.http,
        store,
        cloud,
        fetcher.endpoints,
        fetcher.method,
        fetcher.progress,
        notes,
    )
    .await?;
    Ok((path, Provenance::Download(outcome)))
}
