//! A plan against the routes a table already has.
//!
//! Routes whose names start with the name prefix are tagroute's: each is kept, updated (same name,
//! other prefix or next hop) or removed, and planned routes not present are added. Every other
//! route is left alone. The whole table after the change (those routes and the plan's) is then
//! forwarded as Azure forwards it ([`crate::forwarding`]: longest prefix, then Azure's order of
//! route kinds, then name), in both families:
//! - a **conflict** is an address the plan sends to Internet that the table after the change
//!   sends elsewhere, counted for the route that wins it;
//! - a planned route is **redundant** when removing it from that table changes no address's
//!   next hop (in either family; a route covering addresses no other route holds is not).
//!
//! Both are exact, by interval arithmetic, and independent of the order routes are listed in.
//! This module knows no output format.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::forwarding::{Forwarding, Kind, kind};
use crate::model::{Limits, NextHop, Route, decimal};
use crate::plan::Plan;
use crate::prefix::{Addr, IntervalSet, IpPrefix, Prefix};
use crate::routes::{Destination, ExistingRoute, RouteTable};
use crate::snapshot::Snapshot;

/// A route whose prefix or next hop must change.
#[derive(Clone, Debug, Serialize)]
pub struct Update {
    pub from: ExistingRoute,
    pub to: Route,
}

/// An existing route that takes planned addresses away from Internet.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub route: ExistingRoute,
    /// Selected tags whose addresses it diverts.
    pub tags: Vec<String>,
    /// Number of planned addresses it diverts, both families.
    pub addresses: u128,
    /// Of them, IPv4 addresses.
    pub ipv4_addresses: u128,
    /// Of them, IPv6 addresses (a decimal string in JSON).
    #[serde(serialize_with = "decimal")]
    pub ipv6_addresses: u128,
    /// Planned routes whose addresses it diverts.
    pub planned_routes: Vec<String>,
}

/// A planned route the table can do without: removing it changes no address's next hop.
#[derive(Clone, Debug, Serialize)]
pub struct Redundant {
    pub route: Route,
    /// The routes that forward its addresses as it does, or win them over it.
    pub by: Vec<String>,
}

/// Counts of a diff.
#[derive(Clone, Default, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffSummary {
    pub existing: usize,
    pub managed: usize,
    pub unmanaged: usize,
    pub add: usize,
    pub update: usize,
    pub remove: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub redundant: usize,
    /// Routes in the table once the change is applied.
    pub routes_after: usize,
    pub max_routes: usize,
}

/// What it takes to turn a table into the plan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    pub add: Vec<Route>,
    pub update: Vec<Update>,
    pub remove: Vec<ExistingRoute>,
    pub unchanged: usize,
    pub conflicts: Vec<Conflict>,
    pub redundant: Vec<Redundant>,
    pub summary: DiffSummary,
}

impl Diff {
    /// True when applying the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes() == 0
    }

    /// Route writes the change makes: creates + updates + deletes.
    pub fn writes(&self) -> usize {
        self.add.len() + self.update.len() + self.remove.len()
    }
}

/// Why a diff could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(
        "{source_name}: route '{route}': address prefix '{tag}' is neither an IP prefix nor a \
         service tag of the {cloud} file"
    )]
    UnknownTag {
        source_name: String,
        route: String,
        tag: String,
        cloud: String,
    },
    #[error(
        "the table would hold {after} routes ({unmanaged} routes not managed by tagroute + {planned} \
         planned), more than the table's limit of {max}"
    )]
    TooManyRoutes {
        after: usize,
        unmanaged: usize,
        planned: usize,
        max: usize,
    },
    #[error(
        "the table would hold {after} service-tag routes ({unmanaged} not managed by tagroute + \
         {planned} planned), more than the limit of {max}"
    )]
    TooManyTagRoutes {
        after: usize,
        unmanaged: usize,
        planned: usize,
        max: usize,
    },
}

