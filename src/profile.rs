//! Requirement profiles: what a compute mode of Azure Machine Learning or Azure Batch needs from
//! its subnet (routes to Internet, NSG and firewall rules by service tag, firewall rules by FQDN),
//! each requirement with the Microsoft document it comes from, read from `data/requirements.toml`.
//!
//! Microsoft's requirements moved since the 2020 guidance tagroute started from (the paired
//! region's Azure ML addresses, Batch's retired classic mode, compute without a public IP that
//! needs rules and no route), so what to route is data with sources, not code: a plan routes the
//! tags its profile names for the region, and `rules` writes the profile's rules.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::regions::{self, Pairing};
use crate::select::{self, Defaults, Region, SelectError, Selection};
use crate::snapshot::{Cloud, Snapshot};

/// The data file, embedded so that every build carries the requirements it was tested with.
const REQUIREMENTS_TOML: &str = include_str!("../data/requirements.toml");

/// The profile a plan uses unless told otherwise.
pub const DEFAULT_PROFILE: &str = "forced-tunneling";

/// A Microsoft document requirements come from.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    /// `repository: path` of the document's source.
    pub document: String,
    /// Its `ms.date`.
    pub date: String,
    /// The commit read.
    pub commit: String,
    /// What it says that the profiles take from it, in a line.
    pub says: String,
}

/// Which way a flow goes, as NSG rules say it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// A flow's protocol.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Any,
}

/// A route a profile needs: the tag (a template such as `AzureMachineLearning.{paired}`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteNeed {
    pub tag: String,
    pub source: String,
}

/// A service tag that can stand for a profile's routes as one service-tag route.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TagRouteNeed {
    pub tag: String,
    pub source: String,
}

/// A flow a rule must allow, to or from a service tag.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleNeed {
    pub direction: Direction,
    pub protocol: Protocol,
    /// Ports or ranges (`443`, `29876-29877`).
    pub ports: Vec<String>,
    /// The service tag on the far side: the source of an inbound flow, the destination of an
    /// outbound one (a template).
    pub tag: String,
    /// The clouds the rule applies in (`public`, `usgov`, `china`); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clouds: Option<Vec<String>>,
    pub source: String,
    pub purpose: String,
}

/// A host name outbound traffic must reach (a firewall application rule).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FqdnNeed {
    /// The name (a template: `{region}.tundra.azureml.ms`).
    pub fqdn: String,
    pub protocol: Protocol,
    pub ports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clouds: Option<Vec<String>>,
    pub source: String,
}

/// When a mode was retired, and where that is said.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Retired {
    pub date: String,
    pub source: String,
    /// What was retired, as a sentence's subject.
    pub what: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    about: String,
    #[serde(default)]
    includes: Vec<String>,
    #[serde(default)]
    routes: Vec<RouteNeed>,
    tag_route: Option<TagRouteNeed>,
    retired: Option<Retired>,
    #[serde(default)]
    rules: Vec<RuleNeed>,
    #[serde(default)]
    fqdns: Vec<FqdnNeed>,
    note: Option<String>,
    note_source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    source: BTreeMap<String, Source>,
    profile: Vec<RawProfile>,
}

/// A profile with what it includes folded in.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub name: String,
    pub about: String,
    /// The routes to Internet it needs (none: rules only).
    pub routes: Vec<RouteNeed>,
    /// Service tags that carry those routes as service-tag routes.
    pub tag_routes: Vec<TagRouteNeed>,
    pub rules: Vec<RuleNeed>,
    pub fqdns: Vec<FqdnNeed>,
    /// Retired modes among what it covers.
    pub retired: Vec<Retired>,
    /// What to tell a user who plans with it, and its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note_source: Option<String>,
}

struct Data {
    sources: BTreeMap<String, Source>,
    profiles: Vec<Profile>,
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, items: impl IntoIterator<Item = T>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let file: File =
            toml::from_str(REQUIREMENTS_TOML).expect("data/requirements.toml is valid");
        let raw: BTreeMap<&str, &RawProfile> =
            file.profile.iter().map(|p| (p.name.as_str(), p)).collect();
        let profiles = file
            .profile
            .iter()
            .map(|p| {
                let mut out = Profile {
                    name: p.name.clone(),
                    about: p.about.clone(),
                    routes: Vec::new(),
                    tag_routes: Vec::new(),
                    rules: Vec::new(),
                    fqdns: Vec::new(),
                    retired: Vec::new(),
                    note: p.note.clone(),
                    note_source: p.note_source.clone(),
                };
                fold(&raw, p, &mut out, 0);
                out
            })
            .collect();
        Data {
            sources: file.source,
            profiles,
        }
    })
}

