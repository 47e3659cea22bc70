//! From selected service tags to user-defined routes.
//!
//! Strategy `exact`: the union of the selected tags' prefixes is aggregated by the project's trie
//! into the fewest CIDR prefixes covering exactly the same addresses, each a route to `Internet`.
//! Strategy `lpm`: the fewest routes whose longest-prefix-match forwarding, next to the table's
//! default route, sends every selected address to Internet and every other one to the default
//! next hop (covering routes plus exceptions). Slack tags let more addresses go to Internet when
//! that saves routes, and a route budget trades routes for the fewest such extra addresses.
//! Every plan is confirmed by the independent interval checker before it is returned.
//!
//! Route names are derived from the prefix so that the same plan always yields the same names,
//! which is what lets `diff` tell tagroute's routes from everyone else's. This module decides what
//! the routes are; it knows nothing of output formats.

mod family;
mod mix;

pub use mix::SEARCH_WORK;

use crate::model::{
    AZURE_MAX_ROUTES, AZURE_MAX_TAG_ROUTES, DEFAULT_NAME_PREFIX, Destination, NextHop, Route,
    TagExpansion, check_route_name, route_name,
};

use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

use std::collections::BTreeMap;

use crate::prefix::{Family, IntervalSet, IpPrefix};
use crate::select::{FamilyChoice, Region};
use crate::snapshot::{Cloud, ServiceTag, Snapshot};

/// How routes are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Routes to Internet only, covering the selected addresses (and slack, if allowed).
    #[default]
    Exact,
    /// Covering routes plus exception routes back to the default next hop.
    Lpm,
}

impl Strategy {
    /// Every strategy, in the order help lists them.
    pub const ALL: [Strategy; 2] = [Strategy::Exact, Strategy::Lpm];

    /// The strategy's name, as `--strategy` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Exact => "exact",
            Strategy::Lpm => "lpm",
        }
    }
}

/// Which unselected addresses may also go to Internet.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Slack {
    /// None: exactly the selected addresses.
    #[default]
    None,
    /// The addresses of these tags (indices into the snapshot's tags).
    Tags(Vec<usize>),
    /// Any address.
    Any,
}

/// Everything that shapes a plan besides the tags themselves.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// The address families to plan.
    pub family: FamilyChoice,
    /// What every route name starts with; it marks the routes as tagroute's.
    pub name_prefix: String,
    /// The most routes the table may hold (tag routes included).
    pub max_routes: usize,
    /// How routes are chosen.
    pub strategy: Strategy,
    /// The next hop of the table's default route; exception routes use it (required for `lpm`).
    pub default_next_hop: Option<NextHop>,
    /// Which unselected addresses may also go to Internet.
    pub slack: Slack,
    /// Fit `max_routes` by sending the fewest extra addresses, instead of using the fewest routes.
    pub budget: bool,
    /// Tags the plan may use as whole routes (indices into the snapshot's tags, each with the
    /// `UDR` feature, as [`crate::select::match_tag_routes`] gives them).
    pub tag_routes: Vec<usize>,
    /// The most service-tag routes the table may hold.
    pub max_tag_routes: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            family: FamilyChoice::Ipv4,
            name_prefix: DEFAULT_NAME_PREFIX.to_owned(),
            max_routes: AZURE_MAX_ROUTES,
            strategy: Strategy::Exact,
            default_next_hop: None,
            slack: Slack::None,
            budget: false,
            tag_routes: Vec::new(),
            max_tag_routes: AZURE_MAX_TAG_ROUTES,
        }
    }
}

/// An allowed tag route the plan could not weigh, and why.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotCandidate {
    pub name: String,
    /// IPv4 addresses it would send outside the selection and slack.
    #[serde(serialize_with = "crate::model::decimal")]
    pub ipv4_outside: u128,
    /// IPv6 addresses it would send outside the selection and slack.
    #[serde(serialize_with = "crate::model::decimal")]
    pub ipv6_outside: u128,
}

