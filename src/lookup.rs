//! Which service tags hold an address: an index built once per file.
//!
//! Every prefix of every tag goes into a `StabIndex` (in `prefix`) per family, valued by the tag's index; a
//! lookup is one binary search over the elementary intervals the prefixes cut the address space
//! into, and keeps, per tag, the most specific prefix that contains the address.

use std::net::IpAddr;

use serde::Serialize;

use crate::prefix::{IpPrefix, StabIndex};
use crate::snapshot::Snapshot;

/// One tag that holds an address, with its most specific prefix that does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Match<'a> {
    pub tag: &'a str,
    pub prefix: IpPrefix,
}

/// Every prefix of a snapshot, searchable by address.
pub struct LookupIndex {
    names: Vec<String>,
    v4: StabIndex<u32, u32>,
    v6: StabIndex<u128, u32>,
}

impl LookupIndex {
    /// Indexes every prefix of every tag.
    pub fn build(snapshot: &Snapshot) -> Self {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (i, tag) in snapshot.tags.iter().enumerate() {
            v4.extend(tag.ipv4.iter().map(|&p| (p, i as u32)));
            v6.extend(tag.ipv6.iter().map(|&p| (p, i as u32)));
        }
        LookupIndex {
            names: snapshot.tags.iter().map(|t| t.name.clone()).collect(),
            v4: StabIndex::build(v4),
            v6: StabIndex::build(v6),
        }
    }

    /// The tags holding `addr`, most specific prefix first (ties by tag name).
    ///
    /// ```
    /// let text = include_str!("../data/ServiceTags_Example.json");
    /// let snapshot = tagroute::snapshot::parse("example", text.as_bytes())?;
    /// let index = tagroute::lookup::LookupIndex::build(&snapshot);
    /// let hits = index.lookup("203.0.113.20".parse()?);
    /// let regional = hits.iter().find(|m| m.tag == "AzureMachineLearning.WestEurope").unwrap();
    /// assert_eq!(regional.prefix.to_string(), "203.0.113.16/28");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup(&self, addr: IpAddr) -> Vec<Match<'_>> {
        // (tag, prefix); a later (deeper) prefix of the same tag replaces the earlier one.
        let mut best: Vec<(u32, IpPrefix)> = Vec::new();
        let mut keep = |tag: u32, prefix: IpPrefix| match best.iter_mut().find(|b| b.0 == tag) {
            Some(b) => b.1 = prefix,
            None => best.push((tag, prefix)),
        };
        match addr {
            IpAddr::V4(a) => {
                for &(p, t) in self.v4.containing(u32::from(a)) {
                    keep(t, IpPrefix::V4(p));
                }
            }
            IpAddr::V6(a) => {
                for &(p, t) in self.v6.containing(u128::from(a)) {
                    keep(t, IpPrefix::V6(p));
                }
            }
        }
        let mut out: Vec<Match<'_>> = best
            .into_iter()
            .map(|(t, prefix)| Match {
                tag: &self.names[t as usize],
                prefix,
            })
            .collect();
        out.sort_by(|a, b| {
            b.prefix
                .len()
                .cmp(&a.prefix.len())
                .then_with(|| a.tag.cmp(b.tag))
        });
        out
    }
}
