//! `diff`, `apply` and `refresh` with `--config` over a fleet of route tables in two
//! subscriptions and two clouds, against the many-table fake Resource Manager of
//! `fake_fleet.rs`. Each table's end state is checked against an independent computation: the
//! addresses its routes send to Internet (a scan over its routes) must be exactly those of its
//! region's `BatchNodeManagement` and `AzureMachineLearning` tags, read straight from the file,
//! in the fewest routes those addresses need.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_arm::Faults;
use crate::fake_fleet::{FakeFleet, FleetFaults, TableSetup};
use crate::harness::*;

pub const SUB_A: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
pub const SUB_B: &str = "3c1e2a7b-5d4f-4e8a-9b6c-7d8e9f0a1b2c";
const PUBLIC: &str = "ServiceTags_Public_20251028.json";
const CHINA: &str = "ServiceTags_China_20260720.json";

pub fn id(sub: &str, group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Network/routeTables/{name}"
    )
}

fn route(prefix: &str, hop: &str, ip: Option<&str>) -> Value {
    let mut props = json!({"provisioningState": "Succeeded", "addressPrefix": prefix, "nextHopType": hop, "hasBgpOverride": false});
    if let Some(ip) = ip {
        props["nextHopIpAddress"] = json!(ip);
    }
    props
}

/// A spoke's table: its forced tunnel, an unmanaged route, and a stale managed route.
fn spoke_routes() -> Vec<(String, Value)> {
    vec![
        (
            "default".into(),
            route("0.0.0.0/0", "VirtualAppliance", Some("10.0.0.4")),
        ),
        (
            "onprem".into(),
            route("10.0.0.0/8", "VirtualNetworkGateway", None),
        ),
        (
            "tagroute-198.51.100.0-24".into(),
            route("198.51.100.0/24", "Internet", None),
        ),
    ]
}

/// (table name, subscription, region name as the fleet file gives it, location, cloud file).
pub const TABLES: [(&str, &str, &str, &str, &str); 5] = [
    ("rt-eastus", SUB_A, "eastus", "eastus", PUBLIC),
    ("rt-westeurope", SUB_A, "westeurope", "westeurope", PUBLIC),
    (
        "rt-francecentral",
        SUB_B,
        "francecentral",
        "francecentral",
        PUBLIC,
    ),
    ("rt-japaneast", SUB_B, "japaneast", "japaneast", PUBLIC),
    ("rt-chinaeast2", SUB_B, "chinaeast2", "chinaeast2", CHINA),
];

fn setups() -> Vec<TableSetup> {
    TABLES
        .iter()
        .map(|(name, sub, _, location, _)| TableSetup {
            id: id(sub, "rg-spokes", name),
            location: (*location).into(),
            routes: spoke_routes(),
            faults: Faults::default(),
        })
        .collect()
}

