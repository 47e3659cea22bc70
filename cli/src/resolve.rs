//! `tagroute resolve`: the prefixes of one or more tags, raw or aggregated.

use crate::args::{OutputFile, Source};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Print the prefixes of service tags, IPv4 first, sorted; with --aggregate, \
the fewest prefixes covering exactly the same addresses";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute resolve --file ServiceTags_Public_20251028.json BatchNodeManagement.EastUS
  tagroute resolve --file ServiceTags_Public_20251028.json 'AzureMachineLearning.*' \\
      --aggregate --family ipv4
  tagroute resolve --file ServiceTags_China_20260720.json AzureCloud.chinaeast2 --format json")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Tag names or globs (case-insensitive).
    #[arg(required = true, value_name = "TAG")]
    tags: Vec<String>,
    /// Address families to print.
    #[arg(long, value_parser = crate::values::family(), default_value = "both", help_heading = "Selection")]
    family: tagroute::select::FamilyChoice,
    /// Merge the prefixes into the fewest that cover exactly the same addresses.
    #[arg(long, short = 'a', help_heading = "Output")]
    aggregate: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    format: Format,
    #[command(flatten)]
    output: OutputFile,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
    Csv,
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let snapshot = args.source.load(diag)?;
    let family = args.family;
    let listing = tagroute::listing::prefixes(&snapshot, &args.tags, family, args.aggregate)
        .map_err(|e| match e {
            tagroute::listing::PrefixesError::Plan(e) => crate::words::plan(e),
            e => e.into(),
        })?;
    let rows = &listing.prefixes;
    let text = match args.format {
        Format::Text => rows.iter().map(|(p, _)| format!("{p}\n")).collect(),
        Format::Json => serde_json::to_string_pretty(&listing)? + "\n",
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["addressPrefix", "tags"])?;
            for (p, tags) in rows {
                w.write_record([p.to_string(), tags.join(";")])?;
            }
            String::from_utf8(w.into_inner()?)?
        }
    };
    if rows.is_empty() {
        diag.warn(format!(
            "the selected tags have no {} prefixes",
            family.as_str()
        ));
    }
    deliver(&text, args.output.output.as_deref())?;
    Ok(Status::Ok)
}
