//! Live route tables against the fake Resource Manager of `fake_arm.rs` (built from Azure's
//! recorded answers): `apply` in both write modes, the faults Azure is recorded to produce, and
//! `refresh --apply`. Every test checks that unmanaged routes and the table's own properties are
//! as they were, and that the table ends equal to the plan or the run exits 2 saying what it
//! applied.

use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_arm::{FakeArm, Faults, ID};
use crate::harness::*;

impl FakeArm {
    /// `tagroute COMMAND` on the example's westeurope plan against this table.
    pub fn args(&self, command: &str, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = [
            command,
            "--file",
            &example(),
            "--region",
            "westeurope",
            "--route-table-id",
            ID,
            "--arm-endpoint",
            &self.server.base,
            "--token-file",
            &self.token_file(),
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
    }

    pub fn run(&self, command: &str, extra: &[&str]) -> Run {
        let args = self.args(command, extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
    }

    /// The unmanaged routes and the table's own properties are as they were; in table mode only
    /// the table was written, in route mode only managed routes.
    pub fn check_untouched(&self, mode: &str) {
        let unmanaged: Vec<_> = self
            .routes()
            .into_iter()
            .filter(|r| !r.0.starts_with("tagroute-"))
            .collect();
        assert_eq!(
            unmanaged,
            [
                (
                    "default".into(),
                    "0.0.0.0/0".into(),
                    "VirtualAppliance".into(),
                    vec!["10.0.0.4".to_owned()]
                ),
                (
                    "onprem".into(),
                    "10.0.0.0/8".into(),
                    "VirtualNetworkGateway".into(),
                    vec![]
                ),
            ]
        );
        self.check_table_kept();
        for r in self.server.requests() {
            if r.method == "GET" {
                continue;
            }
            match mode {
                "table" => assert!(r.path() == ID && r.method == "PUT", "wrote {}", r.path()),
                _ => assert!(r.path().contains("/routes/tagroute-"), "wrote {}", r.path()),
            }
        }
    }

    /// The managed routes are exactly the plan's.
    pub fn check_equals_plan(&self) {
        let plan = tagroute(&[
            "plan",
            "--file",
            &example(),
            "--region",
            "westeurope",
            "--format",
            "json",
        ])
        .status(0)
        .json();
        let mut want: Vec<(String, String, String, Vec<String>)> = plan["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["addressPrefix"].as_str().unwrap().to_owned(),
                    r["nextHopType"].as_str().unwrap().to_owned(),
                    vec![],
                )
            })
            .collect();
        want.sort();
        let managed: Vec<_> = self
            .routes()
            .into_iter()
            .filter(|r| r.0.starts_with("tagroute-"))
            .collect();
        assert_eq!(managed, want);
    }

    fn requests(&self, method: &str) -> Vec<crate::server::Request> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }
}

/// The change from the initial table to the plan: 2 creates, 1 update, 1 delete.
pub const CHANGE: usize = 4;
const MODES: [&str; 2] = ["table", "routes"];

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn without_yes_the_change_is_shown_and_nothing_written() {
    let arm = FakeArm::start(Faults::default());
    let run = arm.run("apply", &["--format", "json"]).status(1);
    let d = run.json();
    assert_eq!(d["summary"]["add"], 2);
    assert_eq!(d["summary"]["update"], 1);
    assert_eq!(d["summary"]["remove"], 1);
    assert_eq!(arm.writes(), 0);
    // diff reads the live table the same way.
    let diff = arm.run("diff", &["--format", "json"]).status(1).json();
    assert_eq!(diff["summary"], d["summary"]);
    arm.check_untouched("table");
}

#[test]
fn one_guarded_table_write_makes_the_whole_change() {
    let arm = FakeArm::start(Faults::default());
    let read_etag = crate::fake_arm::etag(1);
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(0);
    let report = run.json();
    assert_eq!(report["verified"], true);
    assert_eq!(report["mode"], "table");
    assert_eq!(report["writeRequests"], 1);
    assert_eq!(report["applied"].as_array().unwrap().len(), CHANGE);
    assert_eq!(arm.writes(), 1);
    arm.check_equals_plan();
    arm.check_untouched("table");
    // The one PUT names the ETag read, and sends the table as read without what the REST
    // specification marks read-only.
    let puts = arm.requests("PUT");
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].header("if-match"), Some(read_etag.as_str()));
    let body: Value = serde_json::from_slice(&puts[0].body).unwrap();
    for k in ["etag", "name", "type"] {
        assert!(body.get(k).is_none(), "{k} sent");
    }
    for k in ["provisioningState", "resourceGuid", "subnets"] {
        assert!(body["properties"].get(k).is_none(), "{k} sent");
    }
    assert_eq!(body["properties"]["disablePeeringRoute"], false);
    assert_eq!(body["tags"], json!({"owner": "network-team"}));
    let onprem = &body["properties"]["routes"][1];
    assert_eq!(
        onprem,
        &json!({"name": "onprem", "id": format!("{ID}/routes/onprem"), "properties": {"addressPrefix": "10.0.0.0/8", "nextHopType": "VirtualNetworkGateway"}, "type": "Microsoft.Network/routeTables/routes"})
    );
    // The token never reaches the output.
    assert!(!run.stdout.contains("token-1") && !run.stderr.contains("token-1"));
    // A second run has nothing to do.
    arm.run("apply", &["--yes"]).status(0);
    assert_eq!(arm.writes(), 1);
}

