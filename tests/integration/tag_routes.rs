//! Service-tag routes (`--tag-route`): on every region of the newest file of each cloud the plan
//! sends exactly the selected addresses plus allowed slack, checked by the harness's own interval
//! model with each tag route expanded from the raw file; without slack the plan stays the CIDR
//! one; tags without UDR are refused; every format writes the tag name as the address prefix;
//! diff, drift and refresh treat tag routes as Azure does; a terminal gets the hint once.

use serde_json::{Value, json};

use crate::harness::*;

const NEWEST: [&str; 3] = [
    "ServiceTags_Public_20251028.json",
    "ServiceTags_AzureGovernment_20260720.json",
    "ServiceTags_China_20260720.json",
];

/// Raw prefixes of the tag named `name` (case-insensitive), from the file itself.
fn prefixes_of(tags: &[(String, u64, Vec<String>)], name: &str) -> Vec<String> {
    tags.iter()
        .find(|t| t.0.eq_ignore_ascii_case(name))
        .map(|t| t.2.clone())
        .unwrap_or_default()
}

fn subset(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    a.iter()
        .all(|&(lo, hi)| b.iter().any(|&(l, h)| l <= lo && hi <= h))
}

/// Regions that have a regional BatchNodeManagement or AzureMachineLearning tag, by suffix.
fn regions(tags: &[(String, u64, Vec<String>)]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter_map(|t| {
            let (base, suffix) = t.0.split_once('.')?;
            ["BatchNodeManagement", "AzureMachineLearning"]
                .contains(&base)
                .then(|| suffix.to_owned())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_region_sends_the_selection_and_only_allowed_slack() {
    let Some(dir) = data_dir() else { return };
    for file in NEWEST {
        let path = snapshot(&dir, file);
        let tags = raw_tags(&path);
        let udr_capable = |name: &str| {
            let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            v["values"].as_array().unwrap().iter().any(|t| {
                t["name"] == name
                    && t["properties"]["networkFeatures"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|x| x == "UDR"))
            })
        };
        let global_udr: Vec<&str> = ["AzureMachineLearning", "BatchNodeManagement"]
            .into_iter()
            .filter(|n| udr_capable(n))
            .collect();
        let slack: Vec<String> = ["AzureMachineLearning", "BatchNodeManagement"]
            .iter()
            .flat_map(|n| prefixes_of(&tags, n))
            .collect();
        for region in regions(&tags) {
            let what = format!("{file} {region}");
            let cidr = tagroute(&[
                "plan", "--file", &path, "--region", &region, "--format", "json", "-q",
            ])
            .status(0)
            .json();
            let plan = tagroute(&[
                "plan",
                "--file",
                &path,
                "--region",
                &region,
                "--tag-route",
                "auto",
                "--slack",
                "AzureMachineLearning",
                "--slack",
                "BatchNodeManagement",
                "--format",
                "json",
                "-q",
            ])
            .status(0)
            .json();
            let selected: Vec<String> = plan["tags"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| prefixes_of(&tags, t["name"].as_str().unwrap()))
                .collect();
            // What the table sends to Internet: CIDR routes, and every prefix of each tag route.
            let mut sent: Vec<String> = Vec::new();
            let mut used_tags = Vec::new();
            for r in plan["routes"].as_array().unwrap() {
                assert_eq!(r["nextHopType"], "Internet", "{what}");
                let dest = r["addressPrefix"].as_str().unwrap();
                if r.get("serviceTag").is_some() {
                    let raw = prefixes_of(&tags, dest);
                    let v4 = raw.iter().filter(|p| !p.contains(':')).count();
                    assert_eq!(r["serviceTag"]["ipv4Prefixes"], v4, "{what} {dest}");
                    assert_eq!(r["serviceTag"]["ipv6Prefixes"], raw.len() - v4, "{what}");
                    assert!(global_udr.contains(&dest), "{what}: {dest} lacks UDR");
                    assert_eq!(r["name"], format!("tagroute-{dest}"), "{what}");
                    used_tags.push(dest.to_owned());
                    sent.extend(raw);
                } else {
                    sent.push(dest.to_owned());
                }
            }
            let (sent, want) = (v4_ranges(&sent), v4_ranges(&selected));
            assert!(
                subset(&want, &sent),
                "{what}: a selected address is not sent"
            );
            let allowed = v4_ranges(&[selected.clone(), slack.clone()].concat());
            assert!(
                subset(&sent, &allowed),
                "{what}: an address outside slack is sent"
            );
            // Never more routes than the CIDR plan, and the global tags replace all of theirs.
            let n = plan["routes"].as_array().unwrap().len();
            assert!(n <= cidr["routes"].as_array().unwrap().len(), "{what}");
            assert_eq!(plan["summary"]["tagRoutes"], used_tags.len(), "{what}");
            assert_eq!(plan["tagRoutes"]["used"], json!(used_tags), "{what}");
            if global_udr.len() == 2 {
                assert!(n <= 2, "{what}: {n} routes");
            }
        }
    }
}

#[test]
fn without_slack_the_plan_stays_the_cidr_one() {
    let Some(dir) = data_dir() else { return };
    let path = snapshot(&dir, NEWEST[0]);
    let base = [
        "plan", "--file", &path, "--region", "eastus", "--format", "json",
    ];
    let cidr = tagroute(&base).status(0).json();
    let auto = tagroute(&[&base[..], &["--tag-route", "auto"]].concat())
        .status(0)
        .json();
    assert_eq!(auto["routes"], cidr["routes"]);
    assert_eq!(auto["tagRoutes"]["used"], json!([]));
    assert_eq!(auto["tagRoutes"]["candidates"], json!([]));
}

#[test]
fn tags_without_udr_are_refused() {
    let example = example();
    let plan = ["plan", "--file", &example, "--region", "westeurope"];
    tagroute(&[&plan[..], &["--tag-route", "BatchNodeManagement.WestEurope"]].concat())
        .fails_with("'BatchNodeManagement.WestEurope' cannot be a route's address prefix: its networkFeatures lack UDR");
    tagroute(&[&plan[..], &["--tag-route", "AzureMachineLearning.*"]].concat())
        .fails_with("matches no tag whose networkFeatures include UDR");
    tagroute(&[&plan[..], &["--tag-route", "NoSuchTag"]].concat()).fails_with("--tag-route");
}

#[test]
fn every_format_names_the_tag_as_the_address_prefix() {
    let example = example();
    let args = |format: &str| {
        tagroute(&[
            "plan",
            "--file",
            &example,
            "--region",
            "westeurope",
            "--tag-route",
            "AzureMachineLearning",
            "--slack",
            "AzureMachineLearning",
            "--format",
            format,
            "--resource-group",
            "rg",
            "--route-table",
            "rt",
            "-q",
        ])
        .status(0)
        .stdout
    };
    assert!(args("az").contains(
        "--name 'tagroute-AzureMachineLearning' --address-prefix 'AzureMachineLearning' --next-hop-type Internet"
    ));
    assert!(args("terraform").contains("address_prefix      = \"AzureMachineLearning\""));
    assert!(args("bicep").contains("addressPrefix: 'AzureMachineLearning'"));
    assert!(args("csv").contains("tagroute-AzureMachineLearning,AzureMachineLearning,Internet,,"));
    assert!(
        args("table").contains("tagroute-AzureMachineLearning  AzureMachineLearning  Internet")
    );
    let arm: Value = serde_json::from_str(&args("arm")).unwrap();
    assert!(
        arm["variables"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["properties"]["addressPrefix"] == "AzureMachineLearning")
    );
    // The JSON keeps Azure's route shape and says what the tag stands for today: 4 IPv4
    // prefixes of 16 addresses, 2 IPv6 /64s.
    let plan: Value = serde_json::from_str(&args("json")).unwrap();
    let route = &plan["routes"][0];
    assert_eq!(route["addressPrefix"], "AzureMachineLearning");
    assert_eq!(
        route["serviceTag"],
        json!({"ipv4Prefixes": 4, "ipv6Prefixes": 2, "ipv4Addresses": 64, "ipv6Addresses": (2u128 << 64).to_string()})
    );
    // The France Central half of the tag is slack here: 32 IPv4 addresses, and a /64 of IPv6.
    assert_eq!(plan["slack"]["addresses"], 32);
    assert_eq!(plan["tagRoutes"]["leftOutFamily"], "ipv6");
    assert_eq!(
        plan["tagRoutes"]["leftOutExtraAddresses"],
        (1u128 << 64).to_string()
    );
}

#[test]
fn diff_owns_managed_tag_routes_and_counts_them_against_the_limit() {
    let example = example();
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table.json");
    let mut routes = vec![
        json!({"name": "tagroute-AzureMachineLearning", "addressPrefix": "AzureMachineLearning", "nextHopType": "Internet"}),
        json!({"name": "tagroute-203.0.113.7-32", "addressPrefix": "203.0.113.7/32", "nextHopType": "Internet"}),
        json!({"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}),
    ];
    std::fs::write(&table, serde_json::to_vec(&routes).unwrap()).unwrap();
    let tpath = table.to_str().unwrap();
    let args = [
        "diff",
        "--file",
        &example,
        "--region",
        "westeurope",
        "--tag-route",
        "auto",
        "--slack",
        "AzureMachineLearning",
        "--slack",
        "BatchNodeManagement",
        "--existing",
        tpath,
        "--format",
        "json",
        "-q",
    ];
    let d = tagroute(&args).status(1).json();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&d["add"]), ["tagroute-BatchNodeManagement"]);
    assert_eq!(names(&d["remove"]), ["tagroute-203.0.113.7-32"]);
    assert_eq!(d["unchanged"], 1);
    // 24 unmanaged tag routes leave room for one of Azure's 25: the plan uses one tag route.
    for i in 0..24 {
        routes.push(json!({"name": format!("other-{i}"), "addressPrefix": "Storage", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    }
    std::fs::write(&table, serde_json::to_vec(&routes).unwrap()).unwrap();
    // (A table over the limit would be refused: that the diff is made is the proof.)
    let d = tagroute(&args).status(1).json();
    assert_eq!(d["summary"]["unmanaged"], 25, "{d}");
    // With room for two, both.
    let more = [&args[..], &["--max-tag-routes", "26"]].concat();
    tagroute(&more).status(1);
    // With none left, none, and no error.
    routes.push(json!({"name": "other-24", "addressPrefix": "Storage", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}));
    std::fs::write(&table, serde_json::to_vec(&routes).unwrap()).unwrap();
    let d = tagroute(&args).status(1).json();
    assert!(
        d["add"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["addressPrefix"].as_str().unwrap().contains('/')),
        "{d}"
    );
}

#[test]
fn refresh_of_tag_routes_reports_no_route_change_when_prefixes_move() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let next = example().replace("ServiceTags_Example.json", "ServiceTags_Example_next.json");
    let run = |file: &str| {
        tagroute(&[
            "refresh",
            "--state-dir",
            state,
            "--cloud",
            "public",
            "--file",
            file,
            "--region",
            "westeurope",
            "--tag-route",
            "auto",
            "--slack",
            "AzureMachineLearning",
            "--slack",
            "BatchNodeManagement",
            "-q",
        ])
    };
    run(&example()).status(1);
    // BatchNodeManagement.WestEurope moves a prefix; the tag routes stay as they are.
    run(&next).status(0);
    let current = std::path::Path::new(state).join("current");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(current.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["changed"], false);
    assert_eq!(
        summary["tagRoutes"],
        json!(["AzureMachineLearning", "BatchNodeManagement"])
    );
    assert_eq!(summary["drift"]["prefixesAdded"], 1);
    let md = std::fs::read_to_string(current.join("drift.md")).unwrap();
    assert!(
        md.contains("Azure follows their tags' prefixes by itself"),
        "{md}"
    );
}

#[test]
fn a_terminal_hears_once_what_tag_routes_would_save() {
    // `script` gives the run a terminal, as a user at a shell has.
    let example = example();
    let command = format!(
        "{} plan --file {example} --region westeurope",
        binary().display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&out.stdout);
    let hint = "service-tag routes AzureMachineLearning, BatchNodeManagement would take this \
                table from 4 routes to 2";
    assert_eq!(text.matches(hint).count(), 1, "{text}");
    // The flags it names give that table.
    let flags = text.split("add ").last().unwrap().trim();
    let mut args = vec!["plan", "--file", &example, "--region", "westeurope", "-q"];
    args.extend(flags.split_whitespace());
    let run = tagroute(&args).status(0);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("tagroute-"))
            .count(),
        2
    );
    // Piped, the table comes without it.
    let piped = tagroute(&["plan", "--file", &example, "--region", "westeurope"]).status(0);
    assert!(
        !piped.stderr.contains("service-tag routes"),
        "{}",
        piped.stderr
    );
}

#[test]
fn a_budget_error_names_the_true_smallest_table() {
    // Two tag routes make the smallest table; sets larger than the budget count in the error.
    tagroute(&[
        "plan", "-f", &example(), "-r", "westeurope", "--tag-route", "auto", "--slack",
        "AzureMachineLearning", "--slack", "BatchNodeManagement", "--max-routes", "1",
    ])
    .fails_with("no table of at most 1 route meets the intent under the given slack; the smallest has 2 routes");
}

#[test]
fn tags_that_were_no_candidates_are_named_with_why() {
    let Some(dir) = data_dir() else { return };
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let run = tagroute(&[
        "plan",
        "-f",
        &path,
        "-r",
        "eastus",
        "--tag-route",
        "auto",
        "--slack",
        "AzureCloud",
        "--format",
        "json",
    ])
    .status(0);
    assert!(
        run.stderr.contains("not weighed as tag routes, since a route to the tag would also send addresses outside the selected tags and slack (--slack TAG allows them): ")
            && run.stderr.contains("(1 ipv6 address)"),
        "{}",
        run.stderr
    );
    let report = &run.json()["tagRoutes"]["notCandidates"];
    let aml = report
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "AzureMachineLearning")
        .unwrap();
    assert_eq!(
        (aml["ipv4Outside"].as_str(), aml["ipv6Outside"].as_str()),
        (Some("0"), Some("1"))
    );
}

#[test]
fn many_candidates_are_weighed_exactly_when_a_floor_closes_the_search() {
    let Some(dir) = data_dir() else { return };
    let path = snapshot(&dir, "ServiceTags_Public_20251028.json");
    let args = [
        "plan",
        "-f",
        &path,
        "--tag",
        "AzureCloud.EastUS",
        "--tag-route",
        "auto",
        "--slack",
        "AzureCloud",
        "--format",
        "json",
    ];
    let d = tagroute(&args).status(0).json();
    let report = &d["tagRoutes"];
    // 58 candidates, proven: no set of two or more tag routes can beat the one found.
    assert!(report["candidates"].as_array().unwrap().len() > 12);
    assert_eq!(report["provenOptimal"], true, "{report}");
    assert!(report["setsWeighed"].as_u64().unwrap() < 4096);
    assert_eq!(report["used"], serde_json::json!(["Storage.EastUS"]));
    let plain = tagroute(&[
        "plan",
        "-f",
        &path,
        "--tag",
        "AzureCloud.EastUS",
        "--slack",
        "AzureCloud",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert!(d["summary"]["routes"].as_u64() < plain["summary"]["routes"].as_u64());
    // Up to 12 candidates the choice is proven as ever.
    let few = tagroute(&[
        "plan",
        "-f",
        &example(),
        "-r",
        "westeurope",
        "--tag-route",
        "auto",
        "--format",
        "json",
    ])
    .status(0)
    .json();
    assert_eq!(few["tagRoutes"]["provenOptimal"], true);
}

#[test]
fn many_candidates_no_floor_closes_are_searched_greedily_and_said_so() {
    // Fourteen UDR tags, each one selected /32 apart from the others: every set of tag routes
    // makes a table of fourteen routes, the floor (no CIDR route with all of them) closes
    // nothing, and the sets of each size pass what may be weighed to prove the choice.
    let dir = tempfile::tempdir().unwrap();
    let addr = |i: usize| format!("198.51.{}.{}/32", i * 16, i * 2 + 1);
    let names: Vec<String> = (0..14).map(|i| format!("Udr{i}")).collect();
    let each: Vec<[String; 1]> = (0..14).map(|i| [addr(i)]).collect();
    let all: Vec<String> = (0..14).map(addr).collect();
    let mut tags: Vec<(&str, bool, &[String])> = vec![("Sel", false, &all)];
    for (name, prefixes) in names.iter().zip(&each) {
        tags.push((name, true, prefixes));
    }
    let file = std::path::PathBuf::from(tag_file(&dir.path().join("tags.json"), &tags));
    let args = [
        "plan",
        "-f",
        file.to_str().unwrap(),
        "--tag",
        "Sel",
        "--tag-route",
        "Udr*",
        "--format",
        "json",
    ];
    let run = tagroute(&args).status(0);
    let d = run.json();
    assert_eq!(d["tagRoutes"]["provenOptimal"], false, "{}", d["tagRoutes"]);
    assert!(
        run.stderr.contains("so it is not proven optimal"),
        "{}",
        run.stderr
    );
    // The table is still the smallest there is (fourteen routes, none of them tag routes, as
    // fewer tag routes win a tie), and the same on every run.
    assert_eq!(d["summary"]["routes"], 14);
    assert_eq!(d["summary"]["tagRoutes"], 0);
    // Every set of up to five tag routes was weighed and none of their tables beat fourteen; the
    // floor says no table has fewer than six routes, and the plan says so.
    assert_eq!(d["tagRoutes"]["routesLowerBound"], 6, "{}", d["tagRoutes"]);
    assert!(
        run.stderr.contains(
            "no table has fewer than 6 routes: this one is at most 8 routes above the optimum"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(tagroute(&args).status(0).json(), d);
}

/// Fewest CIDR blocks covering `need` using only blocks inside `need | free`, in the /24 whose
/// 256 addresses the masks' bits are: a block whole inside is one route, else its halves.
fn cover(need: &[bool; 256], free: &[bool; 256], lo: usize, len: usize) -> usize {
    let span = &need[lo..lo + len];
    if !span.iter().any(|&b| b) {
        return 0;
    }
    if (lo..lo + len).all(|a| need[a] || free[a]) {
        return 1;
    }
    let half = len / 2;
    cover(need, free, lo, half) + cover(need, free, lo + half, half)
}

/// The mix of many overlapping candidates against a brute force over every set of them: when the
/// plan says it is proven optimal, its table has the fewest routes any set allows.
#[test]
fn a_proven_mix_of_many_overlapping_candidates_matches_a_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed: u64 = 0x9e37_79b9;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for case in 0..8 {
        // Fourteen UDR tags of random blocks in 203.0.113.0/24, overlapping; the selection is
        // their union and a few more blocks, so every tag is a candidate.
        let block = |next: &mut dyn FnMut(u64) -> u64| {
            // Wider blocks on even cases (the floor often closes), narrower on odd ones.
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
        for _ in 0..14 {
            let n = 1 + next(3) as usize;
            let mut t: Vec<(usize, usize, String)> = (0..n).map(|_| block(&mut next)).collect();
            t.sort_by_key(|b| b.0);
            t.dedup_by_key(|b| b.2.clone());
            // Drop blocks inside others: a tag's prefixes are as the files give them.
            let kept: Vec<_> = t
                .iter()
                .filter(|b| {
                    !t.iter()
                        .any(|o| o.2 != b.2 && o.0 <= b.0 && b.0 + b.1 <= o.0 + o.1)
                })
                .cloned()
                .collect();
            tags.push(kept);
        }
        let extra: Vec<(usize, usize, String)> = (0..3).map(|_| block(&mut next)).collect();
        let mut selected = [false; 256];
        for (start, size, _) in tags.iter().flatten().chain(&extra) {
            selected[*start..start + size]
                .iter_mut()
                .for_each(|b| *b = true);
        }
        let mut sel_prefixes: Vec<String> = Vec::new();
        // The selection as its own tag: every selected /32, aggregated by the planner anyway.
        for (a, &on) in selected.iter().enumerate() {
            if on {
                sel_prefixes.push(format!("203.0.113.{a}/32"));
            }
        }
        let names: Vec<String> = (0..tags.len()).map(|i| format!("Udr{i}")).collect();
        let prefixes: Vec<Vec<String>> = tags
            .iter()
            .map(|t| t.iter().map(|b| b.2.clone()).collect())
            .collect();
        let mut file_tags: Vec<(&str, bool, &[String])> = vec![("Sel", false, &sel_prefixes)];
        for (name, p) in names.iter().zip(&prefixes) {
            file_tags.push((name, true, p));
        }
        let file = std::path::PathBuf::from(tag_file(
            &dir.path().join(format!("case{case}.json")),
            &file_tags,
        ));
        let d = tagroute(&[
            "plan",
            "-f",
            file.to_str().unwrap(),
            "--tag",
            "Sel",
            "--tag-route",
            "Udr*",
            "--format",
            "json",
        ])
        .status(0)
        .json();
        // Brute force: every set of tag routes, its CIDR routes the fewest covering what the tags
        // leave (their addresses are free to cover again).
        let masks: Vec<[bool; 256]> = tags
            .iter()
            .map(|t| {
                let mut m = [false; 256];
                for (start, size, _) in t {
                    m[*start..start + size].iter_mut().for_each(|b| *b = true);
                }
                m
            })
            .collect();
        let mut best = usize::MAX;
        for set in 0u32..(1 << tags.len()) {
            let mut free = [false; 256];
            for (i, m) in masks.iter().enumerate() {
                if set & (1 << i) != 0 {
                    for a in 0..256 {
                        free[a] |= m[a];
                    }
                }
            }
            let need: [bool; 256] = std::array::from_fn(|a| selected[a] && !free[a]);
            let free_or_sel: [bool; 256] = std::array::from_fn(|a| free[a] || selected[a]);
            let routes = set.count_ones() as usize + cover(&need, &free_or_sel, 0, 256);
            best = best.min(routes);
        }
        let routes = d["summary"]["routes"].as_u64().unwrap() as usize;
        assert!(routes >= best, "case {case}: {routes} < brute force {best}");
        if d["tagRoutes"]["provenOptimal"] == true {
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
}
