//! `fetch` and `--cloud` against a real HTTP server on loopback, serving the real snapshots, with
//! injected faults. Every failure must end in exit 2 with the cached file exactly as it was.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::server::{Reply, Server};

const CHINA_OLD: &str = "ServiceTags_China_20260713.json"; // changeNumber 404
const CHINA_NEW: &str = "ServiceTags_China_20260720.json"; // changeNumber 405

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// A page that links to the newest China file the way the download center does.
fn page(base: &str) -> String {
    format!("<html><a href=\"{base}/dl/{CHINA_NEW}\" class=\"download\">Download</a></html>")
}

struct Case {
    _tmp: tempfile::TempDir,
    cache: PathBuf,
}

impl Case {
    fn new() -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("cache");
        Case { _tmp: tmp, cache }
    }
    fn cached(&self) -> Option<Vec<u8>> {
        std::fs::read(self.cache.join("ServiceTags_China.json")).ok()
    }
    fn fetch(&self, server: &Server, extra: &[&str]) -> Run {
        let cache = self.cache.to_str().unwrap().to_owned();
        let page = server.url("/page");
        let base = server.url("/dl/");
        let mut args = vec![
            "fetch",
            "--cloud",
            "china",
            "--cache-dir",
            &cache,
            "--download-page",
            &page,
            "--download-base",
            &base,
            "--retry-delay-ms",
            "20",
        ];
        args.extend_from_slice(extra);
        tagroute(&args)
    }
    /// Seeds the cache with `name` through a plain successful fetch.
    fn seed(&self, dir: &Path, name: &'static str) -> Vec<u8> {
        let bytes = read(dir, name);
        let b = bytes.clone();
        let s = Server::start(move |_, _| Reply::body(b.clone()));
        self.fetch(&s, &["--url", &s.url("/seed.json")]).status(0);
        assert_eq!(self.cached().unwrap(), bytes);
        bytes
    }
}

