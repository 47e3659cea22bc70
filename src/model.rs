//! The vocabulary of a route table, shared by what plans routes (`plan`), what reads tables
//! (`routes`), what compares them (`diff`) and what writes them (`emit`): a route, its
//! destination (an IP prefix or a service tag), its next hop, Azure's limits and naming rules.
//! No algorithms here.

use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

use crate::prefix::IpPrefix;

/// The most writes one apply makes unless `max_changes` says otherwise: a larger change is
/// refused before anything is written.
pub const DEFAULT_MAX_CHANGES: usize = 50;

/// Azure's limit of routes in one route table: 1,000 since May 2026 (Azure update 562695; the
/// subscription limits page lists 1,000 user-defined routes per route table), 400 before.
pub(crate) const AZURE_MAX_ROUTES: usize = 1000;
/// The `Microsoft.Network` API version every Resource Manager request and every template names:
/// the first stable one with `VirtualApplianceEcmp` routes.
pub(crate) const NETWORK_API_VERSION: &str = "2025-07-01";
/// Fewest and most appliances of a `VirtualApplianceEcmp` next hop (Az.Network's
/// `-NextHopIpAddress`: 2 to 64).
pub(crate) const ECMP_ADDRESSES: std::ops::RangeInclusive<usize> = 2..=64;
/// The name prefix that marks a route as tagroute's.
pub const DEFAULT_NAME_PREFIX: &str = "tagroute-";
/// Azure's limit on a route name's length.
pub(crate) const MAX_ROUTE_NAME_LEN: usize = 80;
/// Azure's limit of service-tag routes in one route table.
pub const AZURE_MAX_TAG_ROUTES: usize = 25;

/// How many routes a table may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Routes of every kind.
    pub routes: usize,
    /// Service-tag routes among them.
    pub tag_routes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            routes: AZURE_MAX_ROUTES,
            tag_routes: AZURE_MAX_TAG_ROUTES,
        }
    }
}

/// Where a route applies: an IP prefix, or a service tag (with the `UDR` network feature) that
/// Azure expands into the tag's current prefixes and keeps up to date by itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Destination {
    /// An explicit IP prefix.
    Prefix(IpPrefix),
    /// A service tag's name, as the route's address prefix.
    ServiceTag(String),
}

impl Destination {
    /// The IP prefix, for an explicit route.
    pub fn prefix(&self) -> Option<IpPrefix> {
        match self {
            Destination::Prefix(p) => Some(*p),
            Destination::ServiceTag(_) => None,
        }
    }

    /// The same destination: equal prefixes, or tag names equal but for ASCII case (Azure's tag
    /// names are case-insensitive).
    pub(crate) fn same_as(&self, other: &Destination) -> bool {
        match (self, other) {
            (Destination::ServiceTag(a), Destination::ServiceTag(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Prefix(p) => p.fmt(f),
            Destination::ServiceTag(t) => f.write_str(t),
        }
    }
}

/// What a service-tag route stands for in the file it was planned from. Azure expands the tag
/// itself, so these figures move with the weekly file while the route stays the same.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagExpansion {
    /// IPv4 prefixes of the tag.
    pub ipv4_prefixes: usize,
    /// IPv6 prefixes of the tag.
    pub ipv6_prefixes: usize,
    /// IPv4 addresses the route sends.
    pub ipv4_addresses: u128,
    /// IPv6 addresses the route sends (saturating at `u128::MAX`); in JSON a decimal string,
    /// since it can pass what JSON readers hold exactly.
    #[serde(serialize_with = "decimal")]
    pub ipv6_addresses: u128,
}

/// A count that may pass 2^64, as a decimal string.
/// [`decimal`] of a value that may be absent (skipped when absent).
pub(crate) fn decimal_opt<S: Serializer>(n: &Option<u128>, s: S) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => decimal(n, s),
        None => s.serialize_none(),
    }
}

pub(crate) fn decimal<S: Serializer>(n: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

/// Where a route sends its traffic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NextHop {
    Internet,
    VirtualAppliance(IpAddr),
    /// Equal-cost multipath over 2 to 64 appliances (API 2025-07-01: `nextHopType`
    /// `VirtualApplianceEcmp` with `nextHop.nextHopIpAddresses`). The addresses are a set: kept
    /// sorted, so two routes to the same appliances are equal whatever order they were listed in.
    VirtualApplianceEcmp(Vec<IpAddr>),
    VirtualNetworkGateway,
    VnetLocal,
    None,
}

