//! The NSG security rules and Azure Firewall policy rules a requirement profile needs, built from
//! the profile's data for one region and checked against the cloud's service-tag file.
//!
//! Users wrote these by hand from web pages that change without notice; built from the same
//! data as the routes, they follow the documents the profiles cite. Field names are Azure's own
//! (`SecurityRulePropertiesFormat` of `Microsoft.Network/networkSecurityGroups/securityRules`,
//! and the `NetworkRule` and `ApplicationRule` of a firewall policy's rule collection group), so
//! the JSON reads as Resource Manager answers. Service tags are written as tags: NSG and firewall
//! rules take them, and Azure keeps them current.
//!
//! A firewall sees the subnet's outbound flows only (inbound traffic to compute with a public IP
//! reaches it directly, which is what its route to Internet is for), so the firewall rules are
//! the outbound needs. An FQDN over HTTPS is an application rule; any other protocol or port is
//! a network rule by FQDN, which Azure Firewall resolves through its DNS proxy.

use serde::Serialize;

use crate::profile::{self, Direction, Profile, Protocol};
use crate::select::Region;
use crate::snapshot::Snapshot;

/// Azure's lowest and highest NSG rule priority ("A number between 100 and 4096":
/// `articles/virtual-network/network-security-groups-overview.md`, *Security rules*,
/// MicrosoftDocs/azure-docs, ms.date 2025-07-15, commit 0088bfa); Azure's default rules come
/// after them, at 65000 to 65500 (see [`crate::nsg`]).
pub(crate) const NSG_PRIORITY_MIN: u32 = 100;
pub(crate) const NSG_PRIORITY_MAX: u32 = 4096;
/// Gap between the priorities of consecutive rules, so that a rule can be slipped in between.
pub const PRIORITY_STEP: u32 = 10;

/// Which rules to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RuleKind {
    /// NSG security rules and firewall policy rules.
    #[default]
    Both,
    Nsg,
    Firewall,
}

impl RuleKind {
    pub const ALL: [RuleKind; 3] = [RuleKind::Both, RuleKind::Nsg, RuleKind::Firewall];

    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Both => "both",
            RuleKind::Nsg => "nsg",
            RuleKind::Firewall => "firewall",
        }
    }
}

/// How the rules are laid out.
#[derive(Clone, Debug)]
pub struct RuleOptions {
    /// The subnet's address range: the source of outbound rules and destination of inbound
    /// ones; `None`: the `VirtualNetwork` tag (NSG) or any source (firewall).
    pub subnet: Option<crate::prefix::IpPrefix>,
    /// Priority of the first NSG rule; each next is [`PRIORITY_STEP`] higher.
    pub priority_start: u32,
    /// What every rule's name starts with.
    pub name_prefix: String,
    pub kind: RuleKind,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            subnet: None,
            priority_start: 200,
            name_prefix: "tagroute".into(),
            kind: RuleKind::Both,
        }
    }
}

/// `SecurityRulePropertiesFormat`, the part tagroute sets.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRuleProperties {
    pub description: String,
    /// `Tcp`, `Udp` or `*`.
    pub protocol: &'static str,
    pub source_port_range: &'static str,
    pub destination_port_ranges: Vec<String>,
    pub source_address_prefix: String,
    pub destination_address_prefix: String,
    pub access: &'static str,
    pub priority: u32,
    /// `Inbound` or `Outbound`.
    pub direction: &'static str,
}

/// An NSG security rule.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SecurityRule {
    pub name: String,
    pub properties: SecurityRuleProperties,
}

/// An application rule's protocol and port.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppProtocol {
    pub protocol_type: &'static str,
    pub port: u16,
}

/// A firewall policy rule.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "ruleType")]
pub enum FirewallRule {
    #[serde(rename_all = "camelCase")]
    NetworkRule {
        name: String,
        description: String,
        /// `TCP`, `UDP` or `Any`.
        ip_protocols: Vec<&'static str>,
        source_addresses: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        destination_addresses: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        destination_fqdns: Vec<String>,
        destination_ports: Vec<String>,
    },
    #[serde(rename_all = "camelCase")]
    ApplicationRule {
        name: String,
        description: String,
        protocols: Vec<AppProtocol>,
        target_fqdns: Vec<String>,
        source_addresses: Vec<String>,
    },
}

impl FirewallRule {
    pub fn name(&self) -> &str {
        match self {
            FirewallRule::NetworkRule { name, .. } | FirewallRule::ApplicationRule { name, .. } => {
                name
            }
        }
    }
}

