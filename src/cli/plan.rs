//! `tagroute plan`: the minimal set of routes with next hop Internet for a region's tags.

use crate::emit::{self, PlanFormat, Target};
use crate::plan::{self, Plan, PlanError, PlanOptions, Slack, Strategy};
use crate::select::{self, FamilyChoice};
use crate::snapshot::Snapshot;
use anyhow::Context;

use super::args::{OutputFile, PlanSelection, Source, StrategyArg};
use super::output::{Diag, Status, deliver};

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
      --tag 'AzureMachineLearning.*' --slack AzureCloud --max-routes 200 --format json
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
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    format: Format,
    /// Resource group of the route table (az and terraform output; else $RESOURCE_GROUP).
    #[arg(long, short = 'g', value_name = "G", value_parser = super::values::resource_group, help_heading = "Output")]
    resource_group: Option<String>,
    /// Name of the route table (az, terraform, arm, bicep output; else $ROUTE_TABLE).
    #[arg(long, value_name = "T", value_parser = super::values::route_table, help_heading = "Output")]
    route_table: Option<String>,
    #[command(flatten)]
    output: OutputFile,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
    Csv,
    Az,
    Terraform,
    Arm,
    Bicep,
}

impl From<Format> for PlanFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => PlanFormat::Table,
            Format::Json => PlanFormat::Json,
            Format::Csv => PlanFormat::Csv,
            Format::Az => PlanFormat::Az,
            Format::Terraform => PlanFormat::Terraform,
            Format::Arm => PlanFormat::Arm,
            Format::Bicep => PlanFormat::Bicep,
        }
    }
}

