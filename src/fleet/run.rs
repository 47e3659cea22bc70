//! One diff, apply or refresh over every table of a fleet: each cloud's file is got and parsed
//! once by the caller and shared by its tables; tables are read, planned and written with at
//! most `jobs` in flight (each through its own client sharing its cloud's token, so Resource
//! Manager's throttling answers are honoured per request as in a one-table run); a table that
//! fails is reported beside the others and stops nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::config::TableSpec;
pub use super::files::CloudFile;
use super::legacy::Legacy;
use crate::arm::{ApplyReport, ArmClient};
use crate::diff::DiffSummary;
use crate::emit::PlanFormat;
use crate::notice::Notice;
use crate::refresh::{Notification, job};
use crate::request::plan_and_diff;
use crate::snapshot::Cloud;
use crate::source::Provenance;
use crate::text::chain;

/// What the run does to each table.
pub enum Action<'a> {
    /// Read the table and say what would change.
    Diff,
    /// Read the table and make its managed routes equal to the plan.
    Apply,
    /// A refresh run per table, recorded in the fleet's state directory.
    Refresh(RefreshAction<'a>),
}

/// A refresh over the fleet.
pub struct RefreshAction<'a> {
    /// The fleet's state directory (its lock is the caller's); each table's runs are recorded
    /// in `tables/<name>/` under it, and each cloud's file once in `files/`.
    pub state_dir: &'a Path,
    /// Apply the change to every table.
    pub apply: bool,
    /// A rendering of each plan to store beside it.
    pub rendering: Option<PlanFormat>,
    /// Whether a webhook will be told of changes.
    pub notify: bool,
    /// The one-table state the directory holds, found under the caller's lock
    /// ([`super::legacy::Legacy::check`]): its table takes it over.
    pub legacy: Option<&'a Legacy>,
}

/// Everything a fleet run works with.
pub struct Fleet<'a> {
    pub tables: &'a [TableSpec],
    pub files: &'a BTreeMap<Cloud, CloudFile>,
    /// One client per cloud; each table gets its own [`ArmClient::sharing`] it.
    pub clients: &'a BTreeMap<Cloud, ArmClient>,
    /// Most tables worked on at once.
    pub jobs: usize,
    /// Keep each table's plan and diff in its report (a fleet of one: the run prints them).
    pub keep: bool,
}

/// A recorded refresh as the report gives it: the generation's path.
fn generation<S: serde::Serializer>(
    recorded: &Option<crate::refresh::Recorded>,
    s: S,
) -> Result<S::Ok, S::Error> {
    recorded.as_ref().map(|r| &r.generation).serialize(s)
}

/// How a table came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableStatus {
    /// The table needs no change (and, for a refresh, the routes did not change).
    Unchanged,
    /// The table needs a change that was not made (diff, apply without `--yes`, or a refresh
    /// without apply whose routes changed).
    Changes,
    /// The change was applied and the table read back matches the plan.
    Applied,
    /// Something failed: see `error`.
    Failed,
}

/// One table's line of the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableReport {
    pub name: String,
    pub id: String,
    pub cloud: Cloud,
    pub region: Option<String>,
    pub status: TableStatus,
    /// Routes planned.
    pub routes: Option<usize>,
    /// The table against the plan before any change.
    pub diff: Option<DiffSummary>,
    /// What applying did.
    pub applied: Option<ApplyReport>,
    /// What the refresh recorded for this table: its generation (reported as `state`) and the
    /// notifications that wait there for the webhook.
    #[serde(rename = "state", serialize_with = "generation")]
    pub recorded: Option<crate::refresh::Recorded>,
    /// Notifications of a refresh whose state could not be written: sent as they are.
    #[serde(skip)]
    pub unrecorded: Vec<Notification>,
    /// A refresh's summary, whether or not its state was written (what a one-table run prints).
    #[serde(skip)]
    pub summary: Option<crate::refresh::Summary>,
    /// A refresh in one line ([`job::Outcome::summary_line`]).
    #[serde(skip)]
    pub line: Option<String>,
    /// The plan and the diff of a diff or apply, kept when [`Fleet::keep`] asks (a one-table
    /// run prints them whole).
    #[serde(skip)]
    pub compared: Option<Box<(crate::plan::Plan, crate::diff::Diff)>>,
    /// What to tell about the plan (warnings and notes).
    pub notices: Vec<Notice>,
    /// Why the table failed.
    pub error: Option<String>,
    /// The error itself, for a caller that words it (a one-table run).
    #[serde(skip)]
    pub failure: Option<Failure>,
}

