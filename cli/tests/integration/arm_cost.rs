//! What `apply --yes` costs in Resource Manager operations and wall time, table mode against
//! route mode, for 26, 400 and 1,000 changes, on the fake Resource Manager with the recorded
//! latency: in the Azure CLI's recorded session a write's operation has ended by the first poll,
//! a second or two after the write, and no answer names a `Retry-After`, so the client polls at
//! its own interval (2 s). The measurement runs that model 20 times faster (operations of 50 ms,
//! polls every 0.1 s) and reports the time scaled back. Not a test of the suite: run it with
//! `cargo test --release --test integration arm_cost -- --ignored --nocapture`; the figures are
//! in BENCHMARKS.md.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fake_arm::{FakeArm, Faults, initial_routes};

/// How much faster than recorded the fake runs.
const SPEEDUP: u32 = 20;

/// A table of the example's two unmanaged routes, the plan's four routes to change, and
/// `stale` managed routes the plan no longer has: `stale + 4` writes in all.
fn table(stale: usize) -> Vec<(String, Value)> {
    let mut routes: Vec<(String, Value)> = initial_routes().into_iter().take(2).collect();
    for i in 0..stale {
        let prefix = format!("10.{}.{}.0/24", 100 + i / 256, i % 256);
        routes.push((
            format!("tagroute-{}", prefix.replace('/', "-")),
            json!({"provisioningState": "Succeeded", "addressPrefix": prefix, "nextHopType": "Internet", "hasBgpOverride": false}),
        ));
    }
    routes
}

#[test]
#[ignore = "a measurement, not a test: see BENCHMARKS.md"]
fn arm_cost_table_mode_against_route_mode() {
    println!(
        "| changes | mode | write requests | table reads | polls | wall time (recorded latency) |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for changes in [26usize, 400, 1000] {
        for mode in ["table", "routes"] {
            let arm = FakeArm::with_routes(
                Faults {
                    op_latency: Duration::from_secs(1) / SPEEDUP,
                    ..Faults::default()
                },
                table(changes - 4),
            );
            let mut args = arm.args(
                "apply",
                &[
                    "--yes",
                    "--write",
                    mode,
                    "--max-changes",
                    "1000",
                    "--format",
                    "json",
                ],
            );
            let at = args.iter().position(|a| a == "--poll-interval").unwrap();
            args[at + 1] = format!("{}", 2.0 / SPEEDUP as f64);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let started = Instant::now();
            let run = crate::harness::tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
            let took = started.elapsed() * SPEEDUP;
            assert_eq!(run.status, 0, "{}", run.stderr);
            let report = run.json();
            assert_eq!(report["applied"].as_array().unwrap().len(), changes);
            let requests = arm.server.requests();
            let count = |f: &dyn Fn(&crate::server::Request) -> bool| {
                requests.iter().filter(|r| f(r)).count()
            };
            let writes = count(&|r| r.method != "GET");
            let reads = count(&|r| r.method == "GET" && r.path() == crate::fake_arm::ID);
            let polls = count(&|r| r.path().contains("/operation"));
            println!(
                "| {changes} | {mode} | {writes} | {reads} | {polls} | {:.0} s |",
                took.as_secs_f64()
            );
        }
    }
}
