//! The unattended refresh job: what it compares, what it records, and what it tells.
//!
//! A run is given the newest file and the plan made from it. Against the last state it checks
//! that the file is not older (no rollback), decides whether the routes changed (by the routes
//! themselves, or by the diff with a live table), writes a new generation of the state (the
//! file, the plan and its rendering, drift and diff reports, the [`Summary`]) and keeps the
//! notifications the webhook has not taken yet. The whole run (parse, check, read the live
//! table, plan, apply, record) is [`job::run`]; getting the file and HTTP belong to its caller,
//! the state's atomicity and lock to [`crate::state`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod job;
pub mod message;

use crate::arm::ApplyReport;
use crate::diff::{self, Diff, DiffSummary};
use crate::drift::{self, Drift, DriftOptions};
use crate::emit::{self, PlanFormat, Target};
use crate::plan::Plan;
use crate::snapshot::{self, LoadError, Snapshot};
pub use crate::source::Provenance;
use crate::source::http::{FetchError, Http};
use crate::state::{self, StateError};
use url::Url;

/// Names of the state files that hold a notification not yet delivered.
pub const WEBHOOK_PREFIX: &str = "webhook-";

/// Why a run could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the state's snapshot")]
    Snapshot(#[from] LoadError),
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        err: std::io::Error,
    },
    #[error(
        "the new file has changeNumber {new}, older than the state's {stored}: refusing to roll back"
    )]
    Rollback { new: u64, stored: u64 },
    #[error(transparent)]
    Drift(#[from] drift::DriftError),
    #[error(transparent)]
    Diff(#[from] diff::DiffError),
}

/// What the last run left.
pub struct Previous {
    pub generation: PathBuf,
    pub snapshot: Snapshot,
    /// Its planned routes, when its plan could be read.
    routes: Option<Vec<RouteRecord>>,
}

/// A route as a plan records it: what a change of routes is judged on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteRecord {
    name: String,
    address_prefix: String,
    next_hop_type: String,
    next_hop_ip_address: Option<String>,
}

#[derive(Deserialize)]
struct PlanRecord {
    routes: Vec<RouteRecord>,
}

fn records(plan: &Plan) -> Vec<RouteRecord> {
    plan.routes
        .iter()
        .map(|r| RouteRecord {
            name: r.name.clone(),
            address_prefix: r.destination.to_string(),
            next_hop_type: r.next_hop.type_name().to_owned(),
            next_hop_ip_address: r.next_hop.ip().map(|ip| ip.to_string()),
        })
        .collect()
}

/// The last run's generation, its file and its routes; `None` on a first run.
pub fn previous(state_dir: &Path) -> Result<Option<Previous>, RefreshError> {
    let Some(generation) = state::current(state_dir)? else {
        return Ok(None);
    };
    let path = generation.join("snapshot.json");
    let snapshot = snapshot::parse(&path.display().to_string(), &read(&path)?)?;
    let routes = std::fs::read(generation.join("plan.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<PlanRecord>(&b).ok())
        .map(|p| p.routes);
    Ok(Some(Previous {
        generation,
        snapshot,
        routes,
    }))
}

fn read(path: &Path) -> Result<Vec<u8>, RefreshError> {
    std::fs::read(path).map_err(|err| RefreshError::Io {
        path: path.display().to_string(),
        err,
    })
}

/// A notification kept in the state until the webhook takes it: its file name and body.
#[derive(Clone, Debug)]
pub struct Notification {
    pub name: String,
    pub body: Vec<u8>,
}

/// The notifications a generation holds, oldest first.
pub fn pending(generation: &Path) -> Result<Vec<Notification>, RefreshError> {
    let io = |err| RefreshError::Io {
        path: generation.display().to_string(),
        err,
    };
    let mut pending = Vec::new();
    for entry in std::fs::read_dir(generation).map_err(io)? {
        let name = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.starts_with(WEBHOOK_PREFIX) && name.ends_with(".json") {
            let body = read(&generation.join(&name))?;
            pending.push(Notification { name, body });
        }
    }
    pending.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(pending)
}

/// Removes a delivered notification from the state.
pub fn delivered(generation: &Path, n: &Notification) -> Result<(), RefreshError> {
    Ok(state::remove_file(generation, &n.name)?)
}

/// Why some notifications were not delivered (they stay in the state for the next run).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "webhook failed ({first}); the state was written to {} and keeps {failed} \
         notification(s) for the next run",
        generation.display()
    )]
    Failed {
        /// The first failure (its words are in the message).
        first: FetchError,
        failed: usize,
        generation: PathBuf,
    },
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    #[error("the state's notification {name} is not a summary tagroute wrote")]
    Unreadable {
        name: String,
        #[source]
        err: serde_json::Error,
    },
}

