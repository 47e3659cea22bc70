//! The service-tag file: its serde model, loading and validation.
//!
//! Two shapes are read: the weekly download ("Azure IP Ranges and Service Tags", one file per
//! cloud) and what `az network list-service-tags` prints (the ARM Service Tag Discovery API, which
//! writes change numbers as strings and adds `name`, `id`, `type` and maybe `nextLink`). Both
//! become one typed [`Snapshot`] whose prefixes are already parsed and split by family.
//!
//! Loading either returns a complete, valid snapshot or an error naming the source and the tag
//! or JSON path that is wrong; nothing downstream ever sees a half-checked file. This module knows
//! nothing of networks, regions or routes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::prefix::{IpPrefix, Prefix};

/// Files larger than this are refused before they are parsed (the public file is ~4 MiB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// One of the three Azure clouds that publish service-tag files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cloud {
    Public,
    AzureGovernment,
    China,
}

impl Cloud {
    /// Every cloud, in the order the docs list them.
    pub const ALL: [Cloud; 3] = [Cloud::Public, Cloud::AzureGovernment, Cloud::China];

    /// The value of the file's `cloud` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "Public",
            Cloud::AzureGovernment => "AzureGovernment",
            Cloud::China => "China",
        }
    }

    /// The short name used on the command line (`public`, `usgov`, `china`).
    pub fn short_name(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::AzureGovernment => "usgov",
            Cloud::China => "china",
        }
    }

    /// Reads a `cloud` field or a command-line name, case-insensitively.
    pub fn parse(text: &str) -> Option<Cloud> {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "public" | "azurecloud" | "azurepubliccloud" => Some(Cloud::Public),
            "azuregovernment" | "usgov" | "azureusgovernment" | "usgovernment" => {
                Some(Cloud::AzureGovernment)
            }
            "china" | "azurechina" | "azurechinacloud" => Some(Cloud::China),
            _ => None,
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A loaded, validated service-tag file.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Where it was read from, for messages (`<stdin>` for `-`).
    pub source: String,
    pub cloud: Cloud,
    pub change_number: u64,
    pub tags: Vec<ServiceTag>,
    /// Set when an ARM API page was saved on its own: more tags exist than this file holds.
    pub next_link: Option<String>,
}

/// One service tag with its prefixes parsed and split by family.
///
/// The header fields other than the name repeat across tags (a few dozen regions, one platform,
/// a few hundred services, a handful of feature lists), so they are reference-counted: both
/// loaders hand every tag of a region the same string. Allocating each one separately was most of
/// the time `plan` spent on a file's 3000 headers.
#[derive(Clone, Debug)]
pub struct ServiceTag {
    pub name: String,
    pub change_number: u64,
    /// The file's `properties.region` (not always the ARM location name).
    pub region: Arc<str>,
    pub region_id: u64,
    pub platform: Arc<str>,
    pub system_service: Arc<str>,
    /// `None` when the file says `null`.
    pub network_features: Option<Arc<[String]>>,
    pub ipv4: Vec<Prefix<u32>>,
    pub ipv6: Vec<Prefix<u128>>,
}

impl ServiceTag {
    /// True when the tag may be used as a route's address prefix (its features include `UDR`).
    pub fn supports_udr(&self) -> bool {
        self.network_features
            .as_ref()
            .is_some_and(|f| f.iter().any(|x| x.eq_ignore_ascii_case("UDR")))
    }
}

impl Snapshot {
    /// Finds a tag by exact name, ignoring case.
    pub fn tag(&self, name: &str) -> Option<&ServiceTag> {
        self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

/// Why a service-tag file could not be loaded. Every variant names the source.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{source_name}: cannot read: {err}")]
    Io {
        source_name: String,
        err: std::io::Error,
    },
    #[error("{source_name}: file is larger than the {limit} byte limit")]
    TooLarge { source_name: String, limit: u64 },
    #[error("{source_name}: not JSON: {msg}")]
    NotJson { source_name: String, msg: String },
    #[error("{source_name}: not a service-tag file: {location}: {msg}")]
    Shape {
        source_name: String,
        location: String,
        msg: String,
    },
    #[error("{source_name}: tag '{tag}': {field}: {msg}")]
    Invalid {
        source_name: String,
        tag: String,
        field: String,
        msg: String,
    },
}

// ---- serde model: both the download and the ARM API shape ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile<'a> {
    change_number: Option<RawNumber>,
    cloud: Option<String>,
    #[serde(borrow)]
    values: Vec<RawTag<'a>>,
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct RawTag<'a> {
    name: String,
    #[serde(borrow)]
    properties: RawProperties<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties<'a> {
    change_number: Option<RawNumber>,
    region: Option<String>,
    region_id: Option<RawNumber>,
    platform: Option<String>,
    system_service: Option<String>,
    #[serde(borrow)]
    address_prefixes: Vec<Cow<'a, str>>,
    network_features: Option<Vec<String>>,
}

