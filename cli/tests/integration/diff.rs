//! `diff`: every accepted route-table shape, managed routes kept, updated and removed, unmanaged
//! routes that conflict, overlap partly or make planned routes redundant, and the exit codes.

use serde_json::{Value, json};

use crate::harness::*;

fn example_routes() -> Value {
    let p = crate::harness::repo().join("data/routes_example.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn write_json(dir: &std::path::Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_owned()
}

/// The same routes in the ARM REST shape: fields under `properties`.
fn nested(flat: &Value) -> Value {
    Value::Array(
        flat.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                json!({"name": r["name"], "id": format!("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt/routes/{}", r["name"].as_str().unwrap()),
                       "properties": {"addressPrefix": r["addressPrefix"], "nextHopType": r["nextHopType"], "nextHopIpAddress": r["nextHopIpAddress"], "provisioningState": "Succeeded"}})
            })
            .collect(),
    )
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `diff --format json` of the routes `selection` picks from `file` against `existing`.
fn diff_json(file: &str, existing: &str, selection: &[&str]) -> Run {
    let mut args = vec!["diff", "-f", file];
    args.extend_from_slice(selection);
    args.extend_from_slice(&["-e", existing, "--format", "json"]);
    tagroute(&args)
}

#[test]
fn every_shape_gives_the_same_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let flat = example_routes();
    let shapes = [
        write_json(tmp.path(), "list.json", &flat),
        write_json(
            tmp.path(),
            "show.json",
            &json!({"name": "rt", "location": "westeurope", "routes": flat}),
        ),
        write_json(tmp.path(), "rest.json", &json!({"value": nested(&flat)})),
        write_json(
            tmp.path(),
            "rest-table.json",
            &json!({"name": "rt", "properties": {"routes": nested(&flat), "disableBgpRoutePropagation": true}}),
        ),
        write_json(tmp.path(), "rest-list.json", &nested(&flat)),
    ];
    let ex = example();
    for shape in &shapes {
        let run = diff_json(&ex, shape, &["-r", "westeurope"]).status(1);
        let d = run.json();
        // Expected by hand from data/routes_example.json and the example plan (4 routes):
        // 203.0.113.7/32 kept; .16/28 updated (VirtualAppliance -> Internet); .48/28 and .64/26 added;
        // the old .64/27 removed; inspect-aml-subset (.48/29 -> firewall) diverts 8 planned
        // addresses; batch-block-direct (.64/26 -> Internet) makes the planned /26 redundant.
        assert_eq!(
            names(&d["add"]),
            ["tagroute-203.0.113.48-28", "tagroute-203.0.113.64-26"],
            "{shape}"
        );
        assert_eq!(d["update"][0]["from"]["nextHopType"], "VirtualAppliance");
        assert_eq!(d["update"][0]["from"]["nextHopIpAddress"], "10.0.0.4");
        assert_eq!(
            d["update"][0]["to"],
            json!({"name": "tagroute-203.0.113.16-28", "addressPrefix": "203.0.113.16/28", "nextHopType": "Internet", "nextHopIpAddress": null, "tags": ["AzureMachineLearning.WestEurope"]})
        );
        assert_eq!(names(&d["remove"]), ["tagroute-203.0.113.64-27"]);
        assert_eq!(d["unchanged"], 1);
        assert_eq!(d["conflicts"].as_array().unwrap().len(), 1);
        let c = &d["conflicts"][0];
        assert_eq!(
            (c["route"]["name"].as_str(), c["addresses"].as_u64()),
            (Some("inspect-aml-subset"), Some(8))
        );
        assert_eq!(c["tags"], json!(["AzureMachineLearning.WestEurope"]));
        assert_eq!(c["plannedRoutes"], json!(["tagroute-203.0.113.48-28"]));
        assert_eq!(d["redundant"].as_array().unwrap().len(), 1);
        assert_eq!(
            d["redundant"][0]["route"]["name"],
            "tagroute-203.0.113.64-26"
        );
        assert_eq!(d["redundant"][0]["by"], json!(["batch-block-direct"]));
        let s = &d["summary"];
        assert_eq!(
            (
                s["existing"].as_u64(),
                s["managed"].as_u64(),
                s["unmanaged"].as_u64()
            ),
            (Some(7), Some(3), Some(4))
        );
        assert_eq!(s["routesAfter"], 8);
        assert!(run.stderr.contains("route 'inspect-aml-subset' (203.0.113.48/29 -> VirtualAppliance 10.0.0.4) diverts 8 planned addresses"));
    }
}

