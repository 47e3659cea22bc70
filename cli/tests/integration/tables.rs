//! `tagroute tables`: discovery through the fake Resource Graph of `fake_fleet.rs` (paged as
//! the REST specification's examples are), each table's coverage checked against an independent
//! count (the required ranges read straight from the file, less those the table's routes send
//! to Internet by a scan over them), and the fleet file it writes used as is.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fake_arm::Faults;
use crate::fake_fleet::{FakeFleet, FleetFaults, GraphQuota, TableSetup};
use crate::fleet::{SUB_A, SUB_B, id};
use crate::harness::*;
use crate::server::{Reply, Server};

const SUB_C: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const PUBLIC: &str = "ServiceTags_Public_20251028.json";

fn route(prefix: &str, hop: &str) -> Value {
    let mut p =
        json!({"provisioningState": "Succeeded", "addressPrefix": prefix, "nextHopType": hop});
    if hop == "VirtualAppliance" {
        p["nextHopIpAddress"] = json!("10.0.0.4");
    }
    p
}

fn tunnel() -> (String, Value) {
    ("default".into(), route("0.0.0.0/0", "VirtualAppliance"))
}

/// The IPv4 prefixes of a region's two required tags, straight from the file.
fn required(file: &str, region: &str) -> Vec<String> {
    let mut v = raw_prefixes(file, &format!("BatchNodeManagement.{region}"));
    v.extend(raw_prefixes(
        file,
        &format!("AzureMachineLearning.{region}"),
    ));
    v.retain(|p| !p.contains(':'));
    v
}

/// A route table's routes: (name, properties).
type Routes = Vec<(String, Value)>;

/// (table, region tag suffix, its routes).
fn estate(file: &str) -> Vec<(String, &'static str, Routes)> {
    let covered: Vec<(String, Value)> = std::iter::once(tunnel())
        .chain(required(file, "WestEurope").into_iter().map(|p| {
            (
                format!("tagroute-{}", p.replace(['.', '/'], "-")),
                route(&p, "Internet"),
            )
        }))
        .collect();
    // A Batch tag route: the Azure ML addresses still miss; one Batch /32 is pulled back.
    let batch = raw_prefixes(file, "BatchNodeManagement.FranceCentral");
    let hole = format!("{}/32", batch[0].split('/').next().unwrap());
    vec![
        (
            id(SUB_A, "rg-spokes", "rt-eastus"),
            "EastUS",
            vec![tunnel()],
        ),
        (
            id(SUB_A, "rg-spokes", "rt-westeurope"),
            "WestEurope",
            covered,
        ),
        (
            id(SUB_B, "rg-spokes", "rt-francecentral"),
            "FranceCentral",
            vec![
                tunnel(),
                (
                    "batch".into(),
                    route("BatchNodeManagement.FranceCentral", "Internet"),
                ),
                ("hole".into(), route(&hole, "VirtualAppliance")),
            ],
        ),
        (
            id(SUB_B, "rg-hub", "rt-hub"),
            "EastUS",
            vec![(
                "onprem".into(),
                route("10.0.0.0/8", "VirtualNetworkGateway"),
            )],
        ),
        (id(SUB_B, "rg-other", "rt-eastus"), "EastUS", vec![tunnel()]),
        (id(SUB_C, "rg-x", "rt-elsewhere"), "EastUS", vec![tunnel()]),
    ]
}

/// Addresses of the region's required tags the routes do not send to Internet, Azure's system
/// default route sending to Internet what no route of the table holds.
fn missing_by_scan(file: &str, region: &str, routes: &[(String, Value)]) -> u64 {
    let mut table: Vec<(String, bool)> = Vec::new();
    if !routes
        .iter()
        .any(|(_, r)| r["addressPrefix"] == "0.0.0.0/0")
    {
        table.push(("0.0.0.0/0".into(), true));
    }
    for (_, r) in routes {
        let prefix = r["addressPrefix"].as_str().unwrap();
        let internet = r["nextHopType"] == "Internet";
        if prefix.contains('/') {
            table.push((prefix.to_owned(), internet));
        } else {
            for p in raw_prefixes(file, prefix)
                .into_iter()
                .filter(|p| !p.contains(':'))
            {
                table.push((p, internet));
            }
        }
    }
    count(&minus(
        &v4_ranges(&required(file, region)),
        &internet_ranges(&table),
    ))
}

