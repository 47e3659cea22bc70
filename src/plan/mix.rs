//! Service-tag routes mixed with CIDR routes: which of the candidate tags to use as whole routes.
//!
//! A tag route costs one route and sends every address of its tag, in both families, whatever
//! the file says next week. For a given set of tag routes each family's best explicit routes come
//! from the minimiser (`family::Job::solve`); this module tries every set of candidate tags,
//! smallest first, and keeps the best by (routes, extra addresses in the planned families, extra
//! addresses in a family left out, tag routes). With a budget the order is (extra addresses,
//! then routes). A set that already holds more tag routes than the best table has routes cannot
//! win and is skipped.

use super::PlanError;
use super::family::{Job, Lazy, NoTable};
use crate::prefix::{Addr, Intent, IntervalSet, Prefix, Table};
use crate::snapshot::ServiceTag;

/// Up to this many candidate tag routes, every set is weighed (2^12 sets) and the choice is
/// proven optimal; with more, the choice is a greedy search's.
pub const MAX_CANDIDATES: usize = 12;
/// Most sets the greedy search of many candidates weighs: a bound on work, not on time, so that
/// a plan is the same on every machine.
pub const GREEDY_SETS: usize = 256;
/// Most sets weighed to prove a choice among many candidates (exact strategy, no budget), every
/// set of each size while the floor of routes leaves room to win.
pub const EXACT_SETS: usize = 4096;

/// `n` choose `k`, saturating.
fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1usize, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

/// Calls `f` with every set of `size` of `0..n`, in order.
fn combinations(n: usize, size: usize, f: &mut dyn FnMut(&[usize])) {
    fn go(start: usize, n: usize, size: usize, set: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if set.len() == size {
            f(set);
            return;
        }
        for i in start..n {
            set.push(i);
            go(i + 1, n, size, set, f);
            set.pop();
        }
    }
    go(0, n, size, &mut Vec::with_capacity(size), f);
}

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
    /// When not proven: the fewest routes any table could have, if a floor says (the optimum
    /// lies between it and this choice's routes).
    pub lower_bound: Option<usize>,
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
        let left_out_extra =
            left_out(self.v4, |t| &t.ipv4, &tags) + left_out(self.v6, |t| &t.ipv6, &tags);
        let key = match self.budget {
            None => (routes as u128, extra, left_out_extra, n_tags as u128),
            Some(_) => (extra, left_out_extra, routes as u128, n_tags as u128),
        };
        Ok((
            key,
            Choice {
                tag_routes: chosen.to_vec(),
                v4: v4_table,
                v6: v6_table,
                left_out_extra,
                proven: true,
                weighed: 0,
                lower_bound: None,
            },
        ))
    }
}