/// The download writes numbers; the ARM API writes them as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawNumber {
    Int(u64),
    Text(String),
}

impl RawNumber {
    fn value(&self) -> Option<u64> {
        match self {
            RawNumber::Int(n) => Some(*n),
            RawNumber::Text(s) if s.is_empty() => Some(0),
            RawNumber::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// Where a file comes from: a path, or `-` for standard input.
pub fn source_name(path: &str) -> String {
    if path == "-" {
        "<stdin>".to_owned()
    } else {
        path.to_owned()
    }
}

/// The bytes of a file or of stdin: a read-only mapping of a regular file (no copy, no fresh
/// pages to fault in — about a third of `plan`'s time on the public file was `read` filling a new
/// buffer) or, for stdin, pipes and anything that cannot be mapped, a buffer. The mapping is
/// filled as it is read (the kernel maps sixteen pages around each fault): asking for every page
/// up front (`MAP_POPULATE`) took longer, 0.31 against 0.23 ms for the public file here.
pub enum SourceBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for SourceBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SourceBytes::Mapped(m) => m,
            SourceBytes::Owned(v) => v,
        }
    }
}

impl SourceBytes {
    /// The bytes as an owned buffer.
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            SourceBytes::Mapped(m) => m.to_vec(),
            SourceBytes::Owned(v) => v,
        }
    }
}

/// The copy of a repeated header value that every tag having it shares (see [`ServiceTag`]):
/// found by `key`, or made by `make` (the key to remember it by, and the value) the first time;
/// `None` when making it fails.
pub(crate) fn share<K, Q, V>(
    seen: &mut FxHashMap<K, V>,
    key: &Q,
    make: impl FnOnce() -> Option<(K, V)>,
) -> Option<V>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
    V: Clone,
{
    if let Some(value) = seen.get(key) {
        return Some(value.clone());
    }
    let (key, value) = make()?;
    seen.insert(key, value.clone());
    Some(value)
}

/// Reads a file, or stdin for `-`, refusing anything over [`MAX_FILE_BYTES`].
pub fn read_source(path: &str) -> Result<SourceBytes, LoadError> {
    let source_name = source_name(path);
    let io = |err| LoadError::Io {
        source_name: source_name.clone(),
        err,
    };
    let too_large = || LoadError::TooLarge {
        source_name: source_name.clone(),
        limit: MAX_FILE_BYTES,
    };
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        let file = std::fs::File::open(Path::new(path)).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the mapping is read-only and this process never writes the file. Were another
            // process to truncate it while it is read, access past the new end would fault;
            // service-tag files are replaced by rename (as `fetch` and `refresh` do), never
            // rewritten in place.
            if let Ok(map) = unsafe { memmap2::MmapOptions::new().map(&file) } {
                return Ok(SourceBytes::Mapped(map));
            }
        }
        // Sized up front when the size is known: one read and no regrowing.
        bytes.reserve_exact(meta.len() as usize + 1);
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(SourceBytes::Owned(bytes))
}

/// Loads and validates a service-tag file from a path, or stdin for `-`.
pub fn load(path: &str) -> Result<Snapshot, LoadError> {
    let bytes = read_source(path)?;
    parse(&source_name(path), &bytes)
}

