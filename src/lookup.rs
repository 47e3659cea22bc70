//! Which service tags hold an address: an index built once with the project's trie.
//!
//! Every prefix of every tag goes into a [`PrefixMap`] per family, valued by the tag's index; a
//! lookup walks one root-to-leaf path and keeps, per tag, the most specific prefix that contains
//! the address. Building takes one pass over the file; each lookup at most 32 or 128 steps.

use std::net::IpAddr;

use serde::Serialize;

use crate::prefix::{IpPrefix, PrefixMap};
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
    v4: PrefixMap<u32, u32>,
    v6: PrefixMap<u128, u32>,
}

impl LookupIndex {
    /// Indexes every prefix of every tag.
    pub fn build(snapshot: &Snapshot) -> Self {
        let mut index = LookupIndex {
            names: Vec::new(),
            v4: PrefixMap::new(),
            v6: PrefixMap::new(),
        };
        for (i, tag) in snapshot.tags.iter().enumerate() {
            index.names.push(tag.name.clone());
            for &p in &tag.ipv4 {
                index.v4.insert(p, i as u32);
            }
            for &p in &tag.ipv6 {
                index.v6.insert(p, i as u32);
            }
        }
        index
    }

    /// The tags holding `addr`, most specific prefix first (ties by tag name).
    pub fn lookup(&self, addr: IpAddr) -> Vec<Match<'_>> {
        // (tag, prefix); a later (deeper) prefix of the same tag replaces the earlier one.
        let mut best: Vec<(u32, IpPrefix)> = Vec::new();
        let mut keep = |tag: u32, prefix: IpPrefix| match best.iter_mut().find(|b| b.0 == tag) {
            Some(b) => b.1 = prefix,
            None => best.push((tag, prefix)),
        };
        match addr {
            IpAddr::V4(a) => self
                .v4
                .for_each_match(u32::from(a), |p, &t| keep(t, IpPrefix::V4(p))),
            IpAddr::V6(a) => self
                .v6
                .for_each_match(u128::from(a), |p, &t| keep(t, IpPrefix::V6(p))),
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
