//! Provably minimal route tables under longest-prefix match, by dynamic programming on the trie.
//!
//! The intent labels every address: **in** (must reach the first next hop, Internet), **out**
//! (must take the table's default route), or **don't care** (slack: either is acceptable, but each
//! such address sent "in" counts as one *extra* address). The address space is cut into a binary
//! trie until every leaf is uniformly labelled; an optimal table only ever needs routes at trie
//! nodes (a route strictly inside a uniform leaf can be moved up to the leaf at no cost).
//!
//! For each node `v` and the next hop `h` inherited from the nearest route above it, the
//! programs compute the cheapest way to forward `v`'s addresses correctly:
//! - [`minimize`](super::minimize): lexicographic (routes, extra addresses), linear in the trie. With `exceptions`
//!   routes may send addresses back "out" (the ORTC idea: a covering route plus exceptions);
//!   without, only "in" routes are allowed (exact aggregation, plus slack).
//! - [`minimize_within`](super::minimize_within): a tree knapsack over route counts: the fewest extra addresses with at
//!   most `N` routes, O(n·N). Arrays are cut at the count beyond which no node can improve.
//!
//! The table's own default route is never replaced: no route is placed at the root, so the plan
//! can be added next to the `0.0.0.0/0` route that forced tunneling already has.
//!
//! Service-tag routes are given, not chosen here: the `_with_tags` forms take the prefixes that
//! tag routes already send `In`. The trie is cut so that each of them is a node; at such a node the
//! hop below turns `In` unless an explicit route sits at the very same prefix (Azure: on an exact
//! tie an explicit prefix beats a service-tag route), so an exception there costs one route and an
//! `In` route there is never worth one.

use super::addr::Addr;
use super::interval::IntervalSet;
use super::net::Prefix;

/// Where a route sends its addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hop {
    /// The planned next hop (Internet).
    In,
    /// The table's default next hop (the firewall or gateway).
    Out,
}

impl Hop {
    pub(super) fn idx(self) -> usize {
        self as usize
    }
    pub(super) fn other(self) -> Hop {
        match self {
            Hop::In => Hop::Out,
            Hop::Out => Hop::In,
        }
    }
}

/// What must go where.
#[derive(Clone, Debug)]
pub struct Intent<A: Addr> {
    /// Addresses that must go `In`.
    pub inside: IntervalSet<A>,
    /// Addresses that may go either way (overlap with `inside` is ignored).
    pub slack: IntervalSet<A>,
}

/// A planned table: routes (never at the root) and the extra addresses it sends `In`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table<A: Addr> {
    pub routes: Vec<(Prefix<A>, Hop)>,
    pub extra: u128,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Label {
    In,
    Out,
    Slack,
}

pub(super) struct Node<A: Addr> {
    pub prefix: Prefix<A>,
    /// Children, or `None` for a uniformly labelled leaf.
    pub kids: Option<[usize; 2]>,
    label: Label,
}

/// The hop below a node when no explicit route sits on it, given the hop `h` above: `In` at a
/// node that a service-tag route has exactly.
pub(super) fn stay(tagged: bool, h: Hop) -> Hop {
    if tagged { Hop::In } else { h }
}

/// The labelled trie; nodes are stored parents first, so a reverse scan visits children first.
pub(super) struct Trie<A: Addr> {
    pub nodes: Vec<Node<A>>,
}

impl<A: Addr> Trie<A> {
    /// The trie of `intent`, cut further so that every prefix of `tags` is a node.
    pub fn build(intent: &Intent<A>, tags: &[Prefix<A>]) -> Self {
        let ranges = labelled_ranges(intent);
        let tags = sorted(tags);
        let mut trie = Trie { nodes: Vec::new() };
        let root = Prefix::containing(A::ZERO, 0);
        trie.nodes.push(Node {
            prefix: root,
            kids: None,
            label: Label::Out,
        });
        let halves = root.children().expect("the root has children");
        let left = trie.grow(halves[0], &ranges, 0, &tags);
        let right_start = ranges.partition_point(|r| r.1 < halves[1].first().to_u128());
        let right = trie.grow(halves[1], &ranges, right_start, &tags);
        trie.nodes[0].kids = Some([left, right]);
        trie
    }

