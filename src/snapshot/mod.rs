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
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::prefix::{IpPrefix, Prefix, bulk};

mod parallel;

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

// ---- reading: one strict reader for every command ----
//
// The reader is written by hand over serde_json's tokens so that it can refuse what a derived
// reader lets through (a key given twice, anywhere in the file), borrow every string that has
// no escapes instead of copying it, and parse each prefix as it is read instead of keeping
// 90,000 strings. Everything else about JSON (escapes, key order, whitespace, numbers, nesting
// limits) is serde_json's.

/// A JSON string, borrowed from the file when it holds no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The keys of one object seen so far, to refuse a key given twice: a reader that keeps the
/// first and one that keeps the last would see two different files.
#[derive(Default)]
struct Keys<'a> {
    few: Vec<Cow<'a, str>>,
    /// Used instead of `few` once an object has many keys, so that checking stays linear.
    many: Option<rustc_hash::FxHashSet<Cow<'a, str>>>,
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    /// The next key, or `None` at the end of the object; an error when it was seen before.
    fn next<A: MapAccess<'a>>(&mut self, map: &mut A) -> Result<Option<Cow<'a, str>>, A::Error> {
        let Some(Str(key)) = map.next_key::<Str<'a>>()? else {
            return Ok(None);
        };
        self.insert(&key)?;
        Ok(Some(key))
    }

    /// Remembers `key`; an error when it was seen before. (The `Cow` itself is kept, borrowed
    /// from the file when it can be: a `&str` would have to be copied.)
    #[allow(clippy::ptr_arg)]
    fn insert<E: de::Error>(&mut self, key: &Cow<'a, str>) -> Result<(), E> {
        let fresh = match &mut self.many {
            Some(set) => set.insert(key.clone()),
            None if self.few.contains(key) => false,
            None if self.few.len() < Self::FEW => {
                self.few.push(key.clone());
                true
            }
            None => {
                let mut set: rustc_hash::FxHashSet<_> = self.few.drain(..).collect();
                set.insert(key.clone());
                self.many = Some(set);
                true
            }
        };
        if !fresh {
            return Err(duplicate(key));
        }
        Ok(())
    }
}

fn duplicate<E: de::Error>(key: &str) -> E {
    de::Error::custom(format_args!("duplicate key {}", crate::text::quoted(key)))
}

/// A value the model does not use: any JSON, read only to check that its objects have no
/// duplicate keys. It may nest [`MAX_UNUSED_DEPTH`] levels deep: well within serde_json's own
/// limit, so that where a value starts (the file, or one tag read on its own by
/// [`parallel`]) never changes whether it is accepted.
struct Unused;

/// How deep a value the model does not use may nest.
pub(crate) const MAX_UNUSED_DEPTH: u32 = 64;

impl<'de> Deserialize<'de> for Unused {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        UnusedAt(0).deserialize(d)
    }
}

/// [`Unused`] at a given depth.
#[derive(Clone, Copy)]
struct UnusedAt(u32);