/// Folds `p` and what it includes (depth first, each included profile before its includer's own
/// needs) into `out`, each need once.
fn fold(raw: &BTreeMap<&str, &RawProfile>, p: &RawProfile, out: &mut Profile, depth: usize) {
    assert!(depth < 8, "data/requirements.toml: includes nest too deep");
    for name in &p.includes {
        let inner = raw
            .get(name.as_str())
            .unwrap_or_else(|| panic!("data/requirements.toml: unknown profile {name}"));
        fold(raw, inner, out, depth + 1);
    }
    push_new(&mut out.routes, p.routes.iter().cloned());
    push_new(&mut out.tag_routes, p.tag_route.iter().cloned());
    // The same flow asked for by two included profiles (Storage.<region> on 443 by Azure ML and
    // by Batch) is one need: the first's purpose and source are kept.
    for r in &p.rules {
        let same = |o: &RuleNeed| {
            (o.direction, o.protocol, &o.ports, &o.tag, &o.clouds)
                == (r.direction, r.protocol, &r.ports, &r.tag, &r.clouds)
        };
        if !out.rules.iter().any(same) {
            out.rules.push(r.clone());
        }
    }
    for f in &p.fqdns {
        let same = |o: &FqdnNeed| {
            (&o.fqdn, o.protocol, &o.ports, &o.clouds) == (&f.fqdn, f.protocol, &f.ports, &f.clouds)
        };
        if !out.fqdns.iter().any(same) {
            out.fqdns.push(f.clone());
        }
    }
    push_new(&mut out.retired, p.retired.iter().cloned());
}

/// Every profile, in the data file's order (the default first).
pub fn all() -> &'static [Profile] {
    &data().profiles
}

/// The documents the profiles cite, by their id.
pub fn sources() -> &'static BTreeMap<String, Source> {
    &data().sources
}

/// A source named in a sentence: `machine-learning-compute-user-defined-routes.md, 2023-01-10`.
pub fn cited(id: &str) -> String {
    match sources().get(id) {
        Some(s) => {
            let file = s.document.rsplit('/').next().unwrap_or(&s.document);
            format!("{file}, {}", s.date)
        }
        None => id.to_owned(),
    }
}

/// Why a profile name is not one.
#[derive(Debug, thiserror::Error)]
#[error("no profile {}: the profiles are {}", crate::text::quoted(.name), .known.join(", "))]
pub struct UnknownProfile {
    pub name: String,
    pub known: Vec<&'static str>,
}

/// The profile called `name` (without letter case).
pub fn by_name(name: &str) -> Result<&'static Profile, UnknownProfile> {
    all()
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| UnknownProfile {
            name: name.to_owned(),
            known: all().iter().map(|p| p.name.as_str()).collect(),
        })
}

/// The base of a tag template (`AzureMachineLearning` of `AzureMachineLearning.{paired}`) and
/// its placeholder, if any.
fn split_template(template: &str) -> (&str, Option<&str>) {
    match template.split_once('.') {
        Some((base, rest)) if rest.starts_with('{') => (base, Some(rest)),
        _ => (template, None),
    }
}

/// `template` for `region`: the ARM name in place of `{region}`.
pub(crate) fn for_region(template: &str, region: &str) -> String {
    template.replace("{region}", region)
}

/// Whether a need that names `clouds` applies in `cloud`.
pub(crate) fn in_cloud(clouds: &Option<Vec<String>>, cloud: Cloud) -> bool {
    clouds.as_ref().is_none_or(|list| {
        list.iter()
            .any(|c| c.eq_ignore_ascii_case(cloud.short_name()))
    })
}

