//! Longest-prefix-match forwarding of a route list, as disjoint address ranges.
//!
//! Given routes (prefix, label), [`lpm_segments`] returns for every routed address the label of the
//! route that wins by longest prefix match, as sorted disjoint ranges. Prefixes either nest or are
//! disjoint, so one sweep in depth-first order with a stack of open prefixes finds every winner in
//! O(n log n): between two boundaries the innermost open prefix wins. For two routes with the same
//! prefix the later one in the input wins, which lets callers encode Azure's tie-breaking by order.
//!
//! This is interval arithmetic, not the trie: it is the independent forwarding model that diff's
//! conflict analysis and the planners' checkers rely on.

use super::addr::Addr;
use super::interval::IntervalSet;
use super::net::Prefix;

/// The winning label of every routed address, as sorted, disjoint inclusive ranges.
pub fn lpm_segments<A: Addr, L: Copy>(routes: &[(Prefix<A>, L)]) -> Vec<(A, A, L)> {
    let mut order: Vec<usize> = (0..routes.len()).collect();
    order.sort_by_key(|&i| (routes[i].0.first(), routes[i].0.len())); // stable: later wins ties
    let mut out: Vec<(A, A, L)> = Vec::new();
    let mut stack: Vec<(u128, L)> = Vec::new(); // (last address, label) of open prefixes
    let mut pos: Option<u128> = Some(0); // first address not yet assigned; None past the end
    let emit = |out: &mut Vec<(A, A, L)>, pos: &mut Option<u128>, end: u128, label: L| {
        if let Some(p) = *pos
            && p <= end
        {
            out.push((A::from_u128(p), A::from_u128(end), label));
            *pos = end.checked_add(1);
        }
    };
    for &i in &order {
        let (prefix, label) = routes[i];
        let start = prefix.first().to_u128();
        while let Some(&(end, top)) = stack.last() {
            if end >= start {
                break;
            }
            emit(&mut out, &mut pos, end, top);
            stack.pop();
        }
        match stack.last() {
            Some(&(_, top)) if start > 0 => emit(&mut out, &mut pos, start - 1, top),
            _ => {}
        }
        if pos.is_some_and(|p| p < start) {
            pos = Some(start); // a gap no route covers
        }
        stack.push((prefix.last().to_u128(), label));
    }
    while let Some((end, top)) = stack.pop() {
        emit(&mut out, &mut pos, end, top);
    }
    out
}

/// The addresses whose winning label satisfies `pred`.
pub(crate) fn forwarded_where<A: Addr, L: Copy>(
    segments: &[(A, A, L)],
    pred: impl Fn(L) -> bool,
) -> IntervalSet<A> {
    IntervalSet::from_ranges(
        segments
            .iter()
            .filter(|s| pred(s.2))
            .map(|s| (s.0, s.1))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: &str) -> Prefix<u32> {
        t.parse().unwrap()
    }

    /// Brute force over a /24: the winner at each address by scanning every route.
    fn brute(routes: &[(Prefix<u32>, usize)], base: u32) -> Vec<Option<usize>> {
        (0..256u32)
            .map(|a| {
                let mut best: Option<(u8, usize, usize)> = None; // (len, position, label)
                for (pos, &(pr, l)) in routes.iter().enumerate() {
                    if pr.contains_addr(base + a)
                        && best.is_none_or(|(bl, bp, _)| (pr.len(), pos) > (bl, bp))
                    {
                        best = Some((pr.len(), pos, l));
                    }
                }
                best.map(|b| b.2)
            })
            .collect()
    }

    fn expand(segs: &[(u32, u32, usize)], base: u32) -> Vec<Option<usize>> {
        (0..256u32)
            .map(|a| {
                segs.iter()
                    .find(|s| s.0 <= base + a && base + a <= s.1)
                    .map(|s| s.2)
            })
            .collect()
    }

    #[test]
    fn nested_routes() {
        let routes = [
            (p("10.0.0.0/24"), 0),
            (p("10.0.0.64/26"), 1),
            (p("10.0.0.80/28"), 2),
            (p("10.0.0.200/32"), 3),
        ];
        let segs = lpm_segments(&routes);
        assert_eq!(expand(&segs, 0x0a00_0000), brute(&routes, 0x0a00_0000));
        assert_eq!(segs.len(), 7); // 0-63, 64-79, 80-95, 96-127, 128-199, 200, 201-255
    }

    #[test]
    fn whole_space_and_ties() {
        let routes = [
            (p("0.0.0.0/0"), 0),
            (p("0.0.0.0/0"), 1),
            (p("255.255.255.255/32"), 2),
        ];
        let segs = lpm_segments(&routes);
        assert_eq!(segs, [(0, u32::MAX - 1, 1), (u32::MAX, u32::MAX, 2)]);
        let v6: Vec<(Prefix<u128>, u8)> = vec![("::/0".parse().unwrap(), 7)];
        assert_eq!(lpm_segments(&v6), [(0, u128::MAX, 7)]);
    }

    /// Every route list of up to 4 prefixes inside a /26 of a /24, compared with brute force.
    #[test]
    fn exhaustive_small_tables() {
        let base = 0x0a00_0000u32;
        let all: Vec<Prefix<u32>> = (24..=28u8)
            .flat_map(|len| {
                (0..(1u32 << (len - 24)))
                    .map(move |k| Prefix::containing(base + (k << (32 - len)), len))
            })
            .collect();
        let n = all.len();
        let mut checked = 0;
        for a in 0..n {
            for b in a..n {
                for c in b..n.min(b + 9) {
                    let routes = [(all[a], 0usize), (all[b], 1), (all[c], 2)];
                    assert_eq!(
                        expand(&lpm_segments(&routes), base),
                        brute(&routes, base),
                        "{routes:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 3000);
    }
}
