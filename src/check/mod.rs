//! Will a profile's compute work on this subnet? Every flow the profile needs (the routes of its
//! return traffic, its NSG rules' flows, its FQDNs' path) judged through the subnet's routes as
//! Azure forwards them (system routes, BGP, user routes), its NSG (rules by priority, Azure's
//! defaults last) and its way out to the Internet, each `ok`, `blocked` with what blocks it, or
//! `unknown` with why; then the smallest fix: the planner's routes, the profile's NSG rules, a
//! named prerequisite where no rule helps.
//!
//! The inputs are what Azure answers for a subnet (a route table, an NSG, the subnet, a NIC's
//! effective routes), read from files here; where one is missing, the verdicts that depend on it
//! are `unknown`, never assumed. IPv4 is judged (the compute's addresses are IPv4).

#[cfg(feature = "azure")]
pub mod compute;
#[cfg(feature = "azure")]
pub mod estate;
mod fix;
mod inputs;
#[cfg(feature = "azure")]
mod live;

pub use fix::{Fix, FixError, fix};
pub use inputs::{
    Files, FilesError, InputError, MAX_INPUT_BYTES, Vnet, disable_bgp, parse_effective,
    parse_effective_nsgs, parse_nsg, parse_subnet, parse_vnet, read_json,
};
#[cfg(feature = "azure")]
pub use live::{LiveError, read as read_live};

use serde::Serialize;

use crate::forwarding::{Forwarding, Kind};
use crate::model::NextHop;
use crate::nsg::{self, Flow, Network, Proto, Rule, Way};
use crate::prefix::{IntervalSet, Prefix};
use crate::profile::{self, Direction, Profile, Protocol};
use crate::routes::{Destination, RouteTable};
use crate::select::Region;
use crate::snapshot::Snapshot;

/// A flow's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Blocked,
    Unknown,
}

impl Verdict {
    /// The verdict as reports print it (and as JSON names it).
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Blocked => "blocked",
            Verdict::Unknown => "unknown",
        }
    }
}

/// An effective route of a NIC (`az network nic show-effective-route-table`).
#[derive(Clone, Debug)]
pub struct EffectiveRoute {
    pub prefix: Prefix<u32>,
    pub hop: NextHop,
    /// `Default` (system), `User`, `VirtualNetworkGateway` (BGP).
    pub source: String,
}

/// What is known of the subnet.
#[derive(Clone, Debug, Default)]
pub struct Subnet {
    /// Its address range.
    pub prefix: Option<Prefix<u32>>,
    /// A NAT gateway is attached: its outbound method.
    pub nat_gateway: Option<bool>,
    /// `defaultOutboundAccess`: `false` makes it a private subnet.
    pub default_outbound_access: Option<bool>,
    /// An NSG is associated (when the subnet was read).
    pub has_nsg: Option<bool>,
}

/// An NSG's rules, and where it is when that is known: the fix adds its rules there.
#[derive(Clone, Debug)]
pub struct Nsg {
    /// How reasons name it: its name, else the file it was read from.
    pub shown: String,
    /// Its name and resource group, each when its id was read and holds a valid one.
    pub name: Option<String>,
    pub resource_group: Option<String>,
    pub rules: Vec<Rule>,
}

/// A subnet's resources as read, live or from files: what [`Resources::inputs`] judges.
#[derive(Debug, Default)]
pub struct Resources {
    pub subnet: Subnet,
    /// The subnet's route table and its `disableBgpRoutePropagation`.
    pub table: Option<(RouteTable, Option<bool>)>,
    /// The NSGs a flow crosses: the subnet's, or a NIC's effective groups (its own and its
    /// subnet's).
    pub nsgs: Option<Vec<Nsg>>,
    /// The virtual network, when it was read.
    pub vnet: Option<Vnet>,
    pub effective: Option<Vec<EffectiveRoute>>,
    /// The ids read, in order (live).
    pub read: Vec<String>,
}

