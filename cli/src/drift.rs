//! `tagroute drift`: what changed between two service-tag files.

use tagroute::drift::{self, DriftOptions};
use tagroute::emit;
use tagroute::model::DEFAULT_NAME_PREFIX;
use tagroute::snapshot;

use crate::args::OutputFile;
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Report prefixes added and removed per tag between an older and a newer \
file, tags that appeared or vanished, and (with --region) the routes the plan gains and loses";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute drift ServiceTags_Public_20251013.json ServiceTags_Public_20251028.json \\
      --region eastus
  tagroute drift OLD.json NEW.json --tag 'AzureMachineLearning*' --format json
  tagroute drift OLD.json NEW.json --format markdown > drift.md

Exit status: 0 no prefix of the selection changed, 1 some did, 2 error.")]
pub struct Args {
    /// The older file (`-` for stdin).
    old: String,
    /// The newer file (`-` for stdin).
    new: String,
    /// Compare the region's default tags (BatchNodeManagement, AzureMachineLearning) and the routes planned for them.
    #[arg(long, short = 'r')]
    region: Option<String>,
    /// Compare these tags (names or globs, repeatable, case-insensitive) instead.
    #[arg(long, short = 't', value_name = "TAG")]
    tag: Vec<String>,
    /// The requirement profile whose tags a region's drift compares (as for plan).
    #[arg(long, value_name = "NAME", default_value = tagroute::profile::DEFAULT_PROFILE, value_parser = crate::values::profile)]
    profile: String,
    /// Address families to compare.
    #[arg(long, value_parser = crate::values::family(), default_value = "both")]
    family: tagroute::select::FamilyChoice,
    /// Name prefix of planned routes (for the route changes with --region).
    #[arg(long, value_name = "P", default_value = DEFAULT_NAME_PREFIX)]
    name_prefix: String,
    /// Tags the compared plans may use as whole routes (names, globs or `auto`, as for plan).
    #[arg(long, value_name = "TAG", requires = "region")]
    tag_route: Vec<String>,
    /// Slack tags of the compared plans (as for plan).
    #[arg(long, value_name = "TAG", requires = "region")]
    slack: Vec<String>,
    /// Compare files of different clouds.
    #[arg(long)]
    allow_cross_cloud: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    output: OutputFile,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
    Markdown,
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    if args.old == "-" && args.new == "-" {
        anyhow::bail!("OLD and NEW cannot both read stdin");
    }
    let old = snapshot::load(&args.old)?;
    let new = snapshot::load(&args.new)?;
    let opts = DriftOptions {
        region: args.region,
        tags: args.tag,
        family: args.family,
        name_prefix: args.name_prefix,
        tag_routes: args.tag_route,
        slack: args.slack,
        profile: Some(args.profile),
    };
    let d = drift::drift(&old, &new, &opts, args.allow_cross_cloud).map_err(in_flags)?;
    for w in emit::drift::warnings(&d) {
        diag.warn(w);
    }
    let text = match args.format {
        Format::Text => emit::drift::text(&d),
        Format::Json => emit::drift::json(&d),
        Format::Markdown => emit::drift::markdown(&d),
    };
    deliver(&text, args.output.output.as_deref())?;
    Ok(if d.prefixes_changed() {
        Status::Differences
    } else {
        Status::Ok
    })
}

/// A drift error in the words of the command line.
pub fn in_flags(e: drift::DriftError) -> anyhow::Error {
    match e {
        drift::DriftError::CrossCloud { .. } => {
            anyhow::anyhow!("{e}; pass --allow-cross-cloud to compare them anyway")
        }
        drift::DriftError::UnmatchedTag(_) => anyhow::anyhow!("--tag: {e}"),
        other => other.into(),
    }
}
