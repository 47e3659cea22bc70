//! The naive peer of `tagroute aggregate` in the benchmarks: parse every line with `ipnet`, call
//! `IpNet::aggregate`, print. What a Rust user would write in five minutes.
//!
//! `cargo run --release --example naive_ipnet < prefixes.txt`

use std::io::{BufRead, BufWriter, Write};

use ipnet::IpNet;

fn main() {
    let stdin = std::io::stdin().lock();
    let nets: Vec<IpNet> = stdin
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for n in IpNet::aggregate(&nets) {
        let _ = writeln!(out, "{n}");
    }
}
