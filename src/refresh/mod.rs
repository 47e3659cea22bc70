//! The unattended refresh job: what it compares, what it records, and what it tells.
//!
//! A run is given the newest file and the plan made from it. Against the last state it checks
//! that the file is not older (no rollback), decides whether the routes changed (by the routes
//! themselves, or by the diff with a live table), writes a new generation of the state (the
//! file, the plan and its rendering, drift and diff reports, the [`Summary`]) and keeps the
//! notifications the webhook has not taken yet. The whole run (parse, check, read the live
//! table, plan, apply, record) is [`job::run`]; getting the file and HTTP belong to its caller,
//! the state's atomicity and lock to the state module.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod job;
pub mod message;

use crate::arm::ApplyReport;
use crate::diff::{self, Diff, DiffSummary};
use crate::drift::{self, Drift, DriftOptions};
use crate::emit::{self, PlanFormat, Target};
use crate::http::{FetchError, Http};
use crate::plan::Plan;
use crate::routes::RouteTable;
use crate::snapshot::{self, LoadError, Snapshot};
pub use crate::source::Provenance;
use crate::state::{self, StateError};
use url::Url;

/// Names of the state files that hold a notification not yet delivered.
pub(crate) const WEBHOOK_PREFIX: &str = "webhook-";

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
    #[error(
        "{generation} is a one-table refresh's state{}, which no table of this run took over: it \
         is left as it was (run that table, or use another state directory)",
        .route_table.as_deref().map(|t| format!(" of {t}")).unwrap_or_default()
    )]
    Untaken {
        generation: String,
        route_table: Option<String>,
    },
    #[error(transparent)]
    Drift(#[from] drift::DriftError),
    #[error(transparent)]
    Diff(#[from] diff::DiffError),
}

/// What the last run left.
pub struct Previous {
    pub generation: PathBuf,
    /// Its file's changeNumber: the rollback guard.
    pub change_number: u64,
    /// Its file, unless it was damaged and could not be restored (then no drift is reported).
    pub snapshot: Option<Snapshot>,
    /// What was wrong with its file, and what was done about it.
    pub warnings: Vec<String>,
    /// Its file, when it holds exactly this run's bytes: linked into the new generation.
    same_file: Option<PathBuf>,
    /// Its planned routes, when its plan could be read.
    routes: Option<Vec<RouteRecord>>,
    /// The managed routes the table held when the last run ended, when it recorded them.
    table: Option<Vec<Value>>,
}

/// The name of the file that records the table's managed routes as a run left them.
const TABLE_FILE: &str = "table.json";

/// Largest state file read back (a plan, a summary, the table's routes, a notification): far
/// above what a run writes for a table of 1,000 routes.
pub(crate) const MAX_STATE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The managed routes of `table` (named with `name_prefix`, no default route) as the state
/// records them, sorted by name without case: what the next run compares the live table with.
pub fn managed_routes(table: &RouteTable, name_prefix: &str) -> Vec<Value> {
    let mut routes: Vec<&crate::routes::ExistingRoute> = table
        .routes
        .iter()
        .filter(|r| diff::is_managed(r, name_prefix))
        .collect();
    routes.sort_by_key(|r| r.name.to_ascii_lowercase());
    routes
        .into_iter()
        .map(|r| serde_json::to_value(r).expect("a route serialises"))
        .collect()
}

/// How the managed routes `now` differ from `recorded`, those the last run left: writes no run
/// recorded (a run whose state could not be written, or someone else's), one line each.
fn unrecorded_changes(recorded: &[Value], now: &[Value]) -> Vec<String> {
    let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_ascii_lowercase();
    let shown = |v: &Value| {
        crate::text::for_terminal(&format!(
            "{} ({} -> {})",
            v["name"].as_str().unwrap_or_default(),
            v["addressPrefix"].as_str().unwrap_or_default(),
            v["nextHopType"].as_str().unwrap_or_default()
        ))
        .into_owned()
    };
    let mut out = Vec::new();
    for r in now {
        match recorded.iter().find(|p| name(p) == name(r)) {
            None => out.push(format!("route {} was created", shown(r))),
            Some(p) if p != r => out.push(format!("route {} was {}", shown(r), shown(p))),
            Some(_) => {}
        }
    }
    for p in recorded {
        if !now.iter().any(|r| name(r) == name(p)) {
            out.push(format!("route {} was removed", shown(p)));
        }
    }
    out
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

/// The name of the file holding the SHA-256 of a generation's `snapshot.json`, recorded when it
/// was stored: a generation's file is often a hard link shared with the fleet's store and the
/// other tables, so one damaged copy would otherwise fail every table on every run.
const CHECKSUM_FILE: &str = "snapshot.sha256";

/// The SHA-256 of `bytes` in lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The last run's generation, its file and its routes; `None` on a first run.
///
/// The generation's file is checked against the checksum recorded beside it. A damaged copy is
/// replaced by `fresh` (this run's file) when that has the recorded checksum (the same file,
/// fetched or stored again); otherwise the run goes on without it (its changeNumber, from the
/// summary, still guards against a rollback, and no drift is reported), with a warning. A file
/// whose bytes are `fresh`'s (an unchanged week) is not parsed again: it is `fresh_snapshot`, and
/// the new generation links to it instead of writing a copy.
///
/// `takeover`: the generation to read when `state_dir` has none yet (the state a one-table
/// refresh kept before it was a fleet of one).
pub fn previous(
    state_dir: &Path,
    takeover: Option<&Path>,
    fresh: &[u8],
    fresh_snapshot: &Snapshot,
) -> Result<Option<Previous>, RefreshError> {
    let generation = match state::current(state_dir)? {
        Some(generation) => generation,
        None => match takeover {
            Some(generation) => generation.to_path_buf(),
            None => return Ok(None),
        },
    };
    let record = |name: &str| read(&generation.join(name), MAX_STATE_FILE_BYTES).ok();
    let path = generation.join("snapshot.json");
    let shown = path.display().to_string();
    let recorded_sum = record(CHECKSUM_FILE)
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.trim().to_owned());
    let mut warnings = Vec::new();
    let bytes = read(&path, snapshot::MAX_FILE_BYTES);
    let damage = match (&bytes, &recorded_sum) {
        (Err(e), _) => Some(crate::text::chain(e)),
        (Ok(b), Some(sum)) if sha256_hex(b) != *sum => {
            Some("its checksum is not the one recorded when it was stored".to_owned())
        }
        _ => None,
    };
    let same = damage.is_none() && bytes.as_ref().is_ok_and(|b| b.as_slice() == fresh);
    let parsed = match (damage, bytes) {
        (None, Ok(_)) if same => Ok(fresh_snapshot.clone()),
        (None, Ok(b)) => snapshot::parse(&shown, &b).map_err(|e| crate::text::chain(&e)),
        (Some(why), _) => Err(why),
        (None, Err(_)) => unreachable!("a read error is damage"),
    };
    let snapshot = match parsed {
        Ok(s) => Some(s),
        Err(why) if recorded_sum.as_deref() == Some(sha256_hex(fresh).as_str()) => {
            warnings.push(format!(
                "the state's file {shown} is damaged ({why}); this run's file is the same file \
                 (its recorded checksum) and is used in its place"
            ));
            Some(snapshot::parse(&shown, fresh)?)
        }
        Err(why) => {
            warnings.push(format!(
                "the state's file {shown} is damaged ({why}) and cannot be restored: no drift \
                 is reported this run; the rollback guard uses the changeNumber its summary \
                 recorded"
            ));
            None
        }
    };
    let change_number = match &snapshot {
        Some(s) => s.change_number,
        None => record("summary.json")
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["changeNumber"].as_u64())
            .ok_or_else(|| RefreshError::Io {
                path: shown.clone(),
                err: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "damaged, and the summary beside it names no changeNumber to guard against \
                     a rollback",
                ),
            })?,
    };
    let routes = record("plan.json")
        .and_then(|b| serde_json::from_slice::<PlanRecord>(&b).ok())
        .map(|p| p.routes);
    let table = record(TABLE_FILE).and_then(|b| serde_json::from_slice::<Vec<Value>>(&b).ok());
    Ok(Some(Previous {
        same_file: same.then(|| path.clone()),
        generation,
        change_number,
        snapshot,
        warnings,
        routes,
        table,
    }))
}