    /// Adds the subtree of `prefix`; `i` is the index of the range holding its first address.
    /// `tags` is sorted by first address, then length.
    fn grow(
        &mut self,
        prefix: Prefix<A>,
        ranges: &[(u128, u128, Label)],
        i: usize,
        tags: &[Prefix<A>],
    ) -> usize {
        let me = self.nodes.len();
        let (_, hi, label) = ranges[i];
        // Tag prefixes starting inside this one: those that contain it start at its first
        // address and are at most one per length, so the scan is short.
        let from = tags.partition_point(|t| t.first() < prefix.first());
        let within = tags[from..]
            .iter()
            .take_while(|t| t.first() <= prefix.last());
        let tag_inside = within.into_iter().any(|t| t.len() > prefix.len());
        self.nodes.push(Node {
            prefix,
            kids: None,
            label,
        });
        if hi >= prefix.last().to_u128() && !tag_inside {
            return me;
        }
        let [l, r] = prefix.children().expect("a host prefix is always uniform");
        let left = self.grow(l, ranges, i, tags);
        let j = i + ranges[i..].partition_point(|x| x.1 < r.first().to_u128());
        let right = self.grow(r, ranges, j, tags);
        self.nodes[me].kids = Some([left, right]);
        me
    }

    /// The nodes of `prefixes` (each a node of this trie), sorted by prefix.
    pub(crate) fn nodes_of(&self, prefixes: &[Prefix<A>]) -> Vec<(Prefix<A>, usize)> {
        let prefixes = sorted(prefixes);
        let mut found: Vec<(Prefix<A>, usize)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| prefixes.binary_search_by_key(&key(&n.prefix), key).is_ok())
            .map(|(v, n)| (n.prefix, v))
            .collect();
        found.sort_unstable_by_key(|(p, _)| key(p));
        found
    }
}

pub(super) fn key<A: Addr>(p: &Prefix<A>) -> (A, u8) {
    (p.first(), p.len())
}

/// Prefixes sorted by first address, then length, without repeats.
fn sorted<A: Addr>(prefixes: &[Prefix<A>]) -> Vec<Prefix<A>> {
    let mut out = prefixes.to_vec();
    out.sort_unstable_by_key(|p| (p.first(), p.len()));
    out.dedup();
    out
}

/// The whole space as sorted, disjoint ranges labelled in / out / slack.
fn labelled_ranges<A: Addr>(intent: &Intent<A>) -> Vec<(u128, u128, Label)> {
    let slack = intent.slack.subtract(&intent.inside);
    let mut marked: Vec<(u128, u128, Label)> = intent
        .inside
        .ranges()
        .iter()
        .map(|r| (r.0.to_u128(), r.1.to_u128(), Label::In))
        .chain(
            slack
                .ranges()
                .iter()
                .map(|r| (r.0.to_u128(), r.1.to_u128(), Label::Slack)),
        )
        .collect();
    marked.sort_unstable_by_key(|r| r.0);
    let mut out = Vec::with_capacity(marked.len() * 2 + 1);
    let mut pos: Option<u128> = Some(0);
    for (lo, hi, label) in marked {
        if let Some(p) = pos
            && p < lo
        {
            out.push((p, lo - 1, Label::Out));
        }
        out.push((lo, hi, label));
        pos = hi.checked_add(1);
    }
    if let Some(p) = pos {
        out.push((p, A::MAX.to_u128(), Label::Out));
    }
    out
}

pub(super) const INF: u128 = u128::MAX;

pub(super) fn add(a: u128, b: u128) -> u128 {
    if a == INF || b == INF {
        INF
    } else {
        a.saturating_add(b).min(INF - 1)
    }
}

/// (routes, extra) ordered lexicographically; `routes == u64::MAX` is infeasible.
pub(super) type Cost = (u64, u128);
pub(super) const NO: Cost = (u64::MAX, INF);

fn plus(a: Cost, b: Cost) -> Cost {
    if a.0 == u64::MAX || b.0 == u64::MAX {
        NO
    } else {
        (a.0 + b.0, add(a.1, b.1))
    }
}

/// Cost of a uniform leaf when it inherits `h` and takes no route, and the route that fixes it.
pub(super) fn leaf_cost<A: Addr>(
    node: &Node<A>,
    h: Hop,
    exceptions: bool,
    slack: bool,
) -> (Cost, Option<Hop>) {
    let label = if node.label == Label::Slack && !slack {
        Label::Out
    } else {
        node.label
    };
    match (label, h) {
        (Label::In, Hop::In) | (Label::Out | Label::Slack, Hop::Out) => ((0, 0), None),
        (Label::In, Hop::Out) => ((1, 0), Some(Hop::In)),
        (Label::Out, Hop::In) if exceptions => ((1, 0), Some(Hop::Out)),
        (Label::Out, Hop::In) => (NO, None),
        (Label::Slack, Hop::In) => ((0, node.prefix.size()), None),
    }
}

