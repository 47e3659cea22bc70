//! What a fleet run costs against one run per table in sequence: 100 route tables (two
//! subscriptions, four regions) on the many-table fake Resource Manager with the recorded latency
//! model of `arm_cost.rs` (a write's operation ends by the first poll, the client polls at its
//! own 2 s), plus 100 ms per request, all run 20 times faster and scaled back. Not a test of the
//! suite: run it with `cargo test --release --test integration fleet_cost -- --ignored
//! --nocapture`; the figures are in BENCHMARKS.md.

use std::time::{Duration, Instant};

use crate::fake_arm::Faults;
use crate::fake_fleet::{FakeFleet, FleetFaults, TableSetup};
use crate::fleet::{SUB_A, SUB_B, id};
use crate::harness::*;

const SPEEDUP: u32 = 20;
const TABLES: usize = 100;
const REGIONS: [&str; 4] = ["eastus", "westeurope", "francecentral", "japaneast"];

fn fleet() -> (FakeFleet, Vec<(String, &'static str)>) {
    fleet_of(TABLES, SPEEDUP)
}

/// `n` forced-tunnel tables over two subscriptions and four regions; the recorded latency model
/// run `speedup` times faster (0: no latency).
fn fleet_of(n: usize, speedup: u32) -> (FakeFleet, Vec<(String, &'static str)>) {
    let scaled = |d: Duration| d.checked_div(speedup).unwrap_or(Duration::ZERO);
    let tables: Vec<(String, &str)> = (0..n)
        .map(|i| {
            let sub = if i % 2 == 0 { SUB_A } else { SUB_B };
            (
                id(sub, "rg-spokes", &format!("rt-spoke-{i:04}")),
                REGIONS[i % 4],
            )
        })
        .collect();
    let setups = tables
        .iter()
        .map(|(id, region)| TableSetup {
            id: id.clone(),
            location: (*region).into(),
            routes: vec![(
                "default".into(),
                serde_json::json!({"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}),
            )],
            faults: Faults {
                op_latency: scaled(Duration::from_secs(1)),
                ..Faults::default()
            },
        })
        .collect();
    let fake = FakeFleet::start(
        setups,
        FleetFaults {
            latency: scaled(Duration::from_millis(100)),
            ..FleetFaults::default()
        },
    );
    (fake, tables)
}

/// A fleet file of `tables`, each with its region.
fn config_text(tables: &[(String, &str)]) -> String {
    tables
        .iter()
        .map(|(table, region)| format!("[[table]]\nid = \"{table}\"\nregion = \"{region}\"\n\n"))
        .collect()
}

fn common<'a>(fake: &'a FakeFleet, file: &'a str, token: &'a str, poll: &'a str) -> Vec<&'a str> {
    vec![
        "--file",
        file,
        "--arm-endpoint",
        &fake.server.base,
        "--token-file",
        token,
        "--poll-interval",
        poll,
        "-q",
    ]
}

#[test]
#[ignore = "a measurement, not a test: see BENCHMARKS.md"]
fn fleet_cost_one_run_against_one_run_per_table() {
    let data = data_dir();
    let file = snapshot(&data, "ServiceTags_Public_20251028.json");
    let poll = format!("{}", 2.0 / SPEEDUP as f64);
    println!("| command | tables | runs | wall time at recorded latency |");
    println!("|---|---:|---|---:|");
    for command in ["apply", "refresh"] {
        // One run per table, in sequence.
        let (fake, tables) = fleet();
        let token = fake.token_file();
        let tmp = tempfile::tempdir().unwrap();
        let started = Instant::now();
        for (i, (table, region)) in tables.iter().enumerate() {
            let state = tmp.path().join(format!("s{i}"));
            let mut args = vec![command];
            args.extend(common(&fake, &file, token.to_str().unwrap(), &poll));
            args.extend(["--region", region, "--route-table-id", table]);
            if command == "apply" {
                args.push("--yes");
            } else {
                args.extend([
                    "--cloud",
                    "public",
                    "--apply",
                    "--state-dir",
                    state.to_str().unwrap(),
                ]);
            }
            let run = tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "")]);
            assert!(run.status <= 1, "{}", run.stderr);
        }
        let sequential = started.elapsed() * SPEEDUP;
        assert_eq!(fake.writes(), TABLES);
        println!(
            "| `{command}` | {TABLES} | one per table, in sequence | {:.0} s |",
            sequential.as_secs_f64()
        );
        for jobs in ["4", "16", "64"] {
            let (fake, tables) = fleet();
            let token = fake.token_file();
            let tmp = tempfile::tempdir().unwrap();
            let config = tmp.path().join("tagroute.toml");
            std::fs::write(&config, config_text(&tables)).unwrap();
            let state = tmp.path().join("state");
            let mut args = vec![
                command,
                "--config",
                config.to_str().unwrap(),
                "--jobs",
                jobs,
            ];
            args.extend(common(&fake, &file, token.to_str().unwrap(), &poll));
            if command == "apply" {
                args.push("--yes");
            } else {
                args.extend(["--apply", "--state-dir", state.to_str().unwrap()]);
            }
            let started = Instant::now();
            let run = tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "")]);
            let took = started.elapsed() * SPEEDUP;
            assert!(run.status <= 1, "{}", run.stderr);
            assert_eq!(fake.writes(), TABLES);
            println!(
                "| `{command} --config --jobs {jobs}` | {TABLES} | one | {:.0} s ({:.1}x faster) |",
                took.as_secs_f64(),
                sequential.as_secs_f64() / took.as_secs_f64()
            );
        }
    }
}

