//! `refresh`: exit codes, the lock, the webhook, and a state directory that survives `kill -9`
//! at any moment.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::*;
use crate::server::{Reply, Server};

fn next_example() -> String {
    example().replace("ServiceTags_Example.json", "ServiceTags_Example_next.json")
}

/// `refresh` of the westeurope routes from `file` into `state`, with `extra` flags.
pub fn refresh_westeurope(state: &str, cloud: &str, file: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "refresh",
        "--state-dir",
        state,
        "--cloud",
        cloud,
        "-f",
        file,
        "-r",
        "westeurope",
    ];
    args.extend_from_slice(extra);
    tagroute(&args)
}

/// The current generation of the one table of a run without a live table.
fn current(state: &Path) -> Option<std::path::PathBuf> {
    let table = state.join("tables/default");
    let link = std::fs::read_link(table.join("current")).ok()?;
    Some(table.join(link))
}

fn json_file(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

#[test]
fn runs_week_over_week() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap();
    let routes = crate::harness::repo().join("data/routes_example.json");
    let run = |file: &str, extra: &[&str]| {
        let mut a = vec![
            "refresh",
            "--state-dir",
            s,
            "--cloud",
            "public",
            "-f",
            file,
            "-r",
            "westeurope",
            "--format",
            "terraform",
        ];
        a.extend_from_slice(extra);
        tagroute(&a)
    };
    let first = run(&example(), &[]).status(1);
    assert!(
        first
            .stdout
            .contains("(first run): 4 routes planned, routes must change (4 gained, 0 lost since the last run)"),
        "{}",
        first.stdout
    );
    let dir = current(&state).unwrap();
    for f in ["snapshot.json", "plan.json", "plan.tf", "summary.json"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    assert!(
        !dir.join("drift.json").exists(),
        "no drift on the first run"
    );
    // An unchanged week links the stored file into the new generation: no copy is written.
    let inode = |d: &Path| {
        std::os::unix::fs::MetadataExt::ino(&d.join("snapshot.json").metadata().unwrap())
    };
    let first_file = inode(&dir);
    run(&example(), &[]).status(0);
    let second = current(&state).unwrap();
    assert_ne!(second, dir, "a new generation");
    assert_eq!(inode(&second), first_file, "the same file, linked");
    let third = run(
        &next_example(),
        &[
            "--existing",
            routes.to_str().unwrap(),
            "--summary-format",
            "json",
        ],
    )
    .status(1);
    let summary = third.json();
    assert_eq!(
        (
            summary["changeNumber"].as_u64(),
            summary["previousChangeNumber"].as_u64()
        ),
        (Some(43), Some(42))
    );
    assert_eq!(
        summary["planChanges"]["add"],
        serde_json::json!(["tagroute-203.0.113.8-31"])
    );
    assert_eq!(summary["drift"]["prefixesAdded"], 1);
    // The one-line summary counts what the table needs.
    let d = &summary["diff"];
    let line = format!(
        "the table needs {} to add, {} to update, {} to remove",
        d["add"], d["update"], d["remove"]
    );
    let dir = current(&state).unwrap();
    assert_eq!(json_file(&dir.join("summary.json")), summary);
    assert_eq!(
        json_file(&dir.join("drift.json"))["tags"][1]["added"],
        serde_json::json!(["203.0.113.8/31"])
    );
    assert!(
        std::fs::read_to_string(dir.join("diff.sh"))
            .unwrap()
            .contains("route delete")
    );
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .map(|n| {
                if n.starts_with("gen-") {
                    "gen".into()
                } else {
                    n
                }
            })
            .collect();
        names.sort();
        names
    };
    // One table is a fleet of one: the file kept once, the run's report, the table's generation.
    assert_eq!(names(&state), ["current", "files", "gen", "lock", "tables"]);
    assert_eq!(names(&state.join("tables/default")), ["current", "gen"]);
    assert_eq!(names(&state.join("files")), ["public-43.json"]);
    // Going back to an older file is refused and changes nothing.
    run(&example(), &[]).fails_with("older than the state's 43: refusing to roll back");
    assert_eq!(current(&state).unwrap(), dir);
    refresh_westeurope(s, "china", &example(), &[]).fails_with("is a Public file, not China");
    // Run again on the same file and table: the one-line summary counts what the table needs.
    let again = run(&next_example(), &["--existing", routes.to_str().unwrap()]);
    assert!(again.stdout.contains(&line), "{}\n{line}", again.stdout);
}

