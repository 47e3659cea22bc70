//! The routes of one address family: its intent, the best table next to a given set of
//! service-tag routes (exact aggregation on the fast path, the minimiser otherwise, slack and
//! budgets), and the forwarding check that every result must pass.

use std::collections::BTreeMap;

use super::{NextHop, PlanError, Route, SlackReport, Strategy};
use crate::model::{Destination, route_name};
use crate::prefix::{self, Addr, Hop, Intent, IntervalSet, IpPrefix, Prefix, Prepared, Table};
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
}

/// A family's intent prepared for every candidate tag route, built when first needed (a plan on
/// the fast path never needs it).
pub(super) struct Lazy<'a, A: Addr> {
    intent: &'a Intent<A>,
    possible: Vec<Prefix<A>>,
    prepared: std::cell::OnceCell<Prepared<A>>,
}

impl<'a, A: Addr> Lazy<'a, A> {
    /// For `intent` and tag routes drawn from the prefixes `possible`.
    pub fn new(intent: &'a Intent<A>, possible: Vec<Prefix<A>>) -> Self {
        Lazy {
            intent,
            possible,
            prepared: std::cell::OnceCell::new(),
        }
    }

    /// The family's intent.
    pub fn intent(&self) -> &Intent<A> {
        self.intent
    }

    /// The work its programs did so far (none before the first).
    pub fn work(&self) -> u64 {
        self.prepared.get().map_or(0, Prepared::work)
    }

    pub fn get(&self) -> &Prepared<A> {
        self.prepared
            .get_or_init(|| Prepared::new(self.intent, &self.possible))
    }
}

/// Why a family has no table next to a set of tag routes.
pub(super) enum NoTable {
    /// The tag routes send addresses that must stay out, and no exception may take them back.
    Infeasible,
    /// The budget is too small: this many routes are needed.
    Needs(u64),
}

impl Job<'_> {
    /// What this family must do: the selected addresses go to Internet, the slack tags' may.
    pub fn intent<A: Addr>(
        &self,
        prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
    ) -> Result<Intent<A>, PlanError> {
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
        Ok(Intent { inside, slack })
    }

    /// The best explicit routes next to tag routes expanded into `given`: the fewest, then the
    /// fewest extra addresses; or, with a `budget`, the fewest extra addresses within it.
    /// `prepared` is the intent's trie cut for every candidate tag route, built on first use.
    pub fn solve<A: Addr>(
        &self,
        intent: &Intent<A>,
        prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
        prepared: &Lazy<'_, A>,
        given: &[Prefix<A>],
        budget: Option<usize>,
    ) -> Result<Table<A>, NoTable> {
        let exceptions = self.strategy == Strategy::Lpm;
        if let Some(max) = budget {
            return prepared
                .get()
                .minimize_within(exceptions, max, given)
                .map_err(|n| {
                    if n == u64::MAX {
                        NoTable::Infeasible
                    } else {
                        NoTable::Needs(n)
                    }
                });
        }
        if !exceptions && intent.slack.is_empty() && given.is_empty() {
            let all = self
                .tags
                .iter()
                .flat_map(|t| prefixes_of(t).iter().copied());
            let routes = prefix::aggregate(all)
                .into_iter()
                .map(|p| (p, Hop::In))
                .collect();
            return Ok(Table { routes, extra: 0 });
        }
        prepared
            .get()
            .minimize(exceptions, given)
            .ok_or(NoTable::Infeasible)
    }

    /// Checks `table` next to the tag routes (`given`, the prefixes of `tag_routes` in this
    /// family), adds its extra addresses to `report`, appends its routes, and adds to `carried`
    /// the selected tags each tag route forwards.
    #[allow(clippy::too_many_arguments)]
    pub fn finish<A: Addr>(
        &self,
        intent: &Intent<A>,
        prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
        tag_routes: &[&ServiceTag],
        table: Table<A>,
        routes: &mut Vec<Route>,
        report: &mut SlackReport,
        carried: &mut [Vec<String>],
    ) -> Result<(), PlanError>
    where
        IpPrefix: From<Prefix<A>>,
    {
        let given: Vec<Prefix<A>> = tag_routes
            .iter()
            .flat_map(|t| prefixes_of(t).iter().copied())
            .collect();
        // The independent check: interval arithmetic over the whole address space.
        let extra = prefix::check_with_tags(intent, &given, &table.routes).map_err(|e| {
            PlanError::CheckFailed {
                family: A::FAMILY.as_str(),
                msg: e.to_string(),
            }
        })?;
        if extra > 0 {
            let extra_set = prefix::sent_in(&given, &table.routes).subtract(&intent.inside);
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
        let (by_route, by_tag_route) =
            attribute(&table.routes, tag_routes, self.tags, &prefixes_of);
        for (j, names) in by_tag_route.into_iter().enumerate() {
            for name in names {
                if !carried[j].contains(&name) {
                    carried[j].push(name);
                }
            }
        }
        for ((prefix, hop), tags) in table.routes.into_iter().zip(by_route) {
            let destination = Destination::Prefix(IpPrefix::from(prefix));
            let next_hop = match hop {
                Hop::In => NextHop::Internet,
                Hop::Out => self
                    .default_next_hop
                    .expect("exceptions only with a default next hop")
                    .clone(),
            };
            routes.push(Route {
                name: route_name(self.name_prefix, &destination),
                destination,
                next_hop,
                tags,
                expansion: None,
            });
        }
        Ok(())
    }
}

/// Who forwards an address under longest-prefix match.
#[derive(Clone, Copy)]
enum Owner {
    Default,
    TagRoute(usize),
    Route(usize),
}

/// For each planned route and each tag route, the selected tags whose addresses it forwards (by
/// longest-prefix match, with Azure's tie rules: `tag_routes` come in rising precedence, and an
/// explicit prefix beats a tag route's).
fn attribute<A: Addr>(
    table: &[(Prefix<A>, Hop)],
    tag_routes: &[&ServiceTag],
    tags: &[&ServiceTag],
    prefixes_of: &impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut labelled: Vec<(Prefix<A>, Owner)> = Vec::new();
    for (j, t) in tag_routes.iter().enumerate() {
        labelled.extend(prefixes_of(t).iter().map(|&p| (p, Owner::TagRoute(j))));
    }
    labelled.push((Prefix::containing(A::ZERO, 0), Owner::Default));
    labelled.extend(
        table
            .iter()
            .enumerate()
            .map(|(i, r)| (r.0, Owner::Route(i))),
    );
    let segments = prefix::lpm_segments(&labelled);
    let mut by_route: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut by_tag_route: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for tag in tags {
        for p in prefixes_of(tag) {
            let start = segments.partition_point(|s| s.1 < p.first());
            for s in segments[start..].iter().take_while(|s| s.0 <= p.last()) {
                let names = match s.2 {
                    Owner::Route(i) => by_route.entry(i).or_default(),
                    Owner::TagRoute(j) => by_tag_route.entry(j).or_default(),
                    Owner::Default => continue,
                };
                if names.last() != Some(&tag.name) {
                    names.push(tag.name.clone());
                }
            }
        }
    }
    (
        (0..table.len())
            .map(|i| by_route.remove(&i).unwrap_or_default())
            .collect(),
        (0..tag_routes.len())
            .map(|j| by_tag_route.remove(&j).unwrap_or_default())
            .collect(),
    )
}
