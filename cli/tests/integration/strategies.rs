//! `--strategy lpm`, `--slack` and route budgets on the real public file, each plan re-checked
//! here by a forwarding model that shares no code with tagroute.

use serde_json::Value;

use crate::harness::*;

const FW: &str = "VirtualAppliance:10.0.0.4";

fn routes_of(plan: &Value) -> Vec<(String, bool)> {
    plan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["addressPrefix"].as_str().unwrap().to_owned(),
                r["nextHopType"] == "Internet",
            )
        })
        .collect()
}

/// Asserts that the plan sends every selected address to Internet and nothing outside
/// `selected ∪ slack`; returns the extra addresses it sends.
fn verify(plan: &Value, selected: &[(u64, u64)], slack: &[(u64, u64)]) -> u64 {
    let sent = internet_ranges(&routes_of(plan));
    assert_eq!(
        count(&minus(selected, &sent)),
        0,
        "a selected address misses Internet"
    );
    let extra = minus(&sent, selected);
    assert_eq!(
        count(&minus(&extra, slack)),
        0,
        "an address outside the slack goes to Internet"
    );
    count(&extra)
}

/// A plan of the region's own two tags (the legacy-2020 profile): the strategies are weighed on
/// one region's addresses, which its `AzureCloud.<region>` slack covers.
fn json_plan(args: &[&str]) -> Value {
    let mut all = vec!["plan", "--format", "json", "-q", "--profile", "legacy-2020"];
    all.extend_from_slice(args);
    tagroute(&all).status(0).json()
}

#[test]
fn lpm_and_slack_on_real_regions() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    for (region, suffix, cloud_tag) in [
        ("eastus", "EastUS", "AzureCloud.eastus"),
        ("westeurope", "WestEurope", "AzureCloud.westeurope"),
        ("francecentral", "FranceCentral", "AzureCloud.centralfrance"),
    ] {
        let mut sel = raw_prefixes(&path, &format!("BatchNodeManagement.{suffix}"));
        sel.extend(raw_prefixes(
            &path,
            &format!("AzureMachineLearning.{suffix}"),
        ));
        let selected = v4_ranges(&sel);
        let exact = json_plan(&["-f", &path, "-r", region]);
        let lpm = json_plan(&[
            "-f",
            &path,
            "-r",
            region,
            "--strategy",
            "lpm",
            "--default-next-hop",
            FW,
        ]);
        let slack = json_plan(&[
            "-f",
            &path,
            "-r",
            region,
            "--strategy",
            "lpm",
            "--default-next-hop",
            FW,
            "--slack",
            cloud_tag,
        ]);
        assert_eq!(verify(&exact, &selected, &[]), 0);
        assert_eq!(verify(&lpm, &selected, &[]), 0);
        let cloud = v4_ranges(&raw_prefixes(&path, cloud_tag));
        let extra = verify(&slack, &selected, &cloud);
        let n = |p: &Value| p["routes"].as_array().unwrap().len();
        assert!(n(&slack) <= n(&lpm) && n(&lpm) <= n(&exact), "{region}");
        assert_eq!(slack["slack"]["addresses"], extra, "{region}");
        if extra > 0 {
            assert_eq!(slack["slack"]["byTag"][cloud_tag], extra);
        }
        assert_eq!(lpm["strategy"], "lpm");
        assert_eq!(
            lpm["defaultNextHop"],
            serde_json::json!({"nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"})
        );
        for r in lpm["routes"].as_array().unwrap() {
            assert_eq!(
                r["name"],
                format!(
                    "tagroute-{}",
                    r["addressPrefix"].as_str().unwrap().replace('/', "-")
                )
            );
            if r["nextHopType"] != "Internet" {
                assert_eq!(r["nextHopIpAddress"], "10.0.0.4");
                assert_eq!(r["tags"], serde_json::json!([]));
            }
        }
    }
}

