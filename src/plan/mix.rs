//! Service-tag routes mixed with CIDR routes: which of the candidate tags to use as whole routes.
//!
//! A tag route costs one route and sends every address of its tag, in both families, whatever
//! the file says next week. For a given set of tag routes each family's best explicit routes come
//! from the minimiser (`family::Job::solve`); a table's key is (routes, extra addresses in the
//! planned families, extra addresses in a family left out, tag routes), or with a budget (extra
//! addresses, then routes). The sets are searched by branch and bound ([`Search`]): each branch
//! is first bounded by the same programs with the prefixes of the candidates it may still add
//! made free, a relaxation no set below it can beat, and skipped when that bound cannot beat the
//! best table so far. With the exact strategy and no budget, candidates that share no block of
//! selected or slack addresses cannot affect each other's routes and are searched apart
//! ([`independent_groups`]). The work is bounded ([`SEARCH_WORK`]); a search that reaches the
//! bound says so, with the lowest bound of what it left.

use super::PlanError;
use super::family::{Job, Lazy, NoTable};
use crate::prefix::{Addr, Intent, IntervalSet, Prefix, Table};
use crate::snapshot::ServiceTag;

/// Most work the search of tag-route sets does (trie nodes computed by its dynamic programs,
/// and array entries with a budget): a bound on work rather than time, so that a plan is the
/// same on every machine, set to about a second here (BENCHMARKS.md). A search that stops there
/// reports its choice as not proven, with the lowest bound of what it left unsearched.
pub const SEARCH_WORK: u64 = 4_000_000;

/// Azure's precedence among tag routes with equal prefixes, lowest first: `AzureCloud`, then
/// `AzureCloud.<region>`, then top-level tags, then regional tags.
pub(super) fn precedence(name: &str) -> u8 {
    match name.split_once('.') {
        None if name.eq_ignore_ascii_case("AzureCloud") => 0,
        Some((base, _)) if base.eq_ignore_ascii_case("AzureCloud") => 1,
        None => 2,
        Some(_) => 3,
    }
}

/// One family's side of the choice: its intent, when the plan covers it, or what a tag route may
/// send there when the plan leaves it out (the selected and slack addresses).
pub(super) enum Side<A: Addr> {
    Planned(Intent<A>),
    LeftOut(Intent<A>),
}

impl<A: Addr> Side<A> {
    /// The intent, when planned.
    pub fn planned(&self) -> Option<&Intent<A>> {
        match self {
            Side::Planned(i) => Some(i),
            Side::LeftOut(_) => None,
        }
    }
}

/// The chosen tag routes (indices into the candidates) and each planned family's table.
pub(super) struct Choice {
    pub tag_routes: Vec<usize>,
    pub v4: Option<Table<u32>>,
    pub v6: Option<Table<u128>>,
    /// Extra addresses the tag routes send in a family the plan leaves out.
    pub left_out_extra: u128,
    /// Every set of candidates was weighed: the choice is optimal.
    pub proven: bool,
    /// Sets of tag routes weighed.
    pub weighed: usize,
    /// When not proven (no budget): the fewest routes any table could have (the optimum lies
    /// between it and this choice's routes).
    pub lower_bound: Option<usize>,
    /// When not proven (a budget): the fewest extra addresses any table within it could send.
    pub extra_lower_bound: Option<u128>,
}

/// Whether a tag may be a candidate at all: it holds selected addresses in a planned family,
/// sends nothing outside the selection and slack in a family left out (no exception can take
/// it back there), and, without exceptions, nothing outside them in the planned ones either.
pub(super) fn may_use(tag: &ServiceTag, v4: &Side<u32>, v6: &Side<u128>, exceptions: bool) -> bool {
    let (touches, n4, n6) = outside(tag, v4, v6, exceptions);
    touches && n4 == 0 && n6 == 0
}

/// Why an allowed tag that holds selected addresses is no candidate: the addresses it would send
/// outside the selection and slack, per family (IPv4, IPv6). `None` when it is a candidate, or
/// holds no selected address (then it has nothing to offer).
pub(super) fn stray(
    tag: &ServiceTag,
    v4: &Side<u32>,
    v6: &Side<u128>,
    exceptions: bool,
) -> Option<(u128, u128)> {
    let (touches, n4, n6) = outside(tag, v4, v6, exceptions);
    (touches && (n4 > 0 || n6 > 0)).then_some((n4, n6))
}

