//! Finding the route tables of whole subscriptions through Azure Resource Graph, and judging
//! each as it is: where it is, what it is attached to, how full it is, whether it forces
//! traffic through a tunnel, how many routes tagroute manages, and how many addresses of its
//! region's `BatchNodeManagement` and `AzureMachineLearning` tags it does not send to Internet
//! (the estate-wide drift check, from the current file). Every row of the answer is outside
//! input: ids are held to the route table id grammar and routes to the route grammar, and a row
//! that breaks them is reported, not trusted.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::arm::{ArmClient, ArmError, RouteTableId};
use crate::coverage::{Coverage, coverage};
use crate::diff::has_name_prefix;
use crate::model::AZURE_MAX_ROUTES;
use crate::prefix::Family;
use crate::routes::{self, Destination, RouteTable};
use crate::select;
use crate::snapshot::Snapshot;

/// The query: every route table of the subscriptions, in a stable order for paging.
pub const QUERY: &str = "Resources | where type =~ 'microsoft.network/routetables' | project id, \
name, location, subscriptionId, resourceGroup, properties | order by id asc";

/// Most pages followed (of up to 1,000 rows each).
pub(crate) const MAX_PAGES: usize = 1000;

/// Why discovery stopped.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(transparent)]
    Arm(#[from] ArmError),
    #[error("Azure Resource Graph's answer is not a page of rows")]
    Shape(#[source] serde_json::Error),
    #[error("Azure Resource Graph gave more than {MAX_PAGES} pages")]
    TooManyPages,
    #[error("Azure Resource Graph gave a $skipToken it had given before: stopped paging")]
    Loop,
    #[error("discovery did not finish within {secs} s (the operation timeout)")]
    Deadline { secs: u64 },
}

/// A route table as Resource Graph holds it.
pub struct Found {
    pub id: RouteTableId,
    pub location: String,
    /// Ids of the subnets it is attached to.
    pub subnets: Vec<String>,
    /// Its routes, or why they could not be read.
    pub table: Result<RouteTable, String>,
    /// Its `disableBgpRoutePropagation`, when the row says.
    pub disable_bgp: Option<bool>,
}

/// A row of the answer that is no route table tagroute can read.
#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    pub id: String,
    pub reason: String,
}

/// Every route table of `subscriptions`, following the answer's pages, all within `within`
/// (the pages, their retries and the quota's waits).
///
/// A row is refused (and named) when it is off the grammar, when its subscription is not one of
/// `subscriptions` (Resource Graph answers for what it was asked; a row of another is not
/// trusted), or when it names a table an earlier row named (ids compared without case, as Azure
/// compares them). Paging stops with an error at any `$skipToken` given before.
///
/// ```no_run
/// use tagroute::arm::{ArmClient, ArmOptions, CredentialSource, Tokens};
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let endpoint = "https://management.azure.com/".parse()?;
/// let token = Tokens::new(CredentialSource::Sdk(tagroute::snapshot::Cloud::Public));
/// let mut client = ArmClient::new(endpoint, token, ArmOptions::default())?;
/// let subscriptions = ["0b1f6471-1bf0-4dda-aec3-cb9272f09590".to_owned()];
/// let within = std::time::Duration::from_secs(600);
/// let (found, refused) = tagroute::discover::route_tables(&mut client, &subscriptions, within).await?;
/// println!("{} route tables, {} rows refused", found.len(), refused.len());
/// # Ok(())
/// # }
/// ```
pub async fn route_tables(
    client: &mut ArmClient,
    subscriptions: &[String],
    within: std::time::Duration,
) -> Result<(Vec<Found>, Vec<Refused>), DiscoverError> {
    let mut seen = std::collections::HashSet::new();
    graph_rows(client, subscriptions, QUERY, within, |row| {
        let f = read_row(row)?;
        asked_for(
            (&f.id.subscription, &f.id.to_string()),
            "route table",
            subscriptions,
            &mut seen,
        )?;
        Ok(f)
    })
    .await
}

