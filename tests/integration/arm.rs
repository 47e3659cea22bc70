//! Live route tables against a fake Resource Manager: a real HTTP server on loopback that keeps a
//! route table, speaks the REST API's shapes (table GET with `etag` and `properties.routes`,
//! route PUT and DELETE with ETag preconditions, 201/202 with `Azure-AsyncOperation` or
//! `Location` polling) and injects faults. Every test checks that unmanaged routes and the
//! table's other properties are untouched, and that the table ends equal to the plan or the run
//! exits 2 saying what it applied.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;
use crate::server::{Reply, Request, Server};

const ID: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-aml";

#[derive(Default)]
struct Faults {
    /// First PUTs answered 429.
    throttle: usize,
    /// First PUTs answered 409 AnotherOperationInProgress.
    busy: usize,
    /// First PUTs answered 500.
    server_error: usize,
    /// The write of this route ends `Failed`.
    fail_route: Option<String>,
    /// First polls whose connection is dropped.
    drop_poll: usize,
    /// The first request gets 401 and the token file is renewed.
    expired: bool,
    /// Table reads after which someone else edits the managed routes.
    concurrent_edits: usize,
    /// Operations point at another origin.
    foreign_poll: bool,
    /// Each poll answers this late.
    slow_poll: Option<Duration>,
    /// Operations never finish.
    stuck: bool,
}

struct Route {
    name: String,
    props: Value,
    etag: u64,
}