/// Whether a tag holds selected addresses in a planned family, and how many addresses per
/// family it would send that must stay out: outside the selection and slack, except in a
/// planned family where exceptions can take them back.
fn outside(
    tag: &ServiceTag,
    v4: &Side<u32>,
    v6: &Side<u128>,
    exceptions: bool,
) -> (bool, u128, u128) {
    fn side<A: Addr>(side: &Side<A>, prefixes: &[Prefix<A>], exceptions: bool) -> (bool, u128) {
        let set = IntervalSet::from_prefixes(prefixes);
        let (intent, planned) = match side {
            Side::Planned(i) => (i, true),
            Side::LeftOut(i) => (i, false),
        };
        let touches = planned && !set.intersect(&intent.inside).is_empty();
        let out = if planned && exceptions {
            0
        } else {
            set.subtract(&intent.inside).subtract(&intent.slack).count()
        };
        (touches, out)
    }
    let (t4, n4) = side(v4, &tag.ipv4, exceptions);
    let (t6, n6) = side(v6, &tag.ipv6, exceptions);
    (t4 || t6, n4, n6)
}

/// The order of two tables: (routes, extra addresses in the planned families, extra addresses in
/// a family left out, tag routes); with a budget, extra addresses first.
type Key = (u128, u128, u128, u128);

/// Weighs sets of tag routes: each planned family's table next to them, and its key.
struct Weigher<'a> {
    job: &'a Job<'a>,
    v4: &'a Side<u32>,
    v6: &'a Side<u128>,
    candidates: &'a [&'a ServiceTag],
    budget: Option<usize>,
    lazy4: Option<Lazy<'a, u32>>,
    lazy6: Option<Lazy<'a, u128>>,
    /// Sets weighed so far.
    weighed: usize,
}

