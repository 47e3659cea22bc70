//! `tagroute check` on the reported cases, offline, on the real public file: a forced tunnel
//! without the Azure ML routes, an NSG that allows only Storage outbound, a private subnet
//! without NAT, and BGP that may override the system route. Each blocked case gets its fix, and
//! the fix applied to the inputs checks `ok`.
//!
//! The inputs have the shapes the Azure CLI prints and Resource Manager answers: a route table
//! with `routes` and `disableBgpRoutePropagation` (`routeTable.json` of the REST specification),
//! an NSG with `securityRules` (`networkSecurityGroup.json`), a subnet with `addressPrefix`,
//! `natGateway` and `defaultOutboundAccess` (`virtualNetwork.json`, API 2025-07-01), a NIC's
//! effective routes as `value[]` of `{source, state, addressPrefix[], nextHopType,
//! nextHopIpAddress[]}` (`networkInterface.json`, `EffectiveRoute`).

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::*;

const PUBLIC: &str = "ServiceTags_Public_20251028.json";

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_owned()
}

/// A route table without routes, BGP propagation off (`disable_bgp`) or on.
fn empty_table(dir: &Path, disable_bgp: bool) -> String {
    write(
        dir,
        "rt.json",
        &json!({"disableBgpRoutePropagation": disable_bgp, "routes": []}),
    )
}

fn check(args: &[&str]) -> Run {
    let file = snapshot(&data_dir(), PUBLIC);
    let mut all = vec!["check", "-f", &file, "-r", "eastus2", "-q"];
    all.extend_from_slice(args);
    tagroute(&all)
}

fn flows(run: &Run) -> Vec<Value> {
    run.json()["flows"].as_array().unwrap().clone()
}

fn verdict_of<'a>(flows: &'a [Value], kind: &str, target: &str) -> Vec<&'a str> {
    flows
        .iter()
        .filter(|f| f["kind"] == kind && f["target"] == target)
        .map(|f| f["verdict"].as_str().unwrap())
        .collect()
}

