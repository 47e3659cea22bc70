//! `tagroute check --subnet` (and `--nic`) against a loopback Resource Manager that holds a
//! subnet, its route table and NSG, its virtual network, and a NIC with its effective routes.
//!
//! The answers have the shapes of the REST specification's examples for API 2025-07-01
//! (azure-rest-api-specs): `SubnetGet.json` (commit 8da1efd: `id`, `name`, `properties.
//! addressPrefix`), `VirtualNetworkGet.json` and `VirtualNetworkPeeringGet.json` (commit
//! 9b1ee1c: `properties.addressSpace.addressPrefixes`, `subnets[].properties.ipConfigurations`,
//! `virtualNetworkPeerings[].properties.useRemoteGateways`), the route table of
//! `tests/fixtures/arm/route_table_get.json` (a recorded Azure CLI session), and the NIC's
//! effective routes as `NetworkInterfaceEffectiveRouteTableList.json` shows them: a `POST` of
//! `…/effectiveRouteTable`, a long-running operation whose result is read at its `Location`
//! (the Azure SDK for JavaScript's sample `networkInterfacesGetEffectiveRouteTableSample.ts`
//! polls it), `value[]` of `{source, state, addressPrefix[], nextHopType, nextHopIpAddress[]}`.
//! Its effective security groups (`POST …/effectiveNetworkSecurityGroups`, answered `200` here)
//! are `value[]` of `{networkSecurityGroup: {id}, association, effectiveSecurityRules[]}`, each
//! rule as Microsoft Learn's Network Watcher "security group view" article prints one
//! (`network-watcher-security-group-view-cli.md`, 2017-02-22): `name` (`DefaultOutboundDenyAll`,
//! `DefaultRule_AllowVnetOutBound`), `protocol` `All`, port ranges `0-65535`, and the prefixes
//! with their `expandedSourceAddressPrefix` / `expandedDestinationAddressPrefix`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::harness::*;
use crate::server::{Reply, Server};

const PUBLIC: &str = "ServiceTags_Public_20251028.json";
const G: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network";

fn id(rest: &str) -> String {
    format!("{G}/{rest}")
}

/// The resources of one virtual network, by id.
struct Estate {
    table_routes: Vec<Value>,
    gateway: bool,
    peering_uses_remote: bool,
    nic_subnet: String,
    effective: Vec<Value>,
    /// What the subnet answer links as its route table.
    table_link: String,
    /// The id the subnet answer claims.
    subnet_claims: String,
    /// Resource Graph's rows (one per subnet, as `check --subscription --all-subnets` asks).
    graph_rows: Vec<Value>,
    /// Resource Manager's lists by path (`#2`: the page its `nextLink` names).
    lists: HashMap<String, Value>,
}

impl Default for Estate {
    fn default() -> Self {
        Estate {
            table_routes: Vec::new(),
            gateway: false,
            peering_uses_remote: false,
            nic_subnet: id("virtualNetworks/vnet/subnets/aml"),
            effective: Vec::new(),
            table_link: id("routeTables/rt-aml"),
            subnet_claims: id("virtualNetworks/vnet/subnets/aml"),
            graph_rows: Vec::new(),
            lists: HashMap::new(),
        }
    }
}

