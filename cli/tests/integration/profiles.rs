//! Requirement profiles on the real files: the default plan routes the region's and the paired
//! region's tags, checked against the prefixes read straight from the file; every region of
//! the three clouds has its pair (or the document's word that it has none); profiles without
//! routes plan nothing and say what to write instead; `rules` writes rules whose tags the file
//! holds, and its az script runs the right commands whatever a name holds.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::Value;

use crate::harness::*;

const PUBLIC: &str = "ServiceTags_Public_20251028.json";
const GOV: &str = "ServiceTags_AzureGovernment_20260720.json";
const CHINA: &str = "ServiceTags_China_20260720.json";

/// (file, region, the tags the default profile must route, as the file names them). The pairs
/// are written down from Microsoft's regions-paired.md (2025-01-13), directions included:
/// West India's secondary is South India, South India's is Central India, Brazil South's is
/// South Central US; Qatar Central has none.
const DEFAULT_CASES: &[(&str, &str, &[&str])] = &[
    (
        PUBLIC,
        "eastus2",
        &[
            "AzureMachineLearning.EastUS2",
            "BatchNodeManagement.EastUS2",
            "AzureMachineLearning.CentralUS",
        ],
    ),
    (
        PUBLIC,
        "westindia",
        &[
            "AzureMachineLearning.WestIndia",
            "BatchNodeManagement.WestIndia",
            "AzureMachineLearning.SouthIndia",
        ],
    ),
    (
        PUBLIC,
        "southindia",
        &[
            "AzureMachineLearning.SouthIndia",
            "BatchNodeManagement.SouthIndia",
            "AzureMachineLearning.CentralIndia",
        ],
    ),
    (
        PUBLIC,
        "brazilsouth",
        &[
            "AzureMachineLearning.BrazilSouth",
            "BatchNodeManagement.BrazilSouth",
            "AzureMachineLearning.SouthCentralUS",
        ],
    ),
    (
        PUBLIC,
        "qatarcentral",
        &[
            "AzureMachineLearning.QatarCentral",
            "BatchNodeManagement.QatarCentral",
        ],
    ),
    (
        GOV,
        "usgovvirginia",
        &[
            "AzureMachineLearning.USGovVirginia",
            "BatchNodeManagement.USGovVirginia",
            "AzureMachineLearning.USGovTexas",
        ],
    ),
    (
        CHINA,
        "chinaeast2",
        &[
            "AzureMachineLearning.ChinaEast2",
            "BatchNodeManagement.ChinaEast2",
            "AzureMachineLearning.ChinaNorth2",
        ],
    ),
];

/// The tag names of `file` that match `name` without letter case.
fn file_tag(file: &str, name: &str) -> Option<String> {
    raw_tags(file)
        .into_iter()
        .map(|t| t.0)
        .find(|t| t.eq_ignore_ascii_case(name))
}

