//! Choosing tags: by region, by name or glob, and by address family.
//!
//! Users name a region three ways: the ARM location (`francecentral`), the display name
//! (`"France Central"`) or the tag suffix (`FranceCentral`). Lower-casing and dropping spaces,
//! dashes and underscores makes all three the same string. The file's `properties.region` is a
//! fourth spelling (`centralfrance`), so each region is learned from the file itself: its field
//! value, and the ARM name taken from the suffix most of its tags carry. Nothing here reads files
//! or renders output.

use std::collections::BTreeMap;

use globset::{GlobBuilder, GlobMatcher};

use crate::prefix::Family;
use crate::snapshot::{ServiceTag, Snapshot};

impl ServiceTag {
    /// The part of the name after the first dot (`FranceCentral` in
    /// `AzureMachineLearning.FranceCentral`), if any.
    pub fn suffix(&self) -> Option<&str> {
        self.name.split_once('.').map(|(_, s)| s)
    }

    /// True when the name is `base.` then a suffix, ignoring ASCII case (`BatchNodeManagement`
    /// for `BatchNodeManagement.EastUS`). Compared in place: planning asks this of every tag.
    pub(crate) fn has_base(&self, base: &str) -> bool {
        let name = self.name.as_bytes();
        name.len() > base.len()
            && name[base.len()] == b'.'
            && name[..base.len()].eq_ignore_ascii_case(base.as_bytes())
    }
}

/// A region as the file knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// ARM location name, e.g. `francecentral`.
    pub name: String,
    /// The file's `properties.region`, e.g. `centralfrance`.
    pub field: String,
}

impl Region {
    /// True when the tag lies in this region, by its region field or by its name's suffix.
    pub fn holds(&self, tag: &ServiceTag) -> bool {
        (!tag.region.is_empty() && tag.region.eq_ignore_ascii_case(&self.field))
            || tag.suffix().is_some_and(|s| normalizes_to(s, &self.name))
    }
}

/// Which address families a command works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FamilyChoice {
    #[default]
    Ipv4,
    Ipv6,
    Both,
}

impl FamilyChoice {
    /// True when `family` is included.
    pub fn includes(self, family: Family) -> bool {
        matches!(
            (self, family),
            (FamilyChoice::Both, _)
                | (FamilyChoice::Ipv4, Family::V4)
                | (FamilyChoice::Ipv6, Family::V6)
        )
    }

    /// Every choice, in the order help lists them.
    pub const ALL: [FamilyChoice; 3] = [FamilyChoice::Ipv4, FamilyChoice::Ipv6, FamilyChoice::Both];

    /// `ipv4`, `ipv6` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            FamilyChoice::Ipv4 => "ipv4",
            FamilyChoice::Ipv6 => "ipv6",
            FamilyChoice::Both => "both",
        }
    }
}

/// Why a selection failed.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("unknown region {} in this {cloud} file; {}", crate::text::quoted(.input), closest_or(.closest, "closest known", &regions_or(.regions)))]
    UnknownRegion {
        input: String,
        cloud: String,
        closest: Vec<String>,
        /// Every region the file names (said when none is close: a region of another cloud).
        regions: Vec<String>,
    },
    #[error("tag pattern {} matches no tag in {source_name}; {}", crate::text::quoted(.pattern), closest_or(.closest, "closest", if *.any { "no tag of it is named like that (tagroute tags lists them)" } else { "it has no tags" }))]
    UnmatchedTag {
        pattern: String,
        source_name: String,
        closest: Vec<String>,
        /// The file has some tag.
        any: bool,
    },
    #[error("no region and no tag given: name a region or at least one tag")]
    NothingSelected,
    #[error("tag pattern {} is not a valid glob: {msg}", crate::text::quoted(.pattern))]
    BadGlob { pattern: String, msg: String },
    #[error(
        "service tag {} cannot be a route's address prefix: its networkFeatures lack UDR",
        crate::text::quoted(.tag)
    )]
    NotUdr { tag: String },
    #[error(
        "tag pattern {} matches no tag whose networkFeatures include UDR ({matched} without it)",
        crate::text::quoted(.pattern)
    )]
    NoUdrMatch { pattern: String, matched: usize },
}

/// `label: a, b` for the names closest to what was asked, or `none` when there are none.
/// The file's regions, for a name close to none of them.
fn regions_or(regions: &[String]) -> String {
    if regions.is_empty() {
        "it names no regions".to_owned()
    } else {
        format!("its regions are {}", regions.join(", "))
    }
}

