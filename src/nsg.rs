//! Network security group judgement: which of a flow's remote addresses an NSG lets through,
//! rules by priority and Azure's default rules last, the first rule that matches deciding.
//!
//! A flow is one direction, one protocol, one destination port, the subnet on the local side and
//! a set of remote addresses (a service tag's): each remote address is decided by the first rule
//! (lowest priority number) whose direction, protocol, destination ports, source ports and both
//! address sides match it. Azure's own documents give the rules' meaning and the defaults
//! (`articles/virtual-network/network-security-groups-overview.md` in MicrosoftDocs/azure-docs,
//! ms.date 2025-07-15, commit 0088bfa77543e07f8a41771de8db977ddfc62e1d): `*` is every address,
//! `VirtualNetwork`, `AzureLoadBalancer` and `Internet` are service tags, *Any* protocol is TCP,
//! UDP and ICMP, and the defaults are AllowVnetInBound (65000), AllowAzureLoadBalancerInBound
//! (65001), DenyAllInBound (65500), AllowVnetOutBound (65000), AllowInternetOutBound (65001) and
//! DenyAllOutBound (65500).
//!
//! What cannot be known from the rules alone is a parameter, not a guess: the virtual network's
//! address space (what `VirtualNetwork` holds), the tags' addresses (from the service-tag file).
//! A rule's local side must hold the whole subnet to decide its flows; one that holds part of it
//! decides for part of the subnet's machines only, and is reported, not applied.

use serde::Serialize;

use crate::prefix::{IntervalSet, Prefix};

/// Whether a rule lets traffic through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Access {
    Allow,
    Deny,
}

/// A rule's protocol, as Azure names them (`*` is [`Proto::Any`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Ah,
    Any,
}

impl Proto {
    /// Reads Azure's `protocol` value, without letter case.
    pub fn parse(text: &str) -> Option<Proto> {
        Some(match text.to_ascii_lowercase().as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "icmp" => Proto::Icmp,
            "esp" => Proto::Esp,
            "ah" => Proto::Ah,
            // `All` is how effective security rules name it.
            "*" | "any" | "all" => Proto::Any,
            _ => return None,
        })
    }

    /// Whether a rule of this protocol matches a flow of `flow`'s.
    fn matches(self, flow: Proto) -> bool {
        match self {
            Proto::Any => matches!(flow, Proto::Tcp | Proto::Udp | Proto::Icmp),
            p => p == flow,
        }
    }
}

/// A flow's direction, seen from the subnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Way {
    Inbound,
    Outbound,
}

/// One side of a rule, as written: addresses, or one of Azure's tags whose addresses depend on
/// the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// `*`, `Any`, `0.0.0.0/0`.
    Any,
    /// `VirtualNetwork`: the virtual network's address space, peered and on-premises spaces.
    VirtualNetwork,
    /// `Internet`: the public address space, outside the virtual network.
    Internet,
    /// `AzureLoadBalancer`: the host's virtual IP.
    AzureLoadBalancer,
    /// Explicit prefixes, or a service tag's prefixes from the file.
    Addresses(IntervalSet<u32>),
    /// A service tag the file does not hold: matches nothing that can be shown.
    Unknown(String),
}

/// One port range, inclusive.
pub type Ports = (u16, u16);

/// Reads an NSG port field (`*`, `443`, `29876-29877`).
pub(crate) fn parse_ports(text: &str) -> Option<Ports> {
    let text = text.trim();
    if text == "*" {
        return Some((0, 65535));
    }
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => text.parse().ok().map(|p| (p, p)),
    }
}

/// A security rule, its sides as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub priority: u32,
    pub way: Way,
    pub access: Access,
    pub protocol: Proto,
    pub source: Vec<Side>,
    pub source_ports: Vec<Ports>,
    pub destination: Vec<Side>,
    pub destination_ports: Vec<Ports>,
}

impl Rule {
    fn new(name: &str, priority: u32, way: Way, access: Access, src: Side, dst: Side) -> Rule {
        Rule {
            name: name.into(),
            priority,
            way,
            access,
            protocol: Proto::Any,
            source: vec![src],
            source_ports: vec![(0, 65535)],
            destination: vec![dst],
            destination_ports: vec![(0, 65535)],
        }
    }
}