/// One node's values in the lexicographic program: for each inherited hop (indexed by
/// `Hop::idx`), the best cost and the route placed on the node.
pub(super) type LexVal = [(Cost, Option<Hop>); 2];

/// Where a node stands in a program: whether it is the root (never routed), whether a tag route
/// has its prefix (`tagged`), and whether it is *free* (`zero`): a relaxation for bounds, where
/// the node costs nothing when it inherits `Out` (a tag route that may yet be chosen could take
/// it `In`; no choice costs less than nothing).
#[derive(Clone, Copy)]
pub(super) struct At {
    pub root: bool,
    pub tagged: bool,
    pub zero: bool,
}

/// The lexicographic program at one node, from its children's values.
pub(super) fn lex_node<A: Addr>(
    node: &Node<A>,
    at: At,
    kids: Option<[LexVal; 2]>,
    exceptions: bool,
    slack: bool,
) -> LexVal {
    let mut out = [(NO, None); 2];
    for h in [Hop::In, Hop::Out] {
        let below = stay(at.tagged, h);
        out[h.idx()] = if at.zero && below == Hop::Out {
            ((0, 0), None)
        } else {
            match kids {
                None => leaf_cost(node, below, exceptions, slack),
                Some([l, r]) => {
                    let stay = plus(l[below.idx()].0, r[below.idx()].0);
                    let h2 = below.other();
                    let may_route = !at.root && (h2 == Hop::In || exceptions);
                    let routed = if may_route {
                        plus((1, 0), plus(l[h2.idx()].0, r[h2.idx()].0))
                    } else {
                        NO
                    };
                    if routed < stay {
                        (routed, Some(h2))
                    } else {
                        (stay, None)
                    }
                }
            }
        };
    }
    out
}

/// Lexicographic DP: per node and inherited hop, the best cost and the route placed there.
pub(super) fn lexicographic<A: Addr>(
    trie: &Trie<A>,
    tagged: &[bool],
    exceptions: bool,
    slack: bool,
) -> Vec<LexVal> {
    let mut best: Vec<LexVal> = vec![[(NO, None); 2]; trie.nodes.len()];
    for v in (0..trie.nodes.len()).rev() {
        let node = &trie.nodes[v];
        let kids = node.kids.map(|[l, r]| [best[l], best[r]]);
        let at = At {
            root: v == 0,
            tagged: tagged[v],
            zero: false,
        };
        best[v] = lex_node(node, at, kids, exceptions, slack);
    }
    best
}

/// The budgeted program at one node: for each inherited hop, the fewest extra addresses with at
/// most `k` routes, for `k` up to the node's cap (the fewest routes without slack, `plain`, or
/// `max_routes`); past its end an array holds its last value.
pub(super) fn within_node<A: Addr>(
    node: &Node<A>,
    at: At,
    kids: Option<[&[Vec<u128>; 2]; 2]>,
    plain: &LexVal,
    max_routes: usize,
    exceptions: bool,
) -> [Vec<u128>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    for h in [Hop::In, Hop::Out] {
        let cap = (plain[h.idx()].0.0).min(max_routes as u64) as usize;
        let below = stay(at.tagged, h);
        out[h.idx()] = if at.zero && below == Hop::Out {
            vec![0]
        } else {
            match kids {
                None => {
                    let (free, fix) = leaf_cost(node, below, exceptions, true);
                    let mut a = vec![if free.0 == 0 { free.1 } else { INF }];
                    // One route fixes the leaf: the missing route, or an exception that takes a
                    // slack leaf's extra addresses back out.
                    let slack_exception =
                        exceptions && below == Hop::In && node.label == Label::Slack;
                    if fix.is_some() || slack_exception {
                        a.push(0);
                    }
                    a
                }
                Some([l, r]) => {
                    let mut a = min_plus(&l[below.idx()], &r[below.idx()], cap);
                    let h2 = below.other();
                    if !at.root && (h2 == Hop::In || exceptions) && cap >= 1 {
                        let routed = min_plus(&l[h2.idx()], &r[h2.idx()], cap - 1);
                        for k in 1..=cap {
                            let x = at_k(&routed, k - 1);
                            if x < at_k(&a, k) {
                                grow_to(&mut a, k);
                                a[k] = x;
                            }
                        }
                    }
                    a
                }
            }
        };
    }
    out
}

