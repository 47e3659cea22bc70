//! `drift` on the real weekly pairs, checked against an independent computation with serde_json.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::harness::*;

/// Per tag (lower-case name): (name, changeNumber, prefix set), read without tagroute.
fn model(file: &str) -> BTreeMap<String, (String, u64, BTreeSet<String>)> {
    raw_tags(file)
        .into_iter()
        .map(|(n, c, p)| (n.to_ascii_lowercase(), (n, c, p.into_iter().collect())))
        .collect()
}

fn check_all_tags(old: &str, new: &str) -> serde_json::Value {
    let run = tagroute(&["drift", old, new, "--format", "json"]);
    let d = run.json();
    let (om, nm) = (model(old), model(new));
    let mut want = Vec::new();
    for (k, (name, nc, np)) in &nm {
        let Some((_, oc, op)) = om.get(k) else {
            continue;
        };
        let added: BTreeSet<&String> = np.difference(op).collect();
        let removed: BTreeSet<&String> = op.difference(np).collect();
        if !added.is_empty() || !removed.is_empty() || oc != nc {
            want.push((
                name.clone(),
                *oc,
                *nc,
                added.into_iter().cloned().collect::<BTreeSet<_>>(),
                removed.into_iter().cloned().collect::<BTreeSet<_>>(),
            ));
        }
    }
    let got: Vec<_> = d["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let set = |k: &str| {
                t[k].as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect::<BTreeSet<_>>()
            };
            (
                t["name"].as_str().unwrap().to_owned(),
                t["oldChangeNumber"].as_u64().unwrap(),
                t["newChangeNumber"].as_u64().unwrap(),
                set("added"),
                set("removed"),
            )
        })
        .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort_by_key(|t| t.0.to_ascii_lowercase());
    assert_eq!(got_sorted, want);
    let appeared: BTreeSet<String> = nm
        .iter()
        .filter(|(k, _)| !om.contains_key(*k))
        .map(|(_, v)| v.0.clone())
        .collect();
    let vanished: BTreeSet<String> = om
        .iter()
        .filter(|(k, _)| !nm.contains_key(*k))
        .map(|(_, v)| v.0.clone())
        .collect();
    let names = |k: &str| {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(names("addedTags"), appeared);
    assert_eq!(names("removedTags"), vanished);
    let changed = want.iter().any(|t| !t.3.is_empty() || !t.4.is_empty())
        || !appeared.is_empty()
        || !vanished.is_empty();
    assert_eq!(run.status, if changed { 1 } else { 0 });
    d
}

#[test]
fn public_pairs_match_the_independent_model() {
    let dir = data_dir();
    let new = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let d = check_all_tags(&snapshot(&dir, "ServiceTags_Public_20251013.json"), &new);
    assert_eq!(
        (
            d["old"]["changeNumber"].as_u64(),
            d["new"]["changeNumber"].as_u64()
        ),
        (Some(373), Some(375))
    );
    assert_eq!(d["old"]["cloud"], "Public");
    let d = check_all_tags(&snapshot(&dir, "ServiceTags_Public_20250728.json"), &new);
    assert_eq!(d["addedTags"].as_array().unwrap().len(), 72);
}

#[test]
fn government_files_that_differ_only_in_change_number() {
    let dir = data_dir();
    let (old, new) = (
        snapshot(&dir, "ServiceTags_AzureGovernment_20260706.json"),
        snapshot(&dir, "ServiceTags_AzureGovernment_20260713.json"),
    );
    let d = check_all_tags(&old, &new);
    assert_eq!(d["tags"], json!([]));
    assert_eq!(
        (
            d["old"]["changeNumber"].as_u64(),
            d["new"]["changeNumber"].as_u64()
        ),
        (Some(400), Some(401))
    );
    let text = tagroute(&["drift", &old, &new]).status(0).stdout;
    assert!(
        text.contains("AzureGovernment changeNumber 401")
            && text.contains("0 tags with prefix changes"),
        "{text}"
    );
    check_all_tags(
        &snapshot(&dir, "ServiceTags_AzureGovernment_20260713.json"),
        &snapshot(&dir, "ServiceTags_AzureGovernment_20260720.json"),
    );
    check_all_tags(
        &snapshot(&dir, "ServiceTags_China_20260706.json"),
        &snapshot(&dir, "ServiceTags_China_20260720.json"),
    );
}