struct State {
    base: String,
    token: String,
    token_file: PathBuf,
    routes: Vec<Route>,
    table_etag: u64,
    faults: Faults,
    /// Operation id → (polls so far, final status).
    ops: HashMap<String, (usize, &'static str)>,
    next_op: u64,
    writes: usize,
    /// Authorization headers seen.
    tokens_seen: Vec<String>,
    /// Most routes the table ever held.
    most_routes: usize,
}

struct FakeArm {
    server: Server,
    state: Arc<Mutex<State>>,
    _dir: tempfile::TempDir,
}

fn route(name: &str, prefix: &str, hop: &str, ip: Option<&str>) -> Route {
    let mut props =
        json!({"addressPrefix": prefix, "nextHopType": hop, "provisioningState": "Succeeded"});
    if let Some(ip) = ip {
        props["nextHopIpAddress"] = json!(ip);
    }
    Route {
        name: name.into(),
        props,
        etag: 1,
    }
}

/// The table the tests start from: three managed routes (one to keep, one with a wrong next hop,
/// one the plan lacks) and two that belong to someone else.
fn initial_routes() -> Vec<Route> {
    vec![
        route("default", "0.0.0.0/0", "VirtualAppliance", Some("10.0.0.4")),
        route("onprem", "10.0.0.0/8", "VirtualNetworkGateway", None),
        route(
            "tagroute-203.0.113.7-32",
            "203.0.113.7/32",
            "Internet",
            None,
        ),
        route(
            "tagroute-203.0.113.16-28",
            "203.0.113.16/28",
            "VirtualAppliance",
            Some("10.0.0.4"),
        ),
        route(
            "tagroute-198.51.100.0-24",
            "198.51.100.0/24",
            "Internet",
            None,
        ),
    ]
}

fn etag(n: u64) -> String {
    format!("W/\"{n:08x}-0000-0000-0000-000000000000\"")
}

fn table_json(s: &State) -> Value {
    json!({
        "name": "rt-aml",
        "id": ID,
        "etag": etag(s.table_etag),
        "type": "Microsoft.Network/routeTables",
        "location": "westeurope",
        "tags": {"owner": "network-team"},
        "properties": {
            "provisioningState": "Succeeded",
            "disableBgpRoutePropagation": true,
            "subnets": [{"id": "/subscriptions/x/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aml"}],
            "routes": s.routes.iter().map(|r| json!({
                "name": r.name,
                "id": format!("{ID}/routes/{}", r.name),
                "etag": etag(r.etag),
                "type": "Microsoft.Network/routeTables/routes",
                "properties": r.props,
            })).collect::<Vec<_>>(),
        }
    })
}

fn error(status: u16, code: &str) -> Reply {
    Reply::Ok {
        status,
        headers: vec![("Retry-After".into(), "0".into())],
        body: serde_json::to_vec(
            &json!({"error": {"code": code, "message": format!("{code} (fake)")}}),
        )
        .unwrap(),
    }
}

fn handle(state: &Mutex<State>, req: &Request) -> Reply {
    let mut s = state.lock().unwrap();
    // A managed identity endpoint as App Service provides one (IDENTITY_ENDPOINT and
    // IDENTITY_HEADER): the token for Resource Manager's audience, to the holder of the secret.
    if req.path() == "/msi/token" {
        let audience = req
            .target
            .contains("resource=https%3A%2F%2Fmanagement.azure.com");
        if req.header("x-identity-header") != Some("s3cret") || !audience {
            return error(400, "BadRequest");
        }
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let token = s.token.clone();
        return Reply::body(
            serde_json::to_vec(&json!({"access_token": token, "expires_on": expires.to_string(), "resource": "https://management.azure.com", "token_type": "Bearer"}))
                .unwrap(),
        );
    }
    let auth = req.header("authorization").unwrap_or("").to_owned();
    s.tokens_seen.push(auth.clone());
    if s.faults.expired {
        s.faults.expired = false;
        s.token = "token-2".into();
        std::fs::write(&s.token_file, "token-2\n").unwrap();
        return error(401, "ExpiredAuthenticationToken");
    }
    if auth != format!("Bearer {}", s.token) {
        return error(401, "InvalidAuthenticationToken");
    }
    let path = req.path().to_owned();
    if let Some(op) = path
        .rsplit_once("/operations/")
        .map(|(_, op)| op.to_owned())
    {
        if s.faults.drop_poll > 0 {
            s.faults.drop_poll -= 1;
            return Reply::DropMidBody {
                body: b"{\"status\": \"InProgr".to_vec(),
                at: 8,
            };
        }
        let (slow, stuck) = (s.faults.slow_poll, s.faults.stuck);
        let entry = s.ops.get_mut(&op).expect("a known operation");
        entry.0 += 1;
        let status = if entry.0 < 2 || stuck {
            "InProgress"
        } else {
            entry.1
        };
        let mut body = json!({"status": status});
        if status == "Failed" {
            body["error"] = json!({"code": "InternalServerError", "message": "the fake failed it"});
        }
        let reply = Reply::Ok {
            status: 200,
            headers: vec![("Retry-After".into(), "0".into())],
            body: serde_json::to_vec(&body).unwrap(),
        };
        return match slow {
            Some(d) => Reply::Slow(d, Box::new(reply)),
            None => reply,
        };
    }
    if let Some(op) = path
        .rsplit_once("/operationResults/")
        .map(|(_, op)| op.to_owned())
    {
        let entry = s.ops.get_mut(&op).expect("a known operation");
        entry.0 += 1;
        let reply = if entry.0 < 2 {
            Reply::status(202).with_header("Retry-After", "0")
        } else {
            Reply::status(204)
        };
        return match s.faults.slow_poll {
            Some(d) => Reply::Slow(d, Box::new(reply)),
            None => reply,
        };
    }
    let table_path = ID;
    if path == table_path && req.method == "GET" {
        let body = serde_json::to_vec(&table_json(&s)).unwrap();
        if s.faults.concurrent_edits > 0 {
            s.faults.concurrent_edits -= 1;
            // Someone re-saves every managed route: their ETags move, nothing else.
            for r in s
                .routes
                .iter_mut()
                .filter(|r| r.name.starts_with("tagroute-"))
            {
                r.etag += 100;
            }
            s.table_etag += 1;
        }
        return Reply::body(body);
    }
    let Some(name) = path
        .strip_prefix(&format!("{table_path}/routes/"))
        .map(str::to_owned)
    else {
        return error(404, "NotFound");
    };
    let existing = s.routes.iter().position(|r| r.name == name);
    let precondition_ok = match (req.header("if-match"), req.header("if-none-match")) {
        (Some("*"), _) => existing.is_some(),
        (Some(tag), _) => existing.is_some_and(|i| etag(s.routes[i].etag) == tag),
        (None, Some("*")) => existing.is_none(),
        _ => true,
    };
    let base = s.base.clone();
    let next_op = |s: &mut State, status: &'static str| {
        s.next_op += 1;
        let id = format!("op{}", s.next_op);
        s.ops.insert(id.clone(), (0, status));
        id
    };
    match req.method.as_str() {
        "PUT" => {
            if s.faults.throttle > 0 {
                s.faults.throttle -= 1;
                return error(429, "TooManyRequests");
            }
            if s.faults.busy > 0 {
                s.faults.busy -= 1;
                return error(409, "AnotherOperationInProgress");
            }
            if s.faults.server_error > 0 {
                s.faults.server_error -= 1;
                return error(500, "InternalServerError");
            }
            if !precondition_ok {
                return error(412, "PreconditionFailed");
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let props = body["properties"].clone();
            let fails = s.faults.fail_route.as_deref() == Some(name.as_str());
            let op = next_op(&mut s, if fails { "Failed" } else { "Succeeded" });
            let status = if existing.is_some() { 200 } else { 201 };
            if !fails {
                s.writes += 1;
                s.table_etag += 1;
                let mut props = props;
                props["provisioningState"] = json!("Succeeded");
                match existing {
                    Some(i) => {
                        s.routes[i].props = props;
                        s.routes[i].etag += 1;
                    }
                    None => s.routes.push(Route {
                        name: name.clone(),
                        props,
                        etag: 1,
                    }),
                }
                s.most_routes = s.most_routes.max(s.routes.len());
            }
            let host = if s.faults.foreign_poll {
                "http://127.0.0.2:9".to_owned()
            } else {
                base
            };
            Reply::Ok {
                status,
                headers: vec![
                    (
                        "Azure-AsyncOperation".into(),
                        format!(
                            "{host}/subscriptions/x/providers/Microsoft.Network/locations/westeurope/operations/{op}?api-version=2024-05-01"
                        ),
                    ),
                    ("Retry-After".into(), "0".into()),
                ],
                body: serde_json::to_vec(&json!({"name": name, "properties": body["properties"]}))
                    .unwrap(),
            }
        }
        "DELETE" => {
            if !precondition_ok {
                return error(412, "PreconditionFailed");
            }
            let Some(i) = existing else {
                return Reply::status(204);
            };
            s.routes.remove(i);
            s.writes += 1;
            s.table_etag += 1;
            let op = next_op(&mut s, "Succeeded");
            Reply::status(202).with_header(
                "Location",
                &format!("{base}/subscriptions/x/providers/Microsoft.Network/locations/westeurope/operationResults/{op}?api-version=2024-05-01"),
            )
            .with_header("Retry-After", "0")
        }
        _ => error(405, "MethodNotAllowed"),
    }
}

impl FakeArm {
    fn start(faults: Faults) -> FakeArm {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, "token-1\n").unwrap();
        let state = Arc::new(Mutex::new(State {
            base: String::new(),
            token: "token-1".into(),
            token_file,
            routes: initial_routes(),
            table_etag: 1,
            faults,
            ops: HashMap::new(),
            next_op: 0,
            writes: 0,
            tokens_seen: Vec::new(),
            most_routes: 5,
        }));
        let shared = state.clone();
        let server = Server::start(move |req, _| handle(&shared, req));
        state.lock().unwrap().base = server.base.clone();
        FakeArm {
            server,
            state,
            _dir: dir,
        }
    }

