//! Prints the README's route-count figures for a public service-tag file:
//! `cargo run --release --example figures -- ../shared/data/servicetags/ServiceTags_Public_20251028.json`
//!
//! For every region: routes for the default tags under exact / lpm / lpm with the region's
//! AzureCloud tag as slack; the same for AzureCloud.eastus and for all regions' default tags; and
//! the fewest extra addresses at route budgets of 400 and 100.

use tagroute::model::NextHop;
use tagroute::plan::{Plan, PlanError, PlanOptions, Slack, Strategy, plan};
use tagroute::select;
use tagroute::snapshot::{self, Snapshot};

fn run(
    s: &Snapshot,
    tags: &[usize],
    strategy: Strategy,
    slack: Slack,
    budget: Option<usize>,
) -> Result<Plan, PlanError> {
    let opts = PlanOptions {
        strategy,
        default_next_hop: Some(NextHop::VirtualAppliance("10.0.0.4".parse().unwrap())),
        slack,
        max_routes: budget.unwrap_or(usize::MAX),
        budget: budget.is_some(),
        ..PlanOptions::default()
    };
    plan(s, None, tags, &opts)
}

fn routes(p: &Result<Plan, PlanError>) -> String {
    match p {
        Ok(p) => p.routes.len().to_string(),
        Err(_) => "–".into(),
    }
}

fn extra(p: &Result<Plan, PlanError>) -> String {
    match p {
        Ok(p) => p.slack.as_ref().map_or(0, |s| s.addresses).to_string(),
        Err(PlanError::BudgetTooSmall { smallest, .. }) => {
            format!("impossible (needs {smallest} routes)")
        }
        Err(e) => e.to_string(),
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: figures SERVICE_TAG_FILE");
    let s = snapshot::load(&path).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "Figures for {} ({} changeNumber {}), IPv4:\n",
        path, s.cloud, s.change_number
    );
    println!(
        "| region | prefixes | exact | lpm | lpm + slack AzureCloud.<region> | extra addresses |"
    );
    println!("|---|---|---|---|---|---|");
    let mut all_defaults = Vec::new();
    let legacy = tagroute::profile::by_name("legacy-2020").unwrap();
    for region in select::regions(&s) {
        // The figures are of the 2020 pair, the region's own two tags.
        let tags = legacy.route_tags(&s, &region).tags;
        if tags.is_empty() {
            continue;
        }
        all_defaults.extend(tags.iter().copied());
        let cloud =
            select::match_tags(&s, &[format!("AzureCloud.{}", region.field)]).unwrap_or_default();
        let prefixes: usize = tags.iter().map(|&i| s.tags[i].ipv4.len()).sum();
        let exact = run(&s, &tags, Strategy::Exact, Slack::None, None);
        let lpm = run(&s, &tags, Strategy::Lpm, Slack::None, None);
        let slack = run(&s, &tags, Strategy::Lpm, Slack::Tags(cloud), None);
        println!(
            "| {} | {prefixes} | {} | {} | {} | {} |",
            region.name,
            routes(&exact),
            routes(&lpm),
            routes(&slack),
            extra(&slack)
        );
    }
    all_defaults.sort_unstable();
    let azure = select::match_tags(&s, &["AzureCloud".into()]).unwrap();
    let eastus = select::match_tags(&s, &["AzureCloud.eastus".into()]).unwrap();
    println!("\n| selection | exact | lpm | exact + slack AzureCloud | lpm + slack AzureCloud |");
    println!("|---|---|---|---|---|");
    for (name, tags) in [
        ("AzureCloud.eastus", &eastus),
        ("all regions' default tags", &all_defaults),
    ] {
        let cells: Vec<String> = [
            run(&s, tags, Strategy::Exact, Slack::None, None),
            run(&s, tags, Strategy::Lpm, Slack::None, None),
            run(&s, tags, Strategy::Exact, Slack::Tags(azure.clone()), None),
            run(&s, tags, Strategy::Lpm, Slack::Tags(azure.clone()), None),
        ]
        .iter()
        .map(routes)
        .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    println!(
        "\nFewest extra addresses sent to Internet within a route budget (all regions' default tags):\n"
    );
    println!(
        "| budget | exact + slack AzureCloud | lpm + slack AzureCloud | exact + any slack | lpm + any slack |"
    );
    println!("|---|---|---|---|---|");
    for n in [400, 100] {
        let cells: Vec<String> = [
            run(
                &s,
                &all_defaults,
                Strategy::Exact,
                Slack::Tags(azure.clone()),
                Some(n),
            ),
            run(
                &s,
                &all_defaults,
                Strategy::Lpm,
                Slack::Tags(azure.clone()),
                Some(n),
            ),
            run(&s, &all_defaults, Strategy::Exact, Slack::Any, Some(n)),
            run(&s, &all_defaults, Strategy::Lpm, Slack::Any, Some(n)),
        ]
        .iter()
        .map(extra)
        .collect();
        println!("| {n} | {} |", cells.join(" | "));
    }
}
