//! `tagroute apply`: make a live route table's managed routes equal to the plan.

use tagroute::arm::{self, ApplyReport};
use tagroute::emit::{self, Target};
use tagroute::fleet::run::{Action, TableStatus};
use tagroute::source::Wanted;

use crate::args::{PlanSelection, Source};
use crate::live::{LiveArgs, WriteArgs};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Make a live route table's managed routes equal to the plan, through \
Azure Resource Manager: without --yes, show the change; with --yes, apply it (one write of the \
whole table guarded by its ETag, bounded by --max-changes) and verify it by reading the table \
back";

#[derive(clap::Args, Debug)]
#[command(mut_arg("route_table_id", |a| a.required_unless_present("config")))]
#[command(mut_group("input", |g| g.required(false)))]
#[command(mut_arg("file", |a| a.required_unless_present_any(["cloud", "config"])))]
#[command(mut_arg("region", |a| a.required_unless_present_any(["tag", "config"])))]
#[command(mut_arg("config", |a| a.conflicts_with_all(crate::fleet::PLAN_FLAGS)
    .conflicts_with_all(["max_changes", "write"])))]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute apply --cloud public --region eastus --route-table-id \\
      /subscriptions/SUB/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-aml
  tagroute apply --cloud public --region eastus --route-table-id ID --yes
  AZURE_ACCESS_TOKEN=$(az account get-access-token --query accessToken -o tsv) \\
      tagroute apply --file ServiceTags_Public_20251028.json --region eastus \\
      --route-table-id ID --yes
  tagroute apply --config tagroute.toml --yes --jobs 8

With --config, every table of the fleet file is planned from one file per cloud and changed
(--jobs at once), each with its own options (max_changes, write); a table that fails does not
stop the others, and the report has a line per table.

Only routes whose names start with --name-prefix are created, updated or deleted; the table's
other routes and properties are written back as they were read.

--write table (the default) makes the change as one PUT of the route table under If-Match with
its ETag: one long-running operation, all or nothing (needs Microsoft.Network/routeTables/write).
--write routes makes one write per route, for roles with only routeTables/routes/write and
routes/delete: slower, and a run that stops midway leaves part of the change made (listed).

Exit status: without --yes, 0 nothing to change, 1 changes to make; with --yes, 0 the table read
back needs no change, 2 otherwise (what was and was not applied is on stderr and in --format
json); 2 on any error (with --config: when any table failed).")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    selection: PlanSelection,
    #[command(flatten)]
    live: LiveArgs,
    /// Apply the change (without it, only show it).
    #[arg(long, help_heading = "Writing the live table")]
    yes: bool,
    #[command(flatten)]
    writing: WriteArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    format: Format,
    #[command(flatten)]
    fleet: crate::fleet::FleetArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Markdown,
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    if let Some(path) = &args.fleet.config {
        return run_fleet(&args, path, diag);
    }
    let Some(id) = args.live.route_table_id.clone() else {
        anyhow::bail!("apply needs --route-table-id");
    };
    let options = args.selection.resolve(Some(&args.writing), diag)?;
    let max_changes = options.max_changes;
    // The live table is a fleet of one; without --yes, it is only compared.
    let target = Target {
        resource_group: Some(id.resource_group.clone()),
        route_table: Some(id.name.clone()),
    };
    let one = crate::fleet::one(
        args.source.cloud,
        args.source.file.as_deref(),
        Some(id),
        None,
        options,
        target,
    )?;
    let action = if args.yes {
        Action::Apply
    } else {
        Action::Diff
    };
    let net = &args.source.net;
    let wanted = Wanted::MaxAge(net.max_age);
    let mut table = crate::fleet::run_one(one, &args.live, net, wanted, &action, diag)?;
    let Some(compared) = table.compared.take() else {
        return Err(crate::fleet::failure(&mut table));
    };
    let (plan, d) = *compared;
    if !args.yes {
        let count = d.writes();
        if count > max_changes {
            diag.warn(format!(
                "the change has {count} writes, more than --max-changes {max_changes}: --yes \
                 would refuse it"
            ));
        }
        let text = match args.format {
            Format::Table => emit::diff::table(&d),
            Format::Json => emit::diff::json(&d),
            Format::Markdown => {
                emit::diff::markdown(&d, &format!("tagroute: {}", emit::provenance(&plan)))
            }
        };
        deliver(&text, None)?;
        return Ok(if d.is_empty() {
            Status::Ok
        } else {
            Status::Differences
        });
    }
    let report = match (table.applied.take(), table.status) {
        (Some(report), _) => report,
        // Nothing to change: the table as read is the plan's.
        (None, TableStatus::Unchanged) => ApplyReport {
            verified: true,
            ..ApplyReport::default()
        },
        (None, _) => return Err(crate::fleet::failure(&mut table)),
    };
    let text = match args.format {
        Format::Json => {
            let mut t = serde_json::to_string_pretty(&report)?;
            t.push('\n');
            t
        }
        _ => report_text(&report),
    };
    deliver(&text, None)?;
    tell(&report, diag);
    Ok(if report.verified && report.error.is_none() {
        Status::Ok
    } else {
        Status::Error
    })
}

