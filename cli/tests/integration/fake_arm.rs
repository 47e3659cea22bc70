//! A fake Azure Resource Manager for one route table, built from what Azure is recorded to
//! answer (`tests/fixtures/arm/README.md` names every source), not from what tagroute sends:
//!
//! - one ETag, `W/"<guid>"`, on the table and on every route of it, renewed by every write to
//!   the table or to any route, and in an `ETag` header on a table `GET`;
//! - a table `PUT` replaces the table whole (tags, properties, routes) under `If-Match`, answers
//!   `200` with `provisioningState: Updating` and a signed `Azure-AsyncOperation` URL of the
//!   recorded shape and length; read-only properties in the body are ignored, as Azure does;
//! - a route `PUT` answers `201` or `200`, a `DELETE` `202` with both `Azure-AsyncOperation`
//!   and `Location`; the `Location` poll ends `204`; no `Retry-After` unless a fault asks;
//! - a stale `If-Match` gets `412` `PreconditionFailedEtagMismatch`; contention arrives as `409`
//!   or `429` `RetryableError`, or as an operation that ends `Failed` with
//!   `AnotherOperationInProgress`;
//! - at most 1,000 routes in the table; `VirtualApplianceEcmp` routes with 2 to 64
//!   `nextHop.nextHopIpAddresses`.
//!
//! Faults are injected on request; hostile answers (oversized, for another table, decoys, bad
//! ETags) are among them.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::server::{Reply, Request, Server};

#[path = "fake_arm_writes.rs"]
mod writes;
use writes::{delete_route, put_route, put_table};

/// The table the tests work on.
pub const ID: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-aml";
/// Azure's limit of routes per table since May 2026.
const MAX_ROUTES: usize = 1000;

/// What goes wrong, and when.
#[derive(Default)]
pub struct Faults {
    /// First writes answered 429 `RetryableError`.
    pub throttle: usize,
    /// First writes answered 409 `AnotherOperationInProgress`.
    pub busy: usize,
    /// First write operations that end `Failed` with `AnotherOperationInProgress` (nothing
    /// changed).
    pub busy_operation: usize,
    /// First writes answered 500.
    pub server_error: usize,
    /// A write that would leave this route in the table ends `Failed` (nothing changed).
    pub fail_route: Option<String>,
    /// First polls whose connection is dropped.
    pub drop_poll: usize,
    /// The first request gets 401 and the token file is renewed.
    pub expired: bool,
    /// Table reads after which someone else re-saves the table (its ETag moves).
    pub concurrent_edits: usize,
    /// Operations point at another origin.
    pub foreign_poll: bool,
    /// Each poll answers this late.
    pub slow_poll: Option<Duration>,
    /// Operations never finish.
    pub stuck: bool,
    /// How long an operation runs before it ends (the recorded latency model of the benchmark).
    pub op_latency: Duration,
    /// A table `GET` answers this many bytes of gzip-compressed JSON padding.
    pub gzip_bomb: Option<usize>,
    /// A table `GET` also carries a top-level `routes` list that is not the table's.
    pub decoy_routes: bool,
    /// A table `GET` answers for another table.
    pub other_table: bool,
    /// The table's `etag` in answers, as given.
    pub etag_text: Option<String>,
    /// Every `GET` of the table after the first accepted write answers 500.
    pub reads_fail_after_write: bool,
    /// `Retry-After` on write answers, as recorded for some (`10`).
    pub retry_after: Option<&'static str>,
    /// The managed identity endpoint answers this many bytes.
    pub token_bomb: Option<usize>,
    /// First writes carried out in full, then answered 500 (the answer lost on the way, as a
    /// gateway's timeout does): the client cannot know they were applied.
    pub lost_answer: usize,
    /// A table `PUT` is answered as done but drops the route `default` and flips
    /// `disableBgpRoutePropagation` (what the read-back must catch).
    pub mangle_put: bool,
    /// Writes are refused 400 with a message that quotes the request's `Authorization` header,
    /// as a misconfigured proxy or gateway does.
    pub echo_auth: bool,
}

/// One long-running operation.
struct Op {
    started: Instant,
    /// `Failed` with this error code, or success.
    fails_with: Option<&'static str>,
}