impl Resources {
    /// The inputs of a check of these resources: the virtual network's address space is
    /// `vnet` when given, else the one read, else the subnet's own range.
    pub fn inputs<'a>(
        &'a self,
        snapshot: &'a Snapshot,
        profile: &'a Profile,
        region: &'a Region,
        vnet: &[Prefix<u32>],
        public_ip: bool,
    ) -> Inputs<'a> {
        let read = self.vnet.as_ref();
        let mut space = vnet.to_vec();
        if space.is_empty() {
            space.extend(read.into_iter().flat_map(|v| v.prefixes.iter().copied()));
        }
        if space.is_empty() {
            space.extend(self.subnet.prefix);
        }
        Inputs {
            snapshot,
            profile,
            region,
            table: self.table.as_ref().map(|(t, bgp)| (t, *bgp)),
            effective: self.effective.as_deref(),
            nsgs: self.nsgs.as_deref(),
            subnet: self.subnet.clone(),
            vnet: space,
            public_ip,
            bgp_source: read.map(|v| !v.gateways.is_empty()),
        }
    }
}

/// Everything a check reads.
pub struct Inputs<'a> {
    pub snapshot: &'a Snapshot,
    pub profile: &'a Profile,
    pub region: &'a Region,
    /// The route table and its `disableBgpRoutePropagation`.
    pub table: Option<(&'a RouteTable, Option<bool>)>,
    /// A NIC's effective routes: Azure's own answer, BGP included.
    pub effective: Option<&'a [EffectiveRoute]>,
    /// The NSGs a flow crosses; a flow passes only where each allows it.
    pub nsgs: Option<&'a [Nsg]>,
    pub subnet: Subnet,
    /// The virtual network's address space (what `VirtualNetwork` holds).
    pub vnet: Vec<Prefix<u32>>,
    /// The compute has a public IP (its own way out).
    pub public_ip: bool,
    /// Whether anything can bring BGP routes to the subnet (a gateway or Route Server in the
    /// virtual network, or a peering that uses the remote's): `Some(false)` when the virtual
    /// network was read and nothing can, `None` when not known.
    pub bgp_source: Option<bool>,
}

/// One flow's judgement.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowReport {
    /// `route` (return traffic that must go to Internet), `rule` (an NSG flow), `fqdn`.
    pub kind: &'static str,
    pub direction: Direction,
    pub protocol: Protocol,
    pub ports: Vec<String>,
    /// The service tag or host name.
    pub target: String,
    pub verdict: Verdict,
    /// IPv4 addresses of the target, and of them those that pass.
    pub addresses: u128,
    pub passing: u128,
    /// What blocks it or why it is unknown, one line each.
    pub reasons: Vec<String>,
    /// The document the flow comes from.
    pub source: String,
    /// What the judgement found beyond its words, for the fix and the prerequisites.
    #[serde(skip)]
    pub found: Found,
    /// The NSG rules that deny it (the NSG's index in [`Inputs::nsgs`], the rule's
    /// priority), for a fix in that NSG before them.
    #[serde(skip)]
    pub denied_at: Vec<(usize, u32)>,
}

/// What the check found.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub profile: String,
    pub region: String,
    pub flows: Vec<FlowReport>,
    /// What to do where no rule or route helps.
    pub prerequisites: Vec<String>,
    /// Inputs not read that would settle the unknown flows.
    pub unread: Vec<Unread>,
}

/// An input that was not read and would settle an unknown flow; the command line names the
/// file or the live read that gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Unread {
    /// The subnet's NSG.
    Nsg,
    /// The subnet itself: its NAT gateway and whether it is private.
    Subnet,
    /// A NIC's effective routes: Azure's own forwarding, BGP included.
    EffectiveRoutes,
}

/// What a flow's judgement found, beyond its reasons' words.
#[derive(Clone, Copy, Debug, Default)]
pub struct Found {
    /// A route sends some of its addresses elsewhere than Internet (a table change helps).
    pub misrouted: bool,
    /// Azure's system route decides, and a BGP route may override it (no effective routes).
    pub bgp_unknown: bool,
    /// A private subnet without a NAT gateway: nothing it sends gets out.
    pub no_way_out: bool,
    /// The subnet's NSG was not read.
    pub nsg_unread: bool,
    /// The subnet's outbound method was not read.
    pub outbound_unread: bool,
}

/// Why what a subnet sends to Internet does not get out, or may not.
enum Stuck {
    /// A private subnet without a NAT gateway.
    Private,
    /// The subnet was not read.
    Unread,
}

impl Report {
    /// The worst verdict: `ok` only when every flow is.
    pub fn verdict(&self) -> Verdict {
        if self.flows.iter().any(|f| f.verdict == Verdict::Blocked) {
            Verdict::Blocked
        } else if self.flows.iter().any(|f| f.verdict == Verdict::Unknown) {
            Verdict::Unknown
        } else {
            Verdict::Ok
        }
    }
}