/// What the plan weighed and chose among service-tag routes (when any were allowed).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagRouteReport {
    /// Allowed tags that hold selected addresses and send none that must stay out.
    pub candidates: Vec<String>,
    /// The tags the plan uses as routes.
    pub used: Vec<String>,
    /// The choice is proven optimal: every set of candidates that could win was weighed or
    /// bounded. False when the search stopped at [`SEARCH_WORK`] with sets left unsearched.
    pub proven_optimal: bool,
    /// Sets of tag routes weighed.
    pub sets_weighed: usize,
    /// When not proven (no budget), the fewest routes any table could have: the optimum lies
    /// between this and the plan's routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes_lower_bound: Option<usize>,
    /// When not proven (a budget), the fewest extra addresses any table within the budget could
    /// send (a decimal string in JSON).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::model::decimal_opt"
    )]
    pub extra_addresses_lower_bound: Option<u128>,
    /// Allowed tags that hold selected addresses but are no candidates: each would send
    /// addresses outside the selection and slack (counts per family, decimal strings in JSON).
    pub not_candidates: Vec<NotCandidate>,
    /// The family the plan leaves out (`ipv6` for an IPv4 plan), where tag routes still send
    /// every address of their tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out_family: Option<&'static str>,
    /// Addresses the used tag routes send in that family beyond the selected tags' own (a
    /// decimal string in JSON: an IPv6 count can pass what JSON readers hold exactly).
    #[serde(serialize_with = "crate::model::decimal")]
    pub left_out_extra_addresses: u128,
}

/// What a plan sends to Internet beyond the selection.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlackReport {
    /// Unselected addresses the plan sends to Internet.
    pub addresses: u128,
    /// How many of them lie in each tag (slack tags, or every tag with `Slack::Any`).
    pub by_tag: BTreeMap<String, u128>,
}

/// A selected tag as the plan reports it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanTag {
    pub name: String,
    pub change_number: u64,
    /// Prefixes of the plan's families.
    pub prefixes: usize,
}

/// Counts that summarise a plan.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Prefixes of the selected tags in the plan's families, before aggregation.
    pub input_prefixes: usize,
    pub routes: usize,
    /// Routes back to the default next hop (strategy `lpm`).
    pub exception_routes: usize,
    /// Routes whose address prefix is a service tag.
    pub tag_routes: usize,
    pub max_routes: usize,
    /// IPv6 prefixes of the selected tags that the family choice left out.
    pub excluded_ipv6_prefixes: usize,
}

/// A complete route plan: what `plan --format json` prints and `diff` reads back.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    #[serde(serialize_with = "as_display")]
    pub cloud: Cloud,
    pub change_number: u64,
    pub region: Option<String>,
    pub tags: Vec<PlanTag>,
    #[serde(serialize_with = "family_str")]
    pub family: FamilyChoice,
    #[serde(serialize_with = "strategy_str")]
    pub strategy: Strategy,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hop_object")]
    pub default_next_hop: Option<NextHop>,
    pub routes: Vec<Route>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_routes: Option<TagRouteReport>,
    pub summary: Summary,
}

fn as_display<S: Serializer, T: fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
fn family_str<S: Serializer>(v: &FamilyChoice, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}
fn strategy_str<S: Serializer>(v: &Strategy, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}
fn hop_object<S: Serializer>(v: &Option<NextHop>, s: S) -> Result<S::Ok, S::Error> {
    let hop = v.as_ref().expect("skipped when None");
    let mut v = serde_json::json!({"nextHopType": hop.type_name(), "nextHopIpAddress": hop.ip()});
    if let Some(ecmp) = crate::model::EcmpWire::of(hop) {
        v["nextHop"] = serde_json::to_value(ecmp).map_err(serde::ser::Error::custom)?;
    }
    v.serialize(s)
}

