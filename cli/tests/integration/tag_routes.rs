//! Service-tag routes (`--tag-route`) through the binary (the specification on every region of
//! every cloud is the library's `tests/tag_routes.rs`): without slack the plan stays the CIDR
//! one; tags without UDR are refused; every format writes the tag name as the address prefix;
//! diff, drift and refresh treat tag routes as Azure does; a terminal gets the hint once.

use serde_json::{Value, json};

use crate::harness::*;

const NEWEST: [&str; 3] = [
    "ServiceTags_Public_20251028.json",
    "ServiceTags_AzureGovernment_20260720.json",
    "ServiceTags_China_20260720.json",
];

#[test]
fn without_slack_the_plan_stays_the_cidr_one() {
    let dir = data_dir();
    let path = snapshot(&dir, NEWEST[0]);
    let base = [
        "plan", "--file", &path, "--region", "eastus", "--format", "json",
    ];
    let cidr = tagroute(&base).status(0).json();
    let auto = tagroute(&[&base[..], &["--tag-route", "auto"]].concat())
        .status(0)
        .json();
    assert_eq!(auto["routes"], cidr["routes"]);
    assert_eq!(auto["tagRoutes"]["used"], json!([]));
    assert_eq!(auto["tagRoutes"]["candidates"], json!([]));
}

#[test]
fn tags_without_udr_are_refused() {
    let example = example();
    let plan = ["plan", "--file", &example, "--region", "westeurope"];
    tagroute(&[&plan[..], &["--tag-route", "BatchNodeManagement.WestEurope"]].concat())
        .fails_with("'BatchNodeManagement.WestEurope' cannot be a route's address prefix: its networkFeatures lack UDR");
    tagroute(&[&plan[..], &["--tag-route", "AzureMachineLearning.*"]].concat())
        .fails_with("matches no tag whose networkFeatures include UDR");
    tagroute(&[&plan[..], &["--tag-route", "NoSuchTag"]].concat()).fails_with("--tag-route");
}

#[test]
fn every_format_names_the_tag_as_the_address_prefix() {
    let example = example();
    let args = |format: &str| {
        tagroute(&[
            "plan",
            "--file",
            &example,
            "--region",
            "westeurope",
            "--tag-route",
            "AzureMachineLearning",
            "--slack",
            "AzureMachineLearning",
            "--format",
            format,
            "--resource-group",
            "rg",
            "--route-table",
            "rt",
            "-q",
        ])
        .status(0)
        .stdout
    };
    assert!(args("az").contains(
        "--name 'tagroute-AzureMachineLearning' --address-prefix 'AzureMachineLearning' --next-hop-type Internet"
    ));
    assert!(args("terraform").contains("address_prefix      = \"AzureMachineLearning\""));
    assert!(args("bicep").contains("addressPrefix: 'AzureMachineLearning'"));
    assert!(args("csv").contains("tagroute-AzureMachineLearning,AzureMachineLearning,Internet,,"));
    assert!(
        args("table").contains("tagroute-AzureMachineLearning  AzureMachineLearning  Internet")
    );
    let arm: Value = serde_json::from_str(&args("arm")).unwrap();
    assert!(
        arm["variables"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["properties"]["addressPrefix"] == "AzureMachineLearning")
    );
    // The JSON keeps Azure's route shape and says what the tag stands for today: 4 IPv4
    // prefixes of 16 addresses, 2 IPv6 /64s.
    let plan: Value = serde_json::from_str(&args("json")).unwrap();
    let route = &plan["routes"][0];
    assert_eq!(route["addressPrefix"], "AzureMachineLearning");
    assert_eq!(
        route["serviceTag"],
        json!({"ipv4Prefixes": 4, "ipv6Prefixes": 2, "ipv4Addresses": 64, "ipv6Addresses": (2u128 << 64).to_string()})
    );
    // The France Central half of the tag is slack here: 32 IPv4 addresses, and a /64 of IPv6.
    assert_eq!(plan["slack"]["addresses"], 32);
    assert_eq!(plan["tagRoutes"]["leftOutFamily"], "ipv6");
    assert_eq!(
        plan["tagRoutes"]["leftOutExtraAddresses"],
        (1u128 << 64).to_string()
    );
}