#[test]
fn azurecloud_eastus_shrinks_with_exceptions_and_slack() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let selected = v4_ranges(&raw_prefixes(&path, "AzureCloud.eastus"));
    let big = [
        "-f",
        &path,
        "--tag",
        "AzureCloud.eastus",
        "--max-routes",
        "1000",
    ];
    let exact = json_plan(&big);
    let lpm = json_plan(&[&big[..], &["--strategy", "lpm", "--default-next-hop", FW]].concat());
    assert!(lpm["summary"]["exceptionRoutes"].as_u64().unwrap() > 0);
    assert!(lpm["summary"]["routes"].as_u64() < exact["summary"]["routes"].as_u64());
    verify(&lpm, &selected, &[]);
    // --slack AzureCloud: the routes needed at least, then the fewest extra addresses at 250.
    let all_azure = v4_ranges(&raw_prefixes(&path, "AzureCloud"));
    let fewest = json_plan(&[
        "-f",
        &path,
        "--tag",
        "AzureCloud.eastus",
        "--slack",
        "AzureCloud",
    ]);
    let n = fewest["summary"]["routes"].as_u64().unwrap();
    assert_eq!(
        verify(&fewest, &selected, &all_azure),
        fewest["slack"]["addresses"].as_u64().unwrap()
    );
    let budget = json_plan(&[
        "-f",
        &path,
        "--tag",
        "AzureCloud.eastus",
        "--slack",
        "AzureCloud",
        "--max-routes",
        "250",
    ]);
    assert!(budget["summary"]["routes"].as_u64().unwrap() <= 250);
    let at_250 = verify(&budget, &selected, &all_azure);
    assert!(
        at_250 <= fewest["slack"]["addresses"].as_u64().unwrap(),
        "a larger budget never sends more"
    );
    let too_small = (n - 1).to_string();
    tagroute(&["plan", "-f", &path, "--tag", "AzureCloud.eastus", "--slack", "AzureCloud", "--max-routes", &too_small])
        .fails_with(&format!("no table of at most {too_small} routes meets the intent under the given slack; the smallest has {n} routes"));
}

#[test]
fn budgets_for_all_regions_default_tags() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let tags = [
        "--tag",
        "BatchNodeManagement.*",
        "--tag",
        "AzureMachineLearning.*",
    ];
    let mut sel = Vec::new();
    for (name, _, p) in raw_tags(&path) {
        if name.starts_with("BatchNodeManagement.") || name.starts_with("AzureMachineLearning.") {
            sel.extend(p);
        }
    }
    let selected = v4_ranges(&sel);
    let needed = min_cidr_count(&selected);
    // Within Azure's 1,000 routes per table since May 2026; over the 400 of before, which is
    // now a budget like any other.
    assert!((401..=1000).contains(&needed), "{needed}");
    let all = json_plan(&[&["-f", &path][..], &tags[..]].concat());
    assert_eq!(all["summary"]["routes"], needed as u64);
    tagroute(&[&["plan", "-f", &path, "--max-routes", "400"][..], &tags[..]].concat())
        .fails_with(&format!("needs {needed} routes"));
    let everything = [(0u64, u32::MAX as u64)];
    let mut last = 0;
    for n in ["400", "200", "100"] {
        let p = json_plan(
            &[
                &["-f", &path][..],
                &tags[..],
                &["--allow-any-slack", "--max-routes", n],
            ]
            .concat(),
        );
        assert!(p["summary"]["routes"].as_u64().unwrap() <= n.parse().unwrap());
        let extra = verify(&p, &selected, &everything);
        assert_eq!(p["slack"]["addresses"], extra);
        assert!(
            extra >= last,
            "a smaller budget never sends fewer extra addresses"
        );
        last = extra;
    }
    tagroute(
        &[
            &[
                "plan",
                "-f",
                &path,
                "--family",
                "both",
                "--allow-any-slack",
                "--max-routes",
                "100",
            ][..],
            &tags[..],
        ]
        .concat(),
    )
    .fails_with("one family at a time");
}

