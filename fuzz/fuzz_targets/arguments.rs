//! The command-line parser on any argument list: an answer (arguments, or clap's error with
//! its exit code), never a panic. The binary's `cli` module is compiled in as it stands.
#![no_main]

use clap::Parser;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/cli/mod.rs"]
mod cli;

fuzz_target!(|data: &[u8]| {
    // NUL separates the arguments.
    let text = String::from_utf8_lossy(data);
    let args = std::iter::once("tagroute").chain(text.split('\0'));
    if let Err(e) = cli::Cli::try_parse_from(args) {
        assert!(matches!(e.exit_code(), 0 | 2));
        let _ = e.render().to_string();
    }
});
