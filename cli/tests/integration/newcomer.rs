//! What a newcomer or a crafted file could trip over: routes that would share a name or a
//! Terraform label, a default route named like tagroute's own, secrets in URLs, and what a
//! download that finds nothing says.

use crate::fake_arm::{FakeArm, Faults, initial_routes};
use crate::harness::*;
use crate::server::{Reply, Server};

/// A service-tag file of `tags` (name, UDR?, prefixes) in `dir`.
fn file(dir: &std::path::Path, tags: &[(&str, bool, &[&str])]) -> String {
    tag_file(&dir.join("tags.json"), tags)
}

#[test]
fn routes_that_would_share_a_name_or_a_label_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A UDR tag named like a prefix route.
    let f = file(
        dir.path(),
        &[
            ("Selected", false, &["203.0.113.7/32"]),
            (
                "203.0.113.7-32",
                true,
                &["198.51.100.0/24", "192.0.2.0/24", "203.0.113.128/25"],
            ),
        ],
    );
    tagroute(&[
        "plan",
        "-f",
        &f,
        "--tag",
        "Selected",
        "--tag",
        "203.0.113.7-32",
        "--tag-route",
        "203.0.113.7-32",
    ])
    .fails_with(
        "routes to 203.0.113.7-32 and 203.0.113.7/32 would both be named 'tagroute-203.0.113.7-32'",
    );
    // Two tags alike but for `.` and `_`: one Terraform label.
    let f = file(
        dir.path(),
        &[
            (
                "Foo.Bar",
                true,
                &["198.51.100.0/25", "192.0.2.0/25", "203.0.113.0/25"],
            ),
            (
                "Foo_Bar",
                true,
                &["198.51.100.128/25", "192.0.2.128/25", "203.0.113.128/25"],
            ),
        ],
    );
    for format in ["terraform", "az", "json"] {
        tagroute(&[
            "plan",
            "-f",
            &f,
            "--tag",
            "Foo*",
            "--tag-route",
            "Foo*",
            "--format",
            format,
        ])
        .fails_with("routes to Foo_Bar and Foo.Bar would both be named 'tagroute-Foo.Bar'");
    }
}

#[test]
fn a_default_route_named_like_tagroutes_own_is_never_deleted() {
    let mut routes = initial_routes();
    routes[0].0 = "tagroute-default".into();
    let arm = FakeArm::with_routes(Faults::default(), routes);
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(0);
    assert!(
        run.stderr.contains(
            "route 'tagroute-default' is named as tagroute's but is a default route (0.0.0.0/0)"
        ),
        "{}",
        run.stderr
    );
    let kept = arm
        .routes()
        .into_iter()
        .find(|r| r.0 == "tagroute-default")
        .unwrap();
    assert_eq!(
        (kept.1.as_str(), kept.2.as_str()),
        ("0.0.0.0/0", "VirtualAppliance")
    );
    for a in run.json()["applied"].as_array().unwrap() {
        assert_ne!(a["name"], "tagroute-default");
    }
}

#[test]
fn no_url_secret_is_printed() {
    let Some(_) = data_dir() else { return };
    // A webhook that fails: its user, password and query stay out of every message.
    let hook = Server::start(|_, _| Reply::status(500));
    let url = hook
        .url("/hook?sig=SECRETSIG")
        .replacen("http://", "http://user:PASSWORD@", 1);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let run = tagroute(&[
        "refresh",
        "--state-dir",
        state.to_str().unwrap(),
        "--cloud",
        "public",
        "--file",
        &example(),
        "--region",
        "westeurope",
        "--webhook",
        &url,
        "--retries",
        "0",
    ]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("webhook failed"), "{}", run.stderr);
    for secret in ["PASSWORD", "SECRETSIG", "user:"] {
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_download_that_finds_nothing_says_what_the_page_did() {
    // The page answers 404 and no dated file exists: both are said, neither as "no link".
    let server = Server::start(|_, _| Reply::status(404));
    let dir = tempfile::tempdir().unwrap();
    let run = tagroute(&[
        "fetch",
        "--cloud",
        "public",
        "--cache-dir",
        dir.path().to_str().unwrap(),
        "--download-page",
        &server.url("/page?token=SECRET"),
        "--download-base",
        &server.url("/dl/"),
        "--probe-days",
        "2",
        "--retries",
        "0",
    ]);
    let run = run.status(2);
    assert!(
        run.stderr.contains("the download page failed (")
            && run.stderr.contains("HTTP 404")
            && run
                .stderr
                .contains("and no date in the last 2 days exists under"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("SECRET"), "{}", run.stderr);
    // Nothing listens: the page's failure and the probe's are both named.
    drop(server);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let run = tagroute(&[
        "fetch",
        "--cloud",
        "public",
        "--cache-dir",
        dir.path().to_str().unwrap(),
        "--download-page",
        &format!("http://127.0.0.1:{port}/page"),
        "--download-base",
        &format!("http://127.0.0.1:{port}/dl/"),
        "--retries",
        "0",
    ])
    .status(2);
    assert!(
        run.stderr.contains("the download page failed (")
            && run.stderr.contains("and probing dates failed:"),
        "{}",
        run.stderr
    );
}