/// Compares `plan` with `table`. `snapshot` resolves service-tag destinations and the selected
/// tags' prefixes; `name_prefix` marks tagroute's routes; `limits` bound the table after the
/// change.
///
/// ```
/// use tagroute::plan::{self, PlanOptions};
///
/// let text = include_str!("../data/ServiceTags_Example.json");
/// let snapshot = tagroute::snapshot::parse("example", text.as_bytes())?;
/// let plan = plan::plan_named(&snapshot, Some("westeurope"), &[], &PlanOptions::default())?;
/// let table = tagroute::routes::parse(
///     "table",
///     br#"[{"name": "tagroute-203.0.113.7-32", "addressPrefix": "203.0.113.7/32", "nextHopType": "Internet"},
///          {"name": "tagroute-198.51.100.0-24", "addressPrefix": "198.51.100.0/24", "nextHopType": "Internet"}]"#,
/// )?;
/// let limits = tagroute::model::Limits::default();
/// let d = tagroute::diff::diff(&plan, &snapshot, &table, "tagroute-", limits)?;
/// assert_eq!((d.add.len(), d.remove.len(), d.unchanged), (3, 1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn diff(
    plan: &Plan,
    snapshot: &Snapshot,
    table: &RouteTable,
    name_prefix: &str,
    limits: Limits,
) -> Result<Diff, DiffError> {
    let (max_routes, max_tag_routes) = (limits.routes, limits.tag_routes);
    let (managed, unmanaged): (Vec<&ExistingRoute>, Vec<&ExistingRoute>) = table
        .routes
        .iter()
        .partition(|r| is_managed(r, name_prefix));

    // Names compared without case, through maps: a table may hold many routes.
    let by_name: HashMap<String, &ExistingRoute> = managed
        .iter()
        .map(|m| (m.name.to_ascii_lowercase(), *m))
        .collect();
    let planned: HashSet<String> = plan
        .routes
        .iter()
        .map(|r| r.name.to_ascii_lowercase())
        .collect();
    let (mut add, mut update, mut unchanged) = (Vec::new(), Vec::new(), 0);
    for route in &plan.routes {
        match by_name.get(&route.name.to_ascii_lowercase()) {
            None => add.push(route.clone()),
            Some(m)
                if m.destination.same_as(&route.destination) && m.next_hop == route.next_hop =>
            {
                unchanged += 1
            }
            Some(m) => update.push(Update {
                from: (*m).clone(),
                to: route.clone(),
            }),
        }
    }
    let remove: Vec<ExistingRoute> = managed
        .iter()
        .filter(|m| !planned.contains(&m.name.to_ascii_lowercase()))
        .map(|m| (*m).clone())
        .collect();

    let after = unmanaged.len() + plan.routes.len();
    if after > max_routes {
        return Err(DiffError::TooManyRoutes {
            after,
            unmanaged: unmanaged.len(),
            planned: plan.routes.len(),
            max: max_routes,
        });
    }

    let is_tag = |d: &Destination| matches!(d, Destination::ServiceTag(_));
    let unmanaged_tags = unmanaged.iter().filter(|r| is_tag(&r.destination)).count();
    let planned_tags = plan
        .routes
        .iter()
        .filter(|r| is_tag(&r.destination))
        .count();
    if unmanaged_tags + planned_tags > max_tag_routes {
        return Err(DiffError::TooManyTagRoutes {
            after: unmanaged_tags + planned_tags,
            unmanaged: unmanaged_tags,
            planned: planned_tags,
            max: max_tag_routes,
        });
    }

    // The table after the change: the routes left alone, then the plan's.
    let unmanaged_list: Vec<(&str, &Destination)> = unmanaged
        .iter()
        .map(|r| (r.name.as_str(), &r.destination))
        .collect();
    let planned_list: Vec<(&str, &Destination)> = plan
        .routes
        .iter()
        .map(|r| (r.name.as_str(), &r.destination))
        .collect();
    let mut expanded = expand(snapshot, &table.source, &unmanaged_list)?;
    expanded.extend(expand(snapshot, "the plan", &planned_list)?);
    let hops: Vec<&NextHop> = unmanaged
        .iter()
        .map(|r| &r.next_hop)
        .chain(plan.routes.iter().map(|r| &r.next_hop))
        .collect();
    let selected: Vec<&crate::snapshot::ServiceTag> = plan
        .tags
        .iter()
        .filter_map(|t| snapshot.tag(&t.name))
        .collect();
    let first_planned = unmanaged.len();
    let v4 = analyse::<u32>(&expanded.v4, &hops, first_planned, |t| &t.ipv4, &selected);
    let v6 = analyse::<u128>(&expanded.v6, &hops, first_planned, |t| &t.ipv6, &selected);
    let name = |i: usize| -> String {
        match i.checked_sub(first_planned) {
            Some(p) => plan.routes[p].name.clone(),
            None => unmanaged[i].name.clone(),
        }
    };
    let mut conflicts = Vec::new();
    for (u, route) in unmanaged.iter().enumerate() {
        let (a4, a6) = (v4.diverted.get(&u), v6.diverted.get(&u));
        if a4.is_none() && a6.is_none() {
            continue;
        }
        let mut tags: Vec<String> = Vec::new();
        let mut planned_routes: Vec<String> = Vec::new();
        for d in [a4, a6].into_iter().flatten() {
            for t in &d.tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
            for &p in &d.planned {
                let n = name(p);
                if !planned_routes.contains(&n) {
                    planned_routes.push(n);
                }
            }
        }
        let (n4, n6) = (a4.map_or(0, |d| d.count), a6.map_or(0, |d| d.count));
        conflicts.push(Conflict {
            route: (*route).clone(),
            tags,
            addresses: n4.saturating_add(n6),
            ipv4_addresses: n4,
            ipv6_addresses: n6,
            planned_routes,
        });
    }
    let mut redundant = Vec::new();
    for (p, route) in plan.routes.iter().enumerate() {
        let i = first_planned + p;
        let (Some(b4), Some(b6)) = (&v4.redundant[i], &v6.redundant[i]) else {
            continue;
        };
        let mut by: Vec<String> = Vec::new();
        for &o in b4.iter().chain(b6) {
            let n = name(o);
            if !by.contains(&n) {
                by.push(n);
            }
        }
        redundant.push(Redundant {
            route: route.clone(),
            by,
        });
    }
    redundant.sort_by(|a, b| a.route.destination.cmp(&b.route.destination));

    let summary = DiffSummary {
        existing: table.routes.len(),
        managed: managed.len(),
        unmanaged: unmanaged.len(),
        add: add.len(),
        update: update.len(),
        remove: remove.len(),
        unchanged,
        conflicts: conflicts.len(),
        redundant: redundant.len(),
        routes_after: after,
        max_routes,
    };
    Ok(Diff {
        add,
        update,
        remove,
        unchanged,
        conflicts,
        redundant,
        summary,
    })
}

