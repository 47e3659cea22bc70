//! `diff`'s conflicts and redundant routes against a brute force: small random tables of CIDR and
//! service-tag routes of every kind, in both families, with every next-hop type, forwarded
//! address by address over a /28 and a /124 by scanning every route.

use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::forwarding::Kind;
use crate::model::Route;
use crate::plan::{Plan, Strategy as PlanStrategy, Summary};
use crate::select::FamilyChoice;

/// The tags of the test file, one of each kind Azure ranks (and a second regional one).
const TAGS: [&str; 5] = [
    "Foo.EastUS",
    "Bar.EastUS",
    "Foo",
    "AzureCloud.eastus",
    "AzureCloud",
];
const V4_BASE: u32 = 0x0a00_0000; // 10.0.0.0/28
const V6_BASE: u128 = 0x2001_0db8 << 96; // 2001:db8::/124

/// A prefix inside the /28 (family 4) or /124 (family 6): `len` 0 to 4 bits past the base, `k`
/// its index at that length.
#[derive(Clone, Copy, Debug)]
struct Small {
    v6: bool,
    extra: u8,
    k: u8,
}

impl Small {
    fn prefix(self) -> IpPrefix {
        let k = (self.k as u32) % (1 << self.extra);
        let shift = 4 - self.extra as u32;
        if self.v6 {
            let p = Prefix::<u128>::new(V6_BASE + ((k as u128) << shift), 124 + self.extra);
            IpPrefix::V6(p.unwrap())
        } else {
            IpPrefix::V4(Prefix::<u32>::new(V4_BASE + (k << shift), 28 + self.extra).unwrap())
        }
    }
}

fn small() -> impl Strategy<Value = Small> {
    (any::<bool>(), 0u8..=4, any::<u8>()).prop_map(|(v6, extra, k)| Small { v6, extra, k })
}

fn hop(i: u8) -> NextHop {
    let a: IpAddr = "10.9.0.1".parse().unwrap();
    let b: IpAddr = "10.9.0.2".parse().unwrap();
    match i % 7 {
        0 => NextHop::Internet,
        1 => NextHop::VirtualAppliance(a),
        2 => NextHop::VirtualAppliance(b),
        3 => NextHop::VirtualApplianceEcmp(vec![a, b]),
        4 => NextHop::VirtualNetworkGateway,
        5 => NextHop::VnetLocal,
        _ => NextHop::None,
    }
}

/// A route's destination: a small prefix, a tag, or (`None` prefix) the default route.
#[derive(Clone, Debug)]
enum Dest {
    Prefix(Small),
    Tag(usize),
    Default,
}

fn dest() -> impl Strategy<Value = Dest> {
    prop_oneof![
        4 => small().prop_map(Dest::Prefix),
        3 => (0..TAGS.len()).prop_map(Dest::Tag),
        1 => Just(Dest::Default),
    ]
}

fn destination(d: &Dest) -> Destination {
    match d {
        Dest::Prefix(s) => Destination::Prefix(s.prefix()),
        Dest::Tag(t) => Destination::ServiceTag(TAGS[*t].to_owned()),
        Dest::Default => Destination::Prefix("0.0.0.0/0".parse().unwrap()),
    }
}

/// A case: each tag's prefixes, the unmanaged routes, the planned routes.
type Case = (Vec<Vec<Small>>, Vec<(Dest, u8)>, Vec<(Dest, bool)>);

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(proptest::collection::vec(small(), 0..4), TAGS.len()),
        proptest::collection::vec((dest(), any::<u8>()), 0..6),
        // A plan never holds a default route.
        proptest::collection::vec(
            (
                dest().prop_filter("no /0 in a plan", |d| !matches!(d, Dest::Default)),
                any::<bool>(),
            ),
            1..5,
        ),
    )
}

fn snapshot(tags: &[Vec<Small>]) -> Snapshot {
    let values: Vec<serde_json::Value> = TAGS
        .iter()
        .zip(tags)
        .map(|(name, prefixes)| {
            let mut texts: Vec<String> = prefixes.iter().map(|s| s.prefix().to_string()).collect();
            texts.sort();
            texts.dedup();
            serde_json::json!({"name": name, "id": name, "properties": {"changeNumber": 1, "region": "", "regionId": 0, "platform": "Azure", "systemService": "", "addressPrefixes": texts, "networkFeatures": ["UDR"]}})
        })
        .collect();
    let doc = serde_json::json!({"changeNumber": 1, "cloud": "Public", "values": values});
    crate::snapshot::parse("brute", doc.to_string().as_bytes()).unwrap()
}

/// Every route of the table after the change: (name, destination, next hop), unmanaged first.
fn table_routes(
    unmanaged: &[(Dest, u8)],
    planned: &[(Dest, bool)],
) -> (Vec<ExistingRoute>, Vec<Route>) {
    let existing = unmanaged
        .iter()
        .enumerate()
        .map(|(i, (d, h))| ExistingRoute {
            name: format!("u{i}"),
            destination: destination(d),
            next_hop: hop(*h),
        })
        .collect();
    let routes = planned
        .iter()
        .enumerate()
        .map(|(i, (d, exception))| Route {
            name: format!("tagroute-p{i}"),
            destination: destination(d),
            next_hop: if *exception {
                hop(1)
            } else {
                NextHop::Internet
            },
            tags: Vec::new(),
            expansion: None,
        })
        .collect();
    (existing, routes)
}

