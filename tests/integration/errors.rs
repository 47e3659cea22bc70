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
        .fails_with("--tag 'Storage.NorthPole' matches no tag");
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
    .fails_with("not allowed");
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
    for redirect in ["> /dev/full"] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "'{}' plan -f '{}' -r westeurope {redirect}",
                binary().display(),
                example()
            ))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{redirect}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot write to stdout"),
            "{redirect}: {stderr}"
        );
    }
}