impl<'a> Weigher<'a> {
    fn new(
        job: &'a Job<'a>,
        v4: &'a Side<u32>,
        v6: &'a Side<u128>,
        candidates: &'a [&'a ServiceTag],
        budget: Option<usize>,
    ) -> Self {
        Weigher {
            job,
            v4,
            v6,
            candidates,
            budget,
            lazy4: v4
                .planned()
                .map(|i| Lazy::new(i, possible(candidates, |t| &t.ipv4))),
            lazy6: v6
                .planned()
                .map(|i| Lazy::new(i, possible(candidates, |t| &t.ipv6))),
            weighed: 0,
        }
    }

    /// The work the programs did so far, both families.
    fn work(&self) -> u64 {
        self.lazy4.as_ref().map_or(0, Lazy::work) + self.lazy6.as_ref().map_or(0, Lazy::work)
    }

    /// A bound on the key of every set that holds `set`, at least `at_least` tag routes in all,
    /// and otherwise only tags of `optional`; `None` when no such set has a table (within the
    /// budget). Each family's program runs with the optional tags' prefixes free (a relaxation:
    /// no choice costs less there than nothing).
    /// With a budget, `best` (the best key so far) sharpens the bound on routes: a set can beat
    /// it only by sending no more extra addresses.
    fn bound(
        &mut self,
        set: &[usize],
        optional: &[usize],
        at_least: usize,
        best: Option<Key>,
    ) -> Option<Key> {
        let target = best.map(|b| b.0);
        let exceptions = self.job.strategy == super::Strategy::Lpm;
        let tags: Vec<&ServiceTag> = set.iter().map(|&i| self.candidates[i]).collect();
        let optional: Vec<&ServiceTag> = optional.iter().map(|&i| self.candidates[i]).collect();
        let left = match self.budget {
            Some(b) => Some(b.checked_sub(at_least)?),
            None => None,
        };
        fn side<A: Addr>(
            lazy: Option<&Lazy<'_, A>>,
            prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
            tags: &[&ServiceTag],
            optional: &[&ServiceTag],
            exceptions: bool,
            left: Option<usize>,
            target: Option<u128>,
        ) -> Option<(u128, u128)> {
            let Some(lazy) = lazy else {
                return Some((0, 0));
            };
            let given = possible(tags, &prefixes_of);
            let free = possible(optional, &prefixes_of);
            let b = match left {
                None => lazy.get().bound(exceptions, &given, &free),
                Some(left) => lazy
                    .get()
                    .bound_within(exceptions, left, &given, &free, target)
                    .ok()?,
            };
            (b.routes != u64::MAX).then_some((b.routes as u128, b.extra))
        }
        let (r4, e4) = side(
            self.lazy4.as_ref(),
            |t| &t.ipv4,
            &tags,
            &optional,
            exceptions,
            left,
            target,
        )?;
        let (r6, e6) = side(
            self.lazy6.as_ref(),
            |t| &t.ipv6,
            &tags,
            &optional,
            exceptions,
            left,
            target,
        )?;
        let left_out_extra = self.left_out_extra(&tags);
        Some(self.key(
            at_least + (r4 + r6) as usize,
            e4 + e6,
            left_out_extra,
            at_least,
        ))
    }

    /// The addresses `tags` send in a family the plan leaves out, beyond the selected ones.
    fn left_out_extra(&self, tags: &[&ServiceTag]) -> u128 {
        left_out(self.v4, |t| &t.ipv4, tags) + left_out(self.v6, |t| &t.ipv6, tags)
    }

    /// The key of a table of `routes` routes (tag routes included) sending `extra` addresses in
    /// the planned families and `left_out_extra` in a left-out one, with `n_tags` tag routes:
    /// (routes, extra, left-out extra, tag routes), or with a budget, extra first.
    fn key(&self, routes: usize, extra: u128, left_out_extra: u128, n_tags: usize) -> Key {
        let (routes, n_tags) = (routes as u128, n_tags as u128);
        match self.budget {
            None => (routes, extra, left_out_extra, n_tags),
            Some(_) => (extra, left_out_extra, routes, n_tags),
        }
    }

    /// The key and the choice of tag routes `chosen`, their CIDR routes at most `left` (a
    /// budget less the tag routes); `Err` has the routes it would need, when it has no table
    /// within `left`.
    fn weigh(
        &mut self,
        chosen: &[usize],
        left: Option<usize>,
    ) -> Result<(Key, Choice), Option<u64>> {
        self.weighed += 1;
        let n_tags = chosen.len();
        let tags: Vec<&ServiceTag> = chosen.iter().map(|&i| self.candidates[i]).collect();
        let v4_table = solve_side(self.job, self.lazy4.as_ref(), |t| &t.ipv4, &tags, left);
        let v6_table = solve_side(self.job, self.lazy6.as_ref(), |t| &t.ipv6, &tags, left);
        let (v4_table, v6_table) = match (v4_table, v6_table) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(NoTable::Needs(n)), _) | (_, Err(NoTable::Needs(n))) => {
                return Err(Some(n.saturating_add(n_tags as u64)));
            }
            _ => return Err(None),
        };
        let routes = n_tags
            + v4_table.as_ref().map_or(0, |t| t.routes.len())
            + v6_table.as_ref().map_or(0, |t| t.routes.len());
        let extra =
            v4_table.as_ref().map_or(0, |t| t.extra) + v6_table.as_ref().map_or(0, |t| t.extra);
        let left_out_extra = self.left_out_extra(&tags);
        Ok((
            self.key(routes, extra, left_out_extra, n_tags),
            Choice {
                tag_routes: chosen.to_vec(),
                v4: v4_table,
                v6: v6_table,
                left_out_extra,
                proven: true,
                weighed: 0,
                lower_bound: None,
                extra_lower_bound: None,
            },
        ))
    }
}

