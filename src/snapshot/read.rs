//! The shape of a service-tag file, derived: what `serde` reads after [`crate::json::check`]
//! has refused keys given twice and deep nesting anywhere in the file. Strings are borrowed from
//! the file when they hold no escapes, and each prefix is parsed as it is read instead of keeping
//! 90,000 strings. What is read here is checked and assembled into a snapshot by the module
//! above.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::prefix::{IpPrefix, Prefix, bulk};

/// The file as read, before its values are checked.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawFile<'a> {
    #[serde(borrow)]
    pub(super) change_number: Option<Number<'a>>,
    #[serde(borrow)]
    pub(super) cloud: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) values: Vec<RawTag<'a>>,
    #[serde(borrow)]
    pub(super) next_link: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct RawTag<'a> {
    #[serde(borrow)]
    pub(super) name: Str<'a>,
    #[serde(borrow)]
    pub(super) properties: RawProperties<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawProperties<'a> {
    #[serde(borrow)]
    pub(super) change_number: Option<Number<'a>>,
    #[serde(borrow)]
    pub(super) region: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) region_id: Option<Number<'a>>,
    #[serde(borrow)]
    pub(super) platform: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) system_service: Option<Str<'a>>,
    pub(super) address_prefixes: Prefixes,
    #[serde(borrow)]
    pub(super) network_features: Option<Vec<Str<'a>>>,
}

/// A JSON string, borrowed from the file when it holds no escapes. (`Cow<str>` borrows only as
/// a field of its own, not inside an `Option` or a list.)
pub(super) struct Str<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A change number or region id: the download writes numbers, the ARM API strings.
pub(super) enum Number<'a> {
    Int(u64),
    Text(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Number<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Number<'a>;
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
        d.deserialize_any(V(std::marker::PhantomData))
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

/// A tag's `addressPrefixes`, each parsed as it is read. The first that does not parse is kept
/// with its position, for an error that names the tag once its name is known to be good.
#[derive(Default)]
pub(super) struct Prefixes {
    pub(super) ipv4: Vec<Prefix<u32>>,
    pub(super) ipv6: Vec<Prefix<u128>>,
    pub(super) first_bad: Option<(usize, String)>,
}

impl Prefixes {
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

impl<'de> Deserialize<'de> for Prefixes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Prefixes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of address prefixes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Prefixes, A::Error> {
                let mut prefixes = Prefixes::default();
                for i in 0.. {
                    let Some(Str(text)) = seq.next_element()? else {
                        break;
                    };
                    prefixes.add(i, &text);
                }
                Ok(prefixes)
            }
        }
        d.deserialize_seq(V)
    }
}