/// The fleet file of [`TABLES`], plus `extra` lines.
fn fleet_file(dir: &Path, extra: &str) -> String {
    let mut text = String::from("[defaults]\nmax_changes = 100\n\n");
    for (name, sub, region, _, file) in TABLES {
        text.push_str(&format!(
            "[[table]]\nid = \"{}\"\nregion = \"{region}\"\n{}\n",
            id(sub, "rg-spokes", name),
            if file == CHINA {
                "cloud = \"china\"\n"
            } else {
                ""
            }
        ));
    }
    text.push_str(extra);
    let path = dir.join("tagroute.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A cache directory holding the China file, so that the China tables need no download.
fn china_cache(data: &Path, dir: &Path) -> String {
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::copy(data.join(CHINA), cache.join("ServiceTags_China.json")).unwrap();
    cache.to_str().unwrap().to_owned()
}

pub struct Fleet {
    pub fake: FakeFleet,
    data: std::path::PathBuf,
    _tmp: tempfile::TempDir,
    pub config: String,
    pub cache: String,
}

impl Fleet {
    pub fn start(faults: FleetFaults) -> Fleet {
        let data = data_dir();
        let tmp = tempfile::tempdir().unwrap();
        let config = fleet_file(tmp.path(), "");
        let cache = china_cache(&data, tmp.path());
        Fleet {
            fake: FakeFleet::start(setups(), faults),
            data,
            _tmp: tmp,
            config,
            cache,
        }
    }

    pub fn args<'a>(&'a self, command: &'a str, token: &'a str, file: &'a str) -> Vec<&'a str> {
        vec![
            command,
            "--config",
            &self.config,
            "--file",
            file,
            "--cache-dir",
            &self.cache,
            "--offline",
            "--arm-endpoint",
            &self.fake.server.base,
            "--token-file",
            token,
            "--retry-delay-ms",
            "1",
            "--poll-interval",
            "0.01",
        ]
    }

    pub fn public_file(&self) -> String {
        snapshot(&self.data, PUBLIC)
    }

    pub fn run(&self, command: &str, extra: &[&str]) -> Run {
        let file = self.public_file();
        let token = self.fake.token_file();
        let mut args = self.args(command, token.to_str().unwrap(), &file);
        args.extend_from_slice(extra);
        tagroute_with(&args, None, &[("AZURE_ACCESS_TOKEN", "")])
    }

    /// Table `i` sends exactly its region's required addresses to Internet, in the fewest
    /// routes, and keeps its unmanaged routes.
    pub fn check_planned(&self, i: usize) {
        let (name, _, _, _, file) = TABLES[i];
        let file = snapshot(&self.data, file);
        let tag_region = self.tag_region(i);
        let mut required = raw_prefixes(&file, &format!("BatchNodeManagement.{tag_region}"));
        required.extend(raw_prefixes(
            &file,
            &format!("AzureMachineLearning.{tag_region}"),
        ));
        // The default profile also routes the paired region's Azure ML addresses (pairs as
        // Microsoft's regions-paired.md of 2025-01-13 lists them).
        if let Some(paired) = self.paired_aml_tag(i) {
            required.extend(raw_prefixes(&file, &paired));
        }
        required.retain(|p| !p.contains(':'));
        let want = v4_ranges(&required);
        let routes = self.fake.table(i).sorted_routes();
        let table: Vec<(String, bool)> = routes
            .iter()
            .map(|r| (r.1.clone(), r.2 == "Internet"))
            .collect();
        assert_eq!(internet_ranges(&table), want, "{name}");
        let managed = routes
            .iter()
            .filter(|r| r.0.starts_with("tagroute-"))
            .count();
        assert_eq!(managed, min_cidr_count(&want), "{name}");
        for unmanaged in ["default", "onprem"] {
            assert!(routes.iter().any(|r| r.0 == unmanaged), "{name}");
        }
    }

    /// The `AzureMachineLearning` tag of table `i`'s paired region, if the file has one.
    fn paired_aml_tag(&self, i: usize) -> Option<String> {
        let (_, _, region, _, file) = TABLES[i];
        let paired = match region {
            "eastus" => "westus",
            "westeurope" => "northeurope",
            "francecentral" => "francesouth",
            "japaneast" => "japanwest",
            "chinaeast2" => "chinanorth2",
            other => panic!("no pair written down for {other}"),
        };
        let file = snapshot(&self.data, file);
        raw_tags(&file).into_iter().map(|t| t.0).find(|n| {
            n.strip_prefix("AzureMachineLearning.")
                .is_some_and(|r| r.eq_ignore_ascii_case(paired))
        })
    }

    /// The tag suffix of table `i`'s region, as its file spells it.
    fn tag_region(&self, i: usize) -> String {
        let (_, _, region, _, file) = TABLES[i];
        let file = snapshot(&self.data, file);
        raw_tags(&file)
            .into_iter()
            .map(|t| t.0)
            .filter_map(|n| n.strip_prefix("BatchNodeManagement.").map(str::to_owned))
            .find(|r| r.eq_ignore_ascii_case(region))
            .unwrap()
    }
}

fn status_of(report: &Value, name: &str) -> String {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_fleet_is_diffed_applied_and_then_unchanged() {
    let f = Fleet::start(FleetFaults::default());
    let run = f.run("diff", &["--format", "json"]).status(1);
    let report = run.json();
    for (name, ..) in TABLES {
        assert_eq!(status_of(&report, name), "changes", "{name}");
    }
    assert_eq!(report["files"].as_array().unwrap().len(), 2);
    assert_eq!(f.fake.writes(), 0);
    // Advice names the fleet file's keys, typed in the report and worded on stderr: no flag.
    let eastus = &report["tables"].as_array().unwrap()[0];
    let left_out = eastus["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["text"].as_str().unwrap().starts_with("left out "))
        .unwrap_or_else(|| panic!("{eastus}"));
    assert_eq!(left_out["level"], "note");
    assert_eq!(left_out["advice"], json!({"kind": "bothFamilies"}));
    assert!(
        run.stderr.contains("note: table rt-eastus: left out ")
            && run
                .stderr
                .contains("IPv6 prefixes of the selected tags; family = \"both\" includes them\n")
            && !run.stderr.contains("--"),
        "{}",
        run.stderr
    );

    // apply without --yes shows the same and writes nothing.
    f.run("apply", &[]).status(1);
    assert_eq!(f.fake.writes(), 0);

    let run = f.run("apply", &["--yes", "--format", "json"]).status(0);
    let report = run.json();
    for (i, (name, ..)) in TABLES.iter().enumerate() {
        assert_eq!(status_of(&report, name), "applied", "{name}");
        f.check_planned(i);
        assert_eq!(f.fake.table(i).writes, 1, "{name}: one guarded table write");
    }
    let run = f.run("diff", &["--format", "markdown"]).status(0);
    assert!(
        run.stdout
            .starts_with("### tagroute: 5 tables: 5 unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("| rt-chinaeast2 | China | chinaeast2 | unchanged |")
    );
}

#[test]
fn a_failing_table_stops_nothing_and_exits_2() {
    let f = Fleet::start(FleetFaults::default());
    // A sixth table that Azure does not have, between the others.
    let text = std::fs::read_to_string(&f.config).unwrap().replacen(
        "[[table]]\nid = \"/subscriptions/3c1e2a7b",
        &format!(
            "[[table]]\nname = \"gone\"\nid = \"{}\"\nregion = \"eastus\"\n\n[[table]]\nid = \"/subscriptions/3c1e2a7b",
            id(SUB_B, "rg-old", "rt-gone")
        ),
        1,
    );
    std::fs::write(&f.config, text).unwrap();
    let run = f.run("apply", &["--yes", "--format", "json"]);
    assert!(!run.stdout.is_empty(), "{}", run.stderr);
    let run = run.status(2);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status_of(&report, "gone"), "failed");
    let gone = &report["tables"].as_array().unwrap()[2];
    assert!(gone["error"].as_str().unwrap().contains("404"), "{gone}");
    assert!(run.stderr.contains("table gone: "), "{}", run.stderr);
    for (i, (name, ..)) in TABLES.iter().enumerate() {
        assert_eq!(status_of(&report, name), "applied", "{name}");
        f.check_planned(i);
    }
}

#[test]
fn tables_run_in_parallel_within_jobs_and_through_throttling() {
    let faults = FleetFaults {
        latency: Duration::from_millis(40),
        throttle_reads: 2,
        ..FleetFaults::default()
    };
    let f = Fleet::start(faults);
    f.run("apply", &["--yes", "--jobs", "2"]).status(0);
    assert_eq!(f.fake.throttled(), 2);
    assert!(f.fake.most_in_flight() <= 2, "{}", f.fake.most_in_flight());
    assert_eq!(f.fake.most_in_flight(), 2, "tables ran one at a time");
    for i in 0..TABLES.len() {
        f.check_planned(i);
    }
}

#[test]
fn table_picks_tables_by_name() {
    let f = Fleet::start(FleetFaults::default());
    let run = f
        .run(
            "apply",
            &["--yes", "--table", "rt-japaneast", "--table", "RT-EASTUS"],
        )
        .status(0);
    let applied = |l: &&str| l.starts_with("rt-") && l.contains(" applied ");
    let lines = run.stdout.lines();
    assert_eq!(lines.filter(applied).count(), 2, "{}", run.stdout);
    assert_eq!(f.fake.writes(), 2, "{}", run.stdout);
    f.check_planned(0);
    f.check_planned(3);
    f.run("diff", &["--table", "rt-nope"])
        .fails_with("--table 'rt-nope': no table of that name");
}

#[test]
fn one_download_per_cloud() {
    let data = data_dir();
    let bytes = std::fs::read(data.join(PUBLIC)).unwrap();
    let downloads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = downloads.clone();
    let center = crate::server::Server::start(move |req, _| {
        if req.path().ends_with(".json") {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            crate::server::Reply::body(bytes.clone())
        } else {
            crate::server::Reply::body(format!(
                "<a href=\"/dl/{PUBLIC}\" class=\"download\">Download</a>"
            ))
        }
    });
    let fake = FakeFleet::start(
        setups().into_iter().take(4).collect(),
        FleetFaults::default(),
    );
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("tagroute.toml");
    let full = std::fs::read_to_string(fleet_file(tmp.path(), "")).unwrap();
    let public_only = full
        .split("[[table]]")
        .take(5)
        .collect::<Vec<_>>()
        .join("[[table]]");
    std::fs::write(&config, public_only).unwrap();
    let cache = tmp.path().join("cache");
    let state = tmp.path().join("state");
    let token = fake.token_file();
    let page = center.url("/page");
    let run = tagroute_with(
        &[
            "refresh",
            "--config",
            config.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--download-page",
            &page,
            "--arm-endpoint",
            &fake.server.base,
            "--token-file",
            token.to_str().unwrap(),
            "--summary-format",
            "json",
        ],
        None,
        &[("AZURE_ACCESS_TOKEN", "")],
    )
    .status(1);
    assert_eq!(downloads.load(std::sync::atomic::Ordering::SeqCst), 1);
    let report = run.json();
    assert_eq!(report["tables"].as_array().unwrap().len(), 4);
    assert_eq!(report["files"][0]["source"]["status"], "updated");
    // Every table's state holds the one file, linked, not copied.
    let stored = state.join("files/public-375.json");
    assert_eq!(
        std::fs::read(&stored).unwrap().len(),
        std::fs::read(data.join(PUBLIC)).unwrap().len()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&stored).unwrap().nlink(), 5);
    }
}

/// With no credential that works, the chain is tried once for the whole run, not once a table:
/// every table fails with its words, and the managed identity endpoint is asked once a cloud.
#[test]
fn a_credential_chain_that_fails_is_tried_once_per_run() {
    let f = Fleet::start(FleetFaults::default());
    let file = f.public_file();
    let identity = f.fake.server.url("/msi/token");
    let run = tagroute_with(
        &[
            "diff",
            "--config",
            &f.config,
            "--file",
            &file,
            "--cache-dir",
            &f.cache,
            "--offline",
            "--arm-endpoint",
            &f.fake.server.base,
            "--format",
            "json",
        ],
        None,
        &[
            ("AZURE_ACCESS_TOKEN", ""),
            ("IDENTITY_ENDPOINT", &identity),
            ("IDENTITY_HEADER", "wrong"),
            ("PATH", "/nonexistent"),
        ],
    )
    .status(2);
    let report = run.json();
    for t in report["tables"].as_array().unwrap() {
        assert_eq!(t["status"], "failed", "{t}");
        assert!(
            t["error"]
                .as_str()
                .unwrap()
                .contains("no Azure credential gave"),
            "{t}"
        );
    }
    let asked = f
        .fake
        .server
        .requests()
        .iter()
        .filter(|r| r.path() == "/msi/token")
        .count();
    // Once for each cloud's token (Public and China), not once for each of the five tables.
    assert_eq!(asked, 2);
}