/// The next hop of the table's `0.0.0.0/0` (else `::/0`) route, for lpm exception routes: only
/// a route-table next hop can take exceptions back ([`crate::plan::check_default_next_hop`]).
pub(crate) fn table_default_hop(table: &RouteTable) -> Option<NextHop> {
    let route = table
        .routes
        .iter()
        .find(|r| r.destination.prefix().is_some_and(IpPrefix::is_default))?;
    crate::plan::check_default_next_hop(&route.next_hop)
        .ok()
        .map(|_| route.next_hop.clone())
}

/// The table's service-tag routes whose tag lacks `UDR` in the file's `networkFeatures`: routes
/// Azure refuses (or, in a table exported elsewhere, would refuse), as one line each.
pub(crate) fn refused_tag_routes(snapshot: &Snapshot, table: &RouteTable) -> Vec<String> {
    table
        .routes
        .iter()
        .filter_map(|r| match &r.destination {
            Destination::ServiceTag(tag) => snapshot
                .tags
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(tag))
                .filter(|t| !t.supports_udr())
                .map(|t| {
                    format!(
                        "route {} names the service tag {}, whose networkFeatures lack UDR: Azure \
                         refuses it as a route's address prefix",
                        crate::text::quoted(&r.name),
                        t.name
                    )
                }),
            Destination::Prefix(_) => None,
        })
        .collect()
}

