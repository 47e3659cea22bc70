//! Hostile text against every output: names that hold newlines, quotes, `$(...)`, backticks,
//! `${...}`, `%{...}`, ANSI escapes and NUL. Files holding them are refused when loaded; and
//! should such a name get past that (through the library, or a future reader), each generated
//! script or template is still run through its real interpreter and must mean exactly the text.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Arc;

use tagroute::emit::{self, PlanFormat, Target};
use tagroute::plan::{self, PlanOptions};
use tagroute::prefix::Prefix;
use tagroute::snapshot::{Cloud, ServiceTag, Snapshot};

use crate::harness::*;

/// Names an attacker would put in a service-tag file or a route table.
const HOSTILE: [&str; 9] = [
    "a\nrm -rf ~ #",
    "q'uo\"te",
    "$(touch pwned)",
    "`touch pwned`",
    "${file(\"/etc/passwd\")}",
    "%{ if true }x%{ endif }",
    "\u{1b}[2J\u{1b}]0;title\u{7}",
    "nul\0byte",
    "[concat('a','b')]",
];

/// The example's tags renamed to hostile names, as a file that got past no reader would be.
fn hostile_snapshot() -> Snapshot {
    let tag = |name: &str, prefix: &str| ServiceTag {
        name: name.to_owned(),
        change_number: 1,
        region: Arc::from(""),
        region_id: 0,
        platform: Arc::from("Azure"),
        system_service: Arc::from(""),
        network_features: None,
        ipv4: vec![prefix.parse::<Prefix<u32>>().unwrap()],
        ipv6: Vec::new(),
    };
    let tags = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, n)| tag(n, &format!("10.{}.0.0/16", 2 * i)))
        .collect();
    Snapshot::new("hostile", Cloud::Public, 1, tags, None)
}

/// Every format of the plan of all hostile tags, with `target` for the deployable ones.
fn render(format: PlanFormat, target: &Target) -> String {
    let snap = hostile_snapshot();
    let all: Vec<usize> = (0..snap.tags.len()).collect();
    let plan = plan::plan(&snap, None, &all, &PlanOptions::default()).unwrap();
    emit::render_plan(&plan, format, target)
}

fn hostile_target(rg: &str, table: &str) -> Target {
    Target {
        resource_group: Some(rg.to_owned()),
        route_table: Some(table.to_owned()),
    }
}

#[test]
fn az_scripts_run_the_names_as_data() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("az.log");
    let fake = tmp.path().join("az");
    // A stand-in az that records its arguments, each ended by NUL, and a NUL after each call
    // (no argument here is empty, so two NULs end a call).
    std::fs::write(
        &fake,
        format!(
            "#!/usr/bin/env bash\nif [ \"$1 $2\" = 'cloud show' ]; then echo AzureCloud; exit 0; fi\nprintf '%s\\0' \"$@\" >> '{0}'\nprintf '\\0' >> '{0}'\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap()
    );
    for (i, rg) in HOSTILE.iter().enumerate() {
        // A shell string cannot hold NUL; the flag values are checked to be names anyway.
        let rg = rg.replace('\0', "");
        let table = HOSTILE[(i + 1) % HOSTILE.len()].replace('\0', "");
        let script = render(PlanFormat::Az, &hostile_target(&rg, &table));
        let file = tmp.path().join("apply.sh");
        std::fs::write(&file, &script).unwrap();
        let _ = std::fs::remove_file(&log);
        let out = Command::new("bash")
            .arg(&file)
            .env("PATH", &path)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!tmp.path().join("pwned").exists(), "a name ran as code");
        let logged = std::fs::read(&log).unwrap();
        let text = String::from_utf8(logged).unwrap();
        let calls: Vec<Vec<&str>> = text
            .split("\0\0")
            .filter(|c| !c.is_empty())
            .map(|c| c.split('\0').collect())
            .collect();
        assert_eq!(calls.len(), HOSTILE.len(), "one az call a route");
        for call in &calls {
            assert_eq!(
                call[4..8],
                ["--resource-group", &rg, "--route-table-name", &table[..]]
            );
        }
        // The comment lines say what the plan was made from and stay comments.
        for line in script.lines().take_while(|l| !l.starts_with("set ")) {
            assert!(line.starts_with('#'), "{line:?}");
        }
    }
}

/// An HCL string as the parser leaves it (quoted, escapes in place), decoded as Terraform does.
fn hcl_value(raw: &str) -> String {
    let inner: String = serde_json::from_str(raw).expect("HCL escapes are JSON's here");
    inner.replace("$${", "${").replace("%%{", "%{")
}

#[test]
fn terraform_holds_the_names_as_strings() {
    for (i, rg) in HOSTILE.iter().enumerate() {
        let table = HOSTILE[(i + 3) % HOSTILE.len()];
        let text = render(PlanFormat::Terraform, &hostile_target(rg, table));
        let Some(doc) = hcl_to_json(&text) else {
            return;
        };
        let vars = doc["variable"].as_array().unwrap();
        assert_eq!(vars.len(), 2);
        let default = |name: &str| {
            let v = vars
                .iter()
                .find_map(|v| v.get(format!("\"{name}\"")))
                .unwrap();
            hcl_value(v["default"].as_str().unwrap())
        };
        assert_eq!(default("resource_group_name"), *rg);
        assert_eq!(default("route_table_name"), table);
        let resources = doc["resource"].as_array().unwrap();
        assert_eq!(
            resources.len(),
            HOSTILE.len(),
            "one resource a route, nothing more"
        );
        for line in text.lines().take_while(|l| !l.is_empty()) {
            assert!(line.starts_with('#'), "{line:?}");
        }
    }
}

