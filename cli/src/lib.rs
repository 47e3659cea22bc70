//! The `tagroute` command line: clap definitions, one file per subcommand, and the exit codes.
//!
//! Each subcommand's file holds its args struct and a `run` that turns those args into library
//! calls and prints what they give; the library (`tagroute`) knows nothing of clap. The binary
//! is one call to [`main`]; [`Cli`] is public for the fuzz target of the argument parser.

mod aggregate;
mod apply;
mod args;
mod check;
mod check_estate;
mod completions;
mod diff;
mod drift;
mod fetch;
mod fleet;
mod live;
mod lookup;
mod man;
mod net;
mod output;
mod plan;
mod profiles;
mod refresh;
mod regions;
mod resolve;
mod rules;
mod tables;
mod tags;
mod values;
mod words;

use clap::{Parser, Subcommand};

use output::Status;

const ABOUT: &str = "Azure service tags to user-defined routes: the minimal route table that lets \
Azure Machine Learning and Batch work behind forced tunneling.";

const EXAMPLES: &str = "\
Examples:
  tagroute tags --file ServiceTags_Public_20251028.json --region eastus
  tagroute plan --file ServiceTags_Public_20251028.json --region eastus --format az
  tagroute resolve --file ServiceTags_Public_20251028.json BatchNodeManagement.EastUS --aggregate

Exit status: 0 success, 1 differences found (diff-like commands), 2 error.";

/// The program: parses the process's arguments, runs the command, and gives its exit code (0 ok,
/// 1 differences found, 2 error). Errors are printed on stderr as one line.
pub fn main() -> std::process::ExitCode {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(err) => return usage_error(&err),
    };
    match run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!(
                "tagroute: error: {}",
                tagroute::text::for_terminal(&words::error_line(&err))
            );
            Status::Error.into()
        }
    }
}

/// The command line, as clap reads it (for `--help`, completions and argument checks).
#[derive(Parser, Debug)]
#[command(name = "tagroute", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Print no notes or warnings on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Each one's arguments are built only when it is invoked (`defer`: a run
/// pays for its own command's arguments, not every command's), so its description is given here too,
/// for `tagroute --help`.
#[derive(Subcommand, Debug)]
#[command(defer = true)]
enum Command {
    #[command(about = tags::ABOUT)]
    Tags(tags::Args),
    #[command(about = resolve::ABOUT)]
    Resolve(resolve::Args),
    #[command(about = plan::ABOUT)]
    Plan(plan::Args),
    #[command(about = diff::ABOUT)]
    Diff(diff::Args),
    #[command(about = apply::ABOUT)]
    Apply(apply::Args),
    #[command(about = drift::ABOUT)]
    Drift(drift::Args),
    #[command(about = lookup::ABOUT)]
    Lookup(lookup::Args),
    #[command(about = aggregate::ABOUT)]
    Aggregate(aggregate::Args),
    #[command(about = fetch::ABOUT)]
    Fetch(fetch::Args),
    #[command(about = refresh::ABOUT)]
    Refresh(refresh::Args),
    #[command(about = tables::ABOUT)]
    Tables(tables::Args),
    #[command(about = profiles::ABOUT)]
    Profiles(profiles::Args),
    #[command(about = regions::ABOUT)]
    Regions(regions::Args),
    #[command(about = rules::ABOUT)]
    Rules(rules::Args),
    #[command(about = check::ABOUT)]
    Check(check::Args),
    #[command(about = completions::ABOUT)]
    Completions(completions::Args),
    #[command(about = man::ABOUT)]
    Man(man::Args),
}

/// Prints clap's message for bad usage (or for `--help` and `--version`) in clap's format,
/// with any control character from the arguments made visible, and gives its exit code.
fn usage_error(err: &clap::Error) -> std::process::ExitCode {
    let text = err.render().to_string();
    // A value refused by its parser is one line, as every other bad input is; clap's pointer to
    // --help below it says nothing the line does not.
    let one_line = matches!(
        err.kind(),
        clap::error::ErrorKind::ValueValidation | clap::error::ErrorKind::InvalidValue
    ) && !text.contains("[possible values");
    let lines = text.lines().take(if one_line { 1 } else { usize::MAX });
    let shown: Vec<_> = lines.map(tagroute::text::for_terminal).collect();
    let shown = shown.join("\n");
    use std::io::Write;
    // A reader that stops early (`tagroute --help | head`) is no error: the rest is not wanted.
    let _ = if err.use_stderr() {
        writeln!(std::io::stderr().lock(), "{shown}")
    } else {
        writeln!(std::io::stdout().lock(), "{shown}")
    };
    std::process::ExitCode::from(err.exit_code().clamp(0, 255) as u8)
}

/// Runs one command.
fn run(cli: Cli) -> anyhow::Result<Status> {
    let diag = output::Diag::new(cli.quiet);
    let status = match cli.command {
        Command::Tags(a) => tags::run(a, &diag),
        Command::Resolve(a) => resolve::run(a, &diag),
        Command::Plan(a) => plan::run(a, &diag),
        Command::Diff(a) => diff::run(a, &diag),
        Command::Apply(a) => apply::run(a, &diag),
        Command::Drift(a) => drift::run(a, &diag),
        Command::Lookup(a) => lookup::run(a, &diag),
        Command::Aggregate(a) => aggregate::run(a, &diag),
        Command::Fetch(a) => fetch::run(a, &diag),
        Command::Refresh(a) => refresh::run(a, &diag),
        Command::Tables(a) => tables::run(a, &diag),
        Command::Profiles(a) => profiles::run(a, &diag),
        Command::Regions(a) => regions::run(a, &diag),
        Command::Rules(a) => rules::run(a, &diag),
        Command::Check(a) => check::run(a, &diag),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
    }?;
    diag.flush();
    Ok(status)
}