/// Why a table failed, as its step gave it.
pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The whole run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The file each cloud's tables were planned from.
    pub files: Vec<FileReport>,
    pub tables: Vec<TableReport>,
    /// What the run refused or worked around in the state directory (a planted link), one line
    /// each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The state a one-table refresh kept in the state directory, and whether a table of this
    /// run took it over ([`super::legacy`]).
    #[serde(skip)]
    pub legacy: Option<(Legacy, bool)>,
}

/// A cloud's file in the report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub cloud: Cloud,
    pub change_number: u64,
    pub source: Provenance,
}

impl Report {
    /// Tables that failed.
    pub fn failed(&self) -> usize {
        self.count(TableStatus::Failed)
    }

    /// Tables with the status.
    pub fn count(&self, status: TableStatus) -> usize {
        self.tables.iter().filter(|t| t.status == status).count()
    }

    /// How the run came out, for its exit status: failed when a table failed, else changed when
    /// a table has changes (`applied_is_change`: also when one was applied, as a refresh says a
    /// change happened), else unchanged.
    pub fn outcome(&self, applied_is_change: bool) -> RunOutcome {
        let changed = self.count(TableStatus::Changes) > 0
            || (applied_is_change && self.count(TableStatus::Applied) > 0);
        match (self.failed() > 0, changed) {
            (true, _) => RunOutcome::Failed,
            (false, true) => RunOutcome::Changed,
            (false, false) => RunOutcome::Unchanged,
        }
    }
}

/// How a run came out (exit 0, 1 or 2 on the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Unchanged,
    Changed,
    Failed,
}

/// Runs `action` on every table of `fleet`; see the module's doc. Tables come back in the
/// fleet's order.
///
/// A one-table diff against a file of the table's routes, as a fleet of one:
///
/// ```
/// use std::collections::BTreeMap;
/// use tagroute::fleet::config::TableSpec;
/// use tagroute::fleet::run::{Action, CloudFile, Fleet, TableStatus, run};
/// use tagroute::options::{TableOptions, resolve};
/// let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json")).unwrap();
/// let source = tagroute::source::Provenance::File { file: "example".into(), offline: false };
/// let file = CloudFile::parse(bytes, source).unwrap();
/// let flags = TableOptions { region: Some("westeurope".into()), ..Default::default() };
/// let spec = TableSpec::one(None, Some(concat!(env!("CARGO_MANIFEST_DIR"), "/data/routes_example.json").into()), resolve(&[&flags]).unwrap(), Default::default());
/// let files = BTreeMap::from([(file.snapshot.cloud, file)]);
/// let fleet = Fleet { tables: &[spec], files: &files, clients: &BTreeMap::new(), jobs: 1, keep: false };
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let report = rt.block_on(run(fleet, &Action::Diff));
/// assert_eq!(report.tables[0].status, TableStatus::Changes);
/// ```
pub async fn run(fleet: Fleet<'_>, action: &Action<'_>) -> Report {
    let mut warnings = Vec::new();
    let (stored, legacy) = match action {
        Action::Refresh(r) => (
            store_files(r.state_dir, fleet.files, &mut warnings),
            r.legacy,
        ),
        _ => (BTreeMap::new(), None),
    };
    let (fleet, stored, kept) = (&fleet, &stored, legacy);
    let work = fleet.tables.iter().enumerate().map(|(i, spec)| async move {
        let report = one(spec, fleet, action, stored, kept).await;
        (i, report)
    });
    let mut tables: Vec<(usize, TableReport)> = stream::iter(work)
        .buffer_unordered(fleet.jobs.max(1))
        .collect()
        .await;
    tables.sort_by_key(|(i, _)| *i);
    let tables: Vec<TableReport> = tables.into_iter().map(|(_, t)| t).collect();
    // The one-table state is taken over once its table's new generation is written.
    let legacy = legacy.map(|l| {
        let taken_over = fleet
            .tables
            .iter()
            .zip(&tables)
            .any(|(spec, t)| t.recorded.is_some() && l.belongs_to(spec));
        (l.clone(), taken_over)
    });
    Report {
        files: fleet
            .files
            .iter()
            .map(|(cloud, f)| FileReport {
                cloud: *cloud,
                change_number: f.snapshot.change_number,
                source: f.source.clone(),
            })
            .collect(),
        tables,
        warnings,
        legacy,
    }
}