/// Chooses among the candidate tag routes (at most `max_tag_routes` of them): every set when
/// there are at most [`MAX_CANDIDATES`], which proves the choice optimal. Beyond that, with the
/// exact strategy and no budget, every set of each size while a floor of routes says a larger one
/// could still win, within [`EXACT_SETS`]: proven too when the floor closes the search. Else a
/// greedy search from the best so far (add the tag route that improves the table most, while
/// one does) of at most [`GREEDY_SETS`] sets, reported as not proven.
pub(super) fn choose(
    job: &Job,
    v4: &Side<u32>,
    v6: &Side<u128>,
    candidates: &[&ServiceTag],
    max_tag_routes: usize,
    budget: Option<usize>,
) -> Result<Choice, PlanError> {
    let mut w = Weigher {
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
    };
    let mut smallest_needed: Option<u64> = None;
    let mut note = |n: Option<u64>| {
        if let Some(n) = n {
            smallest_needed = Some(smallest_needed.map_or(n, |s| s.min(n)));
        }
    };
    let k = candidates.len();
    let mut best: Option<(Key, Choice)> = None;
    // A bound for the exact strategy without a budget: its tag routes send only selected and
    // slack addresses, so each more of them only relaxes what the CIDR routes must do, and no set
    // needs fewer CIDR routes than the set of every candidate. A set of `n` tag routes has at
    // least `n` + that many routes; taking sets smallest first, once that passes the best
    // table's routes no larger set can win.
    let floor: Option<u128> = match (budget, job.strategy) {
        (None, super::Strategy::Exact) if k > 0 => {
            let all: Vec<usize> = (0..k).collect();
            w.weigh(&all, None).ok().map(|(key, choice)| {
                (key.0 as usize).saturating_sub(choice.tag_routes.len()) as u128
            })
        }
        _ => None,
    };
    let mut proven = k <= MAX_CANDIDATES;
    let mut lower_bound: Option<usize> = None;
    if proven {
        let mut sets: Vec<u32> = (0..1u32 << k)
            .filter(|s| s.count_ones() as usize <= max_tag_routes)
            .collect();
        sets.sort_by_key(|s| (s.count_ones(), *s));
        // Sets of more tag routes than the budget: no answer, but their size counts in the error.
        let mut over_budget: Vec<Vec<usize>> = Vec::new();
        for set in sets {
            let chosen: Vec<usize> = (0..k).filter(|i| set & (1 << i) != 0).collect();
            let n_tags = chosen.len();
            // A set whose least possible routes pass the best table's cannot win.
            if let (None, Some((key, _))) = (budget, &best)
                && n_tags as u128 + floor.unwrap_or(0) > key.0
            {
                break;
            }
            let left = budget.map(|b| b.checked_sub(n_tags));
            if left == Some(None) {
                over_budget.push(chosen);
                continue;
            }
            match w.weigh(&chosen, left.flatten()) {
                Ok((key, choice)) if best.as_ref().is_none_or(|(b, _)| key < *b) => {
                    best = Some((key, choice));
                }
                Ok(_) => {}
                Err(n) => note(n),
            }
        }
        if best.is_none() && budget.is_some() {
            // The true smallest table, tag routes included, for the error.
            for chosen in over_budget {
                // Under a budget the key's third place is the table's routes.
                if let Ok((key, _)) = w.weigh(&chosen, None) {
                    note(Some(key.2 as u64));
                }
            }
        }
    } else {
        match w.weigh(&[], budget) {
            Ok(found) => best = Some(found),
            Err(n) => note(n),
        }
        // Every set of each size, smallest first, while the floor says a larger set could still
        // win and the sets weighed stay within EXACT_SETS: then the choice is proven after all.
        if let Some(floor) = floor {
            for size in 1.. {
                let best_routes = best.as_ref().map_or(u128::MAX, |(key, _)| key.0);
                if size > max_tag_routes.min(k) || size as u128 + floor > best_routes {
                    proven = true;
                    break;
                }
                if w.weighed.saturating_add(binomial(k, size)) > EXACT_SETS {
                    // Every smaller set was weighed: no table has fewer routes than this.
                    lower_bound = Some((size as u128 + floor).min(best_routes) as usize);
                    break;
                }
                combinations(k, size, &mut |chosen| match w.weigh(chosen, None) {
                    Ok((key, choice)) if best.as_ref().is_none_or(|(b, _)| key < *b) => {
                        best = Some((key, choice));
                    }
                    Ok(_) => {}
                    Err(n) => note(n),
                });
            }
        }
        if !proven {
            let start = w.weighed;
            let mut current: Vec<usize> = best
                .as_ref()
                .map(|(_, c)| c.tag_routes.clone())
                .unwrap_or_default();
            while current.len() < max_tag_routes && w.weighed < start + GREEDY_SETS {
                let mut step: Option<(Key, Choice)> = None;
                for c in (0..k).filter(|c| !current.contains(c)) {
                    if w.weighed >= start + GREEDY_SETS {
                        break;
                    }
                    let mut chosen = current.clone();
                    chosen.push(c);
                    let left = budget.map(|b| b.checked_sub(chosen.len()));
                    if left == Some(None) {
                        continue;
                    }
                    match w.weigh(&chosen, left.flatten()) {
                        Ok((key, choice)) if step.as_ref().is_none_or(|(b, _)| key < *b) => {
                            step = Some((key, choice));
                        }
                        Ok(_) => {}
                        Err(n) => note(n),
                    }
                }
                match step {
                    Some((key, choice)) if best.as_ref().is_none_or(|(b, _)| key < *b) => {
                        current = choice.tag_routes.clone();
                        best = Some((key, choice));
                    }
                    _ => break,
                }
            }
        }
    }
    let weighed = w.weighed;
    match (best, budget) {
        (Some((_, mut choice)), _) => {
            choice.proven = proven;
            choice.weighed = weighed;
            choice.lower_bound = lower_bound.filter(|_| !proven);
            Ok(choice)
        }
        (None, Some(max)) => Err(PlanError::BudgetTooSmall {
            max,
            smallest: smallest_needed.unwrap_or(u64::MAX),
        }),
        (None, None) => unreachable!("the set without tag routes always has a table"),
    }
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
                let snapshot = Snapshot {
                    source: "brute".into(),
                    cloud: Cloud::Public,
                    change_number: 1,
                    tags,
                    next_link: None,
                };
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
            }
        }
    }

    #[test]
    fn the_mix_is_optimal_on_a_slash_29() {
        mix_is_optimal::<u32>(0x0a00_0008, 1);
    }

    /// The same at the far end of the address width.
    #[test]
    fn the_mix_is_optimal_on_a_slash_125() {
        mix_is_optimal::<u128>(0x2001_0db8_u128 << 96 | 0x10, 1);
    }
}
