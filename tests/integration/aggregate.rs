//! `aggregate`: output identical, line for line, to aggregate6 on the real files' prefixes; bad
//! lines reported and skipped; set operations against the interval reference.

use std::process::Command;

use crate::harness::*;

/// aggregate6 on PATH (`.ci/run` installs it from PyPI); `None` skips outside CI.
fn aggregate6() -> Option<&'static str> {
    if Command::new("aggregate6")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("aggregate6");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but aggregate6 is not installed"
    );
    eprintln!("skipped: aggregate6 not installed (pip install aggregate6)");
    None
}

#[test]
fn identical_to_aggregate6_on_every_real_file() {
    let Some(dir) = data_dir() else { return };
    let Some(peer) = aggregate6() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for file in [
        "ServiceTags_Public_20251028.json",
        "ServiceTags_AzureGovernment_20260720.json",
        "ServiceTags_China_20260720.json",
    ] {
        let path = snapshot(&dir, file);
        let all: Vec<String> = raw_tags(&path).into_iter().flat_map(|t| t.2).collect();
        let list = tmp.path().join("all.txt");
        std::fs::write(&list, all.join("\n") + "\n").unwrap();
        let ours = tagroute(&["aggregate", list.to_str().unwrap()])
            .status(0)
            .stdout;
        let theirs = Command::new(peer).arg(&list).output().unwrap();
        assert!(theirs.status.success());
        assert_eq!(ours, String::from_utf8(theirs.stdout).unwrap(), "{file}");
        for family in [("ipv4", "-4"), ("ipv6", "-6")] {
            let ours = tagroute(&["aggregate", "--family", family.0, list.to_str().unwrap()])
                .status(0)
                .stdout;
            let theirs = Command::new(peer)
                .args([family.1, list.to_str().unwrap()])
                .output()
                .unwrap();
            assert_eq!(
                ours,
                String::from_utf8(theirs.stdout).unwrap(),
                "{file} {}",
                family.0
            );
        }
    }
}

#[test]
fn bad_lines_are_reported_with_their_numbers() {
    let input = b"10.0.0.0/25\n10.0.0.128/25\nnot-a-prefix\n# comment\n\n10.0.1.1/24\r\n2001:db8::1\n10.0.2.0/24 # next to the first\n";
    let run = tagroute_with(&["aggregate"], Some(input), &[]).status(2);
    assert_eq!(run.stdout, "10.0.0.0/24\n10.0.2.0/24\n2001:db8::1/128\n");
    assert!(
        run.stderr
            .contains("tagroute: <stdin>:3: 'not-a-prefix' is not a valid IPv4 or IPv6 address"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("tagroute: <stdin>:6: '10.0.1.1/24' has host bits set"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("2 lines were not IP prefixes and were skipped")
    );
    let json = tagroute_with(
        &["aggregate", "--format", "json"],
        Some(b"10.0.0.0/24\n10.0.1.0/24\n::/0\n"),
        &[],
    )
    .status(0)
    .json();
    assert_eq!(json["prefixes"], serde_json::json!(["10.0.0.0/23", "::/0"]));
    assert_eq!(json["ipv4Addresses"], 512);
}

#[test]
fn subtract_and_intersect() {
    let tmp = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let all = w("all.txt", "10.0.0.0/8\n2001:db8::/32\n");
    let hole = w("hole.txt", "10.128.0.0/9\n10.0.0.7\n2001:db8:8000::/33\n");
    let keep = w("keep.txt", "10.0.0.0/30\n0.0.0.0/0\n");
    let out = tagroute(&["aggregate", &all, "--subtract", &hole])
        .status(0)
        .stdout;
    let lines: Vec<&str> = out.lines().collect();
    // 10.0.0.0/9 without 10.0.0.7: the independent model says how many blocks that takes.
    let v4: Vec<&str> = lines.iter().copied().filter(|l| !l.contains(':')).collect();
    let want = minus(&v4_ranges(&["10.0.0.0/9"]), &v4_ranges(&["10.0.0.7/32"]));
    assert_eq!(v4_ranges(&v4), want);
    assert_eq!(v4.len(), min_cidr_count(&want));
    assert_eq!(lines.last(), Some(&"2001:db8::/33"));
    let out = tagroute(&["aggregate", &all, "--intersect", &keep, "--family", "ipv4"])
        .status(0)
        .stdout;
    assert_eq!(out, "10.0.0.0/8\n");
    let out = tagroute(&["aggregate", &all, "--intersect", &keep, "--subtract", &hole])
        .status(0)
        .stdout;
    assert_eq!(
        out.lines().count(),
        min_cidr_count(&want),
        "IPv6 gone: not in keep.txt"
    );
}
