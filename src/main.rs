//! The `tagroute` binary: parse arguments, run the command, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match <cli::Cli as clap::Parser>::try_parse() {
        Ok(args) => args,
        Err(err) => return cli::usage_error(&err),
    };
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!(
                "tagroute: error: {}",
                tagroute::text::for_terminal(&format!("{err:#}"))
            );
            cli::Status::Error.into()
        }
    }
}
