//! Route tables that already exist, in the shapes Azure tools print them.
//!
//! Accepted: the array of `az network route-table route list -o json`; the object of
//! `az network route-table show -o json` (routes under `routes`); the ARM REST shape (each route's
//! fields under `properties`, the list possibly inside `{"value": [...]}` or a route table's
//! `properties.routes`); and `tagroute plan --format json`. A route's destination is an IP prefix
//! or, as Azure allows, a service-tag name. This module only reads and validates; planning and
//! comparison live elsewhere.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

pub use crate::model::Destination;
use crate::model::{NextHop, RouteWire};
use crate::prefix::IpPrefix;
use crate::snapshot::{self, LoadError};

/// A route read from an existing table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingRoute {
    pub name: String,
    pub destination: Destination,
    pub next_hop: NextHop,
}

impl Serialize for ExistingRoute {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RouteWire::new(&self.name, &self.destination, &self.next_hop).serialize(s)
    }
}

/// A route table read from a file or stdin.
#[derive(Clone, Debug)]
pub struct RouteTable {
    pub source: String,
    pub routes: Vec<ExistingRoute>,
}

/// Why a route table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RoutesError {
    #[error(transparent)]
    Read(#[from] LoadError),
    #[error("{source_name}: not JSON: {msg}")]
    NotJson { source_name: String, msg: String },
    #[error(
        "{source_name}: unknown route table shape: expected an array of routes, an object with \
         `routes`, `value` or `properties.routes`, or `tagroute plan --format json` output"
    )]
    UnknownShape { source_name: String },
    #[error("{source_name}: route {which}: {msg}")]
    BadRoute {
        source_name: String,
        which: String,
        msg: String,
    },
}

/// Reads a route table from a path, or stdin for `-`.
pub fn load(path: &str) -> Result<RouteTable, RoutesError> {
    let bytes = snapshot::read_source(path)?;
    parse(&snapshot::source_name(path), &bytes)
}

/// Parses a route table already in memory.
pub fn parse(source_name: &str, bytes: &[u8]) -> Result<RouteTable, RoutesError> {
    from_value(source_name, &read_json(source_name, bytes)?)
}

/// A route table's file read as JSON, for [`from_value`] and whatever else it holds.
pub fn read_json(source_name: &str, bytes: &[u8]) -> Result<Value, RoutesError> {
    crate::json::parse(bytes).map_err(|e| RoutesError::NotJson {
        source_name: source_name.to_owned(),
        msg: e.to_string(),
    })
}

/// A route table already parsed as JSON (the az CLI's shape or Resource Manager's).
pub fn from_value(source_name: &str, doc: &Value) -> Result<RouteTable, RoutesError> {
    let list = find_routes(doc).ok_or_else(|| RoutesError::UnknownShape {
        source_name: source_name.to_owned(),
    })?;
    parse_list(source_name, list)
}

/// Reads a list of routes (each in the az CLI's flat shape or the REST shape), names checked and
/// unique.
pub(crate) fn parse_list(source_name: &str, list: &[Value]) -> Result<RouteTable, RoutesError> {
    let mut routes: Vec<ExistingRoute> = Vec::with_capacity(list.len());
    let mut seen = std::collections::HashMap::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let route = parse_route(item).map_err(|(which, msg)| RoutesError::BadRoute {
            source_name: source_name.to_owned(),
            which: which.unwrap_or_else(|| format!("#{i}")),
            msg,
        })?;
        if let Some(&other) = seen.get(&route.name.to_ascii_lowercase()) {
            let other: &ExistingRoute = &routes[other];
            return Err(RoutesError::BadRoute {
                source_name: source_name.to_owned(),
                which: format!("'{}'", route.name),
                msg: format!("name used twice (also '{}')", other.name),
            });
        }
        seen.insert(route.name.to_ascii_lowercase(), routes.len());
        routes.push(route);
    }
    Ok(RouteTable {
        source: source_name.to_owned(),
        routes,
    })
}

fn find_routes(doc: &Value) -> Option<&Vec<Value>> {
    match doc {
        Value::Array(list) => Some(list),
        Value::Object(o) => o
            .get("routes")
            .and_then(Value::as_array)
            .or_else(|| o.get("value").and_then(Value::as_array))
            .or_else(|| {
                o.get("properties")
                    .and_then(|p| p.get("routes"))
                    .and_then(Value::as_array)
            }),
        _ => None,
    }
}

/// A route's fields as Azure's tools print them: beside its `name` (the az CLI's flat shape)
/// or under its `properties` (the REST shape). Other fields (`etag`, `id`,
/// `provisioningState`, ...) are not read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteFields {
    address_prefix: Option<String>,
    next_hop_type: Option<String>,
    /// `null` when the next hop is not an appliance.
    next_hop_ip_address: Option<String>,
    /// An ECMP route's appliances (network API 2025-07-01); `null` or absent otherwise.
    next_hop: Option<EcmpHop>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcmpHop {
    next_hop_ip_addresses: Option<Vec<String>>,
}

