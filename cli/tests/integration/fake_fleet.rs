//! A fake Resource Manager holding many route tables behind one endpoint: each table answers as
//! the one-table fake of `fake_arm.rs` does (built from Azure's recorded sessions), and the
//! endpoint adds what Azure documents for many requests at once
//! (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
//! a `429` with `Retry-After` and `x-ms-ratelimit-remaining-subscription-reads: 0` when reads
//! are throttled, with the `SubscriptionRequestsThrottled` error; a `404` `ResourceNotFound`
//! for a table that is not there. A latency per request stands for Azure's; the most requests
//! in flight at once are counted.
//!
//! It also answers Azure Resource Graph (`POST /providers/Microsoft.ResourceGraph/resources`) as
//! the REST specification's examples do (`ResourcesFirstPageQuery.json` and
//! `ResourcesNextPageQuery.json` of Microsoft.ResourceGraph 2024-04-01): `totalRecords`,
//! `count`, `resultTruncated: "false"`, `facets`, `data` as objects, and `$skipToken` while rows
//! remain; each row holds the table's `id`, `name`, `location`, `subscriptionId`,
//! `resourceGroup` and its `properties` as Resource Manager gives them, only of the
//! subscriptions asked for.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use crate::fake_arm::{Faults, State, error, handle, table_named};
use crate::server::{Reply, Request, Server};

/// A table the fleet holds.
pub struct TableSetup {
    pub id: String,
    pub location: String,
    pub routes: Vec<(String, Value)>,
    pub faults: Faults,
}

/// What the endpoint does to every table.
#[derive(Default)]
pub struct FleetFaults {
    /// Each request is answered this late.
    pub latency: Duration,
    /// Rows per Resource Graph page, at most (0: as asked, up to 1,000).
    pub graph_page: usize,
    /// The first table reads answered `429` with `Retry-After: 1`.
    pub throttle_reads: usize,
}

struct Shared {
    tables: Vec<Arc<Mutex<State>>>,
    latency: Duration,
    graph_page: usize,
    graph_requests: Mutex<Vec<Value>>,
    throttle_left: AtomicUsize,
    throttled: AtomicUsize,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    table_reads: AtomicUsize,
}

pub struct FakeFleet {
    pub server: Server,
    shared: Arc<Shared>,
    dir: tempfile::TempDir,
}

fn dispatch(shared: &Shared, req: &Request) -> Reply {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(shared.latency);
    let reply = answer(shared, req);
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    reply
}

fn answer(shared: &Shared, req: &Request) -> Reply {
    let path = req.path().to_owned();
    if path == "/providers/Microsoft.ResourceGraph/resources" {
        return graph(shared, req);
    }
    // An operation id carries its table's number in its first four hex digits.
    let op = path
        .rsplit_once("/operations/")
        .or_else(|| path.rsplit_once("/operationResults/"))
        .map(|(_, op)| op);
    let table = match op {
        Some(op) => usize::from_str_radix(op.get(..4).unwrap_or("x"), 16)
            .ok()
            .and_then(|n| shared.tables.get(n.wrapping_sub(1))),
        None => shared.tables.iter().find(|t| {
            let id = t.lock().unwrap().id.to_ascii_lowercase();
            let p = path.to_ascii_lowercase();
            p == id || p.starts_with(&format!("{id}/"))
        }),
    };
    let Some(table) = table else {
        let name = path.rsplit('/').next().unwrap_or_default();
        return error(
            404,
            "ResourceNotFound",
            &format!("The Resource 'Microsoft.Network/routeTables/{name}' was not found."),
        );
    };
    let is_read = req.method == "GET" && op.is_none();
    if is_read {
        shared.table_reads.fetch_add(1, Ordering::SeqCst);
        let throttle = shared
            .throttle_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if throttle {
            shared.throttled.fetch_add(1, Ordering::SeqCst);
            let subscription = path.split('/').nth(2).unwrap_or_default().to_owned();
            return error(
                429,
                "SubscriptionRequestsThrottled",
                &format!(
                    "Number of 'read' requests for subscription '{subscription}' actor \
                     '00000000-0000-0000-0000-000000000000' exceeded. Please try again after '1' \
                     seconds after additional tokens are available. Refer to \
                     https://aka.ms/arm-throttling"
                ),
            )
            .with_header("Retry-After", "1")
            .with_header("x-ms-ratelimit-remaining-subscription-reads", "0");
        }
    }
    handle(table, req)
}