impl NextHop {
    /// Azure's `nextHopType` value.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            NextHop::Internet => "Internet",
            NextHop::VirtualAppliance(_) => "VirtualAppliance",
            NextHop::VirtualApplianceEcmp(_) => "VirtualApplianceEcmp",
            NextHop::VirtualNetworkGateway => "VirtualNetworkGateway",
            NextHop::VnetLocal => "VnetLocal",
            NextHop::None => "None",
        }
    }

    /// Azure's `nextHopIpAddress` value.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            NextHop::VirtualAppliance(ip) => Some(*ip),
            _ => None,
        }
    }

    /// The appliances of an ECMP next hop (`nextHop.nextHopIpAddresses`).
    pub fn ecmp(&self) -> Option<&[IpAddr]> {
        match self {
            NextHop::VirtualApplianceEcmp(ips) => Some(ips),
            _ => None,
        }
    }

    /// Every address the hop sends to: one appliance, the ECMP set, or none.
    pub fn addresses(&self) -> &[IpAddr] {
        match self {
            NextHop::VirtualAppliance(ip) => std::slice::from_ref(ip),
            NextHop::VirtualApplianceEcmp(ips) => ips,
            _ => &[],
        }
    }

    /// An ECMP next hop over `texts`, checked: 2 to 64 distinct IP addresses of one family.
    pub(crate) fn ecmp_from(texts: &[&str]) -> Result<NextHop, String> {
        let mut ips = Vec::with_capacity(texts.len());
        for text in texts {
            let text = text.trim();
            let ip: IpAddr = text
                .parse()
                .map_err(|_| format!("{} is not an IP address", crate::text::quoted(text)))?;
            ips.push(ip);
        }
        if !ECMP_ADDRESSES.contains(&ips.len()) {
            return Err(format!(
                "next hop VirtualApplianceEcmp takes {} to {} addresses, got {}",
                ECMP_ADDRESSES.start(),
                ECMP_ADDRESSES.end(),
                ips.len()
            ));
        }
        if ips.iter().any(IpAddr::is_ipv4) && ips.iter().any(IpAddr::is_ipv6) {
            return Err(
                "the addresses of a VirtualApplianceEcmp next hop are of one family".into(),
            );
        }
        ips.sort();
        if let Some(w) = ips.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("{} is listed twice in the ECMP next hop", w[0]));
        }
        Ok(NextHop::VirtualApplianceEcmp(ips))
    }

    /// Builds a next hop from Azure's fields (`nextHopType`, `nextHopIpAddress`, and for ECMP
    /// `nextHop.nextHopIpAddresses`); `Err` says what is wrong.
    pub(crate) fn from_fields(
        kind: &str,
        ip: Option<&str>,
        ecmp: Option<&[&str]>,
    ) -> Result<NextHop, String> {
        let ip = ip.map(str::trim).filter(|s| !s.is_empty());
        let hop = match kind.to_ascii_lowercase().as_str() {
            "internet" => NextHop::Internet,
            "virtualappliance" => {
                let text = ip.ok_or("next hop VirtualAppliance needs nextHopIpAddress")?;
                let addr = text
                    .parse()
                    .map_err(|_| format!("{} is not an IP address", crate::text::quoted(text)))?;
                return match ecmp {
                    Some(_) => {
                        Err("next hop VirtualAppliance takes no nextHop.nextHopIpAddresses".into())
                    }
                    None => Ok(NextHop::VirtualAppliance(addr)),
                };
            }
            "virtualapplianceecmp" => {
                if let Some(text) = ip {
                    return Err(format!(
                        "next hop VirtualApplianceEcmp takes its addresses in \
                         nextHop.nextHopIpAddresses, not nextHopIpAddress {}",
                        crate::text::quoted(text)
                    ));
                }
                let texts =
                    ecmp.ok_or("next hop VirtualApplianceEcmp needs nextHop.nextHopIpAddresses")?;
                return NextHop::ecmp_from(texts);
            }
            "virtualnetworkgateway" => NextHop::VirtualNetworkGateway,
            "vnetlocal" => NextHop::VnetLocal,
            "none" => NextHop::None,
            _ => {
                return Err(format!(
                    "unknown next hop type {} (expected Internet, VirtualAppliance, \
                     VirtualApplianceEcmp, VirtualNetworkGateway, VnetLocal or None)",
                    crate::text::quoted(kind)
                ));
            }
        };
        if ecmp.is_some() {
            return Err(format!(
                "next hop {} takes no nextHop.nextHopIpAddresses",
                hop.type_name()
            ));
        }
        match ip {
            Some(text) => Err(format!(
                "next hop {} takes no IP address, got {}",
                hop.type_name(),
                crate::text::quoted(text)
            )),
            None => Ok(hop),
        }
    }
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::VirtualAppliance(ip) => write!(f, "VirtualAppliance {ip}"),
            NextHop::VirtualApplianceEcmp(ips) => {
                f.write_str("VirtualApplianceEcmp ")?;
                for (i, ip) in ips.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{ip}")?;
                }
                Ok(())
            }
            other => f.write_str(other.type_name()),
        }
    }
}