/// One route; the error carries the route's name when it has one.
fn parse_route(item: &Value) -> Result<ExistingRoute, (Option<String>, String)> {
    let name = item.get("name").and_then(Value::as_str).map(str::to_owned);
    let fail = |msg: String| (name.as_deref().map(crate::text::quoted), msg);
    let obj = item
        .as_object()
        .ok_or_else(|| fail("not an object".into()))?;
    let name = name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| fail("has no name".into()))?;
    // Azure's own tables never break its naming rules; a name that does is refused before it
    // can reach a script.
    crate::model::check_route_name(&name).map_err(|e| fail(e.to_string()))?;
    let nested = obj
        .get("properties")
        .filter(|p| p.get("addressPrefix").is_some() || p.get("nextHopType").is_some());
    let fields: RouteFields = serde_path_to_error::deserialize(nested.unwrap_or(item))
        .map_err(|e| fail(format!("{}: {}", e.path(), e.inner())))?;
    let prefix_text = fields
        .address_prefix
        .ok_or_else(|| fail("has no addressPrefix".into()))?;
    let destination = destination(&prefix_text).map_err(fail)?;
    let hop_type = fields
        .next_hop_type
        .ok_or_else(|| fail("has no nextHopType".into()))?;
    let ecmp: Option<Vec<&str>> = fields
        .next_hop
        .as_ref()
        .and_then(|h| h.next_hop_ip_addresses.as_ref())
        .map(|list| list.iter().map(String::as_str).collect());
    let next_hop = NextHop::from_fields(
        &hop_type,
        fields.next_hop_ip_address.as_deref(),
        ecmp.as_deref(),
    )
    .map_err(fail)?;
    Ok(ExistingRoute {
        name,
        destination,
        next_hop,
    })
}

/// An IP prefix, or a service-tag name (letters first, no `/` or `:`).
fn destination(text: &str) -> Result<Destination, String> {
    let text = text.trim();
    let looks_like_tag = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && crate::text::check_tag_name(text).is_ok();
    if looks_like_tag {
        return Ok(Destination::ServiceTag(text.to_owned()));
    }
    IpPrefix::parse(text)
        .map(Destination::Prefix)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &RouteTable) -> Vec<(String, String, String)> {
        t.routes
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.destination.to_string(),
                    r.next_hop.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn reads_every_shape_alike() {
        let flat = r#"[{"name":"a","addressPrefix":"10.0.0.0/8","nextHopType":"VirtualAppliance","nextHopIpAddress":"10.1.0.4","etag":"x"},
                      {"name":"b","addressPrefix":"AzureCloud.eastus","nextHopType":"Internet","nextHopIpAddress":null}]"#;
        let nested = r#"[{"name":"a","properties":{"addressPrefix":"10.0.0.0/8","nextHopType":"VirtualAppliance","nextHopIpAddress":"10.1.0.4"}},
                        {"name":"b","properties":{"addressPrefix":"AzureCloud.eastus","nextHopType":"Internet"}}]"#;
        let want = names(&parse("t", flat.as_bytes()).unwrap());
        assert_eq!(
            want[0],
            (
                "a".into(),
                "10.0.0.0/8".into(),
                "VirtualAppliance 10.1.0.4".into()
            )
        );
        assert_eq!(want[1].1, "AzureCloud.eastus");
        for doc in [
            format!(r#"{{"name":"rt","routes":{flat}}}"#),
            format!(r#"{{"value":{nested}}}"#),
            format!(r#"{{"name":"rt","properties":{{"routes":{nested}}}}}"#),
            nested.to_owned(),
        ] {
            assert_eq!(names(&parse("t", doc.as_bytes()).unwrap()), want, "{doc}");
        }
    }

    fn err(doc: &str) -> String {
        parse("t.json", doc.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_route() {
        assert!(err("{\"x\":1}").starts_with("t.json: unknown route table shape"));
        assert!(err("[").starts_with("t.json: not JSON"));
        assert_eq!(
            err(r#"[{"name":"fw","addressPrefix":"0.0.0.0/0","nextHopType":"VirtualAppliance"}]"#),
            "t.json: route 'fw': next hop VirtualAppliance needs nextHopIpAddress"
        );
        assert!(
            err(r#"[{"name":"x","addressPrefix":"10.0.0.1/8","nextHopType":"Internet"}]"#)
                .contains("route 'x': '10.0.0.1/8' has host bits")
        );
        assert!(
            err(r#"[{"name":"x","addressPrefix":"300.0.0.0/8","nextHopType":"Internet"}]"#)
                .contains("route 'x': '300.0.0.0/8' is not a valid")
        );
        assert!(
            err(r#"[{"name":"x","addressPrefix":"1.0.0.0/8","nextHopType":"Wormhole"}]"#)
                .contains("unknown next hop type 'Wormhole'")
        );
        assert!(
            err(r#"[{"addressPrefix":"1.0.0.0/8","nextHopType":"Internet"}]"#)
                .contains("route #0: has no name")
        );
        assert_eq!(
            err(
                r#"[{"name":"x","addressPrefix":"1.0.0.0/8","nextHopType":"Internet","nextHopIpAddress":5}]"#
            ),
            "t.json: route 'x': nextHopIpAddress: invalid type: integer `5`, expected a string"
        );
        assert!(
            err(r#"[{"name":"x","properties":{"addressPrefix":"1.0.0.0/8","nextHopType":"VirtualAppliance","nextHop":{"nextHopIpAddresses":["10.0.0.4",7]}}}]"#)
                .contains("route 'x': nextHop.nextHopIpAddresses[1]: invalid type: integer `7`")
        );
        assert!(err(r#"[{"name":"a","addressPrefix":"1.0.0.0/8","nextHopType":"Internet"},{"name":"A","addressPrefix":"2.0.0.0/8","nextHopType":"Internet"}]"#).contains("name used twice"));
    }
}
