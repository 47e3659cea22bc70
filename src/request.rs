//! A plan asked for in a user's terms: a region or tag patterns, slack and tag-route patterns,
//! limits, and the live table it goes into, if any. Every planning command and the refresh job
//! go through [`plan_request`] (and [`plan_and_diff`] for a table), so the selection rules, the
//! room left beside routes tagroute does not manage, and what the user should be told are one
//! rule each. It stands above the planner and the diff, using both.

use crate::diff::{self, Diff, DiffError};
use crate::model::NextHop;
use crate::notice::{Advice, Notice};
pub use crate::options::PlanRequest;
use crate::plan::{NotCandidate, Plan, PlanError, PlanOptions, Slack, plan, tag_route_hint};
use crate::prefix::{Family, IpPrefix};
use crate::routes::RouteTable;
use crate::select::{self, SelectError};
use crate::snapshot::Snapshot;
use crate::text::for_terminal;
use crate::text::plural;

/// Why a default route's next hop, as written, cannot serve exception routes.
#[derive(Debug, thiserror::Error)]
pub enum DefaultHopError {
    #[error(
        "a default route learned over ExpressRoute or VPN BGP is not a route-table next hop: \
         exception routes cannot send traffic back to it, so plan with the exact strategy there \
         (or point the default at a VirtualAppliance / VirtualNetworkGateway route)"
    )]
    Bgp,
    #[error("{0}")]
    Fields(String),
    #[error("{0}")]
    Problem(crate::plan::DefaultHopProblem),
}

/// Reads a default route's next hop as written by a user: `VirtualAppliance:IP`,
/// `VirtualApplianceEcmp:IP,IP,...` or `VirtualNetworkGateway` (type names in any case), one
/// that exception routes can return traffic to.
pub fn parse_default_next_hop(text: &str) -> Result<NextHop, DefaultHopError> {
    let (kind, ip) = match text.split_once(':') {
        Some((k, ip)) => (k, Some(ip)),
        None => (text, None),
    };
    if matches!(
        kind.to_ascii_lowercase().as_str(),
        "bgp" | "expressroute" | "vpn"
    ) {
        return Err(DefaultHopError::Bgp);
    }
    let hop = if kind.eq_ignore_ascii_case("VirtualApplianceEcmp") {
        let list: Vec<&str> = ip.map(|l| l.split(',').collect()).unwrap_or_default();
        NextHop::from_fields(kind, None, Some(&list))
    } else {
        NextHop::from_fields(kind, ip, None)
    }
    .map_err(DefaultHopError::Fields)?;
    crate::plan::check_default_next_hop(&hop).map_err(|e| match e {
        PlanError::NoDefaultNextHop(p) => DefaultHopError::Problem(p),
        other => DefaultHopError::Fields(other.to_string()),
    })?;
    Ok(hop)
}

/// A plan and what to tell about it.
#[derive(Clone, Debug)]
pub struct Planned {
    pub plan: Plan,
    pub notices: Vec<Notice>,
}

/// Why a request gives no plan.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Select(#[from] SelectError),
    /// A pattern of an option (`slack` or `tag_route`) that matches no tag.
    #[error("{key}")]
    Pattern {
        key: crate::options::Key,
        #[source]
        source: SelectError,
    },
    #[error("nothing to plan: no tag selected")]
    NothingSelected,
    #[error(transparent)]
    Profile(#[from] crate::profile::UnknownProfile),
    #[error(
        "the plan needs {needed} routes, more than the {left} left in {table} ({} not managed by \
         tagroute take room of its {limit}); select fewer tags, or try the lpm strategy, or slack \
         with a budget to trade extra Internet-bound addresses for routes",
        plural(*.taken, "route")
    )]
    TableFull {
        needed: usize,
        left: usize,
        table: String,
        taken: usize,
        limit: usize,
    },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Diff(#[from] DiffError),
}