    fn token_file(&self) -> String {
        self.state
            .lock()
            .unwrap()
            .token_file
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// `tagroute apply` (or another command) on the example's westeurope plan against this table.
    fn args<'a>(&self, command: &'a str, extra: &[&'a str]) -> Vec<String> {
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
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    fn run(&self, command: &str, extra: &[&str]) -> Run {
        let args = self.args(command, extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
    }

    /// (name, addressPrefix, nextHopType, nextHopIpAddress) of every route, sorted.
    fn routes(&self) -> Vec<(String, String, String, Option<String>)> {
        let s = self.state.lock().unwrap();
        let mut v: Vec<_> = s
            .routes
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.props["addressPrefix"].as_str().unwrap().to_owned(),
                    r.props["nextHopType"].as_str().unwrap().to_owned(),
                    r.props["nextHopIpAddress"].as_str().map(str::to_owned),
                )
            })
            .collect();
        v.sort();
        v
    }

    fn writes(&self) -> usize {
        self.state.lock().unwrap().writes
    }

    /// The unmanaged routes are as they were, and the table's other properties were never sent.
    fn check_untouched(&self) {
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
                    Some("10.0.0.4".into())
                ),
                (
                    "onprem".into(),
                    "10.0.0.0/8".into(),
                    "VirtualNetworkGateway".into(),
                    None
                ),
            ]
        );
        for r in self.server.requests() {
            assert!(
                !(r.method != "GET" && r.path() == ID),
                "the table itself was written"
            );
            if r.method != "GET" {
                assert!(r.path().contains("/routes/tagroute-"), "wrote {}", r.path());
            }
        }
    }

    /// The managed routes are exactly the plan's.
    fn check_equals_plan(&self) {
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
        let mut want: Vec<(String, String, String, Option<String>)> = plan["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["addressPrefix"].as_str().unwrap().to_owned(),
                    r["nextHopType"].as_str().unwrap().to_owned(),
                    None,
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
}

/// The change from the initial table to the plan: 2 creates, 1 update, 1 delete.
const CHANGE: usize = 4;

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
    arm.check_untouched();
}

