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
//! subscriptions asked for. Its per-user quota is the documented one
//! (learn.microsoft.com/azure/governance/resource-graph/concepts/guidance-for-throttled-requests):
//! 15 queries in a 5-second window unless a test sets another, `x-ms-user-quota-remaining` and
//! `x-ms-user-quota-resets-after` (`hh:mm:ss`) on every answer, and a query past the quota
//! answered `429` with the `RateLimiting` error Azure gives (as recorded in
//! Azure/azure-cli-extensions issue 3325) and no `Retry-After`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
    /// Resource Graph's quota, when not the documented 15 queries in 5 seconds.
    pub graph_quota: Option<GraphQuota>,
    /// Rows added to the first page of every answer, whatever was asked (a hostile or broken
    /// answer: another subscription's table, a table twice in another letter case).
    pub graph_extra_rows: Vec<Value>,
    /// Every page names a next page, alternating between two `$skipToken`s forever.
    pub graph_token_loop: bool,
}

/// Resource Graph's per-user quota.
#[derive(Clone, Copy)]
pub struct GraphQuota {
    pub per_window: usize,
    pub window: Duration,
    /// Queries another client of the same user already made in the first window.
    pub spent_before: usize,
}

impl Default for GraphQuota {
    fn default() -> Self {
        GraphQuota {
            per_window: 15,
            window: Duration::from_secs(5),
            spent_before: 0,
        }
    }
}

/// Where the quota stands: the window's start and the queries made in it.
struct QuotaState {
    quota: GraphQuota,
    start: Instant,
    used: usize,
}

impl QuotaState {
    /// Takes one query from the quota: the queries left and the time until the window resets,
    /// or `Err` with that time when none is left.
    fn take(&mut self) -> Result<(usize, Duration), Duration> {
        let now = Instant::now();
        if now >= self.start + self.quota.window {
            self.start = now;
            self.used = 0;
        }
        let resets = self.start + self.quota.window - now;
        if self.used >= self.quota.per_window {
            return Err(resets);
        }
        self.used += 1;
        Ok((self.quota.per_window - self.used, resets))
    }
}

/// `hh:mm:ss`, rounded up to a whole second.
fn hh_mm_ss(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

struct Shared {
    tables: Vec<Arc<Mutex<State>>>,
    latency: Duration,
    graph_page: usize,
    graph_requests: Mutex<Vec<Value>>,
    graph_extra_rows: Vec<Value>,
    graph_token_loop: bool,
    graph_quota: Mutex<QuotaState>,
    graph_throttled: AtomicUsize,
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
    let quota = shared.graph_quota.lock().unwrap().take();
    let (left, resets) = match quota {
        Ok(q) => q,
        Err(resets) => {
            shared.graph_throttled.fetch_add(1, Ordering::SeqCst);
            let body = serde_json::json!({"error": {
                "code": "RateLimiting",
                "message": "Please provide below info when asking for support: timestamp = 2021-05-03T07:08:29.0524831Z, correlationId = 3f2d6a54-1b0e-4f0a-9b8e-2a4c6e1d7f90.",
                "details": [{"code": "RateLimiting", "message": "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."}]
            }});
            let reply = Reply::Ok {
                status: 429,
                headers: vec![],
                body: serde_json::to_vec(&body).unwrap(),
            };
            return reply
                .with_header("Content-Type", "application/json; charset=utf-8")
                .with_header("x-ms-user-quota-remaining", "0")
                .with_header("x-ms-user-quota-resets-after", &hh_mm_ss(resets));
        }
    };
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
    let mut page: Vec<Value> = rows.iter().skip(from).take(size).cloned().collect();
    if body["options"]["$skipToken"].is_null() {
        page.extend(shared.graph_extra_rows.iter().cloned());
    }
    let mut answer = serde_json::json!({
        "totalRecords": rows.len(),
        "count": page.len(),
        "resultTruncated": "false",
        "facets": [],
        "data": page,
    });
    if shared.graph_token_loop {
        let next = match body["options"]["$skipToken"].as_str() {
            Some("loop-a") => "loop-b",
            _ => "loop-a",
        };
        answer["$skipToken"] = next.into();
    } else if from + size < rows.len() {
        answer["$skipToken"] = format!("page-at-{}", from + size).into();
    }
    Reply::body(serde_json::to_vec(&answer).unwrap())
        .with_header("x-ms-user-quota-remaining", &left.to_string())
        .with_header("x-ms-user-quota-resets-after", &hh_mm_ss(resets))
}

impl FakeFleet {
    /// The Resource Graph requests' bodies, in order.
    pub fn graph_requests(&self) -> Vec<Value> {
        self.shared.graph_requests.lock().unwrap().clone()
    }

    pub fn start(setups: Vec<TableSetup>, faults: FleetFaults) -> FakeFleet {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        crate::harness::write_token(&token_file, "token-1\n");
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
            graph_extra_rows: faults.graph_extra_rows,
            graph_token_loop: faults.graph_token_loop,
            graph_quota: Mutex::new({
                let quota = faults.graph_quota.unwrap_or_default();
                QuotaState {
                    quota,
                    start: Instant::now(),
                    used: quota.spent_before,
                }
            }),
            graph_throttled: AtomicUsize::new(0),
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

    /// Resource Graph queries answered 429.
    pub fn graph_throttled(&self) -> usize {
        self.shared.graph_throttled.load(Ordering::SeqCst)
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