fn bodies(e: &Estate) -> HashMap<String, Value> {
    let mut m = HashMap::new();
    let subnet = |claims: &str, name: &str, range: &str| {
        json!({
            "id": claims,
            "name": name,
            "properties": {
                "addressPrefix": range,
                "provisioningState": "Succeeded",
                "routeTable": {"id": e.table_link},
                "networkSecurityGroup": {"id": id("networkSecurityGroups/nsg")},
                "natGateway": {"id": id("natGateways/nat")},
                "defaultOutboundAccess": false
            }
        })
    };
    m.insert(
        id("virtualNetworks/vnet/subnets/aml"),
        subnet(&e.subnet_claims, "aml", "10.1.2.0/24"),
    );
    // A second subnet of the same network, sharing its route table and NSG.
    let aml2 = id("virtualNetworks/vnet/subnets/aml2");
    m.insert(aml2.clone(), subnet(&aml2, "aml2", "10.1.3.0/24"));
    m.insert(
        id("routeTables/rt-aml"),
        json!({
            "id": id("routeTables/rt-aml"),
            "name": "rt-aml",
            "type": "Microsoft.Network/routeTables",
            "location": "eastus2",
            "properties": {"disableBgpRoutePropagation": false, "routes": e.table_routes}
        }),
    );
    m.insert(
        id("networkSecurityGroups/nsg"),
        json!({
            "id": id("networkSecurityGroups/nsg"),
            "name": "nsg",
            "properties": {"securityRules": []}
        }),
    );
    let mut subnets = vec![
        json!({
            "name": "aml",
            "id": id("virtualNetworks/vnet/subnets/aml"),
            "properties": {"addressPrefix": "10.1.2.0/24"}
        }),
        json!({
            "name": "aml2",
            "id": id("virtualNetworks/vnet/subnets/aml2"),
            "properties": {"addressPrefix": "10.1.3.0/24"}
        }),
    ];
    if e.gateway {
        subnets.push(json!({
            "name": "GatewaySubnet",
            "id": id("virtualNetworks/vnet/subnets/GatewaySubnet"),
            "properties": {
                "addressPrefix": "10.1.255.0/27",
                "ipConfigurations": [{"id": id("virtualNetworkGateways/gw/ipConfigurations/default")}]
            }
        }));
    }
    m.insert(
        id("virtualNetworks/vnet"),
        json!({
            "id": id("virtualNetworks/vnet"),
            "name": "vnet",
            "type": "Microsoft.Network/virtualNetworks",
            "location": "eastus2",
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
                "subnets": subnets,
                "virtualNetworkPeerings": [{
                    "name": "to-hub",
                    "id": id("virtualNetworks/vnet/virtualNetworkPeerings/to-hub"),
                    "properties": {
                        "allowVirtualNetworkAccess": true,
                        "useRemoteGateways": e.peering_uses_remote,
                        "remoteVirtualNetwork": {"id": id("virtualNetworks/hub")}
                    }
                }]
            }
        }),
    );
    m.insert(
        id("networkInterfaces/nic-1"),
        json!({
            "id": id("networkInterfaces/nic-1"),
            "name": "nic-1",
            "properties": {"ipConfigurations": [{
                "name": "ipconfig1",
                "properties": {"privateIPAddress": "10.1.2.4", "subnet": {"id": e.nic_subnet}}
            }]}
        }),
    );
    m
}

/// The first IPv4 prefix of the region's Batch tag in the file.
fn batch_one() -> String {
    let file = snapshot(&data_dir(), PUBLIC);
    raw_prefixes(&file, "BatchNodeManagement.EastUS2")
        .into_iter()
        .find(|p| !p.contains(':'))
        .unwrap()
}

/// The NIC's effective security groups: the subnet's NSG (Azure's defaults) and the NIC's own,
/// whose first rule denies Batch's inbound ports from one address Azure expanded its tag to.
fn effective_groups(one: &str) -> Value {
    let default_in = json!({"name": "DefaultInboundDenyAll", "protocol": "All", "sourcePortRange": "0-65535", "destinationPortRange": "0-65535", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "expandedSourceAddressPrefix": null, "expandedDestinationAddressPrefix": null, "access": "Deny", "priority": 65500, "direction": "Inbound"});
    let allow_batch = json!({"name": "securityRules/AllowBatchIn", "protocol": "Tcp", "sourcePortRange": "0-65535", "destinationPortRange": "29876-29877", "sourceAddressPrefix": "BatchNodeManagement.EastUS2", "destinationAddressPrefix": "*", "expandedSourceAddressPrefix": null, "expandedDestinationAddressPrefix": null, "access": "Allow", "priority": 200, "direction": "Inbound"});
    let deny_one = json!({"name": "securityRules/DenyBatchIn", "protocol": "Tcp", "sourcePortRange": "0-65535", "destinationPortRange": "29876-29877", "sourceAddressPrefix": "Tag/BatchNodeManagement.EastUS2", "destinationAddressPrefix": "*", "expandedSourceAddressPrefix": [one], "expandedDestinationAddressPrefix": null, "access": "Deny", "priority": 100, "direction": "Inbound"});
    json!({"value": [
        {"networkSecurityGroup": {"id": id("networkSecurityGroups/nsg")}, "association": {"subnet": {"id": id("virtualNetworks/vnet/subnets/aml")}}, "effectiveSecurityRules": [allow_batch, default_in]},
        {"networkSecurityGroup": {"id": id("networkSecurityGroups/nsg-nic")}, "association": {"networkInterface": {"id": id("networkInterfaces/nic-1")}}, "effectiveSecurityRules": [deny_one, allow_batch, default_in]},
    ]})
}

