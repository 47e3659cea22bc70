//! `tagroute tables`: the route tables of whole subscriptions, found through Azure Resource
//! Graph and judged against the current file.

use tagroute::discover::{self, TableFacts};
use tagroute::emit;
use tagroute::model::DEFAULT_NAME_PREFIX;
use tagroute::snapshot::Cloud;

use crate::args::Source;
use crate::live::AuthArgs;
use crate::net::{NetArgs, block_on};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Find every route table of the given subscriptions through Azure \
Resource Graph and report, per table, its region, subnets, route count against the limit, \
default route's next hop, routes tagroute manages, and how many addresses of its region's \
BatchNodeManagement and AzureMachineLearning tags it does not send to Internet; --format toml \
writes a fleet file for the tables that force-tunnel";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute tables --subscription 0b1f6471-1bf0-4dda-aec3-cb9272f09590
  tagroute tables --cloud public --subscription $SUB --subscription $SUB2 --format json
  tagroute tables --subscription $SUB --format toml > tagroute.toml

Needs only read access: Microsoft.ResourceGraph/resources/read (the query) and
Microsoft.Network/routeTables/read on the tables (Reader on the subscriptions is enough).

Exit status: 0 no force-tunnelled table misses a required address, 1 some do, 2 error.")]
pub struct Args {
    /// A subscription to search (repeatable).
    #[arg(long, value_name = "ID", required = true, value_parser = subscription)]
    subscription: Vec<String>,
    /// The cloud whose Resource Manager and Resource Graph are asked.
    #[arg(long, value_parser = crate::values::cloud(), default_value = "public", help_heading = "Service-tag file")]
    cloud: Cloud,
    /// The service-tag file to judge the tables by [default: the cloud's cached file,
    /// downloaded when older than --max-age].
    #[arg(
        long,
        short = 'f',
        value_name = "FILE",
        help_heading = "Service-tag file"
    )]
    file: Option<String>,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    auth: AuthArgs,
    /// The requirement profile whose route tags a table must send to Internet (`tagroute
    /// profiles` lists them).
    #[arg(long, value_name = "NAME", default_value = tagroute::profile::DEFAULT_PROFILE, value_parser = crate::values::profile)]
    profile: String,
    /// Prefix of the route names tagroute manages, to count them.
    #[arg(long, value_name = "P", default_value = DEFAULT_NAME_PREFIX)]
    name_prefix: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn subscription(text: &str) -> Result<String, tagroute::arm::IdError> {
    tagroute::arm::subscription(text)
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
    Toml,
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let cloud = args.cloud;
    let source = Source {
        file: args.file.clone(),
        cloud: Some(args.cloud),
        net: args.net.clone(),
    };
    // With --file, the file must be of the cloud searched.
    let snapshot = source.load(diag)?;
    let profile = tagroute::profile::by_name(&args.profile)?;
    let mut client = args.auth.client(&args.net, cloud)?;
    let within = args.auth.operation_timeout;
    let (found, refused) = block_on(discover::route_tables(
        &mut client,
        &args.subscription,
        within,
    ))??;
    let facts: Vec<TableFacts> = found
        .iter()
        .map(|f| discover::judge(f, &snapshot, &args.name_prefix, profile))
        .collect();
    for r in &refused {
        diag.warn(format!(
            "refused a row of the answer: {}: {}",
            r.id, r.reason
        ));
    }
    let text = match args.format {
        Format::Table => emit::tables::table(&facts, &refused),
        Format::Json => emit::tables::json(&facts, &refused),
        Format::Toml => emit::tables::toml(&facts, cloud, &profile.name),
    };
    deliver(&text, None)?;
    // A table not judged, or a row refused, leaves the answer incomplete: not a clean 0 or 1.
    let unread = facts.iter().filter(|t| t.unread).count();
    if !refused.is_empty() || unread > 0 {
        anyhow::bail!(
            "the answer is incomplete: {} refused and {} not judged (see above); nothing can be \
             said of them",
            tagroute::text::plural(refused.len(), "row"),
            tagroute::text::plural(unread, "route table")
        );
    }
    Ok(if facts.iter().any(TableFacts::needs_routes) {
        Status::Differences
    } else {
        Status::Ok
    })
}
