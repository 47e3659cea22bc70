//! Prints the README's tag-route figures for a service-tag file:
//! `cargo run --release --example tag_route_figures -- FILE`
//!
//! For every region, and for all regions' default tags together: the routes of the exact CIDR
//! plan, and of the best plan that may also use any UDR-capable tag as a route with the global
//! AzureMachineLearning and BatchNodeManagement tags as slack (`--tag-route auto --slack
//! AzureMachineLearning --slack BatchNodeManagement`): its routes, its extra IPv4 addresses, the
//! IPv6 addresses its tag routes also send, and the tags it uses.

use tagroute::plan::{Plan, PlanOptions, Slack, plan};
use tagroute::select;
use tagroute::snapshot::{self, Snapshot};

fn with_tag_routes(s: &Snapshot, tags: &[usize]) -> Plan {
    let slack = select::match_tags(
        s,
        &["AzureMachineLearning".into(), "BatchNodeManagement".into()],
    )
    .unwrap_or_default();
    let opts = PlanOptions {
        slack: Slack::Tags(slack),
        tag_routes: select::match_tag_routes(s, &["auto".into()]).expect("auto"),
        max_routes: usize::MAX,
        ..PlanOptions::default()
    };
    plan(s, None, tags, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn cidr(s: &Snapshot, tags: &[usize]) -> Plan {
    let opts = PlanOptions {
        max_routes: usize::MAX,
        ..PlanOptions::default()
    };
    plan(s, None, tags, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn row(name: &str, s: &Snapshot, tags: &[usize]) {
    let before = cidr(s, tags);
    let after = with_tag_routes(s, tags);
    let report = after.tag_routes.as_ref().expect("tag routes allowed");
    let used = if report.used.is_empty() {
        "–".to_owned()
    } else {
        report.used.join(", ")
    };
    println!(
        "| {name} | {} | {} | {} | {} | {used} |",
        before.routes.len(),
        after.routes.len(),
        after.slack.as_ref().map_or(0, |s| s.addresses),
        report.left_out_extra_addresses,
    );
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: tag_route_figures SERVICE_TAG_FILE");
    let s = snapshot::load(&path).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{} ({} changeNumber {}):\n",
        path.rsplit('/').next().unwrap_or(&path),
        s.cloud,
        s.change_number
    );
    println!(
        "| region | CIDR routes | with tag routes | extra IPv4 addresses | extra IPv6 addresses | tag routes |"
    );
    println!("|---|---|---|---|---|---|");
    let mut all = Vec::new();
    let legacy = tagroute::profile::by_name("legacy-2020").unwrap();
    for region in select::regions(&s) {
        // The figures are of the 2020 pair, the region's own two tags.
        let tags = legacy.route_tags(&s, &region).tags;
        if tags.is_empty() {
            continue;
        }
        all.extend(tags.iter().copied());
        row(&region.name, &s, &tags);
    }
    all.sort_unstable();
    row("**all regions**", &s, &all);
}