#[test]
fn a_table_holding_the_plan_has_nothing_to_change() {
    let dir = data_dir();
    let tmp = tempfile::tempdir().unwrap();
    for (file, region) in [
        ("ServiceTags_Public_20251028.json", "eastus"),
        ("ServiceTags_China_20260720.json", "chinaeast2"),
        (
            "ServiceTags_AzureGovernment_20260720.json",
            "US Gov Virginia",
        ),
    ] {
        let path = snapshot(&dir, file);
        let plan = tagroute(&["plan", "-f", &path, "-r", region, "--format", "json"])
            .status(0)
            .json();
        let existing = write_json(tmp.path(), "plan.json", &plan);
        let d = diff_json(&path, &existing, &["-r", region])
            .status(0)
            .json();
        assert_eq!(d["unchanged"], plan["routes"].as_array().unwrap().len());
        assert!(
            d["add"].as_array().unwrap().is_empty() && d["remove"].as_array().unwrap().is_empty()
        );
        let table = tagroute(&["diff", "-f", &path, "-r", region, "-e", &existing])
            .status(0)
            .stdout;
        assert!(table.starts_with("No change"));
        let script = tagroute(&[
            "diff", "-f", &path, "-r", region, "-e", &existing, "--format", "az", "-q",
        ])
        .status(0)
        .stdout;
        assert!(script.contains("# Nothing to change.\n") && !script.contains("\naz "));
    }
}

