//! `tagroute refresh`: one unattended run for cron or a systemd timer.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use reqwest::Url;
use serde_json::{Value, json};
use tagroute::drift::{self, DriftOptions};
use tagroute::emit::{self, PlanFormat, Target};
use tagroute::plan::Plan;
use tagroute::snapshot::{self, Cloud, Snapshot};
use tagroute::{diff, routes, source, state};

use super::args::PlanSelection;
use super::net::{Bar, CloudArg, NetArgs, block_on};
use super::output::{Diag, Status, deliver};
use super::plan::make_plan;

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Get the newest file, compare it with the last snapshot in the state \
directory, and write the new snapshot, the plan, the drift report and (with --existing) the diff \
as one atomic state change. Prints a short summary; with --webhook, POSTs it when something \
changed";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute refresh --state-dir /var/lib/tagroute --cloud public --region eastus --format az \\
      -g rg-net --route-table rt-aml
  tagroute refresh --state-dir state --cloud public --region eastus --existing routes.json \\
      --webhook https://hooks.example.com/tagroute

State directory: DIR/current links to the newest complete run: snapshot.json, plan.json,
plan.<ext> (--format), drift.json and drift.md (from the second run on), diff.json and diff.sh
(with --existing), summary.json.

Exit status: 0 the selected tags did not change, 1 routes must change, 2 error (the previous
state is then left as it was; a failed webhook also exits 2, after the state is written).")]
pub struct Args {
    /// State directory (created if missing).
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
    /// The cloud.
    #[arg(long, value_enum)]
    cloud: CloudArg,
    /// Read this service-tag file instead of downloading (`-` for stdin).
    #[arg(long, short = 'f', value_name = "FILE")]
    file: Option<String>,
    #[command(flatten)]
    selection: PlanSelection,
    /// The route table's routes, to write the diff (and its az script) as well.
    #[arg(long, short = 'e', value_name = "ROUTES")]
    existing: Option<String>,
    /// Also write the plan in this format next to plan.json.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Resource group for the az and terraform output.
    #[arg(long, short = 'g', value_name = "G", value_parser = super::values::resource_group)]
    resource_group: Option<String>,
    /// Route table for the az, terraform, arm and bicep output.
    #[arg(long, value_name = "T", value_parser = super::values::route_table)]
    route_table: Option<String>,
    /// POST the JSON summary here when something changed (same retries as downloads).
    #[arg(long, value_name = "URL")]
    webhook: Option<Url>,
    /// Seconds to wait for another run's lock before giving up.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = super::values::wait)]
    lock_timeout: Duration,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    summary_format: SummaryFormat,
    #[command(flatten)]
    net: NetArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Csv,
    Az,
    Terraform,
    Arm,
    Bicep,
}

