//! `--config FILE`: `diff`, `apply` and `refresh` over every route table of a fleet file. This
//! module turns the run's flags into the library's fleet run (the file of each cloud got once,
//! the clients, the action) and prints its report; the work is `tagroute::fleet`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tagroute::arm::ArmClient;
use tagroute::fleet::config::{self, TableSpec};
use tagroute::fleet::report;
use tagroute::fleet::run::{self, Action, CloudFile, Fleet, Report, RunOutcome};
use tagroute::options::Note;
use tagroute::snapshot::Cloud;
use tagroute::source::Wanted;

use crate::live::LiveArgs;
use crate::net::{NetArgs, block_on};
use crate::output::{Diag, Status, deliver};

/// The plan options a fleet file holds: given with `--config`, they are refused (set them in
/// `[defaults]` or a `[[table]]`).
pub const PLAN_FLAGS: [&str; 13] = [
    "region",
    "tag",
    "family",
    "name_prefix",
    "max_routes",
    "budget",
    "strategy",
    "default_next_hop",
    "slack",
    "allow_any_slack",
    "tag_route",
    "max_tag_routes",
    "route_table_id",
];

/// `--config`, `--table` and `--jobs`.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Fleet of route tables")]
pub struct FleetArgs {
    /// Work on every route table of this fleet file (tagroute.toml: [defaults] and one
    /// [[table]] per table, keys named as the flags); the plan options are then the file's.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only this table of the fleet file, by its name (repeatable).
    #[arg(long, value_name = "NAME", requires = "config")]
    pub table: Vec<String>,
    /// Most tables read and written at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub jobs: usize,
}

/// The report's form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Markdown,
}