#[test]
fn route_mode_writes_each_route_under_the_tables_current_etag() {
    // The fake enforces the shared ETag: each write must name the one the table has after the
    // previous write, or it gets 412.
    let arm = FakeArm::start(Faults::default());
    let run = arm
        .run("apply", &["--yes", "--write", "routes", "--format", "json"])
        .status(0);
    let report = run.json();
    assert_eq!(report["verified"], true);
    assert_eq!(report["rereads"], 0);
    assert_eq!(report["mode"], "routes");
    let ops: Vec<&str> = report["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["op"].as_str().unwrap())
        .collect();
    // Creates and updates before the delete.
    assert_eq!(ops, ["update", "create", "create", "delete"]);
    assert_eq!(arm.writes(), CHANGE);
    arm.check_equals_plan();
    arm.check_untouched("routes");
    let guards: Vec<Option<String>> = arm
        .server
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.header("if-match").map(str::to_owned))
        .collect();
    let e = crate::fake_arm::etag;
    assert_eq!(guards, [Some(e(1)), None, None, Some(e(4))]);
}

#[test]
fn max_changes_refuses_before_anything_is_written() {
    for mode in MODES {
        let arm = FakeArm::start(Faults::default());
        arm.run("apply", &["--yes", "--max-changes", "3", "--write", mode])
            .fails_with(
                "the change has 4 writes (creates + updates + deletes), more than the 3 allowed",
            );
        assert_eq!(arm.writes(), 0);
        arm.check_untouched(mode);
    }
}