/// Azure's default rules, after every rule of the group.
pub(crate) fn default_rules() -> Vec<Rule> {
    use Access::*;
    use Side::*;
    use Way::*;
    vec![
        Rule::new(
            "AllowVnetInBound",
            65000,
            Inbound,
            Allow,
            VirtualNetwork,
            VirtualNetwork,
        ),
        Rule::new(
            "AllowAzureLoadBalancerInBound",
            65001,
            Inbound,
            Allow,
            AzureLoadBalancer,
            Any,
        ),
        Rule::new("DenyAllInBound", 65500, Inbound, Deny, Any, Any),
        Rule::new(
            "AllowVnetOutBound",
            65000,
            Outbound,
            Allow,
            VirtualNetwork,
            VirtualNetwork,
        ),
        Rule::new(
            "AllowInternetOutBound",
            65001,
            Outbound,
            Allow,
            Any,
            Internet,
        ),
        Rule::new("DenyAllOutBound", 65500, Outbound, Deny, Any, Any),
    ]
}

/// What the judgement needs to know of the network.
#[derive(Clone, Debug)]
pub struct Network {
    /// The subnet's address range: the flow's local side.
    pub subnet: IntervalSet<u32>,
    /// What `VirtualNetwork` holds (the virtual network's, peered and on-premises spaces).
    pub virtual_network: IntervalSet<u32>,
}

/// IPv4's private and special ranges, which `Internet` does not hold (RFC 1918, shared space,
/// loopback, link-local, multicast and reserved), as an interval set.
pub(crate) fn not_internet() -> IntervalSet<u32> {
    let prefixes: Vec<Prefix<u32>> = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    ]
    .iter()
    .map(|p| p.parse().expect("a prefix"))
    .collect();
    IntervalSet::from_prefixes(&prefixes)
}

fn everything() -> IntervalSet<u32> {
    IntervalSet::from_ranges(vec![(0, u32::MAX)])
}

/// The addresses a side holds in `net`.
fn addresses(side: &Side, net: &Network) -> IntervalSet<u32> {
    match side {
        Side::Any => everything(),
        Side::VirtualNetwork => net.virtual_network.clone(),
        Side::Internet => everything()
            .subtract(&not_internet())
            .subtract(&net.virtual_network),
        Side::AzureLoadBalancer => {
            let host: Prefix<u32> = "168.63.129.16/32".parse().expect("a prefix");
            IntervalSet::from_prefixes(&[host])
        }
        Side::Addresses(set) => set.clone(),
        Side::Unknown(_) => IntervalSet::new(),
    }
}

fn union(sides: &[Side], net: &Network) -> IntervalSet<u32> {
    sides
        .iter()
        .fold(IntervalSet::new(), |acc, s| acc.union(&addresses(s, net)))
}

/// A flow to judge.
#[derive(Clone, Debug)]
pub struct Flow {
    pub way: Way,
    pub protocol: Proto,
    /// The destination port.
    pub port: u16,
    /// The remote addresses: sources of an inbound flow, destinations of an outbound one.
    pub remote: IntervalSet<u32>,
}

/// A rule that decided some of a flow's addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub rule: String,
    pub priority: u32,
    pub access: Access,
    /// Remote addresses it decided.
    pub addresses: u128,
}

/// What an NSG does to a flow.
#[derive(Clone, Debug)]
pub struct Judgement {
    /// Remote addresses let through.
    pub allowed: IntervalSet<u32>,
    /// Remote addresses refused.
    pub denied: IntervalSet<u32>,
    /// Each rule that decided addresses, in the order it was met.
    pub by: Vec<Decided>,
    /// Rules that would decide some addresses but hold only part of the subnet: not applied.
    pub partial: Vec<String>,
}