/// Where a flow's addresses go: the hop that wins each, as Azure forwards.
struct Paths {
    /// (addresses, next hop, the route's name, it is a system route).
    parts: Vec<(IntervalSet<u32>, NextHop, String, bool)>,
    /// BGP may override system routes (propagation on, no effective routes read).
    bgp_may_apply: bool,
}

/// Azure's system routes for IPv4 (`articles/virtual-network/virtual-networks-udr-overview.md`,
/// *Default*, ms.date 2023-05-27, MicrosoftDocs/azure-docs 0239a4e): the virtual network's space stays local, the private ranges (and shared space)
/// are dropped, everything else goes to Internet.
fn system_routes(vnet: &[Prefix<u32>]) -> Vec<(String, Prefix<u32>, NextHop)> {
    let mut out: Vec<(String, Prefix<u32>, NextHop)> = vnet
        .iter()
        .map(|p| ("system: virtual network".to_owned(), *p, NextHop::VnetLocal))
        .collect();
    for p in [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ] {
        out.push((
            "system: private range".into(),
            p.parse().expect("a prefix"),
            NextHop::None,
        ));
    }
    out.push((
        "system: default".into(),
        "0.0.0.0/0".parse().expect("a prefix"),
        NextHop::Internet,
    ));
    out
}

/// A route that may forward some of the flow.
struct Candidate {
    name: String,
    kind: Kind,
    prefixes: Vec<Prefix<u32>>,
    hop: NextHop,
    /// One of Azure's system routes.
    system: bool,
}

fn paths(inputs: &Inputs<'_>, remote: &IntervalSet<u32>) -> Paths {
    let mut routes: Vec<Candidate> = Vec::new();
    let mut push =
        |name: String, kind: Kind, prefixes: Vec<Prefix<u32>>, hop: NextHop, system: bool| {
            routes.push(Candidate {
                name,
                kind,
                prefixes,
                hop,
                system,
            })
        };
    if let Some(effective) = inputs.effective {
        for r in effective {
            let system = r.source.eq_ignore_ascii_case("Default");
            let rank = if r.source.eq_ignore_ascii_case("User") {
                Kind::Prefix
            } else if system {
                Kind::AzureCloud
            } else {
                Kind::AzureCloudRegion
            };
            push(
                format!("{} ({})", r.prefix, r.source),
                rank,
                vec![r.prefix],
                r.hop.clone(),
                system,
            );
        }
    } else {
        for (name, p, hop) in system_routes(&inputs.vnet) {
            push(name, Kind::AzureCloud, vec![p], hop, true);
        }
        if let Some((table, _)) = inputs.table {
            let list: Vec<(&str, &Destination)> = table
                .routes
                .iter()
                .map(|r| (r.name.as_str(), &r.destination))
                .collect();
            if let Ok(expanded) = crate::diff::expand(inputs.snapshot, &table.source, &list) {
                for ((name, kind, prefixes), r) in expanded.v4.into_iter().zip(&table.routes) {
                    push(name.to_owned(), kind, prefixes, r.next_hop.clone(), false);
                }
            }
        }
    }
    let listed: Vec<(&str, Kind, Vec<Prefix<u32>>)> = routes
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.prefixes.clone()))
        .collect();
    let mut parts: Vec<(IntervalSet<u32>, NextHop, String, bool)> = Vec::new();
    for (lo, hi, i) in Forwarding::new(&listed).segments() {
        let seg = IntervalSet::from_ranges(vec![(lo, hi)]).intersect(remote);
        if seg.is_empty() {
            continue;
        }
        let c = &routes[i];
        match parts.iter_mut().find(|p| p.2 == c.name) {
            Some(p) => p.0 = p.0.union(&seg),
            None => parts.push((seg, c.hop.clone(), c.name.clone(), c.system)),
        }
    }
    let bgp_may_apply = inputs.effective.is_none()
        && !matches!(inputs.table, Some((_, Some(true))))
        && inputs.bgp_source != Some(false);
    Paths {
        parts,
        bgp_may_apply,
    }
}