/// Chooses among the candidate tag routes (at most `max_tag_routes` of them) by branch and bound;
/// see the module's doc. With the exact strategy and no budget, the candidates are first split
/// into independent groups, each searched alone.
pub(super) fn choose(
    job: &Job,
    v4: &Side<u32>,
    v6: &Side<u128>,
    candidates: &[&ServiceTag],
    max_tag_routes: usize,
    budget: Option<usize>,
) -> Result<Choice, PlanError> {
    let mut w = Weigher::new(job, v4, v6, candidates, budget);
    let all: Vec<usize> = (0..candidates.len()).collect();
    let groups = if budget.is_none() && job.strategy == super::Strategy::Exact {
        independent_groups(candidates, v4, v6)
    } else {
        vec![all.clone()]
    };
    let mut found: Vec<Found> = groups
        .iter()
        .map(|group| Search::run(&mut w, group, max_tag_routes))
        .collect();
    let together: usize = found
        .iter()
        .map(|f| f.best.as_ref().map_or(0, |b| b.0.len()))
        .sum();
    let found = if found.len() == 1 {
        found.pop().expect("one group")
    } else if together > max_tag_routes {
        // The groups' best sets hold more tag routes than allowed together: search them jointly.
        Search::run(&mut w, &all, max_tag_routes)
    } else {
        combine(&mut w, found)
    };
    let weighed = w.weighed;
    let Some((chosen, key)) = found.best else {
        // No set fits the budget: the true smallest table, tag routes included, for the error.
        let mut unbounded = Weigher::new(job, v4, v6, candidates, None);
        let smallest = Search::run(&mut unbounded, &all, max_tag_routes)
            .best
            .map(|(_, key)| key.0 as u64);
        return Err(PlanError::BudgetTooSmall {
            max: budget.expect("only a budget leaves no table"),
            smallest: smallest.unwrap_or(u64::MAX),
        });
    };
    let left = budget.map(|b| b - chosen.len());
    let (again, mut choice) = w
        .weigh(&chosen, left)
        .unwrap_or_else(|_| unreachable!("the chosen set was weighed"));
    debug_assert_eq!(again, key, "groups are independent");
    choice.proven = found.proven;
    choice.weighed = weighed;
    let bound = found.bound.filter(|_| !found.proven).map(|b| b.min(key));
    match budget {
        None => choice.lower_bound = bound.map(|b| b.0 as usize),
        Some(_) => choice.extra_lower_bound = bound.map(|b| b.0),
    }
    Ok(choice)
}

/// The best set of each independent group together: their gains add up (no budget).
fn combine(w: &mut Weigher, found: Vec<Found>) -> Found {
    let (_, base) = w
        .weigh(&[], None)
        .map(|(key, _)| ((), key))
        .unwrap_or_else(|_| unreachable!("no budget: the empty set has a table"));
    let mut chosen = Vec::new();
    // Each group's key holds the base once: the sum is the base plus every group's gain. The
    // sum of true keys is a true key, never below zero in any place.
    let mut key = base;
    // The floor of routes: the base plus each group's floor less the base (a floor may lie
    // below what the base minus the other groups' gains leaves, so it is summed signed).
    let mut floor = base.0 as i128;
    let mut proven = true;
    for f in found {
        let (set, k) = f.best.expect("no budget: every group has a best set");
        chosen.extend(set);
        key = (
            key.0 + k.0 - base.0,
            key.1 + k.1 - base.1,
            key.2 + k.2 - base.2,
            key.3 + k.3 - base.3,
        );
        let group_floor = f.bound.map_or(k.0, |b| b.0.min(k.0));
        floor += group_floor as i128 - base.0 as i128;
        proven &= f.proven;
    }
    chosen.sort_unstable();
    Found {
        best: Some((chosen, key)),
        proven,
        bound: Some((floor.max(0) as u128, 0, 0, 0)),
    }
}

/// What a search found: the best set and its key (none: no set fits the budget), whether it is
/// proven best, and a bound no set's key is below.
struct Found {
    best: Option<(Vec<usize>, Key)>,
    proven: bool,
    bound: Option<Key>,
}

/// Branch and bound over the sets of some candidates. The candidates are ordered by the table
/// each makes alone, best first; a node of the search is a set of them, its children the sets
/// with one more of those after its last. Before a child is weighed, a bound on every set in its
/// subtree (and in those of the later children) is computed; when it cannot beat the best table
/// so far, the remaining children are skipped.
struct Search<'w, 'a> {
    w: &'w mut Weigher<'a>,
    order: Vec<usize>,
    cap: usize,
    best: Option<(Vec<usize>, Key)>,
    /// Bounds of the subtrees left unsearched when the work ran out.
    open: Option<Key>,
}