/// A state file, opened without following a link and read within `limit` bytes.
fn read(path: &Path, limit: u64) -> Result<Vec<u8>, RefreshError> {
    crate::fsutil::read_bounded(path, limit, true).map_err(|err| RefreshError::Io {
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

/// The directory of a state directory where notifications that cannot be read or rendered are
/// moved, so that one damaged file does not fail every later run.
pub(crate) const SET_ASIDE: &str = "set-aside";

/// The notifications a generation holds, oldest first, and a warning for each that could not be
/// read and was moved aside (to `set-aside/` of the state directory).
pub fn pending(generation: &Path) -> Result<(Vec<Notification>, Vec<String>), RefreshError> {
    let io = |err| RefreshError::Io {
        path: generation.display().to_string(),
        err,
    };
    let mut pending = Vec::new();
    let mut warnings = Vec::new();
    for entry in std::fs::read_dir(generation).map_err(io)? {
        let name = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.starts_with(WEBHOOK_PREFIX) && name.ends_with(".json") {
            match read(&generation.join(&name), MAX_STATE_FILE_BYTES) {
                Ok(body) => pending.push(Notification { name, body }),
                Err(e) => warnings.push(set_aside(generation, &name, &crate::text::chain(&e))),
            }
        }
    }
    pending.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((pending, warnings))
}

/// Moves a notification that cannot be used out of the generation into `set-aside/` of the
/// state directory (no link followed), and says so.
fn set_aside(generation: &Path, name: &str, why: &str) -> String {
    let moved = generation
        .parent()
        .ok_or_else(|| std::io::Error::other("a generation has a state directory"))
        .and_then(|dir| state::set_aside(dir, generation, name, SET_ASIDE));
    match moved {
        Ok(to) => format!(
            "the state's notification {} cannot be used ({why}); moved to {}",
            crate::text::for_terminal(name),
            to.display()
        ),
        Err(e) => format!(
            "the state's notification {} cannot be used ({why}) nor moved aside ({e})",
            crate::text::for_terminal(name)
        ),
    }
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
    #[error(
        "webhook failed ({first}); the state could not be written, so {failed} \
         notification(s) of this run are lost"
    )]
    Lost { first: FetchError, failed: usize },
    #[error(transparent)]
    Refresh(#[from] RefreshError),
}

/// What a delivery did besides delivering: notifications that could not be rendered and were
/// moved aside, and, when some could not be delivered, why.
#[derive(Debug, Default)]
pub struct Delivery {
    pub set_aside: Vec<String>,
    pub failed: Option<NotifyError>,
}

/// POSTs each pending notification of a run to `url` in `format`, oldest first, removing each
/// from the state (`generation`) once it is delivered (at least once: a receiver may see one
/// twice); those that fail stay for the next run. A stored notification that is not one
/// tagroute wrote is moved aside with a warning, not sent and not fatal. Without a
/// `generation` (the run's state could not be written) the notifications are sent as they are.
pub async fn notify(
    http: &Http,
    url: &Url,
    generation: Option<&Path>,
    pending: &[Notification],
    format: message::MessageFormat,
) -> Delivery {
    crate::secret::register_url(url);
    let mut delivery = Delivery::default();
    let mut failed: Vec<FetchError> = Vec::new();
    for n in pending {
        let body = match message::render(&n.body, format) {
            Ok(body) => crate::secret::redact_bytes(&body).into_owned(),
            Err(e) => {
                let why = format!("not a summary tagroute wrote: {e}");
                match generation {
                    Some(g) => delivery.set_aside.push(set_aside(g, &n.name, &why)),
                    None => delivery.set_aside.push(why),
                }
                continue;
            }
        };
        match http.post_json(url, &body).await {
            Ok(()) => {
                if let Some(g) = generation
                    && let Err(e) = delivered(g, n)
                {
                    delivery.failed = Some(e.into());
                    return delivery;
                }
            }
            Err(e) => failed.push(e),
        }
    }
    let count = failed.len();
    delivery.failed = failed.into_iter().next().map(|first| match generation {
        Some(g) => NotifyError::Failed {
            first,
            failed: count,
            generation: g.to_path_buf(),
        },
        None => NotifyError::Lost {
            first,
            failed: count,
        },
    });
    delivery
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
    /// How the table's managed routes differ, as this run read them, from what the last run
    /// recorded: writes no run recorded (one whose state could not be written, or someone
    /// else's). Any makes `changed` true.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unrecorded: Vec<String>,
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
    /// The live table's managed routes as the run read them ([`managed_routes`]), to compare
    /// with what the last run recorded.
    pub table_read: Option<Vec<Value>>,
    /// The managed routes the run leaves in the table, when known: recorded for the next run.
    pub table_left: Option<Vec<Value>>,
}

/// What a run recorded.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub generation: PathBuf,
    pub summary: Summary,
    /// Notifications waiting for the webhook, oldest first, this run's last.
    pub pending: Vec<Notification>,
    /// Notifications that could not be read and were moved aside, one warning each.
    pub set_aside: Vec<String>,
}

/// A run whose state could not be written: what it would have recorded, and why not. Whatever
/// the run did to a live table is in the summary; the notifications are still to be sent.
#[derive(Debug)]
pub struct Unrecorded {
    pub summary: Summary,
    pub pending: Vec<Notification>,
    pub error: RefreshError,
}

/// Refuses a file older than the state's.
pub(crate) fn check_not_older(previous: &Previous, new: &Snapshot) -> Result<(), RefreshError> {
    if new.change_number < previous.change_number {
        return Err(RefreshError::Rollback {
            new: new.change_number,
            stored: previous.change_number,
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
        PlanFormat::Avnm => "plan.avnm.json",
    }
}

fn pretty<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("the state's values serialise");
    out.push(b'\n');
    out
}

/// Compares the run with the last one, writes the new generation and returns what it holds.
/// When the state cannot be written, the summary and the notifications come back with the
/// error, so that what the run did is still told.
pub fn record(
    state_dir: &Path,
    previous: Option<&Previous>,
    run: Run<'_>,
) -> Result<Recorded, Box<Unrecorded>> {
    let plan = run.plan;
    let unchanged = previous.and_then(|p| p.same_file.as_deref());
    let file = match run.stored.or(unchanged) {
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
    let mut failure: Option<RefreshError> = None;
    files.push((
        CHECKSUM_FILE.into(),
        sha256_hex(run.file).into_bytes().into(),
    ));
    let drift_report: Option<Drift> = match previous.and_then(|p| p.snapshot.as_ref()) {
        Some(prev) => match drift::drift(prev, run.snapshot, &run.drift, false) {
            Ok(d) => {
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
            Err(e) => {
                failure = Some(e.into());
                None
            }
        },
        None => None,
    };
    if let Some(left) = &run.table_left {
        files.push((TABLE_FILE.into(), pretty(left).into()));
    }
    let unrecorded = match (previous.and_then(|p| p.table.as_ref()), &run.table_read) {
        (Some(recorded), Some(read)) => unrecorded_changes(recorded, read),
        _ => Vec::new(),
    };
    if let Some(d) = run.diff {
        files.push(("diff.json".into(), emit::diff::json(d).into_bytes().into()));
        let script = emit::diff::az_script(d, plan, &run.target);
        files.push(("diff.sh".into(), script.into_bytes().into()));
    }
    let now = records(plan);
    let before = previous.and_then(|p| p.routes.as_ref());
    let changed = !unrecorded.is_empty()
        || match &run.diff {
            Some(d) => !d.is_empty(),
            None => before != Some(&now),
        };
    let names = |r: &[RouteRecord]| -> Vec<String> { r.iter().map(|r| r.name.clone()).collect() };
    let (now_names, before_names) = (names(&now), before.map(|b| names(b)).unwrap_or_default());
    let summary = Summary {
        run_id: run_id(),
        cloud: plan.cloud.as_str(),
        change_number: plan.change_number,
        previous_change_number: previous.map(|p| p.change_number),
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
        unrecorded,
        source: run.source,
    };
    files.push(("summary.json".into(), pretty(&summary).into()));
    // Notifications not yet delivered travel with the state from one generation to the next
    // until the webhook takes them; this run's joins them when something changed.
    let (mut pending, set_aside) = match previous.map(|p| self::pending(&p.generation)) {
        Some(Ok(found)) => found,
        Some(Err(e)) => {
            failure.get_or_insert(e);
            (Vec::new(), Vec::new())
        }
        None => (Vec::new(), Vec::new()),
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
    let committed = match failure {
        Some(e) => Err(e),
        None => state::commit(state_dir, &plan.change_number.to_string(), &files)
            .map_err(RefreshError::from),
    };
    match committed {
        Ok(generation) => Ok(Recorded {
            generation,
            summary,
            pending,
            set_aside,
        }),
        Err(error) => Err(Box::new(Unrecorded {
            summary,
            pending,
            error,
        })),
    }
}

/// A run's name: its start in seconds since 1970 (so that names sort by time) and a random part.
pub(crate) fn run_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{secs:012}-{:08x}", fastrand::u32(..))
}