/// How the subnet reaches the Internet, or why it does not or may not.
fn egress(inputs: &Inputs<'_>) -> Result<&'static str, Stuck> {
    if inputs.public_ip {
        return Ok("the compute's public IP");
    }
    match (
        inputs.subnet.nat_gateway,
        inputs.subnet.default_outbound_access,
    ) {
        (Some(true), _) => Ok("the subnet's NAT gateway"),
        (_, Some(false)) => Err(Stuck::Private),
        (Some(false), _) => Ok("Azure's default outbound access"),
        (None, _) => Err(Stuck::Unread),
    }
}

/// `n` addresses and their verb: "1 address goes", "2 addresses go".
fn go(n: u128) -> String {
    match n {
        1 => "1 address goes".to_owned(),
        n => format!("{n} addresses go"),
    }
}

/// The judgement of a path to Internet.
struct PathJudged {
    verdict: Verdict,
    /// Addresses that get to Internet.
    passing: u128,
    reasons: Vec<String>,
    found: Found,
}

/// The verdict of sending `remote` to Internet: the path each address takes. `go` says how
/// many addresses take a way ([`go`], or the traffic of a host name's flow).
fn judge_path(
    inputs: &Inputs<'_>,
    remote: &IntervalSet<u32>,
    outbound: bool,
    go: &dyn Fn(u128) -> String,
) -> PathJudged {
    let p = paths(inputs, remote);
    let mut found = Found {
        misrouted: p
            .parts
            .iter()
            .any(|(_, hop, _, _)| !matches!(hop, NextHop::Internet)),
        ..Found::default()
    };
    let mut reasons = Vec::new();
    let mut verdict = Verdict::Ok;
    let mut passing: u128 = 0;
    let worse = |v: Verdict, verdict: &mut Verdict| {
        if v == Verdict::Blocked || *verdict == Verdict::Ok {
            *verdict = match (*verdict, v) {
                (Verdict::Blocked, _) => Verdict::Blocked,
                (_, v) => v,
            };
        }
    };
    for (set, hop, name, system) in &p.parts {
        let n = set.count();
        match hop {
            NextHop::Internet if *system && p.bgp_may_apply => {
                worse(Verdict::Unknown, &mut verdict);
                found.bgp_unknown = true;
                reasons.push(format!(
                    "{} to Internet by Azure's system route, which a BGP route (a \
                     gateway advertising 0.0.0.0/0) would override: BGP propagation is on and no \
                     effective routes were read",
                    go(n)
                ));
            }
            NextHop::Internet => passing += n,
            NextHop::VirtualAppliance(ip) => {
                worse(Verdict::Blocked, &mut verdict);
                reasons.push(format!(
                    "{} to the appliance {ip} (route {}), not to Internet",
                    go(n),
                    crate::text::for_terminal(name)
                ));
            }
            NextHop::VirtualApplianceEcmp(_) | NextHop::VirtualNetworkGateway => {
                worse(Verdict::Blocked, &mut verdict);
                reasons.push(format!(
                    "{} to {hop} (route {}), not to Internet",
                    go(n),
                    crate::text::for_terminal(name)
                ));
            }
            NextHop::None | NextHop::VnetLocal => {
                worse(Verdict::Blocked, &mut verdict);
                reasons.push(format!(
                    "{} to {hop} (route {})",
                    go(n),
                    crate::text::for_terminal(name)
                ));
            }
        }
    }
    if outbound && passing > 0 {
        match egress(inputs) {
            Ok(_) => {}
            Err(Stuck::Private) => {
                worse(Verdict::Blocked, &mut verdict);
                reasons.push(
                    "the subnet is private (defaultOutboundAccess false) and has no NAT gateway: \
                     nothing it sends to Internet gets out"
                        .into(),
                );
                found.no_way_out = true;
                passing = 0;
            }
            Err(Stuck::Unread) => {
                worse(Verdict::Unknown, &mut verdict);
                reasons.push("the subnet's outbound method was not read".into());
                found.outbound_unread = true;
            }
        }
    }
    PathJudged {
        verdict,
        passing,
        reasons,
        found,
    }
}

/// The IPv4 addresses of a tag template in the region.
fn tag_set(
    snapshot: &Snapshot,
    template: &str,
    region: &Region,
) -> Option<(String, IntervalSet<u32>)> {
    let name = crate::rules::tag_name(snapshot, template, region)?;
    let tag = snapshot.tag(&name).filter(|t| t.name == name)?;
    Some((name, IntervalSet::from_prefixes(&tag.ipv4)))
}

/// The ports of a need to judge: each port of a small range, the ends of a large one.
fn ports(need: &[String]) -> Vec<u16> {
    let mut out = Vec::new();
    for p in need {
        if let Some((lo, hi)) = nsg::parse_ports(p) {
            if hi - lo < 64 {
                out.extend(lo..=hi);
            } else {
                out.extend([lo, hi]);
            }
        }
    }
    out
}

/// Checks every flow of the profile; see the module's doc.
///
/// ```
/// use tagroute::check::{Resources, Verdict, check};
/// let snapshot = tagroute::snapshot::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json")).unwrap();
/// let region = tagroute::select::resolve_region(&snapshot, "westeurope").unwrap();
/// let profile = tagroute::profile::by_name("forced-tunneling").unwrap();
/// // A subnet with nothing read about it: Azure's system routes and default NSG rules.
/// let subnet = Resources::default();
/// let vnet = ["10.0.0.0/16".parse().unwrap()];
/// let report = check(&subnet.inputs(&snapshot, profile, &region, &vnet, true));
/// assert!(!report.flows.is_empty());
/// assert_ne!(report.verdict(), Verdict::Blocked);
/// ```
pub fn check(inputs: &Inputs<'_>) -> Report {
    let mut flows = Vec::new();
    let mut prerequisites: Vec<String> = Vec::new();
    let snapshot = inputs.snapshot;
    let region = inputs.region;
    // Return traffic of the profile's routes.
    let selected = inputs.profile.route_tags(snapshot, region);
    for &i in &selected.tags {
        let tag = &snapshot.tags[i];
        let remote = IntervalSet::from_prefixes(&tag.ipv4);
        let PathJudged {
            verdict,
            passing,
            reasons,
            found,
        } = judge_path(inputs, &remote, false, &go);
        flows.push(FlowReport {
            kind: "route",
            direction: Direction::Inbound,
            protocol: Protocol::Any,
            ports: vec!["*".into()],
            target: tag.name.clone(),
            verdict,
            addresses: remote.count(),
            passing,
            reasons,
            source: route_source(inputs.profile, &tag.name),
            found,
            denied_at: Vec::new(),
        });
    }
    for missing in &selected.missing {
        flows.push(FlowReport {
            kind: "route",
            direction: Direction::Inbound,
            protocol: Protocol::Any,
            ports: vec!["*".into()],
            target: missing.clone(),
            verdict: Verdict::Unknown,
            addresses: 0,
            passing: 0,
            reasons: vec![format!("the file has no {missing}")],
            source: String::new(),
            found: Found::default(),
            denied_at: Vec::new(),
        });
    }
    // The NSG flows of the profile's rules.
    let net = Network {
        subnet: inputs
            .subnet
            .prefix
            .map(|p| IntervalSet::from_prefixes(&[p]))
            .unwrap_or_else(|| IntervalSet::from_prefixes(&inputs.vnet)),
        virtual_network: IntervalSet::from_prefixes(&inputs.vnet),
    };
    for need in inputs
        .profile
        .rules
        .iter()
        .filter(|r| profile::in_cloud(&r.clouds, snapshot.cloud))
    {
        let Some((name, remote)) = tag_set(snapshot, &need.tag, region) else {
            flows.push(FlowReport {
                kind: "rule",
                direction: need.direction,
                protocol: need.protocol,
                ports: need.ports.clone(),
                target: profile::for_region(&need.tag, &region.name),
                verdict: Verdict::Unknown,
                addresses: 0,
                passing: 0,
                reasons: vec!["the file has no such tag".into()],
                source: profile::cited(&need.source),
                found: Found::default(),
                denied_at: Vec::new(),
            });
            continue;
        };
        let way = match need.direction {
            Direction::Inbound => Way::Inbound,
            Direction::Outbound => Way::Outbound,
        };
        let protocols: &[Proto] = match need.protocol {
            Protocol::Tcp => &[Proto::Tcp],
            Protocol::Udp => &[Proto::Udp],
            Protocol::Any => &[Proto::Tcp, Proto::Udp],
        };
        let mut verdict = Verdict::Ok;
        let mut allowed = remote.clone();
        let mut reasons = Vec::new();
        let mut denied_at = Vec::new();
        match &inputs.nsgs {
            Some(nsgs) => {
                let named = nsgs.len() > 1;
                for (at, nsg) in nsgs.iter().enumerate() {
                    let of = if named {
                        format!(" of {}", crate::text::for_terminal(&nsg.shown))
                    } else {
                        String::new()
                    };
                    for &protocol in protocols {
                        for port in ports(&need.ports) {
                            let flow = Flow {
                                way,
                                protocol,
                                port,
                                remote: remote.clone(),
                            };
                            let j = nsg::judge(&nsg.rules, &flow, &net);
                            allowed = allowed.intersect(&j.allowed);
                            for d in j.by.iter().filter(|d| d.access == nsg::Access::Deny) {
                                denied_at.push((at, d.priority));
                                let line = format!(
                                    "the NSG rule {}{of} (priority {}) denies {} addresses ({protocol:?} {port})",
                                    crate::text::for_terminal(&d.rule),
                                    d.priority,
                                    d.addresses
                                );
                                if !reasons.contains(&line) {
                                    reasons.push(line);
                                }
                            }
                            for p in &j.partial {
                                let line = format!(
                                    "the NSG rule {}{of} holds part of the subnet only: not judged",
                                    crate::text::for_terminal(p)
                                );
                                if !reasons.contains(&line) {
                                    reasons.push(line);
                                }
                            }
                        }
                    }
                }
                if allowed != remote {
                    verdict = Verdict::Blocked;
                }
            }
            None if inputs.subnet.has_nsg == Some(false) => {}
            None => {
                verdict = Verdict::Unknown;
                reasons.push("the subnet's NSG was not read".into());
            }
        }
        // The path: outbound flows must get out; inbound flows' answers must go back to Internet.
        let path = judge_path(inputs, &remote, way == Way::Outbound, &go);
        reasons.extend(path.reasons);
        let found = Found {
            nsg_unread: inputs.nsgs.is_none() && inputs.subnet.has_nsg != Some(false),
            ..path.found
        };
        verdict = match (verdict, path.verdict) {
            (Verdict::Blocked, _) | (_, Verdict::Blocked) => Verdict::Blocked,
            (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Ok,
        };
        let passing = if verdict == Verdict::Ok {
            allowed.count()
        } else {
            0
        };
        flows.push(FlowReport {
            kind: "rule",
            direction: need.direction,
            protocol: need.protocol,
            ports: need.ports.clone(),
            target: name,
            verdict,
            addresses: remote.count(),
            passing,
            reasons,
            source: profile::cited(&need.source),
            found,
            denied_at,
        });
    }
    // FQDNs: where traffic to an address no route names goes (the default route's way).
    let anywhere: IntervalSet<u32> =
        IntervalSet::from_prefixes(&["8.8.8.8/32".parse::<Prefix<u32>>().expect("a prefix")]);
    for f in inputs
        .profile
        .fqdns
        .iter()
        .filter(|f| profile::in_cloud(&f.clouds, snapshot.cloud))
    {
        let PathJudged {
            verdict,
            reasons,
            found,
            ..
        } = judge_path(inputs, &anywhere, true, &|_| {
            "traffic to public host names goes".to_owned()
        });
        flows.push(FlowReport {
            kind: "fqdn",
            direction: Direction::Outbound,
            protocol: f.protocol,
            ports: f.ports.clone(),
            target: profile::for_region(&f.fqdn, &region.name),
            verdict,
            addresses: 0,
            passing: 0,
            reasons,
            source: profile::cited(&f.source),
            found,
            denied_at: Vec::new(),
        });
    }
    let any = |fact: fn(&Found) -> bool| flows.iter().any(|f| fact(&f.found));
    let mut unread: Vec<Unread> = [
        (any(|f| f.nsg_unread), Unread::Nsg),
        (any(|f| f.outbound_unread), Unread::Subnet),
    ]
    .into_iter()
    .filter_map(|(missing, input)| missing.then_some(input))
    .collect();
    if any(|f| f.no_way_out) {
        prerequisites.push(
            "give the subnet an outbound method: attach a NAT gateway (or route its Internet \
             traffic through a firewall that allows the profile's rules)"
                .into(),
        );
    }
    if any(|f| f.bgp_unknown) {
        prerequisites.push(
            "read the effective routes of a NIC in the subnet, or set the route table's \
             disableBgpRoutePropagation to true so that no BGP route overrides it"
                .into(),
        );
        unread.push(Unread::EffectiveRoutes);
    }
    if let Some((table, _)) = inputs.table {
        prerequisites.extend(crate::diff::refused_tag_routes(snapshot, table));
    }
    Report {
        profile: inputs.profile.name.clone(),
        region: region.name.clone(),
        flows,
        prerequisites,
        unread,
    }
}

fn route_source(profile: &Profile, tag: &str) -> String {
    let base = tag.split('.').next().unwrap_or(tag);
    profile
        .routes
        .iter()
        .find(|r| r.tag.split('.').next() == Some(base))
        .map(|r| profile::cited(&r.source))
        .unwrap_or_default()
}