/// Selects the tags and plans their routes as every planning command does. Planned for `table`,
/// the plan fits beside the routes tagroute does not manage there (routes and tag routes counted
/// apart), and takes the lpm default next hop from its default route when none is given.
///
/// ```
/// use tagroute::options::{TableOptions, resolve};
/// use tagroute::request::plan_request;
/// let snapshot = tagroute::snapshot::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json")).unwrap();
/// let flags = TableOptions { region: Some("westeurope".into()), ..Default::default() };
/// let request = resolve(&[&flags]).unwrap().request;
/// let planned = plan_request(&snapshot, &request, None).unwrap();
/// assert_eq!(planned.plan.routes.len(), 4);
/// ```
pub fn plan_request(
    snapshot: &Snapshot,
    request: &PlanRequest,
    table: Option<&RouteTable>,
) -> Result<Planned, RequestError> {
    let default_from_table = table.and_then(crate::diff::table_default_hop);
    let (taken, taken_tags) = table.map_or((0, 0), |t| {
        crate::diff::unmanaged_room(t, &request.name_prefix)
    });
    let limits = request.limits();
    // The routes tagroute's plan may use: the table's room beside the routes it does not manage,
    // and within that the budget.
    let left = limits.routes.saturating_sub(taken);
    let room = match request.budget {
        Some(budget) if request.is_budget() => budget.min(left),
        _ => left,
    };
    let tag_room = request.max_tag_routes.saturating_sub(taken_tags);
    let profile = crate::profile::by_name(&request.profile)?;
    let selection = profile.selection(snapshot, request.region.as_deref(), &request.tags)?;
    let mut notices = Vec::new();
    if let Some(defaults) = &selection.defaults {
        for missing in &defaults.missing {
            notices.push(Notice::warning(format!(
                "no {missing} in this {} file (changeNumber {})",
                snapshot.cloud, snapshot.change_number
            )));
        }
        notices.extend(defaults.warnings.iter().cloned().map(Notice::warning));
        let mut notes = defaults.notes.clone();
        // Said with where the routes come from: a retired mode the profile still covers.
        if let (Some(first), false) = (notes.first_mut(), profile.retired.is_empty()) {
            for retired in &profile.retired {
                first.push_str(&format!(
                    "; {} was retired on {} ({}) and is kept for what still uses it",
                    retired.what,
                    retired.date,
                    crate::profile::cited(&retired.source)
                ));
            }
        }
        notices.extend(notes.into_iter().map(Notice::note));
        if profile.routes.is_empty() {
            notices.push(Notice::note(format!(
                "the {} profile needs {} ({})",
                profile.name,
                profile.note.as_deref().unwrap_or("no routes"),
                profile
                    .note_source
                    .as_deref()
                    .map(crate::profile::cited)
                    .unwrap_or_default()
            )));
        }
    }
    if let Some(region) = selection
        .region
        .as_ref()
        .filter(|_| selection.defaults.is_none())
    {
        for tag in selection.tags.iter().map(|&i| &snapshot.tags[i]) {
            if !tag.region.is_empty() && !region.holds(tag) {
                notices.push(Notice::warning(format!(
                    "{} lies in region {}, not {}; the plan is labelled {}",
                    tag.name, tag.region, region.name, region.name
                )));
            }
        }
    }
    let rules_only = selection.defaults.is_some() && profile.routes.is_empty();
    if selection.tags.is_empty() && !rules_only {
        return Err(RequestError::NothingSelected);
    }
    let slack = if request.allow_any_slack {
        Slack::Any
    } else if request.slack.is_empty() {
        Slack::None
    } else {
        Slack::Tags(
            select::match_tags(snapshot, &request.slack).map_err(|source| {
                RequestError::Pattern {
                    key: crate::options::Key::Slack,
                    source,
                }
            })?,
        )
    };
    let options = PlanOptions {
        family: request.family,
        name_prefix: request.name_prefix.clone(),
        max_routes: room,
        strategy: request.strategy,
        default_next_hop: request.default_next_hop.clone().or(default_from_table),
        budget: request.is_budget(),
        slack,
        tag_routes: select::match_tag_routes(snapshot, &request.tag_routes).map_err(|source| {
            RequestError::Pattern {
                key: crate::options::Key::TagRoute,
                source,
            }
        })?,
        max_tag_routes: tag_room,
    };
    let plan = plan(
        snapshot,
        selection.region.as_ref(),
        &selection.tags,
        &options,
    )
    .map_err(|e| match (e, table) {
        (PlanError::TooManyRoutes { needed, max }, Some(t)) if taken > 0 => {
            RequestError::TableFull {
                needed,
                left: max,
                table: t.source.clone(),
                taken,
                limit: limits.routes,
            }
        }
        (e, _) => RequestError::Plan(e),
    })?;
    notices.extend(notes(&plan));
    if request.hint
        && let Some(h) = tag_route_hint(
            snapshot,
            selection.region.as_ref(),
            &selection.tags,
            &options,
            &plan,
        )
    {
        let left_out = match h.left_out_family {
            Some(family) if h.left_out_extra_addresses > 0 => {
                format!(" (and {} {family} addresses)", h.left_out_extra_addresses)
            }
            _ => String::new(),
        };
        notices.push(
            Notice::note(format!(
                "service-tag routes {} would take this table from {} routes to {} (Azure keeps \
                 them current), sending {} more addresses outside the selected tags to \
                 Internet{left_out}",
                h.used.join(", "),
                h.routes_without,
                h.routes_with,
                h.extra_addresses,
            ))
            .advising(Advice::TagRoutes { tags: h.tags }),
        );
    }
    Ok(Planned { plan, notices })
}

