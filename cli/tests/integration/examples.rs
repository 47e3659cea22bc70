//! Every example the user is shown, run as the user would run it: each `--help`'s Examples and
//! every `tagroute` line of the README's shell blocks, in bash, in a folder holding the files they
//! name (the real snapshots, a route table, prefix lists), with the network behind loopback
//! servers (the download page and files, the fake Resource Manager, a webhook receiver) and a
//! stand-in `az` on the PATH. Each must exit as its text implies (0, or 0/1 for the diff-like
//! commands), and each help example line fits 100 columns, breaking with `\`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fake_arm::{Faults, ID, initial_routes};
use crate::fake_fleet::{FakeFleet, FleetFaults, TableSetup};
use crate::harness::*;
use crate::server::{Reply, Server};

/// The commands whose examples are read from `--help`.
const COMMANDS: [&str; 12] = [
    "tags",
    "resolve",
    "plan",
    "diff",
    "apply",
    "drift",
    "lookup",
    "aggregate",
    "fetch",
    "refresh",
    "tables",
    "completions",
];

/// Lines of a help text's Examples block, continuations joined.
fn help_examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("Examples:") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line.trim().is_empty() {
            break;
        }
        assert!(
            line.len() <= 100,
            "an example line wider than 100 columns:\n{line}"
        );
        let (body, more) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line.trim_end(), false),
        };
        current.push_str(body.trim_start());
        if !current.is_empty() && more && !body.ends_with('/') {
            current.push(' ');
        }
        if !more {
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

/// The documents whose examples are run: the README, the guide, the design notes and the
/// contributing notes, one after the other (each ends outside a code block).
fn documents() -> String {
    [
        "README.md",
        "docs/guide.md",
        "docs/design.md",
        "CONTRIBUTING.md",
    ]
    .iter()
    .map(|d| std::fs::read_to_string(crate::harness::repo().join(d)).unwrap())
    .collect::<Vec<_>>()
    .join("\n")
}

/// The `tagroute` command lines of the documents' sh and console blocks.
fn readme_examples() -> Vec<String> {
    let text = documents();
    let mut out = Vec::new();
    let mut block: Option<&str> = None;
    let mut current = String::new();
    for line in text.lines() {
        if let Some(kind) = line.strip_prefix("```") {
            block = match block {
                None => Some(kind),
                Some(_) => None,
            };
            continue;
        }
        let Some(kind) = block else { continue };
        if !matches!(kind, "sh" | "console") {
            continue;
        }
        let line = match (kind, line.strip_prefix("$ ")) {
            ("console", Some(l)) => l,
            ("console", None) if current.is_empty() => continue,
            _ => line,
        };
        let (body, more) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line.trim_end(), false),
        };
        current.push_str(body.trim_start());
        if more {
            current.push(' ');
            continue;
        }
        let cmd = std::mem::take(&mut current);
        // Shell lines only: cron and systemd lines are checked elsewhere.
        if cmd.contains("tagroute ") && !cmd.starts_with('#') && !cmd.starts_with("0 6") {
            out.push(cmd);
        }
    }
    out
}

