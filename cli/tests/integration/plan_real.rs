//! `plan` on the real snapshots of all three clouds, checked against an independent model:
//! the routes cover exactly the addresses of the region's default tags, and no fewer CIDR blocks
//! could (the greedy decomposition in the harness, which shares no code with tagroute).

use crate::harness::*;

/// (file, what the user types for --region, ARM name, expected default tags)
const CASES: &[(&str, &str, &str, [&str; 2])] = &[
    (
        "ServiceTags_Public_20251028.json",
        "eastus",
        "eastus",
        ["AzureMachineLearning.EastUS", "BatchNodeManagement.EastUS"],
    ),
    (
        "ServiceTags_Public_20251028.json",
        "francecentral",
        "francecentral",
        [
            "AzureMachineLearning.FranceCentral",
            "BatchNodeManagement.FranceCentral",
        ],
    ),
    (
        "ServiceTags_Public_20251028.json",
        "France Central",
        "francecentral",
        [
            "AzureMachineLearning.FranceCentral",
            "BatchNodeManagement.FranceCentral",
        ],
    ),
    (
        "ServiceTags_Public_20251028.json",
        "GermanyWestCentral",
        "germanywestcentral",
        [
            "AzureMachineLearning.GermanyWestCentral",
            "BatchNodeManagement.GermanyWestCentral",
        ],
    ),
    (
        "ServiceTags_Public_20251028.json",
        "West Europe",
        "westeurope",
        [
            "AzureMachineLearning.WestEurope",
            "BatchNodeManagement.WestEurope",
        ],
    ),
    (
        "ServiceTags_Public_20250728.json",
        "swedencentral",
        "swedencentral",
        [
            "AzureMachineLearning.SwedenCentral",
            "BatchNodeManagement.SwedenCentral",
        ],
    ),
    (
        "ServiceTags_AzureGovernment_20260720.json",
        "US Gov Virginia",
        "usgovvirginia",
        [
            "AzureMachineLearning.USGovVirginia",
            "BatchNodeManagement.USGovVirginia",
        ],
    ),
    (
        "ServiceTags_AzureGovernment_20260706.json",
        "usgovarizona",
        "usgovarizona",
        [
            "AzureMachineLearning.USGovArizona",
            "BatchNodeManagement.USGovArizona",
        ],
    ),
    (
        "ServiceTags_China_20260720.json",
        "chinaeast2",
        "chinaeast2",
        [
            "AzureMachineLearning.ChinaEast2",
            "BatchNodeManagement.ChinaEast2",
        ],
    ),
    (
        "ServiceTags_China_20260713.json",
        "China North 3",
        "chinanorth3",
        [
            "AzureMachineLearning.ChinaNorth3",
            "BatchNodeManagement.ChinaNorth3",
        ],
    ),
];