/// POSTs each pending notification of a run to `url` in `format`, oldest first, removing each
/// from the state once it is delivered (at least once: a receiver may see one twice); those that
/// fail stay for the next run.
pub async fn notify(
    http: &Http,
    url: &Url,
    generation: &Path,
    pending: &[Notification],
    format: message::MessageFormat,
) -> Result<(), NotifyError> {
    let mut failed: Vec<FetchError> = Vec::new();
    for n in pending {
        let body = message::render(&n.body, format).map_err(|err| NotifyError::Unreadable {
            name: n.name.clone(),
            err,
        })?;
        match http.post_json(url, &body).await {
            Ok(()) => delivered(generation, n)?,
            Err(e) => failed.push(e),
        }
    }
    let count = failed.len();
    match failed.into_iter().next() {
        Some(first) => Err(NotifyError::Failed {
            first,
            failed: count,
            generation: generation.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// What one run tells: the summary on stdout and in the webhook's body.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Names this run for a receiver that may see a notification twice (at least once).
    pub run_id: String,
    pub cloud: &'static str,
    pub change_number: u64,
    pub previous_change_number: Option<u64>,
    pub region: Option<String>,
    /// The live table the run read (its Resource Manager id), when it read one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table: Option<String>,
    pub tags: Vec<String>,
    pub routes: usize,
    /// The plan's service-tag routes: Azure keeps them current, so their tags' prefix changes
    /// never make `changed` true.
    pub tag_routes: Vec<String>,
    /// True when routes must change (always on a first run).
    pub changed: bool,
    pub plan_changes: PlanChanges,
    pub drift: Option<DriftCounts>,
    pub diff: Option<DiffSummary>,
    /// What was applied to the live table, when the run applied the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<ApplyReport>,
    /// Where the file came from.
    pub source: Provenance,
}

/// Route names the plan gained and lost since the last run.
#[derive(Clone, Debug, Serialize)]
pub struct PlanChanges {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// The drift report in numbers.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftCounts {
    pub tags_changed: usize,
    pub prefixes_added: usize,
    pub prefixes_removed: usize,
    pub added_tags: Vec<String>,
    pub removed_tags: Vec<String>,
}

/// What a run is given.
pub struct Run<'a> {
    /// The newest file, as read (stored as the next run's reference).
    pub file: &'a [u8],
    /// The same file already stored on disk, linked into the state instead of written again.
    pub stored: Option<&'a Path>,
    pub snapshot: &'a Snapshot,
    pub source: Provenance,
    pub plan: &'a Plan,
    /// A rendering of the plan to store beside it, and where its routes go.
    pub rendering: Option<PlanFormat>,
    pub target: Target,
    pub drift: DriftOptions,
    /// The plan's diff against the route table (live or given), when there is one.
    pub diff: Option<&'a Diff>,
    /// What applying the change to the live table did.
    pub applied: Option<&'a ApplyReport>,
    /// Whether a webhook will be told of a change.
    pub notify: bool,
    /// The live table's id, when one was read.
    pub route_table: Option<String>,
}

/// What a run recorded.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub generation: PathBuf,
    pub summary: Summary,
    /// Notifications waiting for the webhook, oldest first, this run's last.
    pub pending: Vec<Notification>,
}

/// Refuses a file older than the state's.
pub fn check_not_older(previous: &Previous, new: &Snapshot) -> Result<(), RefreshError> {
    if new.change_number < previous.snapshot.change_number {
        return Err(RefreshError::Rollback {
            new: new.change_number,
            stored: previous.snapshot.change_number,
        });
    }
    Ok(())
}

/// The file name a plan rendering is stored under.
fn rendering_name(format: PlanFormat) -> &'static str {
    match format {
        PlanFormat::Table => "plan.txt",
        PlanFormat::Json => "plan.json",
        PlanFormat::Csv => "plan.csv",
        PlanFormat::Az => "plan.sh",
        PlanFormat::Terraform => "plan.tf",
        PlanFormat::Arm => "plan.arm.json",
        PlanFormat::Bicep => "plan.bicep",
    }
}