impl<'de> DeserializeSeed<'de> for UnusedAt {
    type Value = Unused;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Unused, D::Error> {
        if self.0 > MAX_UNUSED_DEPTH {
            return Err(de::Error::custom(format_args!(
                "nested more than {MAX_UNUSED_DEPTH} levels deep"
            )));
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UnusedAt {
    type Value = Unused;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Unused, E> {
        Ok(Unused)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Unused, E> {
        Ok(Unused)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Unused, E> {
        Ok(Unused)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Unused, E> {
        Ok(Unused)
    }
    fn visit_str<E>(self, _: &str) -> Result<Unused, E> {
        Ok(Unused)
    }
    fn visit_unit<E>(self) -> Result<Unused, E> {
        Ok(Unused)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unused, A::Error> {
        let inner = UnusedAt(self.0 + 1);
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(Unused)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unused, A::Error> {
        let inner = UnusedAt(self.0 + 1);
        let mut keys = Keys::default();
        while keys.next(&mut map)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(Unused)
    }
}

/// A change number or region id: the download writes numbers, the ARM API strings.
enum Number<'a> {
    Int(u64),
    Text(Cow<'a, str>),
}

impl<'de> Deserialize<'de> for Number<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Number<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number, or one written as a string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Number::Int(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Number::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Number::Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_any(V)
    }
}

impl Number<'_> {
    fn value(&self) -> Option<u64> {
        match self {
            Number::Int(n) => Some(*n),
            Number::Text(s) if s.is_empty() => Some(0),
            Number::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// A tag's `addressPrefixes`, parsed. The first prefix that does not parse is kept with its
/// position, for an error that names the tag.
#[derive(Default)]
struct Prefixes {
    ipv4: Vec<Prefix<u32>>,
    ipv6: Vec<Prefix<u128>>,
    first_bad: Option<(usize, String)>,
}

/// Parses the text of one `addressPrefixes` value, which serde_json has already checked to be
/// JSON. A list of plain strings (the files hold nothing else) is read directly from the text:
/// each string is found by its quotes and parsed as it stands, without serde's work per
/// element, which cost more than parsing the prefix does. A list with an escape in it, or
/// anything else, is read by serde_json, whose errors say what the value should have been.
fn parse_prefixes(raw: &str, scratch: &mut Prefixes) -> Result<Prefixes, serde_json::Error> {
    // Collected in `scratch`, kept from tag to tag, then copied out at their final size: one
    // allocation a list instead of one each time it grows.
    scratch.clear();
    if !read_plain_prefixes(raw, scratch) {
        scratch.clear();
        let list: Vec<Str> = serde_json::from_str(raw)?;
        for (i, Str(text)) in list.iter().enumerate() {
            scratch.add(i, text);
        }
    }
    Ok(Prefixes {
        ipv4: scratch.ipv4.as_slice().into(),
        ipv6: scratch.ipv6.as_slice().into(),
        first_bad: scratch.first_bad.take(),
    })
}

impl Prefixes {
    fn clear(&mut self) {
        self.ipv4.clear();
        self.ipv6.clear();
        self.first_bad = None;
    }

    /// Adds the prefix at position `i` of the list, or remembers why it is not one.
    fn add(&mut self, i: usize, text: &str) {
        let parsed = match bulk::parse_cidr(text.as_bytes()) {
            Some(p) => Ok(p),
            None => IpPrefix::parse(text),
        };
        match parsed {
            Ok(IpPrefix::V4(p)) => self.ipv4.push(p),
            Ok(IpPrefix::V6(p)) => self.ipv6.push(p),
            Err(e) if self.first_bad.is_none() => self.first_bad = Some((i, e.to_string())),
            Err(_) => {}
        }
    }
}

/// Adds every prefix of a JSON list known to be valid to `out`, when it is a list of strings
/// without escapes; false (having added some) when it is anything else. An IPv4 prefix is
/// parsed where it stands, up to the closing quote; other strings are found first.
fn read_plain_prefixes(raw: &str, out: &mut Prefixes) -> bool {
    let b = raw.as_bytes();
    let skip_ws = |mut i: usize| {
        while b
            .get(i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(0);
    if b.get(i) != Some(&b'[') {
        return false;
    }
    i = skip_ws(i + 1);
    if b.get(i) == Some(&b']') {
        return true;
    }
    for n in 0.. {
        if b.get(i) != Some(&b'"') {
            return false;
        }
        let start = i + 1;
        let end = match bulk::parse_v4_cidr_head(&b[start..]) {
            Some((p, len)) if b.get(start + len) == Some(&b'"') => {
                out.ipv4.push(p);
                start + len
            }
            _ => {
                // In valid JSON a string ends at the first quote not escaped; with no
                // backslash before it, that is simply the next quote.
                let Some(len) = memchr::memchr2(b'"', b'\\', &b[start..]) else {
                    return false;
                };
                if b[start + len] == b'\\' {
                    return false;
                }
                out.add(n, &raw[start..start + len]);
                start + len
            }
        };
        i = skip_ws(end + 1);
        match b.get(i) {
            Some(b',') => i = skip_ws(i + 1),
            Some(b']') => break,
            _ => return false,
        }
    }
    true
}

/// The file as read, before its values are checked.
struct RawFile<'a> {
    change_number: Option<Number<'a>>,
    cloud: Option<Str<'a>>,
    values: Vec<RawTag<'a>>,
    next_link: Option<Str<'a>>,
}

struct RawTag<'a> {
    name: Str<'a>,
    properties: RawProperties<'a>,
}

struct RawProperties<'a> {
    change_number: Option<Number<'a>>,
    region: Option<Str<'a>>,
    region_id: Option<Number<'a>>,
    platform: Option<Str<'a>>,
    system_service: Option<Str<'a>>,
    address_prefixes: &'a RawValue,
    network_features: Option<Vec<Str<'a>>>,
}

/// Implements `Deserialize` for one of the objects above with the function that reads its keys.
macro_rules! object_reader {
    ($ty:ident, $what:literal, $read:ident) => {
        impl<'de> Deserialize<'de> for $ty<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Self::Value, A::Error> {
                        $read(&mut map)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

/// Reads an object's keys in turn: `field` reads the value of a key the model knows (one of
/// `known`) and says so; any other key's value is read as [`Unused`]. A key given twice is an
/// error: the known ones are tracked by a bit each, the others by [`Keys`].
fn read_object<'de, A: MapAccess<'de>>(
    map: &mut A,
    known: &[&str],
    mut field: impl FnMut(&str, &mut A) -> Result<bool, A::Error>,
) -> Result<(), A::Error> {
    let (mut seen, mut others) = (0u32, Keys::default());
    while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
        match known.iter().position(|k| *k == key) {
            Some(i) if seen & 1 << i != 0 => return Err(duplicate(&key)),
            Some(i) => seen |= 1 << i,
            None => others.insert(&key)?,
        }
        if !field(&key, map)? {
            map.next_value::<Unused>()?;
        }
    }
    Ok(())
}

object_reader!(RawFile, "an object with `cloud` and `values`", read_file);
object_reader!(
    RawTag,
    "a tag object with `name` and `properties`",
    read_tag
);
object_reader!(RawProperties, "a tag's properties object", read_properties);

fn read_file<'de, A: MapAccess<'de>>(map: &mut A) -> Result<RawFile<'de>, A::Error> {
    let (mut change_number, mut cloud, mut values, mut next_link) = (None, None, None, None);
    let known = ["changeNumber", "cloud", "values", "nextLink"];
    read_object(map, &known, |key, map| {
        match key {
            "changeNumber" => change_number = map.next_value()?,
            "cloud" => cloud = map.next_value()?,
            "values" => values = Some(map.next_value()?),
            "nextLink" => next_link = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(RawFile {
        change_number,
        cloud,
        values: values.ok_or_else(|| de::Error::missing_field("values"))?,
        next_link,
    })
}

fn read_tag<'de, A: MapAccess<'de>>(map: &mut A) -> Result<RawTag<'de>, A::Error> {
    let (mut name, mut properties) = (None, None);
    read_object(map, &["name", "properties"], |key, map| {
        match key {
            "name" => name = Some(map.next_value()?),
            "properties" => properties = Some(map.next_value()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(RawTag {
        name: name.ok_or_else(|| de::Error::missing_field("name"))?,
        properties: properties.ok_or_else(|| de::Error::missing_field("properties"))?,
    })
}

fn read_properties<'de, A: MapAccess<'de>>(map: &mut A) -> Result<RawProperties<'de>, A::Error> {
    let (mut change_number, mut region, mut region_id, mut platform) = (None, None, None, None);
    let (mut system_service, mut address_prefixes, mut network_features) = (None, None, None);
    let known = [
        "changeNumber",
        "region",
        "regionId",
        "platform",
        "systemService",
        "addressPrefixes",
        "networkFeatures",
    ];
    read_object(map, &known, |key, map| {
        match key {
            "changeNumber" => change_number = map.next_value()?,
            "region" => region = map.next_value()?,
            "regionId" => region_id = map.next_value()?,
            "platform" => platform = map.next_value()?,
            "systemService" => system_service = map.next_value()?,
            "addressPrefixes" => address_prefixes = Some(map.next_value()?),
            "networkFeatures" => network_features = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(RawProperties {
        change_number,
        region,
        region_id,
        platform,
        system_service,
        address_prefixes: address_prefixes
            .ok_or_else(|| de::Error::missing_field("addressPrefixes"))?,
        network_features,
    })
}

/// The bytes of a file or of stdin: a read-only mapping of a regular file (no copy into fresh
/// pages, which cost more than parsing does) or, for stdin, pipes, devices and anything that
/// cannot be mapped, a buffer.
pub(crate) enum SourceBytes {
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

/// Reads a file, or stdin for `-`, refusing anything over [`MAX_FILE_BYTES`] (without reading
/// more than one byte past it, whatever the file is: a pipe, a device that never ends).
pub(crate) fn read_source(path: &str) -> Result<SourceBytes, LoadError> {
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
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the mapping is read-only and this process never writes the file. Were
            // another process to truncate the file while it is read, reading past the new end
            // would fault; service-tag files and route tables are replaced by rename (as `fetch`
            // and `refresh` do), not rewritten in place.
            if let Ok(map) = unsafe { memmap2::MmapOptions::new().map(&file) } {
                return Ok(SourceBytes::Mapped(map));
            }
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
    Ok(SourceBytes::Owned(bytes))
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
    // Read as JSON first when the file is not an object, to tell "not JSON" from "not this".
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(match serde_json::from_slice::<Unused>(bytes) {
            Err(e) => not_json(e),
            Ok(_) => LoadError::Shape {
                source_name: source_name.to_owned(),
                location: "top level".to_owned(),
                msg: "expected an object with `cloud` and `values`".to_owned(),
            },
        });
    }
    // One UTF-8 check of the whole file instead of one per string (JSON is UTF-8 throughout).
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotJson {
        source_name: source_name.to_owned(),
        msg: format!("not UTF-8: {e}"),
    })?;
    if let Some((raw, built)) = parallel::read(source_name, text) {
        return assemble(source_name, raw, built);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let raw = match RawFile::deserialize(&mut de).and_then(|raw| de.end().map(|()| raw)) {
        Ok(raw) => raw,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(not_json(e)),
        Err(e) => return Err(locate(source_name, bytes, e)),
    };
    let prefixes = parse_all_prefixes(&raw.values);
    validate(source_name, raw, prefixes)
}

/// For the fuzz target of the reader (and the test that replays its corpus): reading the file
/// with the tag list cut at `cut` (any offset) gives no answer, or exactly the one-thread
/// reader's; panics otherwise.
pub(crate) fn check_split_reading(bytes: &[u8], cut: usize) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let whole = format!("{:?}", parse("f", bytes).map(|s| s.tags));
    if let Some((raw, built)) = parallel::read_cut("f", text, |_, _| Some(cut)) {
        let split = format!("{:?}", assemble("f", raw, built).map(|s| s.tags));
        assert_eq!(split, whole, "cut at {cut}");
    }
}

/// The error of a file that is JSON but not a service-tag file, with where it lies. The file is
/// read again, this time keeping track of the path (which costs an allocation a key), only
/// now that it failed.
fn locate(source_name: &str, bytes: &[u8], first: serde_json::Error) -> LoadError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let Err(e) = serde_path_to_error::deserialize::<_, RawFile>(&mut de) else {
        return LoadError::Shape {
            source_name: source_name.to_owned(),
            location: "top level".to_owned(),
            msg: first.to_string(),
        };
    };
    let path = e.path().to_string();
    // Name the tag when the error lies inside one and its name is a plain string.
    let tag = path
        .strip_prefix("values[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| {
            let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
            v["values"][i]["name"].as_str().map(crate::text::quoted)
        });
    let location = match tag {
        Some(tag) => format!("tag {tag} ({path})"),
        None if path == "." => "top level".to_owned(),
        None => path,
    };
    LoadError::Shape {
        source_name: source_name.to_owned(),
        location,
        msg: e.inner().to_string(),
    }
}

/// Every tag's prefixes, in order, for the one-thread reader (large files are read on two
/// threads by [`parallel`], which parses each tag's prefixes as it reads the tag).
fn parse_all_prefixes(tags: &[RawTag]) -> Vec<Result<Prefixes, serde_json::Error>> {
    let mut scratch = Prefixes::default();
    tags.iter()
        .map(|t| parse_prefixes(t.properties.address_prefixes.get(), &mut scratch))
        .collect()
}

/// Below this many bytes a second thread costs more than it saves.
const PARALLEL_BYTES: usize = 256 * 1024;

/// Header values shared between the tags that have them: one copy each (see [`ServiceTag`]),
/// per reading thread.
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

/// What is wrong with a tag, before its position in the file is known (a thread may read
/// tags from the middle of the list).
#[derive(Debug)]
enum Fault {
    /// Its name breaks the grammar.
    Name(String),
    /// Its prefix list is not a list of strings.
    PrefixList(String),
    Other(LoadError),
}

/// Checks a tag and builds it, its prefixes parsed already.
fn build_tag<'a>(
    source_name: &str,
    rt: RawTag<'a>,
    prefixes: Result<Prefixes, serde_json::Error>,
    sharing: &mut Sharing,
) -> Built<'a> {
    let name = rt.name.0;
    let tag = match crate::text::check_tag_name(&name) {
        Err(msg) => Err(Fault::Name(format!(
            "{}: {msg}",
            crate::text::quoted(&name)
        ))),
        Ok(()) => check_tag(source_name, &name, rt.properties, prefixes, sharing),
    };
    Built { name, tag }
}

fn check_tag(
    source_name: &str,
    name: &str,
    p: RawProperties<'_>,
    prefixes: Result<Prefixes, serde_json::Error>,
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
    let prefixes = prefixes.map_err(|e| Fault::PrefixList(e.to_string()))?;
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

/// Checks what was read on one thread and builds the snapshot; `prefixes` holds each tag's, in
/// order.
fn validate(
    source_name: &str,
    mut raw: RawFile<'_>,
    prefixes: Vec<Result<Prefixes, serde_json::Error>>,
) -> Result<Snapshot, LoadError> {
    let mut sharing = Sharing::default();
    let built: Vec<Built> = std::mem::take(&mut raw.values)
        .into_iter()
        .zip(prefixes)
        .map(|(rt, p)| build_tag(source_name, rt, p, &mut sharing))
        .collect();
    assemble(source_name, raw, built)
}

/// The snapshot from the file's header and its tags, built in order: the first error in file
/// order is the one reported, as a reader going tag by tag would find it (a tag's name, then
/// whether it was seen before, then the rest of the tag).
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
            Err(Fault::PrefixList(msg)) => {
                let location = format!(
                    "tag {} (values[{i}].properties.addressPrefixes)",
                    crate::text::quoted(&b.name)
                );
                return Err(shape(&location, msg));
            }
            Err(Fault::Other(e)) => return Err(e),
            Err(Fault::Name(_)) => unreachable!("returned above"),
        }
    }
    Ok(Snapshot {
        source: source_name.to_owned(),
        cloud,
        change_number,
        tags,
        next_link: raw
            .next_link
            .map(|l| l.0.into_owned())
            .filter(|l| !l.is_empty()),
    })
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