/// Each cloud's file stored once under `files/` of the state directory, for the tables'
/// generations to link to. A stored copy is used only when it holds exactly this run's bytes
/// (a damaged one is replaced; the generations then check theirs against the checksum they
/// recorded). `files/`, or a file in it, that is a symbolic link is refused with a warning and
/// never written through; a cloud whose file cannot be stored has its bytes written into each
/// generation instead.
fn store_files(
    state_dir: &Path,
    files: &BTreeMap<Cloud, CloudFile>,
    warnings: &mut Vec<String>,
) -> BTreeMap<Cloud, PathBuf> {
    let dir = state_dir.join("files");
    let mut stored = BTreeMap::new();
    if let Err(e) = crate::fsutil::own_dir(&dir) {
        warnings.push(format!(
            "{}: {e}; each table's state holds its own copy of the file",
            dir.display()
        ));
        return stored;
    }
    for (cloud, f) in files {
        let path = dir.join(stored_name(*cloud, f.snapshot.change_number));
        let limit = f.bytes.len() as u64;
        let same = crate::fsutil::read_bounded(&path, limit, true).is_ok_and(|b| b == f.bytes);
        match same {
            true => Ok(()),
            false => crate::fsutil::replace_own(&path, &f.bytes),
        }
        .map_or_else(
            |e| {
                warnings.push(format!(
                    "{}: {e}; each table's state holds its own copy of the file",
                    path.display()
                ))
            },
            |()| {
                stored.insert(*cloud, path.clone());
            },
        );
    }
    stored
}

async fn one(
    spec: &TableSpec,
    fleet: &Fleet<'_>,
    action: &Action<'_>,
    stored: &BTreeMap<Cloud, PathBuf>,
    legacy: Option<&Legacy>,
) -> TableReport {
    let mut report = TableReport {
        name: spec.name.clone(),
        id: spec.shown(),
        cloud: spec.cloud,
        region: spec.request.region.clone(),
        status: TableStatus::Failed,
        routes: None,
        diff: None,
        applied: None,
        recorded: None,
        unrecorded: Vec::new(),
        summary: None,
        line: None,
        compared: None,
        notices: Vec::new(),
        error: None,
        failure: None,
    };
    let Some(file) = fleet.files.get(&spec.cloud) else {
        report.error = Some(format!("no {} file for this run", spec.cloud));
        return report;
    };
    // A live table is reached through its own client sharing its cloud's.
    let mut client = match (&spec.id, fleet.clients.get(&spec.cloud)) {
        (Some(_), Some(c)) => Some(c.sharing()),
        (Some(_), None) => {
            report.error = Some(format!("no {} client for this run", spec.cloud));
            return report;
        }
        (None, _) => None,
    };
    let result = match (action, client.as_mut(), &spec.id) {
        (Action::Diff | Action::Apply, Some(client), Some(id)) => {
            let apply = matches!(action, Action::Apply);
            table_change(spec, id, file, client, apply, fleet.keep, &mut report).await
        }
        // A table given as a file of its routes is compared, never written.
        (Action::Diff, None, None) => match &spec.existing {
            Some(path) => table_file(spec, path, file, fleet.keep, &mut report),
            None => Err("no route table to compare with".into()),
        },
        (Action::Diff | Action::Apply, _, _) => Err("no live route table to read".into()),
        (Action::Refresh(r), client, _) => {
            let takeover = legacy.filter(|l| l.belongs_to(spec));
            let stored = stored.get(&spec.cloud);
            refresh(spec, file, stored, client, r, takeover, &mut report).await
        }
    };
    if let Err(e) = result {
        report.status = TableStatus::Failed;
        report.error = Some(chain(&*e));
        report.failure = Some(e);
    }
    report
}

