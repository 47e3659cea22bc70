//! `tagroute regions`: a file's regions, their display names and paired regions, and which of
//! a profile's route tags the file holds for each.

use tagroute::emit::table::columns;
use tagroute::profile;
use tagroute::regions::{self, Pairing};

use crate::args::{OutputFile, Source};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "List a file's regions with their ARM and display names, paired \
region (from Microsoft's list of region pairs) and which of a profile's route tags the file \
holds for each";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute regions --file data/ServiceTags_Example.json
  tagroute regions --cloud usgov --format json
  tagroute regions --file ServiceTags_Public_20251028.json --profile legacy-2020")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// The profile whose route tags are looked for.
    #[arg(long, value_name = "NAME", default_value = profile::DEFAULT_PROFILE, value_parser = crate::values::profile)]
    profile: String,
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
}

fn pair_text(p: Pairing) -> String {
    match p {
        Pairing::Paired(r) => r.to_owned(),
        Pairing::Unpaired => "none (unpaired)".into(),
        Pairing::Unlisted => "not listed".into(),
    }
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let snapshot = args.source.load(diag)?;
    let profile = profile::by_name(&args.profile)?;
    let listing = tagroute::listing::regions(&snapshot, profile);
    let rows = &listing.regions;
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&listing)? + "\n",
        Format::Table => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.display_name.unwrap_or("-").to_owned(),
                        pair_text(r.pair),
                        if r.tags.is_empty() {
                            "-".into()
                        } else {
                            r.tags.join(", ")
                        },
                        if r.missing.is_empty() {
                            "-".into()
                        } else {
                            r.missing.join("; ")
                        },
                    ]
                })
                .collect();
            let mut out = columns(
                &[
                    "REGION",
                    "DISPLAY NAME",
                    "PAIR",
                    "ROUTE TAGS IN THE FILE",
                    "MISSING",
                ],
                &table,
            );
            out.push_str(&format!(
                "\n{} of the {} file (changeNumber {}); route tags of the {} profile; pairs from {}\n",
                tagroute::text::plural(rows.len(), "region"),
                snapshot.cloud,
                snapshot.change_number,
                profile.name,
                regions::cited()
            ));
            out
        }
    };
    deliver(&text, args.output.output.as_deref())?;
    Ok(Status::Ok)
}