#[test]
fn arm_templates_hold_the_names_as_literals() {
    for rg in HOSTILE {
        let text = render(PlanFormat::Arm, &hostile_target("rg", rg));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let default = doc["parameters"]["routeTableName"]["defaultValue"]
            .as_str()
            .unwrap();
        // ARM reads a string that starts with one `[` as an expression; `[[` is the literal.
        let literal = default
            .strip_prefix('[')
            .filter(|_| rg.starts_with('['))
            .unwrap_or(default);
        assert_eq!(literal, rg);
        let description = doc["metadata"]["description"].as_str().unwrap();
        assert!(!description.starts_with('[') || description.starts_with("[["));
    }
}

/// Decodes one Bicep single-quoted literal at the start of `text` by the language's rules,
/// failing on an interpolation; returns the value and the rest.
fn bicep_literal(text: &str) -> (String, &str) {
    let body = text.strip_prefix('\'').expect("a literal");
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => return (out, &body[i + 1..]),
            '$' => {
                assert_ne!(
                    body[i + 1..].chars().next(),
                    Some('{'),
                    "interpolation in {text:?}"
                );
                out.push('$');
            }
            '\\' => match chars.next().unwrap().1 {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '$' => out.push('$'),
                'u' => {
                    let rest = &body[i + 2..];
                    let end = rest.find('}').unwrap();
                    let code = u32::from_str_radix(&rest[1..end], 16).unwrap();
                    out.push(char::from_u32(code).unwrap());
                    for _ in 0..=end {
                        chars.next();
                    }
                }
                other => panic!("unknown escape \\{other}"),
            },
            '\n' | '\r' => panic!("a newline ends the line inside {text:?}"),
            c => out.push(c),
        }
    }
    panic!("unterminated literal in {text:?}")
}

#[test]
fn bicep_holds_the_names_as_literals() {
    for table in HOSTILE {
        let text = render(PlanFormat::Bicep, &hostile_target("rg", table));
        let line = text
            .lines()
            .find(|l| l.starts_with("param routeTableName"))
            .unwrap();
        let (value, rest) = bicep_literal(line.split_once(" = ").unwrap().1);
        assert_eq!((value.as_str(), rest), (table, ""));
        for line in text.lines().take_while(|l| !l.is_empty()) {
            assert!(line.starts_with("//"), "{line:?}");
        }
    }
}

#[test]
fn csv_and_tables_keep_names_to_their_cells() {
    let csv = render(PlanFormat::Csv, &Target::default());
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let tags: Vec<String> = reader.records().map(|r| r.unwrap()[5].to_owned()).collect();
    let mut want: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    let mut got = tags.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let table = render(PlanFormat::Table, &Target::default());
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
    );
    assert_eq!(table.lines().count(), HOSTILE.len() + 3);
}

/// The loader refuses each hostile name with one line that shows it, inert.
#[test]
fn files_with_hostile_names_are_refused() {
    let text = std::fs::read_to_string(example()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in HOSTILE.iter().enumerate() {
        let json_name = serde_json::to_string(name).unwrap();
        for (field, bad) in [
            (
                "name",
                text.replacen("\"AzureCloud.centralfrance\"", &json_name, 1),
            ),
            ("region", text.replacen("\"centralfrance\"", &json_name, 1)),
            ("networkFeatures", text.replacen("\"NSG\"", &json_name, 1)),
        ] {
            let f = dir.path().join(format!("h{i}{field}.json"));
            std::fs::write(&f, &bad).unwrap();
            for args in [&["tags", "-f"][..], &["plan", "-r", "westeurope", "-f"][..]] {
                let run = tagroute(&[args, &[f.to_str().unwrap()]].concat());
                let run = run.fails_with(field);
                assert!(
                    !run.stderr.trim_end().chars().any(|c| c.is_control()),
                    "{:?}",
                    run.stderr
                );
            }
        }
    }
}

/// A route table is read from outside too: a route name Azure would never allow is refused.
#[test]
fn route_tables_with_hostile_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in HOSTILE.iter().enumerate() {
        let table = serde_json::json!([{"name": name, "addressPrefix": "10.0.0.0/8", "nextHopType": "Internet"}]);
        let f = dir.path().join(format!("t{i}.json"));
        std::fs::write(&f, table.to_string()).unwrap();
        let run = tagroute(&[
            "diff",
            "-f",
            &example(),
            "-r",
            "westeurope",
            "--existing",
            f.to_str().unwrap(),
        ]);
        let run = run.fails_with("route");
        assert!(
            !run.stderr.trim_end().chars().any(|c| c.is_control()),
            "{:?}",
            run.stderr
        );
    }
}