pub struct State {
    pub base: String,
    /// The table's id, as Azure writes it.
    pub id: String,
    /// Set in the operation ids of this table, so that a server holding several tables can
    /// tell whose operation is polled.
    pub op_prefix: u64,
    pub token: String,
    pub token_file: PathBuf,
    /// The table's properties but `routes` (location, tags, properties...).
    pub table: Map<String, Value>,
    /// Route name → its `properties`, in table order.
    pub routes: Vec<(String, Value)>,
    /// The table's ETag, as a counter.
    pub etag: u64,
    pub faults: Faults,
    ops: HashMap<String, Op>,
    next_op: u64,
    /// Write requests accepted (each changed the table).
    pub writes: usize,
    /// Authorization headers seen.
    pub tokens_seen: Vec<String>,
    /// Most routes the table ever held.
    pub most_routes: usize,
}

pub struct FakeArm {
    pub server: Server,
    pub state: Arc<Mutex<State>>,
    _dir: tempfile::TempDir,
}

/// The table's ETag number `n` in Azure's form, `W/"<guid>"`.
pub fn etag(n: u64) -> String {
    let h = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d;
    format!(
        "W/\"{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}\"",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h & 0xfff) as u16,
        (n & 0xfff) as u16,
        h & 0xffff_ffff_ffff
    )
}

fn route(prefix: &str, hop: &str, ip: Option<&str>) -> Value {
    let mut props = json!({"provisioningState": "Succeeded", "addressPrefix": prefix, "nextHopType": hop, "hasBgpOverride": false});
    if let Some(ip) = ip {
        props["nextHopIpAddress"] = json!(ip);
    }
    props
}

/// The table the tests start from: three managed routes (one to keep, one with a wrong next hop,
/// one the plan lacks) and two that belong to someone else.
pub fn initial_routes() -> Vec<(String, Value)> {
    vec![
        (
            "default".into(),
            route("0.0.0.0/0", "VirtualAppliance", Some("10.0.0.4")),
        ),
        (
            "onprem".into(),
            route("10.0.0.0/8", "VirtualNetworkGateway", None),
        ),
        (
            "tagroute-203.0.113.7-32".into(),
            route("203.0.113.7/32", "Internet", None),
        ),
        (
            "tagroute-203.0.113.16-28".into(),
            route("203.0.113.16/28", "VirtualAppliance", Some("10.0.0.4")),
        ),
        (
            "tagroute-198.51.100.0-24".into(),
            route("198.51.100.0/24", "Internet", None),
        ),
    ]
}

/// The table's own properties, in the recorded answer's order; `disablePeeringRoute` stands for
/// a property tagroute does not know, which must survive a write.
pub fn initial_table() -> Map<String, Value> {
    table_named(ID, "westeurope")
}

/// A table of that id and location, with the properties of [`initial_table`].
pub fn table_named(id: &str, location: &str) -> Map<String, Value> {
    let name = id.rsplit('/').next().unwrap();
    let doc = json!({
        "name": name,
        "id": id,
        "type": "Microsoft.Network/routeTables",
        "location": location,
        "tags": {"owner": "network-team"},
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": "8614fef8-f40e-418e-a608-25867baaea4e",
            "disableBgpRoutePropagation": true,
            "disablePeeringRoute": false,
            "subnets": [{"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aml"}],
        }
    });
    doc.as_object().unwrap().clone()
}

/// A signed operation URL of the recorded shape: `t` of 18 digits, `c` of 2,575 characters,
/// `s` of 342, `h` of 43 (`azure_asyncoperation_url.txt`).
fn operation_url(host: &str, kind: &str, op: &str) -> String {
    let fill = |n: usize, seed: u8| -> String {
        (0..n)
            .map(|i| {
                let c = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                c[(i * 7 + seed as usize) % 64] as char
            })
            .collect()
    };
    format!(
        "{host}/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/providers/Microsoft.Network/locations/westeurope/{kind}/{op}?api-version=2025-07-01&t=638619057738293558&c={}&s={}&h={}",
        fill(2575, 1),
        fill(342, 2),
        fill(43, 3)
    )
}

pub fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::Ok {
        status,
        headers: vec![],
        body: serde_json::to_vec(&json!({"error": {"code": code, "message": message}})).unwrap(),
    }
}