/// Every row of `query` over `subscriptions`, each read by `read` (a row it refuses is named,
/// not trusted), following the answer's pages within `within` (the pages, their retries and
/// the quota's waits). Paging stops with an error at any `$skipToken` given before.
pub(crate) async fn graph_rows<T>(
    client: &mut ArmClient,
    subscriptions: &[String],
    query: &str,
    within: std::time::Duration,
    mut read: impl FnMut(&Value) -> Result<T, Refused>,
) -> Result<(Vec<T>, Vec<Refused>), DiscoverError> {
    let deadline = tokio::time::Instant::now() + within;
    let late = || DiscoverError::Deadline {
        secs: within.as_secs(),
    };
    let (mut found, mut refused) = (Vec::new(), Vec::new());
    let mut seen_tokens: std::collections::HashSet<String> = Default::default();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let answer = tokio::time::timeout_at(
            deadline,
            client.graph_page(subscriptions, query, token.as_deref()),
        )
        .await
        .map_err(|_| late())??;
        let page = Page::deserialize(&answer.page).map_err(DiscoverError::Shape)?;
        for row in &page.data {
            match read(row) {
                Ok(f) => found.push(f),
                Err(r) => refused.push(r),
            }
        }
        match page.skip_token.filter(|t| !t.is_empty()) {
            Some(next) if !seen_tokens.insert(next.clone()) => return Err(DiscoverError::Loop),
            Some(next) => {
                // The quota is spent: wait for it rather than be throttled.
                if let Some(wait) = answer.wait {
                    if tokio::time::Instant::now() + wait > deadline {
                        return Err(late());
                    }
                    tokio::time::sleep(wait).await;
                }
                token = Some(next);
            }
            None => return Ok((found, refused)),
        }
    }
    Err(DiscoverError::TooManyPages)
}

/// Refuses a row whose subscription was not asked for, or that names a resource an earlier row
/// named (ids compared without case, as Azure compares them).
pub(crate) fn asked_for(
    (subscription, id): (&str, &str),
    what: &str,
    subscriptions: &[String],
    seen: &mut std::collections::HashSet<String>,
) -> Result<(), Refused> {
    let refuse = |reason: String| Refused {
        id: crate::text::for_terminal(id).into_owned(),
        reason,
    };
    if !subscriptions
        .iter()
        .any(|s| s.eq_ignore_ascii_case(subscription))
    {
        return Err(refuse(format!(
            "subscription {} was not asked for",
            crate::text::for_terminal(subscription)
        )));
    }
    if !seen.insert(id.to_ascii_lowercase()) {
        return Err(refuse(format!(
            "the same {what} as an earlier row (ids compared without case)"
        )));
    }
    Ok(())
}

/// A page of Resource Graph's answer (`QueryResponse` in the REST specification): its rows, each
/// read on its own so that one bad row refuses only itself, and the token of the next page.
#[derive(Deserialize)]
struct Page {
    data: Vec<Value>,
    #[serde(rename = "$skipToken")]
    skip_token: Option<String>,
}