/// What a plan does that its table does not show: IPv6 left out, slack used, what tag routes
/// send in a family left out, a search not proven, candidates refused and why, none used.
fn notes(plan: &Plan) -> Vec<Notice> {
    let mut notes = Vec::new();
    let mut note = |text: String, advice: Option<Advice>| {
        notes.push(Notice {
            advice,
            ..Notice::note(text)
        })
    };
    if plan.summary.excluded_ipv6_prefixes > 0 {
        note(
            format!(
                "left out {} IPv6 prefixes of the selected tags",
                plan.summary.excluded_ipv6_prefixes
            ),
            Some(Advice::BothFamilies),
        );
    }
    if let Some(slack) = plan.slack.as_ref().filter(|s| s.addresses > 0) {
        note(
            format!(
                "the plan sends {} addresses outside the selected tags to Internet (slack)",
                slack.addresses
            ),
            None,
        );
    }
    let Some(report) = &plan.tag_routes else {
        return notes;
    };
    if let Some(family) = report.left_out_family
        && report.left_out_extra_addresses > 0
    {
        note(
            format!(
                "the tag routes also send {} {family} addresses outside the selected tags to \
                 Internet ({family} is not planned, but a tag route carries all of its tag)",
                report.left_out_extra_addresses
            ),
            None,
        );
    }
    if !report.proven_optimal {
        let bound = match (
            report.routes_lower_bound,
            report.extra_addresses_lower_bound,
        ) {
            (Some(lb), _) => format!(
                "no table has fewer than {}: this one is at most {} above the optimum",
                plural(lb, "route"),
                plural(plan.summary.routes.saturating_sub(lb), "route")
            ),
            (None, Some(lb)) => format!(
                "no table within the budget sends fewer than {lb} extra addresses, this one \
                 sends {}",
                plan.slack.as_ref().map_or(0, |s| s.addresses)
            ),
            (None, None) => "no bound is known".to_owned(),
        };
        note(
            format!(
                "the search of {} tag-route candidates reached its bound on work after weighing \
                 {}, so the mix is not proven optimal ({bound})",
                report.candidates.len(),
                plural(report.sets_weighed, "set"),
            ),
            Some(Advice::NarrowTagRoutes),
        );
    }
    if !report.not_candidates.is_empty() {
        let count = |n: u128, family: &str| match n {
            1 => format!("1 {family} address"),
            n => format!("{n} {family} addresses"),
        };
        // The closest to usable first: they are what a little more slack would allow.
        let mut near: Vec<&NotCandidate> = report.not_candidates.iter().collect();
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
            n => format!(" and {n} more (the plan's tagRoutes.notCandidates)"),
        };
        note(
            format!(
                "not weighed as tag routes, since a route to the tag would also send addresses \
                 outside the selected tags and slack: {}{more}",
                shown.join(", ")
            ),
            Some(Advice::SlackTag),
        );
    }
    if report.used.is_empty() && !report.candidates.is_empty() {
        const SHOWN: usize = 6;
        let more = match report.candidates.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        note(
            format!(
                "no tag route pays off here: {}{more} would not save routes",
                report.candidates[..report.candidates.len().min(SHOWN)].join(", ")
            ),
            None,
        );
    }
    notes
}

