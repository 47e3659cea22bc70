//! A plan against the routes a table already has.
//!
//! Routes whose names start with the name prefix are tagroute's: each is kept, updated (same name,
//! other prefix or next hop) or removed, and planned routes not present are added. Every other
//! route is left alone but analysed under longest-prefix match together with the plan:
//! - a **conflict** is a route that wins, for some address the plan sends to Internet, and sends
//!   it elsewhere (it is as specific as or more specific than the planned route);
//! - a planned route is **redundant** when the table's other routes already send all of its
//!   addresses to Internet.
//!
//! Ties follow Azure: for equal prefixes an explicit prefix beats a service-tag route, and an
//! existing route keeps its place over a planned one (the plan cannot displace it). Counts are
//! exact, by interval arithmetic over the address space. This module knows no output format.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::model::{Limits, NextHop, Route};
use crate::plan::Plan;
use crate::prefix::{Addr, IntervalSet, IpPrefix, Prefix, forwarded_where, lpm_segments};
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
    /// Number of planned addresses it diverts.
    pub addresses: u128,
    /// Planned routes whose addresses it diverts.
    pub planned_routes: Vec<String>,
}

/// A planned route whose addresses already reach Internet through other routes.
#[derive(Clone, Debug, Serialize)]
pub struct Redundant {
    pub route: Route,
    /// The existing routes that carry its addresses to Internet.
    pub by: Vec<String>,
}

/// Counts of a diff.
#[derive(Clone, Debug, Serialize)]
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
#[derive(Clone, Debug, Serialize)]
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
         planned), more than --max-routes {max}"
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
    // A default route is never tagroute's, whatever its name: tagroute plans none, so removing
    // one named like its own (a `tagroute-default` to the firewall) would end the tunnel.
    let owned = |r: &ExistingRoute| {
        starts_with_ignore_case(&r.name, name_prefix)
            && !r.destination.prefix().is_some_and(IpPrefix::is_default)
    };
    let (managed, unmanaged): (Vec<&ExistingRoute>, Vec<&ExistingRoute>) =
        table.routes.iter().partition(|r| owned(r));

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

    let existing: Vec<(&str, &Destination)> = unmanaged
        .iter()
        .map(|r| (r.name.as_str(), &r.destination))
        .collect();
    let expanded = expand(snapshot, &table.source, &existing)?;
    let planned: Vec<(&str, &Destination)> = plan
        .routes
        .iter()
        .map(|r| (r.name.as_str(), &r.destination))
        .collect();
    let planned_expanded = expand(snapshot, "the plan", &planned)?;
    let tag_sets: Vec<(String, TagSets)> = plan
        .tags
        .iter()
        .filter_map(|t| snapshot.tag(&t.name))
        .map(|t| {
            (
                t.name.clone(),
                TagSets {
                    v4: IntervalSet::from_prefixes(&t.ipv4),
                    v6: IntervalSet::from_prefixes(&t.ipv6),
                },
            )
        })
        .collect();
    let mut analysis = Analysis::default();
    analyse::<u32>(
        &plan.routes,
        &planned_expanded.v4,
        &unmanaged,
        &expanded.v4,
        |s| &s.v4,
        &tag_sets,
        &mut analysis,
    );
    analyse::<u128>(
        &plan.routes,
        &planned_expanded.v6,
        &unmanaged,
        &expanded.v6,
        |s| &s.v6,
        &tag_sets,
        &mut analysis,
    );
    let conflicts = analysis.finish_conflicts(&unmanaged);
    let mut redundant = analysis.redundant;
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

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

struct TagSets {
    v4: IntervalSet<u32>,
    v6: IntervalSet<u128>,
}

/// Routes as plain prefixes: (prefix, index of the route, from a service tag).
#[derive(Default)]
struct Expanded {
    v4: Vec<(Prefix<u32>, usize, bool)>,
    v6: Vec<(Prefix<u128>, usize, bool)>,
}