/// A row of the answer, as [`QUERY`] projects it (the other columns are not read).
#[derive(Deserialize)]
struct Row {
    id: String,
    location: Option<String>,
    properties: Option<RowProperties>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RowProperties {
    subnets: Option<Vec<SubnetRef>>,
    disable_bgp_route_propagation: Option<bool>,
    /// Read as the route grammar reads any table's routes.
    routes: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct SubnetRef {
    id: String,
}

fn read_row(row: &Value) -> Result<Found, Refused> {
    let id_text = row.get("id").and_then(Value::as_str).unwrap_or_default();
    let refuse = |reason: String| Refused {
        id: crate::text::for_terminal(id_text).into_owned(),
        reason,
    };
    let row: Row = serde_path_to_error::deserialize(row)
        .map_err(|e| refuse(format!("{}: {}", e.path(), e.inner())))?;
    let id: RouteTableId = row.id.parse().map_err(|e| refuse(format!("{e}")))?;
    let location = row.location.unwrap_or_default();
    crate::text::check_label(&location).map_err(|e| refuse(format!("location: {e}")))?;
    let props = row.properties;
    let (subnets, list, disable_bgp) = props.map_or((None, None, None), |p| {
        (p.subnets, p.routes, p.disable_bgp_route_propagation)
    });
    let subnets = subnets
        .unwrap_or_default()
        .iter()
        .map(|s| crate::text::for_terminal(&s.id).into_owned())
        .collect();
    let table = routes::parse_list(&id.name, &list.unwrap_or_default()).map_err(|e| e.to_string());
    Ok(Found {
        id,
        location,
        subnets,
        table,
        disable_bgp,
    })
}

/// What a table is, as found.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableFacts {
    pub id: String,
    pub name: String,
    pub subscription: String,
    pub resource_group: String,
    pub region: String,
    /// The subnets it is attached to, as `vnet/subnet`.
    pub subnets: Vec<String>,
    pub routes: usize,
    /// Azure's limit of routes per table.
    pub max_routes: usize,
    /// The next hop of its `0.0.0.0/0` route, when it has one.
    pub default_hop: Option<String>,
    /// It has a `0.0.0.0/0` route to somewhere other than Internet.
    pub force_tunnel: bool,
    /// It has no `0.0.0.0/0` route and lets BGP routes in (`disableBgpRoutePropagation` not
    /// true): a gateway advertising `0.0.0.0/0` would force-tunnel it, which only the subnet's
    /// effective routes tell (`tagroute check --effective-routes`). Neither forced nor free.
    pub bgp_may_tunnel: bool,
    /// Routes named with the name prefix.
    pub managed: usize,
    /// The region's required tags in the file.
    pub tags: Vec<String>,
    /// How much of them the table sends to Internet; `None` with `note` saying why not.
    pub coverage: Option<Coverage>,
    pub note: Option<String>,
    /// Its routes could not be read, so it was not judged.
    #[serde(skip)]
    pub unread: bool,
}

impl TableFacts {
    /// True when the table force-tunnels and misses required IPv4 addresses (IPv4 is what
    /// plans route unless asked otherwise; the IPv6 figures are in `coverage`).
    pub fn needs_routes(&self) -> bool {
        self.force_tunnel && self.coverage.as_ref().is_some_and(|c| c.missing_ipv4 > 0)
    }
}

/// Judges a found table against `snapshot` (the file of its cloud).
pub fn judge(
    found: &Found,
    snapshot: &Snapshot,
    name_prefix: &str,
    profile: &crate::profile::Profile,
) -> TableFacts {
    let mut facts = TableFacts {
        id: found.id.to_string(),
        name: found.id.name.clone(),
        subscription: found.id.subscription.clone(),
        resource_group: found.id.resource_group.clone(),
        region: found.location.clone(),
        subnets: found.subnets.iter().map(|s| subnet_name(s)).collect(),
        routes: 0,
        max_routes: AZURE_MAX_ROUTES,
        default_hop: None,
        force_tunnel: false,
        bgp_may_tunnel: false,
        managed: 0,
        tags: Vec::new(),
        coverage: None,
        note: None,
        unread: false,
    };
    let table = match &found.table {
        Ok(t) => t,
        Err(e) => {
            facts.unread = true;
            facts.note = Some(format!("its routes cannot be read: {e}"));
            return facts;
        }
    };
    facts.routes = table.routes.len();
    if let Some(refused) = crate::diff::refused_tag_routes(snapshot, table)
        .into_iter()
        .next()
    {
        facts.note = Some(refused);
    }
    facts.managed = table
        .routes
        .iter()
        .filter(|r| has_name_prefix(&r.name, name_prefix))
        .count();
    let default = table.routes.iter().find(|r| {
        matches!(&r.destination, Destination::Prefix(p) if p.is_default() && p.family() == Family::V4)
    });
    match default {
        Some(d) => {
            facts.default_hop = Some(d.next_hop.to_string());
            facts.force_tunnel = d.next_hop != crate::model::NextHop::Internet;
        }
        None => facts.bgp_may_tunnel = found.disable_bgp != Some(true),
    }
    let region = match select::resolve_region(snapshot, &found.location) {
        Ok(r) => r,
        Err(e) => {
            facts.note = Some(format!("no required tags: {e}"));
            return facts;
        }
    };
    let required = profile.route_tags(snapshot, &region);
    let tags: Vec<_> = required.tags.iter().map(|&i| &snapshot.tags[i]).collect();
    facts.tags = tags.iter().map(|t| t.name.clone()).collect();
    if !required.missing.is_empty() {
        facts.note = Some(format!(
            "the file has no {}",
            required.missing.join(" nor ")
        ));
    }
    match coverage(snapshot, table, &tags) {
        Ok(c) => facts.coverage = Some(c),
        Err(e) => facts.note = Some(e.to_string()),
    }
    facts
}

/// `vnet/subnet` of a subnet id, else the id.
fn subnet_name(id: &str) -> String {
    let parts: Vec<&str> = id.split('/').collect();
    match parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("virtualNetworks"))
    {
        Some(i) if parts.len() > i + 3 => format!("{}/{}", parts[i + 1], parts[i + 3]),
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt";

    /// A row of Resource Graph is outside input: an id or location off the grammar is refused
    /// and named; routes that break the route grammar leave the table found but unread.
    #[test]
    fn rows_off_the_grammar_are_refused_or_unread() {
        let row = |id: &str, location: &str, routes: Value| {
            json!({"id": id, "location": location, "properties": {"routes": routes,
                "subnets": [{"id": format!("{ID}/../virtualNetworks/vnet/subnets/aml")}]}})
        };
        let bad_id = read_row(&row("/subscriptions/x/rt", "eastus", json!([])))
            .err()
            .unwrap();
        assert!(
            bad_id.reason.contains("expected /subscriptions/"),
            "{}",
            bad_id.reason
        );
        let bad_location = read_row(&row(ID, "east\nus", json!([]))).err().unwrap();
        assert!(
            bad_location.reason.starts_with("location: "),
            "{}",
            bad_location.reason
        );
        let typed = read_row(&json!({"id": ID, "location": 5})).err().unwrap();
        assert_eq!(
            typed.reason,
            "location: invalid type: integer `5`, expected a string"
        );
        assert!(read_row(&json!({"location": "eastus"})).is_err());
        let bad_route =
            json!([{"name": "r t", "addressPrefix": "10.0.0.0/8", "nextHopType": "Internet"}]);
        let found = read_row(&row(ID, "eastus", bad_route)).ok().unwrap();
        assert!(found.table.is_err());
        assert_eq!(subnet_name(&found.subnets[0]), "vnet/aml");
        let good = json!([{"name": "default", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}}]);
        let found = read_row(&row(ID, "eastus", good)).ok().unwrap();
        assert_eq!(found.table.unwrap().routes.len(), 1);
    }

    /// A table without a default route is force-tunnelled by nobody it names, but BGP may do it
    /// unless the table disables BGP propagation.
    #[test]
    fn a_table_open_to_bgp_is_neither_forced_nor_free() {
        let snap =
            crate::snapshot::parse("s", br#"{"changeNumber":1,"cloud":"Public","values":[]}"#)
                .unwrap();
        let profile = crate::profile::by_name(crate::profile::DEFAULT_PROFILE).unwrap();
        let onprem = json!([{"name": "onprem", "properties": {"addressPrefix": "10.0.0.0/8", "nextHopType": "VirtualNetworkGateway"}}]);
        for (disable, open) in [
            (json!(false), true),
            (Value::Null, true),
            (json!(true), false),
        ] {
            let row = json!({"id": ID, "location": "eastus", "properties": {"routes": onprem, "disableBgpRoutePropagation": disable}});
            let found = read_row(&row).ok().unwrap();
            let facts = judge(&found, &snap, "tagroute-", profile);
            assert!(!facts.force_tunnel);
            assert_eq!(facts.bgp_may_tunnel, open, "{disable}");
        }
    }
}
