//! `tagroute refresh`: one unattended run for cron or a systemd timer.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use reqwest::Url;
use tagroute::emit::{PlanFormat, Target};
use tagroute::refresh::message::MessageFormat;
use tagroute::refresh::{self, job};
use tagroute::snapshot::{self, Cloud};
use tagroute::source::{self, Provenance, Wanted};
use tagroute::state;

use crate::args::PlanSelection;
use crate::net::{NetArgs, block_on};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Get the newest file, compare it with the last snapshot in the state \
directory, and write the new snapshot, the plan, the drift report and (with --existing or \
--route-table-id) the diff as one atomic state change; with --apply, also apply the change to the \
live table and verify it. Prints a short summary; with --webhook, POSTs it when something \
changed";

#[derive(clap::Args, Debug)]
#[command(mut_arg("region", |a| a.required_unless_present_any(["tag", "config"])))]
#[command(mut_arg("config", |a| a.conflicts_with_all(crate::fleet::PLAN_FLAGS)
    .conflicts_with_all(["existing", "resource_group", "route_table", "max_changes", "write"])))]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute refresh --state-dir /var/lib/tagroute --cloud public --region eastus --format az \\
      -g rg-net --route-table rt-aml
  tagroute refresh --state-dir state --cloud public --region eastus --existing routes.json \\
      --webhook https://hooks.example.com/tagroute
  tagroute refresh --state-dir /var/lib/tagroute --cloud public --region eastus --apply \\
      --route-table-id \\
      /subscriptions/SUB/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-aml
  tagroute refresh --config tagroute.toml --state-dir /var/lib/tagroute --apply --jobs 8

State directory: DIR/current links to the newest complete run: snapshot.json, plan.json,
plan.<ext> (--format), drift.json and drift.md (from the second run on), diff.json and diff.sh
(with --existing), summary.json.

With --config: one lock and one state directory for the fleet. Each cloud's file is got once and
kept once in DIR/files/; each table's runs are recorded as above in DIR/tables/<name>/; DIR/current
links to the run's report.json (a line per table: its changes, what was applied or failed). A
table that fails does not stop the others; the run exits 2 and the report says why.

Exit status: 0 the selected tags did not change, 1 routes must change (with --apply: were
changed and verified), 2 error (the previous state is then left as it was; a failed webhook or a
failed --apply also exits 2, after the state is written with what was applied).")]
pub struct Args {
    /// State directory (created if missing).
    #[arg(long, value_name = "DIR", help_heading = "State")]
    state_dir: PathBuf,
    /// The cloud (with --config: of the tables that name none).
    #[arg(
        long,
        value_parser = crate::values::cloud(),
        required_unless_present_any = ["config", "file"],
        help_heading = "Service-tag file"
    )]
    cloud: Option<Cloud>,
    /// Read this service-tag file instead of downloading (`-` for stdin).
    #[arg(
        long,
        short = 'f',
        value_name = "FILE",
        help_heading = "Service-tag file"
    )]
    file: Option<String>,
    #[command(flatten)]
    selection: PlanSelection,
    /// The route table's routes, to write the diff (and its az script) as well.
    #[arg(
        long,
        short = 'e',
        value_name = "ROUTES",
        conflicts_with = "route_table_id",
        help_heading = "Route table"
    )]
    existing: Option<String>,
    #[command(flatten)]
    live: crate::live::LiveArgs,
    /// Apply the change to the --route-table-id table (with --config: to every table) and
    /// verify it, with the same guards and read-back as the apply command.
    #[arg(long, help_heading = "Writing the live table")]
    apply: bool,
    #[command(flatten)]
    writing: crate::live::WriteArgs,
    /// Also write the plan in this format next to plan.json.
    #[arg(long, value_parser = crate::values::by_name(&RENDERINGS, PlanFormat::name), help_heading = "Output")]
    format: Option<PlanFormat>,
    /// Resource group for the az and terraform output.
    #[arg(long, short = 'g', value_name = "G", value_parser = crate::values::resource_group, help_heading = "Output")]
    resource_group: Option<String>,
    /// Route table for the az, terraform, arm and bicep output.
    #[arg(long, value_name = "T", value_parser = crate::values::route_table, help_heading = "Output")]
    route_table: Option<String>,
    /// POST the summary here when something changed (same retries as downloads), in the form
    /// --webhook-format gives.
    #[arg(long, value_name = "URL", help_heading = "Output")]
    webhook: Option<Url>,
    /// The webhook's message: the JSON summary, a Microsoft Teams Workflows message (an
    /// Adaptive Card) or a Slack message, a few lines each.
    #[arg(long, value_parser = crate::values::message_format(), default_value = "json", requires = "webhook", help_heading = "Output")]
    webhook_format: MessageFormat,
    /// Seconds to wait for another run's lock before giving up.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = crate::values::wait, help_heading = "State")]
    lock_timeout: Duration,
    /// Summary format on stdout (with --config, the fleet's report: a table, JSON or Markdown).
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text, help_heading = "Output")]
    summary_format: SummaryFormat,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    fleet: crate::fleet::FleetArgs,
}

