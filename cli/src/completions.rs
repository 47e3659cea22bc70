//! `tagroute completions SHELL`: shell completion scripts.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::{Cli, Status};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Print a shell completion script";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "Example:\n  tagroute completions bash > /etc/bash_completion.d/tagroute")]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tagroute", &mut out);
    crate::output::deliver(&String::from_utf8_lossy(&out), None)?;
    Ok(Status::Ok)
}
