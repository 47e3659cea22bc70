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

/// `tagroute aggregate` and aggregate6 on the same list, each with its own flags for the same
/// choice: asserts the same output, line for line, and returns it.
fn same_as_aggregate6(
    peer: &str,
    list: &std::path::Path,
    ours: &[&str],
    theirs: &[&str],
) -> String {
    let list = list.to_str().unwrap();
    let run = tagroute(&[&["aggregate"], ours, &[list]].concat()).status(0);
    let peer_run = Command::new(peer).args(theirs).arg(list).output().unwrap();
    assert!(peer_run.status.success());
    let want = String::from_utf8(peer_run.stdout).unwrap();
    assert_eq!(run.stdout, want, "{list} {ours:?}");
    run.stdout
}

#[test]
fn identical_to_aggregate6_on_every_real_file() {
    let dir = data_dir();
    let Some(peer) = aggregate6() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for file in [
        "ServiceTags_Public_20251028.json",
        "ServiceTags_AzureGovernment_20260720.json",
        "ServiceTags_China_20260720.json",
    ] {
        let path = snapshot(&dir, file);
        let all: Vec<String> = raw_tags(&path).into_iter().flat_map(|t| t.2).collect();
        let list = tmp.path().join(format!("{file}.prefixes.txt"));
        std::fs::write(&list, all.join("\n") + "\n").unwrap();
        same_as_aggregate6(peer, &list, &[], &[]);
        for (ours, theirs) in [("ipv4", "-4"), ("ipv6", "-6")] {
            same_as_aggregate6(peer, &list, &["--family", ours], &[theirs]);
        }
    }
}

/// IPv6 in every spelling: upper case, zero-padded, uncompressed, embedded IPv4 (compatible and
/// mapped), addresses whose zero runs tie or sit at either end. Both tools read them all and
/// print the same lines.
#[test]
fn identical_to_aggregate6_on_ipv6_spellings() {
    let Some(peer) = aggregate6() else { return };
    let mut rng = fastrand::Rng::with_seed(4291);
    let mut lines: Vec<String> = [
        "::",
        "::1",
        "1::",
        "0:0:0:0:0:0:0:1",
        "::FFFF:10.1.2.3",
        "::ffff:0:0/112",
        "::10.1.2.3",
        "::0.0.1.0",
        "64:ff9b::192.0.2.1",
        "1:0:0:2:0:0:3:4",
        "1:0:0:0:2:0:0:0",
        "0:1:0:1:0:1:0:1",
        "2001:DB8:0000:0000:0000:0000:0000:0000/32",
        "fe80::/10",
    ]
    .map(String::from)
    .to_vec();
    for _ in 0..3000 {
        let groups: [u16; 8] = std::array::from_fn(|_| match rng.u8(..3) {
            0 => 0,
            1 => rng.u16(..16),
            _ => rng.u16(..),
        });
        let a = groups.iter().fold(0u128, |a, &g| a << 16 | g as u128);
        let (a, len) = match rng.u8(..4) {
            0 => (a & u32::MAX as u128, rng.u8(120..=128)),
            1 => (0xffff_0000_0000 | a & u32::MAX as u128, rng.u8(120..=128)),
            _ => (a, rng.u8(90..=128)),
        };
        let net = std::net::Ipv6Addr::from(a & !(u128::MAX.checked_shr(len as u32).unwrap_or(0)));
        let text = match rng.u8(..3) {
            0 => net.to_string().to_uppercase(),
            1 => net.segments().map(|g| format!("{g:04x}")).join(":"),
            _ => net.to_string(),
        };
        lines.push(format!("{text}/{len}"));
    }
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("v6.txt");
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    let ours = same_as_aggregate6(peer, &list, &[], &[]);
    let dotted = |mapped: bool| {
        ours.lines()
            .any(|l| l.contains('.') && l.starts_with("::ffff:") == mapped)
    };
    assert!(dotted(true) && dotted(false), "{ours}");
}