/// A loopback Resource Manager of `e`: GETs of its resources, the effective routes as a `202`
/// then one poll, anything else `404` (and recorded).
/// The requests seen: method and path.
type Log = Arc<Mutex<Vec<(String, String)>>>;

fn serve(e: Estate) -> (Server, Log) {
    let bodies = bodies(&e);
    let effective = json!({"value": e.effective});
    let lists = e.lists.clone();
    let groups = effective_groups(&batch_one());
    // Resource Graph's answer, in the shape of `ResourcesBasicQuery.json` (Microsoft.ResourceGraph
    // 2024-04-01): one page.
    let page = json!({
        "totalRecords": e.graph_rows.len(),
        "count": e.graph_rows.len(),
        "resultTruncated": "false",
        "facets": [],
        "data": e.graph_rows,
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let server = Server::start(move |req, _| {
        let path = req.path().to_owned();
        seen.lock()
            .unwrap()
            .push((req.method.clone(), path.clone()));
        if req.method == "POST"
            && path == format!("{G}/networkInterfaces/nic-1/effectiveRouteTable")
        {
            let host = req.header("host").unwrap_or_default();
            return Reply::status(202)
                .with_header(
                    "Location",
                    &format!("http://{host}/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/providers/Microsoft.Network/locations/eastus2/operationResults/op-1?api-version=2025-07-01"),
                )
                .with_header("Retry-After", "0");
        }
        if req.method == "POST" && path == "/providers/Microsoft.ResourceGraph/resources" {
            return Reply::body(serde_json::to_vec(&page).unwrap());
        }
        if req.method == "POST"
            && path == format!("{G}/networkInterfaces/nic-1/effectiveNetworkSecurityGroups")
        {
            return Reply::body(serde_json::to_vec(&groups).unwrap());
        }
        if req.method == "GET" && path.ends_with("/operationResults/op-1") {
            return Reply::body(serde_json::to_vec(&effective).unwrap());
        }
        let page = if req.target.contains("page=2") {
            "#2"
        } else {
            ""
        };
        if let (true, Some(list)) = (req.method == "GET", lists.get(&format!("{path}{page}"))) {
            let host = req.header("host").unwrap_or_default();
            let text = serde_json::to_string(list).unwrap().replace("HOST", host);
            return Reply::body(text);
        }
        match (req.method.as_str(), bodies.get(&path)) {
            ("GET", Some(b)) => Reply::body(serde_json::to_vec(b).unwrap()),
            _ => Reply::status(404),
        }
    });
    (server, log)
}

fn live(server: &Server, extra: &[&str]) -> Run {
    live_in(server, Some("eastus2"), extra)
}

/// A live check, in `region` or (without one) in the virtual network's.
fn live_in(server: &Server, region: Option<&str>, extra: &[&str]) -> Run {
    let file = snapshot(&data_dir(), PUBLIC);
    let subnet = id("virtualNetworks/vnet/subnets/aml");
    let mut args = vec!["check", "-f", &file];
    if let Some(r) = region {
        args.extend(["-r", r]);
    }
    args.extend([
        "--subnet",
        &subnet,
        "--arm-endpoint",
        &server.base,
        "--retry-delay-ms",
        "1",
        "--poll-interval",
        "0.01",
    ]);
    args.extend_from_slice(extra);
    tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "token-1")])
}

