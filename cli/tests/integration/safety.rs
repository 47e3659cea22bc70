//! What tagroute says it did to a live table, and where it writes, under the faults a hostile
//! server, a hostile file system and a careless operator bring: a write whose answer was lost, a
//! write answered as done that did something else, a full disk after a write, links planted in
//! the state directory, a server that echoes the token, a webhook that redirects, Resource
//! Graph rows that were not asked for, and files that never end. Each test asserts what a user
//! reads afterwards: the report, stdout, stderr, the state, the webhook's body, which files exist.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::arm::CHANGE;
use crate::fake_arm::{FakeArm, Faults, ID};
use crate::harness::*;
use crate::server::{Reply, Server};

fn json_file(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The current generation of a state directory (a table's, or a fleet run's).
fn current(dir: &Path) -> PathBuf {
    dir.join(std::fs::read_link(dir.join("current")).unwrap())
}

/// `tagroute refresh` of the example's westeurope plan against the fake's table.
fn refresh(arm: &FakeArm, state: &Path, extra: &[&str]) -> Run {
    let mut args = arm.args(
        "refresh",
        &["--state-dir", state.to_str().unwrap(), "--cloud", "public"],
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tagroute_with(&refs, None, &[("AZURE_ACCESS_TOKEN", "")])
}

/// A write carried out by Azure whose answer was lost (a 500 after the change), then a 412 on
/// the retry because our own write moved the ETag: the change is reported applied, verified,
/// and not called a concurrent change, in both write modes and through refresh.
#[test]
fn a_write_whose_answer_was_lost_is_reported_as_applied() {
    for mode in ["table", "routes"] {
        let arm = FakeArm::start(Faults {
            lost_answer: 1,
            ..Faults::default()
        });
        let run = arm
            .run("apply", &["--yes", "--write", mode, "--format", "json"])
            .status(0);
        let report = run.json();
        assert_eq!(report["verified"], true, "{mode}: {report}");
        assert_eq!(
            report["applied"].as_array().unwrap().len(),
            CHANGE,
            "{mode}: {report}"
        );
        assert_eq!(report["notApplied"], json!([]), "{mode}");
        assert_eq!(report["rereads"], 0, "{mode}: not someone else's change");
        assert!(!run.stderr.contains("changed while"), "{}", run.stderr);
        arm.check_equals_plan();
        arm.check_untouched(mode);
    }
    let arm = FakeArm::start(Faults {
        lost_answer: 1,
        ..Faults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let run = refresh(&arm, tmp.path(), &["--apply"]).status(1);
    assert!(
        run.stdout
            .contains(&format!("{CHANGE} route writes applied and verified")),
        "{}",
        run.stdout
    );
    let summary = json_file(&current(&tmp.path().join("tables/rt-aml")).join("summary.json"));
    assert_eq!(
        summary["apply"]["applied"].as_array().unwrap().len(),
        CHANGE
    );
    assert_eq!(
        arm.writes(),
        1,
        "one table write, answered 500 after it was made"
    );
}

/// A table write answered as done that dropped the firewall's default route and flipped
/// `disableBgpRoutePropagation` is not verified: the read-back compares everything sent.
#[test]
fn the_read_back_compares_everything_the_write_sent() {
    let arm = FakeArm::start(Faults {
        mangle_put: true,
        ..Faults::default()
    });
    let run = arm.run("apply", &["--yes", "--format", "json"]).status(2);
    let report = run.json();
    assert_eq!(report["verified"], false, "{report}");
    assert_eq!(report["remaining"], 0, "the managed routes are as planned");
    let differences: Vec<&str> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        differences
            .iter()
            .any(|d| d.starts_with("route default (0.0.0.0/0) was written but is gone")),
        "{differences:?}"
    );
    assert!(
        differences
            .iter()
            .any(|d| d
                == &"the table's properties.disableBgpRoutePropagation is false, written true"),
        "{differences:?}"
    );
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "mounting a tmpfs (the tests run as root, as CI does)");
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system but for `leave` bytes, with a file `filler`.
    fn fill(&self, leave: u64) {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.flush();
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(leave)).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The disk fills between the table write and the state's: stdout still carries the summary,
/// stderr names every write made, the webhook is told, the exit is 2; and the next run, with
/// room again, reports the writes no run recorded instead of "no route changes".
#[test]
fn a_full_disk_after_a_table_write_still_says_what_was_applied() {
    let fs = Tmpfs::mount("512k");
    let state = fs.path().join("state");
    let hook = Server::start(|_, _| Reply::status(200));
    let arm = FakeArm::start(Faults::default());
    // A first run records the table as it is.
    refresh(&arm, &state, &[]).status(1);
    fs.fill(4096);
    let run = refresh(&arm, &state, &["--apply", "--webhook", &hook.url("/hook")]).status(2);
    assert!(
        run.stdout
            .contains(&format!("{CHANGE} route writes applied and verified"))
            && run.stdout.contains("state NOT written"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(&format!(
            "this run applied {CHANGE} route writes to the table"
        )) && run.stderr.contains("create tagroute-203.0.113.48-28")
            && run.stderr.contains("No space left on device")
            && run.stderr.contains("the webhook was told"),
        "{}",
        run.stderr
    );
    arm.check_equals_plan();
    let posts = hook.requests();
    assert_eq!(posts.len(), 1, "the webhook was still attempted");
    let told: Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(
        told["apply"]["applied"].as_array().unwrap().len(),
        CHANGE,
        "{told}"
    );
    // Room again: the next run, without --apply, says what changed unrecorded.
    std::fs::remove_file(fs.path().join("filler")).unwrap();
    let next = refresh(&arm, &state, &["--summary-format", "json"]).status(1);
    let summary = next.json();
    assert_eq!(summary["changed"], true, "{summary}");
    let unrecorded = summary["unrecorded"].as_array().unwrap();
    assert_eq!(unrecorded.len(), CHANGE, "{summary}");
    assert!(
        unrecorded.iter().any(
            |l| l == "route tagroute-198.51.100.0-24 (198.51.100.0/24 -> Internet) was removed"
        ),
        "{summary}"
    );
    // Recorded now: the run after has nothing to say.
    refresh(&arm, &state, &[]).status(0);
}

fn planted_link(at: &Path, to: &Path) {
    std::os::unix::fs::symlink(to, at).unwrap();
}

/// A link planted at `STATE/lock` is refused in one line naming it; its target is untouched.
#[test]
fn a_link_planted_at_the_lock_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let victim = tmp.path().join("precious");
    std::fs::write(&victim, "precious").unwrap();
    planted_link(&state.join("lock"), &victim);
    let run = refresh_westeurope_in(&state);
    let run = run.fails_with("lock");
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

fn refresh_westeurope_in(state: &Path) -> Run {
    crate::refresh::refresh_westeurope(state.to_str().unwrap(), "public", &example(), &[])
}

/// Links planted in a fleet's state (`files/` to a directory elsewhere, a stored file to a file
/// elsewhere, a table's directory to a directory elsewhere) are refused, named, and never
/// written through.
#[test]
fn links_planted_in_a_fleet_state_are_never_written_through() {
    let f = crate::fleet::Fleet::start(crate::fake_fleet::FleetFaults::default());
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    planted_link(&state.join("files"), &elsewhere);
    std::fs::create_dir(state.join("tables")).unwrap();
    planted_link(&state.join("tables").join("rt-eastus"), &elsewhere);
    let run = f.run("refresh", &["--state-dir", s]).status(2);
    assert!(
        run.stderr.contains(&format!(
            "{}: is a symbolic link",
            state.join("files").display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("rt-eastus")
            && run.stderr.contains("tables/rt-eastus: is a symbolic link"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // A stored file linked to a file elsewhere: refused, the target untouched.
    std::fs::remove_file(state.join("files")).unwrap();
    std::fs::remove_file(state.join("tables").join("rt-eastus")).unwrap();
    std::fs::create_dir(state.join("files")).unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let stored = std::fs::read_dir(state.join("files")).unwrap().count();
    assert_eq!(stored, 0);
    planted_link(&state.join("files").join("public-375.json"), &victim);
    let run = f.run("refresh", &["--state-dir", s]).status(1);
    assert!(
        run.stderr.contains("public-375.json: is a symbolic link"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

/// A fleet's shared file damaged in place (every generation holds it by a hard link) fails no
/// table: each generation's copy is checked against the checksum it recorded and restored from
/// this run's file, which is the same file.
#[test]
fn a_damaged_shared_snapshot_is_restored_not_fatal() {
    let f = crate::fleet::Fleet::start(crate::fake_fleet::FleetFaults::default());
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap();
    f.run("refresh", &["--state-dir", s]).status(1);
    let stored = state.join("files").join("public-375.json");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&stored)
        .unwrap()
        .set_len(1000)
        .unwrap();
    let table = current(&state.join("tables").join("rt-eastus"));
    assert_eq!(
        std::fs::metadata(table.join("snapshot.json"))
            .unwrap()
            .len(),
        1000,
        "the damage reaches the generations"
    );
    // The tables still need their change (no --apply): 1, as before the damage, not 2.
    let run = f.run("refresh", &["--state-dir", s]).status(1);
    assert!(
        run.stdout.contains("5 tables: 5 with changes"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("is damaged") && run.stderr.contains("used in its place"),
        "{}",
        run.stderr
    );
    let table = current(&state.join("tables").join("rt-eastus"));
    assert!(
        std::fs::metadata(table.join("snapshot.json"))
            .unwrap()
            .len()
            > 1000
    );
    let healed = f.run("refresh", &["--state-dir", s]).status(1);
    assert!(!healed.stderr.contains("damaged"), "{}", healed.stderr);
}

/// A stored notification that is not one tagroute wrote is moved aside with a warning; it does
/// not fail this run or the next.
#[test]
fn a_damaged_pending_notification_is_moved_aside() {
    let failing = Server::start(|_, _| Reply::status(500));
    let ok = Server::start(|_, _| Reply::status(200));
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap();
    let run = |hook: String| {
        let extra = [
            "--retries",
            "0",
            "--webhook-format",
            "teams",
            "--webhook",
            &hook,
        ];
        crate::refresh::refresh_westeurope(s, "public", &example(), &extra)
    };
    run(failing.url("/hook")).status(2);
    let generation = current(&state.join("tables/default"));
    let kept: Vec<PathBuf> = std::fs::read_dir(&generation)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("webhook-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    std::fs::remove_file(&kept[0]).unwrap();
    std::fs::write(&kept[0], "{\"not\": \"a summary\"}").unwrap();
    let again = run(ok.url("/hook")).status(0);
    assert!(again.stderr.contains("moved to"), "{}", again.stderr);
    assert_eq!(ok.requests().len(), 0, "nothing sent for it");
    assert_eq!(
        std::fs::read_dir(state.join("tables/default/set-aside"))
            .unwrap()
            .count(),
        1
    );
    run(ok.url("/hook")).status(0);
}

/// A server that echoes the `Authorization` header puts the token nowhere: not on stderr, not
/// in the JSON report, the state or the webhook's body. A failing Slack-shaped webhook URL is
/// not printed either (its path is the secret).
#[test]
fn no_secret_leaves_whatever_a_server_echoes() {
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcm0ifQ.c2lnbmVkLWJ5LWF6dXJl";
    let arm = FakeArm::start(Faults {
        echo_auth: true,
        ..Faults::default()
    });
    {
        let mut s = arm.state.lock().unwrap();
        s.token = token.to_owned();
        write_token(&s.token_file, token);
    }
    let run = arm.run("apply", &["--yes", "--format", "json"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("Authorization: Bearer [redacted]"), "{all}");
    assert!(!all.contains("c2lnbmVkLWJ5LWF6dXJl"), "{all}");
    let hook = Server::start(|_, _| Reply::status(200));
    let tmp = tempfile::tempdir().unwrap();
    let run = refresh(
        &arm,
        tmp.path(),
        &["--apply", "--webhook", &hook.url("/hook")],
    );
    let state: String = std::fs::read_dir(current(&tmp.path().join("tables/rt-aml")))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    let bodies: String = hook
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(bodies.contains("[redacted]"), "{bodies}");
    for text in [&run.stdout, &run.stderr, &state, &bodies] {
        assert!(!text.contains("c2lnbmVkLWJ5LWF6dXJl"), "{text}");
    }
    // A Slack webhook that fails: its path is not printed.
    let slack = Server::start(|_, _| {
        crate::fake_arm::error(
            404,
            "no_service",
            "no_service /services/T0001/B0001/XXXXSECRETXXXX",
        )
    });
    let tmp = tempfile::tempdir().unwrap();
    let failed = refresh_westeurope_hook(
        tmp.path(),
        &slack.url("/services/T0001/B0001/XXXXSECRETXXXX"),
    );
    assert_eq!(failed.status, 2);
    assert!(
        failed.stderr.contains("webhook failed"),
        "{}",
        failed.stderr
    );
    assert!(
        !failed.stderr.contains("XXXXSECRET") && !failed.stdout.contains("XXXXSECRET"),
        "{}",
        failed.stderr
    );
}

fn refresh_westeurope_hook(state: &Path, hook: &str) -> Run {
    let extra = [
        "--retries",
        "0",
        "--webhook-format",
        "slack",
        "--webhook",
        hook,
    ];
    crate::refresh::refresh_westeurope(state.to_str().unwrap(), "public", &example(), &extra)
}

/// A 301, 302 or 303 to a webhook POST would become a GET without the body: it is a failed
/// delivery, and the notification stays for the next run. A 307 re-posts the body to the same
/// origin and is delivery.
#[test]
fn a_redirected_webhook_is_not_a_delivery_unless_it_reposts() {
    for status in [301, 302, 303] {
        let hook = Server::start(move |req, _| {
            if req.path() == "/landing" {
                Reply::status(200)
            } else {
                Reply::status(status).with_header("Location", "/landing")
            }
        });
        let tmp = tempfile::tempdir().unwrap();
        let run = refresh_westeurope_hook(tmp.path(), &hook.url("/hook"));
        assert_eq!(run.status, 2, "{status}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("HTTP {status}")),
            "{}",
            run.stderr
        );
        assert!(
            hook.requests().iter().all(|r| r.path() == "/hook"),
            "{status}: not followed"
        );
        let kept = std::fs::read_dir(current(&tmp.path().join("tables/default")))
            .unwrap()
            .filter(|e| {
                let e = e.as_ref().unwrap();
                e.file_name().to_str().unwrap().starts_with("webhook-")
            })
            .count();
        assert_eq!(kept, 1, "{status}: kept for the next run");
    }
    let hook = Server::start(|req, _| {
        if req.path() == "/moved" {
            Reply::status(200)
        } else {
            Reply::status(307).with_header("Location", "/moved")
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    refresh_westeurope_hook(tmp.path(), &hook.url("/hook")).status(1);
    let posts = hook.requests();
    assert_eq!(posts.len(), 2);
    assert_eq!(
        (posts[1].method.as_str(), posts[1].path()),
        ("POST", "/moved")
    );
    assert_eq!(posts[1].body, posts[0].body, "the same body re-posted");
}

/// Files read within a bound on the bytes read, without blocking: `--config /dev/zero` and a
/// FIFO fail at once; a token file others can read is refused.
#[test]
fn endless_files_fifos_and_open_token_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap();
    let started = std::time::Instant::now();
    tagroute(&["diff", "--config", "/dev/zero", "--file", &example()])
        .fails_with("/dev/zero: not a regular file");
    let fifo = tmp.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    tagroute(&[
        "refresh",
        "--config",
        fifo.to_str().unwrap(),
        "--state-dir",
        s,
        "--file",
        &example(),
    ])
    .fails_with("not a regular file");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let arm = FakeArm::start(Faults::default());
    let token = arm.token_file();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let run = arm.run("apply", &["--yes"]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .contains("readable by its group and others (mode 0644)")
            && run.stderr.contains("chmod 600"),
        "{}",
        run.stderr
    );
    assert_eq!(arm.writes(), 0);
    let _ = ID;
}