#[test]
fn tables_are_found_judged_and_written_as_a_fleet() {
    let data = data_dir();
    let file = snapshot(&data, PUBLIC);
    let estate = estate(&file);
    let fake = FakeFleet::start(
        setups(&estate),
        FleetFaults {
            graph_page: 2,
            ..FleetFaults::default()
        },
    );
    let token = fake.token_file();
    // Judged by the region's own two tags (the 2020 pair), as `required` counts them.
    let args = |format: &'static str| -> Vec<String> {
        [
            "tables",
            "--profile",
            "legacy-2020",
            "--subscription",
            SUB_A,
            "--subscription",
            &SUB_B.to_uppercase(),
            "--file",
            &file,
            "--arm-endpoint",
            &fake.server.base,
            "--token-file",
            token.to_str().unwrap(),
            "--format",
            format,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |format| {
        let a = args(format);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
    };
    let listing = run("json").status(1).json();
    // Five tables in the two subscriptions asked, over three pages of two.
    let tables = listing["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 5);
    let pages = fake.graph_requests();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2]["options"]["$skipToken"], "page-at-4");
    assert_eq!(pages[0]["subscriptions"], json!([SUB_A, SUB_B]));
    for (table_id, region, routes) in &estate[..5] {
        let t = tables
            .iter()
            .find(|t| t["id"] == table_id.as_str())
            .unwrap();
        let want = missing_by_scan(&file, region, routes);
        assert_eq!(t["coverage"]["missingIpv4"], json!(want), "{table_id}");
        assert_eq!(t["routes"], json!(routes.len()), "{table_id}");
        assert_eq!(t["maxRoutes"], 1000);
        assert_eq!(t["subnets"], json!(["vnet/aml"]), "{table_id}");
        let tunnel = routes.iter().any(|r| r.0 == "default");
        assert_eq!(t["forceTunnel"], tunnel, "{table_id}");
        // The fake's tables disable BGP propagation (as the recorded table does): none is left
        // to BGP.
        assert_eq!(t["bgpMayTunnel"], false, "{table_id}");
    }
    let covered = tables
        .iter()
        .find(|t| t["name"] == "rt-westeurope")
        .unwrap();
    assert_eq!(covered["coverage"]["missingIpv4"], 0);
    assert_eq!(covered["managed"], json!(estate[1].2.len() - 1));
    assert_eq!(covered["defaultHop"], "VirtualAppliance 10.0.0.4");

    let text = run("table").status(1).stdout;
    assert!(
        text.contains("5 route tables: 4 force-tunnel, 3 of them miss required addresses"),
        "{text}"
    );

    // The fleet file: the four tables that force-tunnel, the two rt-eastus named apart.
    let toml = run("toml").status(1).stdout;
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("tagroute.toml");
    // Many single-prefix routes become a few: a larger change than the default allows.
    let edited = toml.replace(
        "cloud = \"public\"\n",
        "cloud = \"public\"\nmax_changes = 200\n",
    );
    std::fs::write(&config, edited).unwrap();
    assert_eq!(
        toml.lines().filter(|l| *l == "[[table]]").count(),
        4,
        "{toml}"
    );
    assert!(
        toml.contains("name = \"rt-eastus-1\"") && toml.contains("name = \"rt-eastus-2\""),
        "{toml}"
    );
    assert!(!toml.contains("rt-hub") && !toml.contains("rt-elsewhere"));
    let c = config.to_str().unwrap();
    let t = token.to_str().unwrap();
    let fleet = |extra: &[&str]| {
        let mut a = vec![
            "apply",
            "--config",
            c,
            "--file",
            &file,
            "--arm-endpoint",
            &fake.server.base,
            "--token-file",
            t,
            "--retry-delay-ms",
            "1",
            "--poll-interval",
            "0.01",
        ];
        a.extend_from_slice(extra);
        tagroute_with(&a, None, &[("AZURE_ACCESS_TOKEN", "")])
    };
    fleet(&["--yes"]).status(0);
    // Now no table that force-tunnels misses an address, but for the one /32 that an
    // unmanaged route of rt-francecentral pulls back (tagroute never touches it; apply warned).
    let listing = run("json").status(1).json();
    for t in listing["tables"].as_array().unwrap() {
        if t["forceTunnel"] == true {
            let want = if t["name"] == "rt-francecentral" {
                1
            } else {
                0
            };
            assert_eq!(t["coverage"]["missingIpv4"], want, "{t}");
        }
    }
}

