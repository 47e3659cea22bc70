//! The file of each cloud a fleet run needs, got once for all its tables: a file the user gave
//! serves its own cloud, every other cloud's comes from the caller (the cache or a download).
//! Once they are in hand, every table's region is checked against its cloud's file, so that a
//! region the cloud does not have stops the run before any table is read.

use std::collections::BTreeMap;

use super::config::TableSpec;
use crate::select::SelectError;
use crate::snapshot::{self, Cloud, LoadError, Snapshot};
use crate::source::Provenance;

/// Why the run has no file for its tables.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{source_name} is a {found} file, not a {expected} one")]
    WrongCloud {
        source_name: String,
        found: Cloud,
        expected: Cloud,
    },
    #[error("table {number} ({name}) region")]
    Region {
        /// 1-based, in the fleet file's order.
        number: usize,
        name: String,
        #[source]
        err: Box<SelectError>,
    },
    #[error(transparent)]
    Get(Box<dyn std::error::Error + Send + Sync>),
}

/// A cloud's file, got and parsed once for all its tables.
pub struct CloudFile {
    pub bytes: Vec<u8>,
    pub snapshot: Snapshot,
    pub source: Provenance,
}

impl CloudFile {
    /// A file the user gave (`-` for stdin), read within the size limit and parsed.
    pub fn given(path: &str) -> Result<CloudFile, LoadError> {
        let (bytes, source) = crate::source::local::given(path)?;
        CloudFile::parse(bytes, source)
    }

    /// Parses a file's bytes, reported under its provenance's name.
    pub fn parse(bytes: Vec<u8>, source: Provenance) -> Result<CloudFile, LoadError> {
        let snapshot = snapshot::parse(source.name(), &bytes)?;
        Ok(CloudFile {
            bytes,
            snapshot,
            source,
        })
    }
}

/// The files of every cloud of `specs`: `given` for its own cloud, `get` for each other cloud
/// (called once per cloud). Returns them, and whether `given` served no table.
pub fn files(
    specs: &[TableSpec],
    given: Option<CloudFile>,
    mut get: impl FnMut(Cloud) -> Result<CloudFile, Box<dyn std::error::Error + Send + Sync>>,
) -> Result<(BTreeMap<Cloud, CloudFile>, bool), FilesError> {
    let mut files = BTreeMap::new();
    let mut unused = false;
    if let Some(f) = given {
        unused = !specs.iter().any(|s| s.cloud == f.snapshot.cloud);
        files.insert(f.snapshot.cloud, f);
    }
    for spec in specs {
        if files.contains_key(&spec.cloud) {
            continue;
        }
        let f = get(spec.cloud).map_err(FilesError::Get)?;
        if f.snapshot.cloud != spec.cloud {
            return Err(FilesError::WrongCloud {
                source_name: f.source.name().to_owned(),
                found: f.snapshot.cloud,
                expected: spec.cloud,
            });
        }
        files.insert(spec.cloud, f);
    }
    for (i, spec) in specs.iter().enumerate() {
        spec.check_against(&files[&spec.cloud].snapshot)
            .map_err(|err| FilesError::Region {
                number: i + 1,
                name: spec.name.clone(),
                err: Box::new(err),
            })?;
    }
    Ok((files, unused))
}
