//! A fake Resource Manager holding many route tables behind one endpoint: each table answers as
//! the one-table fake of `fake_arm.rs` does (built from Azure's recorded sessions), and the
//! endpoint adds what Azure documents for many requests at once
//! (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
//! a `429` with `Retry-After` and `x-ms-ratelimit-remaining-subscription-reads: 0` when reads
//! are throttled, with the `SubscriptionRequestsThrottled` error; a `404` `ResourceNotFound`
//! for a table that is not there. A latency per request stands for Azure's; the most requests
//! in flight at once are counted.

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
    /// The first table reads answered `429` with `Retry-After: 1`.
    pub throttle_reads: usize,
}

struct Shared {
    tables: Vec<Arc<Mutex<State>>>,
    latency: Duration,
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

impl FakeFleet {
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
