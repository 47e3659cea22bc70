//! An intent's trie prepared once for many sets of service-tag routes.
//!
//! Choosing among candidate tag routes weighs many sets of them against one intent. A set only
//! marks some nodes of the trie (the prefixes of its tags), and a node's values in the dynamic
//! programs depend only on its subtree; so the programs are run once without marks, and each set
//! recomputes just the marked nodes and their ancestors (a few thousand of a trie's tens of
//! thousands), reading every other node's values from that first run. The same holds for the
//! relaxation that bounds a search: nodes made free, and their ancestors.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::addr::Addr;
use super::minimize::{
    At, Cost, Hop, INF, Intent, LexVal, NO, Table, Trie, add, at_k, key, leaf_cost, lex_node,
    lexicographic, stay, within_node,
};
use super::net::Prefix;

/// An intent's trie, cut at every prefix some set of service-tag routes may add, so that the
/// tables next to each such set are planned without building it again.
pub struct Prepared<A: Addr> {
    trie: Trie<A>,
    /// The node of each possible tag prefix, sorted by prefix.
    possible: Vec<(Prefix<A>, usize)>,
    /// Each node's parent (the root's is itself).
    parent: Vec<usize>,
    /// The lexicographic program without marks, per (exceptions, slack).
    lex: [OnceCell<Vec<LexVal>>; 4],
    /// The budgeted program without marks, for the largest budget asked so far.
    within: RefCell<Option<Rc<Within>>>,
    /// Work done so far: nodes computed, and array entries in the budgeted program.
    work: Cell<u64>,
}

/// The budgeted program's arrays for every node, without marks.
struct Within {
    exceptions: bool,
    max_routes: usize,
    f: Vec<[Vec<u128>; 2]>,
}

/// The nodes a set of tag routes marks (and a bound frees), and every node whose values change:
/// those and their ancestors, children first.
struct Marks {
    tagged: FxHashSet<usize>,
    zero: FxHashSet<usize>,
    dirty: Vec<usize>,
}

/// A program's values: the changed nodes', else the unmarked run's.
struct Overlay<'a, T> {
    base: &'a [T],
    new: FxHashMap<usize, T>,
}

impl<T> Overlay<'_, T> {
    fn get(&self, v: usize) -> &T {
        self.new.get(&v).unwrap_or(&self.base[v])
    }
}

/// The budgeted program's values under some marks (the changed nodes', else the unmarked
/// run's), with the fewest routes any table needs and the root's fewest extra addresses.
struct Budgeted {
    fewest: u64,
    extra: u128,
    base: Rc<Within>,
    new: FxHashMap<usize, [Vec<u128>; 2]>,
}

impl Budgeted {
    fn get(&self, v: usize) -> &[Vec<u128>; 2] {
        self.new.get(&v).unwrap_or(&self.base.f[v])
    }
}

/// A lower bound on every table next to some superset of a set of tag routes: its routes and
/// extra addresses, lexicographically no more than any such table's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub routes: u64,
    pub extra: u128,
}

impl<A: Addr> Prepared<A> {
    /// Prepares `intent` for tag routes drawn from `possible` (the union of the candidates'
    /// prefixes).
    pub fn new(intent: &Intent<A>, possible: &[Prefix<A>]) -> Self {
        let trie = Trie::build(intent, possible);
        let possible = trie.nodes_of(possible);
        let mut parent: Vec<usize> = (0..trie.nodes.len()).collect();
        for (v, node) in trie.nodes.iter().enumerate() {
            if let Some([l, r]) = node.kids {
                parent[l] = v;
                parent[r] = v;
            }
        }
        Prepared {
            trie,
            possible,
            parent,
            lex: Default::default(),
            within: RefCell::new(None),
            work: Cell::new(0),
        }
    }

    /// Work done so far by this trie's programs: nodes computed in the lexicographic program and
    /// array entries in the budgeted one. A measure of time that is the same on every machine.
    pub fn work(&self) -> u64 {
        self.work.get()
    }

