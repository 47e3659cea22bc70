//! `tagroute resolve`: the prefixes of one or more tags, raw or aggregated.

use std::collections::BTreeMap;

use tagroute::plan::{self, PlanOptions};
use tagroute::prefix::IpPrefix;
use tagroute::select::{FamilyChoice, match_tags};

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
    let selected = match_tags(&snapshot, &args.tags)?;
    let family = args.family;
    // Each prefix with the tags it carries addresses of.
    let rows: Vec<(IpPrefix, Vec<String>)> = if args.aggregate {
        let opts = PlanOptions {
            family,
            max_routes: usize::MAX,
            ..PlanOptions::default()
        };
        let p = plan::plan(&snapshot, None, &selected, &opts).map_err(crate::words::plan)?;
        p.routes
            .into_iter()
            .filter_map(|r| Some((r.destination.prefix()?, r.tags)))
            .collect()
    } else {
        let mut map: BTreeMap<IpPrefix, Vec<String>> = BTreeMap::new();
        for &i in &selected {
            let t = &snapshot.tags[i];
            let v4 = t
                .ipv4
                .iter()
                .map(|&p| IpPrefix::V4(p))
                .filter(|_| family != FamilyChoice::Ipv6);
            let v6 = t
                .ipv6
                .iter()
                .map(|&p| IpPrefix::V6(p))
                .filter(|_| family != FamilyChoice::Ipv4);
            for p in v4.chain(v6) {
                map.entry(p).or_default().push(t.name.clone());
            }
        }
        map.into_iter().collect()
    };
    let names: Vec<&str> = selected
        .iter()
        .map(|&i| snapshot.tags[i].name.as_str())
        .collect();
    let text = match args.format {
        Format::Text => rows.iter().map(|(p, _)| format!("{p}\n")).collect(),
        Format::Json => {
            let doc = serde_json::json!({
                "cloud": snapshot.cloud.as_str(),
                "changeNumber": snapshot.change_number,
                "tags": names,
                "family": family.as_str(),
                "aggregated": args.aggregate,
                "prefixes": rows.iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["addressPrefix", "tags"])?;
            for (p, tags) in &rows {
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
