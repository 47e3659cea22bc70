//! The file of each cloud a fleet run needs, got once for all its tables: a file the user gave
//! serves its own cloud, every other cloud's comes from the caller (the cache or a download).
//! Once they are in hand, every table's region is checked against its cloud's file, so that a
//! region the cloud does not have stops the run before any table is read. A one-table run's
//! cloud is chosen here too ([`one_cloud`]): the file given may say it, but never where a token
//! goes.

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

/// Why a one-table run has no cloud, or a file of another cloud.
#[derive(Debug, thiserror::Error)]
pub enum OneCloudError {
    #[error("no cloud: name one, or give its file")]
    Unnamed,
    /// The live table is reached through `cloud`'s Resource Manager (a file never chooses
    /// where the token goes), but the file is of another cloud.
    #[error(
        "{name} is a {found} file, but the route table is reached through the {cloud} Resource \
         Manager; name the file's cloud"
    )]
    LiveElsewhere {
        name: String,
        found: Cloud,
        cloud: Cloud,
    },
    #[error("{name} is a {found} file, not {cloud}")]
    OtherCloud {
        name: String,
        found: Cloud,
        cloud: Cloud,
    },
}

/// The cloud of a one-table run: the one `named`, else Public for a live table (a file never
/// chooses where the token goes), else the `given` file's own; the file must be of it.
pub fn one_cloud(
    named: Option<Cloud>,
    live: bool,
    given: Option<&CloudFile>,
) -> Result<Cloud, OneCloudError> {
    let cloud = match (named, live, given) {
        (Some(cloud), _, _) => cloud,
        (None, true, _) => Cloud::Public,
        (None, false, Some(g)) => g.snapshot.cloud,
        (None, false, None) => return Err(OneCloudError::Unnamed),
    };
    match given.filter(|g| g.snapshot.cloud != cloud) {
        None => Ok(cloud),
        Some(g) => {
            let (name, found) = (g.source.name().to_owned(), g.snapshot.cloud);
            Err(match (named, live) {
                (None, true) => OneCloudError::LiveElsewhere { name, found, cloud },
                _ => OneCloudError::OtherCloud { name, found, cloud },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(cloud: Cloud) -> CloudFile {
        let mut file = CloudFile::given(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/ServiceTags_Example.json"
        ))
        .unwrap();
        file.snapshot.cloud = cloud;
        file
    }

    #[test]
    fn a_one_table_runs_cloud_is_named_else_public_when_live_else_the_files() {
        let (public, china) = (example(Cloud::Public), example(Cloud::China));
        let ok = |named, live, given| one_cloud(named, live, given).ok();
        // Named: that cloud, the file must agree.
        assert_eq!(
            ok(Some(Cloud::China), true, Some(&china)),
            Some(Cloud::China)
        );
        assert_eq!(ok(Some(Cloud::China), false, None), Some(Cloud::China));
        // A live table without a name goes to Public, whatever the file says.
        assert_eq!(ok(None, true, None), Some(Cloud::Public));
        assert!(matches!(
            one_cloud(None, true, Some(&china)),
            Err(OneCloudError::LiveElsewhere {
                found: Cloud::China,
                cloud: Cloud::Public,
                ..
            })
        ));
        // Else the file chooses; without one, nothing does.
        assert_eq!(ok(None, false, Some(&china)), Some(Cloud::China));
        assert!(matches!(
            one_cloud(None, false, None),
            Err(OneCloudError::Unnamed)
        ));
        assert!(matches!(
            one_cloud(Some(Cloud::China), false, Some(&public)),
            Err(OneCloudError::OtherCloud {
                found: Cloud::Public,
                cloud: Cloud::China,
                ..
            })
        ));
    }
}