fn tunnel(routes: Vec<Value>, bgp_off: bool) -> Value {
    let mut all = vec![
        json!({"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}),
    ];
    all.extend(routes);
    json!({"name": "rt-aml", "disableBgpRoutePropagation": bgp_off, "routes": all})
}

fn subnet(nat: bool, default_outbound: bool, nsg: bool) -> Value {
    let mut s = json!({"name": "aml", "addressPrefix": "10.1.2.0/24", "defaultOutboundAccess": default_outbound});
    if nat {
        s["natGateway"] = json!({"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/natGateways/nat"});
    }
    if nsg {
        s["networkSecurityGroup"] = json!({"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg"});
    }
    s
}

/// A forced tunnel without the Azure ML routes: the region's and the paired region's return
/// routes are blocked; the fix's routes, added to the table, make them `ok`.
#[test]
fn a_tunnel_without_the_aml_routes_is_blocked_and_fixed_by_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table = write(d, "rt.json", &tunnel(vec![], true));
    let sub = write(d, "subnet.json", &subnet(false, true, false));
    let args = |t: &str| -> Vec<String> {
        [
            "--profile",
            "aml-public-ip",
            "--route-table",
            t,
            "--subnet-file",
            &sub,
            "--public-ip",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let a = args(&table);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let run = check(&[&refs[..], &["--format", "json"]].concat()).status(1);
    let f = flows(&run);
    for tag in [
        "AzureMachineLearning.EastUS2",
        "AzureMachineLearning.CentralUS",
    ] {
        assert_eq!(verdict_of(&f, "route", tag), ["blocked"], "{tag}");
    }
    let blocked = f
        .iter()
        .find(|x| x["target"] == "AzureMachineLearning.EastUS2")
        .unwrap();
    assert!(
        blocked["reasons"][0]
            .as_str()
            .unwrap()
            .contains("go to the appliance 10.0.0.4 (route default)"),
        "{blocked}"
    );
    // A host name's flow is said as traffic, not as one address.
    let fqdn = f
        .iter()
        .find(|x| x["kind"] == "fqdn")
        .expect("an FQDN flow");
    assert_eq!(
        fqdn["reasons"][0],
        "traffic to public host names goes to the appliance 10.0.0.4 (route default), not to Internet",
        "{fqdn}"
    );
    let fix = check(&[&refs[..], &["--fix-format", "json"]].concat())
        .status(1)
        .json();
    let add = fix["routes"]["add"].as_array().unwrap();
    assert!(!add.is_empty(), "{fix}");
    let script = check(&[&refs[..], &["--fix-format", "az"]].concat())
        .status(1)
        .stdout;
    assert!(
        script.contains("az network route-table route create"),
        "{script}"
    );
    // The fix applied: every route flow passes.
    let fixed = write(d, "rt-fixed.json", &tunnel(add.clone(), true));
    let a = args(&fixed);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let f = flows(&check(&[&refs[..], &["--format", "json"]].concat()));
    for tag in [
        "AzureMachineLearning.EastUS2",
        "AzureMachineLearning.CentralUS",
    ] {
        assert_eq!(verdict_of(&f, "route", tag), ["ok"], "{tag}");
    }
}

/// A route that drops the region's Azure ML addresses (next hop None) blocks their return
/// routes, and the fix changes the table, as for a tunnel.
#[test]
fn a_route_to_none_is_fixed_by_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table = write(
        d,
        "rt.json",
        &json!({"name": "rt-aml", "disableBgpRoutePropagation": true, "routes": [
            {"name": "drop", "addressPrefix": "0.0.0.0/1", "nextHopType": "None"},
            {"name": "drop-2", "addressPrefix": "128.0.0.0/1", "nextHopType": "None"},
        ]}),
    );
    let args = ["--route-table", table.as_str(), "--public-ip"];
    let run = check(&[&args[..], &["--format", "json"]].concat()).status(1);
    let f = flows(&run);
    let blocked = f
        .iter()
        .find(|x| x["target"] == "AzureMachineLearning.EastUS2")
        .unwrap();
    assert_eq!(blocked["verdict"], "blocked", "{blocked}");
    assert!(
        blocked["reasons"][0]
            .as_str()
            .unwrap()
            .contains("to None (route drop"),
        "{blocked}"
    );
    let fix = check(&[&args[..], &["--fix-format", "json"]].concat())
        .status(1)
        .json();
    assert!(
        !fix["routes"]["add"].as_array().unwrap().is_empty(),
        "{fix}"
    );
}

/// An NSG whose only outbound allow is Storage, before a deny of everything: the other
/// outbound flows are blocked by that deny; the fix's rules, added before it, make them `ok`.
#[test]
fn an_nsg_that_allows_only_storage_is_fixed_by_the_profiles_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table = empty_table(d, true);
    let sub = write(d, "subnet.json", &subnet(true, false, true));
    let nsg_rules = vec![
        json!({"name": "allow-storage", "properties": {"priority": 300, "direction": "Outbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "Storage", "destinationPortRange": "443"}}),
        json!({"name": "deny-all-out", "properties": {"priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*"}}),
    ];
    let nsg = write(
        d,
        "nsg.json",
        &json!({"name": "nsg", "properties": {"securityRules": nsg_rules}}),
    );
    let run_with = |nsg: &str, extra: &[&str]| {
        check(
            &[
                &[
                    "--profile",
                    "aml-no-public-ip",
                    "--route-table",
                    &table,
                    "--subnet-file",
                    &sub,
                    "--nsg",
                    nsg,
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let f = flows(&run_with(&nsg, &["--format", "json"]).status(1));
    assert_eq!(verdict_of(&f, "rule", "Storage.EastUS2"), ["ok"]);
    let aad = f
        .iter()
        .find(|x| x["target"] == "AzureActiveDirectory")
        .unwrap();
    assert_eq!(aad["verdict"], "blocked");
    assert!(
        aad["reasons"][0]
            .as_str()
            .unwrap()
            .contains("deny-all-out (priority 4000)"),
        "{aad}"
    );
    let fix = run_with(&nsg, &["--fix-format", "json"]).status(1).json();
    let groups = fix["networkSecurityGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{fix}");
    // A file without an id: the NSG is named by its file, and the script asks for its name.
    assert!(
        groups[0]["name"].is_null() && groups[0]["shown"].as_str().unwrap().ends_with("nsg.json"),
        "{fix}"
    );
    let rules = groups[0]["securityRules"].as_array().unwrap().clone();
    assert!(rules.len() >= 7, "{fix}");
    for r in &rules {
        assert!(r["properties"]["priority"].as_u64().unwrap() < 4000, "{r}");
    }
    let mut all = nsg_rules.clone();
    all.extend(rules);
    let fixed = write(
        d,
        "nsg-fixed.json",
        &json!({"properties": {"securityRules": all}}),
    );
    let f = flows(&run_with(&fixed, &["--format", "json"]).status(0));
    assert!(f.iter().all(|x| x["verdict"] == "ok"), "{f:?}");
}

/// A private subnet without a NAT gateway sends nothing out: the outbound flows are blocked and
/// the fix names the prerequisite.
#[test]
fn a_private_subnet_without_nat_is_blocked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table = empty_table(d, true);
    let sub = write(d, "subnet.json", &subnet(false, false, false));
    let args = [
        "--profile",
        "batch-simplified",
        "--route-table",
        &table,
        "--subnet-file",
        &sub,
    ];
    let run = check(&[&args[..], &["--format", "json"]].concat()).status(1);
    let f = flows(&run);
    assert_eq!(
        verdict_of(&f, "rule", "BatchNodeManagement.EastUS2"),
        ["blocked"]
    );
    assert!(
        run.stdout
            .contains("is private (defaultOutboundAccess false)"),
        "{}",
        run.stdout
    );
    let fix = check(&[&args[..], &["--fix-format", "json"]].concat())
        .status(1)
        .json();
    assert!(
        fix["prerequisites"][0]
            .as_str()
            .unwrap()
            .contains("NAT gateway"),
        "{fix}"
    );
    // With a NAT gateway it gets out.
    let sub = write(d, "subnet-nat.json", &subnet(true, false, false));
    let args = [
        "--profile",
        "batch-simplified",
        "--route-table",
        &table,
        "--subnet-file",
        &sub,
    ];
    check(&args).status(0);
}

/// A flow left unknown for want of an input names it, typed in JSON and as the flag that reads
/// it in the table; the reasons say what was not read, no flag.
#[test]
fn what_was_not_read_is_named_with_the_flag_that_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let table = empty_table(tmp.path(), true);
    let args = ["--profile", "batch-simplified", "--route-table", &table];
    let run = check(&[&args[..], &["--format", "json"]].concat()).status(1);
    assert_eq!(run.json()["unread"], json!(["nsg", "subnet"]));
    let reasons: Vec<Value> = flows(&run)
        .iter()
        .flat_map(|f| f["reasons"].as_array().unwrap().clone())
        .collect();
    assert!(
        reasons.contains(&json!("the subnet's NSG was not read"))
            && reasons.contains(&json!("the subnet's outbound method was not read"))
            && reasons.iter().all(|r| !r.as_str().unwrap().contains("--")),
        "{reasons:?}"
    );
    let text = check(&args).status(1).stdout;
    assert!(
        text.contains(
            "to settle: give --nsg FILE (az network nsg show -o json) or --effective-nsgs FILE"
        ) && text
            .contains("to settle: give --subnet-file FILE (az network vnet subnet show -o json)\n"),
        "{text}"
    );
    // Given both, nothing is left unread.
    let sub = write(tmp.path(), "subnet.json", &subnet(true, true, false));
    let run = check(&[&args[..], &["--subnet-file", &sub, "--format", "json"]].concat()).status(0);
    assert_eq!(run.json()["unread"], json!([]));
}

/// BGP propagation on and no effective routes: what the system route sends to Internet is
/// unknown; the NIC's effective routes then say `ok` (the system default wins) or `blocked` (a
/// gateway advertises 0.0.0.0/0).
#[test]
fn bgp_makes_the_system_route_unknown_until_the_effective_routes_say() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table = empty_table(d, false);
    let sub = write(d, "subnet.json", &subnet(true, true, false));
    let base = [
        "--profile",
        "batch-simplified",
        "--route-table",
        &table,
        "--subnet-file",
        &sub,
    ];
    let run = check(&[&base[..], &["--format", "json"]].concat()).status(1);
    assert_eq!(
        verdict_of(&flows(&run), "rule", "BatchNodeManagement.EastUS2"),
        ["unknown"]
    );
    assert_eq!(run.json()["unread"], json!(["effectiveRoutes"]));
    let text = check(&base).status(1).stdout;
    assert!(
        text.contains(
            "to settle: give --effective-routes FILE (az network nic show-effective-route-table -o json)\n"
        ),
        "{text}"
    );
    // The virtual network read: nothing in it can bring BGP routes (no gateway, Route Server
    // or peering that uses the remote's), so the system route stands; with a gateway, unknown.
    let vnet = |gateway: bool| {
        let mut subnets =
            vec![json!({"name": "aml", "properties": {"addressPrefix": "10.1.2.0/24"}})];
        if gateway {
            subnets.push(json!({"name": "GatewaySubnet", "properties": {"addressPrefix": "10.1.255.0/27", "ipConfigurations": [{"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworkGateways/gw/ipConfigurations/default"}]}}));
        }
        json!({"name": "vnet", "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}, "subnets": subnets, "virtualNetworkPeerings": []})
    };
    let lone = write(d, "vnet.json", &vnet(false));
    check(&[&base[..], &["--vnet-file", &lone]].concat()).status(0);
    let gw = write(d, "vnet-gw.json", &vnet(true));
    let run = check(&[&base[..], &["--vnet-file", &gw, "--format", "json"]].concat()).status(1);
    assert_eq!(
        verdict_of(&flows(&run), "rule", "BatchNodeManagement.EastUS2"),
        ["unknown"]
    );
    let effective = |hop: &str, source: &str| {
        json!({"value": [
            {"source": "Default", "state": "Active", "addressPrefix": ["10.1.0.0/16"], "nextHopType": "VnetLocal", "nextHopIpAddress": []},
            {"source": source, "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": hop, "nextHopIpAddress": if hop == "VirtualNetworkGateway" { json!(["10.1.255.254"]) } else { json!([]) }},
        ]})
    };
    let ok = write(d, "eff-ok.json", &effective("Internet", "Default"));
    check(&[&base[..], &["--effective-routes", &ok]].concat()).status(0);
    let bgp = write(
        d,
        "eff-bgp.json",
        &effective("VirtualNetworkGateway", "VirtualNetworkGateway"),
    );
    let run =
        check(&[&base[..], &["--effective-routes", &bgp, "--format", "json"]].concat()).status(1);
    assert_eq!(
        verdict_of(&flows(&run), "rule", "BatchNodeManagement.EastUS2"),
        ["blocked"]
    );
}

/// A service-tag route to a tag without `UDR` in the file's `networkFeatures` is one Azure
/// refuses: `diff` warns of it and `check` names it.
#[test]
fn a_tag_route_azure_would_refuse_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table = write(
        d,
        "rt.json",
        &tunnel(
            vec![
                json!({"name": "batch", "addressPrefix": "BatchNodeManagement.EastUS2", "nextHopType": "Internet"}),
            ],
            true,
        ),
    );
    let file = snapshot(&data_dir(), PUBLIC);
    let diff = tagroute(&["diff", "-f", &file, "-r", "eastus2", "--existing", &table]).status(1);
    let refused = "route 'batch' names the service tag BatchNodeManagement.EastUS2, whose networkFeatures lack UDR";
    assert!(diff.stderr.contains(refused), "{}", diff.stderr);
    let run = check(&["--route-table", &table, "--public-ip", "--format", "json"]).status(1);
    let prerequisites = run.json()["prerequisites"].to_string();
    assert!(prerequisites.contains(refused), "{prerequisites}");
}

/// A NIC's effective security groups (`az network nic list-effective-nsg -o json`) stand in for
/// `--nsg`: each group must allow a flow, and a rule's tag is taken as Azure expanded it.
#[test]
fn effective_security_groups_must_each_allow_a_flow() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sub = write(d, "subnet.json", &subnet(true, true, true));
    let table = empty_table(d, true);
    let rule = |name: &str, access: &str, priority: u32, expanded: Value| json!({"name": name, "protocol": "All", "sourcePortRange": "0-65535", "destinationPortRange": "0-65535", "sourceAddressPrefix": "Tag/AzureMachineLearning", "destinationAddressPrefix": "*", "expandedSourceAddressPrefix": expanded, "expandedDestinationAddressPrefix": null, "access": access, "priority": priority, "direction": "Inbound"});
    let file = snapshot(&data_dir(), PUBLIC);
    let aml = raw_prefixes(&file, "AzureMachineLearning");
    let aml: Vec<&String> = aml.iter().filter(|p| !p.contains(':')).collect();
    let groups = |nic_rules: Vec<Value>| {
        json!({"value": [
            {"networkSecurityGroup": {"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg"}, "effectiveSecurityRules": [rule("securityRules/AllowAml", "Allow", 100, json!(aml))]},
            {"networkSecurityGroup": {"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-nic"}, "effectiveSecurityRules": nic_rules},
        ]})
    };
    // A check of the subnet with these effective groups, and `extra` flags.
    let with_groups = |path: &str, extra: &[&str]| {
        let base = [
            "--subnet-file",
            sub.as_str(),
            "--route-table",
            table.as_str(),
            "--effective-nsgs",
            path,
        ];
        check(&[&base[..], extra].concat())
    };
    let verdict = |nic_rules: Vec<Value>, name: &str| {
        let path = write(d, name, &groups(nic_rules));
        flows(&with_groups(&path, &["--format", "json"]))
            .into_iter()
            .find(|f| {
                f["kind"] == "rule"
                    && f["direction"] == "inbound"
                    && f["target"] == "AzureMachineLearning"
            })
            .unwrap()
    };
    // Both groups allow the tag: ok. The NIC's group with only Azure's default deny: blocked,
    // named by its group.
    let both = verdict(
        vec![rule("securityRules/AllowAml", "Allow", 100, json!(aml))],
        "both.json",
    );
    assert_eq!(both["verdict"], "ok", "{both}");
    let one = verdict(vec![], "one.json");
    assert_eq!(one["verdict"], "blocked", "{one}");
    assert!(
        one["reasons"]
            .to_string()
            .contains("DenyAllInBound of nsg-nic"),
        "{one}"
    );
    // The fix goes to each group that denies, by the name and resource group its id gives:
    // the subnet's group allows only Azure ML, so Batch's inbound flow needs a rule there; the
    // NIC's group (Azure's defaults only) needs both. Added where they go, every inbound flow
    // passes.
    let path = write(d, "one.json", &groups(vec![]));
    let fix = with_groups(&path, &["--fix-format", "json"])
        .status(1)
        .json();
    let fixes = fix["networkSecurityGroups"].as_array().unwrap();
    let placed: Vec<(&Value, &Value)> = fixes
        .iter()
        .map(|n| (&n["name"], &n["resourceGroup"]))
        .collect();
    assert_eq!(
        placed,
        [
            (&json!("nsg"), &json!("rg-net")),
            (&json!("nsg-nic"), &json!("rg-net"))
        ],
        "{fix}"
    );
    let added = |at: usize| fixes[at]["securityRules"].as_array().unwrap().clone();
    assert!(
        added(1)
            .iter()
            .any(|r| r["properties"]["sourceAddressPrefix"] == "AzureMachineLearning")
            && !added(0)
                .iter()
                .any(|r| r["properties"]["sourceAddressPrefix"] == "AzureMachineLearning"),
        "{fix}"
    );
    let mut subnet_rules = vec![rule("securityRules/AllowAml", "Allow", 100, json!(aml))];
    subnet_rules.extend(added(0));
    let mut fixed = groups(added(1));
    fixed["value"][0]["effectiveSecurityRules"] = json!(subnet_rules);
    let fixed = write(d, "fixed.json", &fixed);
    let inbound: Vec<Value> = flows(&with_groups(&fixed, &["--format", "json"]))
        .into_iter()
        .filter(|f| f["kind"] == "rule" && f["direction"] == "inbound")
        .collect();
    assert!(
        !inbound.is_empty() && inbound.iter().all(|f| f["verdict"] == "ok"),
        "{inbound:?}"
    );
    // Both groups deny: a section for each, each in its own NSG, one Terraform file.
    let both_deny = json!({"value": [
        {"networkSecurityGroup": {"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg"}, "effectiveSecurityRules": []},
        {"networkSecurityGroup": {"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-spoke/providers/Microsoft.Network/networkSecurityGroups/nsg-nic"}, "effectiveSecurityRules": []},
    ]});
    let path = write(d, "both-deny.json", &both_deny);
    let fix_as = |format: &str| with_groups(&path, &["--fix-format", format]).status(1);
    let fix = fix_as("json").json();
    let names: Vec<(&str, &str)> = fix["networkSecurityGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap(),
                n["resourceGroup"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("nsg", "rg-net"), ("nsg-nic", "rg-spoke")]);
    let tf = fix_as("terraform").status(1).stdout;
    assert!(
        tf.contains("network_security_group_name = \"nsg\"")
            && tf.contains("network_security_group_name = \"nsg-nic\"")
            && tf.contains("resource_group_name         = \"rg-spoke\"")
            && !tf.contains("variable \"network_security_group_name\""),
        "{tf}"
    );
    if let Some(doc) = hcl_to_json(&tf) {
        let labels: Vec<String> = doc["resource"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                let rule = r
                    .as_object()
                    .and_then(|o| {
                        o.get("azurerm_network_security_rule")
                            .or(o.get("\"azurerm_network_security_rule\""))
                    })
                    .unwrap_or_else(|| panic!("{r}"));
                rule.as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut unique = labels.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), labels.len(), "{labels:?}");
    }
    let az = fix_as("az").stdout;
    let (first, second) = (
        az.find("NSG='nsg'").unwrap(),
        az.find("NSG='nsg-nic'").unwrap(),
    );
    assert!(
        first < second && az.contains("RESOURCE_GROUP='rg-spoke'"),
        "{az}"
    );
    // --nsg and --effective-nsgs are one or the other.
    check(&["--nsg", &sub, "--effective-nsgs", &sub]).status(2);
}
