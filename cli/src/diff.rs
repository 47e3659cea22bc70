//! `tagroute diff`: what it takes to turn an existing route table into the plan.

use tagroute::emit::{self, Target};
use tagroute::fleet::run::Action;
use tagroute::source::Wanted;

use crate::args::{OutputFile, PlanSelection, Source};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Compare the plan with a route table's routes: routes to add, update and \
remove (only those named with the name prefix), and existing routes that conflict with the plan or \
make planned routes redundant";

#[derive(clap::Args, Debug)]
#[command(mut_group("input", |g| g.required(false)))]
#[command(mut_arg("file", |a| a.required_unless_present_any(["cloud", "config"])))]
#[command(mut_arg("region", |a| a.required_unless_present_any(["tag", "config"])))]
#[command(mut_arg("existing", |a| a.required_unless_present_any(["route_table_id", "config"])))]
#[command(mut_arg("config", |a| a.conflicts_with_all(crate::fleet::PLAN_FLAGS)
    .conflicts_with_all(["existing", "resource_group", "route_table", "output", "fail_on_conflict"])))]
#[command(about = ABOUT, after_help = "\
Examples:
  az network route-table route list -g rg-net --route-table-name rt-aml -o json > routes.json
  tagroute diff --file ServiceTags_Public_20251028.json --region eastus --existing routes.json
  tagroute diff --file ServiceTags_Public_20251028.json --region eastus --existing routes.json \\
      --format az -g rg-net --route-table rt-aml > apply.sh
  az network route-table show -g rg-net -n rt-aml -o json | \\
      tagroute diff --file ServiceTags_Public_20251028.json --region eastus --existing - \\
      --format markdown
  tagroute diff --cloud public --region eastus --route-table-id \\
      /subscriptions/SUB/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-aml
  tagroute diff --config tagroute.toml --format markdown

With --config, every table of the fleet file is read and compared (--jobs at once), from one
file per cloud; the report has a line per table, and a table that fails does not stop the others.

Exit status: 0 nothing to change, 1 changes to make (or conflicts, with --fail-on-conflict), 2 error
(with --config: 2 when any table failed).")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    selection: PlanSelection,
    /// The table's routes as JSON (az route list, az route-table show, ARM REST, or a tagroute
    /// plan); `-` reads stdin. Or read the live table with --route-table-id.
    #[arg(
        long,
        short = 'e',
        value_name = "ROUTES",
        required_unless_present = "route_table_id",
        conflicts_with = "route_table_id",
        help_heading = "Route table"
    )]
    existing: Option<String>,
    #[command(flatten)]
    live: crate::live::LiveArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    format: Format,
    /// Exit 1 when an existing route conflicts with the plan, even if nothing is to change.
    #[arg(long, help_heading = "Output")]
    fail_on_conflict: bool,
    /// Resource group of the route table (az output; else $RESOURCE_GROUP).
    #[arg(long, short = 'g', value_name = "G", value_parser = crate::values::resource_group, help_heading = "Output")]
    resource_group: Option<String>,
    /// Name of the route table (az output; else $ROUTE_TABLE).
    #[arg(long, value_name = "T", value_parser = crate::values::route_table, help_heading = "Output")]
    route_table: Option<String>,
    #[command(flatten)]
    output: OutputFile,
    #[command(flatten)]
    fleet: crate::fleet::FleetArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
    Markdown,
    Az,
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    if let Some(path) = &args.fleet.config {
        return run_fleet(&args, path, diag);
    }
    if args.source.is_stdin() && args.existing.as_deref() == Some("-") {
        anyhow::bail!("--file and --existing cannot both read stdin");
    }
    let target = Target {
        resource_group: args.resource_group.clone(),
        route_table: args.route_table.clone(),
    };
    // One table, live or a file of its routes, is a fleet of one.
    let one = crate::fleet::one(
        args.source.cloud,
        args.source.file.as_deref(),
        args.live.route_table_id.clone(),
        args.existing.clone(),
        args.selection.resolve(None, diag)?,
        target.clone(),
    )?;
    let net = &args.source.net;
    let wanted = Wanted::MaxAge(net.max_age);
    let action = Action::Diff;
    let mut table = crate::fleet::run_one(one, &args.live, net, wanted, &action, diag)?;
    let Some(compared) = table.compared.take() else {
        return Err(crate::fleet::failure(&mut table));
    };
    let (plan, d) = *compared;
    let title = format!("tagroute: {}", emit::provenance(&plan));
    let text = match args.format {
        Format::Table => emit::diff::table(&d),
        Format::Json => emit::diff::json(&d),
        Format::Markdown => emit::diff::markdown(&d, &title),
        Format::Az => emit::diff::az_script(&d, &plan, &target),
    };
    deliver(&text, args.output.output.as_deref())?;
    let conflict = args.fail_on_conflict && !d.conflicts.is_empty();
    Ok(if d.is_empty() && !conflict {
        Status::Ok
    } else {
        Status::Differences
    })
}

/// `diff --config`: every table of the fleet file.
fn run_fleet(args: &Args, path: &std::path::Path, diag: &Diag) -> anyhow::Result<Status> {
    use crate::fleet::{self, ReportFormat};
    let format = match args.format {
        Format::Table => ReportFormat::Table,
        Format::Json => ReportFormat::Json,
        Format::Markdown => ReportFormat::Markdown,
        Format::Az => anyhow::bail!(
            "--format az writes one table's script; with --config the report is table, json or \
             markdown"
        ),
    };
    let action = tagroute::fleet::run::Action::Diff;
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