/// Lines the IPv4 fast path leaves to the strict parser (lengths of four or more digits, which
/// Python's ipaddress also takes) are read by it, not dropped or reported.
#[test]
fn lines_the_fast_path_declines_go_to_the_strict_parser() {
    let run = tagroute_with(
        &["aggregate"],
        Some(b"10.0.0.0/0024\n10.0.1.0/024\n192.0.2.0/00032\n"),
        &[],
    )
    .status(0);
    assert_eq!(run.stdout, "10.0.0.0/23\n192.0.2.0/32\n");
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

/// What aggregate6 reads, read alike: several prefixes on a line, IPv4 netmask and hostmask
/// forms, bare addresses; the output is aggregate6's, line for line.
#[test]
fn reads_what_aggregate6_reads() {
    let Some(peer) = aggregate6() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("list.txt");
    std::fs::write(
        &list,
        "10.0.0.0/255.255.255.0 10.0.1.0/0.0.0.255\t10.0.2.0/24\n\
         192.0.2.0/255.255.255.128  192.0.2.128/25 198.51.100.7\n\
         2001:db8::/33 2001:db8:8000::/33\n\
         172.16.0.0/255.240.0.0\n0.0.0.0/255.255.255.255\n",
    )
    .unwrap();
    let out = same_as_aggregate6(peer, &list, &[], &[]);
    assert!(
        out.contains("10.0.0.0/23\n10.0.2.0/24\n") && out.contains("2001:db8::/32"),
        "{out}"
    );
}

/// A line is a line however long: one longer than the limit is one bad line (its start shown,
/// cut short), and the lines after it keep their numbers; the same for one longer than a read
/// chunk, whose end would otherwise have been read as lines of its own.
#[test]
fn long_lines_are_one_bad_line_each() {
    for len in [70_000usize, 5 << 20] {
        let mut input = b"10.0.0.0/24\n# ".to_vec();
        input.extend(std::iter::repeat_n(b'x', len));
        input.extend_from_slice(b" 10.9.9.0/24\n10.0.1.0/24\nbad\n");
        let run = tagroute_with(&["aggregate"], Some(&input), &[]).status(2);
        assert_eq!(run.stdout, "10.0.0.0/23\n", "{len}");
        assert!(run.stderr.contains(":2: '# xxx"), "{len}: {}", run.stderr);
        assert!(
            run.stderr.contains("longer than the 65536-byte limit"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(":4: 'bad' is not"),
            "{len}: {}",
            run.stderr
        );
        assert!(run.stderr.len() < 1000, "the long line is not echoed whole");
    }
}

/// Any byte stream is read in bounded memory with a bounded report: binary input gives at most
/// a thousand bad lines on stderr, then a count.
#[test]
fn binary_input_gives_a_bounded_report() {
    let mut rng = fastrand::Rng::with_seed(3);
    let input: Vec<u8> = (0..3 << 20).map(|_| rng.u8(..)).collect();
    let run = tagroute_with(&["aggregate"], Some(&input), &[]).status(2);
    let lines = run.stderr.lines().count();
    assert!(lines <= 1002, "{lines} lines on stderr");
    assert!(run.stderr.contains("more bad lines not shown"));
    assert!(!run.stderr.chars().any(|c| c.is_control() && c != '\n'));
}

/// Repeated --intersect keeps the addresses in every file; the exact count of all IPv6
/// addresses is 2^128.
#[test]
fn intersect_each_file_and_count_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let all = w("all.txt", "10.0.0.0/8\n");
    let a = w("a.txt", "10.0.0.0/16\n");
    let b = w("b.txt", "10.0.0.0/24\n10.1.0.0/16\n");
    let out = tagroute(&["aggregate", &all, "--intersect", &a, "--intersect", &b]).status(0);
    assert_eq!(out.stdout, "10.0.0.0/24\n");
    let json = tagroute_with(
        &["aggregate", "--format", "json"],
        Some(b"::/0\n0.0.0.0/0\n"),
        &[],
    )
    .status(0)
    .json();
    assert_eq!(
        json["ipv6Addresses"],
        "340282366920938463463374607431768211456"
    );
    assert_eq!(json["ipv4Addresses"], 4294967296u64);
}
