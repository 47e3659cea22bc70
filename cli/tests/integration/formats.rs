//! Every output format of `plan`: its shape, and that it carries exactly the plan's routes.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::harness::*;

/// (name, addressPrefix) of each route in the JSON plan, the reference for the other formats.
fn reference(file: &str, region: &str, family: &str) -> Vec<(String, String)> {
    let plan = tagroute(&[
        "plan", "-f", file, "-r", region, "--family", family, "--format", "json",
    ])
    .status(0)
    .json();
    plan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["addressPrefix"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn render(file: &str, region: &str, format: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "plan", "-f", file, "-r", region, "--family", "both", "--format", format,
    ];
    args.extend_from_slice(extra);
    tagroute(&args).status(0).stdout
}

fn files() -> Vec<(String, &'static str)> {
    let dir = data_dir();
    vec![
        (example(), "westeurope"),
        (snapshot(&dir, "ServiceTags_Public_20251028.json"), "eastus"),
        (
            snapshot(&dir, "ServiceTags_AzureGovernment_20260720.json"),
            "usgovvirginia",
        ),
    ]
}

#[test]
fn json_has_the_documented_fields() {
    let plan = tagroute(&[
        "plan",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    for key in [
        "cloud",
        "changeNumber",
        "region",
        "tags",
        "family",
        "strategy",
        "routes",
        "summary",
    ] {
        assert!(!plan[key].is_null(), "missing {key}");
    }
    assert_eq!(
        (plan["cloud"].as_str(), plan["changeNumber"].as_u64()),
        (Some("Public"), Some(42))
    );
    assert_eq!(
        plan["tags"][0],
        serde_json::json!({"name": "AzureMachineLearning.WestEurope", "changeNumber": 3, "prefixes": 2})
    );
    assert_eq!(plan["strategy"], "exact");
    assert_eq!(plan["summary"]["maxRoutes"], 1000);
    let r = &plan["routes"][3];
    assert_eq!(r["name"], "tagroute-203.0.113.64-26");
    assert_eq!(
        r["tags"],
        serde_json::json!(["BatchNodeManagement.WestEurope"])
    );
}

#[test]
fn csv_table_arm_bicep_terraform_carry_the_same_routes() {
    for (file, region) in files() {
        let want = reference(&file, region, "both");
        assert!(!want.is_empty());

        let csv = render(&file, region, "csv", &[]);
        let mut rd = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(
            rd.headers().unwrap().iter().collect::<Vec<_>>(),
            [
                "name",
                "addressPrefix",
                "nextHopType",
                "nextHopIpAddress",
                "nextHopIpAddresses",
                "tags"
            ]
        );
        let rows: Vec<(String, String)> = rd
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_owned(), r[1].to_owned())
            })
            .collect();
        assert_eq!(rows, want);

        let table = render(&file, region, "table", &[]);
        assert!(table.starts_with("NAME"));
        for (name, prefix) in &want {
            assert!(
                table
                    .lines()
                    .any(|l| l.starts_with(name.as_str()) && l.contains(prefix.as_str())),
                "{name}"
            );
        }

        let arm: serde_json::Value =
            serde_json::from_str(&render(&file, region, "arm", &["--route-table", "rt-1"]))
                .unwrap();
        assert!(
            arm["$schema"]
                .as_str()
                .unwrap()
                .contains("deploymentTemplate.json")
        );
        assert_eq!(arm["parameters"]["routeTableName"]["defaultValue"], "rt-1");
        let res = &arm["resources"][0];
        assert_eq!(res["type"], "Microsoft.Network/routeTables/routes");
        assert_eq!(
            (
                res["copy"]["mode"].as_str(),
                res["copy"]["batchSize"].as_u64()
            ),
            (Some("serial"), Some(1))
        );
        let arm_routes: Vec<(String, String)> = arm["variables"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["properties"]["addressPrefix"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect();
        assert_eq!(arm_routes, want);
        assert!(
            arm["variables"]["routes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["properties"]["nextHopType"] == "Internet")
        );

        let bicep = render(&file, region, "bicep", &[]);
        assert!(bicep.contains("param routeTableName string\n"));
        assert!(
            bicep.contains(
                "@batchSize(1)\nresource tagRoutes 'Microsoft.Network/routeTables/routes@"
            )
        );
        let names: Vec<&str> = bicep
            .lines()
            .filter_map(|l| l.trim().strip_prefix("name: '"))
            .map(|l| l.trim_end_matches('\''))
            .collect();
        assert_eq!(names, want.iter().map(|w| w.0.as_str()).collect::<Vec<_>>());

        let tf = render(&file, region, "terraform", &["--resource-group", "rg-net"]);
        check_terraform_layout(&tf);
        assert_eq!(tf.matches("resource \"azurerm_route\"").count(), want.len());
        assert!(tf.contains("  default     = \"rg-net\"\n"));
        for (name, prefix) in &want {
            assert!(
                tf.contains(&format!("  name                = \"{name}\"\n")),
                "{name}"
            );
            assert!(
                tf.contains(&format!("  address_prefix      = \"{prefix}\"\n")),
                "{prefix}"
            );
        }
    }
}

/// What `terraform fmt` would leave alone: two-space indents, `=` aligned within each block,
/// one space after the longest name, blocks separated by one blank line.
fn check_terraform_layout(tf: &str) {
    let mut in_block = false;
    let mut eq_col = None;
    let mut labels = std::collections::HashSet::new();
    for line in tf.lines() {
        if line.ends_with(" {") {
            assert!(!in_block);
            in_block = true;
            eq_col = None;
            if let Some(label) = line.strip_prefix("resource \"azurerm_route\" ") {
                assert!(labels.insert(label.to_owned()), "duplicate label {label}");
            }
        } else if line == "}" {
            in_block = false;
        } else if in_block {
            assert!(
                line.starts_with("  ") && !line.starts_with("   "),
                "indent: {line:?}"
            );
            let col = line
                .find(" = ")
                .unwrap_or_else(|| panic!("no ' = ' in {line:?}"));
            let key_end = line.trim_end_matches(|_| false)[2..].find(' ').unwrap() + 2;
            let expect = *eq_col.get_or_insert(col);
            assert_eq!(col, expect, "misaligned: {line:?}");
            assert!(col >= key_end);
        } else {
            assert!(
                line.is_empty() || line.starts_with('#'),
                "stray line {line:?}"
            );
        }
    }
    assert!(!in_block && !tf.contains("\n\n\n") && tf.ends_with("}\n"));
    // Within each block the widest key is followed by exactly one space.
    for block in tf.split("\n\n").filter(|b| b.contains(" {\n")) {
        let keys: Vec<&str> = block
            .lines()
            .filter(|l| l.starts_with("  "))
            .map(|l| l.trim().split(' ').next().unwrap())
            .collect();
        let width = keys.iter().map(|k| k.len()).max().unwrap();
        assert!(
            block
                .lines()
                .any(|l| l.starts_with("  ")
                    && l[2..].starts_with(&format!("{:<width$} = ", keys[0])))
        );
    }
}

#[test]
fn az_script_runs_the_right_commands_whatever_the_names() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("az.log");
    let fake = tmp.path().join("az");
    // A stand-in az that records each argument on its own line.
    // It answers the script's cloud check as `az` signed in to the public cloud does.
    std::fs::write(&fake, format!("#!/usr/bin/env bash\nif [ \"$1 $2\" = 'cloud show' ]; then echo \"${{AZ_CLOUD:-AzureCloud}}\"; exit 0; fi\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\necho END >> '{}'\n", log.display(), log.display())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap()
    );

    // Names from the flags follow Azure's rules (parentheses are allowed in a resource group
    // and mean something to bash); what the script reads from the environment may be anything.
    let nasty_rg = "rg 'quoted' $(touch pwned) `x`";
    for args in [["-g", nasty_rg], ["--route-table", "rt;rm -rf /"]] {
        let run = tagroute(&[&["plan", "-f", &example(), "-r", "westeurope"][..], &args].concat());
        assert!(run.status(2).stderr.contains("invalid value"));
    }
    let flag_rg = "rg-(prod).1";
    let want = reference(&example(), "westeurope", "both");
    for with_flags in [true, false] {
        let _ = std::fs::remove_file(&log);
        let script = if with_flags {
            render(
                &example(),
                "westeurope",
                "az",
                &["--resource-group", flag_rg, "--route-table", "rt_1.x"],
            )
        } else {
            render(&example(), "westeurope", "az", &[])
        };
        assert!(
            script.starts_with("#!/usr/bin/env bash\n") && script.contains("set -euo pipefail\n")
        );
        let file = tmp.path().join("apply.sh");
        std::fs::write(&file, &script).unwrap();
        assert!(
            Command::new("bash")
                .arg("-n")
                .arg(&file)
                .status()
                .unwrap()
                .success(),
            "syntax"
        );
        let mut cmd = Command::new("bash");
        cmd.arg(&file).env("PATH", &path).current_dir(tmp.path());
        if !with_flags {
            cmd.env("RESOURCE_GROUP", nasty_rg)
                .env("ROUTE_TABLE", "rt;rm -rf /");
        }
        assert!(cmd.status().unwrap().success());
        assert!(!tmp.path().join("pwned").exists(), "a name was executed");
        let logged = std::fs::read_to_string(&log).unwrap();
        let calls: Vec<Vec<&str>> = logged
            .split("END\n")
            .filter(|c| !c.is_empty())
            .map(|c| c.lines().collect())
            .collect();
        assert_eq!(calls.len(), want.len());
        for (call, (name, prefix)) in calls.iter().zip(&want) {
            assert_eq!(
                call,
                &[
                    "network",
                    "route-table",
                    "route",
                    "create",
                    "--resource-group",
                    if with_flags { flag_rg } else { nasty_rg },
                    "--route-table-name",
                    if with_flags { "rt_1.x" } else { "rt;rm -rf /" },
                    "--name",
                    name,
                    "--address-prefix",
                    prefix,
                    "--next-hop-type",
                    "Internet",
                    "--output",
                    "none"
                ]
            );
        }
    }
    // Without flags or variables the script stops before calling az.
    let _ = std::fs::remove_file(&log);
    let out = Command::new("bash")
        .arg(tmp.path().join("apply.sh"))
        .env("PATH", &path)
        .env_remove("RESOURCE_GROUP")
        .output()
        .unwrap();
    assert!(!out.status.success() && !log.exists());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("set RESOURCE_GROUP or pass --resource-group")
    );
    // With az signed in to another cloud, it stops before any change, naming the right one.
    let out = Command::new("bash")
        .arg(tmp.path().join("apply.sh"))
        .env("PATH", &path)
        .env("AZ_CLOUD", "AzureUSGovernment")
        .env("RESOURCE_GROUP", "rg")
        .env("ROUTE_TABLE", "rt")
        .output()
        .unwrap();
    assert!(!out.status.success() && !log.exists());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("these routes are for the AzureCloud cloud; az is set to another (az cloud set --name AzureCloud)")
    );
    let dir = data_dir();
    for (file, region, cloud) in [
        (
            "ServiceTags_AzureGovernment_20260720.json",
            "usgovvirginia",
            "AzureUSGovernment",
        ),
        (
            "ServiceTags_China_20260720.json",
            "chinaeast2",
            "AzureChinaCloud",
        ),
    ] {
        let script = render(&snapshot(&dir, file), region, "az", &[]);
        assert!(
            script.contains(&format!(
                "if [ \"$(az cloud show --query name -o tsv)\" != {cloud} ]; then"
            )),
            "{script}"
        );
    }
}

