//! `refresh --apply` against the fake Resource Manager: what was applied is recorded in the
//! state, whatever fails after the first write.

use std::path::Path;

use serde_json::{Value, json};

use crate::arm::CHANGE;
use crate::fake_arm::{FakeArm, Faults};
use crate::harness::*;

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
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("4 route writes applied and verified"),
        "{}",
        run.stdout
    );
    arm.check_equals_plan();
    arm.check_untouched("table");
    let current = Path::new(state).join("tables/rt-aml/current");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(current.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["apply"]["verified"], true);
    assert_eq!(summary["apply"]["writeRequests"], 1);
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
    assert_eq!(arm.writes(), 1);
}

#[test]
fn refresh_records_writes_even_when_the_table_cannot_be_read_back() {
    let arm = FakeArm::start(Faults {
        reads_fail_after_write: true,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let args = arm.args(
        "refresh",
        &[
            "--apply",
            "--state-dir",
            state,
            "--cloud",
            "public",
            "--retries",
            "1",
        ],
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    let summary: Value = serde_json::from_slice(
        &std::fs::read(Path::new(state).join("tables/rt-aml/current/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        summary["apply"]["applied"].as_array().unwrap().len(),
        CHANGE,
        "{summary}"
    );
    assert!(
        summary["apply"]["error"]
            .as_str()
            .unwrap()
            .contains("reading the table back"),
        "{summary}"
    );
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
        &std::fs::read(Path::new(state).join("tables/rt-aml/current/summary.json")).unwrap(),
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
    arm.check_untouched("table");
}