/// True when `name` starts with the name prefix, without case: named as tagroute's routes are.
pub(crate) fn has_name_prefix(name: &str, name_prefix: &str) -> bool {
    name.len() >= name_prefix.len()
        && name.as_bytes()[..name_prefix.len()].eq_ignore_ascii_case(name_prefix.as_bytes())
}

/// True when `route` is tagroute's: named with the name prefix, and not a default route. A
/// default route is never tagroute's, whatever its name: tagroute plans none, so removing one
/// named like its own (a `tagroute-default` to the firewall) would end the tunnel.
pub fn is_managed(route: &ExistingRoute, name_prefix: &str) -> bool {
    has_name_prefix(&route.name, name_prefix)
        && !route.destination.prefix().is_some_and(IpPrefix::is_default)
}

/// The room the routes tagroute does not manage take in `table`: (routes, service-tag routes).
/// A plan for the table has the limits less these.
pub(crate) fn unmanaged_room(table: &RouteTable, name_prefix: &str) -> (usize, usize) {
    let unmanaged = table.routes.iter().filter(|r| !is_managed(r, name_prefix));
    let (mut routes, mut tags) = (0, 0);
    for r in unmanaged {
        routes += 1;
        if matches!(r.destination, Destination::ServiceTag(_)) {
            tags += 1;
        }
    }
    (routes, tags)
}

