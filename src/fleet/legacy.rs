//! The state a one-table `refresh` kept before a one-table run became a fleet of one: the state
//! directory's `current` named a generation holding the table's own files (`summary.json`, the
//! snapshot, the plan, notifications not yet delivered) where a fleet's holds its `report.json`.
//!
//! The first run of today's layout takes it over: the table it was kept for (the same live table,
//! or, with none, a run without one) reads it as its last generation, so the rollback guard, the
//! last snapshot (for drift) and the pending notifications carry on into `tables/<name>/`; only
//! once that table's new generation is written does the run's own record replace it. A run
//! without that table leaves it untouched and says so.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::config::TableSpec;
use crate::refresh::{MAX_STATE_FILE_BYTES, RefreshError};

/// A one-table refresh's last generation, found as a state directory's current one.
#[derive(Clone, Debug)]
pub struct Legacy {
    pub generation: PathBuf,
    /// The live table it was kept for, as its summary names it (`None`: a run without one).
    pub route_table: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SummaryRecord {
    route_table: Option<String>,
}

impl Legacy {
    /// The one-table state `state_dir` holds, if its current generation is one.
    pub fn find(state_dir: &Path) -> Result<Option<Legacy>, RefreshError> {
        let Some(generation) = crate::state::current(state_dir)? else {
            return Ok(None);
        };
        let summary = generation.join("summary.json");
        if generation.join("report.json").exists() || !summary.exists() {
            return Ok(None);
        }
        let read = |err| RefreshError::Io {
            path: summary.display().to_string(),
            err,
        };
        let bytes =
            crate::fsutil::read_bounded(&summary, MAX_STATE_FILE_BYTES, true).map_err(read)?;
        let record: SummaryRecord = crate::json::from_slice(&bytes).map_err(|e| {
            read(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e.to_string(),
            ))
        })?;
        Ok(Some(Legacy {
            generation,
            route_table: record.route_table,
        }))
    }

    /// The one-table state `state_dir` holds, refused when none of `specs` was kept for it:
    /// recording the run would replace it. Checked under the run's lock, before any table is
    /// read.
    pub fn check(state_dir: &Path, specs: &[TableSpec]) -> Result<Option<Legacy>, RefreshError> {
        match Legacy::find(state_dir)? {
            Some(l) if !specs.iter().any(|s| l.belongs_to(s)) => Err(RefreshError::Untaken {
                generation: l.generation.display().to_string(),
                route_table: l.route_table,
            }),
            found => Ok(found),
        }
    }

    /// Whether `spec` is the table this state was kept for.
    pub(crate) fn belongs_to(&self, spec: &TableSpec) -> bool {
        match (&self.route_table, &spec.id) {
            (Some(kept), Some(id)) => kept.eq_ignore_ascii_case(&id.to_string()),
            (None, None) => true,
            _ => false,
        }
    }
}