impl State {
    /// A table of that id holding `routes`, whose token (`token-1`) is also in `token_file`.
    pub fn new(
        id: &str,
        table: Map<String, Value>,
        routes: Vec<(String, Value)>,
        faults: Faults,
        token_file: PathBuf,
    ) -> State {
        State {
            base: String::new(),
            id: id.to_owned(),
            op_prefix: 0,
            token: "token-1".into(),
            token_file,
            table,
            most_routes: routes.len(),
            routes,
            etag: 1,
            faults,
            ops: HashMap::new(),
            next_op: 0,
            writes: 0,
            tokens_seen: Vec::new(),
        }
    }

    /// (name, addressPrefix, nextHopType, next hop addresses) of every route, sorted.
    pub fn sorted_routes(&self) -> Vec<(String, String, String, Vec<String>)> {
        let mut v: Vec<_> = self
            .routes
            .iter()
            .map(|(name, p)| {
                let mut ips: Vec<String> = p["nextHopIpAddress"]
                    .as_str()
                    .map(str::to_owned)
                    .into_iter()
                    .collect();
                for ip in p["nextHop"]["nextHopIpAddresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    ips.push(ip.as_str().unwrap().to_owned());
                }
                (
                    name.clone(),
                    p["addressPrefix"].as_str().unwrap().to_owned(),
                    p["nextHopType"].as_str().unwrap().to_owned(),
                    ips,
                )
            })
            .collect();
        v.sort();
        v
    }

    fn etag_text(&self) -> String {
        self.faults
            .etag_text
            .clone()
            .unwrap_or_else(|| etag(self.etag))
    }

    /// The table as a `GET` answers it.
    pub fn table_json(&self, provisioning: &str) -> Value {
        let e = self.etag_text();
        let mut doc = Map::new();
        for (k, v) in &self.table {
            doc.insert(k.clone(), v.clone());
            if k == "id" {
                doc.insert("etag".into(), json!(e));
            }
        }
        doc["properties"]["provisioningState"] = json!(provisioning);
        doc["properties"]["routes"] = Value::Array(
            self.routes
                .iter()
                .map(|(name, props)| {
                    json!({
                        "name": name,
                        "id": format!("{}/routes/{name}", self.id),
                        "etag": e,
                        "properties": props,
                        "type": "Microsoft.Network/routeTables/routes",
                    })
                })
                .collect(),
        );
        Value::Object(doc)
    }

    fn new_op(&mut self, fails_with: Option<&'static str>) -> String {
        self.next_op += 1;
        let n = (self.op_prefix << 16) | self.next_op;
        let id = format!("{n:08x}-e0bf-439c-9fc3-9eba2d4ab6f5");
        self.ops.insert(
            id.clone(),
            Op {
                started: Instant::now(),
                fails_with,
            },
        );
        id
    }

    fn host(&self) -> String {
        if self.faults.foreign_poll {
            "http://127.0.0.2:9".to_owned()
        } else {
            self.base.clone()
        }
    }

    /// A 412 as Azure words it.
    fn precondition_failed(&self, sent: &str) -> Reply {
        let message = format!(
            "Etag provided in if-match header {sent} does not match etag {} of resource {} in NRP data store.",
            self.etag_text(),
            self.id
        );
        Reply::Ok {
            status: 412,
            headers: vec![],
            body: serde_json::to_vec(&json!({"error": {"code": "PreconditionFailed", "message": "Precondition failed.", "details": [{"code": "PreconditionFailedEtagMismatch", "message": message}]}}))
                .unwrap(),
        }
    }

    /// A fault that refuses a write before it starts, if one is due.
    fn write_fault(&mut self) -> Option<Reply> {
        if self.faults.throttle > 0 {
            self.faults.throttle -= 1;
            return Some(error(429, "RetryableError", "A retryable error occurred."));
        }
        if self.faults.busy > 0 {
            self.faults.busy -= 1;
            return Some(error(
                409,
                "AnotherOperationInProgress",
                "Another operation on this or dependent resource is in progress.",
            ));
        }
        if self.faults.server_error > 0 {
            self.faults.server_error -= 1;
            return Some(error(500, "InternalServerError", "An error occurred."));
        }
        None
    }