/// Each route's prefixes in one family, in the order the routes were given.
#[derive(Default)]
pub(crate) struct Expanded<'a> {
    pub(crate) v4: Vec<(&'a str, Kind, Vec<Prefix<u32>>)>,
    pub(crate) v6: Vec<(&'a str, Kind, Vec<Prefix<u128>>)>,
}

impl<'a> Expanded<'a> {
    fn extend(&mut self, other: Expanded<'a>) {
        self.v4.extend(other.v4);
        self.v6.extend(other.v6);
    }
}

/// The prefixes each route stands for: its own, or its service tag's in the file.
pub(crate) fn expand<'a>(
    snapshot: &Snapshot,
    source: &str,
    routes: &[(&'a str, &Destination)],
) -> Result<Expanded<'a>, DiffError> {
    let mut out = Expanded::default();
    for &(route, destination) in routes {
        let k = kind(destination);
        let (v4, v6) = match destination {
            Destination::Prefix(IpPrefix::V4(p)) => (vec![*p], vec![]),
            Destination::Prefix(IpPrefix::V6(p)) => (vec![], vec![*p]),
            Destination::ServiceTag(name) => {
                let tag = snapshot.tag(name).ok_or_else(|| DiffError::UnknownTag {
                    source_name: source.to_owned(),
                    route: route.to_string(),
                    tag: name.clone(),
                    cloud: snapshot.cloud.to_string(),
                })?;
                (tag.ipv4.to_vec(), tag.ipv6.to_vec())
            }
        };
        out.v4.push((route, k, v4));
        out.v6.push((route, k, v6));
    }
    Ok(out)
}

/// What one unmanaged route diverts in one family.
struct Diverted {
    count: u128,
    /// Selected tags whose addresses it takes.
    tags: Vec<String>,
    /// Planned routes (indices in the table) whose addresses it takes.
    planned: Vec<usize>,
}

/// One family's conflicts and redundant routes.
struct FamilyAnalysis {
    /// By unmanaged route.
    diverted: std::collections::BTreeMap<usize, Diverted>,
    /// By route of the table: for a planned route, `Some(routes that stand in for it)` when
    /// removing it changes nothing in this family.
    redundant: Vec<Option<Vec<usize>>>,
}

/// Forwards one family of the table after the change (`routes`, the planned ones from
/// `first_planned` on) and of the plan alone, and compares them.
fn analyse<A: Addr>(
    routes: &[(&str, Kind, Vec<Prefix<A>>)],
    hops: &[&NextHop],
    first_planned: usize,
    tag_prefixes: impl Fn(&crate::snapshot::ServiceTag) -> &[Prefix<A>],
    selected: &[&crate::snapshot::ServiceTag],
) -> FamilyAnalysis {
    let internet = |i: usize| *hops[i] == NextHop::Internet;
    // The plan alone: which addresses it sends to Internet.
    let alone = Forwarding::new(&routes[first_planned..]);
    let intent = IntervalSet::from_ranges(
        alone
            .segments()
            .into_iter()
            .filter(|s| internet(first_planned + s.2))
            .map(|s| (s.0, s.1))
            .collect(),
    );
    let table = Forwarding::new(routes);
    let segments = table.segments();

    let mut diverted: std::collections::BTreeMap<usize, Diverted> = Default::default();
    let planned_ranges: Vec<IntervalSet<A>> = (first_planned..routes.len())
        .map(|i| IntervalSet::from_ranges(table.ranges_of(i)))
        .collect();
    let tag_sets: Vec<(String, IntervalSet<A>)> = selected
        .iter()
        .map(|t| (t.name.clone(), IntervalSet::from_prefixes(tag_prefixes(t))))
        .collect();
    for &(lo, hi, w) in &segments {
        if w >= first_planned || internet(w) {
            continue;
        }
        let hit = intent.intersect(&IntervalSet::from_ranges(vec![(lo, hi)]));
        if hit.is_empty() {
            continue;
        }
        let entry = diverted.entry(w).or_insert_with(|| Diverted {
            count: 0,
            tags: Vec::new(),
            planned: Vec::new(),
        });
        entry.count = entry.count.saturating_add(hit.count());
        for (name, set) in &tag_sets {
            if !set.intersect(&hit).is_empty() && !entry.tags.contains(name) {
                entry.tags.push(name.clone());
            }
        }
        for (p, ranges) in planned_ranges.iter().enumerate() {
            let i = first_planned + p;
            if !ranges.intersect(&hit).is_empty() && !entry.planned.contains(&i) {
                entry.planned.push(i);
            }
        }
    }

    // A planned route is redundant where, on every range it wins, the route that would win
    // without it has the same next hop; the routes that win its addresses anyway stand in too.
    let mut redundant: Vec<Option<Vec<usize>>> = vec![None; routes.len()];
    let mut won: Vec<Vec<(A, A)>> = vec![Vec::new(); routes.len()];
    for &(lo, hi, w) in &segments {
        won[w].push((lo, hi));
    }
    for (p, ranges) in planned_ranges.iter().enumerate() {
        let i = first_planned + p;
        let mut by = Vec::new();
        let mut same = true;
        for &(lo, hi) in &won[i] {
            match table.winner_without(lo, hi, i) {
                Some(o) if hops[o] == hops[i] => {
                    if !by.contains(&o) {
                        by.push(o);
                    }
                }
                _ => {
                    same = false;
                    break;
                }
            }
        }
        if same {
            for &(lo, hi, w) in &segments {
                let overlaps = ranges.ranges().iter().any(|r| r.0 <= hi && lo <= r.1);
                if w != i && overlaps && !by.contains(&w) {
                    by.push(w);
                }
            }
            redundant[i] = Some(by);
        }
    }
    FamilyAnalysis {
        diverted,
        redundant,
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
