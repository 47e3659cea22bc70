//! Command-line interface: clap definitions, one file per subcommand, and the exit codes.
//!
//! Each subcommand's file holds its args struct and a `run` that turns those args into library
//! calls; nothing outside `cli` knows clap exists.

mod aggregate;
mod args;
mod completions;
mod diff;
mod drift;
mod fetch;
mod lookup;
mod net;
mod output;
mod plan;
mod refresh;
mod resolve;
mod tags;

use clap::{Parser, Subcommand};

pub use output::Status;

const ABOUT: &str = "Azure service tags to user-defined routes: the minimal route table that lets \
Azure Machine Learning and Batch work behind forced tunneling.";

const EXAMPLES: &str = "\
Examples:
  tagroute tags --file ServiceTags_Public_20251028.json --region eastus
  tagroute plan --file ServiceTags_Public_20251028.json --region eastus --format az
  tagroute resolve --file ServiceTags_Public_20251028.json BatchNodeManagement.EastUS --aggregate

Exit status: 0 success, 1 differences found (diff-like commands), 2 error.";

#[derive(Parser, Debug)]
#[command(name = "tagroute", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Print no notes or warnings on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Tags(tags::Args),
    Resolve(resolve::Args),
    Plan(plan::Args),
    Diff(diff::Args),
    Drift(drift::Args),
    Lookup(lookup::Args),
    Aggregate(aggregate::Args),
    Fetch(fetch::Args),
    Refresh(refresh::Args),
    Completions(completions::Args),
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<Status> {
    let diag = output::Diag::new(cli.quiet);
    let status = match cli.command {
        Command::Tags(a) => tags::run(a, &diag),
        Command::Resolve(a) => resolve::run(a, &diag),
        Command::Plan(a) => plan::run(a, &diag),
        Command::Diff(a) => diff::run(a, &diag),
        Command::Drift(a) => drift::run(a, &diag),
        Command::Lookup(a) => lookup::run(a, &diag),
        Command::Aggregate(a) => aggregate::run(a, &diag),
        Command::Fetch(a) => fetch::run(a, &diag),
        Command::Refresh(a) => refresh::run(a, &diag),
        Command::Completions(a) => completions::run(a),
    }?;
    diag.flush();
    Ok(status)
}