#[test]
fn the_default_plan_routes_the_region_and_its_paired_region() {
    let dir = data_dir();
    for (file, region, tags) in DEFAULT_CASES {
        let path = snapshot(&dir, file);
        let run = tagroute(&["plan", "-f", &path, "-r", region, "--format", "json"]).status(0);
        let plan = run.json();
        let mut input: Vec<String> = Vec::new();
        let mut want_tags: Vec<String> = Vec::new();
        for t in *tags {
            let name = file_tag(&path, t).unwrap_or_else(|| panic!("{file} has no {t}"));
            input.extend(raw_prefixes(&path, &name));
            want_tags.push(name);
        }
        input.retain(|p| !p.contains(':'));
        let mut names: Vec<String> = plan["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        want_tags.sort();
        assert_eq!(names, want_tags, "{file} {region}");
        let routes: Vec<String> = plan["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["addressPrefix"].as_str().unwrap().to_owned())
            .collect();
        let want = v4_ranges(&input);
        assert_eq!(v4_ranges(&routes), want, "{file} {region}: coverage");
        assert_eq!(
            routes.len(),
            min_cidr_count(&want),
            "{file} {region}: minimal"
        );
        assert!(
            run.stderr.contains("the forced-tunneling profile routes"),
            "{}",
            run.stderr
        );
        if *region == "qatarcentral" {
            assert!(
                run.stderr
                    .contains("qatarcentral has no paired region (regions-paired.md, 2025-01-13)"),
                "{}",
                run.stderr
            );
        }
        // The paired region's tag is not called a tag of another region.
        assert!(!run.stderr.contains("lies in region"), "{}", run.stderr);
    }
    // A region the document does not list: said, and its own tags planned.
    let path = snapshot(&dir, PUBLIC);
    let run = tagroute(&["plan", "-f", &path, "-r", "jioindiawest"]).status(0);
    assert!(
        run.stderr
            .contains("jioindiawest is not in Microsoft's list of region pairs"),
        "{}",
        run.stderr
    );
    // The 2020 pair is still there to be had.
    let legacy = tagroute(&[
        "plan",
        "-f",
        &path,
        "-r",
        "eastus2",
        "--profile",
        "legacy-2020",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(legacy["tags"].as_array().unwrap().len(), 2);
}

/// Every region of the three real files is in data/regions.toml, and every pair names a region
/// of the same cloud's file: `regions` says each region's pair from the document.
#[test]
fn every_region_of_the_real_files_has_its_pair() {
    let dir = data_dir();
    let data = std::fs::read_to_string(repo().join("data/regions.toml")).unwrap();
    let listed: Vec<&str> = data
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    for file in [PUBLIC, GOV, CHINA] {
        let path = snapshot(&dir, file);
        let doc = tagroute(&["regions", "-f", &path, "--format", "json"])
            .status(0)
            .json();
        let regions = doc["regions"].as_array().unwrap();
        assert!(regions.len() >= 5, "{file}");
        let names: Vec<&str> = regions
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        for r in regions {
            let name = r["name"].as_str().unwrap();
            assert!(
                listed.contains(&name),
                "{file}: {name} is not in data/regions.toml"
            );
            if r["pair"]["kind"] == "paired" {
                let pair = r["pair"]["region"].as_str().unwrap();
                assert!(names.contains(&pair), "{file}: {name}'s pair {pair}");
            }
        }
    }
    let text = tagroute(&["regions", "-f", &snapshot(&dir, PUBLIC)])
        .status(0)
        .stdout;
    let line = |region: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{region} ")))
            .unwrap_or_else(|| panic!("{region}: {text}"))
            .to_owned()
    };
    assert!(line("eastus2").contains("East US 2") && line("eastus2").contains("centralus"));
    assert!(line("westindia").contains("southindia"));
    assert!(line("qatarcentral").contains("none (unpaired)"));
    assert!(line("jioindiawest").contains("not listed"));
}

/// A profile without routes plans none, exits 0, and names the rules to write instead.
#[test]
fn a_profile_without_routes_plans_nothing_and_says_why() {
    for profile in ["aml-no-public-ip", "batch-simplified"] {
        let run = tagroute(&[
            "plan",
            "-f",
            &example(),
            "-r",
            "westeurope",
            "--profile",
            profile,
        ])
        .status(0);
        assert!(run.stdout.contains("0 routes"), "{}", run.stdout);
        assert!(
            run.stderr
                .contains(&format!("tagroute rules --profile {profile}")),
            "{}",
            run.stderr
        );
    }
    tagroute(&[
        "plan",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "--profile",
        "aml",
    ])
    .fails_with("the profiles are forced-tunneling");
}

/// `profiles` lists every profile with its needs and sources.
#[test]
fn profiles_are_listed_with_their_sources() {
    let doc = tagroute(&["profiles", "--format", "json"]).status(0).json();
    assert_eq!(doc["default"], "forced-tunneling");
    let profiles = doc["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 6);
    for p in profiles {
        for r in p["rules"].as_array().unwrap() {
            let source = r["source"].as_str().unwrap();
            assert!(doc["sources"][source]["date"].is_string(), "{source}");
        }
    }
    let text = tagroute(&["profiles"]).status(0).stdout;
    assert!(text.contains("regions-paired.md"), "{text}");
}

/// The rules of each profile in each cloud name only tags the cloud's file holds; NSG rules get
/// ascending priorities from --priority-start; firewall rules are outbound only.
#[test]
fn rules_name_tags_the_file_holds() {
    let dir = data_dir();
    for (file, region) in [
        (PUBLIC, "eastus2"),
        (GOV, "usgovvirginia"),
        (CHINA, "chinaeast2"),
    ] {
        let path = snapshot(&dir, file);
        let tags: Vec<String> = raw_tags(&path).into_iter().map(|t| t.0).collect();
        for profile in ["forced-tunneling", "aml-no-public-ip", "batch-simplified"] {
            let doc = tagroute(&[
                "rules",
                "-f",
                &path,
                "-r",
                region,
                "--profile",
                profile,
                "--format",
                "json",
                "--priority-start",
                "300",
                "--source-prefix",
                "10.1.2.0/24",
            ])
            .status(0)
            .json();
            let rules = doc["securityRules"].as_array().unwrap();
            for (i, r) in rules.iter().enumerate() {
                let p = &r["properties"];
                assert_eq!(p["priority"], 300 + 10 * i as u64, "{file} {profile}");
                assert_eq!(p["access"], "Allow");
                let remote = match p["direction"].as_str().unwrap() {
                    "Inbound" => {
                        assert_eq!(p["destinationAddressPrefix"], "10.1.2.0/24");
                        p["sourceAddressPrefix"].as_str().unwrap()
                    }
                    _ => {
                        assert_eq!(p["sourceAddressPrefix"], "10.1.2.0/24");
                        p["destinationAddressPrefix"].as_str().unwrap()
                    }
                };
                assert!(
                    tags.iter().any(|t| t == remote),
                    "{file} {profile}: {remote}"
                );
            }
            let collections = doc["ruleCollectionGroup"]["properties"]["ruleCollections"]
                .as_array()
                .unwrap();
            for c in collections {
                assert_eq!(
                    c["ruleCollectionType"],
                    "FirewallPolicyFilterRuleCollection"
                );
                for r in c["rules"].as_array().unwrap() {
                    for d in r["destinationAddresses"].as_array().into_iter().flatten() {
                        assert!(tags.iter().any(|t| t == d.as_str().unwrap()), "{d}");
                    }
                }
            }
        }
    }
    // A tag the file lacks is refused, not written.
    tagroute(&[
        "rules",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "--profile",
        "aml-no-public-ip",
    ])
    .fails_with("has no service tag AzureActiveDirectory");
}

/// The az script runs the commands its rules say, with every value passed as one argument,
/// whatever the environment's names hold.
#[test]
fn the_rules_az_script_runs_the_right_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("az.log");
    let fake = tmp.path().join("az");
    std::fs::write(&fake, format!("#!/usr/bin/env bash\nif [ \"$1 $2\" = 'cloud show' ]; then echo AzureCloud; exit 0; fi\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\necho END >> '{}'\n", log.display(), log.display())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = tagroute(&[
        "rules",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "--profile",
        "batch-simplified",
        "--format",
        "az",
        "--source-prefix",
        "10.0.0.0/24",
    ])
    .status(0)
    .stdout;
    let file = tmp.path().join("rules.sh");
    std::fs::write(&file, &script).unwrap();
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap()
    );
    let nasty = "rg $(touch pwned) 'x'";
    let ok = Command::new("bash")
        .arg(&file)
        .env("PATH", &path)
        .env("RESOURCE_GROUP", nasty)
        .env("NSG", "nsg;rm -rf /")
        .env("FIREWALL_POLICY", "fwp")
        .current_dir(tmp.path())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert!(!tmp.path().join("pwned").exists());
    let logged = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<Vec<&str>> = logged
        .split("END\n")
        .filter(|c| !c.is_empty())
        .map(|c| c.lines().collect())
        .collect();
    assert_eq!(calls.len(), 3, "{logged}");
    assert_eq!(
        calls[0][..8],
        [
            "network",
            "nsg",
            "rule",
            "create",
            "--resource-group",
            nasty,
            "--nsg-name",
            "nsg;rm -rf /"
        ]
    );
    let arg = |call: &[&str], flag: &str| {
        let i = call.iter().position(|a| *a == flag).unwrap();
        call[i + 1].to_owned()
    };
    assert_eq!(
        arg(&calls[0], "--destination-address-prefixes"),
        "BatchNodeManagement.WestEurope"
    );
    assert_eq!(arg(&calls[0], "--source-address-prefixes"), "10.0.0.0/24");
    assert_eq!(arg(&calls[0], "--protocol"), "*");
    assert_eq!(arg(&calls[0], "--priority"), "200");
    assert_eq!(
        calls[1][..5],
        [
            "network",
            "firewall",
            "policy",
            "rule-collection-group",
            "create"
        ]
    );
    assert_eq!(
        calls[2][..6],
        [
            "network",
            "firewall",
            "policy",
            "rule-collection-group",
            "collection",
            "add-filter-collection"
        ]
    );
    assert_eq!(arg(&calls[2], "--rule-type"), "NetworkRule");
    assert_eq!(
        arg(&calls[2], "--destination-addresses"),
        "BatchNodeManagement.WestEurope"
    );
    assert_eq!(arg(&calls[2], "--ip-protocols"), "Any");
}

/// Every format of `rules` writes something its tool reads: JSON and ARM parse, Terraform is
/// HCL (when the parser is installed), Bicep names the resource types.
#[test]
fn every_rules_format_is_well_formed() {
    let rules = |format: &str| {
        tagroute(&[
            "rules",
            "-f",
            &example(),
            "-r",
            "westeurope",
            "--profile",
            "batch-simplified",
            "--format",
            format,
        ])
        .status(0)
        .stdout
    };
    let arm: Value = serde_json::from_str(&rules("arm")).unwrap();
    let types: Vec<&str> = arm["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Microsoft.Network/networkSecurityGroups/securityRules",
            "Microsoft.Network/firewallPolicies/ruleCollectionGroups"
        ]
    );
    let tf = rules("terraform");
    assert!(tf.contains("resource \"azurerm_network_security_rule\""));
    assert!(tf.contains("resource \"azurerm_firewall_policy_rule_collection_group\""));
    if let Some(json) = hcl_to_json(&tf) {
        assert!(
            json["resource"].is_array() || json["resource"].is_object(),
            "{json}"
        );
    }
    let bicep = rules("bicep");
    assert!(bicep.contains("'Microsoft.Network/networkSecurityGroups/securityRules@"));
    assert!(bicep.contains("'Microsoft.Network/firewallPolicies/ruleCollectionGroups@"));
    let table = rules("table");
    assert!(table.contains("NSG security rules (Allow):"), "{table}");
}

/// `plan --format avnm` writes the plan's routes as Virtual Network Manager routing rules, in
/// the shapes of the REST specification's examples (API 2025-07-01): a tag route's destination
/// is a `ServiceTag`, a prefix's an `AddressPrefix`, each rule the plan's next hop.
#[test]
fn avnm_rules_are_the_plans_routes() {
    for extra in [
        &[][..],
        &[
            "--tag-route",
            "auto",
            "--slack",
            "AzureMachineLearning",
            "--slack",
            "BatchNodeManagement",
        ][..],
    ] {
        let base = ["plan", "-f", &example(), "-r", "westeurope", "-q"];
        let plan_args: Vec<&str> = base
            .iter()
            .copied()
            .chain(["--format", "json"])
            .chain(extra.iter().copied())
            .collect();
        let plan = tagroute(&plan_args).status(0).json();
        let avnm_args: Vec<&str> = base
            .iter()
            .copied()
            .chain(["--format", "avnm"])
            .chain(extra.iter().copied())
            .collect();
        let template: Value = serde_json::from_str(&tagroute(&avnm_args).status(0).stdout).unwrap();
        let types: Vec<&str> = template["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "Microsoft.Network/networkManagers/routingConfigurations",
                "Microsoft.Network/networkManagers/routingConfigurations/ruleCollections",
                "Microsoft.Network/networkManagers/routingConfigurations/ruleCollections/rules"
            ]
        );
        for r in template["resources"].as_array().unwrap() {
            assert_eq!(r["apiVersion"], "2025-07-01");
        }
        let rules = template["variables"]["rules"].as_array().unwrap();
        let routes = plan["routes"].as_array().unwrap();
        assert_eq!(rules.len(), routes.len());
        for (rule, route) in rules.iter().zip(routes) {
            assert_eq!(rule["name"], route["name"]);
            let dest = &rule["properties"]["destination"];
            let prefix = route["addressPrefix"].as_str().unwrap();
            assert_eq!(dest["destinationAddress"], prefix);
            let kind = if prefix.contains('/') {
                "AddressPrefix"
            } else {
                "ServiceTag"
            };
            assert_eq!(dest["type"], kind);
            assert_eq!(rule["properties"]["nextHop"]["nextHopType"], "Internet");
        }
    }
}
