//! Every bad input: exit 2, one line on stderr naming the file and the place, nothing on stdout,
//! and an `--output` file left exactly as it was.

use std::path::Path;

use crate::harness::*;

fn example_json() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(example()).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

fn with_prefix(prefix: &str) -> String {
    let mut v = example_json();
    v["values"][7]["properties"]["addressPrefixes"][1] = prefix.into();
    v.to_string()
}

#[test]
fn bad_files_are_refused_with_file_and_place() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let plan = |f: &str| tagroute(&["plan", "-f", f, "-r", "westeurope"]);

    let f = write(d, "trunc.json", "{\"changeNumber\": 1, \"cloud\": ");
    plan(&f).fails_with(&format!("{f}: not JSON"));
    let f = write(d, "array.json", "[1, 2]");
    plan(&f).fails_with(&format!("{f}: not a service-tag file: top level"));
    let f = write(
        d,
        "novalues.json",
        r#"{"changeNumber": 1, "cloud": "Public"}"#,
    );
    plan(&f).fails_with("missing field `values`");
    let f = write(
        d,
        "cloud.json",
        &example_json().to_string().replace("\"Public\"", "\"Moon\""),
    );
    plan(&f).fails_with("unknown cloud 'Moon'");

    let f = write(d, "octet.json", &with_prefix("300.1.2.3/8"));
    plan(&f).fails_with(&format!(
        "{f}: tag 'BatchNodeManagement.WestEurope': properties.addressPrefixes[1]: '300.1.2.3/8' is not a valid IPv4 or IPv6 address"
    ));
    let f = write(d, "len.json", &with_prefix("10.0.0.0/33"));
    plan(&f).fails_with("'BatchNodeManagement.WestEurope': properties.addressPrefixes[1]: '10.0.0.0/33' has prefix length '33'");
    let f = write(d, "host.json", &with_prefix("203.0.113.97/27"));
    plan(&f).fails_with(
        "'203.0.113.97/27' has host bits set past /27 (the network is 203.0.113.96/27)",
    );
    let f = write(d, "v6len.json", &with_prefix("2001:db8::/129"));
    plan(&f).fails_with("from 0 to 128");

    let mut v = example_json();
    let dup = v["values"][3].clone();
    v["values"].as_array_mut().unwrap().push(dup);
    let f = write(d, "dup.json", &v.to_string());
    plan(&f).fails_with("tag 'AzureMachineLearning.FranceCentral': name: duplicate tag name (values[3] and values[10])");

    let mut v = example_json();
    v["values"][4]["properties"]["addressPrefixes"] = 5.into();
    let f = write(d, "shape.json", &v.to_string());
    plan(&f)
        .fails_with("tag 'AzureMachineLearning.WestEurope' (values[4].properties.addressPrefixes)");

    let big = d.join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(256 * 1024 * 1024 + 1)
        .unwrap();
    plan(big.to_str().unwrap()).fails_with("larger than the 268435456 byte limit");

    plan(d.join("absent.json").to_str().unwrap()).fails_with("absent.json: cannot read");
    tagroute_with(&["plan", "-f", "-", "-r", "westeurope"], Some(b"nope"), &[])
        .fails_with("<stdin>: not JSON");
}

#[test]
fn bad_selections_and_options_are_refused() {
    let ex = example();
    tagroute(&["plan", "-f", &ex, "-r", "westeuropa"])
        .fails_with("unknown region 'westeuropa' in this Public file; closest known: westeurope");
    tagroute(&["plan", "-f", &ex, "--tag", "Storage.NorthPole"])
        .fails_with("tag pattern 'Storage.NorthPole' matches no tag");
    tagroute(&["resolve", "-f", &ex, "Nope"]).fails_with("matches no tag");
    tagroute(&["plan", "-f", &ex, "-r", "westeurope", "--name-prefix=-x"])
        .fails_with("--name-prefix '-x' cannot give valid Azure route names");
    tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--name-prefix",
        "a b",
    ])
    .fails_with("may not hold ' '");
    tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--name-prefix",
        &"n".repeat(70),
    ])
    .fails_with("1 to 80 characters");
    tagroute(&["plan", "-f", &ex, "-r", "westeurope", "--max-routes", "3"])
        .fails_with("the plan needs 4 routes, more than --max-routes 3");
    tagroute(&["tags", "-f", &ex, "-r", "atlantis"]).fails_with("unknown region 'atlantis'");
    // Usage errors come from clap, also with exit 2.
    let run = tagroute(&["plan", "-f", &ex]);
    assert_eq!(run.status, 2);
    assert!(run.stdout.is_empty() && run.stderr.contains("--region"));
}

#[test]
fn a_failed_run_leaves_the_output_file_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("routes.tf");
    std::fs::write(&out, "previous content\n").unwrap();
    let out_s = out.to_str().unwrap();
    tagroute(&[
        "plan",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "--max-routes",
        "1",
        "-o",
        out_s,
        "--format",
        "terraform",
    ])
    .fails_with("needs 4 routes");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous content\n");
    let ok = tagroute(&[
        "plan",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "-o",
        out_s,
        "--format",
        "terraform",
    ])
    .status(0);
    assert!(ok.stdout.is_empty());
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("resource \"azurerm_route\"")
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

/// A file cut off inside a string escape once panicked the fast scanner of `plan`.
#[test]
fn truncated_escape_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cut.json");
    std::fs::write(&f, br#"{"changeNumber": 1, "cloud": "Public", "x": "a\"#).unwrap();
    tagroute(&["plan", "-f", f.to_str().unwrap(), "-r", "eastus"])
        .fails_with("cut.json: not JSON: EOF while parsing a string");
}