/// Parses and validates a service-tag file already in memory.
pub fn parse(source_name: &str, bytes: &[u8]) -> Result<Snapshot, LoadError> {
    // serde would read a struct from a JSON array too; the file is always an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Err(e) => LoadError::NotJson {
                    source_name: source_name.to_owned(),
                    msg: e.to_string(),
                },
                Ok(_) => LoadError::Shape {
                    source_name: source_name.to_owned(),
                    location: "top level".to_owned(),
                    msg: "expected an object with `cloud` and `values`".to_owned(),
                },
            },
        );
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw: RawFile = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| shape_error(source_name, bytes, e))?;
    de.end().map_err(|e| LoadError::NotJson {
        source_name: source_name.to_owned(),
        msg: e.to_string(),
    })?;
    validate(source_name, raw)
}

fn shape_error(
    source_name: &str,
    bytes: &[u8],
    e: serde_path_to_error::Error<serde_json::Error>,
) -> LoadError {
    let source_name = source_name.to_owned();
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return LoadError::NotJson {
            source_name,
            msg: inner.to_string(),
        };
    }
    let path = e.path().to_string();
    // Name the tag when the error lies inside one; this re-reads the file, but only on failure.
    let tag = path
        .strip_prefix("values[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| {
            let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
            v["values"][i]["name"].as_str().map(str::to_owned)
        });
    let location = match tag {
        Some(tag) => format!("tag '{tag}' ({path})"),
        None if path == "." => "top level".to_owned(),
        None => path,
    };
    LoadError::Shape {
        source_name,
        location,
        msg: inner.to_string(),
    }
}

fn validate(source_name: &str, raw: RawFile<'_>) -> Result<Snapshot, LoadError> {
    let shape = |location: &str, msg: String| LoadError::Shape {
        source_name: source_name.to_owned(),
        location: location.to_owned(),
        msg,
    };
    let cloud_text = raw
        .cloud
        .ok_or_else(|| shape("cloud", "missing field `cloud`".into()))?;
    let cloud = Cloud::parse(&cloud_text).ok_or_else(|| {
        shape(
            "cloud",
            format!("unknown cloud '{cloud_text}' (expected Public, AzureGovernment or China)"),
        )
    })?;
    let change_number = number(raw.change_number.as_ref())
        .ok_or_else(|| shape("changeNumber", "missing or not a whole number".into()))?;

    let mut seen: HashMap<String, usize> = HashMap::with_capacity(raw.values.len());
    let mut tags = Vec::with_capacity(raw.values.len());
    // One copy of each repeated header value, shared by the tags that have it.
    let mut strings: FxHashMap<String, Arc<str>> = FxHashMap::default();
    let mut shared = |text: &Option<String>| -> Arc<str> {
        let text = text.as_deref().unwrap_or_default();
        // Making a copy cannot fail here: the default is never used.
        share(&mut strings, text, || Some((text.to_owned(), text.into()))).unwrap_or_default()
    };
    let mut feature_lists: FxHashMap<Vec<String>, Arc<[String]>> = FxHashMap::default();
    for (i, rt) in raw.values.into_iter().enumerate() {
        let invalid = |field: String, msg: String| LoadError::Invalid {
            source_name: source_name.to_owned(),
            tag: rt.name.clone(),
            field,
            msg,
        };
        if rt.name.trim().is_empty() {
            return Err(shape(&format!("values[{i}].name"), "empty tag name".into()));
        }
        if let Some(first) = seen.insert(rt.name.to_ascii_lowercase(), i) {
            return Err(invalid(
                "name".into(),
                format!("duplicate tag name (values[{first}] and values[{i}])"),
            ));
        }
        let p = &rt.properties;
        let tag_change = match &p.change_number {
            None => 0,
            Some(n) => n.value().ok_or_else(|| {
                invalid(
                    "properties.changeNumber".into(),
                    "not a whole number".into(),
                )
            })?,
        };
        let region_id = match &p.region_id {
            None => 0,
            Some(n) => n.value().ok_or_else(|| {
                invalid("properties.regionId".into(), "not a whole number".into())
            })?,
        };
        let (mut ipv4, mut ipv6) = (Vec::new(), Vec::new());
        for (j, text) in p.address_prefixes.iter().enumerate() {
            match IpPrefix::parse(text) {
                Ok(IpPrefix::V4(x)) => ipv4.push(x),
                Ok(IpPrefix::V6(x)) => ipv6.push(x),
                Err(e) => {
                    return Err(invalid(
                        format!("properties.addressPrefixes[{j}]"),
                        e.to_string(),
                    ));
                }
            }
        }
        tags.push(ServiceTag {
            change_number: tag_change,
            region: shared(&p.region),
            region_id,
            platform: shared(&p.platform),
            system_service: shared(&p.system_service),
            network_features: p.network_features.as_ref().and_then(|list| {
                share(&mut feature_lists, list.as_slice(), || {
                    Some((list.clone(), list.as_slice().into()))
                })
            }),
            ipv4,
            ipv6,
            name: rt.name,
        });
    }
    Ok(Snapshot {
        source: source_name.to_owned(),
        cloud,
        change_number,
        tags,
        next_link: raw.next_link.filter(|l| !l.is_empty()),
    })
}

