//! The `tagroute` binary: parse arguments, run the command, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("tagroute: error: {err:#}");
            cli::Status::Error.into()
        }
    }
}
