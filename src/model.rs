//! The vocabulary of a route table, shared by what plans routes (`plan`), what reads tables
//! (`routes`), what compares them (`diff`) and what writes them (`emit`): a route, its next
//! hop, Azure's limits and naming rules. No algorithms here.

use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

use crate::prefix::IpPrefix;

/// Azure's limit of routes in one route table.
pub const AZURE_MAX_ROUTES: usize = 400;
/// The name prefix that marks a route as tagroute's.
pub const DEFAULT_NAME_PREFIX: &str = "tagroute-";
/// Azure's limit on a route name's length.
pub const MAX_ROUTE_NAME_LEN: usize = 80;

/// Where a route sends its traffic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NextHop {
    Internet,
    VirtualAppliance(IpAddr),
    VirtualNetworkGateway,
    VnetLocal,
    None,
}

impl NextHop {
    /// Azure's `nextHopType` value.
    pub fn type_name(&self) -> &'static str {
        match self {
            NextHop::Internet => "Internet",
            NextHop::VirtualAppliance(_) => "VirtualAppliance",
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

    /// Builds a next hop from Azure's two fields; `Err` says what is wrong.
    pub fn from_fields(kind: &str, ip: Option<&str>) -> Result<NextHop, String> {
        let ip = ip.map(str::trim).filter(|s| !s.is_empty());
        let hop = match kind.to_ascii_lowercase().as_str() {
            "internet" => NextHop::Internet,
            "virtualappliance" => {
                let text = ip.ok_or("next hop VirtualAppliance needs nextHopIpAddress")?;
                let addr = text
                    .parse()
                    .map_err(|_| format!("{} is not an IP address", crate::text::quoted(text)))?;
                return Ok(NextHop::VirtualAppliance(addr));
            }
            "virtualnetworkgateway" => NextHop::VirtualNetworkGateway,
            "vnetlocal" => NextHop::VnetLocal,
            "none" => NextHop::None,
            _ => {
                return Err(format!(
                    "unknown next hop type {} (expected Internet, VirtualAppliance, \
                     VirtualNetworkGateway, VnetLocal or None)",
                    crate::text::quoted(kind)
                ));
            }
        };
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
            other => f.write_str(other.type_name()),
        }
    }
}

/// One user-defined route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub name: String,
    pub prefix: IpPrefix,
    pub next_hop: NextHop,
    /// The selected tags whose addresses this route carries (empty for routes read from Azure).
    pub tags: Vec<String>,
}

impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            name: &'a str,
            address_prefix: IpPrefix,
            next_hop_type: &'static str,
            next_hop_ip_address: Option<IpAddr>,
            tags: &'a [String],
        }
        Wire {
            name: &self.name,
            address_prefix: self.prefix,
            next_hop_type: self.next_hop.type_name(),
            next_hop_ip_address: self.next_hop.ip(),
            tags: &self.tags,
        }
        .serialize(s)
    }
}

/// The route name for a prefix: `<name-prefix><address>-<length>`, `:` written as `-`.
pub fn route_name(name_prefix: &str, prefix: IpPrefix) -> String {
    let text = prefix.to_string().replace([':', '/'], "-");
    format!("{name_prefix}{text}")
}

/// Checks Azure's rules for a route name: 1–80 characters of letters, digits, `_`, `.`, `-`,
/// starting with a letter or digit and ending with a letter, digit or `_`.
pub fn check_route_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_ROUTE_NAME_LEN {
        return Err(format!(
            "a route name has 1 to {MAX_ROUTE_NAME_LEN} characters, {} has {}",
            crate::text::quoted(name),
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "{} is not allowed (letters, digits, '_', '.', '-' only)",
            crate::text::quoted(c.encode_utf8(&mut [0; 4]))
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("a route name starts with a letter or digit".to_owned());
    }
    if !name.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err("a route name ends with a letter, digit or '_'".to_owned());
    }
    Ok(())
}
