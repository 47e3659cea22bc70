//! Aggregating very large prefix lists: a hand-written line parser, integer keys, a radix sort
//! and one linear merge.
//!
//! The trie is the right shape for planning (labels, lookups), but to aggregate ten million lines
//! a flat array wins: each IPv4 prefix becomes one `u32` in one of 256 buckets (see `buckets.rs`),
//! so sorting is a radix sort of small buckets and merging is one pass, well ahead of inserting
//! into the trie (`cargo bench`, BENCHMARKS.md). IPv6 prefixes take two `u128`s and a parser of
//! their own, with std's behind it.
//!
//! `parse` reads lines, `read` runs the reading on every core, `merge` sorts and merges range
//! lists, `write` prints the result; `buckets` holds the IPv4 keys.
//!
//! [`parse_parallel`] runs the parse on every core: the reading thread cuts the input into
//! line-aligned chunks, each worker parses its chunks into its own buckets (and sorts its own IPv6
//! ranges), then the buckets are divided among the cores to be sorted and coalesced. Memory stays
//! at one `u32` per IPv4 line plus a few chunk buffers.

mod buckets;
mod merge;
mod parse;
mod read;
mod write;

pub use parse::{parse_cidr, parse_v4_cidr_head, parse_v4_range, parse_v6_range};
pub use read::{BAD_LINES_KEPT, LineError, MAX_LINE_BYTES, Parsed, parse_parallel};
pub use write::write_prefixes;

#[cfg(test)]
mod tests {
    use super::merge::*;
    use super::parse::*;
    use super::read::*;
    use super::*;
    use crate::prefix::addr::Addr;
    use crate::prefix::interval::IntervalSet;
    use crate::prefix::net::{IpPrefix, Prefix};

    /// What a collector holds, as address sets made by the interval reference.
    fn sets(c: &Collector) -> (IntervalSet<u32>, IntervalSet<u128>) {
        let v4 = c.v4.ranges().collect();
        (
            IntervalSet::from_ranges(v4),
            IntervalSet::from_ranges(c.v6.clone()),
        )
    }

    /// The range the strict parser gives, when it gives one of family `A`.
    fn strict_range<A: Addr>(text: &str) -> Option<(u128, u128)> {
        match IpPrefix::parse_or_host(text).ok()? {
            IpPrefix::V4(p) if A::BITS == 32 => Some((p.first() as u128, p.last() as u128)),
            IpPrefix::V6(p) if A::BITS == 128 => Some((p.first(), p.last())),
            _ => None,
        }
    }

    #[test]
    fn fast_parser_agrees_with_std() {
        let cases = [
            "1.2.3.4",
            "1.2.3.0/24",
            "0.0.0.0/0",
            "255.255.255.255/32",
            "10.0.0.1/8",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/08",
            "1.2.3.4/8x",
            " 1.2.3.4",
            "1..2.3",
            "::1",
            "1.2.3.4/32",
            "10.0.0.0/7",
            "10.0.0.0/07",
            "10.0.0.0/007",
            "10.0.0.0/0007",
            "1.2.3.4/-1",
            "1234.1.1.1",
        ];
        for c in cases {
            let slow = strict_range::<u32>(c);
            // The fast path either agrees or defers to the general parser (for errors and rare forms).
            match parse_v4_range(c.as_bytes()) {
                Some((lo, hi)) => assert_eq!(Some((lo as u128, hi as u128)), slow, "{c}"),
                None => assert!(
                    slow.is_none() || c.ends_with("/0007"),
                    "{c} should take the fast path"
                ),
            }
        }
    }

