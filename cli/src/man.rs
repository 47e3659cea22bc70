//! `tagroute man`: the manual pages, generated from the same clap definitions as `--help`, so
//! they never drift from it.

use std::path::PathBuf;

use clap::CommandFactory;

use crate::{Cli, Status};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Print the manual page (roff), of tagroute or of one command; with \
--dir, write tagroute.1 and a tagroute-COMMAND.1 per command there";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute man | man -l -
  tagroute man plan > tagroute-plan.1
  sudo tagroute man --dir /usr/local/share/man/man1")]
pub struct Args {
    /// The command whose page to print [default: tagroute's own].
    command: Option<String>,
    /// Write every page into this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    dir: Option<PathBuf>,
}

/// The roff page of `cmd`.
fn page(cmd: clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    Ok(out)
}

/// `tagroute` and each of its commands, each named as its page is (`tagroute-plan`).
fn commands() -> Vec<(String, clap::Command)> {
    let mut top = Cli::command();
    // The commands' arguments are built when asked for (`defer`): build them all here.
    top.build();
    let mut all = vec![("tagroute".to_owned(), top.clone())];
    for sub in top.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("tagroute-{}", sub.get_name());
        let mut page = sub.clone().name(&*Box::leak(name.clone().into_boxed_str()));
        page.build();
        all.push((name, page));
    }
    all
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    if let Some(dir) = &args.dir {
        for (name, cmd) in commands() {
            crate::output::write_atomic(&dir.join(format!("{name}.1")), &page(cmd)?)?;
        }
        return Ok(Status::Ok);
    }
    let wanted = match &args.command {
        Some(c) => format!("tagroute-{c}"),
        None => "tagroute".to_owned(),
    };
    let Some((_, cmd)) = commands().into_iter().find(|(n, _)| *n == wanted) else {
        anyhow::bail!(
            "no command {}: see tagroute --help",
            tagroute::text::quoted(args.command.as_deref().unwrap_or_default())
        );
    };
    crate::output::deliver(&String::from_utf8_lossy(&page(cmd)?), None)?;
    Ok(Status::Ok)
}