/// The CPU seconds (user and system) of this process's children that have been waited for, from
/// `/proc/self/stat` (`cutime` and `cstime`, in clock ticks of 1/100 s on Linux).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command's closing parenthesis, the state first: cutime and cstime
    // are fields 16 and 17 of the line, 13 and 14 of these.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[13].parse::<f64>().unwrap() + fields[14].parse::<f64>().unwrap();
    ticks / 100.0
}

const MANY: usize = 1_000;

#[test]
#[ignore = "a measurement, not a test: see BENCHMARKS.md"]
fn fleet_cpu_per_table_of_a_thousand_table_diff() {
    let data = data_dir();
    let file = snapshot(&data, "ServiceTags_Public_20251028.json");
    let (fake, tables) = fleet_of(MANY, 0);
    let token = fake.token_file();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("tagroute.toml");
    std::fs::write(&config, config_text(&tables)).unwrap();
    let args = [
        "diff",
        "--config",
        config.to_str().unwrap(),
        "--file",
        &file,
        "--arm-endpoint",
        &fake.server.base,
        "--token-file",
        token.to_str().unwrap(),
        "--format",
        "json",
        "-q",
    ];
    // One run of a single table: the process's fixed cost (reading the file), taken from the
    // fleet's to leave what each table adds.
    let one = tmp.path().join("one.toml");
    std::fs::write(
        &one,
        format!("[[table]]\nid = \"{}\"\nregion = \"eastus\"\n", tables[0].0),
    )
    .unwrap();
    let mut one_args = args;
    one_args[2] = one.to_str().unwrap();
    let mut fixed = f64::MAX;
    for _ in 0..3 {
        let before = children_cpu();
        let run = tagroute_with(&one_args, None, &[("AZURE_ACCESS_TOKEN", "")]);
        assert_eq!(run.status, 1, "{}", run.stderr);
        fixed = fixed.min(children_cpu() - before);
    }
    let mut whole = f64::MAX;
    for _ in 0..3 {
        let before = children_cpu();
        let run = tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "")]);
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert_eq!(run.json()["tables"].as_array().unwrap().len(), MANY);
        whole = whole.min(children_cpu() - before);
    }
    println!(
        "| `diff --config`, {MANY} tables | {whole:.2} s CPU | one table {fixed:.2} s | {:.2} ms a table |",
        (whole - fixed) * 1000.0 / (MANY - 1) as f64
    );
}
