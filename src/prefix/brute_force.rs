//! Exhaustive proof on a block of 8 addresses (a /29, and a /125): for every labelling of the
//! block (in, out, slack), every set of service-tag prefixes drawn from three tags, and both
//! strategies, the planners' tables pass the checker and cost exactly what the cheapest table
//! found by brute force costs (every table of up to `K` explicit routes inside the block,
//! forwarded address by address).

use super::{
    Addr, Hop, Intent, IntervalSet, Prefix, check_with_tags, minimize_with_tags,
    minimize_within_tags,
};

/// The most explicit routes brute force tries.
pub(crate) const K: usize = 5;

/// The 15 prefixes inside the block, by (offset, length below the block's own length).
fn block_prefixes<A: Addr>(base: A) -> Vec<Prefix<A>> {
    let top = A::BITS - 3;
    let mut out = Vec::new();
    for extra in 0..=3u8 {
        for i in 0..(1u128 << extra) {
            let first = base.to_u128() + (i << (3 - extra));
            out.push(Prefix::containing(A::from_u128(first), top + extra));
        }
    }
    out
}

/// The addresses of the block (bit i = address base + i) that the table sends `In`.
fn forward<A: Addr>(base: A, tags: &[Prefix<A>], routes: &[(Prefix<A>, Hop)]) -> u8 {
    let mut mask = 0u8;
    for i in 0..8u128 {
        let addr = A::from_u128(base.to_u128() + i);
        // (length, explicit, hop); the default route is explicit and Out.
        let mut best = (0u8, true, Hop::Out);
        let candidates = tags
            .iter()
            .map(|&p| (p, false, Hop::In))
            .chain(routes.iter().map(|&(p, h)| (p, true, h)));
        for (p, explicit, hop) in candidates {
            if p.contains_addr(addr) && (p.len(), explicit) > (best.0, best.1) {
                best = (p.len(), explicit, hop);
            }
        }
        if best.2 == Hop::In {
            mask |= 1 << i;
        }
    }
    mask
}

/// Fewest explicit routes (up to `K`) that forward exactly each mask, next to `tags`.
pub(crate) fn cheapest<A: Addr>(base: A, tags: &[Prefix<A>], exceptions: bool) -> [usize; 256] {
    let prefixes = block_prefixes(base);
    let hops: &[Hop] = if exceptions {
        &[Hop::In, Hop::Out]
    } else {
        &[Hop::In]
    };
    let mut best = [usize::MAX; 256];
    let mut table = Vec::new();
    fn walk<A: Addr>(
        base: A,
        tags: &[Prefix<A>],
        prefixes: &[Prefix<A>],
        hops: &[Hop],
        from: usize,
        table: &mut Vec<(Prefix<A>, Hop)>,
        best: &mut [usize; 256],
    ) {
        let m = forward(base, tags, table) as usize;
        best[m] = best[m].min(table.len());
        if table.len() == K {
            return;
        }
        for i in from..prefixes.len() {
            for &h in hops {
                table.push((prefixes[i], h));
                walk(base, tags, prefixes, hops, i + 1, table, best);
                table.pop();
            }
        }
    }
    walk(base, tags, &prefixes, hops, 0, &mut table, &mut best);
    best
}

/// Runs every labelling whose index is a multiple of `stride`.
fn run<A: Addr>(base: A, stride: usize) {
    let top = A::BITS - 3;
    let at = |off: u128, len: u8| Prefix::containing(A::from_u128(base.to_u128() + off), len);
    let tags: [Vec<Prefix<A>>; 3] = [
        vec![at(0, top + 1)],
        vec![at(4, top + 2), at(7, top + 3)],
        vec![at(0, top), at(2, top + 3)],
    ];
    for chosen in 0..8u8 {
        let given: Vec<Prefix<A>> = (0..3)
            .filter(|t| chosen & (1 << t) != 0)
            .flat_map(|t| tags[t].iter().copied())
            .collect();
        for exceptions in [false, true] {
            let cheapest = cheapest(base, &given, exceptions);
            for labels in (0..3u32.pow(8)).step_by(stride) {
                let (inside, slack) = labelling(labels);
                check_one(base, &given, exceptions, &cheapest, inside, slack);
            }
        }
    }
}

/// Labelling number `n` (below 3^8) of the block's 8 addresses, as masks of the selected
/// and the slack ones (address i is digit i of `n` in base 3: 1 selected, 2 slack).
pub(crate) fn labelling(n: u32) -> (u8, u8) {
    let (mut inside, mut slack) = (0u8, 0u8);
    let mut l = n;
    for i in 0..8 {
        match l % 3 {
            1 => inside |= 1 << i,
            2 => slack |= 1 << i,
            _ => {}
        }
        l /= 3;
    }
    (inside, slack)
}

fn set_of<A: Addr>(base: A, mask: u8) -> IntervalSet<A> {
    IntervalSet::from_ranges(
        (0..8u128)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| {
                let a = A::from_u128(base.to_u128() + i);
                (a, a)
            })
            .collect(),
    )
}

fn check_one<A: Addr>(
    base: A,
    given: &[Prefix<A>],
    exceptions: bool,
    cheapest: &[usize; 256],
    inside: u8,
    slack: u8,
) {
    let intent = Intent {
        inside: set_of(base, inside),
        slack: set_of(base, slack),
    };
    // Brute force: (routes, extra) over every acceptable forwarding.
    let acceptable = (0..=255u8).filter(|m| m & inside == inside && m & !(inside | slack) == 0);
    let brute = acceptable
        .clone()
        .filter(|&m| cheapest[m as usize] != usize::MAX)
        .map(|m| (cheapest[m as usize], (m & !inside).count_ones() as u128))
        .min();
    let what = format!("in {inside:08b} slack {slack:08b} tags {given:?} lpm {exceptions}");
    let fewest = brute.map_or(K, |b| b.0);
    match minimize_with_tags(&intent, exceptions, given) {
        None => assert_eq!(brute, None, "{what}"),
        Some(t) => {
            let extra = check_with_tags(&intent, given, &t.routes).expect(&what);
            assert_eq!(extra, t.extra, "{what}");
            if t.routes.len() <= K {
                assert_eq!(brute, Some((t.routes.len(), t.extra)), "{what}");
            } else {
                assert!(brute.is_none(), "{what}");
            }
        }
    }
    // The budget: for each route count from one short of the fewest, the fewest extra
    // addresses (below that, none; above K, brute force knows nothing).
    for n in fewest.saturating_sub(1)..=K {
        let brute = acceptable
            .clone()
            .filter(|&m| cheapest[m as usize] <= n)
            .map(|m| (m & !inside).count_ones() as u128)
            .min();
        match minimize_within_tags(&intent, exceptions, n, given) {
            Ok(t) => {
                assert!(t.routes.len() <= n, "{what} budget {n}");
                let extra = check_with_tags(&intent, given, &t.routes).expect(&what);
                assert_eq!((Some(extra), extra), (brute, t.extra), "{what} budget {n}");
            }
            Err(_) => assert_eq!(brute, None, "{what} budget {n}"),
        }
    }
}

#[test]
fn a_slash_29_with_tag_routes() {
    run::<u32>(0x0a00_0008, 1);
}

/// The same at the far end of the address width, on every fifth labelling.
#[test]
fn a_slash_125_with_tag_routes() {
    run::<u128>(0x2001_0db8_u128 << 96 | 0x10, 5);
}