    fn spend(&self, units: usize) {
        self.work.set(self.work.get().saturating_add(units as u64));
    }

    /// The node of each of `prefixes` (drawn from the possible ones). The root never counts: the
    /// table's default route is explicit and wins the tie with a tag's `/0`.
    fn nodes(&self, prefixes: &[Prefix<A>]) -> FxHashSet<usize> {
        prefixes
            .iter()
            .map(|t| {
                let i = self
                    .possible
                    .binary_search_by_key(&key(t), |(p, _)| key(p))
                    .expect("tag routes are drawn from the prepared prefixes");
                self.possible[i].1
            })
            .filter(|&v| v != 0)
            .collect()
    }

    fn marks(&self, tags: &[Prefix<A>], zero: &[Prefix<A>]) -> Marks {
        let tagged = self.nodes(tags);
        let zero = self.nodes(zero);
        let mut seen: FxHashSet<usize> = FxHashSet::default();
        for &v in tagged.iter().chain(&zero) {
            let mut v = v;
            while seen.insert(v) && v != 0 {
                v = self.parent[v];
            }
        }
        let mut dirty: Vec<usize> = seen.into_iter().collect();
        // Parents come before children in the trie: the largest index first.
        dirty.sort_unstable_by(|a, b| b.cmp(a));
        Marks {
            tagged,
            zero,
            dirty,
        }
    }

    fn at(&self, marks: &Marks, v: usize) -> At {
        At {
            root: v == 0,
            tagged: marks.tagged.contains(&v),
            zero: marks.zero.contains(&v),
        }
    }

