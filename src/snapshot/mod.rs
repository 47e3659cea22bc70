//! The service-tag file: its model, loading and validation; `read` is its shape as derived
//! structs, read once the strict JSON check has held the file to the rules of every JSON input.
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
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;

use crate::prefix::Prefix;

mod read;

use read::*;

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

/// Serialised as the file's `cloud` field (`Public`, `AzureGovernment`, `China`).
impl serde::Serialize for Cloud {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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
    /// The tags by lower-case name, built at the first lookup: a fleet's tables share one
    /// snapshot, so each table's lookups cost a hash, not a scan or a map of their own.
    by_name: OnceLock<HashMap<String, usize>>,
}

/// One service tag with its prefixes parsed and split by family.
///
/// The header fields other than the name repeat across tags (a few dozen regions, one platform,
/// a few hundred services, a handful of feature lists), so they are reference-counted: the
/// loader hands every tag of a region the same string instead of thousands of copies.
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
    /// A snapshot of these tags (names unique without case, as a loaded file's are).
    ///
    /// ```
    /// use tagroute::snapshot::{Cloud, Snapshot};
    /// let s = Snapshot::new("empty", Cloud::Public, 1, Vec::new(), None);
    /// assert!(s.tag("Storage").is_none());
    /// ```
    pub fn new(
        source: impl Into<String>,
        cloud: Cloud,
        change_number: u64,
        tags: Vec<ServiceTag>,
        next_link: Option<String>,
    ) -> Snapshot {
        Snapshot {
            source: source.into(),
            cloud,
            change_number,
            tags,
            next_link,
            by_name: OnceLock::new(),
        }
    }

    /// Finds a tag by exact name, ignoring case.
    pub fn tag(&self, name: &str) -> Option<&ServiceTag> {
        let index = self.by_name.get_or_init(|| {
            let mut index = HashMap::with_capacity(self.tags.len());
            for (i, t) in self.tags.iter().enumerate() {
                // The first of a name wins, as a scan would find it.
                index.entry(t.name.to_ascii_lowercase()).or_insert(i);
            }
            index
        });
        let found = match name.bytes().any(|b| b.is_ascii_uppercase()) {
            true => index.get(&name.to_ascii_lowercase()),
            false => index.get(name),
        };
        found.map(|&i| &self.tags[i])
    }
}

/// Why a service-tag file could not be loaded. Every variant names the source.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{source_name}: cannot read")]
    Io {
        source_name: String,
        #[source]
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

/// Where a file comes from: a path, or `-` for standard input.
pub(crate) fn source_name(path: &str) -> String {
    if path == "-" {
        "<stdin>".to_owned()
    } else {
        path.to_owned()
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

/// Reads a file, or stdin for `-`, refusing anything over [`MAX_FILE_BYTES`] (without reading
/// more than one byte past it, whatever the file is: a pipe, a device that never ends).
pub fn read_source(path: &str) -> Result<Vec<u8>, LoadError> {
    let source_name = source_name(path);
    let io = |err| LoadError::Io {
        source_name: source_name.clone(),
        err,
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
        if meta.is_file() && meta.len() > MAX_FILE_BYTES {
            return Err(LoadError::TooLarge {
                source_name,
                limit: MAX_FILE_BYTES,
            });
        }
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            source_name,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(bytes)
}

/// Loads and validates a service-tag file from a path, or stdin for `-`.
pub fn load(path: &str) -> Result<Snapshot, LoadError> {
    let bytes = read_source(path)?;
    parse(&source_name(path), &bytes)
}

/// Parses and validates a service-tag file already in memory: the one reader every command
/// uses, so that every command reaches the same verdict on a file.
///
/// ```
/// let text = include_str!("../../data/ServiceTags_Example.json");
/// let snapshot = tagroute::snapshot::parse("example", text.as_bytes())?;
/// assert_eq!(snapshot.cloud, tagroute::snapshot::Cloud::Public);
/// let tag = snapshot.tag("azurecloud.westeurope").unwrap();
/// assert!(tag.supports_udr());
///
/// let twice = text.replacen("\"cloud\"", "\"cloud\": \"China\", \"cloud\"", 1);
/// let err = tagroute::snapshot::parse("twice", twice.as_bytes()).unwrap_err();
/// assert!(err.to_string().contains("duplicate key 'cloud'"));
/// # Ok::<(), tagroute::snapshot::LoadError>(())
/// ```
pub fn parse(source_name: &str, bytes: &[u8]) -> Result<Snapshot, LoadError> {
    let not_json = |e: serde_json::Error| LoadError::NotJson {
        source_name: source_name.to_owned(),
        msg: e.to_string(),
    };
    let shape = |location: String, e: serde_json::Error| LoadError::Shape {
        source_name: source_name.to_owned(),
        location,
        msg: e.to_string(),
    };
    // One UTF-8 check of the whole file instead of one per string (JSON is UTF-8 throughout).
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotJson {
        source_name: source_name.to_owned(),
        msg: format!("not UTF-8: {e}"),
    })?;
    match crate::json::check_str(text) {
        Err(e) if e.is_syntax() || e.is_eof() => return Err(not_json(e)),
        Err(e) => {
            let path = crate::json::locate(bytes).unwrap_or_else(|| ".".to_owned());
            return Err(shape(place(bytes, &path), e));
        }
        Ok(()) => {}
    }
    // JSON, but not an object: not a service-tag file.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(LoadError::Shape {
            source_name: source_name.to_owned(),
            location: "top level".to_owned(),
            msg: "expected an object with `cloud` and `values`".to_owned(),
        });
    }
    let raw = serde_json::from_str::<RawFile>(text).map_err(|e| locate(bytes, e, &shape))?;
    validate(source_name, raw)
}