/// Why the default next hop given for exception routes (strategy `lpm`) cannot serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultHopProblem {
    /// None was given.
    Missing,
    /// This next hop type is not where a forced tunnel sends traffic.
    NotATunnel(&'static str),
    /// An appliance address of the other family than `family`'s exception routes.
    WrongFamily { ip: IpAddr, family: &'static str },
}

impl fmt::Display for DefaultHopProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultHopProblem::Missing => f.write_str(
                "none given. Name it (a VirtualAppliance address, VirtualApplianceEcmp addresses or \
                 VirtualNetworkGateway), or \
                 take it from an existing table's 0.0.0.0/0 route. A default learned over \
                 ExpressRoute or VPN BGP is no route-table next hop, so exceptions cannot \
                 return to it: plan with the exact strategy there",
            ),
            DefaultHopProblem::NotATunnel(kind) => write!(
                f,
                "{kind} is not the next hop of a forced tunnel (use a VirtualAppliance address, \
                 VirtualApplianceEcmp addresses or VirtualNetworkGateway)"
            ),
            DefaultHopProblem::WrongFamily { ip, family } => write!(
                f,
                "{ip} cannot be the next hop of {family} exception routes (an appliance address \
                 is of the route's own family); plan that family on its own, with an address of it"
            ),
        }
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the plan needs {needed} routes, more than the limit of {max}; select fewer tags, or \
         plan with the lpm strategy, or allow slack with a route budget to trade extra \
         Internet-bound addresses for routes"
    )]
    TooManyRoutes { needed: usize, max: usize },
    #[error(
        "no table of at most {} meets the intent under the given slack; the smallest has {}",
        crate::text::plural(*.max, "route"),
        crate::text::plural(*.smallest as usize, "route")
    )]
    BudgetTooSmall { max: usize, smallest: u64 },
    #[error("the lpm strategy needs the default route's next hop: {0}")]
    NoDefaultNextHop(DefaultHopProblem),
    #[error("a route budget plans one address family at a time")]
    BudgetNeedsOneFamily,
    #[error(
        "the selected tags hold every {family} address: routes for them all would replace the \
         table's default route, which forced tunnelling needs; select narrower tags"
    )]
    WholeAddressSpace { family: &'static str },
    #[error(
        "routes to {first} and {second} would both be named {} (route names are compared without \
         case, and `.` and `_` give one Terraform label); refused rather than write one twice",
        crate::text::quoted(.name)
    )]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    #[error(transparent)]
    Select(#[from] crate::select::SelectError),
    #[error("internal error: the {family} plan failed the forwarding check: {msg}")]
    CheckFailed { family: &'static str, msg: String },
    #[error("the name prefix is empty, so every route of the table would look like tagroute's")]
    EmptyNamePrefix,
    #[error("name prefix {} cannot give valid Azure route names: {reason}", crate::text::quoted(.prefix))]
    BadNamePrefix {
        prefix: String,
        reason: crate::text::NameError,
    },
    #[error("route name {} for service tag {tag} is not a valid Azure route name: {reason}", crate::text::quoted(.name))]
    BadTagRouteName {
        name: String,
        tag: String,
        reason: crate::text::NameError,
    },
}

/// Refuses a name prefix that cannot yield valid route names for the longest prefix text of
/// the chosen families.
pub(crate) fn check_name_prefix(name_prefix: &str, family: FamilyChoice) -> Result<(), PlanError> {
    let bad = |reason| PlanError::BadNamePrefix {
        prefix: name_prefix.to_owned(),
        reason,
    };
    if name_prefix.is_empty() {
        return Err(PlanError::EmptyNamePrefix);
    }
    let longest: IpPrefix = if family.includes(Family::V6) {
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"
            .parse()
            .expect("valid")
    } else {
        "255.255.255.255/32".parse().expect("valid")
    };
    check_route_name(&route_name(name_prefix, &Destination::Prefix(longest))).map_err(bad)
}

/// Refuses a plan in which two routes would share a name, as Azure compares them (without case),
/// or a Terraform resource label (`.` written `_`): a crafted file can name a UDR tag like a
/// prefix route (`203.0.113.7-32`) or two tags alike but for `.` and `_`, and the az script
/// would write one route twice, Terraform get one resource twice.
fn check_unique_names(routes: &[Route]) -> Result<(), PlanError> {
    let mut seen = std::collections::HashMap::with_capacity(routes.len());
    for r in routes {
        let key = r.name.to_ascii_lowercase().replace('.', "_");
        if let Some(first) = seen.insert(key, &r.destination) {
            return Err(PlanError::DuplicateName {
                name: r.name.clone(),
                first: first.to_string(),
                second: r.destination.to_string(),
            });
        }
    }
    Ok(())
}

/// The next hop of exception routes: only a route-table next hop can take traffic back.
pub fn check_default_next_hop(hop: &NextHop) -> Result<(), PlanError> {
    match hop {
        NextHop::VirtualAppliance(_)
        | NextHop::VirtualApplianceEcmp(_)
        | NextHop::VirtualNetworkGateway => Ok(()),
        other => Err(PlanError::NoDefaultNextHop(DefaultHopProblem::NotATunnel(
            other.type_name(),
        ))),
    }
}

/// Plans the routes of a region's default tags (`BatchNodeManagement.<region>` and
/// `AzureMachineLearning.<region>`), or of the tags named (names or globs, case-insensitive)
/// instead: the selection every command makes, by name.
///
/// ```
/// use tagroute::plan::{self, PlanOptions};
///
/// let text = include_str!("../../data/ServiceTags_Example.json");
/// let snapshot = tagroute::snapshot::parse("example", text.as_bytes())?;
/// let plan = plan::plan_named(&snapshot, Some("westeurope"), &[], &PlanOptions::default())?;
/// let prefixes: Vec<String> = plan.routes.iter().map(|r| r.destination.to_string()).collect();
/// assert_eq!(prefixes, ["203.0.113.7/32", "203.0.113.16/28", "203.0.113.48/28", "203.0.113.64/26"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan_named(
    snapshot: &Snapshot,
    region: Option<&str>,
    tags: &[&str],
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    let profile = crate::profile::by_name(crate::profile::DEFAULT_PROFILE)
        .expect("the default profile is in the data");
    let selection = profile.selection(snapshot, region, &tags)?;
    plan(snapshot, selection.region.as_ref(), &selection.tags, opts)
}