/// A firewall policy's filter rule collection (`FirewallPolicyFilterRuleCollection`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RuleCollection {
    pub rule_collection_type: &'static str,
    pub name: String,
    pub priority: u32,
    pub action: Action,
    pub rules: Vec<FirewallRule>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// Every rule a profile needs for a region.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSet {
    pub profile: String,
    pub region: String,
    pub cloud: &'static str,
    pub change_number: u64,
    pub security_rules: Vec<SecurityRule>,
    /// The firewall policy's rule collections (network rules, then application rules).
    pub rule_collections: Vec<RuleCollection>,
    /// The documents the rules come from (`source: document, date`).
    pub sources: Vec<String>,
    /// What the user should know about the rules.
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// Why no rules were written.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error(
        "the {cloud} file (changeNumber {change_number}) has no service tag {}: a rule naming it \
         would be refused by Azure",
        .missing.join(", ")
    )]
    MissingTags {
        cloud: &'static str,
        change_number: u64,
        missing: Vec<String>,
    },
    #[error(
        "{count} NSG rules from priority {start} in steps of {PRIORITY_STEP} pass Azure's highest \
         priority, {NSG_PRIORITY_MAX}"
    )]
    Priorities { count: usize, start: u32 },
    #[error(
        "a rule name would be {}: rule names are 1 to 80 letters, digits, '_', '.' and '-'",
        crate::text::quoted(.0)
    )]
    BadName(String),
}

fn nsg_protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "Tcp",
        Protocol::Udp => "Udp",
        Protocol::Any => "*",
    }
}

fn firewall_protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Any => "Any",
    }
}

fn lower(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Any => "any",
    }
}

/// The file's name of a rule's tag for `region`: `Storage.{region}` is the region's `Storage.`
/// tag as the file spells it (`Storage.EastUS2`); a tag without a placeholder must be in the file
/// under that name.
pub(crate) fn tag_name(snapshot: &Snapshot, template: &str, region: &Region) -> Option<String> {
    match template.split_once('.') {
        Some((base, "{region}")) => snapshot
            .tags
            .iter()
            .find(|t| t.has_base(base) && region.holds(t))
            .map(|t| t.name.clone()),
        _ => snapshot
            .tags
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(template))
            .map(|t| t.name.clone()),
    }
}

/// A rule name Azure takes (checked like a route name: letters, digits, `_`, `.`, `-`).
fn rule_name(parts: &[&str]) -> Result<String, RulesError> {
    let name: String = parts
        .join("-")
        .chars()
        .map(|c| if c == '*' { 'x' } else { c })
        .collect();
    crate::model::check_route_name(&name).map_err(|_| RulesError::BadName(name.clone()))?;
    Ok(name)
}

