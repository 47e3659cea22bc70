//! What a check reads, in the shapes the Azure CLI prints and Resource Manager answers: an
//! NSG's rules, a route table's BGP propagation, a subnet, a NIC's effective routes. Every file
//! is outside input: a field of the wrong shape refuses the file, naming it.

use serde_json::Value;

use super::{EffectiveRoute, Subnet};
use crate::model::NextHop;
use crate::nsg::{self, Proto, Rule, Side, Way};
use crate::prefix::{IntervalSet, Prefix};
use crate::snapshot::Snapshot;

/// Why an input file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{source_name}: {message}")]
    Bad {
        source_name: String,
        message: String,
    },
}

fn bad(source: &str, message: impl Into<String>) -> InputError {
    InputError::Bad {
        source_name: source.to_owned(),
        message: message.into(),
    }
}

/// A field of a resource as the Azure CLI prints it (flat) or as Resource Manager answers
/// (under `properties`).
pub(super) fn field<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key).filter(|x| !x.is_null()).or_else(|| {
        v.get("properties")
            .and_then(|p| p.get(key))
            .filter(|x| !x.is_null())
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// An input read as JSON once, strictly and within the reader's bounds: what every parser
/// here takes.
pub fn read_json(source: &str, bytes: &[u8]) -> Result<Value, InputError> {
    crate::json::parse(bytes).map_err(|e| bad(source, e.to_string()))
}

/// An address field of an NSG rule: `*`, a CIDR, `VirtualNetwork`, `Internet`,
/// `AzureLoadBalancer` or a service tag (its IPv4 prefixes from the file).
fn side(snapshot: &Snapshot, text: &str) -> Side {
    match text.to_ascii_lowercase().as_str() {
        "*" | "any" | "0.0.0.0/0" => Side::Any,
        "virtualnetwork" => Side::VirtualNetwork,
        "internet" => Side::Internet,
        "azureloadbalancer" => Side::AzureLoadBalancer,
        _ => {
            if let Ok(p) = text.parse::<Prefix<u32>>() {
                return Side::Addresses(IntervalSet::from_prefixes(&[p]));
            }
            if let Ok(a) = text.parse::<std::net::Ipv4Addr>() {
                return Side::Addresses(IntervalSet::from_prefixes(&[Prefix::host(u32::from(a))]));
            }
            match snapshot
                .tags
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(text))
            {
                Some(t) => Side::Addresses(IntervalSet::from_prefixes(&t.ipv4)),
                None => Side::Unknown(text.to_owned()),
            }
        }
    }
}

/// An NSG (`az network nsg show -o json`, or Resource Manager's answer): its own rules.
pub fn parse_nsg(source: &str, doc: &Value, snapshot: &Snapshot) -> Result<Vec<Rule>, InputError> {
    let list = field(doc, "securityRules")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(source, "not a network security group (no securityRules)"))?;
    parse_rules(source, list, snapshot)
}

/// A NIC's effective security groups (`az network nic list-effective-nsg -o json`, or the
/// answer of `POST …/effectiveNetworkSecurityGroups`): each NSG associated with the NIC or its
/// subnet, named by its id, with its effective rules (Azure's defaults included). A rule's
/// service tag is taken as Azure expanded it (`expandedSourceAddressPrefix`,
/// `expandedDestinationAddressPrefix`). Shape: `EffectiveNetworkSecurityGroupListResult` of the
/// REST specification (`networkInterface.json`, API 2025-07-01).
pub fn parse_effective_nsgs(
    source: &str,
    doc: &Value,
    snapshot: &Snapshot,
) -> Result<Vec<super::Nsg>, InputError> {
    let list = doc
        .get("value")
        .and_then(Value::as_array)
        .or_else(|| doc.as_array())
        .ok_or_else(|| bad(source, "not a list of effective security groups (no value)"))?;
    let mut out = Vec::new();
    for group in list {
        let id = group
            .get("networkSecurityGroup")
            .and_then(|g| g.get("id"))
            .and_then(Value::as_str);
        let (name, resource_group) = nsg_place(id);
        let shown = name.clone().unwrap_or_else(|| "(unnamed)".to_owned());
        let rules = group
            .get("effectiveSecurityRules")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(source, format!("NSG {shown}: no effectiveSecurityRules")))?;
        out.push(super::Nsg {
            shown,
            name,
            resource_group,
            rules: parse_rules(source, rules, snapshot)?,
        });
    }
    Ok(out)
}

