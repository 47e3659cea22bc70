//! `lookup`: addresses inside, at the edges of and outside tag prefixes, IPv4 and IPv6, checked
//! against a brute-force scan of the raw file.

use std::net::IpAddr;

use crate::harness::*;

/// Every (tag, most specific containing prefix), most specific first, by scanning all prefixes.
/// Each tag's prefixes as (address, length, text), parsed once for [`brute`].
type Parsed = Vec<(String, Vec<(IpAddr, u8, String)>)>;

fn parsed(tags: &[(String, u64, Vec<String>)]) -> Parsed {
    tags.iter()
        .map(|(name, _, prefixes)| {
            let list = prefixes
                .iter()
                .map(|p| {
                    let (a, l) = p.split_once('/').unwrap();
                    (a.parse().unwrap(), l.parse().unwrap(), p.clone())
                })
                .collect();
            (name.clone(), list)
        })
        .collect()
}

fn brute(tags: &Parsed, addr: IpAddr) -> Vec<(String, String)> {
    let mut out: Vec<(u8, String, String)> = Vec::new();
    for (name, prefixes) in tags {
        let mut best: Option<(u8, &String)> = None;
        for (a, l, p) in prefixes {
            let (a, l) = (*a, *l);
            let inside = match (a, addr) {
                (IpAddr::V4(n), IpAddr::V4(x)) => {
                    l == 0 || (u32::from(n) ^ u32::from(x)) >> (32 - l as u32) == 0
                }
                (IpAddr::V6(n), IpAddr::V6(x)) => {
                    l == 0 || (u128::from(n) ^ u128::from(x)) >> (128 - l as u32) == 0
                }
                _ => false,
            };
            if inside && best.is_none_or(|b| l > b.0) {
                best = Some((l, p));
            }
        }
        if let Some((l, p)) = best {
            out.push((l, name.clone(), p.clone()));
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    out.into_iter().map(|(_, n, p)| (n, p)).collect()
}

fn parse_text(out: &str) -> Vec<(String, String, String)> {
    out.lines()
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            (v[0].to_owned(), v[1].to_owned(), v[2].to_owned())
        })
        .collect()
}

#[test]
fn example_addresses_inside_at_edges_and_outside() {
    let ex = example();
    let tags = raw_tags(&ex);
    let addrs = [
        "203.0.113.64",
        "203.0.113.127",
        "203.0.113.128",
        "203.0.113.255",
        "192.0.2.63",
        "192.0.2.64",
        "198.51.100.200",
        "10.0.0.1",
        "2001:db8:200:30::",
        "2001:db8:200:30:ffff:ffff:ffff:ffff",
        "2001:db8:200:31::",
        "2001:db8:300::1",
    ];
    let out = tagroute(&[&["lookup", "-f", &ex][..], &addrs[..]].concat())
        .status(0)
        .stdout;
    let lines = parse_text(&out);
    for a in addrs {
        let addr: IpAddr = a.parse().unwrap();
        let want = brute(&parsed(&tags), addr);
        let got: Vec<(String, String)> = lines
            .iter()
            .filter(|l| l.0 == addr.to_string())
            .map(|l| (l.2.clone(), l.1.clone()))
            .collect();
        if want.is_empty() {
            assert_eq!(got, [("-".to_owned(), "-".to_owned())], "{a}");
        } else {
            assert_eq!(got, want, "{a}");
        }
    }
    let json = tagroute(&["lookup", "-f", &ex, "--format", "json", "203.0.113.8"])
        .status(0)
        .stdout;
    assert_eq!(
        json,
        "{\"address\":\"203.0.113.8\",\"matches\":[{\"tag\":\"AzureCloud.westeurope\",\"prefix\":\"203.0.113.0/24\"}]}\n"
    );
}

