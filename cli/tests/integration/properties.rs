//! Property tests of the prefix engine against the interval reference: aggregation keeps exactly
//! the same addresses, and its output is sorted, disjoint and has no two mergeable siblings.

use proptest::prelude::*;
use tagroute::prefix::{Addr, IntervalSet, Prefix, aggregate};

/// Prefixes packed into a small region of the space so that overlaps and adjacency are common,
/// plus the occasional short prefix (down to /0) anywhere.
fn prefixes<A: Addr>(base: u128, span_bits: u8) -> impl Strategy<Value = Vec<Prefix<A>>> {
    let near = (0..(1u128 << span_bits), (A::BITS - span_bits)..=A::BITS)
        .prop_map(move |(off, len)| Prefix::containing(A::from_u128(base + off), len));
    let far = (any::<u128>(), 0..=A::BITS).prop_map(|(a, len)| {
        let a = if A::BITS == 32 {
            a & u32::MAX as u128
        } else {
            a
        };
        Prefix::containing(A::from_u128(a), len)
    });
    prop::collection::vec(prop_oneof![8 => near, 1 => far], 0..60)
}

fn check<A: Addr>(input: &[Prefix<A>]) -> Result<(), TestCaseError> {
    let out = aggregate(input.iter().copied());
    prop_assert_eq!(
        IntervalSet::from_prefixes(&out),
        IntervalSet::from_prefixes(input),
        "address set changed"
    );
    for w in out.windows(2) {
        prop_assert!(
            w[0].last() < w[1].first(),
            "overlap or disorder: {} {}",
            w[0],
            w[1]
        );
        let mergeable = w[0].len() == w[1].len()
            && w[0].len() > 0
            && Prefix::containing(w[0].first(), w[0].len() - 1).contains(w[1]);
        prop_assert!(!mergeable, "{} and {} could merge", w[0], w[1]);
    }
    // The canonical decomposition is the unique minimum; the independent one must agree.
    prop_assert_eq!(out, IntervalSet::from_prefixes(input).to_prefixes());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ipv4_aggregation_is_exact_and_minimal(input in prefixes::<u32>(0x0a00_0000, 12)) {
        check(&input)?;
    }

    #[test]
    fn ipv6_aggregation_is_exact_and_minimal(input in prefixes::<u128>(0x2001_0db8u128 << 96, 12)) {
        check(&input)?;
    }

    #[test]
    fn ipv6_edges(input in prefixes::<u128>(u128::MAX - 4095, 12)) {
        check(&input)?;
    }

    #[test]
    fn set_algebra_agrees_with_membership(a in prefixes::<u32>(0, 8), b in prefixes::<u32>(0, 8), probe in 0u32..512) {
        let (sa, sb) = (IntervalSet::from_prefixes(&a), IntervalSet::from_prefixes(&b));
        let (ia, ib) = (sa.contains(probe), sb.contains(probe));
        prop_assert_eq!(sa.union(&sb).contains(probe), ia || ib);
        prop_assert_eq!(sa.intersect(&sb).contains(probe), ia && ib);
        prop_assert_eq!(sa.subtract(&sb).contains(probe), ia && !ib);
        prop_assert_eq!(sa.subtract(&sb).count() + sa.intersect(&sb).count(), sa.count());
    }
}

