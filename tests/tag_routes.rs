//! The specification of service-tag routes on real files, through the library: on every region
//! of the newest file of each cloud, a plan that may use tag routes (`auto`, with the global
//! tags as slack) sends exactly the selected addresses plus allowed slack, checked by the
//! independent model (`model/`) with each tag route expanded from the raw file; it never has more
//! routes than the CIDR plan, and the global tags replace all of theirs when both have UDR.

mod model;
mod planning;

use model::*;
use planning::plan;
use serde_json::{Value, json};
use tagroute::options::TableOptions;
use tagroute::snapshot::Snapshot;

const NEWEST: [&str; 3] = [
    "ServiceTags_Public_20251028.json",
    "ServiceTags_AzureGovernment_20260720.json",
    "ServiceTags_China_20260720.json",
];

/// The plan of `region` with these options, as `plan --format json` writes it.
fn plan_json(snapshot: &Snapshot, region: &str, mut options: TableOptions) -> Value {
    options.region = Some(region.to_owned());
    plan(snapshot, &options).json
}

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
    let dir = data_dir();
    for file in NEWEST {
        let path = snapshot(&dir, file);
        let tags = raw_tags(&path);
        let snapshot = tagroute::snapshot::load(&path).unwrap();
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
            let cidr = plan_json(&snapshot, &region, TableOptions::default());
            let tag_routes = TableOptions {
                tag_routes: Some(vec!["auto".into()]),
                slack: Some(vec![
                    "AzureMachineLearning".into(),
                    "BatchNodeManagement".into(),
                ]),
                ..TableOptions::default()
            };
            let plan = plan_json(&snapshot, &region, tag_routes);
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