#[test]
fn region_drift_reports_route_changes_against_the_model() {
    let dir = data_dir();
    let old = snapshot(&dir, "ServiceTags_Public_20250728.json");
    let new = snapshot(&dir, "ServiceTags_Public_20251028.json");
    for (region, suffix) in [
        ("eastus", "EastUS"),
        ("francecentral", "FranceCentral"),
        ("Belgium Central", "BelgiumCentral"),
        ("westeurope", "WestEurope"),
    ] {
        let run = tagroute(&[
            "drift", &old, &new, "--region", region, "--family", "ipv4", "--format", "json",
        ]);
        let d = run.json();
        let blocks = |f: &str| -> BTreeSet<String> {
            let mut prefixes = Vec::new();
            for (name, _, p) in raw_tags(f) {
                if name == format!("BatchNodeManagement.{suffix}")
                    || name == format!("AzureMachineLearning.{suffix}")
                {
                    prefixes.extend(p);
                }
            }
            min_cidrs(&v4_ranges(&prefixes)).into_iter().collect()
        };
        let (ob, nb) = (blocks(&old), blocks(&new));
        let got = |k: &str| {
            d["routes"][k]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["addressPrefix"].as_str().unwrap().to_owned())
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            got("add"),
            nb.difference(&ob).cloned().collect(),
            "{region}"
        );
        assert_eq!(
            got("remove"),
            ob.difference(&nb).cloned().collect(),
            "{region}"
        );
        let expect_status = if ob == nb { 0 } else { 1 };
        assert_eq!(run.status, expect_status, "{region}: {}", run.stderr);
    }
    // Belgium Central did not exist in July: its tags appear, every route is new.
    let d = tagroute(&[
        "drift",
        &old,
        &new,
        "--region",
        "belgiumcentral",
        "--format",
        "json",
    ])
    .status(1)
    .json();
    assert_eq!(
        d["addedTags"],
        json!([
            "AzureMachineLearning.BelgiumCentral",
            "BatchNodeManagement.BelgiumCentral"
        ])
    );
    assert!(
        !d["routes"]["add"].as_array().unwrap().is_empty()
            && d["routes"]["remove"].as_array().unwrap().is_empty()
    );
}

#[test]
fn example_week_over_week() {
    let old = example();
    let new = old.replace("ServiceTags_Example.json", "ServiceTags_Example_next.json");
    let run = tagroute(&["drift", &old, &new, "--region", "westeurope"]).status(1);
    assert!(
        run.stdout
            .contains("AzureMachineLearning.WestEurope: changeNumber 3 -> 4, no prefix changed\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("BatchNodeManagement.WestEurope: changeNumber 4 -> 5\n  + 203.0.113.8/31\n  - 203.0.113.7/32\n"));
    assert!(run.stdout.contains(
        "  + tagroute-203.0.113.8-31  203.0.113.8/31\n  - tagroute-203.0.113.7-32  203.0.113.7/32\n"
    ));
    let d = tagroute(&["drift", &old, &new, "--format", "json"])
        .status(1)
        .json();
    assert_eq!(d["addedTags"], json!(["AzureFrontDoor.Backend"]));
    let md = tagroute(&[
        "drift",
        &old,
        &new,
        "--tag",
        "batchnodemanagement.*",
        "--format",
        "markdown",
    ])
    .status(1)
    .stdout;
    assert!(
        md.contains(
            "| BatchNodeManagement.WestEurope | 4 → 5 | `203.0.113.8/31` | `203.0.113.7/32` |"
        ),
        "{md}"
    );
    // Only the changeNumber moved in the selection: exit 0.
    tagroute(&[
        "drift",
        &old,
        &new,
        "--tag",
        "AzureMachineLearning.WestEurope",
    ])
    .status(0);
    // NEW older than OLD is said plainly.
    let back = tagroute(&["drift", &new, &old, "--format", "json"]).status(1);
    assert!(
        back.stderr
            .contains("NEW is older than OLD: changeNumber 42 < 43"),
        "{}",
        back.stderr
    );
    assert_eq!(back.json()["newIsOlder"], true);
    tagroute(&["drift", &old, &new, "--tag", "Nothing.Like.This"])
        .fails_with("matches no tag in either file");
}

#[test]
fn cross_cloud_needs_a_flag() {
    let dir = data_dir();
    let (a, b) = (
        snapshot(&dir, "ServiceTags_China_20260720.json"),
        snapshot(&dir, "ServiceTags_AzureGovernment_20260720.json"),
    );
    tagroute(&["drift", &a, &b]).fails_with("is a China file and");
    let run = tagroute(&["drift", &a, &b, "--allow-cross-cloud", "--format", "json"]).status(1);
    assert!(run.stderr.contains("different clouds"));
}

#[test]
fn a_region_with_named_tags_compares_their_routes() {
    // --region with --tag plans the named tags of both files, labelled with the region.
    let next = example().replace("ServiceTags_Example.json", "ServiceTags_Example_next.json");
    let d = tagroute(&[
        "drift",
        &example(),
        &next,
        "--region",
        "westeurope",
        "--tag",
        "BatchNodeManagement.WestEurope",
        "--format",
        "json",
    ])
    .status(1)
    .json();
    assert_eq!(d["routes"]["region"], "westeurope");
    let names = |k: &str| -> Vec<String> {
        d["routes"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("add"), ["tagroute-203.0.113.8-31"]);
    assert_eq!(names("remove"), ["tagroute-203.0.113.7-32"]);
    // And its --tag-route and --slack are the plans' too.
    let d = tagroute(&[
        "drift",
        &example(),
        &next,
        "--region",
        "westeurope",
        "--tag",
        "BatchNodeManagement.WestEurope",
        "--tag-route",
        "BatchNodeManagement",
        "--slack",
        "BatchNodeManagement",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(
        d["routes"]["tagRoutes"],
        serde_json::json!(["BatchNodeManagement"]),
        "{d}"
    );
}