    /// The lexicographic program under `marks`.
    fn lex(&self, exceptions: bool, slack: bool, marks: &Marks) -> Overlay<'_, LexVal> {
        let slot = &self.lex[usize::from(exceptions) * 2 + usize::from(slack)];
        let base = slot.get_or_init(|| {
            self.spend(self.trie.nodes.len());
            lexicographic(
                &self.trie,
                &vec![false; self.trie.nodes.len()],
                exceptions,
                slack,
            )
        });
        self.spend(marks.dirty.len());
        let mut out = Overlay {
            base,
            new: FxHashMap::default(),
        };
        for &v in &marks.dirty {
            let node = &self.trie.nodes[v];
            let kids = node.kids.map(|[l, r]| [*out.get(l), *out.get(r)]);
            let val = lex_node(node, self.at(marks, v), kids, exceptions, slack);
            out.new.insert(v, val);
        }
        out
    }

    /// The budgeted program's unmarked arrays for at least `max_routes`.
    fn within_base(&self, exceptions: bool, max_routes: usize) -> Rc<Within> {
        let mut cached = self.within.borrow_mut();
        if let Some(w) = cached.as_ref()
            && w.exceptions == exceptions
            && w.max_routes >= max_routes
        {
            return Rc::clone(w);
        }
        let none = Marks {
            tagged: FxHashSet::default(),
            zero: FxHashSet::default(),
            dirty: Vec::new(),
        };
        let plain = self.lex(exceptions, false, &none);
        let n = self.trie.nodes.len();
        let mut f: Vec<[Vec<u128>; 2]> = (0..n).map(|_| [Vec::new(), Vec::new()]).collect();
        for v in (0..n).rev() {
            let node = &self.trie.nodes[v];
            let val = {
                let kids = node.kids.map(|[l, r]| [&f[l], &f[r]]);
                within_node(
                    node,
                    self.at(&none, v),
                    kids,
                    plain.get(v),
                    max_routes,
                    exceptions,
                )
            };
            self.spend(val[0].len() + val[1].len());
            f[v] = val;
        }
        let w = Rc::new(Within {
            exceptions,
            max_routes,
            f,
        });
        *cached = Some(Rc::clone(&w));
        w
    }

    /// The budgeted program under `marks` for at most `max_routes` routes, or `Err` with the
    /// fewest routes that meet the intent at all (`u64::MAX`: no table works).
    fn within(&self, exceptions: bool, max_routes: usize, marks: &Marks) -> Result<Budgeted, u64> {
        let fewest = self.lex(exceptions, true, marks).get(0)[Hop::Out.idx()].0.0;
        if fewest > max_routes as u64 {
            return Err(fewest);
        }
        let base = self.within_base(exceptions, max_routes);
        let plain = self.lex(exceptions, false, marks);
        let mut out = Budgeted {
            fewest,
            extra: INF,
            new: FxHashMap::default(),
            base,
        };
        for &v in &marks.dirty {
            let node = &self.trie.nodes[v];
            let val = {
                let kids = node.kids.map(|[l, r]| [out.get(l), out.get(r)]);
                within_node(
                    node,
                    self.at(marks, v),
                    kids,
                    plain.get(v),
                    out.base.max_routes,
                    exceptions,
                )
            };
            self.spend(val[0].len() + val[1].len());
            out.new.insert(v, val);
        }
        out.extra = at_k(&out.get(0)[Hop::Out.idx()], max_routes);
        if out.extra == INF {
            return Err(u64::MAX);
        }
        Ok(out)
    }

    /// The table with the fewest explicit routes, then the fewest extra addresses (those the
    /// tag routes send included), next to tag routes that send `tags` (drawn from the prepared
    /// prefixes) `In`. `None` when no table works: a tag route sends addresses that must stay out,
    /// and `exceptions` is off.
    pub fn minimize(&self, exceptions: bool, tags: &[Prefix<A>]) -> Option<Table<A>> {
        let marks = self.marks(tags, &[]);
        let best = self.lex(exceptions, true, &marks);
        let (cost, _) = best.get(0)[Hop::Out.idx()];
        if cost == NO {
            return None;
        }
        let mut routes = Vec::new();
        let mut stack = vec![(0usize, Hop::Out)];
        while let Some((v, h)) = stack.pop() {
            let (_, route) = best.get(v)[h.idx()];
            let below = match route {
                Some(hop) => {
                    routes.push((self.trie.nodes[v].prefix, hop));
                    hop
                }
                None => stay(marks.tagged.contains(&v), h),
            };
            if let Some([l, r]) = self.trie.nodes[v].kids {
                stack.push((r, below));
                stack.push((l, below));
            }
        }
        routes.sort_by_key(|r| r.0);
        Some(Table {
            routes,
            extra: cost.1,
        })
    }

    /// A bound on the tables next to `tags` and any of `optional` (both drawn from the prepared
    /// prefixes): the lexicographic program with the optional tags' nodes free.
    pub fn bound(&self, exceptions: bool, tags: &[Prefix<A>], optional: &[Prefix<A>]) -> Bound {
        let marks = self.marks(tags, optional);
        let (cost, _): (Cost, _) = self.lex(exceptions, true, &marks).get(0)[Hop::Out.idx()];
        Bound {
            routes: cost.0,
            extra: cost.1,
        }
    }

    /// A bound on the tables of at most `max_routes` explicit routes next to `tags` and any of
    /// `optional`: the fewest extra addresses, and the fewest routes of a table that sends at
    /// most `target` extra addresses (any, without a target); or `Err` with the fewest routes
    /// (`u64::MAX`: none works) when no such table fits.
    pub(crate) fn bound_within(
        &self,
        exceptions: bool,
        max_routes: usize,
        tags: &[Prefix<A>],
        optional: &[Prefix<A>],
        target: Option<u128>,
    ) -> Result<Bound, u64> {
        let max_routes = max_routes.min(self.trie.nodes.len());
        let f = self.within(exceptions, max_routes, &self.marks(tags, optional))?;
        let (fewest, extra, root) = (f.fewest, f.extra, &f.get(0)[Hop::Out.idx()]);
        let routes = match target {
            Some(target) if target >= extra => (0..=max_routes)
                .find(|&k| at_k(root, k) <= target)
                .map_or(fewest, |k| k as u64),
            _ => fewest,
        };
        Ok(Bound { routes, extra })
    }

    /// The table of at most `max_routes` explicit routes that sends the fewest extra addresses
    /// `In`, next to tag routes that send `tags` `In`. `Err(n)` gives the fewest routes that can
    /// meet the intent at all (`u64::MAX`: no table works).
    pub fn minimize_within(
        &self,
        exceptions: bool,
        max_routes: usize,
        tags: &[Prefix<A>],
    ) -> Result<Table<A>, u64> {
        let trie = &self.trie;
        let marks = self.marks(tags, &[]);
        // No table needs more routes than the trie has nodes: a larger budget is no budget.
        let max_routes = max_routes.min(trie.nodes.len());
        let f = self.within(exceptions, max_routes, &marks)?;
        let extra = f.extra;
        // Rebuild top-down: at each node find a split of the budget that reaches the optimum.
        let mut routes = Vec::new();
        let mut stack = vec![(0usize, Hop::Out, max_routes, extra)];
        while let Some((v, h, k, target)) = stack.pop() {
            let node = &trie.nodes[v];
            let below = stay(marks.tagged.contains(&v), h);
            let Some([l, r]) = node.kids else {
                if at_k(&f.get(v)[h.idx()], 0) != target {
                    let (_, fix) = leaf_cost(node, below, exceptions, true);
                    routes.push((node.prefix, fix.unwrap_or(below.other())));
                }
                continue;
            };
            let split = |hh: Hop, budget: usize| -> Option<(usize, usize)> {
                let (fl, fr) = (&f.get(l)[hh.idx()], &f.get(r)[hh.idx()]);
                let top = budget.min(fl.len() - 1);
                (0..=top)
                    .find(|&a| add(at_k(fl, a), at_k(fr, budget - a)) == target)
                    .map(|a| (a, budget - a))
            };
            if let Some((a, b)) = split(below, k) {
                stack.push((r, below, b, at_k(&f.get(r)[below.idx()], b)));
                stack.push((l, below, a, at_k(&f.get(l)[below.idx()], a)));
                continue;
            }
            let h2 = below.other();
            let (a, b) = split(h2, k - 1).expect("the optimum came from a route here");
            routes.push((node.prefix, h2));
            stack.push((r, h2, b, at_k(&f.get(r)[h2.idx()], b)));
            stack.push((l, h2, a, at_k(&f.get(l)[h2.idx()], a)));
        }
        routes.sort_by_key(|r| r.0);
        Ok(Table { routes, extra })
    }
}

