//! How much of a set of service tags a route table, as it is, sends to Internet: every route
//! expanded (a service-tag route to its tag's prefixes in the file) and forwarded as Azure does
//! ([`crate::forwarding`]), then the tags' addresses that another next hop wins counted, per
//! family. This is the estate-wide drift check: a table that misses none needs no change to
//! keep its compute reachable.

use crate::diff::{DiffError, expand};
use crate::forwarding::{Forwarding, Kind};
use crate::model::NextHop;
use crate::prefix::{Addr, IntervalSet, Prefix};
use crate::routes::RouteTable;
use crate::snapshot::{ServiceTag, Snapshot};

/// The name the system default route is forwarded under: sorts after any route name.
const SYSTEM: &str = "~system-default";

/// Addresses of the tags, and those the table does not send to Internet, per family.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub required_ipv4: u128,
    pub missing_ipv4: u128,
    pub required_ipv6: u128,
    pub missing_ipv6: u128,
}

/// The table's coverage of `tags`, forwarded as Azure forwards it: the table's routes, and under
/// them Azure's system default route (`0.0.0.0/0` and `::/0` to Internet), which any route of
/// the table beats on an equal prefix; a service-tag route to a tag the file lacks is an error.
/// BGP routes are not known here (see [`crate::discover`] for what that leaves open).
pub fn coverage(
    snapshot: &Snapshot,
    table: &RouteTable,
    tags: &[&ServiceTag],
) -> Result<Coverage, DiffError> {
    let routes: Vec<(&str, &crate::routes::Destination)> = table
        .routes
        .iter()
        .map(|r| (r.name.as_str(), &r.destination))
        .collect();
    let mut expanded = expand(snapshot, &table.source, &routes)?;
    let mut internet: Vec<bool> = table
        .routes
        .iter()
        .map(|r| r.next_hop == NextHop::Internet)
        .collect();
    // Azure's system default, ranked below every route of the table.
    expanded
        .v4
        .push((SYSTEM, Kind::AzureCloud, vec![Prefix::containing(0, 0)]));
    expanded
        .v6
        .push((SYSTEM, Kind::AzureCloud, vec![Prefix::containing(0, 0)]));
    internet.push(true);
    let v4_tags: Vec<Prefix<u32>> = tags.iter().flat_map(|t| t.ipv4.iter().copied()).collect();
    let v6_tags: Vec<Prefix<u128>> = tags.iter().flat_map(|t| t.ipv6.iter().copied()).collect();
    let (required_ipv4, missing_ipv4) = family(&expanded.v4, &internet, &v4_tags);
    let (required_ipv6, missing_ipv6) = family(&expanded.v6, &internet, &v6_tags);
    Ok(Coverage {
        required_ipv4,
        missing_ipv4,
        required_ipv6,
        missing_ipv6,
    })
}

/// (addresses required, of them not sent to Internet) in one family.
fn family<A: Addr>(
    routes: &[(&str, crate::forwarding::Kind, Vec<Prefix<A>>)],
    internet: &[bool],
    required: &[Prefix<A>],
) -> (u128, u128) {
    let required = IntervalSet::from_prefixes(required);
    let sent = IntervalSet::from_ranges(
        Forwarding::new(routes)
            .segments()
            .into_iter()
            .filter(|s| internet[s.2])
            .map(|s| (s.0, s.1))
            .collect(),
    );
    (required.count(), required.subtract(&sent).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &str, &str)]) -> RouteTable {
        let list: Vec<serde_json::Value> = routes
            .iter()
            .map(|(name, prefix, hop)| {
                let mut r =
                    serde_json::json!({"name": name, "addressPrefix": prefix, "nextHopType": hop});
                if *hop == "VirtualAppliance" {
                    r["nextHopIpAddress"] = "10.0.0.4".into();
                }
                r
            })
            .collect();
        crate::routes::parse_list("t", &list).unwrap()
    }

    #[test]
    fn counts_what_another_hop_wins() {
        let snap = crate::snapshot::parse(
            "s",
            br#"{"changeNumber":1,"cloud":"Public","values":[
              {"name":"A.X","id":"A.X","properties":{"changeNumber":1,"region":"x","regionId":1,"platform":"Azure","systemService":"A","addressPrefixes":["20.0.0.0/24","2001:db8::/126"],"networkFeatures":["UDR"]}}]}"#,
        )
        .unwrap();
        let tags: Vec<&ServiceTag> = snap.tags.iter().collect();
        // A /25 to Internet under a tunnel: the other half is missing; the /32 inside it that
        // goes to the appliance is missing too.
        let t = table(&[
            ("default", "0.0.0.0/0", "VirtualAppliance"),
            ("half", "20.0.0.0/25", "Internet"),
            ("hole", "20.0.0.7/32", "VirtualAppliance"),
        ]);
        let c = coverage(&snap, &t, &tags).unwrap();
        assert_eq!((c.required_ipv4, c.missing_ipv4), (256, 129));
        // No IPv6 route: Azure's system default sends the IPv6 addresses to Internet.
        assert_eq!((c.required_ipv6, c.missing_ipv6), (4, 0));
        // The tag as a route covers all of it; the hole still wins (longer prefix).
        let t = table(&[
            ("default", "0.0.0.0/0", "VirtualAppliance"),
            ("tag", "A.X", "Internet"),
            ("hole", "20.0.0.7/32", "VirtualAppliance"),
        ]);
        let c = coverage(&snap, &t, &tags).unwrap();
        assert_eq!((c.missing_ipv4, c.missing_ipv6), (1, 0));
        // No default route: Azure's own default sends the rest to Internet; a route elsewhere
        // still takes its addresses.
        let t = table(&[("x", "20.0.0.0/25", "VirtualAppliance")]);
        assert_eq!(coverage(&snap, &t, &tags).unwrap().missing_ipv4, 128);
    }
}