#[test]
fn apply_makes_the_table_equal_to_the_plan_and_verifies_it() {
    let arm = FakeArm::start(Faults::default());
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(0);
    let report = run.json();
    assert_eq!(report["verified"], true);
    assert_eq!(report["applied"].as_array().unwrap().len(), CHANGE);
    // Creates and updates before the delete.
    let ops: Vec<&str> = report["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["update", "create", "create", "delete"]);
    arm.check_equals_plan();
    arm.check_untouched();
    // The token never reaches the output.
    assert!(!run.stdout.contains("token-1") && !run.stderr.contains("token-1"));
    // A second run has nothing to do.
    arm.run("apply", &["--yes"]).status(0);
    assert_eq!(arm.writes(), CHANGE);
}

#[test]
fn max_changes_refuses_before_anything_is_written() {
    let arm = FakeArm::start(Faults::default());
    arm.run("apply", &["--yes", "--max-changes", "3"])
        .fails_with(
            "the change has 4 writes (creates + updates + deletes), more than the 3 allowed",
        );
    assert_eq!(arm.writes(), 0);
    arm.check_untouched();
}

/// Each injected fault: the run still converges, within --max-changes.
#[test]
fn throttling_busy_server_errors_drops_and_expired_tokens_are_ridden_out() {
    let cases: Vec<(&str, Faults)> = vec![
        (
            "429 with Retry-After",
            Faults {
                throttle: 2,
                ..Faults::default()
            },
        ),
        (
            "409 AnotherOperationInProgress",
            Faults {
                busy: 2,
                ..Faults::default()
            },
        ),
        (
            "500 then success",
            Faults {
                server_error: 1,
                ..Faults::default()
            },
        ),
        (
            "connection dropped while polling",
            Faults {
                drop_poll: 1,
                ..Faults::default()
            },
        ),
        (
            "expired token",
            Faults {
                expired: true,
                ..Faults::default()
            },
        ),
        // The edit lands after the one read the plan and the change are made from.
        (
            "a concurrent edit",
            Faults {
                concurrent_edits: 1,
                ..Faults::default()
            },
        ),
    ];
    for (what, faults) in cases {
        let arm = FakeArm::start(faults);
        let run = arm.run(
            "apply",
            &["--yes", "--max-changes", "4", "--format", "json"],
        );
        assert_eq!(run.status, 0, "{what}: {}", run.stderr);
        assert_eq!(arm.writes(), CHANGE, "{what}");
        arm.check_equals_plan();
        arm.check_untouched();
        if what == "expired token" {
            let seen = arm.state.lock().unwrap().tokens_seen.clone();
            assert_eq!(seen[0], "Bearer token-1");
            assert!(seen[1..].iter().all(|t| t == "Bearer token-2"), "{seen:?}");
        }
        if what == "a concurrent edit" {
            assert_eq!(run.json()["rereads"], 1, "{what}");
        }
    }
}

#[test]
fn a_second_concurrent_edit_stops_the_run_rather_than_overwrite() {
    let arm = FakeArm::start(Faults {
        concurrent_edits: 5,
        ..Faults::default()
    });
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(2);
    let report = run.json();
    assert_eq!(report["verified"], false);
    assert!(
        report["error"].as_str().unwrap().contains("412 twice"),
        "{report}"
    );
    assert!(run.stderr.contains("apply stopped"), "{}", run.stderr);
    arm.check_untouched();
}

#[test]
fn a_failed_operation_exits_2_saying_what_was_applied() {
    let arm = FakeArm::start(Faults {
        fail_route: Some("tagroute-203.0.113.48-28".into()),
        ..Faults::default()
    });
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(2);
    let report = run.json();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&report["applied"]), ["tagroute-203.0.113.16-28"]);
    assert_eq!(
        names(&report["notApplied"]),
        [
            "tagroute-203.0.113.48-28",
            "tagroute-203.0.113.64-26",
            "tagroute-198.51.100.0-24"
        ]
    );
    assert!(
        report["error"].as_str().unwrap().contains("ended Failed"),
        "{report}"
    );
    assert!(run.stderr.contains("not applied"), "{}", run.stderr);
    // What the report says is what the table holds.
    assert_eq!(arm.writes(), 1);
    arm.check_untouched();
}