/// The folder the examples run in, and what serves them.
struct World {
    dir: tempfile::TempDir,
    arm: FakeFleet,
    web: Server,
    bin: PathBuf,
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

impl World {
    fn new(data: &Path) -> World {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "ServiceTags_Public_20251028.json",
            "ServiceTags_Public_20251013.json",
            "ServiceTags_AzureGovernment_20260720.json",
            "ServiceTags_China_20260720.json",
        ] {
            std::os::unix::fs::symlink(data.join(name), d.join(name)).unwrap();
        }
        std::os::unix::fs::symlink(
            data.join("ServiceTags_Public_20251013.json"),
            d.join("OLD.json"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            data.join("ServiceTags_Public_20251028.json"),
            d.join("NEW.json"),
        )
        .unwrap();
        std::os::unix::fs::symlink(crate::harness::repo().join("data"), d.join("data")).unwrap();
        let routes = r#"[{"name":"default","addressPrefix":"0.0.0.0/0","nextHopType":"VirtualAppliance","nextHopIpAddress":"10.0.0.4"},
 {"name":"tagroute-20.42.0.0-16","addressPrefix":"20.42.0.0/16","nextHopType":"Internet","nextHopIpAddress":null}]"#;
        write(&d.join("routes.json"), routes);
        // What `az` answers: kept apart, as examples write `routes.json` from it.
        write(&d.join("az-routes.json"), routes);
        write(
            &d.join("prefixes.txt"),
            "10.0.0.0/25\n10.0.0.128/25\n192.0.2.0/24\n",
        );
        write(&d.join("allow.txt"), "10.0.0.0/8\n");
        write(&d.join("deny.txt"), "10.1.0.0/16\n");
        write(&d.join("10.0.0.0-8.txt"), "10.0.0.0/8\n");
        write(
            &d.join("flows.log"),
            "20.42.1.2 443\n2603:1030:40b::1 443\n",
        );
        // A stand-in for the Azure CLI: the answers of the commands the examples pipe from.
        let bin = d.join("bin");
        std::fs::create_dir(&bin).unwrap();
        let az = bin.join("az");
        write(
            &az,
            &format!(
                "#!/bin/sh\ncase \"$*\" in\n  'network list-service-tags'*) cat '{public}' ;;\n  'network route-table route list'*) cat '{routes}' ;;\n  'network route-table show'*) printf '{{\"name\":\"rt-aml\",\"routes\":%s}}' \"$(cat '{routes}')\" ;;\n  'account get-access-token'*) echo token-1 ;;\n  *) echo \"az stand-in: $*\" >&2; exit 2 ;;\nesac\n",
                public = data.join("ServiceTags_Public_20251028.json").display(),
                routes = d.join("az-routes.json").display(),
            ),
        );
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The download center and the files, and a webhook receiver.
        let files = data.to_path_buf();
        let web = Server::start(move |req, _| {
            let path = req.path();
            if req.method == "POST" {
                return Reply::status(200);
            }
            if path.ends_with("/serviceTags") {
                return match std::fs::read(files.join("ServiceTags_Public_20251028.json")) {
                    Ok(bytes) => Reply::body(bytes),
                    Err(_) => Reply::status(500),
                };
            }
            if path.starts_with("/page/") {
                let cloud = path.trim_start_matches("/page/");
                let base = req.header("host").unwrap_or_default();
                let name = match cloud {
                    "usgov" => "ServiceTags_AzureGovernment_20260720.json",
                    "china" => "ServiceTags_China_20260720.json",
                    _ => "ServiceTags_Public_20251028.json",
                };
                return Reply::body(format!("<a href=\"http://{base}/dl/{name}\">Download</a>"));
            }
            match path.strip_prefix("/dl/") {
                Some(name) => match std::fs::read(files.join(name)) {
                    Ok(bytes) => Reply::body(bytes),
                    Err(_) => Reply::status(404),
                },
                None => Reply::status(404),
            }
        });
        // The fake Resource Manager and Resource Graph, holding the examples' one table.
        let table = TableSetup {
            id: ID.into(),
            location: "westeurope".into(),
            routes: initial_routes(),
            faults: Faults::default(),
        };
        let arm = FakeFleet::start(vec![table], FleetFaults::default());
        // A fleet file of that table, for the --config examples.
        write(
            &d.join("tagroute.toml"),
            &format!(
                "[defaults]\nmax_changes = 1000\n\n[[table]]\nid = \"{ID}\"\nregion = \"eastus\"\n"
            ),
        );
        World { dir, arm, web, bin }
    }

    /// The command as run here: the placeholders the text uses for the user's own values made
    /// real, and the network options pointing at the loopback servers.
    fn prepare(&self, cmd: &str) -> String {
        let d = self.dir.path();
        let mut cmd = cmd.split(" #").next().unwrap().trim().to_owned();
        cmd = cmd.replace(
            "/var/lib/tagroute",
            &d.join("var-state").display().to_string(),
        );
        cmd = cmd.replace(
            "/subscriptions/SUB/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-aml",
            ID,
        );
        cmd = cmd.replace("--route-table-id ID", &format!("--route-table-id {ID}"));
        cmd = cmd.replace(
            "https://download.microsoft.com/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20251028.json",
            &self.web.url("/dl/ServiceTags_Public_20251028.json"),
        );
        cmd = cmd.replace("https://hooks.example.com/tagroute", &self.web.url("/hook"));
        let last = cmd.rsplit('|').next().unwrap().to_owned();
        let cloud = ["public", "usgov", "china"]
            .into_iter()
            .find(|c| last.contains(&format!("--cloud {c}")))
            // A fleet file's tables are of the public cloud unless they say otherwise.
            .or(last.contains("--config").then_some("public"));
        let mut extra = String::new();
        if last.contains(" --arm ") {
            // The Service Tag Discovery API, answered by the download server.
            extra.push_str(&format!(" --arm-endpoint {}", self.web.base));
        } else if last.contains("--route-table-id")
            || last.contains("--config")
            || last.contains("tagroute tables")
        {
            extra.push_str(&format!(
                " --arm-endpoint {} --token-file {} --poll-interval 0.01 --retry-delay-ms 1",
                self.arm.server.base,
                self.arm.token_file().display()
            ));
        }
        if let Some(c) = cloud
            && (last.contains("tagroute fetch") || last.contains("tagroute refresh"))
        {
            extra.push_str(&format!(
                " --download-page {} --download-base {}",
                self.web.url(&format!("/page/{c}")),
                self.web.url("/dl/")
            ));
        }
        if last.contains("tagroute apply") && last.contains("--yes") && !last.contains("--config") {
            extra.push_str(" --max-changes 1000");
        }
        cmd + &extra
    }

