//! The routes of one address family: exact aggregation on the fast path, the minimiser for
//! `lpm`, slack and budgets, and the forwarding check that every result must pass.

use std::collections::BTreeMap;

use super::{NextHop, PlanError, Route, SlackReport, Strategy, route_name};
use crate::prefix::{self, Addr, Hop, Intent, IntervalSet, IpPrefix, Prefix};
use crate::snapshot::ServiceTag;

/// One planning job, shared by both families.
pub(super) struct Job<'a> {
    pub tags: &'a [&'a ServiceTag],
    /// Slack tags; `None` means any address is slack.
    pub slack_tags: Option<&'a [&'a ServiceTag]>,
    pub all_tags: &'a [ServiceTag],
    pub strategy: Strategy,
    pub default_next_hop: Option<&'a NextHop>,
    pub name_prefix: &'a str,
    /// Fit this many routes with the fewest extra addresses.
    pub budget: Option<usize>,
}

impl Job<'_> {
    /// Appends this family's routes and adds its extra addresses to `report`.
    pub fn run<A: Addr>(
        &self,
        prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
        routes: &mut Vec<Route>,
        report: &mut SlackReport,
    ) -> Result<(), PlanError>
    where
        IpPrefix: From<Prefix<A>>,
    {
        let inside =
            IntervalSet::from_prefixes(self.tags.iter().flat_map(|t| prefixes_of(t).iter()));
        // Routes for every address would take the default route's place: no table sits next
        // to it. Such a selection is refused instead of planned.
        if inside == IntervalSet::from_ranges(vec![(A::ZERO, A::MAX)]) {
            return Err(PlanError::WholeAddressSpace {
                family: A::FAMILY.as_str(),
            });
        }
        let slack = match self.slack_tags {
            Some(tags) => {
                IntervalSet::from_prefixes(tags.iter().flat_map(|t| prefixes_of(t).iter()))
            }
            None => IntervalSet::from_ranges(vec![(A::ZERO, A::MAX)]),
        };
        let simple = self.strategy == Strategy::Exact && slack.is_empty() && self.budget.is_none();
        let intent = Intent { inside, slack };
        let exceptions = self.strategy == Strategy::Lpm;
        let table: Vec<(Prefix<A>, Hop)> = if simple {
            let all = self
                .tags
                .iter()
                .flat_map(|t| prefixes_of(t).iter().copied());
            prefix::aggregate(all)
                .into_iter()
                .map(|p| (p, Hop::In))
                .collect()
        } else if let Some(max) = self.budget {
            prefix::minimize_within(&intent, exceptions, max)
                .map_err(|smallest| PlanError::BudgetTooSmall { max, smallest })?
                .routes
        } else {
            prefix::minimize(&intent, exceptions).routes
        };
        // The independent check: interval arithmetic over the whole address space.
        let extra = prefix::check(&intent, &table).map_err(|e| PlanError::CheckFailed {
            family: A::FAMILY.as_str(),
            msg: e.to_string(),
        })?;
        if extra > 0 {
            let sent_in =
                prefix::forwarded_where(&prefix::lpm_segments(&with_default(&table)), |h| {
                    h == Hop::In
                });
            let extra_set = sent_in.subtract(&intent.inside);
            report.addresses = report.addresses.saturating_add(extra);
            let candidates: Box<dyn Iterator<Item = &ServiceTag>> = match self.slack_tags {
                Some(tags) => Box::new(tags.iter().copied()),
                None => Box::new(self.all_tags.iter()),
            };
            for tag in candidates {
                let n = IntervalSet::from_prefixes(prefixes_of(tag))
                    .intersect(&extra_set)
                    .count();
                if n > 0 {
                    *report.by_tag.entry(tag.name.clone()).or_default() += n;
                }
            }
        }
        let carried = attribute(&table, self.tags, &prefixes_of);
        for ((prefix, hop), tags) in table.into_iter().zip(carried) {
            let prefix = IpPrefix::from(prefix);
            let next_hop = match hop {
                Hop::In => NextHop::Internet,
                Hop::Out => self
                    .default_next_hop
                    .expect("exceptions only with a default next hop")
                    .clone(),
            };
            routes.push(Route {
                name: route_name(self.name_prefix, prefix),
                prefix,
                next_hop,
                tags,
            });
        }
        Ok(())
    }
}

/// The table's default route (the root, label `Out`) followed by the planned routes.
fn with_default<A: Addr>(table: &[(Prefix<A>, Hop)]) -> Vec<(Prefix<A>, Hop)> {
    let mut all = vec![(Prefix::containing(A::ZERO, 0), Hop::Out)];
    all.extend_from_slice(table);
    all
}

/// For each planned route, the selected tags whose addresses it forwards (by longest-prefix match).
fn attribute<A: Addr>(
    table: &[(Prefix<A>, Hop)],
    tags: &[&ServiceTag],
    prefixes_of: &impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
) -> Vec<Vec<String>> {
    let labelled: Vec<(Prefix<A>, Option<usize>)> =
        std::iter::once((Prefix::containing(A::ZERO, 0), None))
            .chain(table.iter().enumerate().map(|(i, r)| (r.0, Some(i))))
            .collect();
    let segments = prefix::lpm_segments(&labelled);
    let mut carried: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for tag in tags {
        for p in prefixes_of(tag) {
            let start = segments.partition_point(|s| s.1 < p.first());
            for s in segments[start..].iter().take_while(|s| s.0 <= p.last()) {
                if let Some(i) = s.2 {
                    let names = carried.entry(i).or_default();
                    if names.last() != Some(&tag.name) {
                        names.push(tag.name.clone());
                    }
                }
            }
        }
    }
    (0..table.len())
        .map(|i| carried.remove(&i).unwrap_or_default())
        .collect()
}
