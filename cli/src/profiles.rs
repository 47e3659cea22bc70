//! `tagroute profiles`: the requirement profiles, what each needs, and the documents it cites.

use tagroute::emit::table::columns;
use tagroute::profile;

use crate::args::OutputFile;
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "List the requirement profiles (what Azure ML or Batch compute of each \
mode needs: routes, NSG and firewall rules, FQDNs) with the Microsoft documents and dates they \
come from";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute profiles
  tagroute profiles --format json")]
pub struct Args {
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

pub fn run(args: Args, _diag: &Diag) -> anyhow::Result<Status> {
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&tagroute::listing::profiles())? + "\n",
        Format::Table => table(),
    };
    deliver(&text, args.output.output.as_deref())?;
    Ok(Status::Ok)
}

fn table() -> String {
    let rows: Vec<Vec<String>> = profile::all()
        .iter()
        .map(|p| {
            let routes: Vec<&str> = p.routes.iter().map(|r| r.tag.as_str()).collect();
            vec![
                p.name.clone(),
                if routes.is_empty() {
                    "-".into()
                } else {
                    routes.join(", ")
                },
                p.rules.len().to_string(),
                p.fqdns.len().to_string(),
                p.retired
                    .first()
                    .map_or_else(|| "-".into(), |r| r.date.clone()),
            ]
        })
        .collect();
    let mut out = columns(
        &["PROFILE", "ROUTES TO INTERNET", "RULES", "FQDNS", "RETIRED"],
        &rows,
    );
    out.push('\n');
    for p in profile::all() {
        out.push_str(&format!("{}: {}\n", p.name, p.about));
    }
    out.push_str(&format!(
        "\nThe default is {}. {{region}} is the region planned, {{paired}} its paired region.\n\nSources:\n",
        profile::DEFAULT_PROFILE
    ));
    for (id, s) in profile::sources() {
        out.push_str(&format!(
            "  {id}: {} ({}, {}, commit {})\n",
            s.title,
            s.document,
            s.date,
            &s.commit[..12]
        ));
    }
    let r = tagroute::regions::source();
    out.push_str(&format!(
        "  region pairs: {} ({}, commit {})\n",
        r.document,
        r.date,
        &r.commit[..12]
    ));
    out
}