fn closest_or(closest: &[String], label: &str, none: &str) -> String {
    if closest.is_empty() {
        none.to_owned()
    } else {
        format!("{label}: {}", closest.join(", "))
    }
}

/// Lower-case and drop spaces, dashes and underscores: `"France Central"` → `francecentral`.
pub(crate) fn normalize(text: &str) -> String {
    normalized(text).collect()
}

/// True when `text` normalizes to `key`, compared without building the normalized text (region
/// resolution asks this of every tag).
fn normalizes_to(text: &str, key: &str) -> bool {
    normalized(text).eq(key.chars())
}

fn normalized(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '\t'))
        .flat_map(char::to_lowercase)
}

/// Every region named in the file, sorted by ARM name.
pub fn regions(snapshot: &Snapshot) -> Vec<Region> {
    regions_with_field(snapshot, None)
}

/// The regions of the file, or only the one with this region field.
fn regions_with_field(snapshot: &Snapshot, only: Option<&str>) -> Vec<Region> {
    // field -> (normalized suffix, count): a field's tags share one or two suffixes, so a short
    // list searched without normalizing into a new string each time.
    let mut votes: BTreeMap<&str, Vec<(String, usize)>> = BTreeMap::new();
    for tag in &snapshot.tags {
        let region = &*tag.region;
        if region.is_empty() || only.is_some_and(|f| f != region) {
            continue;
        }
        let counts = votes.entry(region).or_default();
        if let Some(s) = tag.suffix() {
            match counts.iter_mut().find(|(name, _)| normalizes_to(s, name)) {
                Some((_, n)) => *n += 1,
                None => counts.push((normalize(s), 1)),
            }
        }
    }
    let mut out: Vec<Region> = votes
        .into_iter()
        .map(|(field, counts)| {
            let name = counts
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map_or_else(|| normalize(field), |(n, _)| n);
            Region {
                name,
                field: field.to_owned(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Finds the region a user named, or says which known names are closest.
pub fn resolve_region(snapshot: &Snapshot, input: &str) -> Result<Region, SelectError> {
    let key = normalize(input);
    // Usually the name matches a tag's region field or name suffix: find that field, then take
    // the ARM name from its tags alone, without building the whole region table.
    let field = snapshot
        .tags
        .iter()
        .filter(|t| !t.region.is_empty())
        .find(|t| {
            normalizes_to(&t.region, &key) || t.suffix().is_some_and(|s| normalizes_to(s, &key))
        })
        .map(|t| &*t.region);
    let named = |r: &Region| r.name == key || normalizes_to(&r.field, &key);
    if let Some(field) = field
        && let Some(r) = regions_with_field(snapshot, Some(field))
            .into_iter()
            .find(|r| named(r))
    {
        return Ok(r);
    }
    let all = regions(snapshot);
    if let Some(r) = all.iter().find(|r| named(r)) {
        return Ok(r.clone());
    }
    let names = all.iter().map(|r| r.name.as_str());
    Err(SelectError::UnknownRegion {
        input: input.to_owned(),
        cloud: snapshot.cloud.to_string(),
        closest: closest(&key, names, 5),
        regions: all.iter().map(|r| r.name.clone()).collect(),
    })
}

/// Indices of the tags whose names match any of `patterns` (case-insensitive globs), in file
/// order. Every pattern must match at least one tag.
pub fn match_tags(snapshot: &Snapshot, patterns: &[String]) -> Result<Vec<usize>, SelectError> {
    let tags = &snapshot.tags;
    let mut chosen = vec![false; tags.len()];
    for pattern in patterns {
        let matcher = glob(pattern)?;
        let mut any = false;
        for (i, tag) in tags.iter().enumerate() {
            if matcher.is_match(tag.name.as_str()) {
                chosen[i] = true;
                any = true;
            }
        }
        if !any && let Some(found) = by_region_spelling(snapshot, pattern) {
            chosen[found] = true;
            any = true;
        }
        if !any {
            let names = tags.iter().map(|t| t.name.as_str());
            return Err(SelectError::UnmatchedTag {
                pattern: pattern.clone(),
                source_name: snapshot.source.to_owned(),
                closest: closest(pattern, names, 5),
                any: !tags.is_empty(),
            });
        }
    }
    Ok(chosen
        .iter()
        .enumerate()
        .filter(|(_, c)| **c)
        .map(|(i, _)| i)
        .collect())
}

/// The tag a plain name means when its suffix spells a region another way than the file's own
/// name does (`AzureCloud.francecentral` for the file's `AzureCloud.centralfrance`): the tag of
/// that base that the region holds, when there is exactly one.
fn by_region_spelling(snapshot: &Snapshot, pattern: &str) -> Option<usize> {
    if pattern.contains(['*', '?', '[', '{']) {
        return None;
    }
    let (base, suffix) = pattern.split_once('.')?;
    let region = resolve_region(snapshot, suffix).ok()?;
    let mut found = snapshot
        .tags
        .iter()
        .enumerate()
        .filter(|(_, t)| t.has_base(base) && region.holds(t))
        .map(|(i, _)| i);
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// The tags a plan may use as whole routes (`--tag-route`), in file order: `auto` allows every tag
/// whose `networkFeatures` include `UDR`; a name must be such a tag; a glob keeps the matches that
/// are (and must match at least one).
pub fn match_tag_routes(
    snapshot: &Snapshot,
    patterns: &[String],
) -> Result<Vec<usize>, SelectError> {
    let mut chosen = vec![false; snapshot.tags.len()];
    for pattern in patterns {
        if pattern.eq_ignore_ascii_case("auto") {
            for (i, tag) in snapshot.tags.iter().enumerate() {
                chosen[i] |= tag.supports_udr();
            }
            continue;
        }
        let matched = match_tags(snapshot, std::slice::from_ref(pattern))?;
        let is_glob = pattern.contains(['*', '?', '[', '{']);
        let udr: Vec<usize> = matched
            .iter()
            .copied()
            .filter(|&i| snapshot.tags[i].supports_udr())
            .collect();
        if !is_glob && let Some(&i) = matched.iter().find(|&&i| !snapshot.tags[i].supports_udr()) {
            return Err(SelectError::NotUdr {
                tag: snapshot.tags[i].name.clone(),
            });
        }
        if udr.is_empty() {
            return Err(SelectError::NoUdrMatch {
                pattern: pattern.clone(),
                matched: matched.len(),
            });
        }
        for i in udr {
            chosen[i] = true;
        }
    }
    Ok((0..chosen.len()).filter(|&i| chosen[i]).collect())
}

/// A case-insensitive glob over tag names.
pub fn glob(pattern: &str) -> Result<GlobMatcher, SelectError> {
    GlobBuilder::new(pattern)
        .case_insensitive(true)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| SelectError::BadGlob {
            pattern: pattern.to_owned(),
            msg: e.kind().to_string(),
        })
}

/// A region's tags as a requirement profile selects them (see `crate::profile`): what a plan
/// routes when no tag is named.
#[derive(Clone, Debug, Default)]
pub struct Defaults {
    /// Indices into the snapshot's tags, in file order.
    pub tags: Vec<usize>,
    /// What the profile needs that the file lacks, as a phrase after "no "
    /// (`AzureMachineLearning tag for region westeurope`).
    pub missing: Vec<String>,
    /// What to tell about the selection.
    pub notes: Vec<String>,
    /// What the user should check.
    pub warnings: Vec<String>,
}

/// What a plan is made of: the region (if named), the chosen tags, and what the region's
/// defaults said (nothing when tags were named).
#[derive(Clone, Debug)]
pub struct Selection {
    pub region: Option<Region>,
    /// Indices into the tags of the snapshot it was made from, in file order.
    pub tags: Vec<usize>,
    /// The region's defaults, when no tag was named.
    pub defaults: Option<Defaults>,
}

/// Resolves `--region` and `--tag` the way every planning command does: explicit tags when
/// given, else `defaults` of the region (a requirement profile's tags).
pub(crate) fn for_plan(
    snapshot: &Snapshot,
    region: Option<&str>,
    tags: &[String],
    defaults: impl FnOnce(&Region) -> Defaults,
) -> Result<Selection, SelectError> {
    let region = region.map(|r| resolve_region(snapshot, r)).transpose()?;
    if !tags.is_empty() {
        let tags = match_tags(snapshot, tags)?;
        return Ok(Selection {
            region,
            tags,
            defaults: None,
        });
    }
    let r = region.ok_or(SelectError::NothingSelected)?;
    let d = defaults(&r);
    Ok(Selection {
        region: Some(r),
        tags: d.tags.clone(),
        defaults: Some(d),
    })
}

/// How alike (Jaro-Winkler, on normalized names) a suggestion must be to what was asked: a typo
/// or a different spelling passes, an unrelated name (`Scuba` for `NoSuchTag`) does not.
const CLOSE_ENOUGH: f64 = 0.8;

/// Up to `n` candidates closest to `key` and close enough to it, most similar first.
pub(crate) fn closest<'a>(
    key: &str,
    candidates: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<String> {
    let key = normalize(key);
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| (strsim::jaro_winkler(&key, &normalize(c)), c))
        .filter(|(score, _)| *score >= CLOSE_ENOUGH)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(n)
        .map(|(_, c)| c.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::parse;

    fn demo() -> Snapshot {
        let text = r#"{"changeNumber":1,"cloud":"Public","values":[
          {"name":"AzureCloud.centralfrance","properties":{"region":"centralfrance","addressPrefixes":[]}},
          {"name":"BatchNodeManagement.FranceCentral","properties":{"region":"centralfrance","addressPrefixes":[]}},
          {"name":"AzureMachineLearning.FranceCentral","properties":{"region":"centralfrance","addressPrefixes":[]}},
          {"name":"Storage.FranceCentral","properties":{"region":"centralfrance","addressPrefixes":[]}},
          {"name":"BatchNodeManagement.EastUS","properties":{"region":"eastus","addressPrefixes":[]}},
          {"name":"BatchNodeManagement.EastUS2","properties":{"region":"eastus2","addressPrefixes":[]}},
          {"name":"Storage","properties":{"region":"","addressPrefixes":[]}}]}"#;
        parse("demo.json", text.as_bytes()).unwrap()
    }

    #[test]
    fn suffix_and_base_of_a_name() {
        let s = demo();
        let t = &s.tags[1];
        assert_eq!(t.suffix(), Some("FranceCentral"));
        assert!(t.has_base("batchnodemanagement") && t.has_base("BatchNodeManagement"));
        for not in [
            "Batch",
            "BatchNodeManagement.France",
            "BatchNodeManagement.FranceCentral",
        ] {
            assert!(!t.has_base(not), "{not}");
        }
        assert_eq!(s.tags[6].suffix(), None);
        assert!(!s.tags[6].has_base("Storage"));
    }

    #[test]
    fn region_by_arm_name_display_name_suffix_or_field() {
        let s = demo();
        for input in [
            "francecentral",
            "France Central",
            "FranceCentral",
            "centralfrance",
            "FRANCE-central",
        ] {
            let r = resolve_region(&s, input).unwrap();
            assert_eq!(
                (r.name.as_str(), r.field.as_str()),
                ("francecentral", "centralfrance")
            );
        }
    }

    #[test]
    fn unknown_region_lists_closest() {
        let e = resolve_region(&demo(), "eastsu").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown region 'eastsu' in this Public file; closest known: eastus"),
            "{e}"
        );
        let empty = parse("e", br#"{"cloud":"Public","changeNumber":1,"values":[]}"#).unwrap();
        let e = resolve_region(&empty, "eastus").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown region 'eastus' in this Public file; it names no regions"
        );
    }

    #[test]
    fn tag_globs_are_case_insensitive_and_must_match() {
        let s = demo();
        assert_eq!(match_tags(&s, &["storage*".into()]).unwrap(), [3, 6]);
        assert_eq!(
            match_tags(&s, &["BATCHNODEMANAGEMENT.eastus".into()]).unwrap(),
            [4]
        );
        let e = match_tags(&s, &["Strage.*".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("matches no tag in demo.json; closest: Storage"),
            "{e}"
        );
        assert!(match_tags(&s, &["[".into()]).is_err());
        // Unrelated names are no suggestion.
        let e = match_tags(&s, &["NoSuchTag".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("no tag of it is named like that (tagroute tags lists them)"),
            "{e}"
        );
        // A region spelled another way than the file's tag name is the same tag.
        assert_eq!(
            match_tags(&s, &["AzureMachineLearning.centralfrance".into()]).unwrap(),
            match_tags(&s, &["AzureMachineLearning.FranceCentral".into()]).unwrap()
        );
        let empty = parse("e", br#"{"cloud":"Public","changeNumber":1,"values":[]}"#).unwrap();
        let e = match_tags(&empty, &["Storage".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "tag pattern 'Storage' matches no tag in e; it has no tags"
        );
    }
}
