//! In-process kernels on the newest real public snapshot (`ServiceTags_Public_20251028.json`,
//! found through `$TAGROUTE_TEST_DATA` or `../shared/data/servicetags`): loading the file,
//! planning `eastus` (with and without service-tag routes), and aggregating every IPv4 prefix of
//! the file with the trie.

#[path = "common/public_file.rs"]
mod data;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tagroute::plan::{PlanOptions, plan};
use tagroute::prefix::{Intent, IntervalSet, Prefix, aggregate, minimize, minimize_within};
use tagroute::select;
use tagroute::snapshot;

fn benches(c: &mut Criterion) {
    let Some(bytes) = data::public_file() else {
        eprintln!("skipped: ServiceTags_Public_20251028.json not found");
        return;
    };
    let snap = snapshot::parse("public", &bytes).expect("valid file");
    let all_v4: Vec<Prefix<u32>> = snap
        .tags
        .iter()
        .flat_map(|t| t.ipv4.iter().copied())
        .collect();

    c.bench_function("load_public_file", |b| {
        b.iter(|| snapshot::parse("public", black_box(&bytes)).unwrap())
    });
    let profile = tagroute::profile::by_name(tagroute::profile::DEFAULT_PROFILE).unwrap();
    c.bench_function("plan_eastus", |b| {
        b.iter(|| {
            let sel = profile.selection(&snap, Some("eastus"), &[]).unwrap();
            plan(
                &snap,
                sel.region.as_ref(),
                &sel.tags,
                &PlanOptions::default(),
            )
            .unwrap()
        })
    });
    // The same region allowed every UDR-capable tag as a route, the global Batch and AML tags as
    // slack: every set of candidate tag routes is weighed.
    let with_tags = PlanOptions {
        tag_routes: select::match_tag_routes(&snap, &["auto".into()]).unwrap(),
        slack: tagroute::plan::Slack::Tags(
            select::match_tags(
                &snap,
                &["AzureMachineLearning".into(), "BatchNodeManagement".into()],
            )
            .unwrap(),
        ),
        ..PlanOptions::default()
    };
    c.bench_function("plan_eastus_tag_routes", |b| {
        b.iter(|| {
            let sel = profile.selection(&snap, Some("eastus"), &[]).unwrap();
            plan(&snap, sel.region.as_ref(), &sel.tags, black_box(&with_tags)).unwrap()
        })
    });
    c.bench_function("aggregate_all_ipv4_trie", |b| {
        b.iter(|| aggregate(black_box(all_v4.iter().copied())))
    });
    c.bench_function("aggregate_all_ipv4_intervals", |b| {
        b.iter(|| IntervalSet::from_prefixes(black_box(&all_v4)).to_prefixes())
    });
    let everything = Intent {
        inside: IntervalSet::from_prefixes(&all_v4),
        slack: IntervalSet::new(),
    };
    c.bench_function("lpm_all_ipv4", |b| {
        b.iter(|| minimize(black_box(&everything), true))
    });
    // Every tag but the global AzureCloud ones, so that the union has structure left to exploit.
    let regional: Vec<Prefix<u32>> = snap
        .tags
        .iter()
        .filter(|t| t.suffix().is_some() && !t.name.starts_with("AzureCloud"))
        .flat_map(|t| t.ipv4.iter().copied())
        .collect();
    let regional = Intent {
        inside: IntervalSet::from_prefixes(&regional),
        slack: IntervalSet::new(),
    };
    c.bench_function("lpm_regional_ipv4", |b| {
        b.iter(|| minimize(black_box(&regional), true))
    });
    let defaults: Vec<Prefix<u32>> = snap
        .tags
        .iter()
        .filter(|t| {
            t.name.starts_with("BatchNodeManagement.")
                || t.name.starts_with("AzureMachineLearning.")
        })
        .flat_map(|t| t.ipv4.iter().copied())
        .collect();
    let any = Intent {
        inside: IntervalSet::from_prefixes(&defaults),
        slack: IntervalSet::from_ranges(vec![(0, u32::MAX)]),
    };
    c.bench_function("budget_400_all_regions_defaults", |b| {
        b.iter(|| minimize_within(black_box(&any), true, 400).unwrap())
    });
    let regional_any = Intent {
        inside: regional.inside.clone(),
        slack: any.slack.clone(),
    };
    c.bench_function("budget_400_regional_ipv4", |b| {
        b.iter(|| minimize_within(black_box(&regional_any), true, 400).unwrap())
    });
}

criterion_group!(planner, benches);
criterion_main!(planner);
