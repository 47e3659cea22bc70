//! Live tables against Azure's own records and against hostile answers: a replay of the Azure
//! CLI's recorded route-table session byte for byte, ECMP next hops (API 2025-07-01) read, kept
//! and planned, and a Resource Manager that answers too much, for another table, with decoys or
//! with an ETag that cannot be sent back.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fake_arm::{FakeArm, Faults};
use crate::harness::*;
use crate::server::{Reply, Server};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/arm")
            .join(name),
    )
    .unwrap()
}

/// The recorded table's id (`route_table_get.json`).
const RECORDED_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/cli_test_route_table000001/providers/Microsoft.Network/routeTables/cli-test-route-table";
const RECORDED_ETAG: &str = "W/\"d2259014-fd55-4434-aabd-b4fdaf891d73\"";

#[test]
fn recorded_answers_replayed_byte_for_byte() {
    // The server answers with the recorded bodies as they are: the table GET, the table PUT's
    // 200 with its signed Azure-AsyncOperation URL (moved to loopback), the poll's Succeeded.
    let base = Arc::new(Mutex::new(String::new()));
    let b = base.clone();
    let server = Server::start(move |req, _| {
        let path = req.path();
        if path == RECORDED_ID && req.method == "GET" {
            return Reply::body(fixture("route_table_get.json")).with_header("ETag", RECORDED_ETAG);
        }
        if path == RECORDED_ID && req.method == "PUT" {
            let url = String::from_utf8(fixture("azure_asyncoperation_url.txt")).unwrap();
            let url = url.replace("https://management.azure.com", &b.lock().unwrap());
            return Reply::body(fixture("route_table_put_200.json"))
                .with_header("Azure-AsyncNotification", "Enabled")
                .with_header("Azure-AsyncOperation", &url);
        }
        if path.contains("/operations/") {
            return Reply::body(fixture("operation_succeeded.json"));
        }
        Reply::status(404)
    });
    *base.lock().unwrap() = server.base.clone();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    crate::harness::write_token(&token, "token-1");
    let args = |command: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            command,
            "--file",
            &example(),
            "--region",
            "westeurope",
            "--route-table-id",
            RECORDED_ID,
            "--arm-endpoint",
            &server.base,
            "--token-file",
            token.to_str().unwrap(),
            "--retry-delay-ms",
            "1",
            "--poll-interval",
            "0.01",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
    };
    // The recorded table reads as it is: one unmanaged route to None, four planned to add.
    let d = run(args("diff", &["--format", "json"])).status(1).json();
    assert_eq!(d["summary"]["existing"], 1);
    assert_eq!(d["summary"]["unmanaged"], 1);
    assert_eq!(d["summary"]["add"], 4);
    // apply writes the table once, under the recorded ETag, in the shape the Azure CLI sent
    // in its own recorded PUT: id, location, tags and the writable properties, nothing
    // read-only.
    let applied = run(args("apply", &["--yes", "--format", "json"])).status(2);
    let puts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].header("if-match"), Some(RECORDED_ETAG));
    let sent: Value = serde_json::from_slice(&puts[0].body).unwrap();
    let cli: Value = serde_json::from_slice(&fixture("route_table_put_request.json")).unwrap();
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&sent), keys(&cli));
    assert_eq!(keys(&sent["properties"]), keys(&cli["properties"]));
    for k in ["id", "location", "tags"] {
        assert_eq!(sent[k], cli[k], "{k}");
    }
    assert_eq!(sent["properties"]["disableBgpRoutePropagation"], true);
    let routes = sent["properties"]["routes"].as_array().unwrap();
    assert_eq!(
        routes[0],
        json!({"name": "my-route", "id": format!("{RECORDED_ID}/routes/my-route"), "properties": {"addressPrefix": "10.0.5.0/24", "nextHopType": "None"}, "type": "Microsoft.Network/routeTables/routes"})
    );
    assert_eq!(routes.len(), 5);
    // The replayed read-back is the recorded table, without the routes: the verification fails
    // and says what differs, on stderr and in the report.
    let report = applied.json();
    assert_eq!(report["verified"], false);
    assert_eq!(report["differences"].as_array().unwrap().len(), 4);
    assert!(
        applied
            .stderr
            .contains("the table read back differs: route tagroute-203.0.113.7-32 (203.0.113.7/32 -> Internet) is missing"),
        "{}",
        applied.stderr
    );
}