/// Each injected fault: the run still converges, within --max-changes, in either mode.
#[test]
fn contention_drops_and_expired_tokens_are_ridden_out() {
    type Case = (&'static str, fn() -> Faults);
    let cases: Vec<Case> = vec![
        ("429 RetryableError", || Faults {
            throttle: 2,
            ..Faults::default()
        }),
        ("409 AnotherOperationInProgress", || Faults {
            busy: 2,
            ..Faults::default()
        }),
        (
            "an operation Failed with AnotherOperationInProgress",
            || Faults {
                busy_operation: 2,
                ..Faults::default()
            },
        ),
        ("500 then success", || Faults {
            server_error: 1,
            ..Faults::default()
        }),
        ("connection dropped while polling", || Faults {
            drop_poll: 1,
            ..Faults::default()
        }),
        ("expired token", || Faults {
            expired: true,
            ..Faults::default()
        }),
        // The edit lands after the one read the plan and the change are made from.
        ("a concurrent edit", || Faults {
            concurrent_edits: 1,
            ..Faults::default()
        }),
    ];
    for (what, faults) in cases {
        for mode in MODES {
            let arm = FakeArm::start(faults());
            let run = arm.run(
                "apply",
                &[
                    "--yes",
                    "--max-changes",
                    "4",
                    "--write",
                    mode,
                    "--format",
                    "json",
                ],
            );
            assert_eq!(run.status, 0, "{what}, {mode}: {}", run.stderr);
            let want = if mode == "table" { 1 } else { CHANGE };
            assert_eq!(arm.writes(), want, "{what}, {mode}");
            arm.check_equals_plan();
            arm.check_untouched(mode);
            if what == "expired token" {
                let seen = arm.state.lock().unwrap().tokens_seen.clone();
                assert_eq!(seen[0], "Bearer token-1");
                assert!(seen[1..].iter().all(|t| t == "Bearer token-2"), "{seen:?}");
            }
            if what == "a concurrent edit" {
                // A table write meets the moved ETag; a route write reads the table first and
                // finds its route as planned, so it needs no second plan.
                let rereads = if mode == "table" { 1 } else { 0 };
                assert_eq!(run.json()["rereads"], rereads, "{what}, {mode}");
            }
        }
    }
}

#[test]
fn a_recorded_retry_after_of_10_is_waited_before_the_poll() {
    let arm = FakeArm::start(Faults {
        retry_after: Some("10"),
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    arm.run("apply", &["--yes"]).status(0);
    assert!(started.elapsed() >= Duration::from_secs(10));
    arm.check_equals_plan();
}

#[test]
fn a_second_concurrent_edit_stops_the_run_rather_than_overwrite() {
    for mode in MODES {
        let arm = FakeArm::start(Faults {
            concurrent_edits: 100,
            ..Faults::default()
        });
        let run = arm
            .run("apply", &["--yes", "--write", mode, "--format", "json"])
            .status(2);
        let report = run.json();
        assert_eq!(report["verified"], false);
        assert!(
            report["error"].as_str().unwrap().contains("412 twice"),
            "{report}"
        );
        assert!(run.stderr.contains("apply stopped"), "{}", run.stderr);
        // Every write of the change is accounted for: applied or not.
        let n = |k: &str| report[k].as_array().unwrap().len();
        assert_eq!(
            n("applied") + n("notApplied") + n("unknown"),
            CHANGE,
            "{report}"
        );
        arm.check_untouched(mode);
    }
}

#[test]
fn a_failed_operation_exits_2_saying_what_was_applied() {
    // Table mode: the table is written whole or not at all; nothing was.
    let arm = FakeArm::start(Faults {
        fail_route: Some("tagroute-203.0.113.48-28".into()),
        ..Faults::default()
    });
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(2);
    let report = run.json();
    assert_eq!(report["applied"], json!([]));
    assert_eq!(report["notApplied"].as_array().unwrap().len(), CHANGE);
    assert!(
        report["error"].as_str().unwrap().contains("ended Failed"),
        "{report}"
    );
    assert_eq!(arm.writes(), 0);
    assert!(run.stderr.contains("not applied"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("differs: route tagroute-203.0.113.48-28"),
        "{}",
        run.stderr
    );
    arm.check_untouched("table");
    // Route mode: what was written before the failure is applied, the rest is not.
    let arm = FakeArm::start(Faults {
        fail_route: Some("tagroute-203.0.113.48-28".into()),
        ..Faults::default()
    });
    let run = arm
        .run("apply", &["--yes", "--write", "routes", "--format", "json"])
        .status(2);
    let report = run.json();
    assert_eq!(names(&report["applied"]), ["tagroute-203.0.113.16-28"]);
    assert_eq!(
        names(&report["notApplied"]),
        [
            "tagroute-203.0.113.48-28",
            "tagroute-203.0.113.64-26",
            "tagroute-198.51.100.0-24"
        ]
    );
    // What the report says is what the table holds.
    assert_eq!(arm.writes(), 1);
    arm.check_untouched("routes");
}

#[test]
fn a_table_that_cannot_be_read_back_leaves_no_write_unreported() {
    for mode in MODES {
        let arm = FakeArm::start(Faults {
            reads_fail_after_write: true,
            ..Faults::default()
        });
        let run = arm
            .run(
                "apply",
                &[
                    "--yes",
                    "--write",
                    mode,
                    "--retries",
                    "1",
                    "--format",
                    "json",
                ],
            )
            .status(2);
        let report = run.json();
        let made = names(&report["applied"]).len();
        let unknown = names(&report["unknown"]).len();
        let not = names(&report["notApplied"]).len();
        assert_eq!(made + unknown + not, CHANGE, "{mode}: {report}");
        assert!(
            report["error"].as_str().unwrap().contains("HTTP 500"),
            "{mode}: {report}"
        );
        if mode == "table" {
            // The write was confirmed before the read-back failed.
            assert_eq!((made, arm.writes()), (CHANGE, 1), "{report}");
        } else {
            // The update and the creates were confirmed; the delete needs a fresh read, which
            // fails, so it was not made.
            assert_eq!((made, not, arm.writes()), (3, 1, 3), "{report}");
        }
    }
}

#[test]
fn the_token_goes_to_the_named_clouds_endpoint_only() {
    // A polling URL on another origin is not followed.
    let arm = FakeArm::start(Faults {
        foreign_poll: true,
        ..Faults::default()
    });
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(2);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("the token goes to the Resource Manager endpoint only"),
        "{}",
        run.stdout
    );
    // An endpoint that is neither the cloud's own origin nor loopback is refused before any
    // request: another host, or the right host on another port.
    let arm = FakeArm::start(Faults::default());
    for endpoint in [
        "https://management.example.com",
        "https://management.azure.com:444",
        "http://management.azure.com",
    ] {
        let mut args = arm.args("apply", &["--yes"]);
        let at = args.iter().position(|a| a == "--arm-endpoint").unwrap();
        args[at + 1] = endpoint.into();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        tagroute(&refs).fails_with("is not the Public Resource Manager");
    }
    // fetch --arm follows the same rule.
    tagroute_with(
        &[
            "fetch",
            "--cloud",
            "public",
            "--arm",
            "--subscription",
            "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
            "--location",
            "westeurope",
            "--arm-endpoint",
            "https://evil.example.com",
        ],
        None,
        &[("AZURE_ACCESS_TOKEN", "token-1")],
    )
    .fails_with("is not the Public Resource Manager");
    assert!(arm.server.requests().is_empty());
    // Malformed ids are refused with one line.
    let mut args = arm.args("diff", &[]);
    let at = args.iter().position(|a| a == "--route-table-id").unwrap();
    args[at + 1] =
        "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute(&refs)
        .fails_with("for '--route-table-id <ID>': subscription 'x' is not a subscription id");
}

#[test]
fn a_file_of_another_cloud_does_not_choose_where_the_token_goes() {
    let arm = FakeArm::start(Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let gov = dir.path().join("gov.json");
    let text = std::fs::read_to_string(example()).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["cloud"], "Public");
    std::fs::write(&gov, text.replacen("\"Public\"", "\"AzureGovernment\"", 1)).unwrap();
    let args = arm.args("apply", &["--yes"]);
    let mut args = args;
    let at = args.iter().position(|a| a == "--file").unwrap();
    args[at + 1] = gov.to_str().unwrap().into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
        .fails_with("but the route table is reached through the Public Resource Manager");
    assert!(arm.server.requests().is_empty());
    // Naming another cloud than the file's is refused too.
    args.extend(["--cloud".into(), "china".into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]).fails_with("(--cloud)");
    assert!(arm.server.requests().is_empty());
}

#[test]
fn a_run_killed_during_apply_converges_on_the_next() {
    for mode in MODES {
        let arm = FakeArm::start(Faults {
            slow_poll: Some(Duration::from_millis(300)),
            ..Faults::default()
        });
        let args = arm.args("apply", &["--yes", "--write", mode]);
        let mut child = std::process::Command::new(binary())
            .args(&args)
            .env("AZURE_ACCESS_TOKEN", "")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let enough = if mode == "table" { 1 } else { 2 };
        while arm.writes() < enough && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let done = arm.writes();
        assert!(
            done >= enough && done <= CHANGE,
            "{mode}: killed after {done} writes"
        );
        arm.state.lock().unwrap().faults.slow_poll = None;
        arm.run("apply", &["--yes", "--write", mode]).status(0);
        arm.check_equals_plan();
        arm.check_untouched(mode);
    }
}

#[test]
fn route_mode_at_the_limit_gets_room_before_a_create() {
    // 5 routes now, 6 after the change: with a limit of 6 the second create needs the delete
    // first, and the table never holds 7.
    let arm = FakeArm::start(Faults::default());
    let run = arm
        .run(
            "apply",
            &[
                "--yes",
                "--write",
                "routes",
                "--max-routes",
                "6",
                "--format",
                "json",
            ],
        )
        .status(0);
    let ops: Vec<String> = run.json()["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["op"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ops, ["update", "create", "delete", "create"]);
    assert_eq!(arm.state.lock().unwrap().most_routes, 6);
    arm.check_equals_plan();
    arm.check_untouched("routes");
}

#[test]
fn a_table_that_is_not_there_is_a_one_line_error() {
    let arm = FakeArm::start(Faults::default());
    let mut args = arm.args("apply", &["--yes"]);
    let at = args.iter().position(|a| a == "--route-table-id").unwrap();
    args[at + 1] = ID.replace("rt-aml", "rt-gone");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
        .fails_with("reading route table rt-gone: HTTP 404: ResourceNotFound");
    assert_eq!(arm.writes(), 0);
}

#[test]
fn operation_timeout_bounds_a_write_its_polls_and_its_retries() {
    // An operation that never ends.
    let arm = FakeArm::start(Faults {
        stuck: true,
        slow_poll: Some(Duration::from_millis(50)),
        ..Faults::default()
    });
    let run = arm
        .run(
            "apply",
            &["--yes", "--operation-timeout", "1", "--format", "json"],
        )
        .status(2);
    let report = run.json();
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("not finished after 1 s"),
        "{report}"
    );
    // Accepted, so in effect, though it never said it finished: the read-back says which.
    assert_eq!(report["applied"].as_array().unwrap().len(), CHANGE);
    arm.check_untouched("table");
    // Throttled without end, with retries to spare: the timeout ends it, not the retries.
    let arm = FakeArm::start(Faults {
        throttle: usize::MAX,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let mut args = arm.args(
        "apply",
        &[
            "--yes",
            "--operation-timeout",
            "1",
            "--retries",
            "100",
            "--format",
            "json",
        ],
    );
    let at = args.iter().position(|a| a == "--retry-delay-ms").unwrap();
    args[at + 1] = "200".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]).status(2);
    assert!(started.elapsed() < Duration::from_secs(10));
    let report = run.json();
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("(the operation timeout)"),
        "{report}"
    );
    assert_eq!(report["notApplied"].as_array().unwrap().len(), CHANGE);
    assert_eq!(arm.writes(), 0);
}