impl Profile {
    /// The tags of `snapshot` the profile routes for `region`: each route need's tag in the
    /// region (`{region}`) or its paired region (`{paired}`, from [`regions`]), with what the
    /// file lacks and what the user should read.
    pub fn route_tags(&self, snapshot: &Snapshot, region: &Region) -> Defaults {
        let mut out = Defaults::default();
        // Where the routes come from, by source: one note for the plan.
        let mut routed: Vec<(String, Vec<String>)> = Vec::new();
        let pairing = regions::pairing(&region.name);
        for need in &self.routes {
            let (base, placeholder) = split_template(&need.tag);
            let target: Option<Region> = match placeholder {
                None => None,
                Some("{region}") => Some(region.clone()),
                Some("{paired}") => match pairing {
                    Pairing::Paired(p) => match select::resolve_region(snapshot, p) {
                        Ok(r) => Some(r),
                        Err(_) => {
                            out.missing
                                .push(format!("{base} tag for the paired region {p}"));
                            continue;
                        }
                    },
                    Pairing::Unpaired => {
                        out.notes.push(format!(
                            "{} has no paired region ({}): no {base} route for one",
                            region.name,
                            regions::cited()
                        ));
                        continue;
                    }
                    Pairing::Unlisted => {
                        out.warnings.push(format!(
                            "{} is not in Microsoft's list of region pairs ({}): the paired \
                             region's {base} addresses, which {} asks for, are not planned",
                            region.name,
                            regions::cited(),
                            cited(&need.source)
                        ));
                        continue;
                    }
                },
                Some(other) => panic!("data/requirements.toml: unknown placeholder {other}"),
            };
            let before = out.tags.len();
            for (i, tag) in snapshot.tags.iter().enumerate() {
                let hit = match &target {
                    Some(r) => tag.has_base(base) && r.holds(tag),
                    None => tag.name.eq_ignore_ascii_case(base),
                };
                if hit && !out.tags.contains(&i) {
                    out.tags.push(i);
                    let source = cited(&need.source);
                    match routed.iter_mut().find(|(s, _)| *s == source) {
                        Some((_, names)) => names.push(tag.name.clone()),
                        None => routed.push((source, vec![tag.name.clone()])),
                    }
                }
            }
            if out.tags.len() == before {
                out.missing.push(match (&target, placeholder) {
                    (Some(r), Some("{paired}")) => {
                        format!("{base} tag for the paired region {}", r.name)
                    }
                    (Some(r), _) => format!("{base} tag for region {}", r.name),
                    (None, _) => format!("{} tag", need.tag),
                });
            }
        }
        if !routed.is_empty() {
            let parts: Vec<String> = routed
                .iter()
                .map(|(source, names)| format!("{} ({source})", names.join(", ")))
                .collect();
            out.notes.insert(
                0,
                format!("the {} profile routes {}", self.name, parts.join("; ")),
            );
        }
        out.tags.sort_unstable();
        out
    }

    /// Selects the tags of a plan as every planning command does: `tags` when given, else this
    /// profile's tags for `region` ([`Profile::route_tags`]).
    pub fn selection(
        &self,
        snapshot: &Snapshot,
        region: Option<&str>,
        tags: &[String],
    ) -> Result<Selection, SelectError> {
        select::for_plan(snapshot, region, tags, |r| self.route_tags(snapshot, r))
    }