/// An NSG's name and resource group from its id as an answer wrote it, when it is a network
/// security group's id ([`crate::id::NetworkId`]: each part checked as Azure names them).
pub(crate) fn nsg_place(id: Option<&str>) -> (Option<String>, Option<String>) {
    use crate::id::{NetworkId, NetworkKind};
    match id.map(|t| NetworkId::parse_as(t, NetworkKind::NetworkSecurityGroup)) {
        Some(Ok(id)) => (Some(id.name), Some(id.resource_group)),
        _ => (None, None),
    }
}

/// Security rules, as an NSG holds them or as effective rules list them.
fn parse_rules(source: &str, list: &[Value], snapshot: &Snapshot) -> Result<Vec<Rule>, InputError> {
    let mut rules = Vec::new();
    for r in list {
        let name = r
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)")
            .to_owned();
        let say = |what: &str| {
            bad(
                source,
                format!("rule {}: {what}", crate::text::quoted(&name)),
            )
        };
        let priority = field(r, "priority")
            .and_then(Value::as_u64)
            .ok_or_else(|| say("no priority"))? as u32;
        let way = match field(r, "direction").and_then(Value::as_str) {
            Some(d) if d.eq_ignore_ascii_case("Inbound") => Way::Inbound,
            Some(d) if d.eq_ignore_ascii_case("Outbound") => Way::Outbound,
            _ => return Err(say("no direction")),
        };
        let access = match field(r, "access").and_then(Value::as_str) {
            Some(a) if a.eq_ignore_ascii_case("Allow") => nsg::Access::Allow,
            Some(a) if a.eq_ignore_ascii_case("Deny") => nsg::Access::Deny,
            _ => return Err(say("no access")),
        };
        let protocol = field(r, "protocol")
            .and_then(Value::as_str)
            .and_then(Proto::parse)
            .ok_or_else(|| say("no protocol"))?;
        let sides = |one: &str, many: &str, expanded: &str| -> Vec<Side> {
            let mut all = strings(field(r, one));
            all.extend(strings(field(r, many)));
            let expanded: Vec<Prefix<u32>> = strings(field(r, expanded))
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect();
            all.iter()
                .map(|t| match side(snapshot, t) {
                    // Azure's own expansion of a tag wins over the file's.
                    Side::Addresses(_) | Side::Unknown(_) if !expanded.is_empty() => {
                        Side::Addresses(IntervalSet::from_prefixes(&expanded))
                    }
                    s => s,
                })
                .collect()
        };
        let port_list = |one: &str, many: &str| -> Result<Vec<nsg::Ports>, InputError> {
            let mut all = strings(field(r, one));
            all.extend(strings(field(r, many)));
            all.iter()
                .map(|p| {
                    nsg::parse_ports(p)
                        .ok_or_else(|| say(&format!("port {}", crate::text::quoted(p))))
                })
                .collect()
        };
        let source_ports = port_list("sourcePortRange", "sourcePortRanges")?;
        let destination_ports = port_list("destinationPortRange", "destinationPortRanges")?;
        rules.push(Rule {
            name: name.clone(),
            priority,
            way,
            access,
            protocol,
            source: sides(
                "sourceAddressPrefix",
                "sourceAddressPrefixes",
                "expandedSourceAddressPrefix",
            ),
            source_ports,
            destination: sides(
                "destinationAddressPrefix",
                "destinationAddressPrefixes",
                "expandedDestinationAddressPrefix",
            ),
            destination_ports,
        });
    }
    Ok(rules)
}

/// A route table's `disableBgpRoutePropagation`, flat or under `properties`.
pub fn disable_bgp(doc: &Value) -> Option<bool> {
    field(doc, "disableBgpRoutePropagation").and_then(Value::as_bool)
}