/// The fake's tables of the estate.
fn setups(estate: &[(String, &'static str, Routes)]) -> Vec<TableSetup> {
    estate
        .iter()
        .map(|(id, region, routes)| TableSetup {
            id: id.clone(),
            location: region.to_ascii_lowercase(),
            routes: routes.clone(),
            faults: Faults::default(),
        })
        .collect()
}

/// Resource Graph's per-user quota is heeded: a quota spent (`x-ms-user-quota-remaining: 0`)
/// is waited out before the next page, so no query is throttled; and a query throttled anyway
/// (another client of the user spent the quota) is asked again once
/// `x-ms-user-quota-resets-after` has passed, not after the client's own backoff.
#[test]
fn resource_graphs_quota_is_waited_out() {
    let data = data_dir();
    let file = snapshot(&data, PUBLIC);
    let estate = estate(&file);
    let discover = |fake: &FakeFleet| {
        let token = fake.token_file();
        let args = [
            "tables",
            "--subscription",
            SUB_A,
            "--subscription",
            SUB_B,
            "--file",
            &file,
            "--arm-endpoint",
            &fake.server.base,
            "--token-file",
            token.to_str().unwrap(),
            "--retry-delay-ms",
            "30000",
            "--format",
            "json",
        ];
        let start = Instant::now();
        let listing = tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "")])
            .status(1)
            .json();
        assert_eq!(listing["tables"].as_array().unwrap().len(), 5);
        start.elapsed()
    };
    // Pages of one row, two queries a second: the five pages take three windows.
    let quota = GraphQuota {
        per_window: 2,
        window: Duration::from_secs(1),
        spent_before: 0,
    };
    let fake = FakeFleet::start(
        setups(&estate),
        FleetFaults {
            graph_page: 1,
            graph_quota: Some(quota),
            ..FleetFaults::default()
        },
    );
    let took = discover(&fake);
    assert_eq!(fake.graph_requests().len(), 5);
    assert_eq!(fake.graph_throttled(), 0);
    assert!(took >= Duration::from_secs(2), "{took:?}");

    // The quota already spent: the one query is throttled once, then answered after the
    // window's two seconds, where the client's own first wait would be 30 s or more.
    let quota = GraphQuota {
        per_window: 15,
        window: Duration::from_secs(2),
        spent_before: 15,
    };
    let fake = FakeFleet::start(
        setups(&estate),
        FleetFaults {
            graph_quota: Some(quota),
            ..FleetFaults::default()
        },
    );
    let took = discover(&fake);
    assert_eq!(fake.graph_requests().len(), 2);
    assert_eq!(fake.graph_throttled(), 1);
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn tables_needs_a_subscription_id() {
    tagroute(&["tables", "--subscription", "nope", "--offline"])
        .fails_with("subscription 'nope' is not a subscription id");
}

/// Resource Graph answers that cannot be paged through stop discovery with an error and no
/// listing: a page that is not rows, the same `$skipToken` twice (which would never end), and
/// a server that stays down (given up on after the retries, with its last status).
#[test]
fn resource_graph_answers_that_cannot_be_paged_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let token = tmp.path().join("token");
    crate::harness::write_token(&token, "token-1\n");
    for (status, body, needle) in [
        (
            200,
            r#"{"data": 5}"#,
            "Azure Resource Graph's answer is not a page of rows: invalid type",
        ),
        (
            200,
            r#"{"data": [], "$skipToken": "same"}"#,
            "Azure Resource Graph gave a $skipToken it had given before",
        ),
        (
            503,
            "",
            "querying Azure Resource Graph: gave up on 127.0.0.1 after 2 attempts: HTTP 503",
        ),
    ] {
        let server = Server::start(move |_, _| match status {
            200 => Reply::body(body),
            other => Reply::status(other),
        });
        let run = tagroute_with(
            &[
                "tables",
                "--subscription",
                SUB_A,
                "--file",
                &example(),
                "--arm-endpoint",
                &server.base,
                "--token-file",
                token.to_str().unwrap(),
                "--retries",
                "1",
                "--retry-delay-ms",
                "1",
            ],
            None,
            &[("AZURE_ACCESS_TOKEN", "")],
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        run.fails_with(needle);
    }
}

