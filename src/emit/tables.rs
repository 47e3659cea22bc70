//! What discovery found (`tagroute tables`): a line per route table (table), the whole list
//! (JSON), or a starting fleet file for the tables that force-tunnel (TOML), written by the
//! `toml` crate so that no text from Azure can break out of its string.

use std::collections::HashMap;

use serde::Serialize;

use crate::discover::{Refused, TableFacts};
use crate::snapshot::Cloud;
use crate::text::plural;

fn missing(t: &TableFacts) -> String {
    match &t.coverage {
        Some(c) => format!("{} of {}", c.missing_ipv4, c.required_ipv4),
        None => "-".into(),
    }
}

/// Aligned columns, a line per table, notes under them, and a closing line.
pub fn table(found: &[TableFacts], refused: &[Refused]) -> String {
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.subscription.clone(),
                t.resource_group.clone(),
                t.region.clone(),
                t.subnets.join(","),
                format!("{}/{}", t.routes, t.max_routes),
                t.default_hop.clone().unwrap_or_else(|| {
                    if t.bgp_may_tunnel {
                        "BGP?".into()
                    } else {
                        "-".into()
                    }
                }),
                t.managed.to_string(),
                missing(t),
            ]
        })
        .collect();
    let mut out = super::table::columns(
        &[
            "TABLE",
            "SUBSCRIPTION",
            "RESOURCE GROUP",
            "REGION",
            "SUBNETS",
            "ROUTES",
            "DEFAULT HOP",
            "MANAGED",
            "MISSING IPV4",
        ],
        &rows,
    );
    for t in found {
        if let Some(n) = &t.note {
            out.push_str(&format!(
                "note: {}: {}\n",
                t.name,
                crate::text::for_terminal(n)
            ));
        }
    }
    for r in refused {
        out.push_str(&format!(
            "refused: {}: {}\n",
            r.id,
            crate::text::for_terminal(&r.reason)
        ));
    }
    let tunnels = found.iter().filter(|t| t.force_tunnel).count();
    let bgp = found.iter().filter(|t| t.bgp_may_tunnel).count();
    let bgp = match bgp {
        0 => String::new(),
        n => format!(
            " ({} without a default route but open to BGP: unknown, see tagroute check)",
            plural(n, "more")
        ),
    };
    let short = found.iter().filter(|t| t.needs_routes()).count();
    let unread = found.iter().filter(|t| t.unread).count();
    let unjudged = match (refused.len(), unread) {
        (0, 0) => String::new(),
        (r, u) => format!(
            "; {} refused, {} not judged",
            plural(r, "row"),
            plural(u, "table")
        ),
    };
    out.push_str(&format!(
        "\n{}: {tunnels} force-tunnel{bgp}, {short} of them miss required addresses{unjudged}\n",
        plural(found.len(), "route table")
    ));
    out
}

#[derive(Serialize)]
struct Listing<'a> {
    tables: &'a [TableFacts],
    refused: &'a [Refused],
}

/// The whole list, pretty-printed.
pub fn json(found: &[TableFacts], refused: &[Refused]) -> String {
    serde_json::to_string_pretty(&Listing {
        tables: found,
        refused,
    })
    .expect("a listing always serialises")
        + "\n"
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    id: &'a str,
    region: &'a str,
}

#[derive(Serialize)]
struct Defaults<'a> {
    cloud: &'static str,
    /// The profile the tables were judged by, when not the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'a str>,
}

#[derive(Serialize)]
struct FleetFile<'a> {
    defaults: Defaults<'a>,
    table: Vec<Entry<'a>>,
}

/// A fleet file of the tables that force-tunnel (the ones tagroute's routes matter for). A
/// table whose name another shares gets a `name` of its own: the name and its number among
/// them (`rt-spoke-2`), a route name as the fleet file wants.
pub fn toml(found: &[TableFacts], cloud: Cloud, profile: &str) -> String {
    let chosen: Vec<&TableFacts> = found.iter().filter(|t| t.force_tunnel).collect();
    let mut names: HashMap<String, usize> = HashMap::new();
    for t in &chosen {
        *names.entry(t.name.to_ascii_lowercase()).or_default() += 1;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let table = chosen
        .iter()
        .map(|t| {
            let key = t.name.to_ascii_lowercase();
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let name = (names[&key] > 1).then(|| {
                let suffix = format!("-{n}");
                let keep = t.name.len().min(80 - suffix.len());
                format!("{}{suffix}", &t.name[..keep])
            });
            Entry {
                name,
                id: &t.id,
                region: &t.region,
            }
        })
        .collect();
    let file = FleetFile {
        defaults: Defaults {
            cloud: cloud.short_name(),
            profile: (profile != crate::profile::DEFAULT_PROFILE).then_some(profile),
        },
        table,
    };
    let body = ::toml::to_string(&file).expect("a fleet file always serialises");
    format!(
        "# tagroute fleet file: {} that force-tunnel, found by `tagroute tables`.\n\
         # Every plan option may be set under [defaults] or per [[table]] (see the README).\n\n{body}",
        plural(chosen.len(), "route table")
    )
}