/// A subnet (`az network vnet subnet show -o json`, or Resource Manager's answer).
pub fn parse_subnet(source: &str, doc: &Value) -> Result<Subnet, InputError> {
    let mut prefixes = strings(field(doc, "addressPrefix"));
    prefixes.extend(strings(field(doc, "addressPrefixes")));
    let prefix = prefixes.iter().find_map(|p| p.parse::<Prefix<u32>>().ok());
    if prefix.is_none() {
        return Err(bad(source, "not a subnet (no IPv4 addressPrefix)"));
    }
    Ok(Subnet {
        prefix,
        nat_gateway: Some(field(doc, "natGateway").is_some()),
        default_outbound_access: field(doc, "defaultOutboundAccess").and_then(Value::as_bool),
        has_nsg: Some(field(doc, "networkSecurityGroup").is_some()),
    })
}

/// A NIC's effective routes (`az network nic show-effective-route-table -o json`): the active
/// IPv4 ones.
pub fn parse_effective(source: &str, doc: &Value) -> Result<Vec<EffectiveRoute>, InputError> {
    let list = doc
        .get("value")
        .and_then(Value::as_array)
        .or_else(|| doc.as_array())
        .ok_or_else(|| bad(source, "not an effective route table (no value list)"))?;
    let mut out = Vec::new();
    for r in list {
        let active = r
            .get("state")
            .and_then(Value::as_str)
            .is_none_or(|s| s.eq_ignore_ascii_case("Active"));
        if !active {
            continue;
        }
        let kind = r
            .get("nextHopType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ips = strings(r.get("nextHopIpAddress"));
        let ip = ips.first().map(String::as_str);
        let list: Vec<&str> = ips.iter().map(String::as_str).collect();
        // Azure names addresses beside gateway hops too (the gateway's); only an appliance's
        // address is part of the hop.
        let appliance = kind.eq_ignore_ascii_case("VirtualAppliance");
        let hop = if kind.eq_ignore_ascii_case("VirtualNetworkServiceEndpoint") {
            NextHop::Internet
        } else if appliance && ips.len() > 1 {
            NextHop::from_fields("VirtualApplianceEcmp", None, Some(&list))
                .map_err(|e| bad(source, e))?
        } else {
            let ip = if appliance { ip } else { None };
            NextHop::from_fields(kind, ip, None).map_err(|e| bad(source, e))?
        };
        let source_kind = r
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("User")
            .to_owned();
        for p in strings(r.get("addressPrefix")) {
            if let Ok(prefix) = p.parse::<Prefix<u32>>() {
                out.push(EffectiveRoute {
                    prefix,
                    hop: hop.clone(),
                    source: source_kind.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// A virtual network (`az network vnet show -o json`, or Resource Manager's answer): its
/// address space, and whether a gateway can bring BGP routes to its subnets.
///
/// BGP routes reach a subnet from a virtual network gateway (VPN or ExpressRoute) in the
/// network's `GatewaySubnet`, from Azure Route Server in its `RouteServerSubnet`, or from a
/// peered network's gateway through a peering with `useRemoteGateways` (Microsoft Learn,
/// "Virtual network traffic routing", `articles/virtual-network/virtual-networks-udr-overview.md`,
/// section "Border gateway protocol", ms.date 2023-05-27, MicrosoftDocs/azure-docs 0239a4e). Shapes: the REST specification's `VirtualNetworkGet.json`
/// and `VirtualNetworkPeeringGet.json`, API 2025-07-01 (azure-rest-api-specs commit 9b1ee1c).
pub fn parse_vnet(source: &str, doc: &Value) -> Result<Vnet, InputError> {
    let space = field(doc, "addressSpace")
        .ok_or_else(|| bad(source, "not a virtual network (no addressSpace)"))?;
    let prefixes = strings(space.get("addressPrefixes"))
        .iter()
        .filter_map(|p| p.parse::<Prefix<u32>>().ok())
        .collect();
    let empty = Vec::new();
    let list = |key| field(doc, key).and_then(Value::as_array).unwrap_or(&empty);
    let mut gateways = Vec::new();
    for s in list("subnets") {
        let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
        let in_use = field(s, "ipConfigurations")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        if in_use
            && ["GatewaySubnet", "RouteServerSubnet"]
                .iter()
                .any(|g| g.eq_ignore_ascii_case(name))
        {
            gateways.push(crate::text::for_terminal(name).into_owned());
        }
    }
    for p in list("virtualNetworkPeerings") {
        if field(p, "useRemoteGateways").and_then(Value::as_bool) == Some(true) {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("a peering");
            gateways.push(format!(
                "peering {} (useRemoteGateways)",
                crate::text::for_terminal(name)
            ));
        }
    }
    // Its region, which a subnet's check is judged in unless one is given.
    let location = doc
        .get("location")
        .and_then(Value::as_str)
        .filter(|l| crate::text::check_label(l).is_ok())
        .map(str::to_owned);
    Ok(Vnet {
        prefixes,
        gateways,
        location,
    })
}

/// What a virtual network tells a check.
#[derive(Clone, Debug, Default)]
pub struct Vnet {
    /// Its IPv4 address space.
    pub prefixes: Vec<Prefix<u32>>,
    /// What can bring BGP routes to its subnets: `GatewaySubnet`, `RouteServerSubnet`, or
    /// `peering P (useRemoteGateways)`; empty when nothing can.
    pub gateways: Vec<String>,
    /// Its region (`location`), when the answer names a well-formed one.
    pub location: Option<String>,
}

/// The files a check is given, each in the shape the Azure CLI prints it.
#[derive(Clone, Debug, Default)]
pub struct Files {
    /// The subnet's route table (`az network route-table show`).
    pub route_table: Option<std::path::PathBuf>,
    /// The subnet's NSG (`az network nsg show`).
    pub nsg: Option<std::path::PathBuf>,
    /// A NIC's effective security groups (`az network nic list-effective-nsg`).
    pub effective_nsgs: Option<std::path::PathBuf>,
    /// A NIC's effective routes (`az network nic show-effective-route-table`).
    pub effective_routes: Option<std::path::PathBuf>,
    /// The subnet (`az network vnet subnet show`).
    pub subnet: Option<std::path::PathBuf>,
    /// The virtual network (`az network vnet show`).
    pub vnet: Option<std::path::PathBuf>,
}

/// Largest input file read.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Why the files of a check cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{path}")]
    Read {
        path: String,
        #[source]
        err: std::io::Error,
    },
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Routes(#[from] crate::routes::RoutesError),
}

impl Files {
    /// Reads every file given, each within [`MAX_INPUT_BYTES`], as the resources of one subnet
    /// (service tags in NSG rules from `snapshot`).
    pub fn read(&self, snapshot: &Snapshot) -> Result<super::Resources, FilesError> {
        let bytes = |p: &std::path::Path| {
            crate::fsutil::read_bounded(p, MAX_INPUT_BYTES, false).map_err(|err| FilesError::Read {
                path: p.display().to_string(),
                err,
            })
        };
        let json = |p: &std::path::Path| -> Result<(String, Value), FilesError> {
            let shown = p.display().to_string();
            let doc = read_json(&shown, &bytes(p)?)?;
            Ok((shown, doc))
        };
        let mut read = super::Resources::default();
        if let Some(p) = &self.route_table {
            let shown = p.display().to_string();
            let doc = crate::routes::read_json(&shown, &bytes(p)?)?;
            read.table = Some((crate::routes::from_value(&shown, &doc)?, disable_bgp(&doc)));
        }
        if let Some(p) = &self.nsg {
            let (shown, doc) = json(p)?;
            let rules = parse_nsg(&shown, &doc, snapshot)?;
            // `az network nsg show` writes its id; a file without one is named by its path.
            let (name, resource_group) = nsg_place(doc.get("id").and_then(Value::as_str));
            read.nsgs = Some(vec![super::Nsg {
                shown: name.clone().unwrap_or(shown),
                name,
                resource_group,
                rules,
            }]);
        }
        if let Some(p) = &self.effective_nsgs {
            let (shown, doc) = json(p)?;
            read.nsgs = Some(parse_effective_nsgs(&shown, &doc, snapshot)?);
        }
        if let Some(p) = &self.effective_routes {
            let (shown, doc) = json(p)?;
            read.effective = Some(parse_effective(&shown, &doc)?);
        }
        if let Some(p) = &self.subnet {
            let (shown, doc) = json(p)?;
            read.subnet = parse_subnet(&shown, &doc)?;
        }
        if let Some(p) = &self.vnet {
            let (shown, doc) = json(p)?;
            read.vnet = Some(parse_vnet(&shown, &doc)?);
        }
        Ok(read)
    }
}