/// The fleet file's tables, those `--table` names.
pub fn tables(
    args: &FleetArgs,
    path: &std::path::Path,
    cloud: Option<Cloud>,
    diag: &Diag,
) -> anyhow::Result<Vec<TableSpec>> {
    let default_cloud = cloud.unwrap_or(Cloud::Public);
    let mut specs = config::load(&path.display().to_string(), default_cloud)?;
    if !args.table.is_empty() {
        for name in &args.table {
            anyhow::ensure!(
                specs.iter().any(|s| s.name.eq_ignore_ascii_case(name)),
                "--table {}: no table of that name in {} (its tables: {})",
                tagroute::text::quoted(name),
                path.display(),
                specs
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        specs.retain(|s| args.table.iter().any(|n| s.name.eq_ignore_ascii_case(n)));
    }
    // A note of [defaults] (layer 1) is said once, a table's own with its name.
    let mut told_defaults = false;
    for spec in &specs {
        for note in &spec.notes {
            let Note::MaxRoutesAsBudget { layer, value } = *note;
            let text = format!(
                "max_routes = {value} with slack is read as budget = {value}, its old spelling; \
                 write budget (max_routes is the table's limit)"
            );
            match layer {
                1 if !told_defaults => {
                    told_defaults = true;
                    diag.note(format!("{} [defaults]: {text}", path.display()));
                }
                1 => {}
                _ => diag.note(format!("{} table {}: {text}", path.display(), spec.name)),
            }
        }
    }
    Ok(specs)
}

/// A one-table run's table as a fleet of one: the live table (`--route-table-id`), else the
/// routes of `existing`, else none; its options from the flags; and the file `--file` gives, in
/// the cloud `tagroute::fleet::files::one_cloud` chooses.
pub fn one(
    named: Option<Cloud>,
    file: Option<&str>,
    id: Option<tagroute::arm::RouteTableId>,
    existing: Option<String>,
    mut options: tagroute::options::Resolved,
    target: tagroute::emit::Target,
) -> anyhow::Result<(Vec<TableSpec>, Option<CloudFile>)> {
    use tagroute::fleet::files::{OneCloudError, one_cloud};
    let given = given(file)?;
    options.cloud = one_cloud(named, id.is_some(), given.as_ref()).map_err(|e| match e {
        OneCloudError::Unnamed => anyhow::anyhow!("pass --file or --cloud"),
        e @ OneCloudError::LiveElsewhere { .. } => anyhow::anyhow!("{e} with --cloud"),
        e @ OneCloudError::OtherCloud { .. } => anyhow::anyhow!("{e} (--cloud)"),
    })?;
    let spec = TableSpec::one(id, existing, options, target);
    Ok((vec![spec], given))
}

/// Runs `action` on a fleet of one (`one`) with the file of its cloud as `wanted` asks, and
/// gives back its table's report, whose plan and diff are kept.
pub fn run_one(
    (specs, given): (Vec<TableSpec>, Option<CloudFile>),
    live: &LiveArgs,
    net: &NetArgs,
    wanted: Wanted,
    action: &Action<'_>,
    diag: &Diag,
) -> anyhow::Result<tagroute::fleet::run::TableReport> {
    let files = files(&specs, given, net, wanted, diag)?;
    for f in files.values() {
        crate::args::warn_next_link(&f.snapshot, diag);
    }
    let clients = clients(&specs, live, net)?;
    let report = run(&specs, &files, &clients, 1, true, action)?;
    for w in &report.warnings {
        diag.warn(w);
    }
    let table = report.tables.into_iter().next().expect("a fleet of one");
    diag.tell(&table.notices);
    Ok(table)
}

/// A failed table's error as a one-table run's: worded as the command line words it.
pub fn failure(table: &mut tagroute::fleet::run::TableReport) -> anyhow::Error {
    match table.failure.take() {
        Some(e) => match e.downcast::<tagroute::request::RequestError>() {
            Ok(e) => crate::words::request(*e),
            Err(e) => anyhow::Error::new(crate::words::Boxed(e)),
        },
        None => anyhow::anyhow!("{}", table.error.as_deref().unwrap_or("failed")),
    }
}

/// The file `--file` names, read and parsed.
pub fn given(file: Option<&str>) -> anyhow::Result<Option<CloudFile>> {
    Ok(file.map(CloudFile::given).transpose()?)
}

/// Each cloud's file, got once: `given` (`--file`) for its own cloud, else the cache as
/// `wanted` asks; every table's region checked against it (see `tagroute::fleet::files`).
pub fn files(
    specs: &[TableSpec],
    given: Option<CloudFile>,
    net: &NetArgs,
    wanted: Wanted,
    diag: &Diag,
) -> anyhow::Result<BTreeMap<Cloud, CloudFile>> {
    let given_name = given
        .as_ref()
        .map(|g| (g.source.name().to_owned(), g.snapshot.cloud));
    let get = |cloud| -> Result<CloudFile, Box<dyn std::error::Error + Send + Sync>> {
        Ok(net.cloud_file(cloud, wanted, diag)?)
    };
    let (files, unused) = tagroute::fleet::files::files(specs, given, get)?;
    if let (true, Some((name, cloud))) = (unused, given_name) {
        diag.warn(format!(
            "{name} is a {cloud} file, but no table of the run is of that cloud"
        ));
    }
    Ok(files)
}

/// One client per cloud of the run's live tables.
pub fn clients(
    specs: &[TableSpec],
    live: &LiveArgs,
    net: &NetArgs,
) -> anyhow::Result<BTreeMap<Cloud, ArmClient>> {
    let live_clouds = specs.iter().filter(|s| s.id.is_some()).map(|s| s.cloud);
    Ok(live.auth.access().clients(&net.options(), live_clouds)?)
}

/// `diff --config` and `apply --config`: every table of the fleet file read and planned from
/// its cloud's cached file (or `--file`), and with [`Action::Apply`] changed; the report printed.
pub fn change(
    args: &FleetArgs,
    path: &std::path::Path,
    source: &crate::args::Source,
    live: &LiveArgs,
    action: Action<'_>,
    format: ReportFormat,
    diag: &Diag,
) -> anyhow::Result<Status> {
    let net = &source.net;
    let specs = tables(args, path, source.cloud, diag)?;
    let wanted = Wanted::MaxAge(net.max_age);
    let files = files(&specs, given(source.file.as_deref())?, net, wanted, diag)?;
    let clients = clients(&specs, live, net)?;
    let report = run(&specs, &files, &clients, args.jobs, false, &action)?;
    finish(&report, format, false, diag)
}

/// Runs `action` over the tables and returns the report.
pub fn run(
    specs: &[TableSpec],
    files: &BTreeMap<Cloud, CloudFile>,
    clients: &BTreeMap<Cloud, ArmClient>,
    jobs: usize,
    keep: bool,
    action: &Action<'_>,
) -> anyhow::Result<Report> {
    let fleet = Fleet {
        tables: specs,
        files,
        clients,
        jobs,
        keep,
    };
    block_on(run::run(fleet, action))
}

/// Prints the report on stdout, each table's notices and errors on stderr, and gives the exit
/// status: 2 when a table failed, else 1 when a table has changes (`changed_is_difference`: also
/// when it was applied, as `refresh` says a change happened), else 0.
pub fn finish(
    report: &Report,
    format: ReportFormat,
    changed_is_difference: bool,
    diag: &Diag,
) -> anyhow::Result<Status> {
    for w in &report.warnings {
        diag.warn(w);
    }
    for t in &report.tables {
        for n in &t.notices {
            // A fleet's options are the file's keys: the library's words.
            diag.say(n.level, format!("table {}: {n}", t.name));
        }
        if let Some(e) = &t.error {
            diag.warn(format!("table {}: {e}", t.name));
        }
    }
    let text = match format {
        ReportFormat::Table => report::table(report),
        ReportFormat::Json => report::json(report),
        ReportFormat::Markdown => report::markdown(report),
    };
    deliver(&text, None)?;
    Ok(match report.outcome(changed_is_difference) {
        RunOutcome::Failed => Status::Error,
        RunOutcome::Changed => Status::Differences,
        RunOutcome::Unchanged => Status::Ok,
    })
}
