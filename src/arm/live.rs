//! A route table as Resource Manager answers a GET, kept whole so that it can be written back.
//!
//! Azure's recorded answers (the Azure CLI's `test_network_route_table_operation.yaml`, the
//! Azure PowerShell session `TestRouteHopTypeTest.json`) show one ETag, in the form
//! `W/"<guid>"`, on the table and on every route of it, renewed by any write to any route: one
//! ETag guards the whole table. So the table is changed by one `PUT` of itself under that ETag,
//! built here from the object as read: every property kept as it was, unknown ones too, the
//! read-only ones of the REST specification (`routeTable.json`) dropped, and only the managed
//! routes replaced. The route list is read from `properties.routes` alone, and only an answer
//! whose `id` is the table asked for is taken.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{ArmError, RouteTableId};
use crate::diff::Diff;
use crate::model::RouteWire;
use crate::routes::{self, ExistingRoute, RouteTable};

/// Read-only properties of a route table resource (`Resource`: `name`, `type`; `RouteTable`:
/// `etag`), dropped from a PUT.
const TABLE_READ_ONLY: [&str; 3] = ["etag", "name", "type"];
/// Read-only properties of `RouteTablePropertiesFormat`.
const TABLE_PROPERTIES_READ_ONLY: [&str; 3] = ["provisioningState", "resourceGuid", "subnets"];
/// Read-only fields of a route (`Route.etag`) and of `RoutePropertiesFormat`.
const ROUTE_READ_ONLY: [&str; 1] = ["etag"];
const ROUTE_PROPERTIES_READ_ONLY: [&str; 2] = ["provisioningState", "hasBgpOverride"];

/// A route table as read.
#[derive(Clone, Debug)]
pub struct LiveTable {
    /// Its routes, as `diff` reads them.
    pub table: RouteTable,
    /// The table's ETag, or why it cannot guard a write.
    pub etag: Result<String, String>,
    /// The table object as read.
    doc: Map<String, Value>,
}

/// Checks that an ETag can be sent back in `If-Match` as the entity tag it claims to be:
/// `W/"..."` or `"..."` (RFC 9110's `entity-tag`, printable ASCII without `"` inside), at most
/// 256 characters. A `*`, a list or anything with a control character would change what the
/// precondition means, so it is refused.
pub fn check_etag(etag: &str) -> Result<(), String> {
    let opaque = etag.strip_prefix("W/").unwrap_or(etag);
    let inner = opaque
        .strip_prefix('"')
        .and_then(|o| o.strip_suffix('"'))
        .filter(|i| i.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)));
    if etag.len() > 256 || inner.is_none() {
        return Err(format!(
            "its ETag {} is not an entity tag that can be sent back in If-Match",
            crate::text::quoted(etag)
        ));
    }
    Ok(())
}

/// Why an answer is not the route table asked for.
#[derive(Debug, thiserror::Error)]
pub enum BadTable {
    #[error("route table {table}: the answer is not JSON")]
    NotJson {
        table: String,
        #[source]
        err: serde_json::Error,
    },
    #[error("route table {table}: the answer is not a route table object")]
    NotObject { table: String },
    #[error("route table {table}: the answer is for another resource, {got}")]
    OtherResource { table: String, got: String },
    #[error("route table {table}: the answer names no id")]
    NoId { table: String },
    #[error("route table {table}: the answer is not a route table (no properties.routes list)")]
    NoRoutes { table: String },
    #[error(transparent)]
    Routes(#[from] routes::RoutesError),
}

impl LiveTable {
    /// Reads the answer to a GET of table `id`: the table object with its `id`, `etag` and
    /// `properties.routes`. Anything else is refused.
    pub fn parse(id: &RouteTableId, body: &[u8]) -> Result<LiveTable, ArmError> {
        let source = id.to_string();
        let table = || id.name.clone();
        let doc: Value = crate::json::parse(body).map_err(|err| BadTable::NotJson {
            table: table(),
            err,
        })?;
        let Value::Object(doc) = doc else {
            return Err(BadTable::NotObject { table: table() }.into());
        };
        match doc.get("id").and_then(Value::as_str) {
            Some(got) if got.eq_ignore_ascii_case(&source) => {}
            Some(got) => {
                let got = crate::text::quoted(got);
                return Err(BadTable::OtherResource {
                    table: table(),
                    got,
                }
                .into());
            }
            None => return Err(BadTable::NoId { table: table() }.into()),
        }
        let Some(list) = doc
            .get("properties")
            .and_then(|p| p.get("routes"))
            .and_then(Value::as_array)
        else {
            return Err(BadTable::NoRoutes { table: table() }.into());
        };
        let table = routes::parse_list(&source, list).map_err(BadTable::Routes)?;
        let etag = match doc.get("etag") {
            Some(Value::String(e)) => check_etag(e).map(|()| e.clone()),
            Some(_) => Err("its ETag is not a string".to_owned()),
            None => Err("the answer has no ETag".to_owned()),
        };
        Ok(LiveTable { table, etag, doc })
    }

    /// The route named `name` (names compared without case, as Azure does).
    pub fn route(&self, name: &str) -> Option<&ExistingRoute> {
        self.table
            .routes
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// The body of a `PUT` of the whole table that makes the change `d`: the object as read
    /// without its read-only properties, the routes of `d.remove` left out, those of
    /// `d.update` given their planned properties, those of `d.add` appended; every other route
    /// is sent as it was read.
    pub fn put_body(&self, d: &Diff) -> Value {
        let lower = |n: &str| n.to_ascii_lowercase();
        let removed: Vec<String> = d.remove.iter().map(|r| lower(&r.name)).collect();
        let updated: HashMap<String, &crate::model::Route> = d
            .update
            .iter()
            .map(|u| (lower(&u.to.name), &u.to))
            .collect();
        let mut doc = self.doc.clone();
        for k in TABLE_READ_ONLY {
            doc.remove(k);
        }
        let props = doc
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .expect("parse keeps only tables with properties.routes");
        for k in TABLE_PROPERTIES_READ_ONLY {
            props.remove(k);
        }
        let read = props
            .get("routes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut routes = Vec::with_capacity(read.len() + d.add.len());
        for mut route in read {
            let name = lower(route["name"].as_str().unwrap_or_default());
            if removed.contains(&name) {
                continue;
            }
            if let Value::Object(r) = &mut route {
                for k in ROUTE_READ_ONLY {
                    r.remove(k);
                }
                if let Some(planned) = updated.get(&name) {
                    r.insert(
                        "properties".into(),
                        RouteWire::properties(&planned.destination, &planned.next_hop),
                    );
                } else if let Some(Value::Object(p)) = r.get_mut("properties") {
                    for k in ROUTE_PROPERTIES_READ_ONLY {
                        p.remove(k);
                    }
                }
            }
            routes.push(route);
        }
        for add in &d.add {
            routes.push(json!({
                "name": add.name,
                "properties": RouteWire::properties(&add.destination, &add.next_hop),
            }));
        }
        props.insert("routes".into(), Value::Array(routes));
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_sent_back_only_as_entity_tags() {
        assert!(check_etag("W/\"d2259014-fd55-4434-aabd-b4fdaf891d73\"").is_ok());
        assert!(check_etag("\"abc\"").is_ok());
        for bad in [
            "*",
            "",
            "W/",
            "abc",
            "\"a\"b\"",
            "\"a\", \"b\"",
            "\"a\nb\"",
            "W/\"\u{e9}\"",
        ] {
            assert!(check_etag(bad).is_err(), "{bad:?}");
        }
        assert!(check_etag(&format!("\"{}\"", "a".repeat(255))).is_err());
    }
}
