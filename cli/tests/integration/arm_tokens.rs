//! Where `apply` gets its Resource Manager token: a file, the environment, the Azure SDK's
//! credentials (a managed identity endpoint on loopback), and what it says when none works.

use std::time::Duration;

use crate::fake_arm::{FakeArm, Faults};
use crate::harness::*;

/// `apply --yes` on `arm` without --token-file: the token comes from the environment.
fn without_token_file(arm: &FakeArm) -> Vec<String> {
    let mut args = arm.args("apply", &["--yes"]);
    let at = args.iter().position(|a| a == "--token-file").unwrap();
    args.drain(at..at + 2);
    args
}

/// `apply --yes` on `arm` with no token given, in an environment that names no credential but
/// `env`: the Azure SDK's chain (and tagroute's own Azure ML identity) must find one there.
fn through_the_chain(arm: &FakeArm, env: &[(&str, &str)]) -> Run {
    let args = without_token_file(arm);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut all = vec![
        ("AZURE_ACCESS_TOKEN", ""),
        ("AZURE_CLIENT_SECRET", ""),
        ("AZURE_FEDERATED_TOKEN_FILE", ""),
        // No Azure CLI to fall back on.
        ("PATH", ""),
    ];
    all.extend_from_slice(env);
    tagroute_with(&refs, None, &all)
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
    let endpoint = arm.server.url("/msi/token");
    let run = through_the_chain(
        &arm,
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "s3cret"),
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
fn a_token_endpoint_answering_too_much_fails_the_credential() {
    let arm = FakeArm::start(Faults {
        token_bomb: Some(5_000_000),
        ..Faults::default()
    });
    let endpoint = arm.server.url("/msi/token");
    let started = std::time::Instant::now();
    let run = through_the_chain(
        &arm,
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "s3cret"),
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(run.status, 2, "{}", run.stderr);
    // Refused at the limit, not read to the end nor retried until the credential's timeout
    // (the SDK does not pass the cause on).
    assert!(
        run.stderr
            .contains("managed identity: ManagedIdentityCredential authentication failed"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("token-1"));
    assert_eq!(arm.writes(), 0);
}

#[test]
fn azure_ml_computes_managed_identity_gives_the_token() {
    // Azure ML compute sets MSI_ENDPOINT and MSI_SECRET, which the Azure SDK for Rust does not
    // serve; tagroute asks that endpoint itself.
    let arm = FakeArm::start(Faults::default());
    let endpoint = arm.server.url("/msi-aml/token");
    let run = through_the_chain(
        &arm,
        &[("MSI_ENDPOINT", &endpoint), ("MSI_SECRET", "s3cret")],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    arm.check_equals_plan();
    assert!(!run.stderr.contains("s3cret"));
    // A wrong secret is refused by the endpoint: the error names it, and nothing is written.
    let arm = FakeArm::start(Faults::default());
    let endpoint = arm.server.url("/msi-aml/token");
    let run = through_the_chain(
        &arm,
        &[("MSI_ENDPOINT", &endpoint), ("MSI_SECRET", "wrong")],
    )
    .status(2);
    assert!(
        run.stderr.contains("Azure ML managed identity: ") && run.stderr.contains("HTTP 400"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("wrong"));
    assert_eq!(arm.writes(), 0);
}

#[test]
fn a_managed_identity_the_sdk_lacks_is_named_when_nothing_works() {
    // Cloud Shell sets MSI_ENDPOINT without MSI_SECRET: the Azure SDK for Rust does not serve
    // it, and the error says so rather than leave it out.
    let arm = FakeArm::start(Faults::default());
    let run = through_the_chain(&arm, &[("MSI_ENDPOINT", "http://127.0.0.1:1/msi")]);
    let run = run.status(2);
    assert!(
        run.stderr
            .contains("managed identity: CloudShell managed identity isn't supported"),
        "{}",
        run.stderr
    );
    assert_eq!(arm.writes(), 0);
}