#[test]
fn help_shows_examples_and_completions_generate() {
    for cmd in ["plan", "tags", "resolve"] {
        let run = tagroute(&[cmd, "--help"]).status(0);
        assert!(
            run.stdout.contains("Examples:") && run.stdout.contains("tagroute "),
            "{cmd}"
        );
    }
    let bash = tagroute(&["completions", "bash"]).status(0).stdout;
    assert!(bash.contains("_tagroute") && bash.contains("plan"));
    // Subcommands are built only when invoked; completions still get their arguments and
    // descriptions.
    let zsh = tagroute(&["completions", "zsh"]).status(0).stdout;
    assert!(zsh.contains("'plan:Plan the user-defined routes") && zsh.contains("--region"));
}

/// Each command's help starts with the description `tagroute --help` lists for it (the two
/// are set apart since arguments are built only for the command invoked) and shows examples.
#[test]
fn every_command_help_starts_with_its_listed_description() {
    let top = tagroute(&["--help"]).status(0).stdout;
    let listed: Vec<(String, String)> = top
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, text) = l.strip_prefix("  ")?.split_once(' ')?;
            Some((name.to_owned(), text.to_owned()))
        })
        .filter(|(name, _)| !name.is_empty() && name != "help")
        .collect();
    assert_eq!(listed.len(), 17, "{top}");
    // The two texts wrap at different columns: compare the first words.
    let opening = |s: &str| s.split_whitespace().take(5).collect::<Vec<_>>().join(" ");
    for (name, text) in listed {
        let help = tagroute(&[&name, "--help"]).status(0).stdout;
        assert_eq!(opening(&help), opening(&text), "{name}");
        assert!(help.contains("Example"), "{name}");
    }
}

