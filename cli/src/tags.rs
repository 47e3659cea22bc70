//! `tagroute tags`: list the tags of a file with their counts and features.

use tagroute::emit::table::columns;
use tagroute::snapshot::ServiceTag;

use crate::args::{OutputFile, Source};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "List service tags: name, region, changeNumber, IPv4 and IPv6 prefix \
counts, networkFeatures";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute tags --file ServiceTags_Public_20251028.json --region francecentral
  tagroute tags --file ServiceTags_Public_20251028.json --match 'AzureMachineLearning.*' \\
      --format csv
  tagroute tags --file ServiceTags_AzureGovernment_20260720.json --feature UDR --format json")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Only tags of this region (ARM name, display name or tag suffix).
    #[arg(long, short = 'r', help_heading = "Selection")]
    region: Option<String>,
    /// Only tags whose names match this glob (repeatable, case-insensitive).
    #[arg(
        long = "match",
        short = 'm',
        value_name = "GLOB",
        help_heading = "Selection"
    )]
    matches: Vec<String>,
    /// Only tags whose networkFeatures include this feature (e.g. UDR, NSG, API, FW).
    #[arg(long, value_name = "FEATURE", help_heading = "Selection")]
    feature: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    format: Format,
    #[command(flatten)]
    output: OutputFile,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
    Csv,
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let snapshot = args.source.load(diag)?;
    let listing = tagroute::listing::tags(
        &snapshot,
        args.region.as_deref(),
        &args.matches,
        args.feature.as_deref(),
    )?;
    let rows = &listing.tags;
    if rows.is_empty() {
        diag.warn("no tag matches the filters");
    }
    let features = |t: &ServiceTag| t.network_features.as_ref().map(|f| f.join(","));
    let text = match args.format {
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|t| {
                    vec![
                        t.name.clone(),
                        t.region.to_string(),
                        t.change_number.to_string(),
                        t.ipv4.len().to_string(),
                        t.ipv6.len().to_string(),
                        features(t).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            columns(
                &["NAME", "REGION", "CHANGE", "IPV4", "IPV6", "FEATURES"],
                &cells,
            )
        }
        Format::Json => serde_json::to_string_pretty(&listing)? + "\n",
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "name",
                "region",
                "changeNumber",
                "ipv4Prefixes",
                "ipv6Prefixes",
                "networkFeatures",
            ])?;
            for t in rows {
                w.write_record([
                    t.name.as_str(),
                    &t.region,
                    &t.change_number.to_string(),
                    &t.ipv4.len().to_string(),
                    &t.ipv6.len().to_string(),
                    &features(t).unwrap_or_default(),
                ])?;
            }
            String::from_utf8(w.into_inner()?)?
        }
    };
    deliver(&text, args.output.output.as_deref())?;
    Ok(Status::Ok)
}