#[test]
fn moving_to_a_new_file_adds_and_removes_exactly_the_changed_blocks() {
    let dir = data_dir();
    let tmp = tempfile::tempdir().unwrap();
    let old = snapshot(&dir, "ServiceTags_Public_20251013.json");
    let new = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let args = |f: &str| {
        vec![
            "plan".to_owned(),
            "-f".into(),
            f.into(),
            "--tag".into(),
            "AzureCloud.westeurope".into(),
            "--max-routes".into(),
            "2000".into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let old_plan = tagroute(&args(&old).iter().map(String::as_str).collect::<Vec<_>>())
        .status(0)
        .json();
    let existing = write_json(tmp.path(), "old.json", &old_plan);
    let d = diff_json(
        &new,
        &existing,
        &["--tag", "AzureCloud.westeurope", "--max-routes", "2000"],
    )
    .status(1)
    .json();
    // Independently: the minimal blocks of the tag's prefixes in each file, by the harness model.
    let blocks = |f: &str| -> std::collections::BTreeSet<String> {
        min_cidrs(&v4_ranges(&raw_prefixes(f, "AzureCloud.westeurope")))
            .into_iter()
            .collect()
    };
    let (ob, nb) = (blocks(&old), blocks(&new));
    let prefixes = |v: &Value| -> std::collections::BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["addressPrefix"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(prefixes(&d["add"]), nb.difference(&ob).cloned().collect());
    assert_eq!(
        prefixes(&d["remove"]),
        ob.difference(&nb).cloned().collect()
    );
    assert_eq!(
        d["unchanged"].as_u64().unwrap() as usize,
        nb.intersection(&ob).count()
    );
    assert!(
        d["update"].as_array().unwrap().is_empty(),
        "names follow prefixes, so nothing is updated in place"
    );
}

#[test]
fn conflicts_follow_longest_prefix_match_on_real_routes() {
    let dir = data_dir();
    let tmp = tempfile::tempdir().unwrap();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let plan = tagroute(&["plan", "-f", &path, "-r", "eastus", "--format", "json"])
        .status(0)
        .json();
    let routes = plan["routes"].as_array().unwrap();
    let r27 = routes
        .iter()
        .find(|r| r["addressPrefix"].as_str().unwrap().ends_with("/27"))
        .unwrap();
    let (net, _) = r27["addressPrefix"]
        .as_str()
        .unwrap()
        .split_once('/')
        .unwrap();
    let base = u32::from(net.parse::<std::net::Ipv4Addr>().unwrap());
    let ip = |off: u32| std::net::Ipv4Addr::from(base + off).to_string();
    let mut table = plan["routes"].clone();
    let rows = table.as_array_mut().unwrap();
    rows.push(json!({"name": "fw-default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    // Less specific than the planned /27, to the firewall: not a conflict (the /27 wins).
    rows.push(json!({"name": "wider", "addressPrefix": format!("{}/26", std::net::Ipv4Addr::from(base & !63)), "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    // A /29 inside it to the firewall: conflict, 8 addresses less what more specific routes take.
    rows.push(json!({"name": "inspect", "addressPrefix": format!("{}/29", ip(8)), "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.5"}));
    // A /32 inside the /29 back to Internet: takes one address away from the conflict.
    rows.push(json!({"name": "one-direct", "addressPrefix": format!("{}/32", ip(9)), "nextHopType": "Internet"}));
    // A /30 with next hop None (drop) elsewhere in the /27: a second conflict of 4 addresses.
    rows.push(json!({"name": "blackhole", "addressPrefix": format!("{}/30", ip(20)), "nextHopType": "None"}));
    let existing = write_json(tmp.path(), "t.json", &table);
    let quiet = [
        "diff", "-f", &path, "-r", "eastus", "-e", &existing, "--format", "json",
    ];
    let d = tagroute(&quiet).status(0).json();
    let conflicts: Vec<(String, u64)> = d["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["route"]["name"].as_str().unwrap().to_owned(),
                c["addresses"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        conflicts,
        [("inspect".to_owned(), 7), ("blackhole".to_owned(), 4)]
    );
    assert_eq!(d["conflicts"][0]["tags"], r27["tags"]);
    assert_eq!(d["conflicts"][0]["plannedRoutes"], json!([r27["name"]]));
    assert!(d["redundant"].as_array().unwrap().is_empty());
    // Nothing to change: exit 0, unless conflicts must fail the run.
    let mut strict = quiet.to_vec();
    strict.push("--fail-on-conflict");
    tagroute(&strict).status(1);
}

#[test]
fn az_output_creates_and_updates_before_deleting() {
    let ex = example();
    let routes = crate::harness::repo().join("data/routes_example.json");
    let script = tagroute(&[
        "diff",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "-e",
        routes.to_str().unwrap(),
        "--format",
        "az",
        "-g",
        "rg",
        "--route-table",
        "rt",
    ])
    .status(1)
    .stdout;
    let ops: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("az "))
        .map(|l| l.split_whitespace().nth(4).unwrap())
        .collect();
    assert_eq!(ops, ["create", "create", "create", "delete"]);
    assert!(script.contains("--name 'tagroute-203.0.113.16-28' --address-prefix '203.0.113.16/28' --next-hop-type Internet"));
    assert!(script.contains("route delete --resource-group \"$RESOURCE_GROUP\" --route-table-name \"$ROUTE_TABLE\" --name 'tagroute-203.0.113.64-27'"));
    assert!(
        !script.contains("inspect-aml-subset'"),
        "unmanaged routes are never touched"
    );
    let md = tagroute(&[
        "diff",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "-e",
        routes.to_str().unwrap(),
        "--format",
        "markdown",
        "-q",
    ])
    .status(1)
    .stdout;
    assert!(md.starts_with("### tagroute: 4 routes from the Public service tags"));
    assert!(md.contains(
        "| Change | Route | Address prefix | Next hop | Tags |\n|---|---|---|---|---|\n"
    ));
    assert!(md.contains("| `inspect-aml-subset` | `203.0.113.48/29` | VirtualAppliance 10.0.0.4 | 8 | AzureMachineLearning.WestEurope |"));
}

#[test]
fn bad_tables_and_limits_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = example();
    let d = |routes: &Value| {
        let f = write_json(tmp.path(), "t.json", routes);
        tagroute(&["diff", "-f", &ex, "-r", "westeurope", "-e", &f])
    };
    d(&json!({"rows": []})).fails_with("unknown route table shape");
    d(&json!([{"name": "fw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance"}]))
        .fails_with("route 'fw': next hop VirtualAppliance needs nextHopIpAddress");
    d(&json!([{"name": "x", "addressPrefix": "10.0.0.0/33", "nextHopType": "Internet"}]))
        .fails_with("route 'x': '10.0.0.0/33'");
    d(&json!([{"name": "x", "addressPrefix": "10.0.0.0/8", "nextHopType": "Hyperspace"}]))
        .fails_with("route 'x': unknown next hop type 'Hyperspace'");
    d(&json!([{"name": "x", "addressPrefix": "Nope.Tag", "nextHopType": "Internet"}])).fails_with("route 'x': address prefix 'Nope.Tag' is neither an IP prefix nor a service tag of the Public file");
    let many: Vec<Value> = (0..997).map(|i| json!({"name": format!("r{i}"), "addressPrefix": format!("10.{}.{}.0/24", i / 256, i % 256), "nextHopType": "VnetLocal"})).collect();
    d(&Value::Array(many)).fails_with("the plan needs 4 routes, more than the 3 left in");
    tagroute_with(
        &["diff", "-f", "-", "-r", "westeurope", "-e", "-"],
        Some(b"[]"),
        &[],
    )
    .fails_with("cannot both read stdin");
}

/// The table after the change is forwarded as Azure forwards it: a regional tag route beats the
/// top-level tag and `AzureCloud.<region>` on the prefixes they share, and the verdicts do not
/// depend on the order the table lists its routes in.
#[test]
fn the_whole_table_is_judged_under_azures_tie_order() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let tmp = tempfile::tempdir().unwrap();
    let fw = |name: &str, prefix: &str| json!({"name": name, "addressPrefix": prefix, "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"});
    let table = json!([
        fw("fw-storage", "Storage"),
        fw("fw-cloud", "AzureCloud.EastUS"),
        fw("default", "0.0.0.0/0")
    ]);
    let f = write_json(tmp.path(), "t.json", &table);
    let d = diff_json(
        &path,
        &f,
        &["--tag", "Storage.EastUS", "--tag-route", "Storage.EastUS"],
    )
    .status(1)
    .json();
    assert_eq!(d["conflicts"], json!([]), "{d}");
    // Both orders of the same two routes give the same redundant routes.
    let internet = |name: &str, prefix: &str| json!({"name": name, "addressPrefix": prefix, "nextHopType": "Internet"});
    let mut verdicts = Vec::new();
    for table in [
        json!([
            internet("a", "Storage.EastUS"),
            internet("b", "Storage"),
            fw("default", "0.0.0.0/0")
        ]),
        json!([
            internet("b", "Storage"),
            internet("a", "Storage.EastUS"),
            fw("default", "0.0.0.0/0")
        ]),
    ] {
        let f = write_json(tmp.path(), "t.json", &table);
        let d = diff_json(&path, &f, &["--tag", "Storage.EastUS"])
            .status(1)
            .json();
        verdicts.push((d["summary"]["redundant"].clone(), d["redundant"].clone()));
    }
    assert_eq!(verdicts[0], verdicts[1]);
    assert!(verdicts[0].0.as_u64().unwrap() > 0);
}

/// A plan made against a table fits beside the routes tagroute does not manage: its room is the
/// table's limit less theirs, tag routes counted apart, and a budget counts tagroute's routes.
#[test]
fn plans_fit_beside_the_unmanaged_routes() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = example();
    let route = |i: usize, prefix: String| json!({"name": format!("r{i}"), "addressPrefix": prefix, "nextHopType": "VnetLocal"});
    // 24 unmanaged tag routes leave room for one: the plan takes one tag route, not two.
    let tags: Vec<Value> = (0..24).map(|i| route(i, "Storage".into())).collect();
    let f = write_json(tmp.path(), "tags.json", &Value::Array(tags));
    let d = diff_json(
        &ex,
        &f,
        &[
            "-r",
            "westeurope",
            "--tag-route",
            "auto",
            "--slack",
            "AzureMachineLearning",
            "--slack",
            "BatchNodeManagement",
        ],
    )
    .status(1)
    .json();
    let planned_tags = d["add"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["addressPrefix"].as_str().unwrap().contains('/'))
        .count();
    assert_eq!(planned_tags, 1, "{d}");
    // Five unmanaged routes and a budget of 3: the budget is tagroute's routes.
    let five: Vec<Value> = (0..5).map(|i| route(i, format!("10.{i}.0.0/16"))).collect();
    let f = write_json(tmp.path(), "five.json", &Value::Array(five));
    let d = diff_json(
        &ex,
        &f,
        &["-r", "westeurope", "--allow-any-slack", "--max-routes", "3"],
    )
    .status(1)
    .json();
    assert!(d["add"].as_array().unwrap().len() <= 3, "{d}");
    // A table nearly full: the error names the room left and what takes it.
    let full: Vec<Value> = (0..998)
        .map(|i| route(i, format!("10.{}.{}.0/24", i / 256, i % 256)))
        .collect();
    let f = write_json(tmp.path(), "full.json", &Value::Array(full));
    tagroute(&["diff", "-f", &ex, "-r", "westeurope", "-e", &f]).fails_with(&format!(
        "the plan needs 4 routes, more than the 2 left in {f} (998 routes not managed by tagroute take room of its 1000)"
    ));
}

/// A route table that says a key twice is refused, whichever value a reader would keep.
#[test]
fn a_table_with_a_key_twice_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("routes.json");
    std::fs::write(
        &path,
        r#"[{"name": "tagroute-1", "addressPrefix": "203.0.113.0/24", "nextHopType": "Internet", "nextHopType": "None"}]"#,
    )
    .unwrap();
    tagroute(&[
        "diff",
        "--file",
        &example(),
        "--region",
        "westeurope",
        "--existing",
        path.to_str().unwrap(),
    ])
    .fails_with("duplicate key 'nextHopType'");
}

/// A file that is one page of an ARM API answer is said to be one, as `plan` says it.
#[test]
fn a_one_page_file_is_warned_of() {
    let tmp = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap();
    doc["nextLink"] = "https://management.azure.com/next".into();
    let page = tmp.path().join("page.json");
    std::fs::write(&page, doc.to_string()).unwrap();
    let routes = repo().join("data/routes_example.json");
    let run = tagroute(&[
        "diff",
        "-f",
        page.to_str().unwrap(),
        "-r",
        "westeurope",
        "--existing",
        routes.to_str().unwrap(),
    ])
    .status(1);
    assert!(run.stderr.contains("has a nextLink"), "{}", run.stderr);
}
