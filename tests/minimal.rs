//! Proof that the planners are optimal: exhaustive search on every labelling of a small block,
//! and property tests on random instances, each plan confirmed by the independent checker.

use proptest::prelude::*;
use tagroute::prefix::{
    Addr, Hop, Intent, IntervalSet, Prefix, aggregate, check, minimize, minimize_within,
};

/// Labels of the 8 addresses of a /29: 0 in, 1 out, 2 slack.
type Labels = [u8; 8];

/// For every forwarding of the 8 addresses (bit i set: address i goes In), the fewest routes
/// that produce it, over every table of routes at prefixes inside the /29 (routes outside it
/// cannot help: everything outside must take the default route). Tables are enumerated whole,
/// 3^15 of them, by assigning none / In / Out to the 15 prefixes from short to long, so each
/// route overrides the less specific ones, exactly as longest-prefix match does.
fn brute_force(exceptions: bool) -> [u32; 256] {
    // The 15 prefixes of a /29 in order of length: (first address, size).
    let prefixes: Vec<(u8, u8)> = [8u8, 4, 2, 1]
        .iter()
        .flat_map(|&size| (0..8 / size).map(move |k| (k * size, size)))
        .collect();
    let mut best = [u32::MAX; 256];
    fn walk(
        i: usize,
        fwd: u8,
        routes: u32,
        prefixes: &[(u8, u8)],
        exceptions: bool,
        best: &mut [u32; 256],
    ) {
        if i == prefixes.len() {
            best[fwd as usize] = best[fwd as usize].min(routes);
            return;
        }
        let (first, size) = prefixes[i];
        let mask = (((1u16 << size) - 1) << first) as u8;
        walk(i + 1, fwd, routes, prefixes, exceptions, best);
        walk(i + 1, fwd | mask, routes + 1, prefixes, exceptions, best);
        if exceptions {
            walk(i + 1, fwd & !mask, routes + 1, prefixes, exceptions, best);
        }
    }
    walk(0, 0, 0, &prefixes, exceptions, &mut best);
    best
}

fn intent_of<A: Addr>(base: A, labels: &Labels) -> Intent<A> {
    let pick = |want: u8| {
        let hosts: Vec<Prefix<A>> = (0..8u128)
            .filter(|&i| labels[i as usize] == want)
            .map(|i| Prefix::host(A::from_u128(base.to_u128() + i)))
            .collect();
        IntervalSet::from_prefixes(&hosts)
    };
    Intent {
        inside: pick(0),
        slack: pick(2),
    }
}

/// The forwardings a labelling accepts, with their extra addresses.
fn compatible(labels: &Labels) -> impl Iterator<Item = (usize, u32)> + '_ {
    (0..256usize).filter_map(move |fwd| {
        let mut extra = 0;
        for (i, &l) in labels.iter().enumerate() {
            let sent_in = fwd >> i & 1 == 1;
            match (l, sent_in) {
                (0, false) | (1, true) => return None,
                (2, true) => extra += 1,
                _ => {}
            }
        }
        Some((fwd, extra))
    })
}

fn exhaustive<A: Addr>(base: A) {
    for exceptions in [false, true] {
        let best = brute_force(exceptions);
        for code in 0..3u32.pow(8) {
            let mut labels = [0u8; 8];
            let mut c = code;
            for l in labels.iter_mut() {
                *l = (c % 3) as u8;
                c /= 3;
            }
            let intent = intent_of(base, &labels);
            let options: Vec<(u32, u32)> = compatible(&labels)
                .map(|(f, e)| (best[f], e))
                .filter(|o| o.0 != u32::MAX)
                .collect();
            let (min_routes, min_extra) = options.iter().copied().min().unwrap();
            let t = minimize(&intent, exceptions);
            assert_eq!(
                (t.routes.len() as u32, t.extra),
                (min_routes, min_extra as u128),
                "{labels:?} exceptions={exceptions}"
            );
            assert_eq!(check(&intent, &t.routes), Ok(t.extra), "{labels:?}");
            for budget in 0..=5usize {
                let want = options
                    .iter()
                    .filter(|o| o.0 as usize <= budget)
                    .map(|o| o.1)
                    .min();
                match (minimize_within(&intent, exceptions, budget), want) {
                    (Ok(t), Some(e)) => {
                        assert!(t.routes.len() <= budget, "{labels:?} budget {budget}");
                        assert_eq!(
                            t.extra, e as u128,
                            "{labels:?} budget {budget} exceptions={exceptions}"
                        );
                        assert_eq!(check(&intent, &t.routes), Ok(t.extra));
                    }
                    (Err(n), None) => assert_eq!(n, min_routes as u64, "{labels:?}"),
                    (got, want) => panic!("{labels:?} budget {budget}: got {got:?}, want {want:?}"),
                }
            }
        }
    }
}

#[test]
fn exhaustive_ipv4_slash_29() {
    exhaustive(0x0a00_0008u32);
}

#[test]
fn exhaustive_ipv6_slash_125() {
    exhaustive((0x2001_0db8u128 << 96) | 0xff8);
}

fn prefixes_in_24(v: Vec<(u8, u8)>) -> Vec<Prefix<u32>> {
    v.into_iter()
        .map(|(off, len)| Prefix::containing(0xc000_0200 + off as u32, 24 + len % 9))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random intents in a /24: every plan passes the checker, exceptions never cost routes,
    /// exact planning without slack equals trie aggregation, budgets trade routes for extra
    /// addresses monotonically.
    #[test]
    fn plans_are_valid_and_ordered(inside in prop::collection::vec((any::<u8>(), any::<u8>()), 0..20),
                                   slack in prop::collection::vec((any::<u8>(), any::<u8>()), 0..6)) {
        let inside = prefixes_in_24(inside);
        let intent = Intent { inside: IntervalSet::from_prefixes(&inside), slack: IntervalSet::from_prefixes(&prefixes_in_24(slack)) };
        let plain = Intent { inside: intent.inside.clone(), slack: IntervalSet::new() };
        let exact = minimize(&plain, false);
        prop_assert_eq!(exact.routes.iter().map(|r| r.0).collect::<Vec<_>>(), aggregate(inside.iter().copied()));
        prop_assert!(exact.routes.iter().all(|r| r.1 == Hop::In));
        let lpm = minimize(&plain, true);
        prop_assert!(lpm.routes.len() <= exact.routes.len());
        prop_assert_eq!(check(&plain, &lpm.routes), Ok(0));
        let slack = minimize(&intent, true);
        prop_assert!(slack.routes.len() <= lpm.routes.len());
        prop_assert_eq!(check(&intent, &slack.routes), Ok(slack.extra));
        let mut last = u128::MAX;
        for n in slack.routes.len()..=lpm.routes.len() {
            let t = minimize_within(&intent, true, n).unwrap();
            prop_assert!(t.routes.len() <= n && t.extra <= last);
            prop_assert_eq!(check(&intent, &t.routes), Ok(t.extra));
            last = t.extra;
        }
        prop_assert_eq!(last, 0);
        if !slack.routes.is_empty() {
            prop_assert_eq!(minimize_within(&intent, true, slack.routes.len() - 1), Err(slack.routes.len() as u64));
        }
    }
}
