//! What changed between two service-tag files, per tag.
//!
//! Tags are joined by name, case-insensitively. For each selected tag in both files: the prefixes
//! added and removed and the tag's changeNumber before and after; tags present in only one file
//! are listed as appeared or vanished. With a region, the plans of both files are compared too, so
//! the report says which routes the weekly change adds and removes. Knows no output format.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::Route;
use crate::plan::{self, PlanOptions, Slack};
use crate::prefix::{Family, IpPrefix};
use crate::select::{self, FamilyChoice, SelectError};
use crate::snapshot::{Cloud, ServiceTag, Snapshot};

/// One file's identity in the report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    pub source: String,
    #[serde(serialize_with = "cloud_str")]
    pub cloud: Cloud,
    pub change_number: u64,
}

fn cloud_str<S: serde::Serializer>(c: &Cloud, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

/// A tag whose prefixes or changeNumber moved.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagDrift {
    pub name: String,
    pub old_change_number: u64,
    pub new_change_number: u64,
    pub added: Vec<IpPrefix>,
    pub removed: Vec<IpPrefix>,
}

/// Routes the plan gains and loses between the files.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteDrift {
    /// The region planned.
    pub region: String,
    /// Routes of the new plan that the old one lacks.
    pub add: Vec<Route>,
    /// Routes of the old plan that the new one lacks.
    pub remove: Vec<Route>,
    /// Service-tag routes of the new plan: Azure expands them to the new prefixes by itself, so
    /// a change of their tags' prefixes is no route change.
    pub tag_routes: Vec<String>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub old: FileInfo,
    pub new: FileInfo,
    /// NEW has a lower changeNumber than OLD.
    pub new_is_older: bool,
    pub tags: Vec<TagDrift>,
    pub added_tags: Vec<String>,
    pub removed_tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<RouteDrift>,
}

impl Drift {
    /// True when some prefix of the selection changed (including tags that appeared or vanished
    /// with prefixes of the chosen families).
    pub fn prefixes_changed(&self) -> bool {
        self.tags
            .iter()
            .any(|t| !t.added.is_empty() || !t.removed.is_empty())
            || self
                .routes
                .as_ref()
                .is_some_and(|r| !r.add.is_empty() || !r.remove.is_empty())
            || !self.added_tags.is_empty()
            || !self.removed_tags.is_empty()
    }
}

/// Which tags to compare.
#[derive(Clone, Debug, Default)]
pub struct DriftOptions {
    /// Compare this region's default tags and the plans made for them.
    pub region: Option<String>,
    /// Compare these tags (names or globs) instead.
    pub tags: Vec<String>,
    /// The families compared.
    pub family: FamilyChoice,
    /// The name prefix of planned routes.
    pub name_prefix: String,
    /// Tags the plans may use as whole routes (as `--tag-route` takes them).
    pub tag_routes: Vec<String>,
    /// Slack tags of the plans (as `--slack` takes them).
    pub slack: Vec<String>,
    /// The requirement profile whose tags a region's drift compares (default: the default
    /// profile).
    pub profile: Option<String>,
}

/// Why two files cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(
        "{old} is a {old_cloud} file and {new} a {new_cloud} file: files of different clouds are not compared unless that is allowed"
    )]
    CrossCloud {
        old: String,
        old_cloud: Cloud,
        new: String,
        new_cloud: Cloud,
    },
    #[error("tag pattern {} matches no tag in either file", crate::text::quoted(.0))]
    UnmatchedTag(String),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Profile(#[from] crate::profile::UnknownProfile),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
}

/// Compares `old` with `new`.
///
/// ```
/// use tagroute::drift::{DriftOptions, drift};
///
/// let load = |t: &str| tagroute::snapshot::parse("f", t.as_bytes());
/// let old = load(include_str!("../data/ServiceTags_Example.json"))?;
/// let new = load(include_str!("../data/ServiceTags_Example_next.json"))?;
/// let opts = DriftOptions {
///     region: Some("westeurope".into()),
///     tags: vec![],
///     family: tagroute::select::FamilyChoice::Both,
///     name_prefix: "tagroute-".into(),
///     ..DriftOptions::default()
/// };
/// let d = drift(&old, &new, &opts, false)?;
/// let batch = d.tags.iter().find(|t| t.name == "BatchNodeManagement.WestEurope").unwrap();
/// let text = |v: &[tagroute::prefix::IpPrefix]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
/// assert_eq!((text(&batch.added), text(&batch.removed)), (vec!["203.0.113.8/31".to_string()], vec!["203.0.113.7/32".to_string()]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn drift(
    old: &Snapshot,
    new: &Snapshot,
    opts: &DriftOptions,
    allow_cross_cloud: bool,
) -> Result<Drift, DriftError> {
    if old.cloud != new.cloud && !allow_cross_cloud {
        return Err(DriftError::CrossCloud {
            old: old.source.clone(),
            old_cloud: old.cloud,
            new: new.source.clone(),
            new_cloud: new.cloud,
        });
    }
    let (old_sel, new_sel, routes) = selection(old, new, opts)?;
    let by_name = |s: &Snapshot, sel: &[usize]| -> BTreeMap<String, usize> {
        sel.iter()
            .map(|&i| (s.tags[i].name.to_ascii_lowercase(), i))
            .collect()
    };
    let (old_map, new_map) = (by_name(old, &old_sel), by_name(new, &new_sel));
    let prefixes = |t: &ServiceTag| -> BTreeSet<IpPrefix> {
        let v4 = t
            .ipv4
            .iter()
            .map(|&p| IpPrefix::V4(p))
            .filter(|_| opts.family.includes(Family::V4));
        let v6 = t
            .ipv6
            .iter()
            .map(|&p| IpPrefix::V6(p))
            .filter(|_| opts.family.includes(Family::V6));
        v4.chain(v6).collect()
    };
    let mut tags = Vec::new();
    for (key, &oi) in &old_map {
        let Some(&ni) = new_map.get(key) else {
            continue;
        };
        let (ot, nt) = (&old.tags[oi], &new.tags[ni]);
        let (op, np) = (prefixes(ot), prefixes(nt));
        let added: Vec<IpPrefix> = np.difference(&op).copied().collect();
        let removed: Vec<IpPrefix> = op.difference(&np).copied().collect();
        if !added.is_empty() || !removed.is_empty() || ot.change_number != nt.change_number {
            tags.push(TagDrift {
                name: nt.name.clone(),
                old_change_number: ot.change_number,
                new_change_number: nt.change_number,
                added,
                removed,
            });
        }
    }
    let only =
        |a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>, s: &Snapshot| -> Vec<String> {
            a.iter()
                .filter(|(k, _)| !b.contains_key(*k))
                .map(|(_, &i)| s.tags[i].name.clone())
                .collect()
        };
    Ok(Drift {
        old: info(old),
        new: info(new),
        new_is_older: new.change_number < old.change_number,
        tags,
        added_tags: only(&new_map, &old_map, new),
        removed_tags: only(&old_map, &new_map, old),
        routes,
    })
}