#[test]
fn real_file_agrees_with_brute_force() {
    let dir = data_dir();
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let tags = raw_tags(&path);
    // Addresses at the first and last address of every 300th prefix, and just past it.
    let mut addrs = Vec::new();
    let all: Vec<&String> = tags.iter().flat_map(|t| t.2.iter()).collect();
    for p in all.iter().step_by(300) {
        let (a, l) = p.split_once('/').unwrap();
        let l: u32 = l.parse().unwrap();
        match a.parse::<IpAddr>().unwrap() {
            IpAddr::V4(n) => {
                let first = u32::from(n) as u64;
                let last = first + (1u64 << (32 - l)) - 1;
                for x in [first, last, last + 1] {
                    addrs.push(std::net::Ipv4Addr::from(x as u32).to_string());
                }
            }
            IpAddr::V6(n) => {
                let first = u128::from(n);
                let last = first | u128::MAX.checked_shr(l).unwrap_or(0);
                for x in [first, last, last.wrapping_add(1)] {
                    addrs.push(std::net::Ipv6Addr::from(x).to_string());
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    addrs.retain(|a| seen.insert(a.clone()));
    let input = addrs.join("\n");
    let out = tagroute_with(&["lookup", "-f", &path], Some(input.as_bytes()), &[])
        .status(0)
        .stdout;
    let lines = parse_text(&out);
    let mut i = 0;
    let tags = parsed(&tags);
    for a in &addrs {
        let want = brute(&tags, a.parse().unwrap());
        let mut got = Vec::new();
        while i < lines.len() && lines[i].0 == *a {
            got.push((lines[i].2.clone(), lines[i].1.clone()));
            i += 1;
        }
        if want.is_empty() {
            assert_eq!(got, [("-".to_owned(), "-".to_owned())], "{a}");
        } else {
            assert_eq!(got, want, "{a}");
        }
    }
    assert_eq!(i, lines.len());
}

#[test]
fn bad_lines_are_reported_and_the_run_goes_on() {
    let input = b"# a comment\n203.0.113.7\n\nnot-an-ip\n2001:db8:200:30::1\n300.1.1.1\n";
    let run = tagroute_with(&["lookup", "-f", &example()], Some(input), &[]).status(2);
    assert!(
        run.stderr
            .contains("line 4: 'not-an-ip' is not an IP address"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("line 6: '300.1.1.1' is not an IP address")
    );
    assert!(run.stderr.contains("2 inputs were not IP addresses"));
    assert!(
        run.stdout
            .contains("203.0.113.7\t203.0.113.7/32\tBatchNodeManagement.WestEurope\n")
    );
    assert!(
        run.stdout
            .contains("2001:db8:200:30::1\t2001:db8:200:30::/64\tBatchNodeManagement\n")
    );
}

/// A line that is not UTF-8, or longer than the limit, is reported with its number and the
/// lines after it are still answered.
#[test]
fn bad_lines_do_not_stop_the_answers() {
    let mut input = b"192.0.2.1\n\xff\xfe\n".to_vec();
    input.extend(std::iter::repeat_n(b'7', 100_000));
    input.extend_from_slice(b"\n198.51.100.1\n");
    let run = tagroute_with(&["lookup", "-f", &example()], Some(&input), &[]).status(2);
    assert!(run.stdout.starts_with("192.0.2.1\t"), "{}", run.stdout);
    assert!(run.stdout.contains("198.51.100.1\t"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("line 2: '\\xff\\xfe' is not UTF-8 text"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("line 3: '7777"), "{}", run.stderr);
    assert!(
        run.stderr.contains("a line of 100000 bytes"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.len() < 1000);
}

/// A CIDR prefix is looked up too: the tags with a prefix holding all of it, and those with
/// prefixes inside it, counted, as a scan of the raw IPv4 prefix lists finds them (ranges
/// compared as numbers).
#[test]
fn prefixes_are_looked_up_as_holders_and_insiders() {
    let dir = data_dir();
    let file = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let tags = raw_tags(&file);
    let range = |p: &str| v4_ranges(&[p.to_owned()])[0];
    for query in [
        "20.42.0.0/16",
        "13.69.106.128/26",
        "52.0.0.0/8",
        "198.18.0.0/15",
    ] {
        let (qlo, qhi) = range(query);
        let mut want: Vec<(String, String)> = Vec::new();
        for (name, _, prefixes) in &tags {
            let v4: Vec<&String> = prefixes.iter().filter(|p| !p.contains(':')).collect();
            let holds = v4.iter().any(|p| {
                let (lo, hi) = range(p);
                lo <= qlo && qhi <= hi
            });
            let inside = v4
                .iter()
                .filter(|p| {
                    let (lo, hi) = range(p);
                    qlo <= lo && hi <= qhi && (lo, hi) != (qlo, qhi)
                })
                .count();
            if holds {
                want.push((name.clone(), "holds".into()));
            } else if inside > 0 {
                want.push((name.clone(), format!("inside {inside}")));
            }
        }
        want.sort();
        let doc = tagroute(&["lookup", "-f", &file, "--format", "json", query])
            .status(0)
            .json();
        assert_eq!(doc["prefix"], query);
        let mut got: Vec<(String, String)> = doc["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let how = match m["relation"].as_str().unwrap() {
                    "holds" => "holds".to_owned(),
                    _ => format!("inside {}", m["inside"]),
                };
                (m["tag"].as_str().unwrap().to_owned(), how)
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "{query}");
    }
}