/// `--output` writes where it should: into a FIFO (which stays one), through a symlink to its
/// target (the link stays), keeping an existing file's mode.
#[test]
fn output_lands_where_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let want = tagroute(&["plan", "-f", &example(), "-r", "westeurope"])
        .status(0)
        .stdout;
    let out = |path: &std::path::Path| {
        tagroute(&[
            "plan",
            "-f",
            &example(),
            "-r",
            "westeurope",
            "-o",
            path.to_str().unwrap(),
        ])
        .status(0);
    };
    let fifo = dir.path().join("fifo");
    if Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        out(&fifo);
        assert_eq!(reader.join().unwrap(), want);
        assert!(!std::fs::metadata(&fifo).unwrap().is_file(), "still a FIFO");
    }
    let target = dir.path().join("plan.txt");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    out(&link);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), want);
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

/// The manual pages come from the same definitions as `--help`: every command has one, and each
/// names every long flag its help lists.
#[test]
fn man_pages_follow_the_help() {
    let top = tagroute(&["man"]).status(0).stdout;
    assert!(
        top.starts_with(".ie") && top.contains(".TH tagroute 1"),
        "{top}"
    );
    let dir = tempfile::tempdir().unwrap();
    tagroute(&["man", "--dir", dir.path().to_str().unwrap()]).status(0);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    assert_eq!(pages.len(), 18, "{pages:?}");
    for command in ["plan", "rules", "refresh", "tables"] {
        let page =
            std::fs::read_to_string(dir.path().join(format!("tagroute-{command}.1"))).unwrap();
        let help = tagroute(&[command, "--help"]).status(0).stdout;
        for flag in help
            .split_whitespace()
            .filter(|w| w.starts_with("--") && w.len() > 2)
        {
            let flag = flag.trim_end_matches([',', '.', ')', ']']);
            if flag.contains('=') || flag.contains('|') || flag.contains('/') {
                continue;
            }
            assert!(
                page.contains(&flag.replace('-', "\\-")),
                "{command}: {flag} is not in the man page"
            );
        }
    }
    tagroute(&["man", "nosuch"]).fails_with("no command 'nosuch'");
}