fn expand(
    snapshot: &Snapshot,
    source: &str,
    routes: &[(&str, &Destination)],
) -> Result<Expanded, DiffError> {
    let mut out = Expanded::default();
    let tags: HashMap<String, &crate::snapshot::ServiceTag> = snapshot
        .tags
        .iter()
        .map(|t| (t.name.to_ascii_lowercase(), t))
        .collect();
    for (i, (route, destination)) in routes.iter().enumerate() {
        match destination {
            Destination::Prefix(IpPrefix::V4(p)) => out.v4.push((*p, i, false)),
            Destination::Prefix(IpPrefix::V6(p)) => out.v6.push((*p, i, false)),
            Destination::ServiceTag(name) => {
                let tag =
                    tags.get(&name.to_ascii_lowercase())
                        .ok_or_else(|| DiffError::UnknownTag {
                            source_name: source.to_owned(),
                            route: route.to_string(),
                            tag: name.clone(),
                            cloud: snapshot.cloud.to_string(),
                        })?;
                out.v4.extend(tag.ipv4.iter().map(|&p| (p, i, true)));
                out.v6.extend(tag.ipv6.iter().map(|&p| (p, i, true)));
            }
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Analysis {
    /// Per unmanaged route: diverted addresses, tags, planned routes.
    diverted: std::collections::BTreeMap<usize, (u128, Vec<String>, Vec<String>)>,
    redundant: Vec<Redundant>,
}

impl Analysis {
    fn finish_conflicts(&mut self, unmanaged: &[&ExistingRoute]) -> Vec<Conflict> {
        std::mem::take(&mut self.diverted)
            .into_iter()
            .map(|(i, (addresses, tags, planned_routes))| Conflict {
                route: unmanaged[i].clone(),
                tags,
                addresses,
                planned_routes,
            })
            .collect()
    }
}

/// Who forwards an address in the combined table.
#[derive(Clone, Copy)]
enum Owner {
    Planned,
    Existing(usize),
}

fn analyse<A: Addr>(
    planned: &[Route],
    planned_prefixes: &[(Prefix<A>, usize, bool)],
    unmanaged: &[&ExistingRoute],
    existing: &[(Prefix<A>, usize, bool)],
    tag_set: impl Fn(&TagSets) -> &IntervalSet<A>,
    tags: &[(String, TagSets)],
    out: &mut Analysis,
) {
    let to_internet = |hop: &NextHop| *hop == NextHop::Internet;
    // Tag routes first: on an exact tie an explicit prefix wins (later wins in `lpm_segments`).
    let tag_first = |list: &[(Prefix<A>, usize, bool)]| -> Vec<(Prefix<A>, usize)> {
        let tagged = list.iter().filter(|e| e.2);
        let explicit = list.iter().filter(|e| !e.2);
        tagged.chain(explicit).map(|e| (e.0, e.1)).collect()
    };

    // The plan alone: which addresses it sends to Internet.
    let intent = forwarded_where(&lpm_segments(&tag_first(planned_prefixes)), |i| {
        to_internet(&planned[i].next_hop)
    });

    // Combined table, ordered so that ties resolve as Azure does: tag routes lose to explicit
    // prefixes, and an existing route keeps its place over a planned one of its kind.
    let mut combined: Vec<(Prefix<A>, Owner)> = Vec::new();
    for tagged in [true, false] {
        combined.extend(
            planned_prefixes
                .iter()
                .filter(|e| e.2 == tagged)
                .map(|e| (e.0, Owner::Planned)),
        );
        combined.extend(
            existing
                .iter()
                .filter(|e| e.2 == tagged)
                .map(|e| (e.0, Owner::Existing(e.1))),
        );
    }
    let segments = lpm_segments(&combined);
    for &(lo, hi, owner) in &segments {
        let Owner::Existing(u) = owner else { continue };
        if to_internet(&unmanaged[u].next_hop) {
            continue;
        }
        let hit = intent.intersect(&IntervalSet::from_ranges(vec![(lo, hi)]));
        if hit.is_empty() {
            continue;
        }
        let entry = out.diverted.entry(u).or_default();
        entry.0 = entry.0.saturating_add(hit.count());
        for (name, sets) in tags {
            if !tag_set(sets).intersect(&hit).is_empty() && !entry.1.contains(name) {
                entry.1.push(name.clone());
            }
        }
        for &(p, i, _) in planned_prefixes {
            let overlaps = p.first() <= hi && lo <= p.last();
            if overlaps && !entry.2.contains(&planned[i].name) {
                entry.2.push(planned[i].name.clone());
            }
        }
    }

    // The existing routes alone: does each planned route's whole range (every prefix of a tag
    // route) already reach Internet?
    let alone = lpm_segments(&tag_first(existing));
    let mut by_route: std::collections::BTreeMap<usize, Option<Vec<String>>> = Default::default();
    for &(p, i, _) in planned_prefixes {
        let covering: Vec<&(A, A, usize)> = alone
            .iter()
            .filter(|s| s.0 <= p.last() && p.first() <= s.1)
            .collect();
        let covered: u128 = covering
            .iter()
            .map(|s| (s.1.min(p.last()).to_u128() - s.0.max(p.first()).to_u128()).saturating_add(1))
            .fold(0u128, u128::saturating_add);
        let entry = by_route.entry(i).or_insert_with(|| Some(Vec::new()));
        let carried = covered == p.size()
            && covering
                .iter()
                .all(|s| to_internet(&unmanaged[s.2].next_hop));
        match (carried, entry.as_mut()) {
            (true, Some(by)) => {
                for s in &covering {
                    if !by.contains(&unmanaged[s.2].name) {
                        by.push(unmanaged[s.2].name.clone());
                    }
                }
            }
            _ => *entry = None,
        }
    }
    for (i, by) in by_route {
        if let Some(by) = by {
            out.redundant.push(Redundant {
                route: planned[i].clone(),
                by,
            });
        }
    }
}