impl<'w, 'a> Search<'w, 'a> {
    fn run(w: &'w mut Weigher<'a>, group: &[usize], max_tag_routes: usize) -> Found {
        let mut search = Search {
            order: Vec::new(),
            cap: max_tag_routes.min(group.len()),
            best: None,
            open: None,
            w,
        };
        search.offer(&[]);
        let mut alone: Vec<(Option<Key>, usize)> = Vec::new();
        if search.cap > 0 {
            for &c in group {
                alone.push((search.offer(&[c]), c));
            }
        }
        // Sets that fit come first, the best alone first; ties keep the file's order.
        alone.sort_by_key(|&(key, c)| (key.is_none(), key, c));
        search.order = alone.into_iter().map(|(_, c)| c).collect();
        search.explore(&mut Vec::new(), 0);
        Found {
            proven: search.open.is_none(),
            bound: search.open,
            best: search.best,
        }
    }

    /// Weighs `set` and keeps it when it beats the best so far; its key, if it has a table.
    fn offer(&mut self, set: &[usize]) -> Option<Key> {
        let left = match self.w.budget {
            Some(b) => Some(b.checked_sub(set.len())?),
            None => None,
        };
        let (key, _) = self.w.weigh(set, left).ok()?;
        if self.best.as_ref().is_none_or(|(_, b)| key < *b) {
            let mut set = set.to_vec();
            set.sort_unstable();
            self.best = Some((set, key));
        }
        Some(key)
    }

    /// Searches the sets that add candidates after position `next` of the order to `set`.
    fn explore(&mut self, set: &mut Vec<usize>, next: usize) {
        if set.len() >= self.cap {
            return;
        }
        for j in next..self.order.len() {
            let best = self.best.as_ref().map(|b| b.1);
            let bound = self.w.bound(set, &self.order[j..], set.len() + 1, best);
            let Some(bound) = bound else { break };
            if self.best.as_ref().is_some_and(|(_, b)| bound >= *b) {
                break;
            }
            if self.w.work() >= SEARCH_WORK {
                self.open = Some(self.open.map_or(bound, |o| o.min(bound)));
                break;
            }
            set.push(self.order[j]);
            if set.len() > 1 {
                self.offer(set);
            }
            self.explore(set, j + 1);
            set.pop();
        }
    }
}