/// A prefix list as text: IPv4 and IPv6 mixed, duplicates, overlaps, adjacency, bare addresses,
/// comments, blank lines, CRLF, and the extremes /0, /32 and /128.
fn prefix_text() -> impl Strategy<Value = (String, Vec<Prefix<u32>>, Vec<Prefix<u128>>)> {
    let v4 = prop_oneof![
        (0u32..4096, 20u8..=32).prop_map(|(a, l)| Prefix::containing(0x0a00_0000 + (a << 8), l)),
        (any::<u32>(), 0u8..=32).prop_map(|(a, l)| Prefix::containing(a, l)),
        Just(Prefix::containing(0u32, 0)),
        any::<u32>().prop_map(Prefix::host),
    ];
    let v6 = prop_oneof![
        (0u128..4096, 100u8..=128)
            .prop_map(|(a, l)| Prefix::containing((0x2001_0db8u128 << 96) + (a << 16), l)),
        Just(Prefix::containing(u128::MAX, 128)),
        Just(Prefix::containing(0u128, 0)),
    ];
    (
        prop::collection::vec(v4, 0..80),
        prop::collection::vec(v6, 0..20),
        any::<u64>(),
    )
        .prop_map(|(v4, v6, seed)| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut lines: Vec<String> = v4
                .iter()
                .map(|p| {
                    if p.len() == 32 && rng.bool() {
                        std::net::Ipv4Addr::from(p.addr()).to_string()
                    } else {
                        p.to_string()
                    }
                })
                .chain(v6.iter().map(|p| p.to_string()))
                .collect();
            lines.extend([
                "# comment".into(),
                String::new(),
                "  10.1.2.0/24  # trailing".into(),
            ]);
            rng.shuffle(&mut lines);
            let crlf = rng.bool();
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let mut v4 = v4;
            v4.push("10.1.2.0/24".parse().unwrap());
            (text, v4, v6)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The parallel bulk path (fast IPv4 parser, per-worker sort and coalesce, merge) equals the
    /// interval reference, for any number of workers.
    #[test]
    fn bulk_aggregation_equals_the_reference((text, v4, v6) in prefix_text(), threads in 1usize..4) {
        let parsed = tagroute::internals::parse_parallel(text.as_bytes(), threads, None).unwrap();
        prop_assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
        let (got4, got6) = parsed.into_sets();
        prop_assert_eq!(got4, IntervalSet::from_prefixes(&v4));
        prop_assert_eq!(got6, IntervalSet::from_prefixes(&v6));
        prop_assert_eq!(aggregate(v4.iter().copied()), IntervalSet::from_prefixes(&v4).to_prefixes());
    }
}

/// A long prefix list crowded into a few /8s (so buckets take the radix sort, not the comparison
/// sort for short ones), with short prefixes that span buckets and the /0.
fn dense_prefix_text() -> impl Strategy<Value = (String, Vec<Prefix<u32>>)> {
    (1500usize..5000, 1u32..4, any::<u64>()).prop_map(|(n, octets, seed)| {
        let mut rng = fastrand::Rng::with_seed(seed);
        let v4: Vec<Prefix<u32>> = (0..n)
            .map(|_| match rng.u8(..100) {
                0 => Prefix::containing(rng.u32(..), rng.u8(..=8)),
                _ => {
                    let top = 10 + rng.u32(..octets);
                    Prefix::containing(top << 24 | rng.u32(..1 << 24), rng.u8(12..=32))
                }
            })
            .collect();
        let text = v4.iter().map(|p| format!("{p}\n")).collect();
        (text, v4)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn bulk_aggregation_of_dense_lists_equals_the_reference((text, v4) in dense_prefix_text(), threads in 1usize..4) {
        let parsed = tagroute::internals::parse_parallel(text.as_bytes(), threads, None).unwrap();
        prop_assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
        prop_assert_eq!(parsed.into_sets().0, IntervalSet::from_prefixes(&v4));
    }
}

/// The reference for the fast line parsers: the strict parser, as a range.
fn reference_range(text: &str) -> Option<(u128, u128)> {
    match tagroute::prefix::IpPrefix::parse_or_host(text).ok()? {
        tagroute::prefix::IpPrefix::V4(p) => Some((p.first() as u128, p.last() as u128)),
        tagroute::prefix::IpPrefix::V6(p) => Some((p.first(), p.last())),
    }
}

/// Half the time, `text` with one character inserted, deleted or replaced by one of `noise`.
fn near_miss(text: String, noise: &[u8], rng: &mut fastrand::Rng) -> String {
    let mut bytes = text.into_bytes();
    match rng.u8(..6) {
        0 if !bytes.is_empty() => {
            bytes.remove(rng.usize(..bytes.len()));
        }
        1 => bytes.insert(rng.usize(..=bytes.len()), noise[rng.usize(..noise.len())]),
        2 if !bytes.is_empty() => {
            let at = rng.usize(..bytes.len());
            bytes[at] = noise[rng.usize(..noise.len())];
        }
        _ => {}
    }
    String::from_utf8(bytes).unwrap()
}

/// IPv6 text as people write it: each group minimal, zero-padded or upper case, any run of zero
/// groups (not only the longest) compressed to `::`, a length or none; and half the time one
/// character inserted, deleted or replaced, so that near misses are parsed too.
fn v6_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop_oneof![4 => Just(0u16), 1 => 0u16..16, 2 => any::<u16>()],
            8,
        ),
        prop::option::of(0u8..=130),
        any::<u64>(),
    )
        .prop_map(|(groups, len, seed)| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let text: Vec<String> = groups
                .iter()
                .map(|g| match rng.u8(..3) {
                    0 => format!("{g:x}"),
                    1 => format!("{g:04x}"),
                    _ => format!("{g:X}"),
                })
                .collect();
            let zero_runs: Vec<(usize, usize)> = (0..8)
                .flat_map(|a| (a + 1..=8).map(move |b| (a, b)))
                .filter(|&(a, b)| groups[a..b].iter().all(|&g| g == 0))
                .collect();
            let mut s = match rng.choice(&zero_runs) {
                Some(&(a, b)) if rng.bool() => {
                    format!("{}::{}", text[..a].join(":"), text[b..].join(":"))
                }
                _ => text.join(":"),
            };
            if let Some(len) = len {
                s.push_str(&format!("/{len}"));
            }
            near_miss(s, b"0aF:/.g ", &mut rng)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The hand-written IPv6 parser never disagrees with the strict parser, and takes every
    /// address the strict parser takes but for embedded IPv4 and unusual length spellings.
    #[test]
    fn fast_ipv6_parser_agrees_with_the_strict_parser(text in v6_text()) {
        let fast = tagroute::internals::parse_v6_range(text.as_bytes());
        let strict = reference_range(&text).filter(|_| text.contains(':'));
        if fast.is_some() {
            prop_assert_eq!(fast, strict, "{}", text);
        }
        let plain_len = text.split_once('/').is_none_or(|(_, l)| (1..=3).contains(&l.len()));
        if strict.is_some() && !text.contains('.') && plain_len {
            prop_assert!(fast.is_some(), "{} should take the fast path", text);
        }
    }
}

/// IPv4 text as people write it and near misses: octets of any value (sometimes zero-padded,
/// which the strict parser refuses), a length of one to three digits or none, and half the time
/// one character inserted, deleted or replaced.
fn v4_text() -> impl Strategy<Value = String> {
    (
        prop::array::uniform4(prop_oneof![2 => 0u16..10, 1 => 10u16..100, 3 => 100u16..300]),
        prop::option::of(0u8..=40),
        any::<u64>(),
    )
        .prop_map(|(octets, len, seed)| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let text: Vec<String> = octets
                .iter()
                .map(|o| match rng.u8(..8) {
                    0 => format!("{o:03}"),
                    _ => o.to_string(),
                })
                .collect();
            let mut s = text.join(".");
            if let Some(len) = len {
                s.push_str(&if rng.u8(..8) == 0 {
                    format!("/{len:03}")
                } else {
                    format!("/{len}")
                });
            }
            near_miss(s, b"09./a: \0", &mut rng)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The word-at-a-time IPv4 parser never disagrees with the strict parser, and takes every
    /// IPv4 address or prefix the strict parser takes.
    #[test]
    fn fast_ipv4_parser_agrees_with_the_strict_parser(text in v4_text()) {
        let fast = tagroute::internals::parse_v4_range(text.as_bytes())
            .map(|(lo, hi)| (lo as u128, hi as u128));
        let strict = reference_range(&text).filter(|_| !text.contains(':'));
        if fast.is_some() {
            prop_assert_eq!(fast, strict, "{}", text);
        }
        // A length of four or more digits (leading zeros, which the strict parser takes like
        // Python's ipaddress) is left to the strict parser the collector falls back to.
        let long_len = text.rsplit_once('/').is_some_and(|(_, len)| len.len() > 3);
        if strict.is_some() && !long_len {
            prop_assert!(fast.is_some(), "{} should take the fast path", text);
        }
    }
}