/// The smallest number of routes any table meeting `intent` needs (slack used fully).
pub fn min_routes<A: Addr>(intent: &Intent<A>, exceptions: bool) -> u64 {
    let trie = Trie::build(intent, &[]);
    let tagged = vec![false; trie.nodes.len()];
    lexicographic(&trie, &tagged, exceptions, true)[0][Hop::Out.idx()]
        .0
        .0
}

pub(super) fn at_k(a: &[u128], k: usize) -> u128 {
    a[k.min(a.len() - 1)]
}

pub(super) fn grow_to(a: &mut Vec<u128>, k: usize) {
    let last = *a.last().expect("never empty");
    while a.len() <= k {
        a.push(last);
    }
}

/// (a ⊕ b)[k] = min over i + j = k of a[i] + b[j], for k up to `cap`. Past its end an array
/// holds its last value: each is cut where more routes stop helping, or at the total budget.
fn min_plus(a: &[u128], b: &[u128], cap: usize) -> Vec<u128> {
    let len = (a.len() + b.len() - 1).min(cap + 1);
    let mut out = vec![INF; len];
    for (i, &x) in a.iter().enumerate().take(len) {
        if x == INF {
            continue;
        }
        for (j, slot) in out[i..].iter_mut().enumerate() {
            let s = add(x, at_k(b, j));
            if s < *slot {
                *slot = s;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::{CheckError, check};
    use crate::prefix::{minimize, minimize_within};

    fn set(v: &[&str]) -> IntervalSet<u32> {
        let p: Vec<Prefix<u32>> = v.iter().map(|t| t.parse().unwrap()).collect();
        IntervalSet::from_prefixes(&p)
    }

    fn show(t: &Table<u32>) -> Vec<String> {
        t.routes.iter().map(|(p, h)| format!("{p} {h:?}")).collect()
    }

    #[test]
    fn exceptions_beat_aggregation() {
        // A /24 minus one /32: 8 aggregated routes, or 2 with an exception.
        let inside = set(&["10.0.0.0/24"]).subtract(&set(&["10.0.0.7/32"]));
        let intent = Intent {
            inside,
            slack: IntervalSet::new(),
        };
        assert_eq!(minimize(&intent, false).routes.len(), 8);
        let t = minimize(&intent, true);
        assert_eq!(show(&t), ["10.0.0.0/24 In", "10.0.0.7/32 Out"]);
        assert_eq!(check(&intent, &t.routes), Ok(0));
    }

    #[test]
    fn slack_fills_gaps_and_is_counted() {
        let intent = Intent {
            inside: set(&["10.0.0.0/25", "10.0.0.192/26"]),
            slack: set(&["10.0.0.128/26"]),
        };
        let t = minimize(&intent, false);
        assert_eq!(show(&t), ["10.0.0.0/24 In"]);
        assert_eq!((t.extra, check(&intent, &t.routes)), (64, Ok(64)));
        // With a budget of 2 the slack is not needed.
        let t2 = minimize_within(&intent, false, 2).unwrap();
        assert_eq!((t2.routes.len(), t2.extra), (2, 0));
        assert_eq!(minimize_within(&intent, false, 0), Err(1));
    }

    #[test]
    fn never_routes_the_root() {
        let intent = Intent {
            inside: set(&["0.0.0.0/0"]),
            slack: IntervalSet::new(),
        };
        let t = minimize(&intent, true);
        assert_eq!(show(&t), ["0.0.0.0/1 In", "128.0.0.0/1 In"]);
        assert_eq!(check(&intent, &t.routes), Ok(0));
        assert_eq!(
            minimize(
                &Intent::<u32> {
                    inside: IntervalSet::new(),
                    slack: IntervalSet::new()
                },
                true
            )
            .routes,
            []
        );
    }

    #[test]
    fn checker_catches_wrong_tables() {
        let intent = Intent {
            inside: set(&["10.0.0.0/24"]),
            slack: set(&["10.0.1.0/24"]),
        };
        let p = |t: &str| t.parse::<Prefix<u32>>().unwrap();
        assert_eq!(
            check(&intent, &[(p("10.0.0.0/25"), Hop::In)]),
            Err(CheckError::Dropped(128))
        );
        assert_eq!(
            check(&intent, &[(p("10.0.0.0/22"), Hop::In)]),
            Err(CheckError::Leaked(512))
        );
        assert_eq!(check(&intent, &[(p("10.0.0.0/23"), Hop::In)]), Ok(256));
        assert_eq!(
            check(&intent, &[(p("0.0.0.0/0"), Hop::In)]),
            Err(CheckError::RootRoute)
        );
    }
}
