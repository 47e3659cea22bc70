//! `tagroute lookup`: which service tags hold an address.

use std::io::{self, BufWriter, Write};
use std::net::IpAddr;

use anyhow::Context;
use tagroute::lookup::LookupIndex;
use tagroute::lookup::{Line, Lines, MAX_LINE_BYTES};

use crate::args::Source;
use crate::output::{Diag, Status};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "For each address, every tag whose prefixes contain it, with the tag's \
most specific matching prefix, most specific first; for each CIDR prefix, the tags holding it \
and those with prefixes inside it. Addresses come from the arguments or, when there are none, \
one per line on stdin (blank lines and `#` comments skipped)";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute lookup --file ServiceTags_Public_20251028.json 20.42.1.2 2603:1030:40b::1
  tagroute lookup --file ServiceTags_Public_20251028.json 20.42.0.0/16
  cut -d' ' -f1 flows.log | \\
      tagroute lookup --file ServiceTags_Public_20251028.json --format json

Text output: one tab-separated line per match, ADDRESS PREFIX TAG; an address in no tag
prints ADDRESS - -. A line that is not an address is reported on stderr with its line number;
the run goes on and exits 2 at the end.")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Addresses to look up (IPv4 or IPv6); stdin when none.
    #[arg(value_name = "ADDRESS")]
    addresses: Vec<String>,
    /// Output format: text, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    format: Format,
}

/// One line of `--format json`.
#[derive(serde::Serialize)]
struct Answer<'a> {
    address: IpAddr,
    matches: &'a [tagroute::lookup::Match<'a>],
}

#[derive(serde::Serialize)]
struct PrefixAnswer<'a> {
    prefix: tagroute::prefix::IpPrefix,
    matches: &'a [tagroute::lookup::PrefixMatch<'a>],
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
}

/// How many bad inputs are reported one by one.
const REPORTED: usize = 1000;

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    if args.source.is_stdin() && args.addresses.is_empty() {
        anyhow::bail!(
            "--file - reads the service tags from stdin, so give the addresses as arguments"
        );
    }
    let snapshot = args.source.load(diag)?;
    let index = LookupIndex::build(&snapshot);
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    // Bad inputs are reported as they come, the first thousand of them; all are counted.
    let bad = std::cell::Cell::new(0usize);
    let report = |message: &str| {
        bad.set(bad.get() + 1);
        if bad.get() <= REPORTED {
            eprintln!("{}", tagroute::text::for_terminal(message));
        }
    };
    let mut line: Vec<u8> = Vec::with_capacity(512);
    let mut answer =
        |text: &str, origin: &dyn Fn() -> String, out: &mut BufWriter<_>| -> io::Result<()> {
            let text = text.trim();
            if text.is_empty() || text.starts_with('#') {
                return Ok(());
            }
            let Ok(addr) = text.parse::<IpAddr>() else {
                let Some(prefix) = text
                    .contains('/')
                    .then(|| text.parse::<tagroute::prefix::IpPrefix>().ok())
                    .flatten()
                else {
                    report(&format!(
                        "tagroute: {}: {} is not an IP address or prefix",
                        origin(),
                        tagroute::text::quoted(text)
                    ));
                    return Ok(());
                };
                let matches = index.lookup_prefix(prefix);
                return match args.format {
                    Format::Json => {
                        let answer = PrefixAnswer {
                            prefix,
                            matches: &matches,
                        };
                        serde_json::to_writer(&mut *out, &answer)?;
                        out.write_all(b"\n")
                    }
                    Format::Text => {
                        if matches.is_empty() {
                            writeln!(out, "{prefix}\t-\t-")?;
                        }
                        for m in &matches {
                            let how = match m.relation {
                                tagroute::lookup::Relation::Holds => "holds".to_owned(),
                                tagroute::lookup::Relation::Inside => format!(
                                    "inside ({})",
                                    tagroute::text::plural(m.inside, "prefix")
                                ),
                            };
                            writeln!(out, "{prefix}\t{}\t{}\t{how}", m.prefix, m.tag)?;
                        }
                        Ok(())
                    }
                };
            };
            let matches = index.lookup(addr);
            match args.format {
                Format::Json => {
                    serde_json::to_writer(
                        &mut *out,
                        &Answer {
                            address: addr,
                            matches: &matches,
                        },
                    )?;
                    out.write_all(b"\n")
                }
                Format::Text => {
                    // One buffer per address: `fmt` only for the address, once.
                    line.clear();
                    write!(line, "{addr}\t")?;
                    let head = line.len();
                    if matches.is_empty() {
                        line.extend_from_slice(b"-\t-\n");
                    }
                    for (i, m) in matches.iter().enumerate() {
                        if i > 0 {
                            line.extend_from_within(..head);
                        }
                        tagroute::prefix::IpPrefix::write_text(&mut line, m.prefix);
                        line.push(b'\t');
                        line.extend_from_slice(m.tag.as_bytes());
                        line.push(b'\n');
                    }
                    out.write_all(&line)
                }
            }
        };
    let result: io::Result<()> = (|| {
        if args.addresses.is_empty() {
            let mut lines = Lines::new(io::stdin().lock());
            while let Some((n, line)) = lines.next_line()? {
                let why = match line {
                    Line::Text(text) => {
                        answer(text, &|| format!("line {n}"), &mut out)?;
                        continue;
                    }
                    Line::TooLong { start, len } => format!(
                        "{}: a line of {len} bytes, longer than the {MAX_LINE_BYTES}-byte limit",
                        tagroute::text::bytes_quoted(start)
                    ),
                    Line::NotUtf8 { start } => {
                        format!("{} is not UTF-8 text", tagroute::text::bytes_quoted(start))
                    }
                };
                report(&format!("tagroute: line {n}: {why}"));
            }
        } else {
            for (i, a) in args.addresses.iter().enumerate() {
                answer(a, &|| format!("argument {}", i + 1), &mut out)?;
            }
        }
        out.flush()
    })();
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Status::Ok),
        other => other.context("lookup failed")?,
    }
    let bad = bad.get();
    if bad > REPORTED {
        eprintln!("tagroute: {} more bad inputs not shown", bad - REPORTED);
    }
    if bad > 0 {
        let (n, verb) = if bad == 1 {
            ("input", "was not an IP address or prefix")
        } else {
            ("inputs", "were not IP addresses or prefixes")
        };
        eprintln!("tagroute: error: {bad} {n} {verb}");
        return Ok(Status::Error);
    }
    Ok(Status::Ok)
}