    /// The service tags its rules and routes name for `region` in `cloud`: what a file must
    /// hold for the rules to be written.
    pub fn rule_tags(&self, region: &str, cloud: Cloud) -> Vec<String> {
        let mut tags = Vec::new();
        for r in self.rules.iter().filter(|r| in_cloud(&r.clouds, cloud)) {
            push_new(&mut tags, [for_region(&r.tag, region)]);
        }
        tags
    }
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
          {"name":"AzureMachineLearning.FranceSouth","properties":{"region":"southfrance","addressPrefixes":[]}},
          {"name":"BatchNodeManagement.EastUS","properties":{"region":"eastus","addressPrefixes":[]}},
          {"name":"AzureMachineLearning.QatarCentral","properties":{"region":"qatarcentral","addressPrefixes":[]}},
          {"name":"AzureMachineLearning.JioIndiaWest","properties":{"region":"jioindiawest","addressPrefixes":[]}}
        ]}"#;
        parse("demo", text.as_bytes()).unwrap()
    }

    /// (direction, protocol, ports, tag) of a profile's rules.
    fn flows(name: &str) -> Vec<(Direction, Protocol, Vec<&str>, &str)> {
        by_name(name)
            .unwrap()
            .rules
            .iter()
            .map(|r| {
                let ports = r.ports.iter().map(String::as_str).collect();
                (r.direction, r.protocol, ports, r.tag.as_str())
            })
            .collect()
    }

    fn route_templates(name: &str) -> Vec<&'static str> {
        by_name(name)
            .unwrap()
            .routes
            .iter()
            .map(|r| r.tag.as_str())
            .collect()
    }

    /// Each profile holds the facts of its documents, written out here from the documents
    /// themselves (see data/requirements.toml for the commits read).
    #[test]
    fn profiles_hold_the_facts_of_their_documents() {
        use Direction::*;
        use Protocol::*;
        // machine-learning-compute-user-defined-routes.md: the primary and the secondary
        // region's AzureMachineLearning, or one route to the AzureMachineLearning tag.
        assert_eq!(
            route_templates("aml-public-ip"),
            [
                "AzureMachineLearning.{region}",
                "AzureMachineLearning.{paired}"
            ]
        );
        assert_eq!(
            by_name("aml-public-ip").unwrap().tag_routes[0].tag,
            "AzureMachineLearning"
        );
        // how-to-secure-training-vnet.md: inbound TCP 44224 from AzureMachineLearning with a
        // public IP, none without.
        let public = flows("aml-public-ip");
        assert!(public.contains(&(Inbound, Tcp, vec!["44224"], "AzureMachineLearning")));
        let private = flows("aml-no-public-ip");
        assert!(private.iter().all(|f| f.0 == Outbound));
        assert!(route_templates("aml-no-public-ip").is_empty());
        // machine-learning-public-internet-access.md's required outbound table.
        for flow in [
            (Outbound, Tcp, vec!["80", "443"], "AzureActiveDirectory"),
            (Outbound, Tcp, vec!["443", "18881"], "AzureMachineLearning"),
            (Outbound, Udp, vec!["5831"], "AzureMachineLearning"),
            (Outbound, Any, vec!["443"], "BatchNodeManagement.{region}"),
            (Outbound, Tcp, vec!["443"], "AzureResourceManager"),
            (Outbound, Tcp, vec!["443"], "Storage.{region}"),
            (Outbound, Tcp, vec!["443"], "AzureFrontDoor.FrontEnd"),
            (
                Outbound,
                Tcp,
                vec!["443"],
                "MicrosoftContainerRegistry.{region}",
            ),
            (Outbound, Tcp, vec!["443"], "AzureFrontDoor.FirstParty"),
        ] {
            assert!(private.contains(&flow), "aml-no-public-ip lacks {flow:?}");
            assert!(public.contains(&flow), "aml-public-ip lacks {flow:?}");
        }
        let fqdns: Vec<&str> = by_name("aml-no-public-ip")
            .unwrap()
            .fqdns
            .iter()
            .map(|f| f.fqdn.as_str())
            .collect();
        for f in [
            "*.instances.azureml.ms",
            "{region}.tundra.azureml.ms",
            "*.{region}.batch.azure.com",
            "*.{region}.service.batch.azure.com",
        ] {
            assert!(fqdns.contains(&f), "{f}");
        }
        // batch-virtual-network.md: classic pools take inbound TCP 29876-29877 from
        // BatchNodeManagement.<region> and need its route; simplified pools need outbound 443
        // to it and nothing inbound.
        assert_eq!(
            route_templates("batch-classic"),
            ["BatchNodeManagement.{region}"]
        );
        assert!(flows("batch-classic").contains(&(
            Inbound,
            Tcp,
            vec!["29876-29877"],
            "BatchNodeManagement.{region}"
        )));
        assert_eq!(
            flows("batch-simplified"),
            [(Outbound, Any, vec!["443"], "BatchNodeManagement.{region}")]
        );
        assert!(route_templates("batch-simplified").is_empty());
        // retirement-date-2026-03.md: classic node communication retired March 31, 2026.
        assert_eq!(
            by_name("batch-classic").unwrap().retired[0].date,
            "2026-03-31"
        );
        // The 2020 pair, and the default that keeps it and adds the paired region.
        assert_eq!(
            route_templates("legacy-2020"),
            [
                "BatchNodeManagement.{region}",
                "AzureMachineLearning.{region}"
            ]
        );
        let mut default = route_templates(DEFAULT_PROFILE);
        default.sort_unstable();
        assert_eq!(
            default,
            [
                "AzureMachineLearning.{paired}",
                "AzureMachineLearning.{region}",
                "BatchNodeManagement.{region}"
            ]
        );
    }

    /// The default profile takes the region's two tags and the paired region's Azure ML tag;
    /// the legacy one the region's two; what a file lacks, a region without a pair and a region
    /// the list does not name are each said.
    #[test]
    fn route_tags_follow_the_profile_and_the_pairs() {
        let s = demo();
        let region = |name: &str| select::resolve_region(&s, name).unwrap();
        let default = by_name(DEFAULT_PROFILE).unwrap();
        let fr = default.route_tags(&s, &region("francecentral"));
        assert_eq!(fr.tags, [1, 2, 3], "FranceSouth is France Central's pair");
        assert!(fr.missing.is_empty());
        assert!(
            fr.notes[0].starts_with("the forced-tunneling profile routes AzureMachineLearning.FranceCentral, AzureMachineLearning.FranceSouth (machine-learning-compute-user-defined-routes.md, 2023-01-10); BatchNodeManagement.FranceCentral (batch-virtual-network.md, 2023-09-20)"),
            "{:?}",
            fr.notes
        );
        let legacy = by_name("legacy-2020").unwrap();
        assert_eq!(legacy.route_tags(&s, &region("francecentral")).tags, [1, 2]);
        let east = default.route_tags(&s, &region("eastus"));
        assert_eq!(east.tags, [4]);
        assert_eq!(
            east.missing,
            [
                "AzureMachineLearning tag for region eastus",
                "AzureMachineLearning tag for the paired region westus"
            ]
        );
        let qatar = default.route_tags(&s, &region("qatarcentral"));
        assert_eq!(qatar.tags, [5]);
        assert!(
            qatar
                .notes
                .iter()
                .any(|n| n.contains("qatarcentral has no paired region"))
        );
        let jio = default.route_tags(&s, &region("jioindiawest"));
        assert!(jio.warnings[0].contains("not in Microsoft's list of region pairs"));
        assert!(
            by_name("batch-simplified")
                .unwrap()
                .route_tags(&s, &region("eastus"))
                .tags
                .is_empty()
        );
    }

    /// Every need cites a source the file lists, and every profile the issue names is there.
    #[test]
    fn the_data_is_whole() {
        let names: Vec<&str> = all().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "forced-tunneling",
                "aml-public-ip",
                "aml-no-public-ip",
                "batch-classic",
                "batch-simplified",
                "legacy-2020"
            ]
        );
        assert_eq!(all()[0].name, DEFAULT_PROFILE);
        for p in all() {
            let cited = p
                .routes
                .iter()
                .map(|r| &r.source)
                .chain(p.tag_routes.iter().map(|t| &t.source))
                .chain(p.rules.iter().map(|r| &r.source))
                .chain(p.fqdns.iter().map(|f| &f.source))
                .chain(p.retired.iter().map(|r| &r.source))
                .chain(p.note_source.iter());
            for s in cited {
                assert!(sources().contains_key(s), "{}: unknown source {s}", p.name);
            }
            for r in &p.rules {
                for port in &r.ports {
                    let ok = port
                        .split('-')
                        .all(|n| n.parse::<u16>().is_ok_and(|n| n > 0));
                    assert!(ok, "{}: port {port}", p.name);
                }
            }
        }
        for s in sources().values() {
            assert_eq!(s.commit.len(), 40, "{}", s.document);
            assert!(s.date.len() == 10 && s.date.starts_with("20"), "{}", s.date);
        }
        assert!(by_name("AML-Public-IP").is_ok());
        let err = by_name("aml").unwrap_err().to_string();
        assert!(err.contains("forced-tunneling, aml-public-ip"), "{err}");
    }
}
