//! What the listing commands show (`tags`, `resolve`, `regions`, `profiles`): each listing is
//! chosen here once, as a type whose JSON form is what `--format json` prints, so that another
//! program gets the same rows and the same document as the command line.

use serde::Serialize;

use crate::plan::{self, PlanError, PlanOptions};
use crate::prefix::IpPrefix;
use crate::regions::{self, Pairing};
use crate::select::{self, FamilyChoice, SelectError};
use crate::snapshot::{ServiceTag, Snapshot};

/// The tags of a file a listing shows, and the file they come from.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tags<'s> {
    pub cloud: &'static str,
    pub change_number: u64,
    #[serde(serialize_with = "tag_rows")]
    pub tags: Vec<&'s ServiceTag>,
}

/// Each tag as a row: its header fields and its prefix counts.
fn tag_rows<S: serde::Serializer>(tags: &[&ServiceTag], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row<'a> {
        name: &'a str,
        region: &'a str,
        region_id: u64,
        change_number: u64,
        system_service: &'a str,
        ipv4_prefixes: usize,
        ipv6_prefixes: usize,
        network_features: Option<&'a [String]>,
    }
    s.collect_seq(tags.iter().map(|t| Row {
        name: &t.name,
        region: &t.region,
        region_id: t.region_id,
        change_number: t.change_number,
        system_service: &t.system_service,
        ipv4_prefixes: t.ipv4.len(),
        ipv6_prefixes: t.ipv6.len(),
        network_features: t.network_features.as_deref(),
    }))
}

/// The tags of `snapshot` of `region` (when given), whose names match any of `patterns` (all
/// when none; globs, case-insensitive), with the network feature `feature` (when given), in
/// the file's order. Unlike a selection, a pattern that matches nothing is no error.
///
/// ```
/// let snapshot = tagroute::snapshot::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json")).unwrap();
/// let udr = tagroute::listing::tags(&snapshot, Some("westeurope"), &[], Some("udr")).unwrap();
/// assert!(!udr.tags.is_empty());
/// assert!(udr.tags.iter().all(|t| t.network_features.iter().flat_map(|f| f.iter()).any(|f| f == "UDR")));
/// let none = tagroute::listing::tags(&snapshot, None, &["NoSuchTag*".into()], None).unwrap();
/// assert!(none.tags.is_empty());
/// ```
pub fn tags<'s>(
    snapshot: &'s Snapshot,
    region: Option<&str>,
    patterns: &[String],
    feature: Option<&str>,
) -> Result<Tags<'s>, SelectError> {
    let region = region
        .map(|r| select::resolve_region(snapshot, r))
        .transpose()?;
    let globs = patterns
        .iter()
        .map(|p| select::glob(p))
        .collect::<Result<Vec<_>, _>>()?;
    let tags = snapshot
        .tags
        .iter()
        .filter(|t| region.as_ref().is_none_or(|r| r.holds(t)))
        .filter(|t| globs.is_empty() || globs.iter().any(|g| g.is_match(&t.name)))
        .filter(|t| {
            feature.is_none_or(|f| {
                t.network_features
                    .iter()
                    .flat_map(|list| list.iter())
                    .any(|x| x.eq_ignore_ascii_case(f))
            })
        })
        .collect();
    Ok(Tags {
        cloud: snapshot.cloud.as_str(),
        change_number: snapshot.change_number,
        tags,
    })
}

/// Why the prefixes of tags could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum PrefixesError {
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// The prefixes of some tags, raw or aggregated, each with the tags it carries addresses of.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prefixes {
    pub cloud: &'static str,
    pub change_number: u64,
    /// The tags selected, by name.
    pub tags: Vec<String>,
    #[serde(serialize_with = "family_name")]
    pub family: FamilyChoice,
    pub aggregated: bool,
    /// IPv4 first, each family in address order.
    #[serde(serialize_with = "prefix_texts")]
    pub prefixes: Vec<(IpPrefix, Vec<String>)>,
}

fn family_name<S: serde::Serializer>(f: &FamilyChoice, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.as_str())
}

