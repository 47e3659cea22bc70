//! `refresh --config`: one lock and one state directory for the fleet (the run's report, a
//! state per table, each cloud's file once), webhooks per changed table, and a run killed with
//! `kill -9` at any moment that the next run converges.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_fleet::FleetFaults;
use crate::fleet::{Fleet, TABLES};
use crate::harness::*;
use crate::server::{Reply, Server};

fn current(dir: &Path) -> std::path::PathBuf {
    dir.join(std::fs::read_link(dir.join("current")).unwrap())
}

fn json_file(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn a_fleet_refresh_records_each_table_and_reruns_unchanged() {
    let f = Fleet::start(FleetFaults::default());
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap();
    let run = f
        .run("refresh", &["--state-dir", s, "--apply", "--format", "az"])
        .status(1);
    assert!(run.stdout.contains("5 tables: 5 applied"), "{}", run.stdout);
    let report = json_file(&current(&state).join("report.json"));
    assert_eq!(report["tables"].as_array().unwrap().len(), 5);
    for (i, (name, ..)) in TABLES.iter().enumerate() {
        f.check_planned(i);
        let table_state = current(&state.join("tables").join(name));
        // The report names the generation each table's run recorded.
        let reported = report["tables"][i]["state"].as_str().unwrap();
        assert_eq!(
            std::fs::canonicalize(reported).unwrap(),
            std::fs::canonicalize(&table_state).unwrap(),
            "{name}"
        );
        let summary = json_file(&table_state.join("summary.json"));
        assert_eq!(summary["changed"], true, "{name}");
        assert_eq!(summary["apply"]["verified"], true, "{name}");
        assert!(summary["routeTable"].as_str().unwrap().ends_with(name));
        // The az rendering names the table's own group and name.
        let script = std::fs::read_to_string(table_state.join("plan.sh")).unwrap();
        assert!(script.contains(&format!("ROUTE_TABLE='{name}'")), "{name}");
        assert!(script.contains("RESOURCE_GROUP='rg-spokes'"), "{name}");
    }
    let files: Vec<String> = std::fs::read_dir(state.join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");

    let md = f
        .run(
            "refresh",
            &["--state-dir", s, "--summary-format", "markdown"],
        )
        .status(0);
    assert!(
        md.stdout.starts_with("### tagroute: 5 tables: 5 unchanged"),
        "{}",
        md.stdout
    );
    let again = f
        .run(
            "refresh",
            &["--state-dir", s, "--apply", "--summary-format", "json"],
        )
        .status(0);
    let report = again.json();
    for t in report["tables"].as_array().unwrap() {
        assert_eq!(t["status"], "unchanged", "{t}");
    }
    assert_eq!(f.fake.writes(), 5);
}

/// A fleet whose every request takes `latency_ms`, and the arguments of a refresh of it (with
/// `extra`) into `state` under the returned directory.
fn slow_refresh(latency_ms: u64, extra: &[&str]) -> (Fleet, tempfile::TempDir, Vec<String>) {
    let f = Fleet::start(FleetFaults {
        latency: Duration::from_millis(latency_ms),
        ..FleetFaults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let file = f.public_file();
    let token = f.fake.token_file();
    let mut args: Vec<String> = f
        .args("refresh", token.to_str().unwrap(), &file)
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.extend(["--state-dir", state.to_str().unwrap()].map(str::to_owned));
    args.extend(extra.iter().map(|a| a.to_string()));
    (f, tmp, args)
}

/// `tagroute ARGS` started in the background, its output thrown away.
fn spawn(args: &[String]) -> std::process::Child {
    Command::new(binary())
        .args(args)
        .env("AZURE_ACCESS_TOKEN", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_fleet_refresh_killed_at_any_moment_converges() {
    let (f, tmp, args) = slow_refresh(15, &["--apply", "--jobs", "2"]);
    let state = tmp.path().join("state");
    // Each run is killed as soon as it has written one more table: kills land between a
    // table's write and its record, and between tables.
    let mut kills = 0;
    while f.fake.writes() < TABLES.len() - 1 && kills < 10 {
        let before = f.fake.writes();
        let mut child = spawn(&args);
        let start = Instant::now();
        while f.fake.writes() == before
            && child.try_wait().unwrap().is_none()
            && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        // Whatever was recorded is complete: a table's current generation holds its summary.
        for (name, ..) in TABLES {
            let dir = state.join("tables").join(name);
            if dir.join("current").exists() {
                assert!(
                    current(&dir).join("summary.json").is_file(),
                    "kill {kills}: {name}"
                );
            }
        }
    }
    assert!(kills >= 2, "the runs were not killed midway");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
    assert!(run.status == 0 || run.status == 1, "{}", run.stderr);
    for i in 0..TABLES.len() {
        f.check_planned(i);
    }
    let again = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]).status(0);
    assert!(
        again.stdout.contains("5 tables: 5 unchanged"),
        "{}",
        again.stdout
    );
}

#[test]
fn two_fleet_runs_are_serialised_by_the_lock() {
    let (_f, tmp, args) = slow_refresh(100, &["--jobs", "1"]);
    let state = tmp.path().join("state");
    let mut first = spawn(&args);
    let start = Instant::now();
    while !state.join("lock").exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut second = args.clone();
    second.extend(["--lock-timeout", "0.2"].map(str::to_owned));
    let refs: Vec<&str> = second.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
        .fails_with("another refresh holds the lock");
    assert_eq!(first.wait().unwrap().code(), Some(1));
}

#[test]
fn each_changed_table_is_told_to_the_webhook() {
    let f = Fleet::start(FleetFaults::default());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = bodies.clone();
    let hook = Server::start(move |req, _| {
        seen.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&req.body).into_owned());
        Reply::status(200)
    });
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let url = hook.url("/hook?sig=s3cret");
    let run = f
        .run(
            "refresh",
            &[
                "--state-dir",
                state.to_str().unwrap(),
                "--webhook",
                &url,
                "--webhook-format",
                "slack",
                "--table",
                "rt-eastus",
                "--table",
                "rt-chinaeast2",
            ],
        )
        .status(1);
    assert!(!run.stderr.contains("s3cret"));
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(
        bodies.iter().any(|b| b.contains("Public eastus rt-eastus")),
        "{bodies:?}"
    );
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("China chinaeast2 rt-chinaeast2")),
        "{bodies:?}"
    );
}