/// The status of an apply by its report, and why it failed when it did.
fn applied(r: &ApplyReport) -> (TableStatus, Option<String>) {
    match &r.error {
        Some(e) => (TableStatus::Failed, Some(e.clone())),
        None if !r.verified => (
            TableStatus::Failed,
            Some(format!(
                "the table read back still needs {}",
                crate::text::plural(r.remaining, "change")
            )),
        ),
        None => (TableStatus::Applied, None),
    }
}

/// A diff against a file of the table's routes.
fn table_file(
    spec: &TableSpec,
    path: &str,
    file: &CloudFile,
    keep: bool,
    report: &mut TableReport,
) -> Result<(), Failure> {
    let table = crate::routes::load(path).map_err(Failure::from)?;
    let compared = plan_and_diff(&file.snapshot, &spec.request, &table).map_err(Failure::from)?;
    compared_into(report, compared, keep);
    Ok(())
}

/// A table's plan and diff in its report (whole, with `keep`); its status unchanged or with
/// changes. Gives back the plan and the diff.
fn compared_into(
    report: &mut TableReport,
    compared: crate::request::Compared,
    keep: bool,
) -> (crate::plan::Plan, crate::diff::Diff) {
    report.routes = Some(compared.planned.plan.routes.len());
    report.notices = compared.planned.notices;
    report.diff = Some(compared.diff.summary.clone());
    report.status = match compared.diff.is_empty() {
        true => TableStatus::Unchanged,
        false => TableStatus::Changes,
    };
    let (plan, diff) = (compared.planned.plan, compared.diff);
    if keep {
        report.compared = Some(Box::new((plan.clone(), diff.clone())));
    }
    (plan, diff)
}

async fn table_change(
    spec: &TableSpec,
    id: &crate::arm::RouteTableId,
    file: &CloudFile,
    client: &mut ArmClient,
    apply: bool,
    keep: bool,
    report: &mut TableReport,
) -> Result<(), Failure> {
    let live = client.read(id).await.map_err(Failure::from)?;
    let compared =
        plan_and_diff(&file.snapshot, &spec.request, &live.table).map_err(Failure::from)?;
    let (plan, diff) = compared_into(report, compared, keep);
    if diff.is_empty() || !apply {
        return Ok(());
    }
    let applied = crate::arm::apply(client, id, &plan, &file.snapshot, live, diff, &spec.apply)
        .await
        .map_err(Failure::from)?;
    (report.status, report.error) = self::applied(&applied);
    report.applied = Some(applied);
    Ok(())
}