/// Plans the routes for the selected tags (indices into `snapshot.tags`, as
/// [`crate::profile::Profile::selection`] gives them).
pub fn plan(
    snapshot: &Snapshot,
    region: Option<&Region>,
    selected: &[usize],
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    check_name_prefix(&opts.name_prefix, opts.family)?;
    let default_next_hop = match (opts.strategy, &opts.default_next_hop) {
        (Strategy::Lpm, None) => {
            return Err(PlanError::NoDefaultNextHop(DefaultHopProblem::Missing));
        }
        (Strategy::Lpm, Some(hop)) => {
            check_default_next_hop(hop)?;
            // An exception route's next hop address is of the route's own family.
            for &ip in hop.addresses() {
                let wrong = match (ip, opts.family) {
                    (IpAddr::V4(_), FamilyChoice::Ipv6 | FamilyChoice::Both) => Some("ipv6"),
                    (IpAddr::V6(_), FamilyChoice::Ipv4 | FamilyChoice::Both) => Some("ipv4"),
                    _ => None,
                };
                if let Some(family) = wrong {
                    return Err(PlanError::NoDefaultNextHop(
                        DefaultHopProblem::WrongFamily { ip, family },
                    ));
                }
            }
            Some(hop.clone())
        }
        (Strategy::Exact, _) => None,
    };
    let budget = opts.budget && opts.slack != Slack::None;
    if budget && opts.family == FamilyChoice::Both {
        return Err(PlanError::BudgetNeedsOneFamily);
    }
    let tags: Vec<&ServiceTag> = selected.iter().map(|&i| &snapshot.tags[i]).collect();
    let slack_tags: Option<Vec<&ServiceTag>> = match &opts.slack {
        Slack::None => Some(Vec::new()),
        Slack::Tags(idx) => Some(idx.iter().map(|&i| &snapshot.tags[i]).collect()),
        Slack::Any => None,
    };
    let job = family::Job {
        tags: &tags,
        slack_tags: slack_tags.as_deref(),
        all_tags: &snapshot.tags,
        strategy: opts.strategy,
        default_next_hop: default_next_hop.as_ref(),
        name_prefix: &opts.name_prefix,
    };
    let v4 = side(&job, opts.family.includes(Family::V4), |t| &t.ipv4)?;
    let v6 = side(&job, opts.family.includes(Family::V6), |t| &t.ipv6)?;
    let exceptions = opts.strategy == Strategy::Lpm;
    let candidates: Vec<&ServiceTag> = opts
        .tag_routes
        .iter()
        .map(|&i| &snapshot.tags[i])
        .filter(|t| mix::may_use(t, &v4, &v6, exceptions))
        .collect();
    let choice = mix::choose(
        &job,
        &v4,
        &v6,
        &candidates,
        opts.max_tag_routes,
        budget.then_some(opts.max_routes),
    )?;
    // Tag routes in rising precedence (Azure's tie order), then by name.
    let mut used: Vec<&ServiceTag> = choice.tag_routes.iter().map(|&i| candidates[i]).collect();
    used.sort_by(|a, b| {
        (mix::precedence(&a.name), &a.name).cmp(&(mix::precedence(&b.name), &b.name))
    });
    let mut routes = Vec::new();
    let mut report = SlackReport::default();
    let mut carried = vec![Vec::new(); used.len()];
    if let (Some(intent), Some(table)) = (v4.planned(), choice.v4) {
        job.finish(
            intent,
            |t| &t.ipv4,
            &used,
            table,
            &mut routes,
            &mut report,
            &mut carried,
        )?;
    }
    if let (Some(intent), Some(table)) = (v6.planned(), choice.v6) {
        job.finish(
            intent,
            |t| &t.ipv6,
            &used,
            table,
            &mut routes,
            &mut report,
            &mut carried,
        )?;
    }
    let mut tag_routes = Vec::with_capacity(used.len());
    for (tag, tags) in used.iter().zip(carried) {
        tag_routes.push(tag_route(tag, &opts.name_prefix, tags)?);
    }
    tag_routes.extend(routes);
    let routes = tag_routes;
    check_unique_names(&routes)?;
    if routes.len() > opts.max_routes {
        return Err(PlanError::TooManyRoutes {
            needed: routes.len(),
            max: opts.max_routes,
        });
    }
    let in_family = |t: &ServiceTag| {
        let v4 = if opts.family.includes(Family::V4) {
            t.ipv4.len()
        } else {
            0
        };
        let v6 = if opts.family.includes(Family::V6) {
            t.ipv6.len()
        } else {
            0
        };
        v4 + v6
    };
    let excluded_ipv6_prefixes = if opts.family.includes(Family::V6) {
        0
    } else {
        tags.iter().map(|t| t.ipv6.len()).sum()
    };
    let exception_routes = routes
        .iter()
        .filter(|r| r.next_hop != NextHop::Internet)
        .count();
    let not_candidates = opts
        .tag_routes
        .iter()
        .map(|&i| &snapshot.tags[i])
        .filter_map(|t| {
            mix::stray(t, &v4, &v6, exceptions).map(|(a, b)| NotCandidate {
                name: t.name.clone(),
                ipv4_outside: a,
                ipv6_outside: b,
            })
        })
        .collect();
    let tag_report = (!opts.tag_routes.is_empty()).then(|| TagRouteReport {
        candidates: candidates.iter().map(|t| t.name.clone()).collect(),
        used: used.iter().map(|t| t.name.clone()).collect(),
        not_candidates,
        proven_optimal: choice.proven,
        sets_weighed: choice.weighed,
        routes_lower_bound: choice.lower_bound,
        extra_addresses_lower_bound: choice.extra_lower_bound,
        left_out_family: match opts.family {
            FamilyChoice::Ipv4 => Some("ipv6"),
            FamilyChoice::Ipv6 => Some("ipv4"),
            FamilyChoice::Both => None,
        },
        left_out_extra_addresses: choice.left_out_extra,
    });
    Ok(Plan {
        cloud: snapshot.cloud,
        change_number: snapshot.change_number,
        region: region.map(|r| r.name.clone()),
        tags: tags
            .iter()
            .map(|t| PlanTag {
                name: t.name.clone(),
                change_number: t.change_number,
                prefixes: in_family(t),
            })
            .collect(),
        family: opts.family,
        strategy: opts.strategy,
        default_next_hop,
        slack: (opts.slack != Slack::None).then_some(report),
        tag_routes: tag_report,
        summary: Summary {
            input_prefixes: tags.iter().map(|t| in_family(t)).sum(),
            routes: routes.len(),
            exception_routes,
            tag_routes: used.len(),
            max_routes: opts.max_routes,
            excluded_ipv6_prefixes,
        },
        routes,
    })
}