/// The table with the fewest routes, and among those the fewest extra addresses. `exceptions`
/// allows routes back to the default next hop. Without service-tag routes a table always exists
/// (routes at every "in" leaf).
pub fn minimize<A: Addr>(intent: &Intent<A>, exceptions: bool) -> Table<A> {
    minimize_with_tags(intent, exceptions, &[]).expect("a table exists without tag routes")
}

/// [`minimize`] next to service-tag routes that send `tags` `In`: the fewest explicit routes, then
/// the fewest extra addresses (those the tag routes send included). `None` when no table works:
/// a tag route sends addresses that must stay out, and `exceptions` is off.
pub fn minimize_with_tags<A: Addr>(
    intent: &Intent<A>,
    exceptions: bool,
    tags: &[Prefix<A>],
) -> Option<Table<A>> {
    Prepared::new(intent, tags).minimize(exceptions, tags)
}

/// The table of at most `max_routes` routes that sends the fewest extra addresses `In`.
/// `Err(n)` gives the smallest route count that can meet the intent at all.
pub fn minimize_within<A: Addr>(
    intent: &Intent<A>,
    exceptions: bool,
    max_routes: usize,
) -> Result<Table<A>, u64> {
    minimize_within_tags(intent, exceptions, max_routes, &[])
}

/// [`minimize_within`] next to service-tag routes that send `tags` `In` (they are not counted in
/// `max_routes`). `Err(u64::MAX)` when no table works at all.
pub fn minimize_within_tags<A: Addr>(
    intent: &Intent<A>,
    exceptions: bool,
    max_routes: usize,
    tags: &[Prefix<A>],
) -> Result<Table<A>, u64> {
    Prepared::new(intent, tags).minimize_within(exceptions, max_routes, tags)
}