#[test]
fn plans_cover_exactly_the_default_tags_with_the_fewest_routes() {
    let dir = data_dir();
    for (file, region, arm_name, tags) in CASES {
        let path = snapshot(&dir, file);
        let run = tagroute(&[
            "plan",
            "--file",
            &path,
            "--region",
            region,
            "--format",
            "json",
            "--profile",
            "legacy-2020",
        ])
        .status(0);
        let plan = run.json();
        assert_eq!(plan["region"], *arm_name, "{file} {region}");
        let names: Vec<&str> = plan["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, tags, "{file} {region}");

        let mut input: Vec<String> = Vec::new();
        for t in tags {
            input.extend(raw_prefixes(&path, t));
        }
        let routes = plan["routes"].as_array().unwrap();
        let planned: Vec<String> = routes
            .iter()
            .map(|r| r["addressPrefix"].as_str().unwrap().to_owned())
            .collect();
        let want = v4_ranges(&input);
        assert_eq!(
            v4_ranges(&planned),
            want,
            "{file} {region}: coverage differs"
        );
        assert_eq!(
            routes.len(),
            min_cidr_count(&want),
            "{file} {region}: not minimal"
        );
        assert_eq!(plan["summary"]["routes"], routes.len());
        let v4_inputs = input.iter().filter(|p| !p.contains(':')).count();
        assert_eq!(plan["summary"]["inputPrefixes"], v4_inputs);
        let v6_inputs = input.len() - v4_inputs;
        assert_eq!(plan["summary"]["excludedIpv6Prefixes"], v6_inputs);
        if v6_inputs > 0 {
            assert!(
                run.stderr
                    .contains(&format!("left out {v6_inputs} IPv6 prefixes")),
                "{}",
                run.stderr
            );
        }

        let mut sorted = routes.clone();
        sorted.sort_by_key(|r| {
            let (a, l) = r["addressPrefix"]
                .as_str()
                .unwrap()
                .split_once('/')
                .unwrap();
            (
                a.parse::<std::net::Ipv4Addr>().unwrap(),
                l.parse::<u8>().unwrap(),
            )
        });
        assert_eq!(&sorted, routes, "routes sorted by address");
        for r in routes {
            let prefix = r["addressPrefix"].as_str().unwrap();
            assert_eq!(r["name"], format!("tagroute-{}", prefix.replace('/', "-")));
            assert_eq!(r["nextHopType"], "Internet");
            assert!(r["nextHopIpAddress"].is_null());
            // The route lists exactly the tags that have a prefix inside it.
            let route_range = v4_ranges(&[prefix])[0];
            let carriers: Vec<&str> = tags
                .iter()
                .copied()
                .filter(|t| {
                    v4_ranges(&raw_prefixes(&path, t))
                        .iter()
                        .any(|&(lo, hi)| lo <= route_range.1 && hi >= route_range.0)
                })
                .collect();
            let listed: Vec<&str> = r["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(listed, carriers, "{file} {prefix}");
        }
    }
}

#[test]
fn family_both_adds_ipv6_after_ipv4() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let plan = tagroute(&[
        "plan", "-f", &path, "-r", "eastus", "--family", "both", "--format", "json",
    ])
    .status(0)
    .json();
    let routes = plan["routes"].as_array().unwrap();
    let is_v6: Vec<bool> = routes
        .iter()
        .map(|r| r["addressPrefix"].as_str().unwrap().contains(':'))
        .collect();
    assert!(
        is_v6.iter().any(|&b| b) && !is_v6[0],
        "both families present, IPv4 first"
    );
    assert!(
        is_v6.windows(2).all(|w| w[0] <= w[1]),
        "no IPv4 route after an IPv6 one"
    );
    for r in routes
        .iter()
        .filter(|r| r["addressPrefix"].as_str().unwrap().contains(':'))
    {
        let name = r["name"].as_str().unwrap();
        assert!(!name.contains(':') && name.len() <= 80, "{name}");
    }
    assert_eq!(plan["family"], "both");
    assert_eq!(plan["summary"]["excludedIpv6Prefixes"], 0);
    let v6 = tagroute(&[
        "plan", "-f", &path, "-r", "eastus", "--family", "ipv6", "--format", "json",
    ])
    .status(0)
    .json();
    assert!(
        v6["routes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["addressPrefix"].as_str().unwrap().contains(':'))
    );
}

#[test]
fn explicit_tags_and_globs_replace_the_defaults() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let plan = tagroute(&[
        "plan",
        "-f",
        &path,
        "--tag",
        "azurecloud.EASTUS",
        "--max-routes",
        "1000",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(plan["tags"][0]["name"], "AzureCloud.eastus");
    let input = raw_prefixes(&path, "AzureCloud.eastus");
    let want = v4_ranges(&input);
    assert_eq!(
        plan["routes"].as_array().unwrap().len(),
        min_cidr_count(&want)
    );
    // Over a budget of 400 routes (Azure's limit before May 2026): refused with the count,
    // never truncated.
    let needed = min_cidr_count(&want).to_string();
    assert!(min_cidr_count(&want) > 400);
    tagroute(&[
        "plan",
        "-f",
        &path,
        "--tag",
        "AzureCloud.eastus",
        "--max-routes",
        "400",
    ])
    .fails_with(&format!("needs {needed} routes"));
    let glob = tagroute(&[
        "plan",
        "-f",
        &path,
        "-r",
        "eastus",
        "--tag",
        "BatchNodeManagement.East*",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    let names: Vec<&str> = glob["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "BatchNodeManagement.EastAsia",
            "BatchNodeManagement.EastUS",
            "BatchNodeManagement.EastUS2",
            "BatchNodeManagement.EastUS2EUAP",
            "BatchNodeManagement.EastUSSTG"
        ]
    );
}

#[test]
fn reads_stdin_and_the_arm_api_shape() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_China_20260720.json");
    let args = ["plan", "-f", "-", "-r", "chinaeast2", "--format", "json"];
    let from_file = tagroute(&["plan", "-f", &path, "-r", "chinaeast2", "--format", "json"])
        .status(0)
        .json();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        tagroute_with(&args, Some(&bytes), &[]).status(0).json(),
        from_file
    );

    // What `az network list-service-tags` prints: change numbers as strings, extra fields.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let cn = v["changeNumber"].to_string();
    v["changeNumber"] = cn.into();
    v["name"] = "China".into();
    v["id"] = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Network/serviceTags/China".into();
    v["type"] = "Microsoft.Network/serviceTags".into();
    for t in v["values"].as_array_mut().unwrap() {
        let cn = t["properties"]["changeNumber"].to_string();
        t["serviceTagChangeNumber"] = cn.clone().into();
        t["properties"]["changeNumber"] = cn.into();
        t["properties"]["state"] = "GA".into();
    }
    let arm = serde_json::to_vec(&v).unwrap();
    assert_eq!(
        tagroute_with(&args, Some(&arm), &[]).status(0).json(),
        from_file
    );
}

#[test]
fn warns_when_a_default_tag_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    v["values"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["name"] != "AzureMachineLearning.WestEurope");
    let path = tmp.path().join("no-aml.json");
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    let run = tagroute(&[
        "plan",
        "-f",
        path.to_str().unwrap(),
        "-r",
        "westeurope",
        "--format",
        "csv",
    ])
    .status(0);
    assert!(
        run.stderr
            .contains("no AzureMachineLearning tag for region westeurope"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stdout.lines().count(),
        1 + 2,
        "header and the two Batch routes"
    );
    let quiet = tagroute(&[
        "plan",
        "-q",
        "-f",
        path.to_str().unwrap(),
        "-r",
        "westeurope",
    ])
    .status(0);
    assert!(quiet.stderr.is_empty());
}