    /// How the operation of a write that would leave `names` in the table ends; `None` is
    /// success, and only then does the write change the table.
    fn write_outcome(&mut self, names: &[&str]) -> Option<&'static str> {
        if self.faults.busy_operation > 0 {
            self.faults.busy_operation -= 1;
            return Some("AnotherOperationInProgress");
        }
        let fail = self.faults.fail_route.as_deref();
        names
            .iter()
            .any(|n| Some(*n) == fail)
            .then_some("InternalServerError")
    }

    /// The table changed: a new ETag.
    fn wrote(&mut self) {
        self.writes += 1;
        self.etag += 1;
        self.most_routes = self.most_routes.max(self.routes.len());
    }

    fn with_retry_after(&self, reply: Reply) -> Reply {
        match self.faults.retry_after {
            Some(v) => reply.with_header("Retry-After", v),
            None => reply,
        }
    }
}

/// A route's `properties` as a write gives them, checked as Azure checks them.
fn check_route(r: &Value) -> Result<(String, Value), String> {
    let name = r["name"].as_str().ok_or("a route has no name")?.to_owned();
    let p = &r["properties"];
    let hop = p["nextHopType"]
        .as_str()
        .ok_or("a route has no nextHopType")?;
    p["addressPrefix"]
        .as_str()
        .ok_or("a route has no addressPrefix")?;
    let ecmp = p["nextHop"]["nextHopIpAddresses"].as_array();
    match hop {
        "VirtualAppliance" if p["nextHopIpAddress"].is_string() && ecmp.is_none() => {}
        "VirtualApplianceEcmp"
            if p["nextHopIpAddress"].is_null()
                && ecmp.is_some_and(|l| (2..=64).contains(&l.len())) => {}
        "Internet" | "VirtualNetworkGateway" | "VnetLocal" | "None"
            if p["nextHopIpAddress"].is_null() && ecmp.is_none() => {}
        _ => return Err(format!("route {name}: invalid next hop")),
    }
    let mut props = json!({"provisioningState": "Succeeded"});
    for k in [
        "addressPrefix",
        "nextHopType",
        "nextHopIpAddress",
        "nextHop",
    ] {
        if !p[k].is_null() {
            props[k] = p[k].clone();
        }
    }
    props["hasBgpOverride"] = json!(false);
    Ok((name, props))
}

pub fn handle(state: &Mutex<State>, req: &Request) -> Reply {
    let mut s = state.lock().unwrap();
    if let Some(reply) = crate::fake_identity::answer(&s, req) {
        return reply;
    }
    let auth = req.header("authorization").unwrap_or("").to_owned();
    s.tokens_seen.push(auth.clone());
    if s.faults.expired {
        s.faults.expired = false;
        s.token = "token-2".into();
        std::fs::write(&s.token_file, "token-2\n").unwrap();
        return error(
            401,
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
        );
    }
    if auth != format!("Bearer {}", s.token) {
        return error(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        );
    }
    let path = req.path().to_owned();
    if let Some((_, op)) = path.rsplit_once("/operations/") {
        return poll(&mut s, op, true);
    }
    if let Some((_, op)) = path.rsplit_once("/operationResults/") {
        return poll(&mut s, op, false);
    }
    let id = s.id.clone();
    if path == id {
        return match req.method.as_str() {
            "GET" => get_table(&mut s),
            "PUT" => put_table(&mut s, req),
            _ => error(405, "MethodNotAllowed", "no"),
        };
    }
    let Some(name) = path
        .strip_prefix(&format!("{id}/routes/"))
        .map(str::to_owned)
    else {
        let table = path.rsplit('/').next().unwrap_or_default();
        return error(
            404,
            "ResourceNotFound",
            &format!(
                "The Resource 'Microsoft.Network/routeTables/{table}' under resource group 'rg-net' was not found."
            ),
        );
    };
    match req.method.as_str() {
        "PUT" => put_route(&mut s, req, &name),
        "DELETE" => delete_route(&mut s, req, &name),
        _ => error(405, "MethodNotAllowed", "no"),
    }
}