/// The formats `--format` may add beside `plan.json`, which every run writes.
const RENDERINGS: [PlanFormat; 7] = [
    PlanFormat::Table,
    PlanFormat::Csv,
    PlanFormat::Az,
    PlanFormat::Terraform,
    PlanFormat::Arm,
    PlanFormat::Bicep,
    PlanFormat::Avnm,
];

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum SummaryFormat {
    Text,
    Json,
    Markdown,
}

/// The newest file's bytes and where they came from.
fn get_file(args: &Args, cloud: Cloud, diag: &Diag) -> anyhow::Result<(Vec<u8>, Provenance)> {
    match &args.file {
        Some(f) => Ok(source::local::given(f)?),
        None => args.net.cached_bytes(cloud, Wanted::Newest, diag),
    }
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    // A webhook that could never be called is an error before anything is done.
    if let Some(url) = &args.webhook {
        tagroute::secret::register_url(url);
        tagroute::http::check_url(url).context("--webhook")?;
    }
    if let Some(path) = &args.fleet.config {
        return run_fleet(&args, path, diag);
    }
    if args.cloud.is_none() && args.file.is_none() {
        anyhow::bail!("refresh needs --cloud or --file (or --config)");
    }
    if args.apply && args.live.route_table_id.is_none() {
        anyhow::bail!("--apply needs --route-table-id (or --config)");
    }
    if matches!(args.summary_format, SummaryFormat::Markdown) {
        anyhow::bail!(
            "--summary-format markdown is a fleet's report (--config); one run's is text or json"
        );
    }
    let options = args.selection.resolve(Some(&args.writing), diag)?;
    let apply_opts = options.apply();
    let request = options.request;
    let _lock = state::lock(&args.state_dir, args.lock_timeout)?;
    // The cloud named, else (with --file) the file's own, as other commands take it; but a
    // file never chooses where the token goes: with a live table it is Public unless named.
    let (bytes, source_info) = match (args.cloud, &args.file) {
        (Some(cloud), _) => get_file(&args, cloud, diag)?,
        (None, Some(f)) => source::local::given(f)?,
        (None, None) => unreachable!("refused above"),
    };
    let snapshot = snapshot::parse(source_info.name(), &bytes)?;
    let cloud = match (args.cloud, &args.live.route_table_id) {
        (Some(cloud), _) => cloud,
        (None, Some(_)) => Cloud::Public,
        (None, None) => snapshot.cloud,
    };
    let id = args.live.route_table_id.clone();
    let mut client = match &id {
        Some(_) => Some(args.live.client(&args.net, cloud)?),
        None => None,
    };
    let live = match (&id, client.as_mut()) {
        (Some(id), Some(client)) => Some(job::Live {
            client,
            id,
            apply: args.apply.then_some(&apply_opts),
        }),
        _ => None,
    };
    let job = job::Job {
        state_dir: &args.state_dir,
        cloud,
        request: &request,
        existing: args.existing.as_deref(),
        rendering: args.format,
        target: Target {
            resource_group: args.resource_group.clone(),
            route_table: args.route_table.clone(),
        },
        notify: args.webhook.is_some(),
    };
    let file = job::NewFile {
        bytes: &bytes,
        snapshot: &snapshot,
        source: source_info,
        stored: None,
    };
    let outcome = block_on(job::run(job, file, live))?.map_err(|e| match e {
        job::JobError::Request(e) => crate::plan::in_words(e),
        job::JobError::Refresh(refresh::RefreshError::Drift(d)) => crate::drift::in_flags(d),
        other => other.into(),
    })?;
    diag.tell(&outcome.notices);
    let summary = outcome.summary();
    let text = match args.summary_format {
        SummaryFormat::Json => {
            let mut text = serde_json::to_string_pretty(summary)?;
            text.push('\n');
            text
        }
        // Markdown is refused before the run.
        SummaryFormat::Text | SummaryFormat::Markdown => outcome.summary_line(),
    };
    // The webhook is told whether or not the state could be written: without a state, this
    // run's notification is sent as it is and cannot be kept for the next run.
    let (generation, pending) = match &outcome.recorded {
        Ok(r) => {
            for w in &r.set_aside {
                diag.warn(w);
            }
            (Some(r.generation.as_path()), r.pending.as_slice())
        }
        Err(u) => (None, u.pending.as_slice()),
    };
    let mut undelivered = None;
    match &args.webhook {
        Some(url) if !pending.is_empty() => {
            let http = args.net.http()?;
            let delivery = block_on(refresh::notify(
                &http,
                url,
                generation,
                pending,
                args.webhook_format,
            ))?;
            for w in &delivery.set_aside {
                diag.warn(w);
            }
            undelivered = delivery.failed;
        }
        None if !pending.is_empty() && generation.is_some() => diag.warn(format!(
            "{} webhook notifications wait in the state for a run with --webhook",
            pending.len()
        )),
        _ => {}
    }
    // What the run did is on stdout whatever failed after it.
    deliver(&text, None)?;
    if let Err(u) = &outcome.recorded {
        let writes = outcome.writes_line().map_or_else(
            || "nothing was written to the route table".to_owned(),
            |w| format!("{w}; the next run reports them as changes no run recorded"),
        );
        let webhook = match (&args.webhook, &undelivered) {
            (Some(_), Some(e)) => format!("; {}", tagroute::text::chain(e)),
            (Some(_), None) if !pending.is_empty() => "; the webhook was told".to_owned(),
            _ => String::new(),
        };
        anyhow::bail!(
            "the state could not be written to {}: {}; {writes}{webhook}",
            args.state_dir.display(),
            tagroute::text::chain(&u.error)
        );
    }
    if let Some(e) = undelivered {
        return Err(e.into());
    }
    if let Some(report) = &outcome.applied {
        crate::apply::tell(report, diag);
        if report.error.is_some() || !report.verified {
            diag.warn(format!(
                "the change was not fully applied ({} of {} writes); the state in {} records what \
                 was",
                report.applied.len(),
                report.applied.len() + report.not_applied.len() + report.unknown.len(),
                generation
                    .map(|g| g.display().to_string())
                    .unwrap_or_default()
            ));
            return Ok(Status::Error);
        }
    }
    Ok(if summary.changed {
        Status::Differences
    } else {
        Status::Ok
    })
}

