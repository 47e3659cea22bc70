//! In-process kernels of the prefix engine behind `aggregate` and `lookup`: the parallel line parser with sort-and-coalesce on a deterministic
//! synthetic list (the generator behind `benches/peers.sh`, 200k lines so a run stays short),
//! and the address index. Whole-process comparisons with other tools are in `benches/peers.sh`.

#[path = "common/synthetic.rs"]
mod synthetic;

#[path = "common/public_file.rs"]
mod data;

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tagroute::internals as bulk;
use tagroute::lookup::LookupIndex;
use tagroute::snapshot;

fn benches(c: &mut Criterion) {
    let mut lines = Vec::new();
    synthetic::write_prefixes(&mut lines, false, 200_000, 2026).unwrap();
    let mut group = c.benchmark_group("aggregate_200k_ipv4_lines");
    group.throughput(Throughput::Elements(200_000));
    group.bench_function("parse_sort_coalesce_merge", |b| {
        b.iter(|| {
            let parsed =
                bulk::parse_parallel(black_box(&lines[..]), 2, Some(lines.len() as u64)).unwrap();
            parsed.into_sets()
        })
    });
    group.finish();

    let Some(bytes) = data::public_file() else {
        eprintln!("skipped: ServiceTags_Public_20251028.json not found");
        return;
    };
    let snap = snapshot::parse("public", &bytes).expect("valid file");
    c.bench_function("lookup_index_build", |b| {
        b.iter(|| LookupIndex::build(black_box(&snap)))
    });
    let index = LookupIndex::build(&snap);
    let mut rng = fastrand::Rng::with_seed(7);
    let addrs: Vec<IpAddr> = (0..10_000)
        .map(|_| IpAddr::V4(Ipv4Addr::from(rng.u32(..))))
        .collect();
    let mut group = c.benchmark_group("lookup_10k_random_ipv4");
    group.throughput(Throughput::Elements(addrs.len() as u64));
    group.bench_function("lookup", |b| {
        b.iter(|| addrs.iter().map(|&a| index.lookup(a).len()).sum::<usize>())
    });
    group.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