impl Format {
    fn file_and_format(self) -> (&'static str, PlanFormat) {
        match self {
            Format::Table => ("plan.txt", PlanFormat::Table),
            Format::Csv => ("plan.csv", PlanFormat::Csv),
            Format::Az => ("plan.sh", PlanFormat::Az),
            Format::Terraform => ("plan.tf", PlanFormat::Terraform),
            Format::Arm => ("plan.arm.json", PlanFormat::Arm),
            Format::Bicep => ("plan.bicep", PlanFormat::Bicep),
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum SummaryFormat {
    Text,
    Json,
}

/// The newest file's bytes and where they came from.
fn get_file(args: &Args, cloud: Cloud, diag: &Diag) -> anyhow::Result<(Vec<u8>, Value)> {
    if let Some(f) = &args.file {
        return Ok((
            snapshot::read_source(f)?.to_vec(),
            json!({"file": snapshot::source_name(f)}),
        ));
    }
    let store = args.net.store()?;
    if args.net.offline {
        let path = super::net::cached_file(cloud, &args.net, diag)?;
        return Ok((
            std::fs::read(&path)?,
            json!({"file": path.display().to_string(), "offline": true}),
        ));
    }
    let http = args.net.http()?;
    let mut notes = Vec::new();
    let bar = Bar::new(diag.quiet);
    let result = block_on(source::fetch(
        &http,
        &store,
        cloud,
        &args.net.endpoints(cloud),
        &args.net.discover(),
        &bar,
        &mut notes,
    ))?;
    for n in notes {
        diag.note(n);
    }
    let outcome = result?;
    let bytes =
        std::fs::read(&outcome.path).with_context(|| format!("cannot read {}", outcome.path))?;
    Ok((bytes, serde_json::to_value(&outcome)?))
}

fn pretty(v: &impl serde::Serialize) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).expect("serialisable");
    b.push(b'\n');
    b
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let cloud = Cloud::from(args.cloud);
    // A webhook that could never be called is an error before anything is done.
    if let Some(url) = &args.webhook {
        source::http::check_url(url).context("--webhook")?;
    }
    let _lock = state::lock(&args.state_dir, args.lock_timeout)?;
    let (bytes, source_info) = get_file(&args, cloud, diag)?;
    let new = snapshot::parse(
        source_info["file"]
            .as_str()
            .or(source_info["url"].as_str())
            .unwrap_or("download"),
        &bytes,
    )?;
    anyhow::ensure!(
        new.cloud == cloud,
        "{} is a {} file, not {}",
        new.source,
        new.cloud,
        cloud
    );

    let previous_dir = state::current(&args.state_dir)?;
    let previous: Option<Snapshot> = match &previous_dir {
        Some(dir) => {
            let path = dir.join("snapshot.json");
            Some(snapshot::load(
                path.to_str().context("state path is not UTF-8")?,
            )?)
        }
        None => None,
    };
    if let Some(prev) = &previous {
        anyhow::ensure!(
            new.change_number >= prev.change_number,
            "the new file has changeNumber {}, older than the state's {}: refusing to roll back",
            new.change_number,
            prev.change_number
        );
    }
    let table = args.existing.as_deref().map(routes::load).transpose()?;
    let default_hop = table.as_ref().and_then(super::diff::table_default_hop);
    let plan = make_plan(&new, &args.selection, default_hop, diag)?;

    let previous_routes: Option<Value> = previous_dir
        .as_ref()
        .and_then(|d| std::fs::read(d.join("plan.json")).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .map(|p| p["routes"].clone());
    let routes_now = serde_json::to_value(&plan.routes)?;

    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("snapshot.json".into(), bytes.clone()),
        ("plan.json".into(), pretty(&plan)),
    ];
    let target = Target {
        resource_group: args.resource_group.clone(),
        route_table: args.route_table.clone(),
    };
    if let Some(f) = args.format {
        let (name, format) = f.file_and_format();
        files.push((
            name.into(),
            emit::render_plan(&plan, format, &target).into_bytes(),
        ));
    }
    let drift_report = match &previous {
        Some(prev) => {
            let opts = DriftOptions {
                region: args.selection.region.clone(),
                tags: args.selection.tag.clone(),
                family: args.selection.family.into(),
                name_prefix: args.selection.name_prefix.clone(),
            };
            let d = drift::drift(prev, &new, &opts, false).map_err(super::drift::in_flags)?;
            files.push(("drift.json".into(), emit::drift::json(&d).into_bytes()));
            files.push(("drift.md".into(), emit::drift::markdown(&d).into_bytes()));
            Some(d)
        }
        None => None,
    };
    let diff_report = match &table {
        Some(t) => {
            let d = diff::diff(
                &plan,
                &new,
                t,
                &args.selection.name_prefix,
                args.selection.max_routes(),
            )?;
            files.push(("diff.json".into(), emit::diff::json(&d).into_bytes()));
            files.push((
                "diff.sh".into(),
                emit::diff::az_script(&d, &emit::provenance(&plan), &target).into_bytes(),
            ));
            Some(d)
        }
        None => None,
    };
    let changed = match &diff_report {
        Some(d) => !d.is_empty(),
        None => previous_routes.as_ref() != Some(&routes_now),
    };
    let summary = summary(
        &plan,
        previous.as_ref(),
        changed,
        &source_info,
        &previous_routes,
        &routes_now,
        drift_report.as_ref(),
        diff_report.as_ref(),
    );
    files.push(("summary.json".into(), pretty(&summary)));
    // Notifications not yet delivered travel with the state from one generation to the next
    // until the webhook takes them; this run's joins them when something changed.
    let mut pending = previous_dir
        .as_deref()
        .map(pending_notifications)
        .transpose()?
        .unwrap_or_default();
    if changed && args.webhook.is_some() {
        let id = summary["runId"].as_str().unwrap_or_default();
        pending.push((format!("{WEBHOOK_PREFIX}{id}.json"), pretty(&summary)));
    }
    files.extend(pending.iter().cloned());
    let generation = state::commit(&args.state_dir, &new.change_number.to_string(), &files)?;

    let text = match args.summary_format {
        SummaryFormat::Json => String::from_utf8(pretty(&summary))?,
        SummaryFormat::Text => format!(
            "{} changeNumber {}{}: {} routes planned, {}; state in {}\n",
            cloud,
            new.change_number,
            previous
                .as_ref()
                .map(|p| format!(" (was {})", p.change_number))
                .unwrap_or_else(|| " (first run)".into()),
            plan.routes.len(),
            if changed {
                "routes must change"
            } else {
                "no route changes"
            },
            generation.display()
        ),
    };
    match &args.webhook {
        Some(url) if !pending.is_empty() => notify(&args, url, &generation, &pending)?,
        None if !pending.is_empty() => diag.warn(format!(
            "{} webhook notifications wait in the state for a run with --webhook",
            pending.len()
        )),
        _ => {}
    }
    deliver(&text, None)?;
    Ok(if changed {
        Status::Differences
    } else {
        Status::Ok
    })
}

/// Names of the state files that hold a notification not yet delivered.
const WEBHOOK_PREFIX: &str = "webhook-";

/// The notifications a generation holds, oldest first.
fn pending_notifications(generation: &std::path::Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut pending = Vec::new();
    for entry in std::fs::read_dir(generation)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(WEBHOOK_PREFIX) && name.ends_with(".json") {
            let bytes = std::fs::read(generation.join(&name))?;
            pending.push((name, bytes));
        }
    }
    pending.sort();
    Ok(pending)
}