    /// Runs one example in bash; its exit status and output.
    fn run(&self, cmd: &str) -> (i32, String, String) {
        let cmd = self.prepare(cmd);
        let path = format!(
            "{}:{}:/usr/bin:/bin",
            self.bin.display(),
            binary().parent().unwrap().display()
        );
        let out = Command::new("bash")
            .arg("-o")
            .arg("pipefail")
            .arg("-c")
            .arg(&cmd)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("TAGROUTE_CACHE_DIR", self.dir.path().join("cache"))
            .env("SUB", "0b1f6471-1bf0-4dda-aec3-cb9272f09590")
            .env("SUB2", "3c1e2a7b-5d4f-4e8a-9b6c-7d8e9f0a1b2c")
            .env("ID", ID)
            .env("AZURE_ACCESS_TOKEN", "")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Fills the cache of every cloud, as a first `fetch` would.
    fn seed_cache(&self) {
        for c in ["public", "usgov", "china"] {
            let (status, _, err) = self.run(&format!("tagroute fetch --cloud {c}"));
            assert_eq!(status, 0, "{err}");
        }
    }
}

/// The exit statuses an example's text allows: 0, or for the diff-like commands 1 too.
fn allowed(cmd: &str) -> &'static [i32] {
    let last = cmd.rsplit('|').next().unwrap();
    let diff_like = [
        "tagroute diff",
        "tagroute drift",
        "tagroute refresh",
        "tagroute tables",
        "tagroute check",
    ]
    .iter()
    .any(|c| last.contains(c))
        || (last.contains("tagroute apply") && !last.contains("--yes"));
    if diff_like { &[0, 1] } else { &[0] }
}

fn check(world: &World, cmd: &str, origin: &str) {
    let (status, stdout, stderr) = world.run(cmd);
    assert!(
        allowed(cmd).contains(&status),
        "{origin} example exited {status}:\n{cmd}\n{}\nstderr:\n{stderr}",
        world.prepare(cmd)
    );
    // What a listing example shows is more than its header.
    if cmd.contains("tagroute tags") && !cmd.contains('>') {
        assert!(
            stdout.lines().count() > 1,
            "{origin} example lists nothing:\n{cmd}\n{stdout}"
        );
    }
}

#[test]
fn every_help_example_runs_as_shown() {
    let data = data_dir();
    let world = World::new(&data);
    world.seed_cache();
    let top = tagroute(&["--help"]).status(0).stdout;
    let mut count = 0;
    for cmd in help_examples(&top) {
        check(&world, &cmd, "tagroute --help");
        count += 1;
    }
    for command in COMMANDS {
        let help = tagroute(&[command, "--help"]).status(0).stdout;
        for cmd in help_examples(&help) {
            check(&world, &cmd, &format!("{command} --help"));
            count += 1;
        }
    }
    assert!(count >= 35, "{count} examples");
}

#[test]
fn every_readme_example_runs_as_shown() {
    let data = data_dir();
    let world = World::new(&data);
    world.seed_cache();
    let examples = readme_examples();
    assert!(examples.len() >= 30, "{}", examples.len());
    for cmd in examples {
        check(&world, &cmd, "README");
    }
}

/// The README's console blocks: each `$ command` with the lines shown after it.
fn readme_transcripts() -> Vec<(String, Vec<String>)> {
    let text = documents();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut inside = false;
    let mut continued = false;
    // The transcript lines belong to a command of the same block.
    let mut block_start = 0;
    for line in text.lines() {
        if line.starts_with("```") {
            inside = line == "```console";
            block_start = out.len();
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push((cmd.trim_end_matches('\\').trim_end().to_owned(), Vec::new()));
            continued = line.ends_with('\\');
        } else if continued {
            let last = out.last_mut().unwrap();
            last.0.push(' ');
            last.0
                .push_str(line.trim().trim_end_matches('\\').trim_end());
            continued = line.ends_with('\\');
        } else if out.len() > block_start
            && !line.is_empty()
            && let Some(last) = out.last_mut()
        {
            last.1.push(line.to_owned());
        }
    }
    out
}

#[test]
fn readme_transcripts_are_what_the_commands_print() {
    let data = data_dir();
    let world = World::new(&data);
    let transcripts = readme_transcripts();
    assert!(transcripts.len() >= 3);
    let mut shown = 0;
    for (cmd, want) in transcripts {
        if want.is_empty() {
            continue;
        }
        shown += 1;
        let (status, stdout, stderr) = world.run(&cmd);
        assert_eq!(status, 0, "{cmd}\n{stderr}");
        let got: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(got, want, "README transcript of {cmd}");
    }
    assert!(shown >= 2);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // The reader is gone before tagroute writes: every write meets a closed pipe.
    let example = example();
    for args in [
        "--help",
        "plan --help",
        &format!("plan --file {example} --region westeurope"),
    ] {
        let out = Command::new("bash")
            .arg("-o")
            .arg("pipefail")
            .arg("-c")
            .arg(format!(
                "(sleep 0.3; '{}' {args}) | true",
                binary().display()
            ))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args}: {stderr}");
    }
}