/// Output that cannot be written is an error. (A closed stdout cannot be told from /dev/null:
/// Rust's runtime opens /dev/null on a closed standard descriptor before the program starts.)
#[test]
fn unwritable_stdout_is_an_error() {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' plan -f '{}' -r westeurope > /dev/full",
            binary().display(),
            example()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot write to stdout"), "{stderr}");
}

/// Every numeric option is bounded when it is read: a clear usage error (exit 2), never a
/// panic or a wait without end.
#[test]
fn numeric_options_are_bounded() {
    let ex = example();
    let plan = ["plan", "-f", &ex, "-r", "westeurope"];
    // Each value is refused when the arguments are read, before any file or cache is opened.
    for extra in [
        &[
            "--slack",
            "AzureCloud.*",
            "--max-routes",
            "18446744073709551615",
        ][..],
        &["--max-routes", "0"][..],
        &["--timeout", "1e300"][..],
        &["--connect-timeout", "inf"][..],
        &["--max-age", "1e300"][..],
        &["--retry-delay-ms", "18446744073709551615"][..],
        &["--retries", "4294967295"][..],
        &["--probe-days", "4294967295"][..],
        &["--timeout", "NaN"][..],
    ] {
        let args = [&plan[..], extra].concat();
        let run = tagroute(&args);
        assert_eq!(run.status, 2, "{extra:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("invalid value"),
            "{extra:?}: {}",
            run.stderr
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let run = tagroute(&[
        "refresh",
        "--state-dir",
        state.to_str().unwrap(),
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--lock-timeout",
        "1e300",
    ]);
    assert_eq!(run.status, 2);
    // A budget far above what the table can use plans as one it can just use: within the
    // table's limit (Azure's 1,000).
    let routes = |n: &str| {
        let args = [&plan[..], &["--slack", "AzureCloud.*", "--budget", n]].concat();
        tagroute(&args).status(0).stdout
    };
    assert_eq!(
        routes("100000"),
        routes("400").replace("limit 400", "limit 1000")
    );
}

/// Smaller cases a hostile or careless input met: a tag of every address, an appliance of the
/// other family, a slack pattern that matches nothing, a tag of another region.
#[test]
fn odd_selections_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.json");
    std::fs::write(&all, r#"{"changeNumber": 1, "cloud": "Public", "values": [{"name": "All.westeurope", "properties": {"region": "westeurope", "addressPrefixes": ["0.0.0.0/1", "128.0.0.0/1"]}}]}"#).unwrap();
    tagroute(&["plan", "-f", all.to_str().unwrap(), "-t", "All.westeurope"])
        .fails_with("the selected tags hold every ipv4 address");
    let ex = example();
    tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "--strategy",
        "lpm",
        "--default-next-hop",
        "VirtualAppliance:2001:db8::4",
    ])
    .fails_with("2001:db8::4 cannot be the next hop of ipv4 exception routes");
    tagroute(&["plan", "-f", &ex, "-r", "westeurope", "--slack", "Nothing*"])
        .fails_with("--slack: tag pattern 'Nothing*' matches no tag");
    let run = tagroute(&[
        "plan",
        "-f",
        &ex,
        "-r",
        "westeurope",
        "-t",
        "AzureMachineLearning.FranceCentral",
    ])
    .status(0);
    assert!(run.stderr.contains("warning: AzureMachineLearning.FranceCentral lies in region centralfrance, not westeurope"), "{}", run.stderr);
}

mod arguments {
    use proptest::prelude::*;

    use crate::harness::*;

    /// Words an argument list is made of: subcommands, flags, and values both sane and hostile.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "plan",
                "tags",
                "resolve",
                "diff",
                "drift",
                "lookup",
                "aggregate",
                "completions",
                "--region",
                "-r",
                "--tag",
                "--slack",
                "--allow-any-slack",
                "--max-routes",
                "--strategy",
                "lpm",
                "exact",
                "--default-next-hop",
                "--family",
                "both",
                "ipv6",
                "--format",
                "json",
                "az",
                "terraform",
                "bicep",
                "csv",
                "--name-prefix",
                "--existing",
                "--timeout",
                "--max-age",
                "--retries",
                "--retry-delay-ms",
                "--lock-timeout",
                "-g",
                "--route-table",
                "--quiet",
                "--intersect",
                "bash",
            ])
            .prop_map(str::to_owned),
            prop::sample::select(vec![
                "0",
                "-1",
                "1e300",
                "NaN",
                "inf",
                "18446744073709551616",
                "400",
                "7",
                "",
                "westeurope",
                "AzureCloud.*",
                "VirtualAppliance:10.0.0.4",
                "VirtualAppliance:2001:db8::4",
                "a\nb",
                "$(id)",
                "\u{1b}[2J",
                "é",
            ])
            .prop_map(str::to_owned),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]

        /// Whatever the arguments, the program answers with a documented status (0, 1, 2),
        /// never a panic, and a failure says something on stderr with no raw control
        /// characters. The file is always the example, read offline.
        #[test]
        fn any_arguments_get_a_documented_answer(words in prop::collection::vec(word(), 0..8)) {
            let ex = example();
            let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
            if args.first().is_some_and(|a| !matches!(*a, "aggregate" | "completions" | "lookup")) {
                args.extend(["-f", &ex]);
            }
            let run = tagroute(&args);
            prop_assert!(matches!(run.status, 0..=2), "{args:?}: {} {}", run.status, run.stderr);
            prop_assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
            if run.status == 2 {
                prop_assert!(!run.stderr.trim().is_empty(), "{args:?}");
                prop_assert!(!run.stderr.chars().any(|c| c.is_control() && c != '\n'), "{args:?}: {:?}", run.stderr);
            }
        }
    }
}