/// The rules `profile` needs in `region` of `snapshot`'s cloud.
pub fn rules(
    profile: &Profile,
    snapshot: &Snapshot,
    region: &Region,
    opts: &RuleOptions,
) -> Result<RuleSet, RulesError> {
    let cloud = snapshot.cloud;
    let subnet = opts.subnet.map(|p| p.to_string());
    let mut missing = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    let mut cite = |id: &str| {
        let c = profile::cited(id);
        if !sources.contains(&c) {
            sources.push(c);
        }
    };
    let mut security_rules = Vec::new();
    let mut network = Vec::new();
    let mut application = Vec::new();
    let needs: Vec<_> = profile
        .rules
        .iter()
        .filter(|r| profile::in_cloud(&r.clouds, cloud))
        .collect();
    for need in &needs {
        let Some(tag) = tag_name(snapshot, &need.tag, region) else {
            missing.push(profile::for_region(&need.tag, &region.name));
            continue;
        };
        cite(&need.source);
        let ports = need.ports.join("-");
        let (dir, local_as) = match need.direction {
            Direction::Inbound => ("in", "Inbound"),
            Direction::Outbound => ("out", "Outbound"),
        };
        let name = rule_name(&[&opts.name_prefix, dir, &tag, lower(need.protocol), &ports])?;
        let local = subnet.clone().unwrap_or_else(|| "VirtualNetwork".into());
        let (source, destination) = match need.direction {
            Direction::Inbound => (tag.clone(), local),
            Direction::Outbound => (local, tag.clone()),
        };
        let description = format!("{} ({})", need.purpose, profile::cited(&need.source));
        if opts.kind != RuleKind::Firewall {
            let priority = opts.priority_start + PRIORITY_STEP * security_rules.len() as u32;
            security_rules.push(SecurityRule {
                name: name.clone(),
                properties: SecurityRuleProperties {
                    description: description.clone(),
                    protocol: nsg_protocol(need.protocol),
                    source_port_range: "*",
                    destination_port_ranges: need.ports.clone(),
                    source_address_prefix: source,
                    destination_address_prefix: destination,
                    access: "Allow",
                    priority,
                    direction: local_as,
                },
            });
        }
        if opts.kind != RuleKind::Nsg && need.direction == Direction::Outbound {
            network.push(FirewallRule::NetworkRule {
                name,
                description,
                ip_protocols: vec![firewall_protocol(need.protocol)],
                source_addresses: vec![subnet.clone().unwrap_or_else(|| "*".into())],
                destination_addresses: vec![tag],
                destination_fqdns: Vec::new(),
                destination_ports: need.ports.clone(),
            });
        }
    }
    if !missing.is_empty() {
        return Err(RulesError::MissingTags {
            cloud: cloud.as_str(),
            change_number: snapshot.change_number,
            missing,
        });
    }
    let last = security_rules.last().map(|r| r.properties.priority);
    if last.is_some_and(|p| p > NSG_PRIORITY_MAX) || opts.priority_start < NSG_PRIORITY_MIN {
        return Err(RulesError::Priorities {
            count: security_rules.len(),
            start: opts.priority_start,
        });
    }
    let mut notes = Vec::new();
    let fqdns: Vec<_> = profile
        .fqdns
        .iter()
        .filter(|f| profile::in_cloud(&f.clouds, cloud))
        .collect();
    if opts.kind != RuleKind::Nsg {
        let source = vec![subnet.clone().unwrap_or_else(|| "*".into())];
        for f in &fqdns {
            cite(&f.source);
            let fqdn = profile::for_region(&f.fqdn, &region.name);
            let description = format!("{} ({})", fqdn, profile::cited(&f.source));
            let ports = f.ports.join("-");
            let https_ports: Option<Vec<u16>> = match f.protocol {
                Protocol::Udp => None,
                _ => f.ports.iter().map(|p| p.parse().ok()).collect(),
            };
            match https_ports {
                Some(ports_list) => {
                    if f.protocol == Protocol::Any {
                        notes.push(format!(
                            "{fqdn}: the document allows any protocol on {}; an application rule \
                             carries HTTPS (TCP) only",
                            f.ports.join(", ")
                        ));
                    }
                    application.push(FirewallRule::ApplicationRule {
                        name: rule_name(&[&opts.name_prefix, "fqdn", &fqdn, &ports])?,
                        description,
                        protocols: ports_list
                            .into_iter()
                            .map(|port| AppProtocol {
                                protocol_type: "Https",
                                port,
                            })
                            .collect(),
                        target_fqdns: vec![fqdn],
                        source_addresses: source.clone(),
                    })
                }
                None => {
                    notes.push(format!(
                        "{fqdn} ({} {}) is a network rule by FQDN: it needs the firewall's DNS \
                         proxy",
                        firewall_protocol(f.protocol),
                        f.ports.join(", ")
                    ));
                    network.push(FirewallRule::NetworkRule {
                        name: rule_name(&[
                            &opts.name_prefix,
                            "fqdn",
                            &fqdn,
                            lower(f.protocol),
                            &ports,
                        ])?,
                        description,
                        ip_protocols: vec![firewall_protocol(f.protocol)],
                        source_addresses: source.clone(),
                        destination_addresses: Vec::new(),
                        destination_fqdns: vec![fqdn],
                        destination_ports: f.ports.clone(),
                    })
                }
            }
        }
    }
    let skipped_fqdns = profile.fqdns.len() - fqdns.len();
    if skipped_fqdns > 0 && opts.kind != RuleKind::Nsg {
        notes.push(format!(
            "{} of the documents are the public cloud's host names; find the {} cloud's own \
             names for them in its documentation",
            crate::text::plural(skipped_fqdns, "FQDN rule"),
            cloud
        ));
    }
    let mut rule_collections = Vec::new();
    for (kind, rules) in [("network", network), ("application", application)] {
        if rules.is_empty() {
            continue;
        }
        rule_collections.push(RuleCollection {
            rule_collection_type: "FirewallPolicyFilterRuleCollection",
            name: format!("{}-{}-{kind}", opts.name_prefix, profile.name),
            priority: 100 * (rule_collections.len() as u32 + 1),
            action: Action { kind: "Allow" },
            rules,
        });
    }
    if needs.is_empty() && fqdns.is_empty() {
        notes.push(format!("the {} profile needs no rules", profile.name));
    }
    Ok(RuleSet {
        profile: profile.name.clone(),
        region: region.name.clone(),
        cloud: cloud.as_str(),
        change_number: snapshot.change_number,
        security_rules,
        rule_collections,
        sources,
        notes,
    })
}