/// Judges `flow` through `rules` (the group's own, in any order) and then Azure's defaults.
pub fn judge(rules: &[Rule], flow: &Flow, net: &Network) -> Judgement {
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| r.priority);
    let defaults = default_rules();
    ordered.extend(defaults.iter());
    let mut undecided = flow.remote.clone();
    let mut out = Judgement {
        allowed: IntervalSet::new(),
        denied: IntervalSet::new(),
        by: Vec::new(),
        partial: Vec::new(),
    };
    for rule in ordered {
        if undecided.is_empty() {
            break;
        }
        let port_ok = rule
            .destination_ports
            .iter()
            .any(|&(lo, hi)| lo <= flow.port && flow.port <= hi);
        // A flow's source port is any ephemeral port: only a rule open to every source port
        // matches all of it.
        let source_port_ok = rule
            .source_ports
            .iter()
            .any(|&(lo, hi)| lo == 0 && hi == 65535);
        if rule.way != flow.way
            || !rule.protocol.matches(flow.protocol)
            || !port_ok
            || !source_port_ok
        {
            continue;
        }
        let (remote_side, local_side) = match flow.way {
            Way::Inbound => (&rule.source, &rule.destination),
            Way::Outbound => (&rule.destination, &rule.source),
        };
        let hit = undecided.intersect(&union(remote_side, net));
        if hit.is_empty() {
            continue;
        }
        let local = union(local_side, net).intersect(&net.subnet);
        if local.is_empty() {
            continue;
        }
        if local != net.subnet {
            out.partial.push(rule.name.clone());
            continue;
        }
        match rule.access {
            Access::Allow => out.allowed = out.allowed.union(&hit),
            Access::Deny => out.denied = out.denied.union(&hit),
        }
        out.by.push(Decided {
            rule: rule.name.clone(),
            priority: rule.priority,
            access: rule.access,
            addresses: hit.count(),
        });
        undecided = undecided.subtract(&hit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The independent evaluator: each address and port on its own, the rules scanned in
    /// priority order, membership tested address by address.
    fn brute(
        rules: &[Rule],
        way: Way,
        proto: Proto,
        port: u16,
        addr: u32,
        net: &Network,
    ) -> Option<Access> {
        let mut all: Vec<Rule> = rules.to_vec();
        all.sort_by_key(|r| r.priority);
        all.extend(default_rules());
        let member = |side: &Side, a: u32| -> bool {
            match side {
                Side::Any => true,
                Side::VirtualNetwork => net.virtual_network.contains(a),
                Side::Internet => !not_internet().contains(a) && !net.virtual_network.contains(a),
                Side::AzureLoadBalancer => {
                    a == u32::from(std::net::Ipv4Addr::new(168, 63, 129, 16))
                }
                Side::Addresses(s) => s.contains(a),
                Side::Unknown(_) => false,
            }
        };
        let subnet: Vec<u32> = net
            .subnet
            .ranges()
            .iter()
            .flat_map(|&(lo, hi)| lo..=hi)
            .collect();
        for r in &all {
            let proto_ok = match r.protocol {
                Proto::Any => matches!(proto, Proto::Tcp | Proto::Udp | Proto::Icmp),
                p => p == proto,
            };
            if r.way != way || !proto_ok {
                continue;
            }
            if !r
                .destination_ports
                .iter()
                .any(|&(lo, hi)| lo <= port && port <= hi)
            {
                continue;
            }
            if !r.source_ports.contains(&(0, 65535)) {
                continue;
            }
            let (remote, local) = match way {
                Way::Inbound => (&r.source, &r.destination),
                Way::Outbound => (&r.destination, &r.source),
            };
            if !remote.iter().any(|s| member(s, addr)) {
                continue;
            }
            let held = subnet
                .iter()
                .filter(|&&l| local.iter().any(|s| member(s, l)))
                .count();
            if held == 0 {
                continue;
            }
            if held < subnet.len() {
                continue; // holds part of the subnet: not applied
            }
            return Some(r.access);
        }
        None
    }

    fn prefix(base: u32, len: u8) -> IntervalSet<u32> {
        let p = Prefix::<u32>::containing(base, len);
        IntervalSet::from_prefixes(&[p])
    }

    /// A small world: the subnet 10.0.0.0/30 in the network 10.0.0.0/28, remote addresses
    /// among 20.0.0.0/28, ports 440 to 447.
    fn side(kind: u8, base: u32, len: u8) -> Side {
        match kind % 6 {
            0 => Side::Any,
            1 => Side::VirtualNetwork,
            2 => Side::Internet,
            3 => Side::AzureLoadBalancer,
            4 => Side::Unknown("Nope".into()),
            _ => Side::Addresses(prefix(base, len)),
        }
    }

    prop_compose! {
        fn arb_rule()(
            priority in 100u32..140,
            way in any::<bool>(),
            allow in any::<bool>(),
            proto in 0u8..4,
            src in (0u8..6, 0u32..32, 26u8..33),
            dst in (0u8..6, 0u32..32, 26u8..33),
            ports in (440u16..448, 0u16..4),
            all_src_ports in proptest::bool::weighted(0.9),
            remote_first in any::<bool>(),
        ) -> Rule {
            let base = |off: u32, remote: bool| if remote { 0x1400_0000 + off } else { 0x0a00_0000 + off };
            let way = if way { Way::Inbound } else { Way::Outbound };
            let (src_remote, dst_remote) = match (way, remote_first) {
                (Way::Inbound, _) => (true, false),
                (Way::Outbound, _) => (false, true),
            };
            Rule {
                name: format!("r{priority}"),
                priority,
                way,
                access: if allow { Access::Allow } else { Access::Deny },
                protocol: [Proto::Tcp, Proto::Udp, Proto::Any, Proto::Icmp][proto as usize],
                source: vec![side(src.0, base(src.1, src_remote), src.2)],
                source_ports: vec![if all_src_ports { (0, 65535) } else { (1024, 2048) }],
                destination: vec![side(dst.0, base(dst.1, dst_remote), dst.2)],
                destination_ports: vec![(ports.0, ports.0 + ports.1)],
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// The interval judgement agrees with the address-by-address evaluator on every remote
        /// address of a small space, for random rule sets, both ways, every protocol and port.
        #[test]
        fn judgement_matches_the_brute_force(rules in proptest::collection::vec(arb_rule(), 0..8)) {
            let net = Network {
                subnet: prefix(0x0a00_0000, 30),
                virtual_network: prefix(0x0a00_0000, 28),
            };
            let remote = prefix(0x1400_0000, 27).union(&prefix(0x0a00_0008, 29));
            for way in [Way::Inbound, Way::Outbound] {
                for proto in [Proto::Tcp, Proto::Udp] {
                    for port in [440u16, 443, 447] {
                        let flow = Flow { way, protocol: proto, port, remote: remote.clone() };
                        let j = judge(&rules, &flow, &net);
                        for &(lo, hi) in remote.ranges() {
                            for a in lo..=hi {
                                let want = brute(&rules, way, proto, port, a, &net);
                                let got = if j.allowed.contains(a) {
                                    Some(Access::Allow)
                                } else if j.denied.contains(a) {
                                    Some(Access::Deny)
                                } else {
                                    None
                                };
                                prop_assert_eq!(got, want, "{:?} {:?} {} {}", way, proto, port, a);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The defaults: inbound from the Internet is denied, outbound to it allowed.
    #[test]
    fn the_defaults_deny_inbound_and_allow_outbound_to_the_internet() {
        let net = Network {
            subnet: prefix(0x0a00_0000, 24),
            virtual_network: prefix(0x0a00_0000, 16),
        };
        let remote = prefix(0x1400_0000, 24);
        let inbound = judge(
            &[],
            &Flow {
                way: Way::Inbound,
                protocol: Proto::Tcp,
                port: 44224,
                remote: remote.clone(),
            },
            &net,
        );
        assert_eq!(inbound.denied, remote);
        assert_eq!(inbound.by[0].rule, "DenyAllInBound");
        let outbound = judge(
            &[],
            &Flow {
                way: Way::Outbound,
                protocol: Proto::Tcp,
                port: 443,
                remote: remote.clone(),
            },
            &net,
        );
        assert_eq!(outbound.allowed, remote);
        assert_eq!(outbound.by[0].rule, "AllowInternetOutBound");
        assert_eq!(parse_ports("29876-29877"), Some((29876, 29877)));
        assert_eq!(parse_ports("*"), Some((0, 65535)));
        assert_eq!(parse_ports("9-1"), None);
        assert_eq!(Proto::parse("*"), Some(Proto::Any));
    }
}