fn number(n: Option<&RawNumber>) -> Option<u64> {
    n.and_then(RawNumber::value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOWNLOAD: &str = r#"{"changeNumber": 7, "cloud": "Public", "values": [
      {"name": "Demo.WestEurope", "id": "Demo.WestEurope", "properties": {"changeNumber": 2,
       "region": "westeurope", "regionId": 18, "platform": "Azure", "systemService": "Demo",
       "addressPrefixes": ["10.1.0.0/16", "2001:db8::/32"], "networkFeatures": null}}]}"#;

    #[test]
    fn reads_the_download_shape() {
        let s = parse("f.json", DOWNLOAD.as_bytes()).unwrap();
        assert_eq!(
            (s.cloud, s.change_number, s.tags.len()),
            (Cloud::Public, 7, 1)
        );
        let t = &s.tags[0];
        assert_eq!((t.ipv4.len(), t.ipv6.len(), t.region_id), (1, 1, 18));
        assert!(t.network_features.is_none() && !t.supports_udr());
    }

    #[test]
    fn reads_the_arm_shape_with_string_numbers() {
        let arm = r#"{"name":"Public","id":"/subscriptions/x/providers/Microsoft.Network/serviceTags/Public",
          "type":"Microsoft.Network/serviceTags","changeNumber":"63","cloud":"Public","nextLink":"",
          "values":[{"name":"A","id":"A","serviceTagChangeNumber":"1","properties":{"changeNumber":"1",
          "region":"","state":"GA","addressPrefixes":["1.2.3.0/24"],"networkFeatures":["API","UDR"]}}]}"#;
        let s = parse("arm.json", arm.as_bytes()).unwrap();
        assert_eq!((s.change_number, s.tags[0].change_number), (63, 1));
        assert!(s.tags[0].supports_udr() && s.next_link.is_none());
    }

    fn err(text: &str) -> String {
        parse("f.json", text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_file_and_the_place() {
        assert!(err("{").starts_with("f.json: not JSON: "));
        assert!(err("[]").starts_with("f.json: not a service-tag file: top level: "));
        assert_eq!(
            err(&DOWNLOAD.replace("10.1.0.0/16", "300.1.2.3/8")),
            "f.json: tag 'Demo.WestEurope': properties.addressPrefixes[0]: \
             '300.1.2.3/8' is not a valid IPv4 or IPv6 address"
        );
        assert!(err(&DOWNLOAD.replace("10.1.0.0/16", "10.0.0.0/33")).contains("from 0 to 32"));
        assert!(err(&DOWNLOAD.replace("10.1.0.0/16", "10.1.0.1/16")).contains("host bits"));
        assert!(err(&DOWNLOAD.replace("\"Public\"", "\"Mars\"")).contains("unknown cloud 'Mars'"));
        let shape = err(&DOWNLOAD.replace("\"region\": \"westeurope\"", "\"region\": 5"));
        assert!(
            shape.contains("tag 'Demo.WestEurope' (values[0].properties.region)"),
            "{shape}"
        );
        let two = r#"{"changeNumber":1,"cloud":"China","values":[
            {"name":"A.X","properties":{"addressPrefixes":[]}},
            {"name":"a.x","properties":{"addressPrefixes":[]}}]}"#;
        assert_eq!(
            err(two),
            "f.json: tag 'a.x': name: duplicate tag name (values[0] and values[1])"
        );
    }
}
