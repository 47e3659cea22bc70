//! A route table's forwarding, address by address, as Azure decides it, for one family at a
//! time: every route stands for its prefixes (a service-tag route for each prefix of its tag in
//! the file), and the longest prefix holding an address wins. On equal prefixes the kinds rank as
//! Azure documents them: an explicit prefix, then a regional tag (`Storage.EastUS`), a top-level
//! tag (`Storage`), `AzureCloud.<region>`, `AzureCloud`. Two routes still equal (two regional
//! tags sharing a prefix) are an order Azure leaves unsaid; here the route whose name sorts first
//! without case wins, so that nothing computed from a table depends on the order its routes are
//! listed in.
//!
//! `diff` builds one of these for the plan alone and one for the table after the change, and
//! reads conflicts and redundant routes off them.

use std::collections::HashMap;

use crate::prefix::{Addr, Prefix, lpm_segments};
use crate::routes::Destination;

/// How a route ranks against another on the same prefix: lower wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Prefix,
    RegionalTag,
    TopLevelTag,
    AzureCloudRegion,
    AzureCloud,
}

/// The rank of a route's destination.
pub fn kind(destination: &Destination) -> Kind {
    match destination {
        Destination::Prefix(_) => Kind::Prefix,
        Destination::ServiceTag(tag) => {
            let (base, region) = match tag.split_once('.') {
                Some((b, r)) => (b, Some(r)),
                None => (tag.as_str(), None),
            };
            match (base.eq_ignore_ascii_case("AzureCloud"), region) {
                (true, Some(_)) => Kind::AzureCloudRegion,
                (true, None) => Kind::AzureCloud,
                (false, Some(_)) => Kind::RegionalTag,
                (false, None) => Kind::TopLevelTag,
            }
        }
    }
}

/// One prefix of one route.
#[derive(Clone, Copy, Debug)]
struct Entry<A: Addr> {
    prefix: Prefix<A>,
    /// The route's index in the caller's list.
    route: usize,
}

/// The forwarding of a table in one family.
pub(crate) struct Forwarding<A: Addr> {
    entries: Vec<Entry<A>>,
    /// Each route's rank among routes on the same prefix: lower wins.
    ranks: Vec<(Kind, String)>,
    /// Entries by prefix, for the routes holding a given range.
    by_prefix: HashMap<Prefix<A>, Vec<usize>>,
}

impl<A: Addr> Forwarding<A> {
    /// The forwarding of routes given as (name, kind, prefixes), indexed as listed.
    pub fn new(routes: &[(&str, Kind, Vec<Prefix<A>>)]) -> Self {
        let mut entries = Vec::new();
        let mut by_prefix: HashMap<Prefix<A>, Vec<usize>> = HashMap::new();
        for (route, (_, _, prefixes)) in routes.iter().enumerate() {
            for &prefix in prefixes {
                by_prefix.entry(prefix).or_default().push(entries.len());
                entries.push(Entry { prefix, route });
            }
        }
        let ranks = routes
            .iter()
            .map(|(name, kind, _)| (*kind, name.to_ascii_lowercase()))
            .collect();
        Forwarding {
            entries,
            ranks,
            by_prefix,
        }
    }

    /// Which route forwards each covered range: `(first, last, route)`, sorted, disjoint;
    /// addresses no route holds are absent.
    pub fn segments(&self) -> Vec<(A, A, usize)> {
        // `lpm_segments` lets the later of two equal prefixes win: list the best rank last.
        let mut order: Vec<&Entry<A>> = self.entries.iter().collect();
        order.sort_by(|a, b| self.ranks[b.route].cmp(&self.ranks[a.route]));
        let list: Vec<(Prefix<A>, usize)> = order.iter().map(|e| (e.prefix, e.route)).collect();
        lpm_segments(&list)
    }

    /// The route that forwards the range `lo..=hi` when route `without` is left out, or `None`
    /// when no other route holds it. The range must be one the table forwards alike (a part of
    /// a segment): then every other route holding part of it holds all of it.
    pub(crate) fn winner_without(&self, lo: A, hi: A, without: usize) -> Option<usize> {
        for len in (0..=A::BITS).rev() {
            let Some(list) = self.by_prefix.get(&Prefix::containing(lo, len)) else {
                continue;
            };
            let best = list
                .iter()
                .map(|&e| &self.entries[e])
                .filter(|e| e.route != without && e.prefix.last() >= hi)
                .map(|e| e.route)
                .min_by(|&a, &b| self.ranks[a].cmp(&self.ranks[b]));
            if best.is_some() {
                return best;
            }
        }
        None
    }

    /// The ranges route `route` covers with its prefixes, merged.
    pub(crate) fn ranges_of(&self, route: usize) -> Vec<(A, A)> {
        let prefixes: Vec<Prefix<A>> = self
            .entries
            .iter()
            .filter(|e| e.route == route)
            .map(|e| e.prefix)
            .collect();
        crate::prefix::IntervalSet::from_prefixes(&prefixes)
            .ranges()
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: &str) -> Prefix<u32> {
        t.parse().unwrap()
    }

    #[test]
    fn kinds_rank_as_azure_documents() {
        let k = |t: &str| kind(&Destination::ServiceTag(t.into()));
        let explicit = kind(&Destination::Prefix("10.0.0.0/8".parse().unwrap()));
        let mut order = vec![
            k("AzureCloud"),
            k("AzureCloud.eastus"),
            k("Storage"),
            k("Storage.EastUS"),
            explicit,
        ];
        order.sort();
        assert_eq!(
            order,
            [
                Kind::Prefix,
                Kind::RegionalTag,
                Kind::TopLevelTag,
                Kind::AzureCloudRegion,
                Kind::AzureCloud
            ]
        );
    }

    #[test]
    fn equal_prefixes_are_decided_by_kind_then_name_whatever_the_order() {
        let routes = |order: &[usize]| {
            let all = [
                ("b-regional", Kind::RegionalTag, vec![p("10.0.0.0/24")]),
                ("a-regional", Kind::RegionalTag, vec![p("10.0.0.0/24")]),
                ("top", Kind::TopLevelTag, vec![p("10.0.0.0/24")]),
                ("wide", Kind::Prefix, vec![p("10.0.0.0/16")]),
            ];
            order.iter().map(|&i| all[i].clone()).collect::<Vec<_>>()
        };
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
            let list = routes(&order);
            let f = Forwarding::new(&list);
            let name = |i: usize| list[i].0;
            let segs = f.segments();
            let inner = segs
                .iter()
                .find(|s| s.0 == p("10.0.0.0/24").first())
                .unwrap();
            assert_eq!(name(inner.2), "a-regional", "{order:?}");
            let next = f.winner_without(inner.0, inner.1, inner.2).unwrap();
            assert_eq!(name(next), "b-regional");
        }
    }
}