/// A table whose default route goes to an ECMP pair of firewalls.
fn ecmp_table() -> Vec<(String, Value)> {
    vec![(
        "default".into(),
        json!({"provisioningState": "Succeeded", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualApplianceEcmp", "nextHop": {"nextHopIpAddresses": ["10.0.0.5", "10.0.0.4"]}, "hasBgpOverride": false}),
    )]
}

#[test]
fn an_ecmp_default_route_is_kept_and_its_set_carries_the_exceptions() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let arm = FakeArm::with_routes(Faults::default(), ecmp_table());
    let mut args = arm.args("apply", &["--yes", "--format", "json"]);
    // Storage.EastUS under lpm: routes to Internet and one exception back to the firewalls.
    let at = args.iter().position(|a| a == "--file").unwrap();
    args[at + 1] = path.clone();
    let at = args.iter().position(|a| a == "--region").unwrap();
    args.splice(
        at..at + 2,
        ["--tag".to_owned(), "Storage.EastUS".to_owned()],
    );
    args.extend([
        "--strategy".into(),
        "lpm".into(),
        "--max-changes".into(),
        "1000".into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let routes = arm.routes();
    let pair = vec!["10.0.0.4".to_owned(), "10.0.0.5".to_owned()];
    let ecmp: Vec<_> = routes
        .iter()
        .filter(|r| r.2 == "VirtualApplianceEcmp")
        .collect();
    // The default route as it was, and the exceptions to the same set.
    assert!(ecmp.iter().any(|r| r.0 == "default" && r.1 == "0.0.0.0/0"));
    let exceptions = ecmp.iter().filter(|r| r.0 != "default").count();
    assert!(exceptions > 0);
    for r in &ecmp {
        let mut ips = r.3.clone();
        ips.sort();
        assert_eq!(ips, pair, "{r:?}");
    }
    // The plan with the same hop given on the command line is the one applied.
    let plan = tagroute(&[
        "plan",
        "-f",
        &path,
        "--tag",
        "Storage.EastUS",
        "--strategy",
        "lpm",
        "--default-next-hop",
        "VirtualApplianceEcmp:10.0.0.5,10.0.0.4",
        "--format",
        "json",
        "-q",
    ])
    .status(0)
    .json();
    let planned = plan["routes"].as_array().unwrap();
    assert_eq!(planned.len() + 1, routes.len());
    let out: Vec<_> = planned
        .iter()
        .filter(|r| r["nextHopType"] == "VirtualApplianceEcmp")
        .collect();
    assert_eq!(out.len(), exceptions);
    assert_eq!(
        out[0]["nextHop"],
        json!({"nextHopIpAddresses": ["10.0.0.4", "10.0.0.5"]})
    );
    // diff reads the ECMP routes back and finds nothing to change.
    let mut d = args.clone();
    d[0] = "diff".into();
    d.retain(|a| a != "--yes");
    let at = d.iter().position(|a| a == "--max-changes").unwrap();
    d.drain(at..at + 2);
    let refs: Vec<&str> = d.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]).status(0);
}

#[test]
fn ecmp_exceptions_in_every_format() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let render = |format: &str| {
        tagroute(&[
            "plan",
            "-f",
            &path,
            "--tag",
            "Storage.EastUS",
            "--strategy",
            "lpm",
            "--default-next-hop",
            "VirtualApplianceEcmp:10.0.0.4,10.0.0.5",
            "--format",
            format,
            "-g",
            "rg-net",
            "--route-table",
            "rt-aml",
            "-q",
        ])
        .status(0)
        .stdout
    };
    let arm: Value = serde_json::from_str(&render("arm")).unwrap();
    let routes = arm["variables"]["routes"].as_array().unwrap();
    let ecmp: Vec<_> = routes
        .iter()
        .filter(|r| r["properties"]["nextHopType"] == "VirtualApplianceEcmp")
        .collect();
    assert_eq!(ecmp.len(), 1);
    assert_eq!(
        ecmp[0]["properties"]["nextHop"],
        json!({"nextHopIpAddresses": ["10.0.0.4", "10.0.0.5"]})
    );
    assert_eq!(arm["resources"][0]["apiVersion"], "2025-07-01");
    let name = ecmp[0]["name"].as_str().unwrap();
    let bicep = render("bicep");
    assert!(
        bicep.contains("nextHopIpAddresses: [\n        '10.0.0.4'\n        '10.0.0.5'\n      ]")
    );
    assert!(bicep.contains("nextHop: route.?nextHop"));
    assert!(bicep.contains("@2025-07-01"));
    let tf = render("terraform");
    if let Some(doc) = hcl_to_json(&tf) {
        // A real HCL parser reads the azapi resource and its body.
        assert!(
            doc["data"].is_array() && doc["resource"].is_array(),
            "{doc}"
        );
    }
    assert!(tf.contains("data \"azurerm_route_table\" \"target\""));
    assert!(tf.contains("resource \"azapi_resource\""), "{tf}");
    assert!(tf.contains("nextHop = { nextHopIpAddresses = [\"10.0.0.4\", \"10.0.0.5\"] }"));
    let az = render("az");
    let line = az.lines().find(|l| l.contains(name)).unwrap();
    assert!(line.starts_with("az rest --method put --url \"/subscriptions/{subscriptionId}/resourceGroups/$RESOURCE_GROUP/providers/Microsoft.Network/routeTables/$ROUTE_TABLE/routes/\""), "{line}");
    assert!(line.contains("?api-version=2025-07-01\""));
    assert!(line.contains(r#""nextHop":{"nextHopIpAddresses":["10.0.0.4","10.0.0.5"]}"#));
    // The az script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("routes.sh");
    std::fs::write(&script, &az).unwrap();
    let ok = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(ok.success());
    let csv = render("csv");
    let row = csv.lines().find(|l| l.starts_with(name)).unwrap();
    assert!(
        row.contains(",VirtualApplianceEcmp,,10.0.0.4;10.0.0.5,"),
        "{row}"
    );
    let table = render("table");
    assert!(table.contains("VirtualApplianceEcmp 10.0.0.4,10.0.0.5"));
}

#[test]
fn an_existing_table_with_ecmp_routes_reads_in_every_shape() {
    let flat = json!([{"name": "fw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualApplianceEcmp", "nextHopIpAddress": null, "nextHop": {"nextHopIpAddresses": ["10.0.0.4", "10.0.0.5"]}}]);
    let nested = json!({"value": [{"name": "fw", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualApplianceEcmp", "nextHop": {"nextHopIpAddresses": ["10.0.0.5", "10.0.0.4"]}}}]});
    let dir = tempfile::tempdir().unwrap();
    for (i, doc) in [flat, nested].iter().enumerate() {
        let f = dir.path().join(format!("t{i}.json"));
        std::fs::write(&f, doc.to_string()).unwrap();
        let d = tagroute(&[
            "diff",
            "-f",
            &example(),
            "-r",
            "westeurope",
            "--strategy",
            "lpm",
            "-e",
            f.to_str().unwrap(),
            "--format",
            "json",
        ])
        .status(1)
        .json();
        assert_eq!(d["summary"]["add"], 4, "{d}");
    }
    // One appliance, or the same one twice, is no ECMP set.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, json!([{"name": "fw", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualApplianceEcmp", "nextHop": {"nextHopIpAddresses": ["10.0.0.4", "10.0.0.4"]}}]).to_string()).unwrap();
    tagroute(&[
        "diff",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "-e",
        bad.to_str().unwrap(),
    ])
    .fails_with("route 'fw': 10.0.0.4 is listed twice in the ECMP next hop");
    let one = tagroute(&[
        "plan",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        "VirtualApplianceEcmp:10.0.0.4",
    ])
    .status(2);
    assert!(
        one.stderr.contains("takes 2 to 64 addresses, got 1"),
        "{}",
        one.stderr
    );
}

#[test]
fn an_answer_too_large_is_refused_within_the_limit_after_decompression() {
    // 20 MB of JSON in about 20 kB of gzip.
    let arm = FakeArm::start(Faults {
        gzip_bomb: Some(20_000_000),
        ..Faults::default()
    });
    let started = Instant::now();
    arm.run("diff", &["--max-bytes", "1000000"])
        .fails_with("the answer is larger than the 1000000 byte limit (--max-bytes)");
    assert!(started.elapsed() < Duration::from_secs(20));
    // Within the limit the same answer reads.
    arm.run("diff", &["--format", "json"]).status(1);
}

#[test]
fn only_the_tables_own_routes_of_the_table_asked_for_are_read() {
    // A top-level `routes` list is not the table's.
    let arm = FakeArm::start(Faults {
        decoy_routes: true,
        ..Faults::default()
    });
    let d = arm.run("diff", &["--format", "json"]).status(1).json();
    assert_eq!(d["summary"]["existing"], 5);
    assert!(!d.to_string().contains("tagroute-decoy"));
    // An answer for another table is refused, and nothing is written.
    let arm = FakeArm::start(Faults {
        other_table: true,
        ..Faults::default()
    });
    arm.run("apply", &["--yes"])
        .fails_with("route table rt-aml: the answer is for another resource, '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/");
    assert_eq!(arm.writes(), 0);
}

#[test]
fn an_etag_that_cannot_be_sent_back_writes_nothing() {
    for etag in ["*", "W/\"a\", W/\"b\"", "unquoted"] {
        for mode in ["table", "routes"] {
            let arm = FakeArm::start(Faults {
                etag_text: Some(etag.into()),
                ..Faults::default()
            });
            let run = arm
                .run("apply", &["--yes", "--write", mode, "--format", "json"])
                .status(2);
            let report = run.json();
            assert!(
                report["error"]
                    .as_str()
                    .unwrap()
                    .contains("is not an entity tag that can be sent back in If-Match"),
                "{report}"
            );
            assert_eq!(arm.writes(), 0, "{etag} {mode}");
            assert_eq!(report["notApplied"].as_array().unwrap().len(), 4);
            assert!(run.stderr.contains("apply stopped"), "{}", run.stderr);
        }
    }
}

#[test]
fn token_files_must_be_small_regular_files() {
    let arm = FakeArm::start(Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'a'; 100_000]).unwrap();
    for (path, why) in [
        (fifo.to_str().unwrap(), "not a regular file"),
        ("/dev/zero", "not a regular file"),
        (big.to_str().unwrap(), "larger than 65536 bytes"),
    ] {
        let mut args = arm.args("diff", &[]);
        let at = args.iter().position(|a| a == "--token-file").unwrap();
        args[at + 1] = path.into();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = Instant::now();
        tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
            .fails_with(&format!("token file {path}: {why}"));
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    assert!(arm.server.requests().is_empty());
}