#[test]
fn diff_owns_managed_tag_routes_and_counts_them_against_the_limit() {
    let example = example();
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table.json");
    let mut routes = vec![
        json!({"name": "tagroute-AzureMachineLearning", "addressPrefix": "AzureMachineLearning", "nextHopType": "Internet"}),
        json!({"name": "tagroute-203.0.113.7-32", "addressPrefix": "203.0.113.7/32", "nextHopType": "Internet"}),
        json!({"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}),
    ];
    std::fs::write(&table, serde_json::to_vec(&routes).unwrap()).unwrap();
    let tpath = table.to_str().unwrap();
    let args = [
        "diff",
        "--file",
        &example,
        "--region",
        "westeurope",
        "--tag-route",
        "auto",
        "--slack",
        "AzureMachineLearning",
        "--slack",
        "BatchNodeManagement",
        "--existing",
        tpath,
        "--format",
        "json",
        "-q",
    ];
    let d = tagroute(&args).status(1).json();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&d["add"]), ["tagroute-BatchNodeManagement"]);
    assert_eq!(names(&d["remove"]), ["tagroute-203.0.113.7-32"]);
    assert_eq!(d["unchanged"], 1);
    // 24 unmanaged tag routes leave room for one of Azure's 25: the plan uses one tag route.
    for i in 0..24 {
        routes.push(json!({"name": format!("other-{i}"), "addressPrefix": "Storage", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    }
    std::fs::write(&table, serde_json::to_vec(&routes).unwrap()).unwrap();
    // (A table over the limit would be refused: that the diff is made is the proof.)
    let d = tagroute(&args).status(1).json();
    assert_eq!(d["summary"]["unmanaged"], 25, "{d}");
    // With room for two, both.
    let more = [&args[..], &["--max-tag-routes", "26"]].concat();
    tagroute(&more).status(1);
    // With none left, none, and no error.
    routes.push(json!({"name": "other-24", "addressPrefix": "Storage", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    std::fs::write(&table, serde_json::to_vec(&routes).unwrap()).unwrap();
    let d = tagroute(&args).status(1).json();
    assert!(
        d["add"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["addressPrefix"].as_str().unwrap().contains('/')),
        "{d}"
    );
}

#[test]
fn refresh_of_tag_routes_reports_no_route_change_when_prefixes_move() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let next = example().replace("ServiceTags_Example.json", "ServiceTags_Example_next.json");
    let run = |file: &str| {
        tagroute(&[
            "refresh",
            "--state-dir",
            state,
            "--cloud",
            "public",
            "--file",
            file,
            "--region",
            "westeurope",
            "--tag-route",
            "auto",
            "--slack",
            "AzureMachineLearning",
            "--slack",
            "BatchNodeManagement",
            "-q",
        ])
    };
    run(&example()).status(1);
    // BatchNodeManagement.WestEurope moves a prefix; the tag routes stay as they are.
    run(&next).status(0);
    let current = std::path::Path::new(state).join("tables/default/current");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(current.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["changed"], false);
    assert_eq!(
        summary["tagRoutes"],
        json!(["AzureMachineLearning", "BatchNodeManagement"])
    );
    assert_eq!(summary["drift"]["prefixesAdded"], 1);
    let md = std::fs::read_to_string(current.join("drift.md")).unwrap();
    assert!(
        md.contains("Azure follows their tags' prefixes by itself"),
        "{md}"
    );
}

#[test]
fn a_terminal_hears_once_what_tag_routes_would_save() {
    // `script` gives the run a terminal, as a user at a shell has.
    let example = example();
    let command = format!(
        "{} plan --file {example} --region westeurope",
        binary().display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&out.stdout);
    let hint = "service-tag routes AzureMachineLearning, BatchNodeManagement would take this \
                table from 4 routes to 2";
    assert_eq!(text.matches(hint).count(), 1, "{text}");
    // The flags it names give that table.
    let flags = text.split("add ").last().unwrap().trim();
    let mut args = vec!["plan", "--file", &example, "--region", "westeurope", "-q"];
    args.extend(flags.split_whitespace());
    let run = tagroute(&args).status(0);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("tagroute-"))
            .count(),
        2
    );
    // Piped, the table comes without it.
    let piped = tagroute(&["plan", "--file", &example, "--region", "westeurope"]).status(0);
    assert!(
        !piped.stderr.contains("service-tag routes"),
        "{}",
        piped.stderr
    );
}

#[test]
fn a_budget_error_names_the_true_smallest_table() {
    // Two tag routes make the smallest table; sets larger than the budget count in the error.
    tagroute(&[
        "plan", "-f", &example(), "-r", "westeurope", "--tag-route", "auto", "--slack",
        "AzureMachineLearning", "--slack", "BatchNodeManagement", "--max-routes", "1",
    ])
    .fails_with("no table of at most 1 route meets the intent under the given slack; the smallest has 2 routes");
}

#[test]
fn tags_that_were_no_candidates_are_named_with_why() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let run = tagroute(&[
        "plan",
        "-f",
        &path,
        "-r",
        "eastus",
        "--tag-route",
        "auto",
        "--slack",
        "AzureCloud",
        "--format",
        "json",
    ])
    .status(0);
    assert!(
        run.stderr.contains("not weighed as tag routes, since a route to the tag would also send addresses outside the selected tags and slack: ")
            && run.stderr.contains("(1 ipv6 address)")
            && run.stderr.contains("; --slack TAG allows them\n"),
        "{}",
        run.stderr
    );
    let report = &run.json()["tagRoutes"]["notCandidates"];
    let aml = report
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "AzureMachineLearning")
        .unwrap();
    assert_eq!(
        (aml["ipv4Outside"].as_str(), aml["ipv6Outside"].as_str()),
        (Some("0"), Some("1"))
    );
}