fn poll(s: &mut State, op: &str, async_op: bool) -> Reply {
    if s.faults.drop_poll > 0 {
        s.faults.drop_poll -= 1;
        return Reply::DropMidBody {
            body: b"{\"status\": \"InProgr".to_vec(),
            at: 8,
        };
    }
    let (slow, stuck, latency) = (s.faults.slow_poll, s.faults.stuck, s.faults.op_latency);
    let Some(entry) = s.ops.get(op) else {
        return error(404, "NotFound", "no such operation");
    };
    let running = stuck || entry.started.elapsed() < latency;
    let reply = if async_op {
        let body = match (running, entry.fails_with) {
            (true, _) => json!({"status": "InProgress"}),
            (false, None) => json!({"status": "Succeeded"}),
            (false, Some(code)) => {
                json!({"status": "Failed", "error": {"code": code, "message": if code == "AnotherOperationInProgress" {
                    "Another operation on this or dependent resource is in progress."
                } else {
                    "An error occurred."
                }}})
            }
        };
        Reply::body(serde_json::to_vec(&body).unwrap())
    } else if running {
        Reply::status(202)
    } else {
        Reply::status(204)
    };
    match slow {
        Some(d) => Reply::Slow(d, Box::new(reply)),
        None => reply,
    }
}

fn get_table(s: &mut State) -> Reply {
    if s.faults.reads_fail_after_write && s.writes > 0 {
        return error(500, "InternalServerError", "An error occurred.");
    }
    let mut doc = s.table_json("Succeeded");
    if s.faults.other_table {
        doc["id"] = json!(s.id.replace("rt-aml", "rt-other"));
    }
    if s.faults.decoy_routes {
        doc["routes"] = json!([{"name": "tagroute-decoy", "addressPrefix": "0.0.0.0/1", "nextHopType": "Internet"}]);
    }
    let etag_header = s.etag_text();
    let body = serde_json::to_vec(&doc).unwrap();
    if s.faults.concurrent_edits > 0 {
        s.faults.concurrent_edits -= 1;
        // Someone re-saves the table: its ETag moves, nothing else.
        s.etag += 1;
    }
    if let Some(n) = s.faults.gzip_bomb {
        // Valid JSON that decompresses to n bytes: the table followed by spaces.
        let mut padded = body;
        padded.resize(n.max(padded.len()), b' ');
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&padded).unwrap();
        return Reply::Ok {
            status: 200,
            headers: vec![("Content-Encoding".into(), "gzip".into())],
            body: gz.finish().unwrap(),
        };
    }
    Reply::body(body).with_header("ETag", &etag_header)
}

/// A 400 that quotes the request's `Authorization` header.
fn echo_auth(req: &Request) -> Reply {
    let auth = req.header("authorization").unwrap_or_default();
    error(
        400,
        "InvalidRequestFormat",
        &format!("Cannot parse the request sent with Authorization: {auth}"),
    )
}

/// The answer of a write carried out in full, when its answer is to be lost.
fn lose_answer(s: &mut State, reply: Reply) -> Reply {
    if s.faults.lost_answer > 0 {
        s.faults.lost_answer -= 1;
        return error(500, "InternalServerError", "An error occurred.");
    }
    reply
}

impl FakeArm {
    pub fn start(faults: Faults) -> FakeArm {
        FakeArm::with_routes(faults, initial_routes())
    }

    pub fn with_routes(faults: Faults, routes: Vec<(String, Value)>) -> FakeArm {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        crate::harness::write_token(&token_file, "token-1\n");
        let state = Arc::new(Mutex::new(State::new(
            ID,
            initial_table(),
            routes,
            faults,
            token_file,
        )));
        let shared = state.clone();
        let server = Server::start(move |req, _| handle(&shared, req));
        state.lock().unwrap().base = server.base.clone();
        FakeArm {
            server,
            state,
            _dir: dir,
        }
    }

    pub fn token_file(&self) -> String {
        let s = self.state.lock().unwrap();
        s.token_file.to_str().unwrap().to_owned()
    }

    /// Write requests accepted.
    pub fn writes(&self) -> usize {
        self.state.lock().unwrap().writes
    }

    /// (name, addressPrefix, nextHopType, next hop addresses) of every route, sorted.
    pub fn routes(&self) -> Vec<(String, String, String, Vec<String>)> {
        self.state.lock().unwrap().sorted_routes()
    }

    /// The table's own properties (all but its routes and read-only ones) are as they started.
    pub fn check_table_kept(&self) {
        let s = self.state.lock().unwrap();
        let want = initial_table();
        assert_eq!(s.table["tags"], want["tags"]);
        assert_eq!(s.table["location"], want["location"]);
        for k in [
            "disableBgpRoutePropagation",
            "disablePeeringRoute",
            "subnets",
        ] {
            assert_eq!(s.table["properties"][k], want["properties"][k], "{k}");
        }
    }
}
