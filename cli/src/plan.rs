//! `tagroute plan`: the minimal set of routes with next hop Internet for a region's tags.

use tagroute::emit::{self, PlanFormat, Target};
use tagroute::plan::Plan;
use tagroute::request::{PlanRequest, plan_request};
use tagroute::snapshot::Snapshot;

use crate::args::{OutputFile, PlanSelection, Source};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Plan the user-defined routes (next hop Internet) that a forced-tunneled \
subnet needs for a region's BatchNodeManagement and AzureMachineLearning tags (or the tags you \
name)";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute plan --file ServiceTags_Public_20251028.json --region eastus
  tagroute plan --file ServiceTags_Public_20251028.json --region \"France Central\" \\
      --format terraform
  tagroute plan --file ServiceTags_Public_20251028.json --region eastus --strategy lpm \\
      --default-next-hop VirtualAppliance:10.0.0.4 --slack AzureCloud.eastus
  tagroute plan --file ServiceTags_Public_20251028.json --tag 'BatchNodeManagement.*' \\
      --tag 'AzureMachineLearning.*' --slack AzureCloud --budget 200 --format json
  tagroute plan --file ServiceTags_AzureGovernment_20260720.json --region usgovvirginia \\
      --format az --resource-group rg-net --route-table rt-aml
  az network list-service-tags --location eastus -o json | \\
      tagroute plan --file - --region eastus")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    selection: PlanSelection,
    /// Output format.
    #[arg(long, value_parser = crate::values::plan_format(), default_value = "table", help_heading = "Output")]
    format: PlanFormat,
    /// Resource group of the route table (az and terraform output; else $RESOURCE_GROUP).
    #[arg(long, short = 'g', value_name = "G", value_parser = crate::values::resource_group, help_heading = "Output")]
    resource_group: Option<String>,
    /// Name of the route table (az, terraform, arm, bicep output; else $ROUTE_TABLE).
    #[arg(long, value_name = "T", value_parser = crate::values::route_table, help_heading = "Output")]
    route_table: Option<String>,
    #[command(flatten)]
    output: OutputFile,
}

/// Selects tags and plans routes as every planning command does (the library's
/// [`plan_request`]), printing on stderr what the user should know.
pub fn make_plan(
    snapshot: &Snapshot,
    request: &PlanRequest,
    table: Option<&tagroute::routes::RouteTable>,
    diag: &Diag,
) -> anyhow::Result<Plan> {
    let planned = plan_request(snapshot, request, table).map_err(crate::words::request)?;
    diag.tell(&planned.notices);
    Ok(planned.plan)
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let snapshot = args.source.load(diag)?;
    // Advice for someone reading the table on a terminal: it costs a second plan, which a
    // script piping the output has no use for.
    let hint = args.format == PlanFormat::Table
        && args.output.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let plan = make_plan(&snapshot, &args.selection.request(hint, diag)?, None, diag)?;
    let target = Target {
        resource_group: args.resource_group,
        route_table: args.route_table,
    };
    let text = emit::render_plan(&plan, args.format, &target);
    deliver(&text, args.output.output.as_deref())?;
    Ok(Status::Ok)
}
