//! The tag-route mix at Azure's scale, through the library: on the real public file the 58
//! candidates of `AzureCloud.EastUS` are searched to a proof with and without budgets;
//! independent candidates are decided apart; a search that runs out of work says how far it may
//! be from the optimum; and on synthetic files of twenty overlapping candidates a proven plan
//! matches a brute force over every set of them (moved from the binary's tests, which ran
//! `plan --format json` for each case).

mod model;
mod planning;

use planning::*;
use serde_json::Value;
use tagroute::options::TableOptions;
use tagroute::plan::Strategy;
use tagroute::snapshot::Snapshot;

/// `AzureCloud.EastUS` with the global `AzureCloud` as slack, and `more` options.
fn eastus(snapshot: &Snapshot, more: TableOptions) -> Value {
    let options = TableOptions {
        tags: strings(&["AzureCloud.EastUS"]),
        slack: strings(&["AzureCloud"]),
        ..more
    };
    plan(snapshot, &options).json
}

fn extra(d: &Value) -> u64 {
    d["slack"]["addresses"].as_u64().unwrap_or(0)
}

/// The lpm strategy, back to a firewall.
fn lpm(more: TableOptions) -> TableOptions {
    TableOptions {
        strategy: Some(Strategy::Lpm),
        default_next_hop: Some(
            tagroute::request::parse_default_next_hop("VirtualAppliance:10.0.0.4").unwrap(),
        ),
        ..more
    }
}

/// The tag `Sel` with the tags `Udr*` as candidate routes, and `more` options.
fn udr(more: TableOptions) -> TableOptions {
    TableOptions {
        tags: strings(&["Sel"]),
        tag_routes: strings(&["Udr*"]),
        ..more
    }
}

fn auto() -> TableOptions {
    TableOptions {
        tag_routes: strings(&["auto"]),
        ..TableOptions::default()
    }
}

#[test]
fn the_58_candidates_of_azurecloud_eastus_are_proven_with_and_without_budgets() {
    let snapshot = real("ServiceTags_Public_20251028.json");
    let d = eastus(&snapshot, auto());
    let report = &d["tagRoutes"];
    assert_eq!(report["candidates"].as_array().unwrap().len(), 58);
    assert_eq!(report["provenOptimal"], true, "{report}");
    assert_eq!(report["used"], serde_json::json!(["Storage.EastUS"]));
    let plain = eastus(&snapshot, TableOptions::default());
    assert!(d["summary"]["routes"].as_u64() < plain["summary"]["routes"].as_u64());
    // With a budget the mix is proven too, and never sends more extra addresses than the plan
    // without tag routes within the same budget (the empty set is one of those searched).
    for max in [250, 400] {
        let budget = |more: TableOptions| TableOptions {
            budget: Some(max),
            ..more
        };
        let mixed = eastus(&snapshot, budget(auto()));
        assert_eq!(mixed["tagRoutes"]["provenOptimal"], true, "{max}");
        assert!(mixed["summary"]["routes"].as_u64().unwrap() <= max as u64);
        let cidr = eastus(&snapshot, budget(TableOptions::default()));
        assert!(extra(&mixed) <= extra(&cidr), "{max}");
    }
    // The lpm strategy, whose tag routes may need exceptions, is proven as well.
    let lpm = eastus(&snapshot, lpm(auto()));
    assert_eq!(lpm["tagRoutes"]["provenOptimal"], true);
}

/// A selection of `n` single addresses far apart, each the only prefix of a UDR tag.
fn scattered(n: usize) -> Snapshot {
    let addr = |i: usize| format!("198.51.{}.{}/32", i * 8, i * 2 + 1);
    let names: Vec<String> = (0..n).map(|i| format!("Udr{i}")).collect();
    let each: Vec<[String; 1]> = (0..n).map(|i| [addr(i)]).collect();
    let all: Vec<String> = (0..n).map(addr).collect();
    let mut tags: Vec<(&str, bool, &[String])> = vec![("Sel", false, &all)];
    for (name, prefixes) in names.iter().zip(&each) {
        tags.push((name, true, prefixes));
    }
    tag_snapshot(&tags)
}