#[test]
fn a_second_run_waits_for_the_lock_then_names_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path()).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(tmp.path().join("lock"))
        .unwrap();
    lock.try_lock().unwrap();
    std::fs::write(
        tmp.path().join("lock"),
        "pid 4242 on builder since yesterday",
    )
    .unwrap();
    let start = Instant::now();
    let s = tmp.path().to_str().unwrap();
    refresh_westeurope(s, "public", &example(), &["--lock-timeout", "0.6"])
        .fails_with("another refresh holds the lock");
    assert!(start.elapsed() >= Duration::from_millis(600));
    let again = refresh_westeurope(s, "public", &example(), &["--lock-timeout", "0"]);
    assert!(
        again.stderr.contains("pid 4242 on builder"),
        "{}",
        again.stderr
    );
    drop(lock);
    refresh_westeurope(s, "public", &example(), &["--lock-timeout", "0"]).status(1);
}

/// `--webhook-format teams` posts a Microsoft Teams Workflows message (an Adaptive Card in a
/// message attachment, the shape Microsoft's "Send webhook alerts to a channel" workflow takes,
/// per its documentation of Incoming Webhooks and Workflows); `slack` posts Slack's
/// incoming-webhook `text`. A failed one keeps its summary in the state, and the next run
/// delivers it in the form asked then.
#[test]
fn the_webhook_speaks_teams_and_slack() {
    let teams = Server::start(|_, nth| {
        if nth == 0 {
            Reply::status(500)
        } else {
            Reply::status(202)
        }
    });
    let slack = Server::start(|_, _| Reply::status(200));
    let tmp = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let run = |state: &Path, file: &str, hook: &str, format: &str, status: i32| {
        refresh_westeurope(
            state.to_str().unwrap(),
            "public",
            file,
            &[
                "--webhook",
                hook,
                "--webhook-format",
                format,
                "--retries",
                "0",
            ],
        )
        .status(status)
    };
    // The first delivery fails (500): the run exits 2 and keeps the notification.
    let hook = teams.url("/workflow?sig=secret");
    let failed = run(tmp.path(), &example(), &hook, "teams", 2);
    // The webhook's secret (its query) is never printed.
    assert!(
        failed.stderr.contains("webhook failed"),
        "{}",
        failed.stderr
    );
    assert!(!failed.stderr.contains("secret"), "{}", failed.stderr);
    run(tmp.path(), &next_example(), &hook, "teams", 1);
    let posts = teams.requests();
    // The kept one and the new one, oldest first.
    let cards: Vec<Value> = posts[1..]
        .iter()
        .map(|p| serde_json::from_slice(&p.body).unwrap())
        .collect();
    assert_eq!(cards.len(), 2, "{posts:?}");
    for card in &cards {
        assert_eq!(card["type"], "message");
        let a = &card["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(a["content"]["type"], "AdaptiveCard");
    }
    let title =
        |card: &Value| card["attachments"][0]["content"]["body"][0]["inlines"][0]["text"].clone();
    assert_eq!(
        title(&cards[0]),
        "tagroute: Public westeurope, changeNumber 42"
    );
    assert_eq!(
        title(&cards[1]),
        "tagroute: Public westeurope, changeNumber 43 (was 42)"
    );
    run(
        other.path(),
        &example(),
        &slack.url("/services/T/B/X"),
        "slack",
        1,
    );
    let text: Value = serde_json::from_slice(&slack.requests()[0].body).unwrap();
    assert!(
        text["text"]
            .as_str()
            .unwrap()
            .starts_with("tagroute: Public westeurope, changeNumber 42\n"),
        "{text}"
    );
}

#[test]
fn the_webhook_gets_the_summary_and_its_failure_keeps_the_state() {
    let ok = Server::start(|_, _| Reply::status(204));
    let failing = Server::start(|_, nth| {
        if nth == 0 {
            Reply::status(503)
        } else {
            Reply::status(500)
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let s = tmp.path().to_str().unwrap();
    let hook = ok.url("/hook");
    refresh_westeurope(s, "public", &example(), &["--webhook", &hook]).status(1);
    let posts = ok.requests();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].method, "POST");
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(
        (body["changed"].as_bool(), body["changeNumber"].as_u64()),
        (Some(true), Some(42))
    );
    // Nothing changed: no POST.
    refresh_westeurope(s, "public", &example(), &["--webhook", &hook]).status(0);
    assert_eq!(ok.requests().len(), 1);
    let bad = failing.url("/hook");
    let failed = refresh_westeurope(
        s,
        "public",
        &next_example(),
        &[
            "--webhook",
            &bad,
            "--retries",
            "1",
            "--retry-delay-ms",
            "10",
        ],
    )
    .status(2);
    // The run's summary is still on stdout: the webhook failed after the state was written.
    assert!(
        failed
            .stderr
            .contains("keeps 1 notification(s) for the next run"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stdout.contains("changeNumber 43"),
        "{}",
        failed.stdout
    );
    assert_eq!(failing.requests().len(), 2, "retried once");
    let summary = json_file(&current(tmp.path()).unwrap().join("summary.json"));
    assert_eq!(summary["changeNumber"], 43);
    // The undelivered notification waits in the state; the next run delivers it, though
    // nothing changed then, and exits 0; the one after has nothing to deliver.
    let held: Vec<String> = std::fs::read_dir(current(tmp.path()).unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("webhook-"))
        .collect();
    assert_eq!(held.len(), 1, "{held:?}");
    let again = |hook: &str| refresh_westeurope(s, "public", &next_example(), &["--webhook", hook]);
    again(&hook).status(0);
    let posts = ok.requests();
    assert_eq!(posts.len(), 2);
    let late: Value = serde_json::from_slice(&posts[1].body).unwrap();
    assert_eq!(
        late["runId"], summary["runId"],
        "the same run, for a receiver to de-duplicate"
    );
    again(&hook).status(0);
    assert_eq!(ok.requests().len(), 2, "delivered once");
}

/// A webhook that could never be called (plain http:// to a host that is not loopback) is
/// refused before anything runs, whether or not something would change.
#[test]
fn a_webhook_that_cannot_be_called_is_refused_first() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    refresh_westeurope(
        state.to_str().unwrap(),
        "public",
        &example(),
        &["--webhook", "http://hooks.example.com/x"],
    )
    .fails_with("--webhook: refusing http://hooks.example.com/x");
    assert!(!state.exists(), "nothing written");
}

/// A `current` link that points nowhere (or elsewhere) is an error: the older file is not
/// taken for a first run, and the generations stay.
#[test]
fn a_broken_current_link_is_an_error_that_keeps_every_generation() {
    let tmp = tempfile::tempdir().unwrap();
    let s = tmp.path().to_str().unwrap();
    let run = |file: &str| refresh_westeurope(s, "public", file, &[]);
    run(&next_example()).status(1);
    let generation = current(tmp.path()).unwrap();
    let link = tmp.path().join("tables/default/current");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("gen-vanished", &link).unwrap();
    run(&example()).fails_with("instead of a generation of this state directory");
    assert!(
        generation.join("summary.json").exists(),
        "the generation stays"
    );
}

/// Kills refresh runs with SIGKILL at many moments; after each, the state is the previous
/// complete one or the new complete one, never a mix, and the next run is not blocked.
#[test]
fn kill_9_at_any_moment_leaves_old_or_new_state() {
    let dir = data_dir();
    let files = [
        snapshot(&dir, "ServiceTags_Public_20251013.json"),
        snapshot(&dir, "ServiceTags_Public_20251028.json"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap().to_owned();
    let args = |file: &str, region: &str| -> Vec<String> {
        [
            "refresh",
            "--state-dir",
            &s,
            "--cloud",
            "public",
            "-f",
            file,
            "-r",
            region,
            "--format",
            "terraform",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    // Time one complete run to spread the kills across it.
    let first = Command::new(binary())
        .args(args(&files[0], "eastus"))
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(1));
    // A run like the killed ones: it also reads the previous state and reports drift.
    let start = Instant::now();
    let timed = Command::new(binary())
        .args(args(&files[1], "eastus"))
        .output()
        .unwrap();
    assert_eq!(
        timed.status.code(),
        Some(0),
        "eastus has the same routes in both files"
    );
    let full = start.elapsed();
    let mut seen = std::collections::BTreeSet::new();
    // 26 kills to a run's length, as many again for a fifth past it (the runs that finish).
    let (kills, spread) = (32u32, 1.2);
    for i in 0..kills {
        // Each run plans another region than the state holds, so old and new are told apart.
        let region = if i % 2 == 0 { "westus2" } else { "eastus" };
        let before = json_file(&current(&state).unwrap().join("summary.json"));
        let mut child = Command::new(binary())
            .args(args(&files[1], region))
            .args(["--lock-timeout", "5"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(i as f64 / kills as f64 * spread));
        let _ = child.kill(); // SIGKILL
        let killed = child.wait().unwrap().code().is_none();
        let dir = current(&state).expect("a current state always exists after the first run");
        let summary = json_file(&dir.join("summary.json"));
        let snap = json_file(&dir.join("snapshot.json"));
        let plan = json_file(&dir.join("plan.json"));
        assert_eq!(
            snap["changeNumber"], summary["changeNumber"],
            "kill {i}: a mixed state"
        );
        assert_eq!(
            (plan["changeNumber"].clone(), plan["region"].clone()),
            (summary["changeNumber"].clone(), summary["region"].clone()),
            "kill {i}: a mixed state"
        );
        assert_eq!(
            plan["routes"].as_array().unwrap().len() as u64,
            summary["routes"].as_u64().unwrap()
        );
        let tf = std::fs::read_to_string(dir.join("plan.tf")).unwrap();
        assert!(
            tf.ends_with("}\n")
                && tf.contains(&format!("region {}", summary["region"].as_str().unwrap())),
            "kill {i}: plan.tf cut short or from another run"
        );
        let state_is = if summary == before {
            "old"
        } else if summary["region"] == region {
            "new"
        } else {
            "neither"
        };
        assert_ne!(state_is, "neither", "kill {i}");
        seen.insert((killed, state_is));
    }
    assert!(
        seen.contains(&(true, "old")),
        "some runs were killed before their switch: {seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.1 == "new"),
        "some runs got through: {seen:?}"
    );
    // The lock of a killed run does not block the next one.
    let after = Command::new(binary())
        .args(args(&files[1], "eastus"))
        .args(["--lock-timeout", "0"])
        .output()
        .unwrap();
    assert!(
        after.status.code() == Some(0) || after.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    let leftovers: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.starts_with("gen-"))
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "interrupted runs' leftovers are cleaned: {leftovers:?}"
    );
}

/// A copy of `cli/tests/data/legacy-state/` (see its `.md`), links kept as links.
fn legacy_state(into: &Path) {
    let from = crate::harness::repo().join("cli/tests/data/legacy-state");
    let ok = Command::new("cp")
        .arg("-a")
        .arg(&from)
        .arg(into)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// The state a one-table refresh of the landed build left (changeNumber 42, a notification its
/// webhook refused) is taken over by today's first run: drift against its file, its changeNumber
/// as the previous one, its notification delivered, then its generation replaced; the rollback
/// guard goes on. A run of another table leaves it as it was.
#[test]
fn a_one_table_state_of_the_landed_build_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    legacy_state(&state);
    let old_generation = state.join(std::fs::read_link(state.join("current")).unwrap());
    let waiting = std::fs::read(old_generation.join("webhook-001796640337-992c8ccd.json")).unwrap();
    let s = state.to_str().unwrap();
    // Another table's run refuses the state and leaves it.
    let other = tagroute(&[
        "refresh",
        "--state-dir",
        s,
        "--cloud",
        "public",
        "-f",
        &next_example(),
        "-r",
        "westeurope",
        "--route-table-id",
        "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt-other",
        "--token-file",
        "/nonexistent",
    ]);
    other.fails_with("is a one-table refresh's state, which no table of this run took over");
    assert!(old_generation.is_dir() && !state.join("tables").exists());
    // Its own table takes it over.
    let hook = Server::start(|_, _| Reply::status(200));
    let run = refresh_westeurope(
        s,
        "public",
        &next_example(),
        &["--webhook", &hook.url("/hook"), "--summary-format", "json"],
    )
    .status(1);
    let summary = run.json();
    assert_eq!(summary["previousChangeNumber"], 42, "{summary}");
    assert_eq!(
        summary["drift"]["prefixesAdded"], 1,
        "drift against its file"
    );
    let posts = hook.requests();
    assert_eq!(posts.len(), 2, "its waiting notification, then this run's");
    assert_eq!(posts[0].body, waiting);
    let told: Value = serde_json::from_slice(&posts[1].body).unwrap();
    assert_eq!(told["changeNumber"], 43);
    assert!(!old_generation.exists(), "replaced once taken over");
    let dir = current(&state).unwrap();
    assert!(dir.join("drift.json").is_file() && dir.join("summary.json").is_file());
    let report = state.join(std::fs::read_link(state.join("current")).unwrap());
    assert!(report.join("report.json").is_file());
    // The rollback guard goes on from it.
    refresh_westeurope(s, "public", &example(), &[])
        .fails_with("older than the state's 43: refusing to roll back");
}

/// A run whose table fails before it records leaves the one-table state as it was (current
/// still names it), and a one-table state whose summary cannot be read is refused before any
/// table is read.
#[test]
fn a_one_table_state_is_kept_when_it_cannot_be_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    legacy_state(&state);
    let s = state.to_str().unwrap();
    let old = std::fs::read_link(state.join("current")).unwrap();
    // The table fails: an unknown region plans nothing.
    tagroute(&[
        "refresh",
        "--state-dir",
        s,
        "--cloud",
        "public",
        "-f",
        &next_example(),
        "-r",
        "nowhere",
    ])
    .fails_with("nowhere");
    assert_eq!(std::fs::read_link(state.join("current")).unwrap(), old);
    assert!(
        state
            .join(&old)
            .join("webhook-001796640337-992c8ccd.json")
            .is_file()
    );
    // A summary that cannot be read: nothing is known of whose state it is.
    std::fs::write(state.join(&old).join("summary.json"), "{").unwrap();
    refresh_westeurope(s, "public", &next_example(), &[]).fails_with("summary.json");
    assert_eq!(std::fs::read_link(state.join("current")).unwrap(), old);
    assert!(!state.join("tables/default/current").exists());
}