/// A Resource Graph answer: the tables of the subscriptions asked, by id, a page at a time.
fn graph(shared: &Shared, req: &Request) -> Reply {
    if req.method != "POST"
        || !req.target.contains("api-version=2024-04-01")
        || req.header("authorization") != Some("Bearer token-1")
    {
        return error(400, "BadRequest", "bad Resource Graph request");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return error(400, "BadRequest", "The request content was invalid.");
    };
    shared.graph_requests.lock().unwrap().push(body.clone());
    let subscriptions: Vec<String> = body["subscriptions"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|s| s.as_str())
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let mut rows: Vec<Value> = shared
        .tables
        .iter()
        .map(|t| {
            let s = t.lock().unwrap();
            let doc = s.table_json("Succeeded");
            let parts: Vec<&str> = s.id.split('/').collect();
            serde_json::json!({
                "id": s.id,
                "name": doc["name"],
                "location": doc["location"],
                "subscriptionId": parts[2],
                "resourceGroup": parts[4].to_ascii_lowercase(),
                "properties": doc["properties"],
            })
        })
        .filter(|r| {
            subscriptions.contains(&r["subscriptionId"].as_str().unwrap().to_ascii_lowercase())
        })
        .collect();
    rows.sort_by(|a, b| a["id"].as_str().unwrap().cmp(b["id"].as_str().unwrap()));
    let top = body["options"]["$top"].as_u64().unwrap_or(100).min(1000) as usize;
    let size = match shared.graph_page {
        0 => top,
        n => n.min(top),
    };
    let from: usize = body["options"]["$skipToken"]
        .as_str()
        .and_then(|t| t.strip_prefix("page-at-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = rows.iter().skip(from).take(size).cloned().collect();
    let mut answer = serde_json::json!({
        "totalRecords": rows.len(),
        "count": page.len(),
        "resultTruncated": "false",
        "facets": [],
        "data": page,
    });
    if from + size < rows.len() {
        answer["$skipToken"] = format!("page-at-{}", from + size).into();
    }
    Reply::body(serde_json::to_vec(&answer).unwrap())
}

impl FakeFleet {
    /// The Resource Graph requests' bodies, in order.
    pub fn graph_requests(&self) -> Vec<Value> {
        self.shared.graph_requests.lock().unwrap().clone()
    }

    pub fn start(setups: Vec<TableSetup>, faults: FleetFaults) -> FakeFleet {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, "token-1\n").unwrap();
        let tables: Vec<Arc<Mutex<State>>> = setups
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let mut s = State::new(
                    &t.id,
                    table_named(&t.id, &t.location),
                    t.routes,
                    t.faults,
                    token_file.clone(),
                );
                s.op_prefix = i as u64 + 1;
                Arc::new(Mutex::new(s))
            })
            .collect();
        let shared = Arc::new(Shared {
            tables,
            latency: faults.latency,
            graph_page: faults.graph_page,
            graph_requests: Mutex::new(Vec::new()),
            throttle_left: AtomicUsize::new(faults.throttle_reads),
            throttled: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
            table_reads: AtomicUsize::new(0),
        });
        let s = shared.clone();
        let server = Server::start(move |req, _| dispatch(&s, req));
        for t in &shared.tables {
            t.lock().unwrap().base = server.base.clone();
        }
        FakeFleet {
            server,
            shared,
            dir,
        }
    }

    pub fn token_file(&self) -> PathBuf {
        self.dir.path().join("token")
    }

    /// Table `i`, as it is now.
    pub fn table(&self, i: usize) -> MutexGuard<'_, State> {
        self.shared.tables[i].lock().unwrap()
    }

    /// The most requests that were in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }

    /// Reads answered 429.
    pub fn throttled(&self) -> usize {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Write requests accepted, over every table.
    pub fn writes(&self) -> usize {
        self.shared
            .tables
            .iter()
            .map(|t| t.lock().unwrap().writes)
            .sum()
    }
}
