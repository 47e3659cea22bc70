//! One whole refresh run after the state is locked and the newest file is in hand: parse it,
//! check it against the state (same cloud, no rollback), read the live table, plan the request
//! beside it, apply the change when asked, and record the run. The command line runs one; a
//! program (or a fleet of tables) calls [`run`] the same way. Getting the file (download, cache
//! or a path) stays with the caller, so several runs can share one download.

use std::path::Path;

use super::{
    Previous, Provenance, Recorded, RefreshError, Run, Summary, Unrecorded, check_not_older,
    managed_routes, previous, record,
};
use crate::arm::{ApplyError, ApplyOptions, ApplyReport, ArmClient, ArmError, RouteTableId};
use crate::diff::DiffError;
use crate::drift::DriftOptions;
use crate::emit::{PlanFormat, Target};
use crate::notice::Notice;
use crate::plan::Plan;
use crate::request::{PlanRequest, RequestError, plan_request};
use crate::routes::{self, RoutesError};
use crate::snapshot::{Cloud, LoadError, Snapshot};
use crate::text::plural;

/// What a run does, besides the file.
pub struct Job<'a> {
    /// The state directory (its lock is the caller's: taken before the file is fetched).
    pub state_dir: &'a Path,
    /// The last generation to go on from when `state_dir` has none yet: the state a one-table
    /// refresh kept before it was a fleet of one (see `crate::fleet::legacy`).
    pub takeover: Option<&'a Path>,
    /// The cloud the file must be of.
    pub cloud: Cloud,
    pub request: &'a PlanRequest,
    /// A route table file (`az network route-table route list -o json` and the like) to diff
    /// the plan against, when no live table is read.
    pub existing: Option<&'a str>,
    /// A rendering of the plan to store beside it, and where its routes go.
    pub rendering: Option<PlanFormat>,
    pub target: Target,
    /// Whether a webhook will be told of a change.
    pub notify: bool,
}

/// The newest file, as read and as parsed, and where it came from (recorded in the summary).
pub struct NewFile<'a> {
    pub bytes: &'a [u8],
    pub snapshot: &'a Snapshot,
    pub source: Provenance,
    /// The same bytes already stored on disk (a fleet's one copy per cloud), linked into the
    /// state instead of written again.
    pub stored: Option<&'a Path>,
}

/// A live table the run reads, and changes when `apply` is given.
pub struct Live<'a> {
    pub client: &'a mut ArmClient,
    pub id: &'a RouteTableId,
    pub apply: Option<&'a ApplyOptions>,
}

/// What a run did.
pub struct Outcome {
    /// The new generation of the state; or, when it could not be written, what it would have
    /// held and why not (the run's writes to a live table are still in its summary).
    pub recorded: Result<Recorded, Box<Unrecorded>>,
    pub plan: Plan,
    pub cloud: Cloud,
    pub change_number: u64,
    /// The change number of the state's last file (`None`: the first run).
    pub previous_change_number: Option<u64>,
    /// What applying the change did (with `apply`). A change too large is reported here with
    /// nothing applied, as the state records it.
    pub applied: Option<ApplyReport>,
    /// What the user should read about the plan.
    pub notices: Vec<Notice>,
}