#[test]
fn independent_candidates_are_decided_apart() {
    // Fourteen tags, each alone in its part of the address space: with routes only to Internet
    // none can change another's routes, so each is weighed alone (not 2^14 sets), and the plan is
    // proven: a tag route saves nothing over the route it replaces, and fewer tag routes win ties.
    let d = plan(&scattered(14), &udr(TableOptions::default())).json;
    assert_eq!(d["tagRoutes"]["provenOptimal"], true, "{}", d["tagRoutes"]);
    assert_eq!(d["summary"]["routes"], 14);
    assert_eq!(d["summary"]["tagRoutes"], 0);
    assert!(d["tagRoutes"]["setsWeighed"].as_u64().unwrap() < 64);
}

#[test]
fn a_search_that_runs_out_of_work_says_how_far_it_may_be() {
    // Thirty scattered tags under the lpm strategy, where a covering route and exceptions could
    // tie any of them to any other: the bound cannot tell the sets apart, so the search stops at
    // its bound on work, says so, and gives the floor it reached; the same plan on every run.
    let file = scattered(30);
    let options = udr(lpm(TableOptions::default()));
    let planned = plan(&file, &options);
    let d = &planned.json;
    let report = &d["tagRoutes"];
    assert_eq!(report["provenOptimal"], false, "{report}");
    assert_eq!(d["summary"]["routes"], 30);
    let bound = report["routesLowerBound"].as_u64().expect("a floor");
    assert!(bound <= 30, "{report}");
    let said = format!(
        "so the mix is not proven optimal (no table has fewer than {bound} routes: this one is at \
         most {} routes above the optimum); fewer tag_route tags or a lower max_tag_routes \
         narrow the search",
        30 - bound
    );
    assert!(
        planned.notices.iter().any(|n| n.ends_with(&said)),
        "{:?}",
        planned.notices
    );
    assert_eq!(&plan(&file, &options).json, d);
}

#[test]
fn max_tag_routes_bounds_the_search() {
    // The thirty candidates that exhaust the search above are proven at once when the table may
    // hold none or one of them: the empty set alone, or each candidate alone.
    let file = scattered(30);
    for (max, sets) in [(0, 1), (1, 31)] {
        let options = udr(lpm(TableOptions {
            max_tag_routes: Some(max),
            ..TableOptions::default()
        }));
        let d = plan(&file, &options).json;
        let report = &d["tagRoutes"];
        assert_eq!(report["provenOptimal"], true, "{max}: {report}");
        assert_eq!(report["setsWeighed"], sets, "{max}: {report}");
        assert_eq!(d["summary"]["routes"], 30);
    }
}

#[test]
fn a_budgeted_search_that_runs_out_of_work_gives_its_floor_of_extra_addresses() {
    // The same thirty candidates with any slack and a budget of twenty routes: the search stops
    // at its bound on work and gives the fewest extra addresses a table within the budget could
    // send, no more than its own.
    let file = scattered(30);
    let options = udr(lpm(TableOptions {
        allow_any_slack: Some(true),
        budget: Some(20),
        ..TableOptions::default()
    }));
    let planned = plan(&file, &options);
    let d = &planned.json;
    let report = &d["tagRoutes"];
    assert_eq!(report["provenOptimal"], false, "{report}");
    assert!(report.get("routesLowerBound").is_none(), "{report}");
    assert!(d["summary"]["routes"].as_u64().unwrap() <= 20);
    let sent = d["slack"]["addresses"].as_u64().unwrap();
    let floor: u64 = report["extraAddressesLowerBound"]
        .as_str()
        .expect("a floor of extra addresses")
        .parse()
        .unwrap();
    assert!(floor <= sent, "{report}");
    let said = format!(
        "so the mix is not proven optimal (no table within the budget sends fewer than {floor} \
         extra addresses, this one sends {sent})"
    );
    assert!(
        planned.notices.iter().any(|n| n.contains(&said)),
        "{:?}",
        planned.notices
    );
    assert_eq!(&plan(&file, &options).json, d);
}

/// 256 addresses as bits.
type Bits = [u64; 4];