/// A plan made for a route table, and the change that brings the table to it.
#[derive(Clone, Debug)]
pub struct Compared {
    /// The plan; its notices end with what the table itself calls for (routes that divert
    /// planned addresses, no default route to force-tunnel a planned family).
    pub planned: Planned,
    pub diff: Diff,
}

/// Plans `request` for `table` ([`plan_request`]) and diffs the table against the plan, as
/// `diff` and `apply` do.
///
/// ```
/// use tagroute::options::{TableOptions, resolve};
/// let snapshot = tagroute::snapshot::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json")).unwrap();
/// let table = tagroute::routes::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/routes_example.json")).unwrap();
/// let flags = TableOptions { region: Some("westeurope".into()), ..Default::default() };
/// let request = resolve(&[&flags]).unwrap().request;
/// let compared = tagroute::request::plan_and_diff(&snapshot, &request, &table).unwrap();
/// // Writes that make the table's managed routes the plan's.
/// assert!(compared.diff.writes() > 0);
/// ```
pub fn plan_and_diff(
    snapshot: &Snapshot,
    request: &PlanRequest,
    table: &RouteTable,
) -> Result<Compared, RequestError> {
    let mut planned = plan_request(snapshot, request, Some(table))?;
    planned.notices.extend(
        diff::refused_tag_routes(snapshot, table)
            .into_iter()
            .map(Notice::warning),
    );
    let d = diff::diff(
        &planned.plan,
        snapshot,
        table,
        &request.name_prefix,
        request.limits(),
    )?;
    // Routes that are not tagroute's are never touched, conflicting or not.
    for c in &d.conflicts {
        planned.notices.push(Notice::warning(format!(
            "route '{}' ({} -> {}) diverts {} planned addresses of {} from Internet",
            c.route.name,
            c.route.destination,
            c.route.next_hop,
            c.addresses,
            c.tags.join(", ")
        )));
    }
    planned
        .notices
        .extend(tunnel_warnings(table, &planned.plan, &request.name_prefix));
    Ok(Compared { planned, diff: d })
}

/// A managed-named default route (never touched), and each planned family the table does not
/// force-tunnel: without its default route, routes to Internet change nothing there.
fn tunnel_warnings(table: &RouteTable, plan: &Plan, name_prefix: &str) -> Vec<Notice> {
    let mut out = Vec::new();
    for r in &table.routes {
        let default = r.destination.prefix().is_some_and(IpPrefix::is_default);
        if default && diff::has_name_prefix(&r.name, name_prefix) {
            out.push(Notice::warning(format!(
                "route '{}' is named as tagroute's but is a default route ({}), which tagroute \
                 never plans: it is left as it is",
                for_terminal(&r.name),
                r.destination
            )));
        }
    }
    for (family, default) in [(Family::V4, "0.0.0.0/0"), (Family::V6, "::/0")] {
        let of_family = |p: IpPrefix| p.family() == family;
        let has = table.routes.iter().any(|r| {
            r.destination
                .prefix()
                .is_some_and(|p| p.is_default() && of_family(p))
        });
        let planned = plan
            .routes
            .iter()
            .any(|r| r.destination.prefix().is_some_and(of_family));
        if planned && !has {
            out.push(Notice::warning(format!(
                "{} has no {default} route: nothing of that family is force-tunnelled, so the \
                 routes to Internet change nothing there until a {default} route sends the rest \
                 elsewhere",
                table.source
            )));
        }
    }
    out
}