fn pretty<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("the state's values serialise");
    out.push(b'\n');
    out
}

/// Compares the run with the last one, writes the new generation and returns what it holds.
pub fn record(
    state_dir: &Path,
    previous: Option<&Previous>,
    run: Run<'_>,
) -> Result<Recorded, RefreshError> {
    let plan = run.plan;
    let file = match run.stored {
        Some(path) => state::Content::Link(path),
        None => state::Content::Bytes(run.file.to_vec()),
    };
    let mut files: Vec<(String, state::Content)> = vec![
        ("snapshot.json".into(), file),
        ("plan.json".into(), pretty(plan).into()),
    ];
    if let Some(format) = run.rendering.filter(|f| *f != PlanFormat::Json) {
        let text = emit::render_plan(plan, format, &run.target);
        files.push((rendering_name(format).into(), text.into_bytes().into()));
    }
    let drift_report: Option<Drift> = match previous {
        Some(prev) => {
            let d = drift::drift(&prev.snapshot, run.snapshot, &run.drift, false)?;
            files.push((
                "drift.json".into(),
                emit::drift::json(&d).into_bytes().into(),
            ));
            files.push((
                "drift.md".into(),
                emit::drift::markdown(&d).into_bytes().into(),
            ));
            Some(d)
        }
        None => None,
    };
    if let Some(d) = run.diff {
        files.push(("diff.json".into(), emit::diff::json(d).into_bytes().into()));
        let script = emit::diff::az_script(d, plan, &run.target);
        files.push(("diff.sh".into(), script.into_bytes().into()));
    }
    let now = records(plan);
    let before = previous.and_then(|p| p.routes.as_ref());
    let changed = match &run.diff {
        Some(d) => !d.is_empty(),
        None => before != Some(&now),
    };
    let names = |r: &[RouteRecord]| -> Vec<String> { r.iter().map(|r| r.name.clone()).collect() };
    let (now_names, before_names) = (names(&now), before.map(|b| names(b)).unwrap_or_default());
    let summary = Summary {
        run_id: run_id(),
        cloud: plan.cloud.as_str(),
        change_number: plan.change_number,
        previous_change_number: previous.map(|p| p.snapshot.change_number),
        region: plan.region.clone(),
        route_table: run.route_table,
        tags: plan.tags.iter().map(|t| t.name.clone()).collect(),
        routes: plan.routes.len(),
        tag_routes: plan
            .routes
            .iter()
            .filter(|r| r.expansion.is_some())
            .map(|r| r.destination.to_string())
            .collect(),
        changed,
        plan_changes: PlanChanges {
            add: now_names
                .iter()
                .filter(|n| !before_names.contains(n))
                .cloned()
                .collect(),
            remove: before_names
                .iter()
                .filter(|n| !now_names.contains(n))
                .cloned()
                .collect(),
        },
        drift: drift_report.as_ref().map(|d| DriftCounts {
            tags_changed: d
                .tags
                .iter()
                .filter(|t| !t.added.is_empty() || !t.removed.is_empty())
                .count(),
            prefixes_added: d.tags.iter().map(|t| t.added.len()).sum(),
            prefixes_removed: d.tags.iter().map(|t| t.removed.len()).sum(),
            added_tags: d.added_tags.clone(),
            removed_tags: d.removed_tags.clone(),
        }),
        diff: run.diff.map(|d| d.summary.clone()),
        apply: run.applied.cloned(),
        source: run.source,
    };
    files.push(("summary.json".into(), pretty(&summary).into()));
    // Notifications not yet delivered travel with the state from one generation to the next
    // until the webhook takes them; this run's joins them when something changed.
    let mut pending = match previous {
        Some(p) => self::pending(&p.generation)?,
        None => Vec::new(),
    };
    if changed && run.notify {
        pending.push(Notification {
            name: format!("{WEBHOOK_PREFIX}{}.json", summary.run_id),
            body: pretty(&summary),
        });
    }
    files.extend(
        pending
            .iter()
            .map(|n| (n.name.clone(), n.body.clone().into())),
    );
    let generation = state::commit(state_dir, &plan.change_number.to_string(), &files)?;
    Ok(Recorded {
        generation,
        summary,
        pending,
    })
}

/// A run's name: its start in seconds since 1970 (so that names sort by time) and a random part.
pub fn run_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{secs:012}-{:08x}", fastrand::u32(..))
}