/// `tables` on the first two tables of the estate, with extra `args`.
fn tables_run(fake: &FakeFleet, file: &str, args: &[&str]) -> Run {
    let token = fake.token_file();
    let mut all = vec![
        "tables",
        "--subscription",
        SUB_A,
        "--file",
        file,
        "--arm-endpoint",
        &fake.server.base,
        "--token-file",
        token.to_str().unwrap(),
        "--retry-delay-ms",
        "1",
    ];
    all.extend_from_slice(args);
    tagroute_with(&all, None, &[("AZURE_ACCESS_TOKEN", "")])
}

/// A row of a subscription that was not asked for, and a row naming a table already found in
/// another letter case, are refused and named; the run shows each table's subscription and
/// exits 2 with the count, since nothing can be said of what was refused or not judged.
#[test]
fn rows_not_asked_for_and_repeated_tables_are_refused() {
    let data = data_dir();
    let file = snapshot(&data, PUBLIC);
    let estate = estate(&file);
    let row = |id: &str| {
        let sub = id.split('/').nth(2).unwrap();
        json!({"id": id, "name": id.rsplit('/').next().unwrap(), "location": "eastus",
            "subscriptionId": sub, "resourceGroup": "rg-x",
            "properties": {"routes": [], "subnets": []}})
    };
    let fake = FakeFleet::start(
        setups(&estate[..2]),
        FleetFaults {
            graph_extra_rows: vec![
                row(&id(SUB_C, "rg-x", "rt-elsewhere")),
                row(&estate[0]
                    .0
                    .to_uppercase()
                    .replace("/SUBSCRIPTIONS/", "/subscriptions/")),
            ],
            ..FleetFaults::default()
        },
    );
    let run = tables_run(&fake, &file, &["--format", "json"]).status(2);
    let listing: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(listing["tables"].as_array().unwrap().len(), 2, "{listing}");
    let reasons: Vec<&str> = listing["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{listing}");
    assert!(
        reasons[0].contains(&format!("subscription {SUB_C} was not asked for")),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("the same route table as an earlier row"),
        "{reasons:?}"
    );
    assert!(run.stderr.contains("2 rows refused"), "{}", run.stderr);
    let text = tables_run(&fake, &file, &[]).status(2).stdout;
    assert!(
        text.contains("SUBSCRIPTION") && text.contains(SUB_A),
        "{text}"
    );
    assert!(
        text.contains("; 2 rows refused, 0 tables not judged"),
        "{text}"
    );
}

/// Paging stops at any `$skipToken` given before (here two that alternate), and the whole
/// discovery keeps within `--operation-timeout`.
#[test]
fn paging_loops_and_slow_answers_are_bounded() {
    let data = data_dir();
    let file = snapshot(&data, PUBLIC);
    let estate = estate(&file);
    let fake = FakeFleet::start(
        setups(&estate[..2]),
        FleetFaults {
            graph_token_loop: true,
            ..FleetFaults::default()
        },
    );
    tables_run(&fake, &file, &[]).fails_with("gave a $skipToken it had given before");
    assert_eq!(fake.graph_requests().len(), 3, "a, b, then a again");
    let slow = FakeFleet::start(
        setups(&estate[..2]),
        FleetFaults {
            latency: Duration::from_secs(3),
            ..FleetFaults::default()
        },
    );
    let started = Instant::now();
    tables_run(&slow, &file, &["--operation-timeout", "1"])
        .fails_with("discovery did not finish within 1 s");
    assert!(started.elapsed() < Duration::from_secs(3));
}