#[test]
fn lpm_needs_a_forced_tunnel_next_hop() {
    let ex = example();
    tagroute(&["plan", "-f", &ex, "-r", "westeurope", "--strategy", "lpm"])
        .fails_with("--strategy lpm needs the default route's next hop");
    let bgp = tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        "bgp",
    ]);
    assert_eq!(bgp.status, 2);
    assert!(
        bgp.stderr
            .contains("ExpressRoute or VPN BGP is not a route-table next hop")
    );
    let internet = tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        "Internet",
    ]);
    assert_eq!(internet.status, 2);
    tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--slack",
        "NoSuchTag",
    ])
    .fails_with("--slack: tag pattern 'NoSuchTag' matches no tag");
}

#[test]
fn diff_takes_the_default_hop_from_the_table_and_owns_exception_routes() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = example();
    let routes = crate::harness::repo().join("data/routes_example.json");
    // No --default-next-hop: lpm takes it from the table's 0.0.0.0/0 route (to 10.0.0.4).
    let args = [
        "diff",
        "-f",
        &ex,
        "--tag",
        "AzureCloud.westeurope",
        "--strategy",
        "lpm",
        "-e",
        routes.to_str().unwrap(),
        "--format",
        "json",
    ];
    let d = tagroute(&args).status(1).json();
    let adds = d["add"].as_array().unwrap();
    assert!(
        adds.iter()
            .all(|r| r["nextHopType"] == "Internet" || r["nextHopIpAddress"] == "10.0.0.4")
    );
    // A plan with exception routes, applied and diffed again, is unchanged: diff owns them.
    let plan = tagroute(&[
        "plan",
        "-f",
        &ex,
        "--tag",
        "AzureCloud.westeurope",
        "--tag",
        "BatchNodeManagement.WestEurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        FW,
        "--allow-any-slack",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    let table = tmp.path().join("t.json");
    let mut rows = plan["routes"].as_array().unwrap().clone();
    rows.push(serde_json::json!({"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    std::fs::write(&table, serde_json::to_vec(&rows).unwrap()).unwrap();
    let again = tagroute(&[
        "diff",
        "-f",
        &ex,
        "--tag",
        "AzureCloud.westeurope",
        "--tag",
        "BatchNodeManagement.WestEurope",
        "--strategy",
        "lpm",
        "--allow-any-slack",
        "-e",
        table.to_str().unwrap(),
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(
        again["unchanged"].as_u64().unwrap() as usize,
        plan["routes"].as_array().unwrap().len()
    );
}

/// `--budget` is the budget; `--max-routes` with slack, its old spelling, plans the same with a
/// note; a budget without slack is refused; with both, the table's limit bounds the budget.
#[test]
fn budget_is_its_own_flag_and_the_old_spelling_works() {
    let ex = example();
    let base = ["plan", "-f", &ex, "-r", "westeurope", "--format", "json"];
    let with = |extra: &[&str]| tagroute(&[&base[..], extra].concat());
    let budget = with(&["--allow-any-slack", "--budget", "2"]).status(0);
    assert!(budget.json()["summary"]["routes"].as_u64().unwrap() <= 2);
    assert!(!budget.stderr.contains("old spelling"), "{}", budget.stderr);
    let old = with(&["--allow-any-slack", "--max-routes", "2"]).status(0);
    assert_eq!(old.stdout, budget.stdout);
    assert!(
        old.stderr
            .contains("--max-routes 2 with slack is read as --budget 2, its old spelling"),
        "{}",
        old.stderr
    );
    with(&["--budget", "2"]).fails_with("--budget trades slack for routes");
    let both = with(&["--allow-any-slack", "--budget", "5", "--max-routes", "2"]).status(0);
    assert_eq!(both.stdout, budget.stdout, "the smaller bound wins");
}
