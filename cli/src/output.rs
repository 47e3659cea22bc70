//! Exit codes, stdout writing, stderr diagnostics and atomic output files.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

/// The documented exit codes, like diff(1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Success; nothing differs.
    Ok = 0,
    /// Success; differences were found (routes to change, prefixes that moved).
    Differences = 1,
    /// Bad input, bad usage, or a failure.
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// Notes and warnings for stderr, silenced by `--quiet`. They are held back until the command
/// has succeeded, so that a failed run prints its one-line error and nothing else.
#[derive(Default)]
pub struct Diag {
    pub quiet: bool,
    held: std::cell::RefCell<Vec<String>>,
}

impl Diag {
    pub fn new(quiet: bool) -> Self {
        Diag {
            quiet,
            held: Default::default(),
        }
    }
    pub fn note(&self, msg: impl AsRef<str>) {
        self.hold("note", msg.as_ref());
    }
    pub fn warn(&self, msg: impl AsRef<str>) {
        self.hold("warning", msg.as_ref());
    }
    /// Notes and warnings the library gives about a plan, in order.
    pub fn tell(&self, notices: &[tagroute::notice::Notice]) {
        for notice in notices {
            self.say(notice.level, crate::words::notice(notice));
        }
    }
    /// A note or a warning, as `level` says.
    pub fn say(&self, level: tagroute::notice::Level, msg: impl AsRef<str>) {
        self.hold(level.word(), msg.as_ref());
    }
    fn hold(&self, level: &str, msg: &str) {
        if !self.quiet {
            self.held.borrow_mut().push(format!(
                "tagroute: {level}: {}",
                tagroute::text::for_terminal(msg)
            ));
        }
    }
    /// Prints what was held back.
    pub fn flush(&self) {
        for line in self.held.borrow_mut().drain(..) {
            eprintln!("{line}");
        }
    }
}

/// Writes the finished output to stdout, or atomically to `path` when given. A closed pipe
/// (`tagroute ... | head`) is not an error.
pub fn deliver(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    if let Some(path) = path {
        return write_atomic(path, text.as_bytes());
    }
    let text = tagroute::secret::redact(text);
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

/// Replaces `path` with `bytes` atomically (see [`tagroute::emit::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    tagroute::emit::write_atomic(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}