    /// Calls `check` with every string over `alphabet` of up to `max_len` bytes.
    fn every_string(alphabet: &[u8], max_len: u32, mut check: impl FnMut(&str)) {
        let mut text = Vec::new();
        for len in 0..=max_len {
            for mut code in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                check(std::str::from_utf8(&text).unwrap());
            }
        }
    }

    /// Every string of up to eight characters over an alphabet that makes short IPv4 addresses
    /// and their near misses: the IPv4 parser agrees with std wherever it answers, and answers
    /// wherever std takes the text.
    #[test]
    fn ipv4_parser_agrees_with_std_on_every_short_string() {
        let mut answered = 0;
        every_string(b"0129./", 8, |s| {
            let strict = strict_range::<u32>(s);
            let fast = parse_v4_range(s.as_bytes()).map(|(lo, hi)| (lo as u128, hi as u128));
            assert_eq!(fast, strict, "{s}");
            answered += fast.is_some() as u32;
        });
        assert!(answered > 100, "only {answered} strings parsed");
    }

    /// Every short string over an alphabet of IPv4 and IPv6 pieces: the CIDR parser agrees
    /// with the general one wherever it answers, and answers wherever that one takes plain
    /// IPv4 (it leaves only errors and rare forms to it).
    #[test]
    fn cidr_parser_agrees_with_the_general_one_on_every_short_string() {
        let mut answered = 0;
        every_string(b"0129./", 8, |s| {
            let general = IpPrefix::parse(s).ok();
            let fast = parse_cidr(s.as_bytes());
            if fast.is_some() {
                assert_eq!(fast, general, "{s}");
                answered += 1;
            } else {
                assert!(general.is_none(), "{s} should take the fast path");
            }
        });
        every_string(b"0f:/8", 8, |s| {
            let fast = parse_cidr(s.as_bytes());
            assert!(fast.is_none() || fast == IpPrefix::parse(s).ok(), "{s}");
            answered += fast.is_some() as u32;
        });
        for s in [
            "20.42.0.0/16",
            "255.255.255.255/32",
            "0.0.0.0/0",
            "2603:1030:f:1::/64",
        ] {
            assert_eq!(parse_cidr(s.as_bytes()), IpPrefix::parse(s).ok(), "{s}");
        }
        assert!(answered > 200, "only {answered} strings parsed");
    }

    /// In a chunk the window holds what follows the line (its newline, the next line): the
    /// answer is the same as with the line alone, zero-padded.
    #[test]
    fn ipv4_window_ignores_what_follows_the_line() {
        let mut rng = fastrand::Rng::with_seed(13);
        every_string(b"0129./", 7, |s| {
            let line = s.as_bytes();
            let mut window = padded(line);
            for b in &mut window[line.len()..] {
                *b = b"0123456789./\n\r#:"[rng.usize(..16)];
            }
            assert_eq!(
                parse_v4_window(&window, line),
                parse_v4_window(&padded(line), line),
                "{s} then {:?}",
                &window[line.len()..]
            );
        });
    }

    /// Every string of up to six characters over an alphabet that makes short addresses and
    /// most ways to get them wrong: the IPv6 parser agrees with std wherever it answers, and
    /// answers wherever std takes a plain-hex address.
    #[test]
    fn ipv6_parser_agrees_with_std_on_every_short_string() {
        let mut answered = 0;
        every_string(b"0f1A:/.g", 6, |s| {
            let strict = strict_range::<u128>(s);
            let fast = parse_v6_range(s.as_bytes());
            if fast.is_some() {
                assert_eq!(fast, strict, "{s}");
                answered += 1;
            } else {
                assert!(
                    strict.is_none() || s.contains('.'),
                    "{s} should take the fast path"
                );
            }
        });
        assert!(answered > 200, "only {answered} strings parsed");
    }

    #[test]
    fn ipv6_parser_cases() {
        let ok = [
            ("::", 0, 0),
            ("::/0", 0, u128::MAX),
            ("::1", 1, 1),
            ("1::", 1 << 112, 1 << 112),
            (
                "2001:db8::/32",
                0x2001_0db8 << 96,
                (0x2001_0db8 << 96) | (u128::MAX >> 32),
            ),
            (
                "1:2:3:4:5:6:7:8/128",
                0x0001_0002_0003_0004_0005_0006_0007_0008,
                0x0001_0002_0003_0004_0005_0006_0007_0008,
            ),
            (
                "1:2:3:4:5:6:7::",
                0x0001_0002_0003_0004_0005_0006_0007_0000,
                0x0001_0002_0003_0004_0005_0006_0007_0000,
            ),
            (
                "FFFF::/16",
                0xffff << 112,
                (0xffff << 112) | (u128::MAX >> 16),
            ),
        ];
        for (text, first, last) in ok {
            assert_eq!(
                parse_v6_range(text.as_bytes()),
                Some((first, last)),
                "{text}"
            );
        }
        for bad in [
            "",
            ":",
            ":::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1::2::3",
            "12345::",
            "1:/64",
            ":1::",
            "1:2:3:4:5:6:7:8::",
            "::1/129",
            "::1/64",
            "::/",
            "::/1x",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "g::",
        ] {
            assert_eq!(parse_v6_range(bad.as_bytes()), None, "{bad}");
        }
    }

    /// Addresses with many zero groups (ties between runs, runs at either end, single zeros),
    /// and the IPv4-compatible and -mapped ranges: written as std writes them but for the
    /// IPv4-compatible ones, which glibc writes dotted, and every spelling parses back.
    #[test]
    fn writes_ipv6_like_std_and_inet_ntop() {
        let mut rng = fastrand::Rng::with_seed(5952);
        let mut out = Vec::new();
        for n in 0..200_000 {
            let groups: [u16; 8] = std::array::from_fn(|_| match rng.u8(..4) {
                0 | 1 => 0,
                2 => rng.u16(..16),
                _ => rng.u16(..),
            });
            let mut a = groups.iter().fold(0u128, |a, &g| a << 16 | g as u128);
            match n % 4 {
                0 => a &= u32::MAX as u128,                   // ::a.b.c.d and shorter
                1 => a = 0xffff_0000_0000 | a as u32 as u128, // ::ffff:a.b.c.d
                _ => {}
            }
            let len = rng.u8(..=128);
            let p = Prefix::containing(a, len);
            out.clear();
            Prefix::<u128>::write_text(&mut out, p);
            let text = std::str::from_utf8(&out).unwrap();
            assert_eq!(text.parse::<Prefix<u128>>(), Ok(p), "{text}");
            let addr = p.addr();
            let compatible = addr >> 32 == 0 && addr >> 16 != 0;
            if compatible {
                let v4 = std::net::Ipv4Addr::from(addr as u32);
                assert_eq!(text, format!("::{v4}/{len}"));
            } else {
                assert_eq!(text, p.to_string());
            }
        }
    }

    /// Many blocks formatted on several threads come out in order, as one thread writes them.
    #[test]
    fn parallel_writing_keeps_the_order() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut lo = 0u32;
        let ranges: Vec<(u32, u32)> = (0..200_000)
            .map(|_| {
                let start = lo + rng.u32(2..1000);
                lo = start + rng.u32(0..1000);
                (start, lo)
            })
            .collect();
        let set = IntervalSet::from_sorted_disjoint(ranges.clone());
        let mut want = Vec::new();
        set.for_each_prefix(|p| {
            Prefix::<u32>::write_text(&mut want, p);
            want.push(b'\n');
        });
        let mut got = Vec::new();
        write_prefixes(&ranges, Prefix::<u32>::write_text, &mut got).unwrap();
        assert!(got == want, "the parallel output differs");
    }

    #[test]
    fn writes_like_display() {
        for t in ["0.0.0.0/0", "10.20.255.9/32", "192.168.100.0/22"] {
            let p: Prefix<u32> = t.parse().unwrap();
            let mut out = Vec::new();
            Prefix::<u32>::write_text(&mut out, p);
            assert_eq!(String::from_utf8(out).unwrap(), t);
        }
    }

    #[test]
    fn parallel_parse_equals_serial_with_line_numbers() {
        let mut text = String::new();
        let mut rng = fastrand::Rng::with_seed(7);
        for i in 0..200_000u32 {
            match i % 5000 {
                17 => text.push_str("not-a-prefix\n"),
                18 => text.push_str("# comment\n\n"),
                _ => text.push_str(&format!(
                    "{}/{}\n",
                    std::net::Ipv4Addr::from(rng.u32(..) & !0xff),
                    24
                )),
            }
        }
        text.push_str("2001:db8::/32\n10.0.0.1"); // no final newline
        let serial: Vec<String> = {
            let mut c = Collector::with_capacity(0);
            for l in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                c.add_line(l.as_bytes(), &mut |_, _| {});
            }
            sets(&c)
                .0
                .to_prefixes()
                .iter()
                .map(|p| p.to_string())
                .collect()
        };
        for threads in [1, 2, 3] {
            let p = parse_parallel(text.as_bytes(), threads, None).unwrap();
            assert_eq!(p.bad.len(), 40);
            assert_eq!(p.bad[0].line, 18);
            assert_eq!(
                p.bad[1].line, 5019,
                "comment and blank lines count as lines"
            );
            assert_eq!(p.lines, 200_000 + 40 + 2);
            let (v4, v6) = p.into_sets();
            let got: Vec<String> = v4.to_prefixes().iter().map(|p| p.to_string()).collect();
            assert_eq!(got, serial, "threads {threads}");
            assert_eq!(v6.count(), 1 << 96);
        }
    }

    /// Any number of workers' runs merge to what sorting all their ranges together gives.
    #[test]
    fn runs_merge_like_one_sort() {
        let mut rng = fastrand::Rng::with_seed(3);
        for workers in 0..6 {
            // Overlapping runs, as workers make them, or runs that follow each other in order
            // (apart from where they meet), as the buckets make them.
            let consecutive = rng.bool();
            let runs: Vec<Vec<(u32, u32)>> = (0..workers)
                .map(|w| {
                    let base = if consecutive { w * 1000 } else { 0 };
                    let mut ranges: Vec<(u32, u32)> = (0..rng.usize(0..300))
                        .map(|_| {
                            let lo = base + rng.u32(..1000);
                            // Now and then a long range that reaches into the next run.
                            let reach = if rng.u8(..50) == 0 { 3000 } else { 20 };
                            (lo, lo + rng.u32(..reach))
                        })
                        .collect();
                    sort_and_coalesce(&mut ranges);
                    ranges
                })
                .collect();
            let all: Vec<(u32, u32)> = runs.iter().flatten().copied().collect();
            let parsed = Parsed {
                v4_runs: runs,
                ..Parsed::default()
            };
            let (v4, _) = parsed.into_sets();
            assert_eq!(v4, IntervalSet::from_ranges(all), "{workers}");
        }
    }

    #[test]
    fn collects_and_merges() {
        let mut c = Collector::with_capacity(0);
        for l in [
            "10.0.0.0/25",
            "10.0.0.128/25",
            "10.0.0.7",
            "2001:db8::/33",
            "2001:db8:8000::/33",
        ] {
            c.add_line(l.as_bytes(), &mut |t, e| panic!("{t:?}: {e}"));
        }
        let mut bad = 0;
        c.add_line(b"10.0.0.1/8", &mut |_, _| bad += 1);
        assert_eq!(bad, 1);
        let (v4, v6) = sets(&c);
        let v4: Vec<String> = v4.to_prefixes().iter().map(|p| p.to_string()).collect();
        assert_eq!(v4, ["10.0.0.0/24"]);
        let v6: Vec<String> = v6.to_prefixes().iter().map(|p| p.to_string()).collect();
        assert_eq!(v6, ["2001:db8::/32"]);
    }
}
