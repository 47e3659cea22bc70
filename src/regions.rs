//! Azure regions' display names and paired regions, from `data/regions.toml`: Microsoft's list
//! of region pairs and nonpaired regions, each pair in its own direction. Azure Machine Learning
//! needs the paired region's `AzureMachineLearning` addresses routed as well as the region's own,
//! so a plan needs the pair of its region; a region the list does not name is said so rather
//! than guessed.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The data file, embedded so that every build plans with the pairs it was tested with.
const REGIONS_TOML: &str = include_str!("../data/regions.toml");

/// A Microsoft document a fact comes from.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// `repository: path` of the document's source.
    pub document: String,
    /// Its `ms.date`.
    pub date: String,
    /// The commit read.
    pub commit: String,
}

/// What the list says of a region's pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "region", rename_all = "lowercase")]
pub enum Pairing {
    /// Its secondary region, by ARM name.
    Paired(&'static str),
    /// Listed among the regions without a pair.
    Unpaired,
    /// Not in the list at all.
    Unlisted,
}

/// A region of the list.
#[derive(Clone, Debug, Serialize)]
pub struct RegionInfo {
    /// ARM location name (`eastus2`).
    pub name: &'static str,
    /// Display name as the document writes it (`East US 2`), when it names the region.
    pub display: Option<&'static str>,
    pub pairing: Pairing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    source: Document,
    region: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    display: Option<String>,
    pair: Option<String>,
    #[serde(default)]
    unpaired: bool,
}

struct Table {
    source: Document,
    regions: Vec<RegionInfo>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let file: File = toml::from_str(REGIONS_TOML).expect("data/regions.toml is valid");
        let regions = file
            .region
            .into_iter()
            .map(|e| RegionInfo {
                pairing: match (e.pair, e.unpaired) {
                    (Some(p), false) => Pairing::Paired(leak(p)),
                    (None, true) => Pairing::Unpaired,
                    (None, false) => Pairing::Unlisted,
                    (Some(_), true) => {
                        panic!("data/regions.toml: {} is paired and unpaired", e.name)
                    }
                },
                name: leak(e.name),
                display: e.display.map(leak),
            })
            .collect();
        Table {
            source: file.source,
            regions,
        }
    })
}

/// The document the pairs come from.
pub fn source() -> &'static Document {
    &table().source
}

/// Every region of the list, in the file's order.
pub fn all() -> &'static [RegionInfo] {
    &table().regions
}

/// The region with this ARM name (without letter case), if the list names it.
pub fn info(name: &str) -> Option<&'static RegionInfo> {
    all().iter().find(|r| r.name.eq_ignore_ascii_case(name))
}

/// What the list says of `name`'s pair ([`Pairing::Unlisted`] for a region it does not know).
pub fn pairing(name: &str) -> Pairing {
    info(name).map_or(Pairing::Unlisted, |r| r.pairing)
}

/// The source named in a sentence: `regions-paired.md, 2025-01-13`.
pub fn cited() -> String {
    let s = source();
    let file = s.document.rsplit('/').next().unwrap_or(&s.document);
    format!("{file}, {}", s.date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document's pairs, its one-way notes among them, independently of the file's order.
    #[test]
    fn pairs_are_the_documents_and_directional() {
        let pair = |r: &str| match pairing(r) {
            Pairing::Paired(p) => p.to_owned(),
            other => format!("{other:?}"),
        };
        for (region, secondary) in [
            ("eastus2", "centralus"),
            ("centralus", "eastus2"),
            ("westindia", "southindia"),
            ("southindia", "centralindia"),
            ("centralindia", "southindia"),
            ("brazilsouth", "southcentralus"),
            ("southcentralus", "northcentralus"),
            ("brazilsoutheast", "brazilsouth"),
            ("westus3", "eastus"),
            ("eastus", "westus"),
            ("usgovarizona", "usgovtexas"),
            ("usgovtexas", "usgovvirginia"),
            ("chinanorth3", "chinaeast3"),
            ("westeurope", "northeurope"),
        ] {
            assert_eq!(pair(region), secondary, "{region}");
        }
        for unpaired in [
            "qatarcentral",
            "polandcentral",
            "israelcentral",
            "italynorth",
        ] {
            assert_eq!(pairing(unpaired), Pairing::Unpaired, "{unpaired}");
        }
        assert_eq!(pairing("jioindiacentral"), Pairing::Unlisted);
        assert_eq!(pairing("nowhere"), Pairing::Unlisted);
        assert_eq!(info("EastUS2").unwrap().display, Some("East US 2"));
        assert_eq!(cited(), "regions-paired.md, 2025-01-13");
    }

    /// Every region is listed once, and every pair names a region of the list.
    #[test]
    fn the_list_is_consistent() {
        let mut names: Vec<&str> = all().iter().map(|r| r.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a region listed twice");
        for r in all() {
            if let Pairing::Paired(p) = r.pairing {
                assert!(info(p).is_some(), "{} pairs with unknown {p}", r.name);
                assert_ne!(p, r.name);
            }
            assert_eq!(r.name, r.name.to_ascii_lowercase());
        }
    }
}
