//! `tagroute refresh`: one unattended run for cron or a systemd timer.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use reqwest::Url;
use tagroute::emit::{PlanFormat, Target};
use tagroute::fleet::config::TableSpec;
use tagroute::fleet::run::TableStatus;
use tagroute::refresh::message::MessageFormat;
use tagroute::snapshot::Cloud;
use tagroute::source::Wanted;

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

State directory: one table is a fleet of one, kept as a fleet's is. Each cloud's file is kept
once in DIR/files/; each table's runs in DIR/tables/<name>/ (<name>: the live table's name, or
default without one), whose current links to its newest complete run: snapshot.json, plan.json,
plan.<ext> (--format), drift.json and drift.md (from the second run on), diff.json and diff.sh
(with a table), summary.json; DIR/current links to the run's report.json (a line per table: its
changes, what was applied or failed). A state directory of an older one-table refresh is taken
over by its table's first run, with its rollback guard, last file and waiting notifications.

With --config: every table of the fleet file, under one lock. A table that fails does not stop
the others; the run exits 2 and the report says why.

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

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    use crate::fleet::{self, ReportFormat};
    use tagroute::fleet::refresh::{self as job, Webhook};
    // A webhook that could never be called is an error before anything is done.
    if let Some(url) = &args.webhook {
        tagroute::secret::register_url(url);
        tagroute::http::check_url(url).context("--webhook")?;
    }
    // The tables: the fleet file's, or this one (a fleet of one), and the file --file gives.
    let (specs, given) = match &args.fleet.config {
        Some(path) => (
            fleet::tables(&args.fleet, path, args.cloud, diag)?,
            fleet::given(args.file.as_deref())?,
        ),
        None => one_table(&args, diag)?,
    };
    let one = args.fleet.config.is_none();
    let begun = job::begin(&args.state_dir, args.lock_timeout, &specs)?;
    let files = fleet::files(&specs, given, &args.net, Wanted::Newest, diag)?;
    let clients = fleet::clients(&specs, &args.live, &args.net)?;
    let http = match &args.webhook {
        Some(_) => Some(args.net.options().http()?),
        None => None,
    };
    let opts = job::Options {
        state_dir: &args.state_dir,
        legacy: begun.legacy.as_ref(),
        apply: args.apply,
        rendering: args.format,
        webhook: http
            .as_ref()
            .zip(args.webhook.as_ref())
            .map(|(http, url)| Webhook {
                http,
                url,
                format: args.webhook_format,
            }),
    };
    let fleet_of = tagroute::fleet::run::Fleet {
        tables: &specs,
        files: &files,
        clients: &clients,
        jobs: args.fleet.jobs,
        keep: false,
    };
    let done = block_on(job::refresh(fleet_of, &opts))?;
    for w in &done.set_aside {
        diag.warn(w);
    }
    if done.waiting > 0 {
        diag.warn(format!(
            "{} webhook notifications wait in the state for a run with --webhook",
            done.waiting
        ));
    }
    if one {
        return finish_one(&args, done, diag);
    }
    for (what, e) in &done.undelivered {
        diag.warn(format!("{what}: {}", tagroute::text::chain(e)));
    }
    // The fleet's own record could not be written: each table's state says what it did.
    done.run?;
    let format = match args.summary_format {
        SummaryFormat::Text => ReportFormat::Table,
        SummaryFormat::Json => ReportFormat::Json,
        SummaryFormat::Markdown => ReportFormat::Markdown,
    };
    let status = fleet::finish(&done.report, format, true, diag)?;
    Ok(if done.undelivered.is_empty() {
        status
    } else {
        Status::Error
    })
}

/// A one-table run's table, from its flags, and the file --file gives.
fn one_table(
    args: &Args,
    diag: &Diag,
) -> anyhow::Result<(Vec<TableSpec>, Option<tagroute::fleet::run::CloudFile>)> {
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
    let target = Target {
        resource_group: args.resource_group.clone(),
        route_table: args.route_table.clone(),
    };
    crate::fleet::one(
        args.cloud,
        args.file.as_deref(),
        args.live.route_table_id.clone(),
        args.existing.clone(),
        args.selection.resolve(Some(&args.writing), diag)?,
        target,
    )
}

/// What a one-table run prints: its summary (a line or JSON) on stdout whatever failed after
/// the table was changed, then the error, if any, and the exit status.
fn finish_one(
    args: &Args,
    done: tagroute::fleet::refresh::Refreshed,
    diag: &Diag,
) -> anyhow::Result<Status> {
    let tagroute::fleet::refresh::Refreshed {
        mut report,
        run,
        undelivered,
        told,
        ..
    } = done;
    for w in &report.warnings {
        diag.warn(w);
    }
    let table = &mut report.tables[0];
    diag.tell(&table.notices);
    // The table's run recorded nothing: its error is the run's.
    let Some(summary) = &table.summary else {
        return Err(crate::fleet::failure(table));
    };
    let text = match args.summary_format {
        SummaryFormat::Json => {
            let mut text = serde_json::to_string_pretty(summary)?;
            text.push('\n');
            text
        }
        SummaryFormat::Text | SummaryFormat::Markdown => table.line.clone().unwrap_or_default(),
    };
    deliver(&text, None)?;
    let undelivered = undelivered.into_iter().next().map(|(_, e)| e);
    if table.recorded.is_none() {
        // The table's state could not be written: its error names the writes made.
        let error = table.error.as_deref().unwrap_or_default();
        let webhook = match &undelivered {
            Some(e) => format!("; {}", tagroute::text::chain(e)),
            None if told => "; the webhook was told".to_owned(),
            None => String::new(),
        };
        anyhow::bail!("{error}{webhook}");
    }
    // The run's own record could not be written (the table's was).
    run?;
    if let Some(e) = undelivered {
        return Err(e.into());
    }
    if let Some(applied) = &table.applied {
        crate::apply::tell(applied, diag);
        if table.status == TableStatus::Failed {
            diag.warn(format!(
                "the change was not fully applied ({} of {} writes); the state in {} records what \
                 was",
                applied.applied.len(),
                applied.applied.len() + applied.not_applied.len() + applied.unknown.len(),
                table
                    .recorded
                    .as_ref()
                    .map(|r| r.generation.display().to_string())
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
