//! `tagroute aggregate`: the minimal CIDR list of any prefix list, with set operations.

use std::io::{self, Write};

use anyhow::Context;
use tagroute::prefix::bulk::{LineError, Parsed, parse_parallel, write_prefixes};
use tagroute::prefix::{IntervalSet, Prefix};

use crate::output::{Diag, Status};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Aggregate prefixes: read prefixes and addresses, one or more a line \
between spaces (files, or stdin when none; blank lines and `#` comments skipped; IPv4 and IPv6 \
mixed; IPv4 netmask and hostmask forms too) and print the fewest CIDR prefixes covering exactly \
the same addresses, IPv4 first, sorted, as aggregate6 prints them";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute aggregate prefixes.txt
  tagroute resolve --file ServiceTags_Public_20251028.json 'AzureCloud.*' | \\
      tagroute aggregate --family ipv4
  tagroute aggregate allow.txt --subtract deny.txt --format json

An item that is not a prefix, and a line longer than 64 KiB, is reported on stderr with its file
and line number (the first thousand of them) and skipped; the run goes on and exits 2 at the end.")]
pub struct Args {
    /// Files to read (`-` for stdin); stdin when none.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Address families to print.
    #[arg(long, value_parser = crate::values::family(), default_value = "both")]
    family: tagroute::select::FamilyChoice,
    /// Remove the addresses of the prefixes in this file (splitting prefixes as needed);
    /// repeated, those of any of the files.
    #[arg(long, value_name = "FILE")]
    subtract: Vec<String>,
    /// Keep only the addresses also in the prefixes of this file; repeated, the addresses in
    /// every one of the files (each intersects in turn).
    #[arg(long, value_name = "FILE")]
    intersect: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
}

/// Parses every input on all cores, reporting bad lines with file and line number; returns
/// the union and how many lines were bad.
fn read_all(names: &[String]) -> anyhow::Result<(Parsed, u64)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let mut all = Parsed::default();
    let mut bad = 0;
    for name in names {
        let (shown, mut parsed) = if name == "-" {
            (
                "<stdin>",
                parse_parallel(io::stdin().lock(), threads, None)
                    .context("<stdin>: cannot read")?,
            )
        } else {
            let file = std::fs::File::open(name).with_context(|| format!("{name}: cannot read"))?;
            let size = file.metadata().ok().map(|m| m.len());
            (
                name.as_str(),
                parse_parallel(file, threads, size)
                    .with_context(|| format!("{name}: cannot read"))?,
            )
        };
        let shown = tagroute::text::for_terminal(shown);
        for b in &parsed.bad {
            // A prefix error quotes the item; a line too long is shown by its start.
            let what = match &b.error {
                LineError::Prefix(e) => e.to_string(),
                e @ LineError::TooLong { .. } => {
                    format!("{}: {e}", tagroute::text::quoted(&b.text))
                }
            };
            eprintln!("tagroute: {shown}:{}: {what}", b.line);
        }
        let unshown = parsed.bad_count - parsed.bad.len() as u64;
        if unshown > 0 {
            eprintln!("tagroute: {shown}: {unshown} more bad lines not shown");
        }
        bad += parsed.bad_count;
        all.v4_runs.append(&mut parsed.v4_runs);
        all.v6_runs.append(&mut parsed.v6_runs);
    }
    Ok((all, bad))
}

pub fn run(args: Args, _diag: &Diag) -> anyhow::Result<Status> {
    let inputs = if args.files.is_empty() {
        vec!["-".to_owned()]
    } else {
        args.files.clone()
    };
    anyhow::ensure!(
        inputs
            .iter()
            .chain(&args.subtract)
            .chain(&args.intersect)
            .filter(|f| *f == "-")
            .count()
            <= 1,
        "only one input can be stdin"
    );
    let (main, mut bad) = read_all(&inputs)?;
    let (mut v4, mut v6) = main.into_sets();
    // Each --intersect file in turn: the addresses in every one of them.
    for file in &args.intersect {
        let (keep, b) = read_all(std::slice::from_ref(file))?;
        bad += b;
        let (keep4, keep6) = keep.into_sets();
        v4 = v4.intersect(&keep4);
        v6 = v6.intersect(&keep6);
    }
    if !args.subtract.is_empty() {
        let (drop, b) = read_all(&args.subtract)?;
        bad += b;
        let (drop4, drop6) = drop.into_sets();
        v4 = v4.subtract(&drop4);
        v6 = v6.subtract(&drop6);
    }
    let family = args.family;
    let none4 = IntervalSet::new();
    let none6 = IntervalSet::new();
    let v4 = if family.includes(tagroute::prefix::Family::V4) {
        &v4
    } else {
        &none4
    };
    let v6 = if family.includes(tagroute::prefix::Family::V6) {
        &v6
    } else {
        &none6
    };
    let mut stdout = io::stdout().lock();
    let written = match args.format {
        Format::Text => write_prefixes(v4.ranges(), Prefix::<u32>::write_text, &mut stdout)
            .and_then(|_| write_prefixes(v6.ranges(), Prefix::<u128>::write_text, &mut stdout)),
        Format::Json => {
            // The same spelling as the text output.
            let mut text = Vec::new();
            write_prefixes(v4.ranges(), Prefix::<u32>::write_text, &mut text)?;
            write_prefixes(v6.ranges(), Prefix::<u128>::write_text, &mut text)?;
            let prefixes: Vec<&str> = std::str::from_utf8(&text)?.lines().collect();
            let doc = serde_json::json!({"prefixes": prefixes, "ipv4Addresses": v4.count(), "ipv6Addresses": v6.count_text(), "badLines": bad});
            let mut out = serde_json::to_vec_pretty(&doc)?;
            out.push(b'\n');
            stdout.write_all(&out)
        }
    };
    match written.and_then(|_| stdout.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            return Err(e).context("cannot write to stdout");
        }
        _ => {}
    }
    if bad > 0 {
        let (n, verb) = if bad == 1 {
            ("line", "was")
        } else {
            ("lines", "were")
        };
        eprintln!("tagroute: error: {bad} {n} {verb} not IP prefixes and {verb} skipped");
        return Ok(Status::Error);
    }
    Ok(Status::Ok)
}
