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
/// `etag`), and the envelope Resource Manager adds to any resource it answers with (`systemData`,
/// `managedBy`: ARM's resource envelope, not the table's), dropped from a PUT. Every list here is
/// matched without letter case, as Resource Manager matches property names.
const TABLE_READ_ONLY: [&str; 5] = ["etag", "name", "type", "systemData", "managedBy"];
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
    pub(crate) fn put_body(&self, d: &Diff) -> Value {
        let lower = |n: &str| n.to_ascii_lowercase();
        let removed: Vec<String> = d.remove.iter().map(|r| lower(&r.name)).collect();
        let updated: HashMap<String, &crate::model::Route> = d
            .update
            .iter()
            .map(|u| (lower(&u.to.name), &u.to))
            .collect();
        let mut doc = self.doc.clone();
        drop_keys(&mut doc, &TABLE_READ_ONLY);
        let props = doc
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .expect("parse keeps only tables with properties.routes");
        drop_keys(props, &TABLE_PROPERTIES_READ_ONLY);
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
                drop_keys(r, &ROUTE_READ_ONLY);
                if let Some(planned) = updated.get(&name) {
                    r.retain(|k, _| !k.eq_ignore_ascii_case("properties"));
                    r.insert(
                        "properties".into(),
                        RouteWire::properties(&planned.destination, &planned.next_hop),
                    );
                } else if let Some(Value::Object(p)) = r.get_mut("properties") {
                    drop_keys(p, &ROUTE_PROPERTIES_READ_ONLY);
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

/// Removes the keys named in `names`, whatever their letter case.
fn drop_keys(object: &mut Map<String, Value>, names: &[&str]) {
    object.retain(|k, _| !names.iter().any(|n| k.eq_ignore_ascii_case(n)));
}

/// The value of `key` in `object`, its name matched without letter case.
fn field<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// A route of a table document that tagroute does not manage: not named with the prefix, or a
/// default route whatever its name (as [`crate::diff::is_managed`] judges).
fn unmanaged(route: &Value, name_prefix: &str) -> bool {
    let name = route["name"].as_str().unwrap_or_default();
    let prefix = route["properties"]["addressPrefix"].as_str();
    !crate::diff::has_name_prefix(name, name_prefix) || matches!(prefix, Some("0.0.0.0/0" | "::/0"))
}

/// A line in `out` for each field of `sent` (but `skip`) that `back` does not hold as sent.
fn unlike_fields(
    out: &mut Vec<String>,
    what: &str,
    sent: &Map<String, Value>,
    back: &Map<String, Value>,
    skip: &str,
) {
    for (k, want) in sent {
        if k.eq_ignore_ascii_case(skip) {
            continue;
        }
        let got = field(back, k);
        if got != Some(want) {
            out.push(format!(
                "{what}{} is {}, written {}",
                crate::text::for_terminal(k),
                shown(got),
                shown(Some(want))
            ));
        }
    }
}

/// A JSON value as a difference line shows it: compact, shown safely, shortened.
fn shown(v: Option<&Value>) -> String {
    match v {
        None => "absent".to_owned(),
        Some(Value::String(s)) => {
            let text: String = s.chars().take(120).collect();
            crate::text::for_terminal(&text).into_owned()
        }
        Some(v) => {
            let text: String = v.to_string().chars().take(120).collect();
            crate::text::for_terminal(&text).into_owned()
        }
    }
}

impl LiveTable {
    /// What this table (read back after a write) differs in from `sent`, the body of the table
    /// `PUT` meant to leave it so, beside its managed routes (which the diff against the plan
    /// judges): the table's own properties and every route tagroute does not manage, compared
    /// field by field as sent. A write answered as done that dropped the firewall's default route
    /// or flipped `disableBgpRoutePropagation` is caught here. One line per difference.
    pub(crate) fn unlike_sent(&self, sent: &Value, name_prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(sent) = sent.as_object() else {
            return out;
        };
        unlike_fields(&mut out, "the table's ", sent, &self.doc, "properties");
        let empty = Map::new();
        let sent_props = field(sent, "properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let back_props = field(&self.doc, "properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        unlike_fields(
            &mut out,
            "the table's properties.",
            sent_props,
            back_props,
            "routes",
        );
        let list = |props: &Map<String, Value>| -> Vec<Value> {
            field(props, "routes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let (sent_routes, back_routes) = (list(sent_props), list(back_props));
        let name_of = |r: &Value| r["name"].as_str().unwrap_or_default().to_ascii_lowercase();
        for want in sent_routes.iter().filter(|r| unmanaged(r, name_prefix)) {
            let name = name_of(want);
            let shown_name =
                crate::text::for_terminal(want["name"].as_str().unwrap_or_default()).into_owned();
            let Some(got) = back_routes.iter().find(|r| name_of(r) == name) else {
                out.push(format!(
                    "route {shown_name} ({}) was written but is gone",
                    shown(want["properties"].get("addressPrefix"))
                ));
                continue;
            };
            let got_props = got["properties"].as_object().unwrap_or(&empty);
            if let Some(want_props) = want["properties"].as_object() {
                let what = format!("route {shown_name}: ");
                unlike_fields(&mut out, &what, want_props, got_props, "");
            }
        }
        for got in back_routes.iter().filter(|r| unmanaged(r, name_prefix)) {
            let name = name_of(got);
            if !sent_routes.iter().any(|r| name_of(r) == name) {
                out.push(format!(
                    "route {} ({}) is in the table but was not written",
                    crate::text::for_terminal(got["name"].as_str().unwrap_or_default()),
                    shown(got["properties"].get("addressPrefix"))
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read-only properties are dropped whatever their letter case, as Resource Manager matches
    /// names, and so is the resource envelope (`systemData`, `managedBy`); what is writable and
    /// unknown stays.
    #[test]
    fn read_only_keys_are_dropped_whatever_their_case() {
        let id: RouteTableId = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt"
            .parse()
            .unwrap();
        let body = json!({
            "id": id.to_string(), "Etag": "W/\"1\"", "etag": "W/\"1\"", "NAME": "rt",
            "Type": "Microsoft.Network/routeTables", "location": "eastus",
            "systemData": {"createdBy": "someone"}, "ManagedBy": "x", "tags": {},
            "properties": {
                "ProvisioningState": "Succeeded", "resourceGUID": "g", "Subnets": [],
                "disableBgpRoutePropagation": true, "futureProperty": 1,
                "routes": [{"name": "default", "Etag": "W/\"1\"", "properties": {
                    "addressPrefix": "0.0.0.0/0", "nextHopType": "Internet",
                    "provisioningstate": "Succeeded", "HasBgpOverride": false}}],
            },
        });
        let live = LiveTable::parse(&id, body.to_string().as_bytes()).unwrap();
        let put = live.put_body(&Diff::default());
        let keys = |v: &Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&put), ["id", "location", "properties", "tags"]);
        assert_eq!(
            keys(&put["properties"]),
            ["disableBgpRoutePropagation", "futureProperty", "routes"]
        );
        let route = &put["properties"]["routes"][0];
        assert_eq!(keys(route), ["name", "properties"]);
        assert_eq!(keys(&route["properties"]), ["addressPrefix", "nextHopType"]);
        // The table read back as written has nothing unlike what was sent.
        let back = LiveTable::parse(&id, body.to_string().as_bytes()).unwrap();
        assert!(back.unlike_sent(&put, "tagroute-").is_empty());
    }

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