/// Why a run recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Snapshot(#[from] LoadError),
    #[error("{source_name} is a {found} file, not {expected}")]
    WrongCloud {
        source_name: String,
        found: Cloud,
        expected: Cloud,
    },
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    #[error(transparent)]
    Routes(#[from] RoutesError),
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Arm(#[from] ArmError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Runs one refresh: see the module's doc.
///
/// A refresh without a live table: the plan recorded, its change since the last run told.
///
/// ```
/// use tagroute::options::{TableOptions, resolve};
/// use tagroute::refresh::job::{Job, NewFile, run};
/// use tagroute::snapshot::Cloud;
/// let state = tempfile::tempdir().unwrap();
/// let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json")).unwrap();
/// let snapshot = tagroute::snapshot::parse("example", &bytes).unwrap();
/// let flags = TableOptions { region: Some("westeurope".into()), ..Default::default() };
/// let request = resolve(&[&flags]).unwrap().request;
/// let job = Job {
///     state_dir: state.path(),
///     takeover: None,
///     cloud: Cloud::Public,
///     request: &request,
///     existing: None,
///     rendering: None,
///     target: Default::default(),
///     notify: false,
/// };
/// let file = NewFile {
///     bytes: &bytes,
///     snapshot: &snapshot,
///     source: tagroute::source::Provenance::File { file: "example".into(), offline: false },
///     stored: None,
/// };
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let outcome = rt.block_on(run(job, file, None)).unwrap();
/// assert!(outcome.summary().changed, "a first run's routes are new");
/// assert!(outcome.recorded.unwrap().generation.join("plan.json").is_file());
/// ```
pub async fn run(
    job: Job<'_>,
    file: NewFile<'_>,
    live: Option<Live<'_>>,
) -> Result<Outcome, JobError> {
    let new = file.snapshot;
    if new.cloud != job.cloud {
        return Err(JobError::WrongCloud {
            source_name: new.source.clone(),
            found: new.cloud,
            expected: job.cloud,
        });
    }
    let previous: Option<Previous> = previous(job.state_dir, job.takeover, file.bytes, new)?;
    if let Some(prev) = &previous {
        check_not_older(prev, new)?;
    }
    let route_table = live.as_ref().map(|l| l.id.to_string());
    let (live_table, client) = match live {
        Some(Live { client, id, apply }) => {
            let table = client.read(id).await?;
            (Some(table), Some((client, id, apply)))
        }
        None => (None, None),
    };
    let table = match (job.existing, &live_table) {
        (Some(path), _) => Some(routes::load(path)?),
        (None, Some(live)) => Some(live.table.clone()),
        (None, None) => None,
    };
    let planned = plan_request(new, job.request, table.as_ref())?;
    let plan = planned.plan;
    let mut notices = planned.notices;
    if let Some(prev) = &previous {
        notices.extend(prev.warnings.iter().cloned().map(Notice::warning));
    }
    // One diff, recorded and applied: the managed routes and limits an apply is given.
    let (name_prefix, limits) = match &client {
        Some((_, _, Some(opts))) => (&opts.name_prefix, opts.limits),
        _ => (&job.request.name_prefix, job.request.limits()),
    };
    let diff = match &table {
        Some(t) => Some(crate::diff::diff(&plan, new, t, name_prefix, limits)?),
        None => None,
    };
    // The live table's managed routes as read, to compare with what the last run recorded.
    let table_read = live_table
        .as_ref()
        .map(|l| managed_routes(&l.table, name_prefix));
    let applied = match (client, live_table, &diff) {
        (Some((client, id, Some(opts))), Some(live), Some(d)) => {
            match crate::arm::apply(client, id, &plan, new, live, d.clone(), opts).await {
                Ok(report) => Some(report),
                // A change too large is recorded like a failed one: nothing was applied.
                Err(e @ ApplyError::TooManyChanges { count, .. }) => Some(ApplyReport {
                    error: Some(e.to_string()),
                    remaining: count,
                    ..Default::default()
                }),
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    // The managed routes as the run leaves them: what the next run compares with.
    let table_left = match &applied {
        Some(report) => report
            .read_back
            .as_ref()
            .map(|t| managed_routes(t, name_prefix)),
        None => table_read.clone(),
    };
    let request = job.request;
    let run = Run {
        file: file.bytes,
        stored: file.stored,
        snapshot: new,
        source: file.source,
        plan: &plan,
        rendering: job.rendering,
        target: job.target,
        drift: DriftOptions {
            region: request.region.clone(),
            tags: request.tags.clone(),
            family: request.family,
            name_prefix: request.name_prefix.clone(),
            tag_routes: request.tag_routes.clone(),
            slack: request.slack.clone(),
            profile: Some(request.profile.clone()),
        },
        diff: diff.as_ref(),
        applied: applied.as_ref(),
        notify: job.notify,
        route_table,
        table_read,
        table_left,
    };
    let recorded = record(job.state_dir, previous.as_ref(), run);
    Ok(Outcome {
        recorded,
        plan,
        cloud: new.cloud,
        change_number: new.change_number,
        previous_change_number: previous.map(|p| p.change_number),
        applied,
        notices,
    })
}

impl Outcome {
    /// What the run tells, whether or not its state was written.
    pub fn summary(&self) -> &Summary {
        match &self.recorded {
            Ok(r) => &r.summary,
            Err(u) => &u.summary,
        }
    }

    /// The run in one line: the file, the routes, what changed or was applied, the state.
    pub fn summary_line(&self) -> String {
        let summary = self.summary();
        let was = match self.previous_change_number {
            Some(n) => format!(" (was {n})"),
            None => " (first run)".into(),
        };
        let what = match (&self.applied, summary.changed) {
            (Some(r), true) if r.verified && r.error.is_none() => format!(
                "{} applied and verified",
                plural(r.applied.len(), "route write")
            ),
            (Some(r), true) => format!(
                "{} applied, {} not{}, the table still differs",
                plural(r.applied.len(), "route write"),
                r.not_applied.len(),
                if r.unknown.is_empty() {
                    String::new()
                } else {
                    format!(", {} unknown", r.unknown.len())
                }
            ),
            (_, true) => match &summary.diff {
                Some(d) if d.add + d.update + d.remove == 0 => "the table matches the plan".into(),
                Some(d) => format!(
                    "the table needs {} to add, {} to update, {} to remove",
                    d.add, d.update, d.remove
                ),
                None => format!(
                    "routes must change ({} gained, {} lost since the last run)",
                    summary.plan_changes.add.len(),
                    summary.plan_changes.remove.len()
                ),
            },
            (_, false) => "no route changes".to_owned(),
        };
        let unrecorded = match summary.unrecorded.len() {
            0 => String::new(),
            n => format!(
                "; the table's managed routes changed in {} since the last recorded run",
                plural(n, "place")
            ),
        };
        let state = match &self.recorded {
            Ok(r) => format!("state in {}", r.generation.display()),
            Err(u) => format!("state NOT written ({})", crate::text::chain(&u.error)),
        };
        format!(
            "{} changeNumber {}{was}: {} planned, {what}{unrecorded}; {state}\n",
            self.cloud,
            self.change_number,
            plural(self.plan.routes.len(), "route"),
        )
    }

    /// What the run wrote to the live table, in words for an operator: every write that is in
    /// effect, named; `None` when it wrote nothing.
    pub(crate) fn writes_line(&self) -> Option<String> {
        let report = self.applied.as_ref()?;
        if report.applied.is_empty() && report.unknown.is_empty() {
            return None;
        }
        let names = |list: &[crate::arm::Applied]| -> String {
            list.iter()
                .map(|a| format!("{} {} ({})", a.op.as_str(), a.name, a.address_prefix))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut line = format!(
            "this run applied {} to the table: {}",
            plural(report.applied.len(), "route write"),
            names(&report.applied)
        );
        if !report.unknown.is_empty() {
            line.push_str(&format!(
                "; {} may have been applied: {}",
                plural(report.unknown.len(), "more write"),
                names(&report.unknown)
            ));
        }
        Some(line)
    }
}