fn route_verdicts(run: &Run) -> Vec<String> {
    run.json()["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "route")
        .map(|f| f["verdict"].as_str().unwrap().to_owned())
        .collect()
}

/// The subnet's NSG is read (its inbound flows meet Azure's default deny). Without a route of
/// its own, the subnet's return traffic takes Azure's system route to
/// Internet: `ok` when nothing in the virtual network can bring BGP routes, `unknown` when a
/// gateway (or a peering that uses the remote's) can; a NIC's effective routes then settle it,
/// here a BGP `0.0.0.0/0` to the gateway: `blocked`. Only reads are sent.
#[test]
fn a_live_subnet_is_judged_from_what_resource_manager_holds() {
    let (server, log) = serve(Estate::default());
    // The NSG read has no rules of its own: Azure's DenyAllInBound blocks the inbound flows.
    let run = live(&server, &["--format", "json"]).status(1);
    let v = route_verdicts(&run);
    assert!(!v.is_empty() && v.iter().all(|x| x == "ok"), "{v:?}");
    let inbound = run.json()["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "rule" && f["direction"] == "inbound")
        .cloned()
        .unwrap();
    assert_eq!(inbound["verdict"], "blocked");
    assert!(
        inbound["reasons"][0]
            .as_str()
            .unwrap()
            .contains("DenyAllInBound"),
        "{inbound}"
    );
    let read: Vec<String> = log.lock().unwrap().iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(
        read,
        [
            id("virtualNetworks/vnet/subnets/aml"),
            id("routeTables/rt-aml"),
            id("networkSecurityGroups/nsg"),
            id("virtualNetworks/vnet"),
        ]
    );
    // Without --region, the virtual network's region (eastus2) is the one judged.
    let own = live_in(&server, None, &["--format", "json"])
        .status(1)
        .json();
    assert_eq!(own["region"], run.json()["region"]);
    assert_eq!(own["flows"], run.json()["flows"]);

    for estate in [
        Estate {
            gateway: true,
            ..Estate::default()
        },
        Estate {
            peering_uses_remote: true,
            ..Estate::default()
        },
    ] {
        let (server, _) = serve(estate);
        let run = live(&server, &["--format", "json"]).status(1);
        let v = route_verdicts(&run);
        assert!(v.iter().all(|x| x == "unknown"), "{v:?}");
        assert!(
            run.stderr.contains("BGP routes can come from"),
            "{}",
            run.stderr
        );
        assert_eq!(run.json()["unread"], json!(["effectiveRoutes"]));
        // Live, the effective routes are read through a NIC, not from a file.
        let text = live(&server, &[]).status(1).stdout;
        assert!(
            text.contains("to settle: give --nic ID (a NIC in the subnet: its effective routes)\n")
                && !text.contains("--effective-routes"),
            "{text}"
        );
    }

    let (server, log) = serve(Estate {
        gateway: true,
        effective: vec![
            json!({"source": "Default", "state": "Active", "addressPrefix": ["10.1.0.0/16"], "nextHopType": "VnetLocal", "nextHopIpAddress": []}),
            json!({"source": "Default", "state": "Invalid", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "Internet", "nextHopIpAddress": []}),
            json!({"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.1.255.4"]}),
        ],
        ..Estate::default()
    });
    let nic = id("networkInterfaces/nic-1");
    let run = live(&server, &["--nic", &nic, "--format", "json"]).status(1);
    let v = route_verdicts(&run);
    assert!(!v.is_empty() && v.iter().all(|x| x == "blocked"), "{v:?}");
    let log = log.lock().unwrap().clone();
    assert!(
        log.iter().all(|(m, _)| m == "GET" || m == "POST"),
        "{log:?}"
    );
    assert_eq!(
        log.iter().filter(|(m, _)| m == "POST").count(),
        2,
        "{log:?}"
    );
    // The NIC's own NSG denies the one prefix Azure expanded its rule to; the subnet's allows.
    let one = batch_one();
    let len: u32 = one.split('/').nth(1).unwrap().parse().unwrap();
    let batch = run.json()["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["kind"] == "rule"
                && f["target"] == "BatchNodeManagement.EastUS2"
                && f["ports"] == json!(["29876-29877"])
        })
        .cloned()
        .unwrap();
    assert_eq!(batch["verdict"], "blocked", "{batch}");
    let reasons = batch["reasons"].to_string();
    assert!(
        reasons.contains(&format!(
            "the NSG rule securityRules/DenyBatchIn of nsg-nic (priority 100) denies {} addresses",
            1u64 << (32 - len)
        )),
        "{reasons}"
    );
    assert!(
        !reasons.contains("of nsg "),
        "the subnet's NSG allows: {reasons}"
    );
    assert!(
        log.iter()
            .any(|(_, p)| p.ends_with("/operationResults/op-1")),
        "the operation's Location is read: {log:?}"
    );
}