/// POSTs each pending notification, oldest first, removing each from the state once it is
/// delivered; those that fail stay for the next run, and the run fails.
fn notify(
    args: &Args,
    url: &reqwest::Url,
    generation: &std::path::Path,
    pending: &[(String, Vec<u8>)],
) -> anyhow::Result<()> {
    let http = args.net.http()?;
    let mut failed = Vec::new();
    for (name, body) in pending {
        match block_on(http.post_json(url, body))? {
            Ok(()) => state::remove_file(generation, name)?,
            Err(e) => failed.push(e.to_string()),
        }
    }
    if let Some(first) = failed.first() {
        anyhow::bail!(
            "webhook failed ({first}); the state was written to {} and keeps {} notification(s) \
             for the next run",
            generation.display(),
            failed.len()
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn summary(
    plan: &Plan,
    previous: Option<&Snapshot>,
    changed: bool,
    source_info: &Value,
    previous_routes: &Option<Value>,
    routes_now: &Value,
    drift_report: Option<&drift::Drift>,
    diff_report: Option<&diff::Diff>,
) -> Value {
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (now, before) = (
        names(routes_now),
        previous_routes.as_ref().map(names).unwrap_or_default(),
    );
    // Names this run for a receiver that may see a notification twice (at least once).
    let run_id = format!(
        "{:012}-{:08x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        fastrand::u32(..)
    );
    json!({
        "runId": run_id,
        "cloud": plan.cloud.as_str(),
        "changeNumber": plan.change_number,
        "previousChangeNumber": previous.map(|p| p.change_number),
        "region": plan.region,
        "tags": plan.tags.iter().map(|t| &t.name).collect::<Vec<_>>(),
        "routes": plan.routes.len(),
        "changed": changed,
        "planChanges": {
            "add": now.iter().filter(|n| !before.contains(n)).collect::<Vec<_>>(),
            "remove": before.iter().filter(|n| !now.contains(n)).collect::<Vec<_>>(),
        },
        "drift": drift_report.map(|d| json!({
            "tagsChanged": d.tags.iter().filter(|t| !t.added.is_empty() || !t.removed.is_empty()).count(),
            "prefixesAdded": d.tags.iter().map(|t| t.added.len()).sum::<usize>(),
            "prefixesRemoved": d.tags.iter().map(|t| t.removed.len()).sum::<usize>(),
            "addedTags": d.added_tags, "removedTags": d.removed_tags,
        })),
        "diff": diff_report.map(|d| &d.summary),
        "source": source_info,
    })
}