/// `refresh --config`: every table of the fleet file, under one lock.
fn run_fleet(args: &Args, path: &std::path::Path, diag: &Diag) -> anyhow::Result<Status> {
    use crate::fleet::{self, ReportFormat};
    use tagroute::fleet::run::{Action, RefreshAction};
    let specs = fleet::tables(&args.fleet, path, args.cloud, diag)?;
    let _lock = state::lock(&args.state_dir, args.lock_timeout)?;
    let file = args.file.as_deref();
    let files = fleet::files(&specs, file, &args.net, Wanted::Newest, diag)?;
    let clients = fleet::clients(&specs, &args.live, &args.net)?;
    let action = Action::Refresh(RefreshAction {
        state_dir: &args.state_dir,
        apply: args.apply,
        rendering: args.format,
        notify: args.webhook.is_some(),
    });
    let report = fleet::run(&specs, &files, &clients, args.fleet.jobs, &action)?;
    let notify = args.webhook.is_some();
    let run = tagroute::fleet::run::record(&args.state_dir, &report, notify)?;
    let pending = tagroute::fleet::run::pending(&report, &run);
    let mut undelivered = false;
    match &args.webhook {
        Some(url) if !pending.is_empty() => {
            let http = args.net.http()?;
            let (failed, set_aside) = block_on(tagroute::fleet::run::notify(
                &http,
                url,
                args.webhook_format,
                &pending,
            ))?;
            for w in set_aside.iter().chain(&run.set_aside) {
                diag.warn(w);
            }
            for (what, e) in &failed {
                diag.warn(format!("{what}: {}", tagroute::text::chain(e)));
            }
            undelivered = !failed.is_empty();
        }
        None if !pending.is_empty() => diag.warn(format!(
            "{} webhook notifications wait in the state for a run with --webhook",
            pending.iter().map(|p| p.list.len()).sum::<usize>()
        )),
        _ => {}
    }
    let format = match args.summary_format {
        SummaryFormat::Text => ReportFormat::Table,
        SummaryFormat::Json => ReportFormat::Json,
        SummaryFormat::Markdown => ReportFormat::Markdown,
    };
    let status = fleet::finish(&report, format, true, diag)?;
    Ok(if undelivered { Status::Error } else { status })
}