/// Selects tags and plans routes as every planning command does, reporting on stderr what the
/// user should know (missing default tags, IPv6 left out, what tag routes send). With `hint`, a
/// plan made without tag routes also says once what they would save. Planned for `table`, the
/// plan fits beside the routes tagroute does not manage there, and takes the lpm default next hop
/// from its default route when none is given.
pub fn make_plan(
    snapshot: &Snapshot,
    sel: &PlanSelection,
    table: Option<&crate::routes::RouteTable>,
    hint: bool,
    diag: &Diag,
) -> anyhow::Result<Plan> {
    let default_from_table = table.and_then(crate::diff::table_default_hop);
    let (taken, taken_tags) =
        table.map_or((0, 0), |t| crate::diff::unmanaged_room(t, &sel.name_prefix));
    let limits = sel.limits();
    let room = match table {
        // Without a table, --max-routes is the plan's own limit or budget.
        None => sel.max_routes(),
        Some(_) if sel.is_budget() => sel.max_routes().min(limits.routes.saturating_sub(taken)),
        Some(_) => limits.routes.saturating_sub(taken),
    };
    let tag_room = sel.max_tag_routes.saturating_sub(taken_tags);
    let selection = select::for_plan(snapshot, sel.region.as_deref(), &sel.tag)?;
    if let Some(region) = &selection.region {
        for base in &selection.missing_defaults {
            diag.warn(format!(
                "no {base} tag for region {} in this {} file (changeNumber {})",
                region.name, snapshot.cloud, snapshot.change_number
            ));
        }
        for tag in selection.tags.iter().map(|&i| &snapshot.tags[i]) {
            if !tag.region.is_empty() && !region.holds(tag) {
                diag.warn(format!(
                    "{} lies in region {}, not {}; the plan is labelled {}",
                    tag.name, tag.region, region.name, region.name
                ));
            }
        }
    }
    if selection.tags.is_empty() {
        anyhow::bail!("nothing to plan: no tag selected");
    }
    let slack = if sel.allow_any_slack {
        Slack::Any
    } else if sel.slack.is_empty() {
        Slack::None
    } else {
        Slack::Tags(select::match_tags(snapshot, &sel.slack).context("--slack")?)
    };
    let opts = PlanOptions {
        family: FamilyChoice::from(sel.family),
        name_prefix: sel.name_prefix.clone(),
        max_routes: room,
        strategy: match sel.strategy {
            StrategyArg::Exact => Strategy::Exact,
            StrategyArg::Lpm => Strategy::Lpm,
        },
        default_next_hop: sel.default_next_hop.clone().or(default_from_table),
        budget: sel.max_routes.is_some(),
        slack,
        tag_routes: select::match_tag_routes(snapshot, &sel.tag_route).context("--tag-route")?,
        max_tag_routes: tag_room,
    };
    let plan = plan::plan(snapshot, selection.region.as_ref(), &selection.tags, &opts).map_err(
        |e| match (e, table) {
            (PlanError::TooManyRoutes { needed, max }, Some(t)) if taken > 0 => anyhow::anyhow!(
                "the plan needs {needed} routes, more than the {max} left in {} ({} not managed \
                 by tagroute take room of its {}); select fewer tags, or try --strategy lpm, or \
                 --slack TAG / --allow-any-slack with --max-routes to trade extra Internet-bound \
                 addresses for routes",
                t.source,
                crate::text::plural(taken, "route"),
                limits.routes
            ),
            (e, _) => in_flags(e),
        },
    )?;
    if plan.summary.excluded_ipv6_prefixes > 0 {
        diag.note(format!(
            "left out {} IPv6 prefixes of the selected tags; --family both includes them",
            plan.summary.excluded_ipv6_prefixes
        ));
    }
    if let Some(slack) = plan.slack.as_ref().filter(|s| s.addresses > 0) {
        diag.note(format!(
            "the plan sends {} addresses outside the selected tags to Internet (slack)",
            slack.addresses
        ));
    }
    if let Some(report) = &plan.tag_routes {
        if let Some(family) = report.left_out_family
            && report.left_out_extra_addresses > 0
        {
            diag.note(format!(
                "the tag routes also send {} {family} addresses outside the selected tags to \
                 Internet ({family} is not planned, but a tag route carries all of its tag)",
                report.left_out_extra_addresses
            ));
        }
        if !report.proven_optimal {
            let bound = match (
                report.routes_lower_bound,
                report.extra_addresses_lower_bound,
            ) {
                (Some(lb), _) => format!(
                    "no table has fewer than {}: this one is at most {} above the optimum",
                    crate::text::plural(lb, "route"),
                    crate::text::plural(plan.summary.routes.saturating_sub(lb), "route")
                ),
                (None, Some(lb)) => format!(
                    "no table within the budget sends fewer than {lb} extra addresses, this one \
                     sends {}",
                    plan.slack.as_ref().map_or(0, |s| s.addresses)
                ),
                (None, None) => "no bound is known".to_owned(),
            };
            diag.note(format!(
                "the search of {} tag-route candidates reached its bound on work after weighing \
                 {}, so the mix is not proven optimal ({bound}); fewer --tag-route tags or a \
                 lower --max-tag-routes narrow the search",
                report.candidates.len(),
                crate::text::plural(report.sets_weighed, "set"),
            ));
        }
        if !report.not_candidates.is_empty() {
            let count = |n: u128, family: &str| match n {
                1 => format!("1 {family} address"),
                n => format!("{n} {family} addresses"),
            };
            // The closest to usable first: they are what a little more slack would allow.
            let mut near: Vec<&crate::plan::NotCandidate> = report.not_candidates.iter().collect();
            near.sort_by_key(|n| n.ipv4_outside.saturating_add(n.ipv6_outside));
            const SHOWN: usize = 4;
            let shown: Vec<String> = near
                .iter()
                .take(SHOWN)
                .map(|n| {
                    let mut outside = Vec::new();
                    if n.ipv4_outside > 0 {
                        outside.push(count(n.ipv4_outside, "ipv4"));
                    }
                    if n.ipv6_outside > 0 {
                        outside.push(count(n.ipv6_outside, "ipv6"));
                    }
                    format!("{} ({})", n.name, outside.join(", "))
                })
                .collect();
            let more = match near.len().saturating_sub(SHOWN) {
                0 => String::new(),
                n => format!(" and {n} more (tagRoutes.notCandidates in --format json)"),
            };
            diag.note(format!(
                "not weighed as tag routes, since a route to the tag would also send addresses \
                 outside the selected tags and slack (--slack TAG allows them): {}{more}",
                shown.join(", ")
            ));
        }
        if report.used.is_empty() && !report.candidates.is_empty() {
            const SHOWN: usize = 6;
            let more = match report.candidates.len().saturating_sub(SHOWN) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            diag.note(format!(
                "no tag route pays off here: {}{more} would not save routes",
                report.candidates[..report.candidates.len().min(SHOWN)].join(", ")
            ));
        }
    }
    if hint
        && let Some(h) = plan::tag_route_hint(
            snapshot,
            selection.region.as_ref(),
            &selection.tags,
            &opts,
            &plan,
        )
    {
        let flags: Vec<String> = h
            .tags
            .iter()
            .map(|t| format!("--tag-route {t} --slack {t}"))
            .collect();
        let left_out = match h.left_out_family {
            Some(family) if h.left_out_extra_addresses > 0 => {
                format!(" (and {} {family} addresses)", h.left_out_extra_addresses)
            }
            _ => String::new(),
        };
        diag.note(format!(
            "service-tag routes {} would take this table from {} routes to {} (Azure keeps them \
             current), sending {} more addresses outside the selected tags to Internet{left_out}: \
             add {}",
            h.used.join(", "),
            h.routes_without,
            h.routes_with,
            h.extra_addresses,
            flags.join(" ")
        ));
    }
    Ok(plan)
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let snapshot = args.source.load(diag)?;
    // Advice for someone reading the table on a terminal: it costs a second plan, which a
    // script piping the output has no use for.
    let hint = matches!(args.format, Format::Table)
        && args.output.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let plan = make_plan(&snapshot, &args.selection, None, hint, diag)?;
    let target = Target {
        resource_group: args.resource_group,
        route_table: args.route_table,
    };
    let text = emit::render_plan(&plan, args.format.into(), &target);
    deliver(&text, args.output.output.as_deref())?;
    // The process ends next and the system takes its memory back whole, faster than freeing
    // a file's thousands of tags one by one.
    std::mem::forget(snapshot);
    Ok(Status::Ok)
}

/// A planning error in the words of the command line: the library speaks of limits, strategies
/// and name prefixes, the user set them with flags.
pub fn in_flags(e: PlanError) -> anyhow::Error {
    match e {
        PlanError::TooManyRoutes { needed, max } => anyhow::anyhow!(
            "the plan needs {needed} routes, more than --max-routes {max}; select fewer tags, or \
             try --strategy lpm, or --slack TAG / --allow-any-slack with --max-routes to trade \
             extra Internet-bound addresses for routes"
        ),
        PlanError::NoDefaultNextHop(problem) => {
            anyhow::anyhow!("{}", super::values::default_hop_problem(&problem))
        }
        PlanError::BudgetNeedsOneFamily => anyhow::anyhow!(
            "a route budget (--max-routes with slack) plans one family at a time; use --family \
             ipv4 or ipv6"
        ),
        PlanError::BadNamePrefix { prefix, reason } => anyhow::anyhow!(
            "--name-prefix {} cannot give valid Azure route names: {reason}",
            crate::text::quoted(&prefix)
        ),
        other => other.into(),
    }
}