/// The error of a file that is JSON but not a service-tag file, with where it lies. The file is
/// read again, this time keeping track of the path (which costs an allocation a key), only
/// now that it failed.
fn locate(
    bytes: &[u8],
    first: serde_json::Error,
    shape: &impl Fn(String, serde_json::Error) -> LoadError,
) -> LoadError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, RawFile>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            shape(place(bytes, &path), e.into_inner())
        }
        Ok(_) => shape("top level".to_owned(), first),
    }
}

/// A JSON path in words: the tag it lies in when its name is a plain string.
fn place(bytes: &[u8], path: &str) -> String {
    let tag = path
        .strip_prefix("values[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| {
            let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
            v["values"][i]["name"].as_str().map(crate::text::quoted)
        });
    match tag {
        Some(tag) => format!("tag {tag} ({path})"),
        None if path == "." => "top level".to_owned(),
        None => path.to_owned(),
    }
}

/// Header values shared between the tags that have them: one copy each (see [`ServiceTag`]).
#[derive(Default)]
struct Sharing {
    strings: FxHashMap<String, Arc<str>>,
    feature_lists: FxHashMap<String, Arc<[String]>>,
    feature_key: String,
}

/// One tag read and checked, all but the uniqueness of its name, which takes every tag.
struct Built<'a> {
    name: Cow<'a, str>,
    tag: Result<ServiceTag, Fault>,
}

/// What is wrong with a tag, before the tags around it are weighed (a duplicate name takes
/// them all).
#[derive(Debug)]
enum Fault {
    /// Its name breaks the grammar.
    Name(String),
    Other(LoadError),
}

/// Checks a tag and builds it, its prefixes parsed already.
fn build_tag<'a>(source_name: &str, rt: RawTag<'a>, sharing: &mut Sharing) -> Built<'a> {
    let name = rt.name.0;
    let tag = match crate::text::check_tag_name(&name) {
        Err(msg) => Err(Fault::Name(format!(
            "{}: {msg}",
            crate::text::quoted(&name)
        ))),
        Ok(()) => check_tag(source_name, &name, rt.properties, sharing),
    };
    Built { name, tag }
}