fn bits_of(blocks: &[(usize, usize, String)]) -> Bits {
    let mut m = [0u64; 4];
    for (start, size, _) in blocks {
        for a in *start..start + size {
            m[a / 64] |= 1 << (a % 64);
        }
    }
    m
}

/// Whether any (`all`: every) address of the block `lo`, `len` is set.
fn span(m: &Bits, lo: usize, len: usize, all: bool) -> bool {
    if len >= 64 {
        let words = &m[lo / 64..(lo + len) / 64];
        return if all {
            words.iter().all(|&w| w == u64::MAX)
        } else {
            words.iter().any(|&w| w != 0)
        };
    }
    let mask = if len == 64 {
        u64::MAX
    } else {
        ((1u64 << len) - 1) << (lo % 64)
    };
    let w = m[lo / 64] & mask;
    if all { w == mask } else { w != 0 }
}

/// Fewest CIDR blocks covering `need` using only blocks inside `allowed`, in the /24 whose 256
/// addresses the bits are: a block whole inside is one route, else its halves.
fn cover(need: &Bits, allowed: &Bits, lo: usize, len: usize) -> usize {
    if !span(need, lo, len, false) {
        return 0;
    }
    if span(allowed, lo, len, true) {
        return 1;
    }
    let half = len / 2;
    cover(need, allowed, lo, half) + cover(need, allowed, lo + half, half)
}

/// A tag's blocks as a file gives them: in order, each once, none inside another.
fn tag_of(mut blocks: Vec<(usize, usize, String)>) -> Vec<(usize, usize, String)> {
    blocks.sort_by_key(|b| b.0);
    blocks.dedup_by_key(|b| b.2.clone());
    blocks
        .iter()
        .filter(|b| {
            !blocks
                .iter()
                .any(|o| o.2 != b.2 && o.0 <= b.0 && b.0 + b.1 <= o.0 + o.1)
        })
        .cloned()
        .collect()
}

/// The mix of twenty overlapping candidates against a brute force over every set of them: when
/// the plan says it is proven optimal, its table has the fewest routes any set allows; when not,
/// its floor is no higher than that.
#[test]
fn a_proven_mix_of_twenty_overlapping_candidates_matches_a_brute_force() {
    let mut seed: u64 = 0x9e37_79b9;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut proven = 0;
    for case in 0..6 {
        // Twenty UDR tags of random blocks in 203.0.113.0/24, overlapping; the selection is
        // their union and a few more blocks, so every tag is a candidate.
        let block = |next: &mut dyn FnMut(u64) -> u64| {
            // Wider blocks on even cases, narrower on odd ones.
            let len = if case % 2 == 0 {
                26 + next(6)
            } else {
                28 + next(4)
            } as usize;
            let size = 1usize << (32 - len);
            let start = (next(256 / size as u64) as usize) * size;
            (start, size, format!("203.0.113.{start}/{len}"))
        };
        let mut tags: Vec<Vec<(usize, usize, String)>> = Vec::new();
        for _ in 0..20 {
            let n = 1 + next(3) as usize;
            tags.push(tag_of((0..n).map(|_| block(&mut next)).collect()));
        }
        let more: Vec<(usize, usize, String)> = (0..3).map(|_| block(&mut next)).collect();
        let all: Vec<(usize, usize, String)> =
            tags.iter().flatten().chain(&more).cloned().collect();
        let selected = bits_of(&all);
        // The selection as its own tag: every selected /32, aggregated by the planner anyway.
        let sel_prefixes: Vec<String> = (0..256)
            .filter(|a| selected[a / 64] & (1 << (a % 64)) != 0)
            .map(|a| format!("203.0.113.{a}/32"))
            .collect();
        let names: Vec<String> = (0..tags.len()).map(|i| format!("Udr{i}")).collect();
        let prefixes: Vec<Vec<String>> = tags
            .iter()
            .map(|t| t.iter().map(|b| b.2.clone()).collect())
            .collect();
        let mut file_tags: Vec<(&str, bool, &[String])> = vec![("Sel", false, &sel_prefixes)];
        for (name, p) in names.iter().zip(&prefixes) {
            file_tags.push((name, true, p));
        }
        let d = plan(&tag_snapshot(&file_tags), &udr(TableOptions::default())).json;
        // Brute force: every set of tag routes, its CIDR routes the fewest covering what the tags
        // leave (their addresses are free to cover again).
        let masks: Vec<Bits> = tags.iter().map(|t| bits_of(t)).collect();
        let mut best = usize::MAX;
        for set in 0u32..(1 << tags.len()) {
            let mut free = [0u64; 4];
            for (i, m) in masks.iter().enumerate() {
                if set & (1 << i) != 0 {
                    for w in 0..4 {
                        free[w] |= m[w];
                    }
                }
            }
            let need: Bits = std::array::from_fn(|w| selected[w] & !free[w]);
            let allowed: Bits = std::array::from_fn(|w| selected[w] | free[w]);
            let routes = set.count_ones() as usize + cover(&need, &allowed, 0, 256);
            best = best.min(routes);
        }
        let routes = d["summary"]["routes"].as_u64().unwrap() as usize;
        assert!(routes >= best, "case {case}: {routes} < brute force {best}");
        if d["tagRoutes"]["provenOptimal"] == true {
            proven += 1;
            assert_eq!(
                routes, best,
                "case {case}: proven but not optimal: {}",
                d["tagRoutes"]
            );
        } else if let Some(lb) = d["tagRoutes"]["routesLowerBound"].as_u64() {
            assert!(
                lb as usize <= best,
                "case {case}: the lower bound {lb} passes the optimum {best}"
            );
        }
    }
    // The search proves its choice on these, or the test proves nothing.
    assert_eq!(proven, 6);
}

