//! Writes a deterministic synthetic prefix list (see `benches/common/synthetic.rs`) to stdout.
//!
//! `cargo run --release --example gen_prefixes -- v4|v6 COUNT [SEED] > FILE`

#[path = "../benches/common/synthetic.rs"]
mod synthetic;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let family = args.get(1).map(String::as_str).unwrap_or("v4");
    let count: usize = args
        .get(2)
        .and_then(|c| c.parse().ok())
        .expect("usage: gen_prefixes v4|v6 COUNT [SEED]");
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2026);
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    synthetic::write_prefixes(&mut out, family == "v6", count, seed)?;
    out.flush()
}