#[test]
fn the_token_goes_to_the_endpoint_only() {
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
    // An endpoint that is neither the cloud's nor loopback is refused before any request.
    let arm = FakeArm::start(Faults::default());
    let mut args = arm.args("apply", &["--yes"]);
    let at = args.iter().position(|a| a == "--arm-endpoint").unwrap();
    args[at + 1] = "https://management.example.com".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute(&refs).fails_with("is not the Public Resource Manager");
    assert!(arm.server.requests().is_empty());
    // Malformed ids are refused with one line.
    let mut args = arm.args("diff", &[]);
    let at = args.iter().position(|a| a == "--route-table-id").unwrap();
    args[at + 1] =
        "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute(&refs).fails_with(
        "--route-table-id '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt': subscription 'x' is not a subscription id",
    );
}

#[test]
fn a_run_killed_during_apply_converges_on_the_next() {
    let arm = FakeArm::start(Faults {
        slow_poll: Some(Duration::from_millis(300)),
        ..Faults::default()
    });
    let args = arm.args("apply", &["--yes"]);
    let mut child = std::process::Command::new(binary())
        .args(&args)
        .env("AZURE_ACCESS_TOKEN", "")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while arm.writes() < 2 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = arm.writes();
    assert!((2..CHANGE).contains(&done), "killed after {done} writes");
    arm.state.lock().unwrap().faults.slow_poll = None;
    arm.run("apply", &["--yes"]).status(0);
    arm.check_equals_plan();
    arm.check_untouched();
}