/// Answers are outside input: a subnet answer that claims another id, a link that is not a
/// route table's id, and a NIC in another subnet are refused (exit 2) before anything else is
/// read from them.
#[test]
fn live_answers_that_are_not_what_was_asked_are_refused() {
    let (server, log) = serve(Estate {
        subnet_claims: id("virtualNetworks/other/subnets/aml"),
        ..Estate::default()
    });
    live(&server, &["-q"]).fails_with("Resource Manager answered");
    assert_eq!(log.lock().unwrap().len(), 1);

    for link in [
        "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/../providers/Microsoft.Network/routeTables/x",
        "https://evil.example/routeTables/x",
        &id("networkSecurityGroups/nsg"),
    ] {
        let (server, log) = serve(Estate {
            table_link: link.to_owned(),
            ..Estate::default()
        });
        live(&server, &["-q"]).fails_with("which is not a route table id");
        assert_eq!(log.lock().unwrap().len(), 1, "{link}");
    }

    let (server, log) = serve(Estate {
        nic_subnet: id("virtualNetworks/vnet/subnets/other"),
        ..Estate::default()
    });
    let nic = id("networkInterfaces/nic-1");
    live(&server, &["--nic", &nic, "-q"]).fails_with("is not in subnet");
    assert!(log.lock().unwrap().iter().all(|(m, _)| m == "GET"));

    // --nic needs --subnet; --subnet takes no files.
    let file = snapshot(&data_dir(), PUBLIC);
    tagroute(&["check", "-f", &file, "-r", "eastus2", "--nic", &nic]).status(2);
    let subnet = id("virtualNetworks/vnet/subnets/aml");
    tagroute(&[
        "check", "-f", &file, "-r", "eastus2", "--subnet", &subnet, "--nsg", "x.json",
    ])
    .status(2);
}

fn row(subnet: &str, location: &str) -> Value {
    json!({"id": id(&format!("virtualNetworks/vnet/subnets/{subnet}")), "location": location, "subscriptionId": "0b1f6471-1bf0-4dda-aec3-cb9272f09590"})
}

fn estate(server: &Server, extra: &[&str]) -> Run {
    let file = snapshot(&data_dir(), PUBLIC);
    let mut args = vec![
        "check",
        "-f",
        &file,
        "--subscription",
        "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
        "--arm-endpoint",
        &server.base,
        "--retry-delay-ms",
        "1",
        "--retries",
        "0",
    ];
    args.extend_from_slice(extra);
    tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "token-1")])
}

