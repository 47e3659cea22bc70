//! The lpm strategy, slack and route budgets on the real public file, through the library: each
//! plan re-checked by the forwarding model (`model/`), which shares no code with tagroute (moved
//! from the binary's tests, which ran `plan --format json` for each plan).

mod model;
mod planning;

use model::*;
use planning::*;
use serde_json::Value;
use tagroute::options::TableOptions;
use tagroute::plan::{PlanError, Strategy};
use tagroute::request::RequestError;
use tagroute::snapshot::Snapshot;

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
fn legacy(more: TableOptions) -> TableOptions {
    TableOptions {
        profile: Some("legacy-2020".into()),
        ..more
    }
}

/// The lpm strategy back to the firewall.
fn to_firewall(more: TableOptions) -> TableOptions {
    TableOptions {
        strategy: Some(Strategy::Lpm),
        default_next_hop: Some(tagroute::request::parse_default_next_hop(FW).unwrap()),
        ..more
    }
}

fn json_plan(snapshot: &Snapshot, options: TableOptions) -> Value {
    plan(snapshot, &legacy(options)).json
}

const PUBLIC: &str = "ServiceTags_Public_20251028.json";

#[test]
fn lpm_and_slack_on_real_regions() {
    let path = snapshot(&data_dir(), PUBLIC);
    let file = real(PUBLIC);
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
        let at = || TableOptions {
            region: Some(region.into()),
            ..TableOptions::default()
        };
        let exact = json_plan(&file, at());
        let lpm = json_plan(&file, to_firewall(at()));
        let slack = json_plan(
            &file,
            to_firewall(TableOptions {
                slack: strings(&[cloud_tag]),
                ..at()
            }),
        );
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
    let path = snapshot(&data_dir(), PUBLIC);
    let file = real(PUBLIC);
    let selected = v4_ranges(&raw_prefixes(&path, "AzureCloud.eastus"));
    let big = || TableOptions {
        tags: strings(&["AzureCloud.eastus"]),
        max_routes: Some(1000),
        ..TableOptions::default()
    };
    let exact = json_plan(&file, big());
    let lpm = json_plan(&file, to_firewall(big()));
    assert!(lpm["summary"]["exceptionRoutes"].as_u64().unwrap() > 0);
    assert!(lpm["summary"]["routes"].as_u64() < exact["summary"]["routes"].as_u64());
    verify(&lpm, &selected, &[]);
    // Slack AzureCloud: the routes needed at least, then the fewest extra addresses at 250.
    let all_azure = v4_ranges(&raw_prefixes(&path, "AzureCloud"));
    let slack = |budget: Option<usize>| TableOptions {
        tags: strings(&["AzureCloud.eastus"]),
        slack: strings(&["AzureCloud"]),
        budget,
        ..TableOptions::default()
    };
    let fewest = json_plan(&file, slack(None));
    let n = fewest["summary"]["routes"].as_u64().unwrap();
    assert_eq!(
        verify(&fewest, &selected, &all_azure),
        fewest["slack"]["addresses"].as_u64().unwrap()
    );
    let budget = json_plan(&file, slack(Some(250)));
    assert!(budget["summary"]["routes"].as_u64().unwrap() <= 250);
    let at_250 = verify(&budget, &selected, &all_azure);
    assert!(
        at_250 <= fewest["slack"]["addresses"].as_u64().unwrap(),
        "a larger budget never sends more"
    );
    let too_small = n as usize - 1;
    let err = try_plan(&file, &legacy(slack(Some(too_small)))).err();
    assert!(
        matches!(
            err,
            Some(RequestError::Plan(PlanError::BudgetTooSmall { max, smallest }))
                if max == too_small && smallest == n
        ),
        "{err:?}"
    );
}

#[test]
fn budgets_for_all_regions_default_tags() {
    let path = snapshot(&data_dir(), PUBLIC);
    let file = real(PUBLIC);
    let tags = || TableOptions {
        tags: strings(&["BatchNodeManagement.*", "AzureMachineLearning.*"]),
        ..TableOptions::default()
    };
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
    let all = json_plan(&file, tags());
    assert_eq!(all["summary"]["routes"], needed as u64);
    let limited = TableOptions {
        max_routes: Some(400),
        ..tags()
    };
    let err = try_plan(&file, &legacy(limited)).err();
    assert!(
        matches!(
            err,
            Some(RequestError::Plan(PlanError::TooManyRoutes { needed: n, max: 400 })) if n == needed
        ),
        "{err:?}"
    );
    let everything = [(0u64, u32::MAX as u64)];
    let mut last = 0;
    for n in [400, 200, 100] {
        let p = json_plan(
            &file,
            TableOptions {
                allow_any_slack: Some(true),
                budget: Some(n),
                ..tags()
            },
        );
        assert!(p["summary"]["routes"].as_u64().unwrap() <= n as u64);
        let extra = verify(&p, &selected, &everything);
        assert_eq!(p["slack"]["addresses"], extra);
        assert!(
            extra >= last,
            "a smaller budget never sends fewer extra addresses"
        );
        last = extra;
    }
}
