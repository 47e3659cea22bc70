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

/// The stumbles a newcomer met, each mended: refresh takes the cloud from its file; a region of
/// another cloud lists the file's regions; the cache is seeded from a local file for --offline;
/// a mistake in [defaults] lists the keys valid there.
#[test]
fn first_steps_do_not_stumble() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let run = tagroute(&[
        "refresh",
        "--state-dir",
        state.to_str().unwrap(),
        "--file",
        &example(),
        "--region",
        "westeurope",
    ])
    .status(1);
    assert!(
        run.stdout.starts_with("Public changeNumber 42 (first run)"),
        "{}",
        run.stdout
    );

    let gov = tmp.path().join("gov.json");
    std::fs::write(
        &gov,
        std::fs::read_to_string(example())
            .unwrap()
            .replace("\"cloud\": \"Public\"", "\"cloud\": \"AzureGovernment\""),
    )
    .unwrap();
    tagroute(&["plan", "-f", gov.to_str().unwrap(), "-r", "eastus"])
        .fails_with("unknown region 'eastus' in this AzureGovernment file; its regions are francecentral, westeurope");

    let cache = tmp.path().join("cache");
    let c = cache.to_str().unwrap();
    let seeded = tagroute(&[
        "fetch",
        "--cloud",
        "public",
        "--file",
        &example(),
        "--cache-dir",
        c,
    ])
    .status(0);
    assert!(
        seeded.stdout.starts_with("updated: Public changeNumber 42"),
        "{}",
        seeded.stdout
    );
    let offline = tagroute(&[
        "plan",
        "--cloud",
        "public",
        "--offline",
        "--cache-dir",
        c,
        "-r",
        "westeurope",
        "-q",
    ])
    .status(0);
    assert!(
        offline.stdout.contains("changeNumber 42"),
        "{}",
        offline.stdout
    );
    tagroute(&[
        "fetch",
        "--cloud",
        "usgov",
        "--file",
        &example(),
        "--cache-dir",
        c,
    ])
    .fails_with("is a Public file, not AzureGovernment");
    let next = std::path::absolute(repo().join("data/ServiceTags_Example_next.json")).unwrap();
    let url = format!("file://{}", next.display());
    tagroute(&[
        "fetch",
        "--cloud",
        "public",
        "--url",
        &url,
        "--cache-dir",
        c,
    ])
    .status(0);
    tagroute(&[
        "fetch",
        "--cloud",
        "public",
        "--file",
        &example(),
        "--cache-dir",
        c,
    ])
    .fails_with("refusing to roll back");

    let config = tmp.path().join("tagroute.toml");
    std::fs::write(&config, "[defaults]\nnme = 1\n").unwrap();
    let run = tagroute(&[
        "diff",
        "--config",
        config.to_str().unwrap(),
        "--file",
        &example(),
    ])
    .fails_with("unknown field `nme`, expected one of `cloud`, `region`");
    assert!(!run.stderr.contains("`name`"), "{}", run.stderr);
}

/// Every flag a command's help names is a flag of that command.
#[test]
fn help_texts_name_only_their_own_flags() {
    let top = tagroute(&["--help"]).status(0).stdout;
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // A command's line is indented by two; its wrapped description by more.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| {
            l.strip_prefix("  ")?
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 16, "{commands:?}");
    for command in commands {
        let help = tagroute(&[&command, "--help"]).status(0).stdout;
        // The flags it has: those its option lines begin with.
        let own: Vec<String> = help
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('-'))
            .flat_map(|l| {
                l.split([' ', ','])
                    .filter(|w| w.starts_with("--"))
                    .map(str::to_owned)
            })
            .map(|w| w.split(['=', '<']).next().unwrap().to_owned())
            .collect();
        let examples = help.split("Example").next().unwrap_or(&help);
        for word in examples.split(|c: char| c.is_whitespace() || "(),;:`'\"[]".contains(c)) {
            let flag = word.trim_end_matches(['.', '/']);
            if flag.len() > 2
                && flag.starts_with("--")
                && flag[2..]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
            {
                assert!(
                    own.iter().any(|o| o == flag),
                    "{command} --help names {flag}, not its own"
                );
            }
        }
    }
}

/// Every error about a file names its path.
#[test]
fn a_missing_file_is_named() {
    let missing = "/nonexistent/tagroute-missing.json";
    let ex = example();
    for args in [
        vec!["plan", "-f", missing, "-r", "westeurope"],
        vec!["tags", "-f", missing],
        vec!["rules", "-f", missing, "-r", "westeurope"],
        vec!["regions", "-f", missing],
        vec!["lookup", "-f", missing, "1.2.3.4"],
        vec!["drift", missing, &ex],
        vec!["aggregate", missing],
        vec!["diff", "-f", &ex, "-r", "westeurope", "--existing", missing],
        vec!["diff", "--config", missing, "-f", &ex],
        vec![
            "refresh",
            "--state-dir",
            "/tmp/tagroute-never",
            "-f",
            missing,
            "-r",
            "westeurope",
        ],
    ] {
        let run = tagroute(&args);
        assert_eq!(run.status, 2, "{args:?}");
        assert!(run.stderr.contains(missing), "{args:?}: {}", run.stderr);
    }
}