async fn refresh(
    spec: &TableSpec,
    file: &CloudFile,
    stored: Option<&PathBuf>,
    client: Option<&mut ArmClient>,
    action: &RefreshAction<'_>,
    takeover: Option<&Legacy>,
    report: &mut TableReport,
) -> Result<(), Failure> {
    let state_dir = action.state_dir.join("tables").join(&spec.name);
    let job = job::Job {
        state_dir: &state_dir,
        takeover: takeover.map(|l| l.generation.as_path()),
        cloud: spec.cloud,
        request: &spec.request,
        existing: spec.existing.as_deref(),
        rendering: action.rendering,
        target: spec.target.clone(),
        notify: action.notify,
    };
    let new = job::NewFile {
        bytes: &file.bytes,
        snapshot: &file.snapshot,
        source: file.source.clone(),
        stored: stored.map(PathBuf::as_path),
    };
    let live = match (client, &spec.id) {
        (Some(client), Some(id)) => Some(job::Live {
            client,
            id,
            apply: action.apply.then_some(&spec.apply),
        }),
        _ => None,
    };
    // Its own directories, never a link to elsewhere.
    for dir in [action.state_dir.join("tables"), state_dir.clone()] {
        crate::fsutil::own_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let outcome = job::run(job, new, live).await.map_err(Failure::from)?;
    report.routes = Some(outcome.plan.routes.len());
    report.line = Some(outcome.summary_line());
    report.summary = Some(outcome.summary().clone());
    let summary = outcome.summary();
    report.diff = summary.diff.clone();
    (report.status, report.error) = match &outcome.applied {
        Some(r) if summary.changed => applied(r),
        _ if summary.changed => (TableStatus::Changes, None),
        _ => (TableStatus::Unchanged, None),
    };
    let writes = outcome.writes_line();
    report.notices = outcome.notices;
    report.applied = outcome.applied;
    match outcome.recorded {
        Ok(recorded) => {
            report
                .notices
                .extend(recorded.set_aside.iter().cloned().map(Notice::warning));
            report.recorded = Some(recorded);
        }
        Err(u) => {
            report.status = TableStatus::Failed;
            report.error = Some(format!(
                "the state could not be written to {}: {}; {}",
                state_dir.display(),
                chain(&u.error),
                writes.map_or_else(
                    || "nothing was written to the route table".to_owned(),
                    |w| format!("{w}; the next run reports them as changes no run recorded"),
                )
            ));
            report.unrecorded = u.pending;
        }
    }
    Ok(())
}

/// What a fleet refresh recorded: its generation, and the notifications it holds for the
/// webhook (of tables that failed, this run's and earlier runs' not yet delivered).
pub struct RecordedRun {
    pub generation: PathBuf,
    pub pending: Vec<Notification>,
    /// Notifications that could not be read and were moved aside, one warning each.
    pub set_aside: Vec<String>,
}

/// A notification of the tables that failed, as the fleet's state keeps it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FailedTables<'a> {
    run_id: &'a str,
    failed_tables: Vec<FailedTable<'a>>,
}

#[derive(Serialize)]
struct FailedTable<'a> {
    name: &'a str,
    id: &'a str,
    cloud: &'static str,
    region: Option<&'a str>,
    error: &'a str,
}

