//! The reader of a service-tag file: written by hand over serde_json's tokens, so that it can
//! refuse what a derived reader lets through (a key given twice, anywhere in the file), borrow
//! every string that has no escapes instead of copying it, and parse each prefix as it is read
//! instead of keeping 90,000 strings. Everything else about JSON (escapes, key order,
//! whitespace, numbers, nesting limits) is serde_json's. What it reads is checked and assembled
//! into a snapshot by the module above.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::prefix::{IpPrefix, Prefix, bulk};

/// A JSON string, borrowed from the file when it holds no escapes.
pub(super) struct Str<'a>(pub(super) Cow<'a, str>);

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
pub(super) struct Keys<'a> {
    pub(super) few: Vec<Cow<'a, str>>,
    /// Used instead of `few` once an object has many keys, so that checking stays linear.
    pub(super) many: Option<rustc_hash::FxHashSet<Cow<'a, str>>>,
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    /// The next key, or `None` at the end of the object; an error when it was seen before.
    pub(super) fn next<A: MapAccess<'a>>(
        &mut self,
        map: &mut A,
    ) -> Result<Option<Cow<'a, str>>, A::Error> {
        let Some(Str(key)) = map.next_key::<Str<'a>>()? else {
            return Ok(None);
        };
        self.insert(&key)?;
        Ok(Some(key))
    }

    /// Remembers `key`; an error when it was seen before. (The `Cow` itself is kept, borrowed
    /// from the file when it can be: a `&str` would have to be copied.)
    #[allow(clippy::ptr_arg)]
    pub(super) fn insert<E: de::Error>(&mut self, key: &Cow<'a, str>) -> Result<(), E> {
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

pub(super) fn duplicate<E: de::Error>(key: &str) -> E {
    de::Error::custom(format_args!("duplicate key {}", crate::text::quoted(key)))
}

/// A value the model does not use: any JSON, read only to check that its objects have no
/// duplicate keys. It may nest [`MAX_UNUSED_DEPTH`] levels deep: well within serde_json's own
/// limit, so that the bound is tagroute's, stated, and not a parser's detail.
pub(super) struct Unused;

/// How deep a value the model does not use may nest.
pub(crate) const MAX_UNUSED_DEPTH: u32 = 64;

impl<'de> Deserialize<'de> for Unused {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        UnusedAt(0).deserialize(d)
    }
}

/// [`Unused`] at a given depth.
#[derive(Clone, Copy)]
pub(super) struct UnusedAt(pub(super) u32);

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
pub(super) enum Number<'a> {
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
    pub(super) fn value(&self) -> Option<u64> {
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
pub(super) struct Prefixes {
    pub(super) ipv4: Vec<Prefix<u32>>,
    pub(super) ipv6: Vec<Prefix<u128>>,
    pub(super) first_bad: Option<(usize, String)>,
}

/// Parses the text of one `addressPrefixes` value, which serde_json has already checked to be
/// JSON. A list of plain strings (the files hold nothing else) is read directly from the text:
/// each string is found by its quotes and parsed as it stands, without serde's work per
/// element, which cost more than parsing the prefix does. A list with an escape in it, or
/// anything else, is read by serde_json, whose errors say what the value should have been.
pub(super) fn parse_prefixes(
    raw: &str,
    scratch: &mut Prefixes,
) -> Result<Prefixes, serde_json::Error> {
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
    pub(super) fn clear(&mut self) {
        self.ipv4.clear();
        self.ipv6.clear();
        self.first_bad = None;
    }

    /// Adds the prefix at position `i` of the list, or remembers why it is not one.
    pub(super) fn add(&mut self, i: usize, text: &str) {
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
pub(super) fn read_plain_prefixes(raw: &str, out: &mut Prefixes) -> bool {
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
pub(super) struct RawFile<'a> {
    pub(super) change_number: Option<Number<'a>>,
    pub(super) cloud: Option<Str<'a>>,
    pub(super) values: Vec<RawTag<'a>>,
    pub(super) next_link: Option<Str<'a>>,
}

pub(super) struct RawTag<'a> {
    pub(super) name: Str<'a>,
    pub(super) properties: RawProperties<'a>,
}

pub(super) struct RawProperties<'a> {
    pub(super) change_number: Option<Number<'a>>,
    pub(super) region: Option<Str<'a>>,
    pub(super) region_id: Option<Number<'a>>,
    pub(super) platform: Option<Str<'a>>,
    pub(super) system_service: Option<Str<'a>>,
    pub(super) address_prefixes: &'a RawValue,
    pub(super) network_features: Option<Vec<Str<'a>>>,
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
pub(super) fn read_object<'de, A: MapAccess<'de>>(
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

pub(super) fn read_file<'de, A: MapAccess<'de>>(map: &mut A) -> Result<RawFile<'de>, A::Error> {
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

pub(super) fn read_tag<'de, A: MapAccess<'de>>(map: &mut A) -> Result<RawTag<'de>, A::Error> {
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

pub(super) fn read_properties<'de, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<RawProperties<'de>, A::Error> {
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
