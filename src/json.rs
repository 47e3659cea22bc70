//! JSON from outside read as a [`serde_json::Value`], as strictly as the service-tag reader
//! reads its file: a key given twice in any object is refused (`serde_json` alone keeps the
//! last, so two readers of one document could see different tables), and nesting is bounded.
//! Route tables, Resource Manager answers and Resource Graph rows are read through it.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Deepest nesting accepted (as the service-tag file's).
pub const MAX_DEPTH: u32 = 64;

/// Reads `bytes` as one JSON value, refusing duplicate keys and nesting deeper than
/// [`MAX_DEPTH`].
pub fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict(0).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A value at a depth.
struct Strict(u32);

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.deeper()?;
        let mut list = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict(depth))? {
            list.push(v);
        }
        Ok(Value::Array(list))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.deeper()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {}",
                    crate::text::quoted(&key)
                )));
            }
            let value = map.next_value_seed(Strict(depth))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

impl Strict {
    fn deeper<E: de::Error>(&self) -> Result<u32, E> {
        if self.0 >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nested more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(self.0 + 1)
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
        let e = parse(
            br#"{"routes": [{"name": "r", "nextHopType": "Internet", "nextHopType": "None"}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("duplicate key 'nextHopType'"), "{e}");
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
    }
}
