//! In-process kernels on the newest real public snapshot (`ServiceTags_Public_20251028.json`,
//! found through `$TAGROUTE_TEST_DATA` or `../shared/data/servicetags`): loading the file,
//! planning `eastus`, and aggregating every IPv4 prefix of the file with the trie.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use tagroute::plan::{PlanOptions, plan};
use tagroute::prefix::{IntervalSet, Prefix, aggregate};
use tagroute::select;
use tagroute::snapshot;

fn public_file() -> Option<Vec<u8>> {
    let dir = std::env::var_os("TAGROUTE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/servicetags")
        });
    std::fs::read(dir.join("ServiceTags_Public_20251028.json")).ok()
}

fn benches(c: &mut Criterion) {
    let Some(bytes) = public_file() else {
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
    c.bench_function("plan_eastus", |b| {
        b.iter(|| {
            let sel = select::for_plan(&snap, Some("eastus"), &[]).unwrap();
            plan(
                &snap,
                sel.region.as_ref(),
                &sel.tags,
                &PlanOptions::default(),
            )
            .unwrap()
        })
    });
    c.bench_function("aggregate_all_ipv4_trie", |b| {
        b.iter(|| aggregate(black_box(all_v4.iter().copied())))
    });
    c.bench_function("aggregate_all_ipv4_intervals", |b| {
        b.iter(|| IntervalSet::from_prefixes(black_box(&all_v4)).to_prefixes())
    });
}

criterion_group!(planner, benches);
criterion_main!(planner);