/// The candidates split into groups that cannot affect each other's tables (exact strategy, no
/// budget): with routes only to Internet, a route can sit only on a trie node whose addresses
/// are all selected or slack, so the table is a sum over the largest such blocks below the root,
/// and two candidates interact only through a block that holds prefixes of both (in any family,
/// the left-out one included, where their extra addresses are counted as a union).
fn independent_groups(
    candidates: &[&ServiceTag],
    v4: &Side<u32>,
    v6: &Side<u128>,
) -> Vec<Vec<usize>> {
    fn blocks<A: Addr>(
        side: &Side<A>,
        prefixes: &[Prefix<A>],
        out: &mut Vec<(u8, u128, u8)>,
        family: u8,
    ) {
        let intent = match side {
            Side::Planned(i) | Side::LeftOut(i) => i,
        };
        let clean = intent.inside.union(&intent.slack);
        for &p in prefixes {
            // The largest block below the root that holds p and only selected or slack addresses;
            // p itself when it is not all such (then it is an address the tag would stray to,
            // counted in the left-out family only).
            let mut block = p;
            let mut len = p.len();
            while len > 1 {
                let up = Prefix::containing(p.first(), len - 1);
                if !clean.covers(up) {
                    break;
                }
                block = up;
                len -= 1;
            }
            out.push((family, block.first().to_u128(), block.len()));
        }
    }
    let n = candidates.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut owner: rustc_hash::FxHashMap<(u8, u128, u8), usize> = Default::default();
    for (i, tag) in candidates.iter().enumerate() {
        let mut keys = Vec::new();
        blocks(v4, &tag.ipv4, &mut keys, 4);
        blocks(v6, &tag.ipv6, &mut keys, 6);
        for k in keys {
            // Blocks are disjoint or equal: a larger block of the same start would cover this one
            // too, so equal keys are what two tags share.
            match owner.get(&k) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    owner.insert(k, i);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: rustc_hash::FxHashMap<usize, usize> = Default::default();
    for i in 0..n {
        let root = find(&mut parent, i);
        let g = *index.entry(root).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

/// Every prefix of the candidates in one family.
fn possible<A: Addr>(
    candidates: &[&ServiceTag],
    prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
) -> Vec<Prefix<A>> {
    candidates
        .iter()
        .flat_map(|t| prefixes_of(t).iter().copied())
        .collect()
}

/// One planned family's table next to `tags`, or `None` for a family left out.
fn solve_side<A: Addr>(
    job: &Job,
    lazy: Option<&Lazy<'_, A>>,
    prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
    tags: &[&ServiceTag],
    budget: Option<usize>,
) -> Result<Option<Table<A>>, NoTable> {
    let Some(lazy) = lazy else {
        return Ok(None);
    };
    let given = possible(tags, &prefixes_of);
    job.solve(lazy.intent(), &prefixes_of, lazy, &given, budget)
        .map(Some)
}

/// The addresses `tags` send in a family the plan leaves out, beyond the selected ones.
fn left_out<A: Addr>(
    side: &Side<A>,
    prefixes_of: impl Fn(&ServiceTag) -> &Vec<Prefix<A>>,
    tags: &[&ServiceTag],
) -> u128 {
    let Side::LeftOut(intent) = side else {
        return 0;
    };
    IntervalSet::from_prefixes(tags.iter().flat_map(|t| prefixes_of(t).iter()))
        .subtract(&intent.inside)
        .count()
}

/// Exhaustive proof of the mix on a /29 (and a /125): for every labelling of its 8 addresses
/// (selected, slack or neither), with three synthetic UDR tags and both strategies, the plan has
/// exactly the cost (routes counting tag routes, then extra addresses) of the cheapest table brute
/// force finds over every set of tag routes and every table of up to `K` explicit routes in the
/// block.
#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::Arc;

    use crate::model::NextHop;
    use crate::plan::{PlanOptions, Slack, Strategy, plan};
    use crate::prefix::brute_force::{K, cheapest, labelling};
    use crate::prefix::{Addr, Prefix};
    use crate::select::FamilyChoice;
    use crate::snapshot::{Cloud, ServiceTag, Snapshot};

    /// A family as the test plans it: where its prefixes go in a tag, and an appliance of it.
    trait Planned: Addr {
        const CHOICE: FamilyChoice;
        const APPLIANCE: &str;
        fn put(tag: &mut ServiceTag, prefixes: Vec<Prefix<Self>>);
    }
    impl Planned for u32 {
        const CHOICE: FamilyChoice = FamilyChoice::Ipv4;
        const APPLIANCE: &str = "10.9.9.9";
        fn put(tag: &mut ServiceTag, prefixes: Vec<Prefix<u32>>) {
            tag.ipv4 = prefixes;
        }
    }
    impl Planned for u128 {
        const CHOICE: FamilyChoice = FamilyChoice::Ipv6;
        const APPLIANCE: &str = "fd00::9";
        fn put(tag: &mut ServiceTag, prefixes: Vec<Prefix<u128>>) {
            tag.ipv6 = prefixes;
        }
    }

    fn tag<A: Planned>(name: &str, prefixes: Vec<Prefix<A>>, udr: bool) -> ServiceTag {
        let mut tag = ServiceTag {
            name: name.to_owned(),
            change_number: 1,
            region: Arc::from(""),
            region_id: 0,
            platform: Arc::from("Azure"),
            system_service: Arc::from(""),
            network_features: udr.then(|| Arc::from(vec!["UDR".to_owned()])),
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        A::put(&mut tag, prefixes);
        tag
    }

    /// Runs every labelling whose index is a multiple of `stride` (1: all of them).
    fn mix_is_optimal<A: Planned>(base: A, stride: usize) {
        let at = |off: u128, len: u8| Prefix::containing(A::from_u128(base.to_u128() + off), len);
        let top = A::BITS - 3;
        let hosts = |mask: u8| -> Vec<Prefix<A>> {
            (0..8u128)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| at(i, A::BITS))
                .collect()
        };
        // Two scattered tags that CIDR routes cover only one host at a time, and a broad one
        // that needs exceptions (with a prefix equal to a host route, for the tie rule).
        let udr = [
            vec![at(0, A::BITS), at(3, A::BITS)],
            vec![at(5, A::BITS), at(6, A::BITS)],
            vec![at(0, top), at(2, A::BITS)],
        ];
        let names = ["TagOne", "TagTwo.region", "AzureCloud"];
        for exceptions in [false, true] {
            // Brute force: for each set of tag routes, the fewest explicit routes per forwarding.
            let table: Vec<[usize; 256]> = (0..8u8)
                .map(|set| {
                    let given: Vec<Prefix<A>> = (0..3)
                        .filter(|t| set & (1 << t) != 0)
                        .flat_map(|t| udr[t].iter().copied())
                        .collect();
                    cheapest(base, &given, exceptions)
                })
                .collect();
            for labels in (0..3u32.pow(8)).step_by(stride) {
                let (inside, slack) = labelling(labels);
                if inside == 0 {
                    continue;
                }
                let brute = (0..8u8)
                    .flat_map(|set| {
                        let table = &table[set as usize];
                        (0..=255u8)
                            .filter(move |m| m & inside == inside && m & !(inside | slack) == 0)
                            .filter(move |&m| table[m as usize] <= K)
                            .map(move |m| {
                                let routes = set.count_ones() as usize + table[m as usize];
                                (routes, (m & !inside).count_ones() as u128)
                            })
                    })
                    .min();
                let mut tags = vec![
                    tag("Selected", hosts(inside), false),
                    tag("Slack", hosts(slack), false),
                ];
                for (name, prefixes) in names.iter().zip(&udr) {
                    tags.push(tag(name, prefixes.clone(), true));
                }
                let snapshot = Snapshot::new("brute", Cloud::Public, 1, tags, None);
                let appliance: IpAddr = A::APPLIANCE.parse().unwrap();
                let opts = PlanOptions {
                    family: A::CHOICE,
                    strategy: if exceptions {
                        Strategy::Lpm
                    } else {
                        Strategy::Exact
                    },
                    default_next_hop: exceptions.then_some(NextHop::VirtualAppliance(appliance)),
                    slack: if slack == 0 {
                        Slack::None
                    } else {
                        Slack::Tags(vec![1])
                    },
                    tag_routes: vec![2, 3, 4],
                    ..PlanOptions::default()
                };
                let p = plan(&snapshot, None, &[0], &opts).expect("a plan");
                let got = (p.routes.len(), p.slack.as_ref().map_or(0, |s| s.addresses));
                let what = format!("in {inside:08b} slack {slack:08b} lpm {exceptions}");
                match brute {
                    Some(b) => assert_eq!(got, b, "{what}"),
                    None => assert!(got.0 > K, "{what}"),
                }
                if slack == 0 {
                    continue;
                }
                // With a budget of `max` routes (tag routes included): the fewest extra
                // addresses any set and table within it sends, or no plan when none fits.
                for max in 1..=3usize {
                    let brute = (0..8u8)
                        .flat_map(|set| {
                            let table = &table[set as usize];
                            (0..=255u8)
                                .filter(move |m| m & inside == inside && m & !(inside | slack) == 0)
                                .filter(move |&m| {
                                    table[m as usize].saturating_add(set.count_ones() as usize)
                                        <= max
                                })
                                .map(move |m| (m & !inside).count_ones() as u128)
                        })
                        .min();
                    let opts = PlanOptions {
                        max_routes: max,
                        budget: true,
                        ..opts.clone()
                    };
                    let got = plan(&snapshot, None, &[0], &opts)
                        .ok()
                        .map(|p| p.slack.as_ref().map_or(0, |s| s.addresses));
                    assert_eq!(got, brute, "{what} budget {max}");
                }
            }
        }
    }

    #[test]
    fn the_mix_is_optimal_on_a_slash_29() {
        mix_is_optimal::<u32>(0x0a00_0008, 1);
    }

    /// The same at the far end of the address width, on every third labelling (the /29 is
    /// the exhaustive case; this one proves the 128-bit paths).
    #[test]
    fn the_mix_is_optimal_on_a_slash_125() {
        mix_is_optimal::<u128>(0x2001_0db8_u128 << 96 | 0x10, 3);
    }
}