/// `apply --config`: every table of the fleet file.
fn run_fleet(args: &Args, path: &std::path::Path, diag: &Diag) -> anyhow::Result<Status> {
    use crate::fleet::{self, ReportFormat};
    use tagroute::fleet::run::Action;
    let format = match args.format {
        Format::Table => ReportFormat::Table,
        Format::Json => ReportFormat::Json,
        Format::Markdown => ReportFormat::Markdown,
    };
    let action = if args.yes {
        Action::Apply
    } else {
        Action::Diff
    };
    fleet::change(
        &args.fleet,
        path,
        &args.source,
        &args.live,
        action,
        format,
        diag,
    )
}

/// One line per write in effect, and a closing line.
pub fn report_text(report: &ApplyReport) -> String {
    let mut out = String::new();
    for a in &report.applied {
        let verb = match a.op {
            arm::Op::Create => "created",
            arm::Op::Update => "updated",
            arm::Op::Delete => "deleted",
        };
        out.push_str(&format!(
            "{verb} {}  {}\n",
            tagroute::text::for_terminal(&a.name),
            tagroute::text::for_terminal(&a.address_prefix)
        ));
    }
    let unknown = if report.unknown.is_empty() {
        String::new()
    } else {
        format!(", {} unknown", report.unknown.len())
    };
    out.push_str(&format!(
        "{} applied, {} not applied{unknown} in {}; the table read back {}\n",
        tagroute::text::plural(report.applied.len(), "route write"),
        report.not_applied.len(),
        tagroute::text::plural(report.write_requests as usize, "write request"),
        if report.verified {
            "matches the plan".to_owned()
        } else if report.remaining == 0 {
            format!(
                "differs from what was written in {}",
                tagroute::text::plural(report.differences.len(), "place")
            )
        } else {
            format!(
                "still needs {}",
                tagroute::text::plural(report.remaining, "change")
            )
        }
    ));
    out
}

/// Says on stderr what went wrong, what was and was not applied, and what the table read back
/// still differs in.
pub fn tell(report: &ApplyReport, diag: &Diag) {
    if let Some(e) = &report.error {
        diag.warn(format!("apply stopped: {e}"));
        for a in &report.applied {
            diag.note(format!(
                "applied: {:?} {} {}",
                a.op, a.name, a.address_prefix
            ));
        }
    }
    for a in &report.not_applied {
        diag.warn(format!(
            "not applied: {:?} {} {}",
            a.op, a.name, a.address_prefix
        ));
    }
    for a in &report.unknown {
        diag.warn(format!(
            "unknown whether applied (the table could not be read back): {:?} {} {}",
            a.op, a.name, a.address_prefix
        ));
    }
    if !report.verified {
        for d in &report.differences {
            diag.warn(format!("the table read back differs: {d}"));
        }
    }
    if report.rereads > 0 {
        diag.note(format!(
            "the table changed while the change was applied; it was read again and the change \
             planned again ({})",
            tagroute::text::plural(report.rereads as usize, "time")
        ));
    }
}