/// Tables that failed are one message of the fleet's, kept in the fleet's state until the
/// webhook takes it.
#[test]
fn failed_tables_are_told_at_least_once() {
    let f = Fleet::start(FleetFaults::default());
    let text = std::fs::read_to_string(&f.config).unwrap();
    let gone = crate::fleet::id(crate::fleet::SUB_B, "rg-old", "rt-gone");
    std::fs::write(
        &f.config,
        format!("{text}\n[[table]]\nname = \"gone\"\nid = \"{gone}\"\nregion = \"eastus\"\n"),
    )
    .unwrap();
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (seen, is_up) = (bodies.clone(), up.clone());
    let hook = Server::start(move |req, _| {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        if !is_up.load(std::sync::atomic::Ordering::SeqCst) && body.contains("failed") {
            return Reply::status(503);
        }
        seen.lock().unwrap().push(body);
        Reply::status(200)
    });
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let url = hook.url("/hook");
    let run = |extra: &[&str]| {
        let mut a = vec![
            "--state-dir",
            state.to_str().unwrap(),
            "--webhook",
            &url,
            "--webhook-format",
            "teams",
            "--retries",
            "0",
        ];
        a.extend_from_slice(extra);
        f.run("refresh", &a)
    };
    let first = run(&["--table", "gone", "--table", "rt-eastus"]).status(2);
    assert!(
        first.stderr.contains("the failed tables: "),
        "{}",
        first.stderr
    );
    assert_eq!(
        bodies.lock().unwrap().len(),
        1,
        "the changed table's message"
    );
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    run(&["--table", "gone", "--table", "rt-eastus"]).status(2);
    let bodies = bodies.lock().unwrap();
    // The kept message first, then this run's.
    let failures: Vec<&String> = bodies.iter().filter(|b| b.contains("failed")).collect();
    assert_eq!(failures.len(), 2, "{bodies:?}");
    assert!(
        failures[0].contains("tagroute: 1 route table failed"),
        "{}",
        failures[0]
    );
    assert!(
        failures[0].contains("gone (Public eastus): "),
        "{}",
        failures[0]
    );
}

#[test]
fn markdown_is_a_fleets_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    tagroute(&[
        "refresh",
        "--state-dir",
        state.to_str().unwrap(),
        "--cloud",
        "public",
        "--file",
        &example(),
        "--region",
        "westeurope",
        "--summary-format",
        "markdown",
    ])
    .fails_with("--summary-format markdown is a fleet's report (--config)");
    assert!(!state.join("current").exists());
}