/// Records a refresh of the fleet in its state directory: a new generation holding the
/// report (`report.json`) and, with `notify`, a notification of the tables that failed beside
/// those earlier runs could not deliver, made current atomically; then the cloud files under
/// `files/` that this run did not use are removed (generations that hold one keep it by their
/// own link). A changed table's notification is in its own state.
pub fn record(
    state_dir: &Path,
    report: &Report,
    notify: bool,
) -> Result<RecordedRun, crate::refresh::RefreshError> {
    let label: Vec<String> = report
        .files
        .iter()
        .map(|f| format!("{}{}", f.cloud.short_name(), f.change_number))
        .collect();
    // A one-table state no table of this run took over is left as it was: recording the run
    // would replace it, and its snapshot, rollback guard and notifications with it.
    let (mut pending, set_aside) = match &report.legacy {
        Some((legacy, false)) => {
            return Err(crate::refresh::RefreshError::Untaken {
                generation: legacy.generation.display().to_string(),
                route_table: legacy.route_table.clone(),
            });
        }
        // Its notifications went on with its table.
        Some((_, true)) => (Vec::new(), Vec::new()),
        None => match crate::state::current(state_dir)? {
            Some(previous) => crate::refresh::pending(&previous)?,
            None => (Vec::new(), Vec::new()),
        },
    };
    if notify && report.failed() > 0 {
        let run_id = crate::refresh::run_id();
        let failures = FailedTables {
            run_id: &run_id,
            failed_tables: report
                .tables
                .iter()
                .filter(|t| t.status == TableStatus::Failed)
                .map(|t| FailedTable {
                    name: &t.name,
                    id: &t.id,
                    cloud: t.cloud.as_str(),
                    region: t.region.as_deref(),
                    error: t.error.as_deref().unwrap_or("failed"),
                })
                .collect(),
        };
        pending.push(Notification {
            name: format!("{}{run_id}.json", crate::refresh::WEBHOOK_PREFIX),
            body: serde_json::to_vec_pretty(&failures).expect("a notification always serialises"),
        });
    }
    let body = serde_json::to_vec_pretty(report).expect("a report always serialises");
    let mut files: Vec<(String, crate::state::Content)> = vec![("report.json".into(), body.into())];
    files.extend(
        pending
            .iter()
            .map(|n| (n.name.clone(), n.body.clone().into())),
    );
    let generation = crate::state::commit(state_dir, &label.join("-"), &files)?;
    let used: Vec<String> = report
        .files
        .iter()
        .map(|f| stored_name(f.cloud, f.change_number))
        .collect();
    let files_dir = state_dir.join("files");
    if crate::fsutil::own_dir(&files_dir).is_ok()
        && let Ok(entries) = std::fs::read_dir(&files_dir)
    {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !used.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(RecordedRun {
        generation,
        pending,
        set_aside,
    })
}

/// Notifications a fleet refresh holds for the webhook, in the state that keeps them.
pub struct Pending<'a> {
    /// What they tell of: `table NAME`, or `the failed tables`.
    pub what: String,
    /// The state that keeps them; `None` for a table whose state could not be written.
    pub generation: Option<&'a Path>,
    pub list: &'a [Notification],
}

/// Every notification a fleet refresh holds: each changed table's in its own state, then those
/// of the failed tables in the fleet's.
///
/// `run` is `None` when the run itself could not be recorded: the tables' notifications are
/// still told.
pub fn pending<'a>(report: &'a Report, run: Option<&'a RecordedRun>) -> Vec<Pending<'a>> {
    let mut pending: Vec<Pending> = Vec::new();
    for t in &report.tables {
        let what = format!("table {}", t.name);
        match &t.recorded {
            Some(r) if !r.pending.is_empty() => pending.push(Pending {
                what,
                generation: Some(&r.generation),
                list: &r.pending,
            }),
            None if !t.unrecorded.is_empty() => pending.push(Pending {
                what,
                generation: None,
                list: &t.unrecorded,
            }),
            _ => {}
        }
    }
    if let Some(run) = run.filter(|r| !r.pending.is_empty()) {
        pending.push(Pending {
            what: "the failed tables".into(),
            generation: Some(&run.generation),
            list: &run.pending,
        });
    }
    pending
}

/// Delivers every notification of `pending` to `url`, one state after another; those that
/// fail stay in their state for the next run. Returns what could not be delivered, and why, and
/// the warnings of notifications moved aside.
pub async fn notify(
    http: &crate::http::Http,
    url: &url::Url,
    format: crate::refresh::message::MessageFormat,
    pending: &[Pending<'_>],
) -> (Vec<(String, crate::refresh::NotifyError)>, Vec<String>) {
    let mut failed = Vec::new();
    let mut set_aside = Vec::new();
    for p in pending {
        let delivery = crate::refresh::notify(http, url, p.generation, p.list, format).await;
        set_aside.extend(delivery.set_aside);
        if let Some(e) = delivery.failed {
            failed.push((p.what.clone(), e));
        }
    }
    (failed, set_aside)
}

/// The name of a cloud's file under `files/`.
fn stored_name(cloud: Cloud, change_number: u64) -> String {
    format!("{}-{change_number}.json", cloud.short_name())
}