/// Fewest extra addresses (sent `In`, neither selected nor already sent by a tag route) with at
/// most `k` routes, for each `k` up to `max`, covering `need` with blocks inside `allowed`, in
/// the block `lo`, `len`: a tree knapsack.
fn within(need: &Bits, allowed: &Bits, paid: &Bits, lo: usize, len: usize, max: usize) -> Vec<u64> {
    const NO: u64 = u64::MAX;
    let mut out = vec![NO; max + 1];
    if !span(need, lo, len, false) {
        return vec![0; max + 1];
    }
    if span(allowed, lo, len, true) && max >= 1 {
        let extra = (lo..lo + len)
            .filter(|a| paid[a / 64] & (1 << (a % 64)) != 0)
            .count() as u64;
        out[1..].iter_mut().for_each(|x| *x = extra);
    }
    if len > 1 {
        let half = len / 2;
        let l = within(need, allowed, paid, lo, half, max);
        let r = within(need, allowed, paid, lo + half, half, max);
        for k in 0..=max {
            for a in 0..=k {
                if l[a] != NO && r[k - a] != NO {
                    out[k] = out[k].min(l[a] + r[k - a]);
                }
            }
        }
    }
    out
}

/// With a route budget the mix sends the fewest extra addresses: against a brute force over
/// every set of twelve overlapping candidates, some of them holding slack addresses, and every
/// table of CIDR routes within what the budget leaves.
#[test]
fn a_budgeted_mix_of_twelve_overlapping_candidates_matches_a_brute_force() {
    let mut seed: u64 = 0x5bd1_e995;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut checked = 0;
    for case in 0..6 {
        let block = |next: &mut dyn FnMut(u64) -> u64| {
            let len = (28 + next(4)) as usize;
            let size = 1usize << (32 - len);
            let start = (next(256 / size as u64) as usize) * size;
            (start, size, format!("203.0.113.{start}/{len}"))
        };
        // Tags of two to four scattered blocks (a tag route can save several routes), one block
        // in three slack rather than selected, so a tag route may cost extra addresses too.
        // Besides, scattered selected addresses in wide slack blocks: a tight budget covers
        // them with slack, a looser one needs less of it.
        let sized = |next: &mut dyn FnMut(u64) -> u64, len: usize| {
            let size = 1usize << (32 - len);
            let start = (next(256 / size as u64) as usize) * size;
            (start, size, format!("203.0.113.{start}/{len}"))
        };
        let mut sel_blocks: Vec<(usize, usize, String)> =
            (0..8).map(|_| sized(&mut next, 32)).collect();
        let mut slack_blocks: Vec<(usize, usize, String)> =
            (0..4).map(|_| sized(&mut next, 27)).collect();
        let mut tags: Vec<Vec<(usize, usize, String)>> = Vec::new();
        for _ in 0..12 {
            let n = 2 + next(3) as usize;
            let kept = tag_of((0..n).map(|_| block(&mut next)).collect());
            for b in &kept {
                if next(3) == 0 {
                    slack_blocks.push(b.clone());
                } else {
                    sel_blocks.push(b.clone());
                }
            }
            tags.push(kept);
        }
        let selected = bits_of(&sel_blocks);
        let slack: Bits = std::array::from_fn(|w| bits_of(&slack_blocks)[w] & !selected[w]);
        let hosts = |m: &Bits| -> Vec<String> {
            (0..256)
                .filter(|a| m[a / 64] & (1 << (a % 64)) != 0)
                .map(|a| format!("203.0.113.{a}/32"))
                .collect()
        };
        let (sel_hosts, slack_hosts) = (hosts(&selected), hosts(&slack));
        let names: Vec<String> = (0..tags.len()).map(|i| format!("Udr{i}")).collect();
        let prefixes: Vec<Vec<String>> = tags
            .iter()
            .map(|t| t.iter().map(|b| b.2.clone()).collect())
            .collect();
        let mut file_tags: Vec<(&str, bool, &[String])> =
            vec![("Sel", false, &sel_hosts), ("Slk", false, &slack_hosts)];
        for (name, p) in names.iter().zip(&prefixes) {
            file_tags.push((name, true, p));
        }
        let file = tag_snapshot(&file_tags);
        let masks: Vec<Bits> = tags.iter().map(|t| bits_of(t)).collect();
        // The fewest routes any table needs, then budgets from there to a few more.
        let fewest = (0u32..1 << tags.len())
            .map(|set| {
                let free = union(&masks, set);
                let need: Bits = std::array::from_fn(|w| selected[w] & !free[w]);
                let allowed: Bits = std::array::from_fn(|w| selected[w] | slack[w] | free[w]);
                set.count_ones() as usize + cover(&need, &allowed, 0, 256)
            })
            .min()
            .unwrap();
        for max in [fewest, fewest + 1, fewest + 3] {
            let mut brute = u64::MAX;
            for set in 0u32..1 << tags.len() {
                let n = set.count_ones() as usize;
                if n > max {
                    continue;
                }
                let free = union(&masks, set);
                let need: Bits = std::array::from_fn(|w| selected[w] & !free[w]);
                let allowed: Bits = std::array::from_fn(|w| selected[w] | slack[w] | free[w]);
                // Addresses a CIDR route would add: slack ones the tag routes do not send.
                let paid: Bits = std::array::from_fn(|w| slack[w] & !free[w]);
                let by_tags: u64 = (0..4)
                    .map(|w| (free[w] & !selected[w]).count_ones() as u64)
                    .sum();
                let routes = within(&need, &allowed, &paid, 0, 256, max - n)[max - n];
                if routes != u64::MAX {
                    brute = brute.min(by_tags + routes);
                }
            }
            let options = TableOptions {
                tags: strings(&["Sel"]),
                slack: strings(&["Slk"]),
                tag_routes: strings(&["Udr*"]),
                budget: Some(max),
                ..TableOptions::default()
            };
            let d = plan(&file, &options).json;
            assert!(d["summary"]["routes"].as_u64().unwrap() as usize <= max);
            assert_eq!(
                d["tagRoutes"]["provenOptimal"], true,
                "case {case} budget {max}"
            );
            let got = d["slack"]["addresses"].as_u64().unwrap_or(0);
            assert_eq!(got, brute, "case {case} budget {max}: {}", d["tagRoutes"]);
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}

/// The addresses of the masks a set picks.
fn union(masks: &[Bits], set: u32) -> Bits {
    let mut free = [0u64; 4];
    for (i, m) in masks.iter().enumerate() {
        if set & (1 << i) != 0 {
            for w in 0..4 {
                free[w] |= m[w];
            }
        }
    }
    free
}