/// One user-defined route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The route's name in the table.
    pub name: String,
    /// Where it applies (Azure's `addressPrefix`).
    pub destination: Destination,
    /// Where it sends traffic.
    pub next_hop: NextHop,
    /// The selected tags whose addresses this route carries (empty for routes read from Azure).
    pub tags: Vec<String>,
    /// For a planned service-tag route, what the tag stands for today.
    pub expansion: Option<TagExpansion>,
}

impl Route {
    /// An explicit route to `prefix`.
    pub fn to_prefix(name: String, prefix: IpPrefix, next_hop: NextHop) -> Route {
        Route {
            name,
            destination: Destination::Prefix(prefix),
            next_hop,
            tags: Vec::new(),
            expansion: None,
        }
    }
}

/// A route's fields as Azure names them, shared by planned routes and routes read from a table.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RouteWire<'a> {
    name: &'a str,
    address_prefix: String,
    next_hop_type: &'static str,
    next_hop_ip_address: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_hop: Option<EcmpWire<'a>>,
}

/// Azure's `nextHop` object of an ECMP route.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EcmpWire<'a> {
    next_hop_ip_addresses: &'a [IpAddr],
}

impl<'a> EcmpWire<'a> {
    /// The `nextHop` object of `hop`, for an ECMP hop.
    pub(crate) fn of(hop: &'a NextHop) -> Option<Self> {
        hop.ecmp().map(|ips| EcmpWire {
            next_hop_ip_addresses: ips,
        })
    }
}

impl<'a> RouteWire<'a> {
    pub(crate) fn new(name: &'a str, destination: &Destination, hop: &'a NextHop) -> Self {
        RouteWire {
            name,
            address_prefix: destination.to_string(),
            next_hop_type: hop.type_name(),
            next_hop_ip_address: hop.ip(),
            next_hop: EcmpWire::of(hop),
        }
    }

    /// The route's `properties` as Resource Manager takes them in a PUT.
    pub(crate) fn properties(destination: &Destination, hop: &NextHop) -> serde_json::Value {
        let mut p = serde_json::json!({
            "addressPrefix": destination.to_string(),
            "nextHopType": hop.type_name(),
        });
        if let Some(ip) = hop.ip() {
            p["nextHopIpAddress"] = serde_json::json!(ip.to_string());
        }
        if let Some(ips) = hop.ecmp() {
            p["nextHop"] = serde_json::json!({ "nextHopIpAddresses": ips });
        }
        p
    }
}

impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            #[serde(flatten)]
            route: RouteWire<'a>,
            tags: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            service_tag: Option<&'a TagExpansion>,
        }
        Wire {
            route: RouteWire::new(&self.name, &self.destination, &self.next_hop),
            tags: &self.tags,
            service_tag: self.expansion.as_ref(),
        }
        .serialize(s)
    }
}

/// The route name for a destination: `<name-prefix><address>-<length>` with `:` written as `-`
/// for a prefix, `<name-prefix><TagName>` for a service tag.
pub(crate) fn route_name(name_prefix: &str, destination: &Destination) -> String {
    match destination {
        Destination::Prefix(prefix) => {
            let text = prefix.to_string().replace([':', '/'], "-");
            format!("{name_prefix}{text}")
        }
        Destination::ServiceTag(tag) => format!("{name_prefix}{tag}"),
    }
}

/// Checks a route name (and so a route table name) as Azure does: 1 to 80 ASCII letters,
/// digits, `_`, `.` and `-`, starting with a letter or digit and ending with one or `_`.
pub fn check_route_name(name: &str) -> Result<(), crate::text::NameError> {
    const WHAT: &str = "a route name";
    crate::text::check_length(name, WHAT, 1, MAX_ROUTE_NAME_LEN)?;
    crate::text::check_chars(name, WHAT, "letters, digits, '_', '.', '-'", |c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
    })?;
    crate::text::check_rule(
        name.starts_with(|c: char| c.is_ascii_alphanumeric()),
        WHAT,
        "starts with a letter or digit",
    )?;
    crate::text::check_rule(
        name.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'),
        WHAT,
        "ends with a letter, digit or '_'",
    )
}