/// The estate: every subnet Resource Graph names is read and judged in its network's region
/// (the infrastructure subnets are not); a subnet that cannot be read, a region the file lacks
/// and a row of a subscription not asked for are named, and the run exits 2 (incomplete) after
/// printing what it judged.
#[test]
fn an_estate_is_judged_subnet_by_subnet() {
    let (server, log) = serve(Estate {
        graph_rows: vec![row("aml", "eastus2"), row("GatewaySubnet", "eastus2")],
        ..Estate::default()
    });
    let run = estate(&server, &["--all-subnets", "--format", "json"]).status(1);
    let doc = run.json();
    let subnets = doc["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 1, "{doc}");
    assert_eq!(subnets[0]["id"], id("virtualNetworks/vnet/subnets/aml"));
    // The subnet's NSG has no rules: Azure's DenyAllInBound blocks the inbound flows, while
    // every return route takes the system route (no gateway in the network).
    assert_eq!(subnets[0]["verdict"], "blocked");
    let flows = subnets[0]["report"]["flows"].as_array().unwrap();
    assert!(
        flows
            .iter()
            .filter(|f| f["kind"] == "route")
            .all(|f| f["verdict"] == "ok"),
        "{doc}"
    );
    assert!(
        !log.lock()
            .unwrap()
            .iter()
            .any(|(_, p)| p.contains("GatewaySubnet")),
        "an infrastructure subnet is not read"
    );
    let text = estate(&server, &["--all-subnets"]).status(1).stdout;
    assert!(
        text.contains("1 subnet: 0 ok, 1 blocked, 0 unknown, 0 not judged"),
        "{text}"
    );

    let mut other = row("aml", "eastus2");
    other["id"] = json!(
        "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    );
    let (server, _) = serve(Estate {
        graph_rows: vec![
            row("aml", "eastus2"),
            row("gone", "eastus2"),
            row("moon", "moonbase1"),
            other,
        ],
        ..Estate::default()
    });
    let run = estate(&server, &["--all-subnets", "--format", "json"]).status(2);
    assert!(
        run.stderr
            .contains("the answer is incomplete: 1 row refused and 2 subnets not judged"),
        "{}",
        run.stderr
    );
    let doc = run.json();
    let subnets = doc["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 3);
    assert!(
        subnets[1]["verdict"].is_null() && subnets[1]["error"].as_str().unwrap().contains("404"),
        "{doc}"
    );
    assert!(subnets[2]["verdict"].is_null(), "{doc}");
    assert!(
        doc["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("was not asked for")
    );
}

/// Subnets read at once that share their virtual network, route table and NSG: each shared
/// resource is asked for once, each subnet once, and both are judged alike.
#[test]
fn what_an_estates_subnets_share_is_read_once() {
    let (server, log) = serve(Estate {
        graph_rows: vec![row("aml", "eastus2"), row("aml2", "eastus2")],
        ..Estate::default()
    });
    let run = estate(
        &server,
        &["--all-subnets", "--jobs", "2", "--format", "json"],
    )
    .status(1);
    let doc = run.json();
    let subnets = doc["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 2, "{doc}");
    assert_eq!(subnets[0]["report"], subnets[1]["report"], "{doc}");
    let gets = |path: &str| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|(m, p)| m == "GET" && p == path)
            .count()
    };
    for shared in [
        "virtualNetworks/vnet",
        "routeTables/rt-aml",
        "networkSecurityGroups/nsg",
    ] {
        assert_eq!(gets(&id(shared)), 1, "{shared}");
    }
    for subnet in ["aml", "aml2"] {
        assert_eq!(
            gets(&id(&format!("virtualNetworks/vnet/subnets/{subnet}"))),
            1
        );
    }
    // A shared read that fails is not kept: each subnet asks, and says its own error.
    let (server, log) = serve(Estate {
        graph_rows: vec![row("aml", "eastus2"), row("aml2", "eastus2")],
        table_link: id("routeTables/gone"),
        ..Estate::default()
    });
    let run = estate(
        &server,
        &["--all-subnets", "--jobs", "2", "--format", "json"],
    )
    .status(2);
    let doc = run.json();
    for subnet in doc["subnets"].as_array().unwrap() {
        assert!(
            subnet["verdict"].is_null() && subnet["error"].as_str().unwrap().contains("404"),
            "{doc}"
        );
    }
    let gone = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, p)| m == "GET" && *p == id("routeTables/gone"))
        .count();
    assert_eq!(gone, 2);
}

/// Without --all-subnets, the estate is the subnets that host compute: Azure ML computes (their
/// `subnet.id` and `enableNodePublicIp` pick aml-no-public-ip or aml-public-ip, over two pages
/// of the list) and Batch pools (`networkConfiguration.subnetId`: batch-simplified); compute
/// outside a virtual network is not judged, an id of another subscription is refused, and a
/// `nextLink` off the endpoint's origin is never followed.
#[test]
fn an_estates_compute_picks_its_subnets_and_profiles() {
    const S: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    let ws = format!(
        "{S}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws1"
    );
    let acct =
        format!("{S}/resourceGroups/rg-batch/providers/Microsoft.Batch/batchAccounts/batch1");
    let aml = id("virtualNetworks/vnet/subnets/aml");
    let lists = |next: &str| {
        HashMap::from([
            (
                format!("{S}/providers/Microsoft.MachineLearningServices/workspaces"),
                json!({"value": [
                    {"id": ws, "name": "ws1", "type": "Microsoft.MachineLearningServices/workspaces"},
                    {"id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/x/providers/Microsoft.MachineLearningServices/workspaces/other"},
                ]}),
            ),
            (
                format!("{ws}/computes"),
                json!({"value": [
                    {"id": format!("{ws}/computes/cluster"), "type": "Microsoft.MachineLearningServices/workspaces/computes", "properties": {"computeType": "AmlCompute", "properties": {"subnet": {"id": aml}, "enableNodePublicIp": false}}},
                    {"id": format!("{ws}/computes/aks"), "properties": {"computeType": "AKS", "resourceId": "/subscriptions/x/resourcegroups/y/providers/Microsoft.ContainerService/managedClusters/z"}},
                ], "nextLink": next}),
            ),
            (
                format!("{ws}/computes#2"),
                json!({"value": [
                    {"id": format!("{ws}/computes/ci"), "properties": {"computeType": "ComputeInstance", "properties": {"subnet": {"id": aml}}}},
                    {"id": format!("{ws}/computes/managed"), "properties": {"computeType": "AmlCompute", "properties": {}}},
                ]}),
            ),
            (
                format!("{S}/providers/Microsoft.Batch/batchAccounts"),
                json!({"value": [{"id": acct, "name": "batch1"}]}),
            ),
            (
                format!("{acct}/pools"),
                json!({"value": [
                    {"id": format!("{acct}/pools/p1"), "properties": {"networkConfiguration": {"subnetId": aml}}},
                    {"id": format!("{acct}/pools/p2"), "properties": {}},
                ]}),
            ),
        ])
    };
    let next = format!("http://HOST{ws}/computes?api-version=2025-09-01&page=2");
    let (server, _) = serve(Estate {
        lists: lists(&next),
        ..Estate::default()
    });
    let run = estate(&server, &["--format", "json"]).status(2);
    assert!(run.stderr.contains("1 row refused"), "{}", run.stderr);
    let doc = run.json();
    let judged: Vec<(String, String, Vec<String>)> = doc["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["profile"].as_str().unwrap().to_owned(),
                s["hosts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h.as_str().unwrap().rsplit('/').next().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        judged,
        [
            (
                aml.clone(),
                "aml-no-public-ip".to_owned(),
                vec!["cluster".to_owned()]
            ),
            (
                aml.clone(),
                "aml-public-ip".to_owned(),
                vec!["ci".to_owned()]
            ),
            (
                aml.clone(),
                "batch-simplified".to_owned(),
                vec!["p1".to_owned()]
            ),
        ]
    );
    // Each judged in the virtual network's own region, with a verdict.
    for s in doc["subnets"].as_array().unwrap() {
        assert_eq!(s["location"], "eastus2", "{s}");
        assert!(s["verdict"].is_string(), "{s}");
    }
    assert!(
        doc["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a Microsoft.MachineLearningServices/workspaces id")
    );

    // A nextLink to another origin: the token never goes there.
    let (server, log) = serve(Estate {
        lists: lists("https://evil.example/computes?page=2"),
        ..Estate::default()
    });
    estate(&server, &["-q"]).fails_with("evil.example");
    assert!(log.lock().unwrap().iter().all(|(_, p)| !p.contains("page")));
}

/// A list whose next page names itself again is stopped, not followed for ever, and a list
/// answer without `value` is refused: both say which list, and the run exits 2.
#[test]
fn a_list_that_loops_or_is_no_list_is_refused() {
    const S: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    let workspaces = format!("{S}/providers/Microsoft.MachineLearningServices/workspaces");
    let again = format!("http://HOST{workspaces}?api-version=2025-09-01&page=2");
    let (server, log) = serve(Estate {
        lists: HashMap::from([
            (workspaces.clone(), json!({"value": [], "nextLink": again})),
            (
                format!("{workspaces}#2"),
                json!({"value": [], "nextLink": again}),
            ),
        ]),
        ..Estate::default()
    });
    estate(&server, &["-q"]).fails_with("a nextLink it had given before");
    assert_eq!(log.lock().unwrap().len(), 2);

    let (server, _) = serve(Estate {
        lists: HashMap::from([(workspaces, json!({"workspaces": []}))]),
        ..Estate::default()
    });
    estate(&server, &["-q"]).fails_with("listing Azure ML workspaces");
}
