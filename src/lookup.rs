//! Which service tags hold an address: an index built once per file.
//!
//! Every prefix of every tag goes into a `StabIndex` (in `prefix`) per family, valued by the tag's index; a
//! lookup is one binary search over the elementary intervals the prefixes cut the address space
//! into, and keeps, per tag, the most specific prefix that contains the address.

use std::net::IpAddr;

use serde::Serialize;

use crate::prefix::{IpPrefix, StabIndex};
use crate::snapshot::Snapshot;

/// Addresses to look up are read a bounded line at a time.
pub use crate::lines::{Line, Lines, MAX_LINE_BYTES};

/// One tag that holds an address, with its most specific prefix that does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Match<'a> {
    pub tag: &'a str,
    pub prefix: IpPrefix,
}

/// How a tag meets a looked-up prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// A prefix of the tag holds the whole of it.
    Holds,
    /// Prefixes of the tag lie inside it (the tag holds part of it).
    Inside,
}

/// One tag that meets a looked-up prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrefixMatch<'a> {
    pub tag: &'a str,
    pub relation: Relation,
    /// With `holds`, the tag's most specific prefix holding it; with `inside`, the first of the
    /// tag's prefixes inside it.
    pub prefix: IpPrefix,
    /// With `inside`, how many of the tag's prefixes lie inside it.
    pub inside: usize,
}

/// Every prefix of a snapshot, searchable by address.
pub struct LookupIndex {
    names: Vec<String>,
    /// Every (prefix, tag), for prefixes inside a looked-up prefix.
    all: Vec<(IpPrefix, u32)>,
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
        let all = v4
            .iter()
            .map(|&(p, t)| (IpPrefix::V4(p), t))
            .chain(v6.iter().map(|&(p, t)| (IpPrefix::V6(p), t)))
            .collect();
        LookupIndex {
            all,
            names: snapshot.tags.iter().map(|t| t.name.clone()).collect(),
            v4: StabIndex::build(v4),
            v6: StabIndex::build(v6),
        }
    }

    /// The tags that meet `query`: those with a prefix holding all of it (most specific prefix
    /// first, as [`LookupIndex::lookup`] orders them), then those with prefixes inside it (by
    /// tag name). Prefixes either nest or are apart, so these are all the tags that overlap it.
    ///
    /// ```
    /// let text = include_str!("../data/ServiceTags_Example.json");
    /// let snapshot = tagroute::snapshot::parse("example", text.as_bytes())?;
    /// let index = tagroute::lookup::LookupIndex::build(&snapshot);
    /// let hits = index.lookup_prefix("203.0.113.0/26".parse()?);
    /// let holder = hits.iter().find(|m| m.tag == "AzureCloud.westeurope").unwrap();
    /// assert_eq!(holder.relation, tagroute::lookup::Relation::Holds);
    /// let inside = hits.iter().find(|m| m.tag == "AzureMachineLearning.WestEurope").unwrap();
    /// assert_eq!((inside.relation, inside.inside), (tagroute::lookup::Relation::Inside, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup_prefix(&self, query: IpPrefix) -> Vec<PrefixMatch<'_>> {
        let first = match query {
            IpPrefix::V4(p) => IpAddr::V4(p.first().into()),
            IpPrefix::V6(p) => IpAddr::V6(p.first().into()),
        };
        let mut out: Vec<PrefixMatch<'_>> = self
            .lookup(first)
            .into_iter()
            .filter(|m| m.prefix.contains(query))
            .map(|m| PrefixMatch {
                tag: m.tag,
                relation: Relation::Holds,
                prefix: m.prefix,
                inside: 0,
            })
            .collect();
        let mut inside: Vec<PrefixMatch<'_>> = Vec::new();
        for &(p, t) in &self.all {
            let tag = self.names[t as usize].as_str();
            if p == query || !query.contains(p) || out.iter().any(|m| m.tag == tag) {
                continue;
            }
            match inside.iter_mut().find(|m| m.tag == tag) {
                Some(m) => m.inside += 1,
                None => inside.push(PrefixMatch {
                    tag,
                    relation: Relation::Inside,
                    prefix: p,
                    inside: 1,
                }),
            }
        }
        inside.sort_by(|a, b| a.tag.cmp(b.tag));
        out.extend(inside);
        out
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