/// Whether `destination` holds `addr`, and with what prefix length.
fn holds(s: &Snapshot, destination: &Destination, addr: IpPrefix) -> Option<u8> {
    let contains = |p: IpPrefix| p.contains(addr).then_some(p.len());
    match destination {
        Destination::Prefix(p) => contains(*p),
        Destination::ServiceTag(t) => {
            let tag = s.tag(t).unwrap();
            let all = tag
                .ipv4
                .iter()
                .map(|&p| IpPrefix::V4(p))
                .chain(tag.ipv6.iter().map(|&p| IpPrefix::V6(p)));
            all.filter_map(contains).max()
        }
    }
}

/// The route (index into `routes`) that forwards `addr`: longest prefix, then kind, then name.
fn winner(
    s: &Snapshot,
    routes: &[(String, Destination, NextHop)],
    addr: IpPrefix,
    without: Option<usize>,
) -> Option<usize> {
    /// (prefix length, the rank reversed so that greater wins, route).
    type Best = (u8, std::cmp::Reverse<(Kind, String)>, usize);
    let mut best: Option<Best> = None;
    for (i, (name, d, _)) in routes.iter().enumerate() {
        if Some(i) == without {
            continue;
        }
        if let Some(len) = holds(s, d, addr) {
            let key = (
                len,
                std::cmp::Reverse((kind(d), name.to_ascii_lowercase())),
                i,
            );
            if best.as_ref().is_none_or(|b| (key.0, &key.1) > (b.0, &b.1)) {
                best = Some(key);
            }
        }
    }
    best.map(|b| b.2)
}

fn addresses() -> Vec<IpPrefix> {
    let v4 = (0..16u32).map(|i| IpPrefix::V4(Prefix::host(V4_BASE + i)));
    let v6 = (0..16u128).map(|i| IpPrefix::V6(Prefix::host(V6_BASE + i)));
    v4.chain(v6).collect()
}

fn plan_of(routes: Vec<Route>) -> Plan {
    Plan {
        cloud: crate::snapshot::Cloud::Public,
        change_number: 1,
        region: None,
        tags: Vec::new(),
        family: FamilyChoice::Both,
        strategy: PlanStrategy::Lpm,
        default_next_hop: None,
        summary: Summary {
            input_prefixes: 0,
            routes: routes.len(),
            exception_routes: 0,
            tag_routes: 0,
            max_routes: 1000,
            excluded_ipv6_prefixes: 0,
        },
        routes,
        slack: None,
        tag_routes: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn conflicts_and_redundancy_match_a_brute_force((tags, unmanaged, planned) in case()) {
        let s = snapshot(&tags);
        let (existing, routes) = table_routes(&unmanaged, &planned);
        let table = RouteTable { source: "t".into(), routes: existing.clone() };
        let plan = plan_of(routes.clone());
        let d = diff(&plan, &s, &table, "tagroute-", Limits::default()).unwrap();

        let all: Vec<(String, Destination, NextHop)> = existing
            .iter()
            .map(|r| (r.name.clone(), r.destination.clone(), r.next_hop.clone()))
            .chain(routes.iter().map(|r| (r.name.clone(), r.destination.clone(), r.next_hop.clone())))
            .collect();
        let plan_only: Vec<(String, Destination, NextHop)> = all[existing.len()..].to_vec();
        let hop_of = |w: Option<usize>| w.map(|i| all[i].2.clone());
        // Conflicts: per unmanaged route, per family.
        let mut want = std::collections::BTreeMap::<String, (u128, u128)>::new();
        for a in addresses() {
            let intent = winner(&s, &plan_only, a, None)
                .is_some_and(|i| plan_only[i].2 == NextHop::Internet);
            let Some(w) = winner(&s, &all, a, None) else { continue };
            if intent && w < existing.len() && all[w].2 != NextHop::Internet {
                let e = want.entry(all[w].0.clone()).or_default();
                match a { IpPrefix::V4(_) => e.0 += 1, IpPrefix::V6(_) => e.1 += 1 }
            }
        }
        let got: std::collections::BTreeMap<String, (u128, u128)> = d
            .conflicts
            .iter()
            .map(|c| (c.route.name.clone(), (c.ipv4_addresses, c.ipv6_addresses)))
            .collect();
        prop_assert_eq!(&got, &want);
        // Redundant: removing the route changes no address's next hop.
        let mut want_redundant: Vec<String> = Vec::new();
        for p in existing.len()..all.len() {
            let same = addresses().into_iter().all(|a| {
                hop_of(winner(&s, &all, a, None)) == hop_of(winner(&s, &all, a, Some(p)))
            });
            if same {
                want_redundant.push(all[p].0.clone());
            }
        }
        let mut got_redundant: Vec<String> = d.redundant.iter().map(|r| r.route.name.clone()).collect();
        want_redundant.sort();
        got_redundant.sort();
        prop_assert_eq!(got_redundant, want_redundant);
        // Whatever order the table lists its routes in.
        let mut reversed = table.clone();
        reversed.routes.reverse();
        let r = diff(&plan, &s, &reversed, "tagroute-", Limits::default()).unwrap();
        let got_reversed: std::collections::BTreeMap<String, (u128, u128)> = r
            .conflicts
            .iter()
            .map(|c| (c.route.name.clone(), (c.ipv4_addresses, c.ipv6_addresses)))
            .collect();
        prop_assert_eq!(got_reversed, want);
        prop_assert_eq!(r.redundant.len(), d.redundant.len());
    }
}
