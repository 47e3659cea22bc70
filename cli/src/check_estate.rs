//! `tagroute check --subscription`: the estate's subnets judged, each against its compute's
//! profile (or every subnet against one), in one report (the library finds, reads and judges;
//! this words and prints).

use std::time::Duration;

use tagroute::arm::ArmClient;
use tagroute::check::{self, Verdict};
use tagroute::profile::Profile;
use tagroute::snapshot::Snapshot;

use crate::net::block_on;
use crate::output::{Diag, Status, deliver};

/// The estate's options of `tagroute check`.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Estate")]
pub struct EstateArgs {
    /// Judge the subnets of this subscription (repeatable) that host Azure ML compute or Batch
    /// pools, each against its compute's profile, read live in its virtual network's region.
    #[arg(long, value_name = "ID", value_parser = subscription,
          conflicts_with_all = ["region", "tag", "subnet", "route_table", "nsg", "effective_nsgs", "effective_routes", "subnet_file", "vnet_file", "fix_format"])]
    pub subscription: Vec<String>,
    /// With --subscription: every subnet Azure Resource Graph names, against --profile.
    #[arg(long, requires = "subscription")]
    pub all_subnets: bool,
    /// Subnets read at once in an estate.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
}

/// How `check` prints its report, for one subnet or an estate.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

fn subscription(text: &str) -> Result<String, tagroute::arm::IdError> {
    tagroute::arm::subscription(text)
}

/// Finds the estate's subnets through `client`, judges them (against `profile` unless their
/// compute names another) and prints one report.
pub fn run(
    args: &EstateArgs,
    mut client: ArmClient,
    within: Duration,
    (snapshot, profile): (&Snapshot, &Profile),
    public_ip: bool,
    format: Format,
    diag: &Diag,
) -> anyhow::Result<Status> {
    let (subnets, refused) = block_on(check::estate::find(
        &mut client,
        &args.subscription,
        args.all_subnets,
        within,
    ))??;
    for r in &refused {
        diag.warn(format!(
            "refused a row of the answer: {}: {}",
            r.id, r.reason
        ));
    }
    if args.all_subnets {
        diag.note(format!(
            "judging {} against the {} profile",
            tagroute::text::plural(subnets.len(), "subnet"),
            profile.name
        ));
    } else {
        diag.note(format!(
            "judging {} that host Azure ML compute or Batch pools, each against its compute's profile",
            tagroute::text::plural(subnets.len(), "subnet"),
        ));
    }
    let judged = block_on(check::estate::judge(
        &client,
        snapshot,
        profile,
        subnets,
        public_ip,
        usize::from(args.jobs),
    ))?;
    let estate = check::estate::Estate {
        subnets: judged,
        refused,
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&estate)? + "\n",
        Format::Table => table(&estate.subnets, false),
        Format::Markdown => table(&estate.subnets, true),
    };
    deliver(&text, None)?;
    if let Some((refused, unjudged)) = estate.incomplete() {
        anyhow::bail!(
            "the answer is incomplete: {} refused and {} not judged (see above); nothing can be \
             said of them",
            tagroute::text::plural(refused, "row"),
            tagroute::text::plural(unjudged, "subnet")
        );
    }
    Ok(if estate.all_ok() {
        Status::Ok
    } else {
        Status::Differences
    })
}

fn table(judged: &[check::estate::Judged], markdown: bool) -> String {
    let count = |j: &check::estate::Judged, v| {
        j.report
            .as_ref()
            .map_or(0, |r| r.flows.iter().filter(|f| f.verdict == v).count())
    };
    let rows: Vec<Vec<String>> = judged
        .iter()
        .map(|j| {
            let first = match (&j.error, &j.report) {
                (Some(e), _) => e.clone(),
                (None, Some(r)) => r
                    .flows
                    .iter()
                    .find(|f| f.verdict != Verdict::Ok)
                    .and_then(|f| f.reasons.first())
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            };
            vec![
                j.verdict.map_or("error", Verdict::word).to_owned(),
                tagroute::text::for_terminal(&j.id).into_owned(),
                tagroute::text::for_terminal(&j.location).into_owned(),
                j.profile.clone(),
                count(j, Verdict::Blocked).to_string(),
                count(j, Verdict::Unknown).to_string(),
                tagroute::text::for_terminal(&first).into_owned(),
            ]
        })
        .collect();
    let header = [
        "VERDICT",
        "SUBNET",
        "REGION",
        "PROFILE",
        "BLOCKED",
        "UNKNOWN",
        "FIRST REASON",
    ];
    let mut out = if markdown {
        tagroute::emit::table::markdown(&header, &rows)
    } else {
        tagroute::emit::table::columns(&header, &rows)
    };
    let of = |v| judged.iter().filter(|j| j.verdict == Some(v)).count();
    out.push_str(&format!(
        "\n{}: {} ok, {} blocked, {} unknown, {} not judged\n",
        tagroute::text::plural(judged.len(), "subnet"),
        of(Verdict::Ok),
        of(Verdict::Blocked),
        of(Verdict::Unknown),
        judged.iter().filter(|j| j.verdict.is_none()).count()
    ));
    out
}
