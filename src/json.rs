//! JSON from outside, read strictly: a key given twice in any object is refused (`serde_json`
//! alone keeps the last, so two readers of one document could see different files or tables),
//! and nesting is bounded at [`MAX_DEPTH`], tagroute's stated bound rather than a parser's
//! detail. [`check`] is that rule, one pass over the document; [`from_slice`] applies it and then
//! hands the document to a derived `Deserialize`, which refuses a known field given twice by
//! itself but skips unknown ones unchecked. Service-tag files, route tables, Resource Manager
//! answers and Resource Graph rows are all read through it.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Deepest nesting accepted.
pub const MAX_DEPTH: u32 = 64;

/// Reads `bytes` as a `T`, after [`check`].
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    check(bytes)?;
    serde_json::from_slice(bytes)
}

/// Reads `bytes` as one JSON value, after [`check`].
pub fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    from_slice(bytes)
}

/// Checks that `bytes` is one JSON value with no key given twice in any object and no nesting
/// deeper than [`MAX_DEPTH`]; nothing is built.
pub fn check(bytes: &[u8]) -> Result<(), serde_json::Error> {
    checked(serde_json::Deserializer::from_slice(bytes))
}

/// [`check`] of a text already known to be UTF-8, which spares checking each string again.
pub(crate) fn check_str(text: &str) -> Result<(), serde_json::Error> {
    checked(serde_json::Deserializer::from_str(text))
}

fn checked<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<(), serde_json::Error> {
    Checked(0).deserialize(&mut de)?;
    de.end()
}

/// The path inside the document where [`check`] fails (as `values[3].properties`, `.` for the
/// top level), or `None` when it does not fail there. It tracks the path, which costs an
/// allocation a key, so it is asked only once a document was refused.
pub(crate) fn locate(bytes: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let found = Checked(0).deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    found.is_err().then(|| track.path().to_string())
}

/// A value at a depth, checked and dropped.
#[derive(Clone, Copy)]
struct Checked(u32);

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.deeper()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.deeper()?;
        let mut keys = Keys::default();
        while let Some(Key(key)) = map.next_key()? {
            keys.insert(key)?;
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

impl Checked {
    fn deeper<E: de::Error>(self) -> Result<Checked, E> {
        if self.0 >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nested more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(Checked(self.0 + 1))
    }
}

/// An object's key, borrowed from the document when it holds no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The keys of one object seen so far: a short list while the object is small (most have a few
/// keys), a set once it is not, so that checking stays linear.
#[derive(Default)]
struct Keys<'a> {
    few: Vec<Cow<'a, str>>,
    many: Option<rustc_hash::FxHashSet<Cow<'a, str>>>,
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    /// Remembers `key`; an error when it was seen before.
    fn insert<E: de::Error>(&mut self, key: Cow<'a, str>) -> Result<(), E> {
        let fresh = match &mut self.many {
            Some(set) => set.insert(key.clone()),
            None if self.few.contains(&key) => false,
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
            return Err(E::custom(format_args!(
                "duplicate key {}",
                crate::text::quoted(&key)
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_and_deep_nesting_are_refused() {
        let v = parse(br#"{"a": [1, 2.5, "x", null, true], "b": {"c": {}}}"#).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": [1, 2.5, "x", null, true], "b": {"c": {}}})
        );
        let twice =
            br#"{"routes": [{"name": "r", "nextHopType": "Internet", "nextHopType": "None"}]}"#;
        let e = parse(twice).unwrap_err();
        assert!(e.to_string().contains("duplicate key 'nextHopType'"), "{e}");
        assert_eq!(locate(twice).as_deref(), Some("routes[0]"));
        // Spelt apart, said alike: an escape does not hide a key given twice.
        assert!(parse(br#"{"a": 1, "\u0061": 2}"#).is_err());
        // Many keys are checked by a set, as few are by a list.
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": 1", i % 39)).collect();
        let e = parse(format!("{{{}}}", many.join(",")).as_bytes()).unwrap_err();
        assert!(e.to_string().contains("duplicate key 'k0'"), "{e}");
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(
            parse(deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("64 levels")
        );
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(ok.as_bytes()).is_ok());
        assert!(parse(b"{} x").is_err());
        assert_eq!(locate(br#"{"a": {"b": 1}}"#), None);
    }
}