fn check_tag(
    source_name: &str,
    name: &str,
    p: RawProperties<'_>,
    sharing: &mut Sharing,
) -> Result<ServiceTag, Fault> {
    let invalid = |field: &str, msg: String| {
        Fault::Other(LoadError::Invalid {
            source_name: source_name.to_owned(),
            tag: name.to_owned(),
            field: field.to_owned(),
            msg,
        })
    };
    let number = |n: &Option<Number>, field: &str| match n {
        None => Ok(0),
        Some(n) => n
            .value()
            .ok_or_else(|| invalid(field, "not a whole number".into())),
    };
    let tag_change = number(&p.change_number, "properties.changeNumber")?;
    let region_id = number(&p.region_id, "properties.regionId")?;
    let strings = &mut sharing.strings;
    let mut label = |text: &Option<Str>, field: &str| -> Result<Arc<str>, Fault> {
        let text = text.as_ref().map_or("", |s| &s.0);
        crate::text::check_label(text)
            .map_err(|msg| invalid(field, format!("{}: {msg}", crate::text::quoted(text))))?;
        Ok(share(strings, text, || Some((text.to_owned(), text.into()))).unwrap_or_default())
    };
    let region = label(&p.region, "properties.region")?;
    let platform = label(&p.platform, "properties.platform")?;
    let system_service = label(&p.system_service, "properties.systemService")?;
    let network_features = match &p.network_features {
        None => None,
        Some(list) => {
            // Found by the list joined with newlines (which no feature holds), so that a list
            // seen before costs no allocation.
            let key = &mut sharing.feature_key;
            key.clear();
            for (j, Str(f)) in list.iter().enumerate() {
                crate::text::check_label(f).map_err(|msg| {
                    invalid(
                        &format!("properties.networkFeatures[{j}]"),
                        format!("{}: {msg}", crate::text::quoted(f)),
                    )
                })?;
                key.push_str(f);
                key.push('\n');
            }
            share(&mut sharing.feature_lists, key.as_str(), || {
                let owned: Vec<String> = list.iter().map(|f| f.0.to_string()).collect();
                Some((key.clone(), owned.into()))
            })
        }
    };
    let prefixes = p.address_prefixes;
    if let Some((j, msg)) = prefixes.first_bad {
        return Err(invalid(&format!("properties.addressPrefixes[{j}]"), msg));
    }
    Ok(ServiceTag {
        name: name.to_owned(),
        change_number: tag_change,
        region,
        region_id,
        platform,
        system_service,
        network_features,
        ipv4: prefixes.ipv4,
        ipv6: prefixes.ipv6,
    })
}

/// Checks what was read and builds the snapshot.
fn validate(source_name: &str, mut raw: RawFile<'_>) -> Result<Snapshot, LoadError> {
    let mut sharing = Sharing::default();
    let built: Vec<Built> = std::mem::take(&mut raw.values)
        .into_iter()
        .map(|rt| build_tag(source_name, rt, &mut sharing))
        .collect();
    assemble(source_name, raw, built)
}

/// The snapshot from the file's header and its tags, built in order. The file's shape was read
/// whole before (a value of the wrong type anywhere is reported first); of the errors in values,
/// the first in file order is the one reported, as a reader going tag by tag would find it (a
/// tag's name, then whether it was seen before, then the rest of the tag).
fn assemble(
    source_name: &str,
    raw: RawFile<'_>,
    built: Vec<Built<'_>>,
) -> Result<Snapshot, LoadError> {
    let shape = |location: &str, msg: String| LoadError::Shape {
        source_name: source_name.to_owned(),
        location: location.to_owned(),
        msg,
    };
    let cloud_text = raw
        .cloud
        .ok_or_else(|| shape("cloud", "missing field `cloud`".into()))?
        .0;
    let cloud = Cloud::parse(&cloud_text).ok_or_else(|| {
        shape(
            "cloud",
            format!(
                "unknown cloud {} (expected Public, AzureGovernment or China)",
                crate::text::quoted(&cloud_text)
            ),
        )
    })?;
    let change_number = raw
        .change_number
        .as_ref()
        .and_then(Number::value)
        .ok_or_else(|| shape("changeNumber", "missing or not a whole number".into()))?;
    let mut seen: FxHashMap<Caseless, usize> = FxHashMap::default();
    seen.reserve(built.len());
    let mut tags = Vec::with_capacity(built.len());
    for (i, b) in built.into_iter().enumerate() {
        if let Err(Fault::Name(msg)) = b.tag {
            return Err(shape(&format!("values[{i}].name"), msg));
        }
        if let Some(first) = seen.insert(Caseless(b.name.clone()), i) {
            return Err(LoadError::Invalid {
                source_name: source_name.to_owned(),
                tag: b.name.into_owned(),
                field: "name".into(),
                msg: format!("duplicate tag name (values[{first}] and values[{i}])"),
            });
        }
        match b.tag {
            Ok(tag) => tags.push(tag),
            Err(Fault::Other(e)) => return Err(e),
            Err(Fault::Name(_)) => unreachable!("returned above"),
        }
    }
    Ok(Snapshot::new(
        source_name,
        cloud,
        change_number,
        tags,
        raw.next_link
            .map(|l| l.0.into_owned())
            .filter(|l| !l.is_empty()),
    ))
}

/// A name compared and hashed without regard to ASCII case, without a lowered copy.
struct Caseless<'a>(Cow<'a, str>);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for Caseless<'_> {}

impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        for b in self.0.bytes() {
            h.write_u8(b.to_ascii_lowercase());
        }
        h.write_u8(0xff);
    }
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