/// What service-tag routes would do for a plan made without them.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagRouteHint {
    /// The tags to allow as routes, and as slack.
    pub tags: Vec<String>,
    /// The tags the better plan uses as routes.
    pub used: Vec<String>,
    /// Routes without tag routes.
    pub routes_without: usize,
    /// Routes with them.
    pub routes_with: usize,
    /// Addresses beyond the selection the plan with tag routes sends, in its families.
    pub extra_addresses: u128,
    /// The family the plan leaves out, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out_family: Option<&'static str>,
    /// The extra addresses the tag routes send there (a decimal string in JSON).
    #[serde(serialize_with = "crate::model::decimal")]
    pub left_out_extra_addresses: u128,
}

/// For a plan made without tag routes: whether allowing the UDR-capable tags of the selected
/// tags' services that hold selected addresses (the global `AzureMachineLearning` for
/// `AzureMachineLearning.WestEurope`, or a selected tag itself), as routes and as slack, gives
/// fewer routes, and at what price in extra addresses. Broader tags (`AzureCloud.<region>`) are
/// left to `--tag-route auto`: as slack they would change the plan for reasons other than tag
/// routes.
pub(crate) fn tag_route_hint(
    snapshot: &Snapshot,
    region: Option<&Region>,
    selected: &[usize],
    opts: &PlanOptions,
    plan: &Plan,
) -> Option<TagRouteHint> {
    if !opts.tag_routes.is_empty() || opts.budget {
        return None;
    }
    let v4 = IntervalSet::from_prefixes(selected.iter().flat_map(|&i| &snapshot.tags[i].ipv4));
    let v6 = IntervalSet::from_prefixes(selected.iter().flat_map(|&i| &snapshot.tags[i].ipv6));
    let holds_selected = |t: &ServiceTag| {
        (opts.family.includes(Family::V4) && t.ipv4.iter().any(|&p| v4.overlaps(p)))
            || (opts.family.includes(Family::V6) && t.ipv6.iter().any(|&p| v6.overlaps(p)))
    };
    let base = |name: &str| {
        name.split('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let services: Vec<String> = selected
        .iter()
        .map(|&i| base(&snapshot.tags[i].name))
        .collect();
    let candidates: Vec<usize> = (0..snapshot.tags.len())
        .filter(|&i| {
            let t = &snapshot.tags[i];
            t.supports_udr() && services.contains(&base(&t.name)) && holds_selected(t)
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let slack = match &opts.slack {
        Slack::Any => Slack::Any,
        Slack::None => Slack::Tags(candidates.clone()),
        Slack::Tags(t) => Slack::Tags(t.iter().chain(&candidates).copied().collect()),
    };
    let with = PlanOptions {
        tag_routes: candidates.clone(),
        slack,
        ..opts.clone()
    };
    let better = self::plan(snapshot, region, selected, &with).ok()?;
    let report = better.tag_routes.as_ref()?;
    let pays = !report.used.is_empty() && better.routes.len() < plan.routes.len();
    pays.then(|| TagRouteHint {
        tags: candidates
            .iter()
            .map(|&i| snapshot.tags[i].name.clone())
            .collect(),
        used: report.used.clone(),
        routes_without: plan.routes.len(),
        routes_with: better.routes.len(),
        extra_addresses: better.slack.as_ref().map_or(0, |s| s.addresses),
        left_out_family: report.left_out_family,
        left_out_extra_addresses: report.left_out_extra_addresses,
    })
}

/// One family's side of the plan: its intent when planned, else what may be sent there.
fn side<A: crate::prefix::Addr>(
    job: &family::Job,
    planned: bool,
    prefixes_of: impl Fn(&ServiceTag) -> &Vec<crate::prefix::Prefix<A>>,
) -> Result<mix::Side<A>, PlanError> {
    if planned {
        return Ok(mix::Side::Planned(job.intent(prefixes_of)?));
    }
    let inside = IntervalSet::from_prefixes(job.tags.iter().flat_map(|t| prefixes_of(t).iter()));
    let slack = match job.slack_tags {
        Some(tags) => IntervalSet::from_prefixes(tags.iter().flat_map(|t| prefixes_of(t).iter())),
        None => IntervalSet::from_ranges(vec![(A::ZERO, A::MAX)]),
    };
    Ok(mix::Side::LeftOut(crate::prefix::Intent { inside, slack }))
}

/// The route that names `tag` as its address prefix, carrying the selected `tags`.
fn tag_route(tag: &ServiceTag, name_prefix: &str, tags: Vec<String>) -> Result<Route, PlanError> {
    let destination = Destination::ServiceTag(tag.name.clone());
    let name = route_name(name_prefix, &destination);
    check_route_name(&name).map_err(|reason| PlanError::BadTagRouteName {
        name: name.clone(),
        tag: tag.name.clone(),
        reason,
    })?;
    Ok(Route {
        name,
        destination,
        next_hop: NextHop::Internet,
        tags,
        expansion: Some(TagExpansion {
            ipv4_prefixes: tag.ipv4.len(),
            ipv6_prefixes: tag.ipv6.len(),
            ipv4_addresses: IntervalSet::from_prefixes(&tag.ipv4).count(),
            ipv6_addresses: IntervalSet::from_prefixes(&tag.ipv6).count(),
        }),
    })
}

#[cfg(test)]
mod tests;