fn info(s: &Snapshot) -> FileInfo {
    FileInfo {
        source: s.source.clone(),
        cloud: s.cloud,
        change_number: s.change_number,
    }
}

type Selected = (Vec<usize>, Vec<usize>, Option<RouteDrift>);

fn selection(old: &Snapshot, new: &Snapshot, opts: &DriftOptions) -> Result<Selected, DriftError> {
    // The region must be known to NEW (the file that will be deployed); OLD may predate it.
    let regions = match &opts.region {
        Some(region) => Some((
            select::resolve_region(new, region)?,
            select::resolve_region(old, region).ok(),
        )),
        None => None,
    };
    let (old_sel, new_sel) = if !opts.tags.is_empty() {
        let mut old_sel = Vec::new();
        let mut new_sel = Vec::new();
        for pattern in &opts.tags {
            let o = select::match_tags(old, std::slice::from_ref(pattern)).unwrap_or_default();
            let n = select::match_tags(new, std::slice::from_ref(pattern)).unwrap_or_default();
            if o.is_empty() && n.is_empty() {
                select::glob(pattern)?; // a bad glob says so rather than "matches nothing"
                return Err(DriftError::UnmatchedTag(pattern.clone()));
            }
            old_sel.extend(o);
            new_sel.extend(n);
        }
        for v in [&mut old_sel, &mut new_sel] {
            v.sort_unstable();
            v.dedup();
        }
        (old_sel, new_sel)
    } else if let Some((new_region, old_region)) = &regions {
        let profile = crate::profile::by_name(
            opts.profile
                .as_deref()
                .unwrap_or(crate::profile::DEFAULT_PROFILE),
        )?;
        let new_sel = profile.route_tags(new, new_region).tags;
        let old_sel = old_region
            .as_ref()
            .map(|r| profile.route_tags(old, r).tags)
            .unwrap_or_default();
        (old_sel, new_sel)
    } else {
        ((0..old.tags.len()).collect(), (0..new.tags.len()).collect())
    };
    // Routes are compared with a region: the plans of the selection (the region's default tags,
    // or the tags named) made from each file.
    let Some((new_region, old_region)) = regions else {
        return Ok((old_sel, new_sel, None));
    };
    // Each file's plan with the same options; patterns the old file cannot satisfy (a tag it
    // lacks, or one without UDR then) leave its plan without them.
    let plan_opts = |s: &Snapshot| -> Result<PlanOptions, SelectError> {
        let tag_routes = match opts.tag_routes.is_empty() {
            true => Vec::new(),
            false => select::match_tag_routes(s, &opts.tag_routes)?,
        };
        let slack = match opts.slack.is_empty() {
            true => Slack::None,
            false => Slack::Tags(select::match_tags(s, &opts.slack)?),
        };
        Ok(PlanOptions {
            family: opts.family,
            name_prefix: opts.name_prefix.clone(),
            max_routes: usize::MAX,
            tag_routes,
            slack,
            ..PlanOptions::default()
        })
    };
    let new_opts = plan_opts(new)?;
    let old_opts = plan_opts(old).unwrap_or_else(|_| PlanOptions {
        tag_routes: Vec::new(),
        slack: Slack::None,
        ..new_opts.clone()
    });
    let old_plan = plan::plan(old, old_region.as_ref(), &old_sel, &old_opts)?;
    let new_plan = plan::plan(new, Some(&new_region), &new_sel, &new_opts)?;
    let key = |r: &Route| (r.destination.clone(), r.name.clone(), r.next_hop.clone());
    let old_keys: BTreeSet<_> = old_plan.routes.iter().map(key).collect();
    let new_keys: BTreeSet<_> = new_plan.routes.iter().map(key).collect();
    let routes = RouteDrift {
        region: new_region.name.clone(),
        add: new_plan
            .routes
            .iter()
            .filter(|r| !old_keys.contains(&key(r)))
            .cloned()
            .collect(),
        remove: old_plan
            .routes
            .iter()
            .filter(|r| !new_keys.contains(&key(r)))
            .cloned()
            .collect(),
        tag_routes: new_plan
            .routes
            .iter()
            .filter(|r| r.expansion.is_some())
            .map(|r| r.destination.to_string())
            .collect(),
    };
    Ok((old_sel, new_sel, Some(routes)))
}
