//! `tagroute check --subscription`: every subnet of the subscriptions judged against one
//! profile, in one report (the library finds, reads and judges; this words and prints).

use tagroute::check::{self, Verdict};
use tagroute::profile::Profile;
use tagroute::snapshot::Snapshot;

use crate::check::{Args, Format, verdict_word};
use crate::net::block_on;
use crate::output::{Diag, Status, deliver};

pub fn subscription(text: &str) -> Result<String, tagroute::arm::IdError> {
    tagroute::arm::subscription(text)
}

pub fn run(
    args: &Args,
    snapshot: &Snapshot,
    profile: &Profile,
    diag: &Diag,
) -> anyhow::Result<Status> {
    let mut client = args.auth.client(&args.source.net, snapshot.cloud)?;
    let (subnets, refused) = if args.all_subnets {
        block_on(check::estate::subnets(
            &mut client,
            &args.subscription,
            args.auth.operation_timeout,
        ))??
    } else {
        let (hosted, refused) = block_on(check::compute::hosted(&mut client, &args.subscription))??;
        (check::estate::hosting(hosted), refused)
    };
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
        args.public_ip,
        usize::from(args.jobs),
    ))?;
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "subnets": judged,
                "refused": refused,
            }))? + "\n"
        }
        Format::Table => table(&judged, false),
        Format::Markdown => table(&judged, true),
    };
    deliver(&text, None)?;
    let unjudged = judged.iter().filter(|j| j.verdict.is_none()).count();
    if !refused.is_empty() || unjudged > 0 {
        anyhow::bail!(
            "the answer is incomplete: {} refused and {} not judged (see above); nothing can be \
             said of them",
            tagroute::text::plural(refused.len(), "row"),
            tagroute::text::plural(unjudged, "subnet")
        );
    }
    Ok(if judged.iter().all(|j| j.verdict == Some(Verdict::Ok)) {
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
                j.verdict.map_or("error", verdict_word).to_owned(),
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