#[test]
fn refresh_applies_verifies_and_records() {
    let arm = FakeArm::start(Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let mut args = arm.args(
        "refresh",
        &["--apply", "--state-dir", state, "--cloud", "public"],
    );
    // refresh takes the file with --file like the others.
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("4 route writes applied and verified"),
        "{}",
        run.stdout
    );
    arm.check_equals_plan();
    arm.check_untouched();
    let current = Path::new(state).join("current");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(current.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["apply"]["verified"], true);
    assert_eq!(
        summary["apply"]["applied"].as_array().unwrap().len(),
        CHANGE
    );
    let state_text = std::fs::read_to_string(current.join("summary.json")).unwrap();
    assert!(!state_text.contains("token-1"));
    // Next week, nothing to change.
    args.push("--quiet".into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert_eq!(arm.writes(), CHANGE);
}

#[test]
fn a_table_at_its_limit_gets_room_before_a_create() {
    // 5 routes now, 6 after the change: with a limit of 6 the second create needs the delete
    // first, and the table never holds 7.
    let arm = FakeArm::start(Faults::default());
    let run = arm
        .run("apply", &["--yes", "--max-routes", "6", "--format", "json"])
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
    arm.check_untouched();
}

/// `apply --yes` on `arm` without --token-file: the token comes from the environment.
fn without_token_file(arm: &FakeArm) -> Vec<String> {
    let mut args = arm.args("apply", &["--yes"]);
    let at = args.iter().position(|a| a == "--token-file").unwrap();
    args.drain(at..at + 2);
    args
}

#[test]
fn a_token_from_the_environment_is_used_and_a_second_401_is_an_error() {
    let arm = FakeArm::start(Faults::default());
    let args = without_token_file(&arm);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "token-1")]).status(0);
    arm.check_equals_plan();
    // A given token cannot be renewed: after the 401 the run stops, saying so, having written
    // nothing.
    let arm = FakeArm::start(Faults {
        expired: true,
        ..Faults::default()
    });
    let args = without_token_file(&arm);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "token-1")]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("refused the token (401) twice"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("token-1"));
    assert_eq!(arm.writes(), 0);
}

#[test]
fn the_sdk_chain_takes_a_managed_identity_token() {
    // No --token-file, no AZURE_ACCESS_TOKEN: the Azure SDK's chain finds the managed identity
    // endpoint, asks it for a Resource Manager token, and the run uses that token.
    let arm = FakeArm::start(Faults::default());
    let args = without_token_file(&arm);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let endpoint = arm.server.url("/msi/token");
    let run = tagroute_with(
        &refs,
        None,
        &[
            ("AZURE_ACCESS_TOKEN", ""),
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "s3cret"),
            ("AZURE_CLIENT_SECRET", ""),
            ("AZURE_FEDERATED_TOKEN_FILE", ""),
        ],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    arm.check_equals_plan();
    let asked = arm
        .server
        .requests()
        .iter()
        .filter(|r| r.path() == "/msi/token")
        .count();
    assert!(asked >= 1);
}

#[test]
fn refresh_records_a_change_too_large_and_writes_nothing() {
    let arm = FakeArm::start(Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let args = arm.args(
        "refresh",
        &[
            "--apply",
            "--max-changes",
            "2",
            "--state-dir",
            state,
            "--cloud",
            "public",
        ],
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_eq!(arm.writes(), 0);
    let summary: Value = serde_json::from_slice(
        &std::fs::read(Path::new(state).join("current/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["apply"]["applied"], json!([]));
    assert_eq!(summary["apply"]["remaining"], CHANGE);
    assert!(
        summary["apply"]["error"]
            .as_str()
            .unwrap()
            .contains("more than the 2 allowed"),
        "{summary}"
    );
    arm.check_untouched();
}

#[test]
fn a_table_that_is_not_there_is_a_one_line_error() {
    let arm = FakeArm::start(Faults::default());
    let mut args = arm.args("apply", &["--yes"]);
    let at = args.iter().position(|a| a == "--route-table-id").unwrap();
    args[at + 1] = ID.replace("rt-aml", "rt-gone");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
        .fails_with("reading route table rt-gone: HTTP 404: NotFound");
    assert_eq!(arm.writes(), 0);
}

#[test]
fn an_operation_that_never_ends_times_out_and_exits_2() {
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
    assert_eq!(report["notApplied"].as_array().unwrap().len(), CHANGE);
    arm.check_untouched();
}