#[test]
fn discovers_downloads_and_then_revalidates_with_a_304() {
    let dir = data_dir();
    let file = read(&dir, CHINA_NEW);
    let server = Server::start(move |req, _| match req.path() {
        "/page" => Reply::body(page(&format!("http://{}", req.header("host").unwrap()))),
        p if p.ends_with(CHINA_NEW) => {
            if req.header("if-none-match") == Some("\"v405\"") {
                Reply::status(304)
            } else {
                Reply::body(file.clone()).with_header("ETag", "\"v405\"")
            }
        }
        _ => Reply::status(404),
    });
    let case = Case::new();
    let run = case.fetch(&server, &["--format", "json"]).status(0);
    let out = run.json();
    assert_eq!(
        (
            out["status"].as_str(),
            out["foundVia"].as_str(),
            out["changeNumber"].as_u64()
        ),
        (Some("updated"), Some("download page"), Some(405))
    );
    assert_eq!(case.cached().unwrap(), read(&dir, CHINA_NEW));
    let again = case.fetch(&server, &[]).status(0);
    assert!(
        again
            .stdout
            .starts_with("unchanged: China changeNumber 405"),
        "{}",
        again.stdout
    );
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path().ends_with(CHINA_NEW))
        .collect();
    assert_eq!(gets.len(), 2);
    assert_eq!(
        gets[1].header("if-none-match"),
        Some("\"v405\""),
        "a conditional request the second time"
    );
    // Every command can then read the cache instead of --file.
    let cache = case.cache.to_str().unwrap();
    let from_cache = tagroute(&[
        "plan",
        "--cloud",
        "china",
        "--cache-dir",
        cache,
        "--offline",
        "-r",
        "chinaeast2",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    let from_file = tagroute(&[
        "plan",
        "-f",
        &snapshot(&dir, CHINA_NEW),
        "-r",
        "chinaeast2",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(from_cache, from_file);
}

/// A host given by name is resolved by the system's resolver: the static build resolves through
/// the C library linked into it, the default build through the shared one.
#[test]
fn fetches_from_a_host_given_by_name() {
    let dir = data_dir();
    let file = read(&dir, CHINA_NEW);
    let server = Server::start(move |_, _| Reply::body(file.clone()));
    let case = Case::new();
    let url = server.url_by_name("/named.json");
    assert!(url.starts_with("http://localhost:"), "{url}");
    case.fetch(&server, &["--url", &url]).status(0);
    assert_eq!(case.cached().unwrap(), read(&dir, CHINA_NEW));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn retries_503_and_honours_retry_after_on_429() {
    let dir = data_dir();
    let file = read(&dir, CHINA_NEW);
    let server = Server::start(move |req, nth| match (req.path(), nth) {
        ("/a.json", 0) => Reply::status(503),
        ("/b.json", 0) => Reply::status(429).with_header("Retry-After", "1"),
        _ => Reply::body(file.clone()),
    });
    let case = Case::new();
    case.fetch(&server, &["--url", &server.url("/a.json")])
        .status(0);
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path() == "/a.json")
            .count(),
        2
    );
    let start = Instant::now();
    let case = Case::new();
    case.fetch(&server, &["--url", &server.url("/b.json")])
        .status(0);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(case.cached().unwrap(), read(&dir, CHINA_NEW));
}

#[test]
fn broken_bodies_are_retried_and_never_stored() {
    let dir = data_dir();
    let file = read(&dir, CHINA_NEW);
    let server = Server::start(move |req, nth| match (req.path(), nth) {
        ("/once.json", 0) => Reply::DropMidBody {
            body: file.clone(),
            at: 1000,
        },
        ("/drop.json", _) => Reply::DropMidBody {
            body: file.clone(),
            at: 5000,
        },
        ("/short.json", _) => Reply::ShortBody {
            body: file[..file.len() - 10].to_vec(),
            missing: 10,
        },
        _ => Reply::body(file.clone()),
    });
    let case = Case::new();
    let old = case.seed(&dir, CHINA_OLD);
    for path in ["/drop.json", "/short.json"] {
        let run = case.fetch(&server, &["--url", &server.url(path), "--retries", "2"]);
        assert_eq!(run.status, 2, "{path}: {}", run.stderr);
        assert!(
            run.stderr.contains("failed after 3 attempts: the answer"),
            "{}",
            run.stderr
        );
        assert_eq!(
            case.cached().unwrap(),
            old,
            "{path}: the previous file stays"
        );
    }
    case.fetch(&server, &["--url", &server.url("/once.json")])
        .status(0);
    assert_eq!(case.cached().unwrap(), read(&dir, CHINA_NEW));
}

#[test]
fn a_page_without_a_link_falls_back_to_probing_dates() {
    let dir = data_dir();
    let file = read(&dir, CHINA_NEW);
    let fmt = time::macros::format_description!("[year][month][day]");
    let date = (time::OffsetDateTime::now_utc().date() - time::Duration::days(9))
        .format(&fmt)
        .unwrap();
    let name = format!("/dl/ServiceTags_China_{date}.json");
    let wanted = name.clone();
    let server = Server::start(move |req, _| match req.path() {
        "/page" => Reply::body("<html>The download moved.</html>"),
        p if p == wanted => Reply::body(file.clone()),
        _ => Reply::status(404),
    });
    let case = Case::new();
    let out = case.fetch(&server, &["--format", "json"]).status(0).json();
    assert_eq!(out["foundVia"], "date probe");
    assert!(out["url"].as_str().unwrap().ends_with(&name));
    let probes: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "HEAD")
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(
        probes.len(),
        10,
        "today back to nine days ago, newest first: {probes:?}"
    );
    assert_eq!(probes.last().unwrap(), &name);
    // Nothing at any date: a clear error, nothing stored.
    let empty = Server::start(|req, _| {
        if req.path() == "/page" {
            Reply::body("no link")
        } else {
            Reply::status(404)
        }
    });
    let case = Case::new();
    case.fetch(&empty, &["--probe-days", "3"])
        .fails_with("no China file found");
    assert!(case.cached().is_none());
}

#[test]
fn wrong_cloud_older_change_number_and_bad_json_are_refused() {
    let dir = data_dir();
    let gov = read(&dir, "ServiceTags_AzureGovernment_20260720.json");
    let older = read(&dir, CHINA_OLD);
    let server = Server::start(move |req, _| match req.path() {
        "/gov.json" => Reply::body(gov.clone()),
        "/old.json" => Reply::body(older.clone()),
        "/html.json" => Reply::body("<html>maintenance</html>"),
        _ => Reply::status(404),
    });
    let case = Case::new();
    let stored = case.seed(&dir, CHINA_NEW);
    case.fetch(&server, &["--url", &server.url("/gov.json")])
        .fails_with("is a AzureGovernment file, not China");
    case.fetch(&server, &["--url", &server.url("/old.json")])
        .fails_with("has changeNumber 404, older than the stored 405: refusing to roll back");
    case.fetch(&server, &["--url", &server.url("/html.json")])
        .fails_with("the file is not valid");
    case.fetch(&server, &["--url", &server.url("/missing.json")])
        .fails_with("HTTP 404");
    assert_eq!(case.cached().unwrap(), stored);
}

#[test]
fn slow_servers_time_out_and_limits_hold() {
    let dir = data_dir();
    let file = read(&dir, CHINA_NEW);
    let server = Server::start(move |_, _| {
        Reply::Slow(Duration::from_secs(3), Box::new(Reply::body(file.clone())))
    });
    let case = Case::new();
    let stored = case.seed(&dir, CHINA_OLD);
    let start = Instant::now();
    let run = case.fetch(
        &server,
        &[
            "--url",
            &server.url("/slow.json"),
            "--timeout",
            "0.5",
            "--retries",
            "1",
        ],
    );
    run.fails_with("timed out");
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(case.cached().unwrap(), stored);
    case.fetch(
        &server,
        &["--url", &server.url("/slow.json"), "--max-bytes", "1000"],
    )
    .fails_with("larger than the 1000 byte limit");
    tagroute(&[
        "fetch",
        "--cloud",
        "china",
        "--cache-dir",
        case.cache.to_str().unwrap(),
        "--url",
        "http://192.0.2.1/x.json",
    ])
    .fails_with("plain http:// is only allowed to a loopback host");
    assert_eq!(case.cached().unwrap(), stored);
}

#[test]
fn arm_api_pages_are_followed_with_the_token() {
    let dir = data_dir();
    let mut doc: serde_json::Value = serde_json::from_slice(&read(&dir, CHINA_NEW)).unwrap();
    let values = doc["values"].as_array().unwrap().clone();
    let (first, second) = values.split_at(values.len() / 2);
    let (first, second) = (first.to_vec(), second.to_vec());
    doc["changeNumber"] = doc["changeNumber"].to_string().into();
    let head = doc.clone();
    let server = Server::start(move |req, _| {
        if req.header("authorization") != Some("Bearer s3cr3t-token") {
            return Reply::status(401);
        }
        let host = req.header("host").unwrap().to_owned();
        let mut page = head.clone();
        if req.target.contains("page=2") {
            page["values"] = second.clone().into();
        } else {
            page["values"] = first.clone().into();
            page["nextLink"] = format!("http://{host}{}&page=2", req.target).into();
        }
        Reply::body(page.to_string())
    });
    let case = Case::new();
    let token_file = case._tmp.path().join("token");
    crate::harness::write_token(&token_file, "s3cr3t-token\n");
    let run = case
        .fetch(
            &server,
            &[
                "--arm",
                "--subscription",
                "sub-1",
                "--location",
                "chinaeast2",
                "--arm-endpoint",
                &server.base,
                "--token-file",
                token_file.to_str().unwrap(),
                "--format",
                "json",
            ],
        )
        .status(0);
    assert!(run.stderr.contains("can lag the weekly file"));
    assert!(
        !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
        "the token is never printed"
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].target.starts_with("/subscriptions/sub-1/providers/Microsoft.Network/locations/chinaeast2/serviceTags?api-version="));
    let cache = case.cache.to_str().unwrap();
    let tags = tagroute(&[
        "tags",
        "--cloud",
        "china",
        "--cache-dir",
        cache,
        "--offline",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(tags["tags"].as_array().unwrap().len(), values.len());
    // Without a token: a clear error before any request.
    let no_token = tagroute_with(
        &[
            "fetch",
            "--cloud",
            "china",
            "--cache-dir",
            cache,
            "--arm",
            "--subscription",
            "s",
            "--location",
            "l",
            "--arm-endpoint",
            &server.base,
        ],
        None,
        &[("AZURE_ACCESS_TOKEN", "")],
    );
    assert_eq!(no_token.status, 2);
}

#[test]
fn cloud_option_uses_the_cache_and_offline_never_downloads() {
    let dir = data_dir();
    let case = Case::new();
    let cache = case.cache.to_str().unwrap().to_owned();
    tagroute(&[
        "plan",
        "--cloud",
        "china",
        "--cache-dir",
        &cache,
        "--offline",
        "-r",
        "chinaeast2",
    ])
    .fails_with("no cached China file");
    let file = read(&dir, CHINA_NEW);
    let server = Server::start(move |req, _| match req.path() {
        "/page" => Reply::body(page(&format!("http://{}", req.header("host").unwrap()))),
        _ => Reply::body(file.clone()),
    });
    let page_url = server.url("/page");
    let base = server.url("/dl/");
    let plan = |max_age: &str| {
        tagroute(&[
            "plan",
            "--cloud",
            "china",
            "--cache-dir",
            &cache,
            "--download-page",
            &page_url,
            "--download-base",
            &base,
            "--max-age",
            max_age,
            "-r",
            "chinaeast2",
            "--format",
            "json",
        ])
    };
    plan("7").status(0);
    let after_first = server.requests().len();
    plan("7").status(0);
    assert_eq!(
        server.requests().len(),
        after_first,
        "a fresh cache is used as it is"
    );
    plan("0").status(0);
    assert!(
        server.requests().len() > after_first,
        "an old cache is re-checked"
    );
    let env_cache = tagroute_with(
        &[
            "resolve",
            "--cloud",
            "china",
            "--offline",
            "AzureCloud.chinaeast2",
        ],
        None,
        &[("TAGROUTE_CACHE_DIR", &cache)],
    );
    assert_eq!(env_cache.status, 0, "{}", env_cache.stderr);
}

/// Every redirect hop must pass the rules the first URL passed: plain http:// to a host that is
/// not loopback (0.0.0.0, an IPv4-mapped loopback, any other) is refused however it is reached,
/// and a redirect loop fails at once instead of being retried as a transient failure.
#[test]
fn redirects_follow_the_rules_of_the_first_url() {
    let dir = data_dir();
    let file = read(&dir, CHINA_NEW);
    let server = Server::start(move |req, _| {
        let port = req
            .header("host")
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_owned();
        let to = |url: String| Reply::status(302).with_header("Location", &url);
        match req.path() {
            "/to-any" => to(format!("http://0.0.0.0:{port}/file.json")),
            "/to-mapped" => to(format!("http://[::ffff:127.0.0.1]:{port}/file.json")),
            "/to-ftp" => to(format!("ftp://127.0.0.1:{port}/file.json")),
            "/loop" => to("/loop".into()),
            "/to-file" => to("/file.json".into()),
            "/file.json" => Reply::body(file.clone()),
            _ => Reply::status(404),
        }
    });
    let case = Case::new();
    for path in ["/to-any", "/to-mapped", "/to-ftp"] {
        case.fetch(&server, &["--url", &server.url(path)])
            .fails_with("redirect");
        assert!(case.cached().is_none(), "{path}: nothing stored");
    }
    let before = server.requests().len();
    case.fetch(&server, &["--url", &server.url("/loop")])
        .fails_with("redirect");
    let loops = server.requests().len() - before;
    assert!(
        loops <= 7,
        "one request and at most six redirects, not retries: {loops}"
    );
    // A redirect within the rules is followed.
    case.fetch(&server, &["--url", &server.url("/to-file")])
        .status(0);
    assert_eq!(case.cached().unwrap(), read(&dir, CHINA_NEW));
}

/// The ARM API's pages are outside input: a nextLink to another host is not followed (the token
/// would go there), and a page that says a key twice, a nextLink that is no URL and a 304 to a
/// request that asked for none are refused.
#[test]
fn arm_api_pages_that_point_away_or_say_a_key_twice_are_refused() {
    for (status, page, needle) in [
        (
            200,
            r#"{"changeNumber": "1", "cloud": "China", "values": [], "nextLink": "https://elsewhere.example.com/next"}"#,
            "ARM API: nextLink points to another host (elsewhere.example.com); not following it",
        ),
        (
            200,
            r#"{"changeNumber": "1", "cloud": "China", "cloud": "Public", "values": []}"#,
            "not JSON: duplicate key 'cloud'",
        ),
        (
            200,
            r#"{"changeNumber": "1", "cloud": "China", "values": [], "nextLink": "https://[::1/next"}"#,
            "ARM API: bad nextLink 'https://[::1/next': invalid IPv6 address",
        ),
        (304, "", "chinaeast2/serviceTags?...: HTTP 304"),
    ] {
        let server = Server::start(move |_, _| match status {
            200 => Reply::body(page),
            other => Reply::status(other),
        });
        let case = Case::new();
        let token_file = case._tmp.path().join("token");
        crate::harness::write_token(&token_file, "s3cr3t-token\n");
        case.fetch(
            &server,
            &[
                "--arm",
                "--subscription",
                "sub-1",
                "--location",
                "chinaeast2",
                "--arm-endpoint",
                &server.base,
                "--token-file",
                token_file.to_str().unwrap(),
            ],
        )
        .fails_with(needle);
        assert_eq!(server.requests().len(), 1);
        assert!(case.cached().is_none());
    }
}