fn prefix_texts<S: serde::Serializer>(
    rows: &[(IpPrefix, Vec<String>)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(rows.iter().map(|(p, _)| p.to_string()))
}

/// The prefixes of the tags `patterns` select, of `family`; `aggregate`: the fewest prefixes
/// covering exactly the same addresses (each with every tag it carries addresses of).
///
/// ```
/// use tagroute::select::FamilyChoice;
/// let snapshot = tagroute::snapshot::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json")).unwrap();
/// let tags = ["BatchNodeManagement.WestEurope".to_owned()];
/// let raw = tagroute::listing::prefixes(&snapshot, &tags, FamilyChoice::Ipv4, false).unwrap();
/// let merged = tagroute::listing::prefixes(&snapshot, &tags, FamilyChoice::Ipv4, true).unwrap();
/// assert!(merged.prefixes.len() <= raw.prefixes.len());
/// let json = serde_json::to_value(&merged).unwrap();
/// assert_eq!(json["aggregated"], true);
/// ```
pub fn prefixes(
    snapshot: &Snapshot,
    patterns: &[String],
    family: FamilyChoice,
    aggregate: bool,
) -> Result<Prefixes, PrefixesError> {
    let selected = select::match_tags(snapshot, patterns)?;
    let rows = if aggregate {
        let opts = PlanOptions {
            family,
            max_routes: usize::MAX,
            ..PlanOptions::default()
        };
        let p = plan::plan(snapshot, None, &selected, &opts)?;
        p.routes
            .into_iter()
            .filter_map(|r| Some((r.destination.prefix()?, r.tags)))
            .collect()
    } else {
        let mut map: std::collections::BTreeMap<IpPrefix, Vec<String>> = Default::default();
        for t in selected.iter().map(|&i| &snapshot.tags[i]) {
            let v4 = t.ipv4.iter().map(|&p| IpPrefix::V4(p));
            let v6 = t.ipv6.iter().map(|&p| IpPrefix::V6(p));
            let wanted = |p: &IpPrefix| match p {
                IpPrefix::V4(_) => family != FamilyChoice::Ipv6,
                IpPrefix::V6(_) => family != FamilyChoice::Ipv4,
            };
            for p in v4.chain(v6).filter(wanted) {
                map.entry(p).or_default().push(t.name.clone());
            }
        }
        map.into_iter().collect()
    };
    Ok(Prefixes {
        cloud: snapshot.cloud.as_str(),
        change_number: snapshot.change_number,
        tags: selected
            .iter()
            .map(|&i| snapshot.tags[i].name.clone())
            .collect(),
        family,
        aggregated: aggregate,
        prefixes: rows,
    })
}

/// A file's regions, each with its pair and which of a profile's route tags the file holds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Regions {
    pub cloud: crate::snapshot::Cloud,
    pub change_number: u64,
    pub profile: String,
    /// Where the pairs come from.
    pub pairs_source: &'static regions::Document,
    pub regions: Vec<RegionRow>,
}

/// One region of [`Regions`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionRow {
    pub name: String,
    pub display_name: Option<&'static str>,
    pub pair: Pairing,
    /// The profile's route tags the file holds for the region.
    pub tags: Vec<String>,
    /// Those it lacks.
    pub missing: Vec<String>,
}

/// The regions of `snapshot`, with what `profile` routes in each.
pub fn regions(snapshot: &Snapshot, profile: &crate::profile::Profile) -> Regions {
    let rows = select::regions(snapshot)
        .into_iter()
        .map(|r| {
            let found = profile.route_tags(snapshot, &r);
            RegionRow {
                display_name: regions::info(&r.name).and_then(|i| i.display),
                pair: regions::pairing(&r.name),
                tags: found
                    .tags
                    .iter()
                    .map(|&i| snapshot.tags[i].name.clone())
                    .collect(),
                missing: found.missing,
                name: r.name,
            }
        })
        .collect();
    Regions {
        cloud: snapshot.cloud,
        change_number: snapshot.change_number,
        profile: profile.name.clone(),
        pairs_source: regions::source(),
        regions: rows,
    }
}

/// The requirement profiles, the default one, and the documents they cite.
#[derive(Serialize)]
pub struct Profiles {
    pub default: &'static str,
    pub profiles: &'static [crate::profile::Profile],
    pub sources: &'static std::collections::BTreeMap<String, crate::profile::Source>,
}

/// Every profile (see [`crate::profile`]).
pub fn profiles() -> Profiles {
    Profiles {
        default: crate::profile::DEFAULT_PROFILE,
        profiles: crate::profile::all(),
        sources: crate::profile::sources(),
    }
}
