//! The estate: every subnet of some subscriptions, found through Azure Resource Graph, each read
//! live through Resource Manager and judged against one profile, a few at a time. A subnet that
//! cannot be read or whose region the file lacks is reported with why, beside the others.
//!
//! Resource Graph holds a virtual network's subnets under `properties.subnets`, as the network's
//! `GET` answers them (the REST specification's `VirtualNetworkGet.json`, API 2025-07-01);
//! `mv-expand` makes one row of each (Microsoft Learn, "Understanding the Azure Resource Graph
//! query language", `articles/governance/resource-graph/concepts/query-language.md`). Every row is
//! outside input: ids are held to the subnet id grammar, and rows of subscriptions not asked for
//! or named twice are refused.

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;

use super::{Report, Verdict};
use crate::arm::{ArmClient, NetworkId, NetworkKind};
use crate::discover::{DiscoverError, Refused, asked_for, graph_rows};
use crate::profile::Profile;
use crate::snapshot::Snapshot;

/// One row per subnet of every virtual network, in a stable order for paging.
pub(crate) const SUBNET_QUERY: &str = "Resources | where type =~ 'microsoft.network/virtualnetworks' \
| mv-expand subnet = properties.subnets | project id = tostring(subnet.id), location, \
subscriptionId | order by id asc";

/// Subnets that host Azure's own infrastructure, never compute: not judged. The names are the
/// ones each service requires (Microsoft Learn, MicrosoftDocs/azure-docs, page date and commit
/// read):
/// - GatewaySubnet: `articles/vpn-gateway/vpn-gateway-about-vpn-gateway-settings.md`, "Gateway
///   subnet" ("must be named 'GatewaySubnet' to work properly"), ms.date 2020-09-16, 00e046f;
/// - RouteServerSubnet: `articles/route-server/quickstart-create-route-server-portal.md` ("The
///   subnet must be named RouteServerSubnet"), ms.date 2025-09-17, 0b8729e;
/// - AzureFirewallSubnet and AzureFirewallManagementSubnet:
///   `articles/firewall/forced-tunneling.md`, ms.date 2020-02-18, 0f6aa71;
/// - AzureBastionSubnet: `articles/bastion/configuration-settings.md`, "Azure Bastion subnet"
///   ("Subnet name must be AzureBastionSubnet"), ms.date 2021-10-12, 0089f18.
const INFRASTRUCTURE: [&str; 5] = [
    "GatewaySubnet",
    "RouteServerSubnet",
    "AzureFirewallSubnet",
    "AzureFirewallManagementSubnet",
    "AzureBastionSubnet",
];

/// A subnet found, with the region of its virtual network when the finder knows it, and what
/// it must be judged against.
#[derive(Clone, Debug)]
pub struct EstateSubnet {
    pub id: NetworkId,
    pub location: Option<String>,
    /// One judgement each: the profile (none: the one given) and the compute that needs it.
    pub needs: Vec<Need>,
}

/// A profile a subnet must meet, and the compute found there that needs it.
#[derive(Clone, Debug)]
pub struct Need {
    pub profile: Option<&'static str>,
    pub hosts: Vec<String>,
}

/// The subnets of `hosted` compute, each once with the profiles its compute needs, in the
/// order found.
pub fn hosting(hosted: Vec<super::compute::Hosted>) -> Vec<EstateSubnet> {
    let mut out: Vec<EstateSubnet> = Vec::new();
    for h in hosted {
        let key = h.subnet.to_string();
        let at = match out
            .iter()
            .position(|s| s.id.to_string().eq_ignore_ascii_case(&key))
        {
            Some(at) => at,
            None => {
                out.push(EstateSubnet {
                    id: h.subnet,
                    location: None,
                    needs: Vec::new(),
                });
                out.len() - 1
            }
        };
        let needs = &mut out[at].needs;
        match needs.iter_mut().find(|n| n.profile == Some(h.profile)) {
            Some(n) => n.hosts.push(h.compute),
            None => needs.push(Need {
                profile: Some(h.profile),
                hosts: vec![h.compute],
            }),
        }
    }
    out
}

/// Every subnet of `subscriptions` but the infrastructure ones, and the rows refused.
pub async fn subnets(
    client: &mut ArmClient,
    subscriptions: &[String],
    within: std::time::Duration,
) -> Result<(Vec<EstateSubnet>, Vec<Refused>), DiscoverError> {
    let mut seen = std::collections::HashSet::new();
    let (found, refused) = graph_rows(client, subscriptions, SUBNET_QUERY, within, |row| {
        let text = row.get("id").and_then(Value::as_str).unwrap_or_default();
        let refuse = |reason: String| Refused {
            id: crate::text::for_terminal(text).into_owned(),
            reason,
        };
        let id =
            NetworkId::parse_as(text, NetworkKind::Subnet).map_err(|e| refuse(e.to_string()))?;
        let location = row
            .get("location")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        crate::text::check_label(&location).map_err(|e| refuse(format!("location: {e}")))?;
        asked_for(
            (&id.subscription, &id.to_string()),
            "subnet",
            subscriptions,
            &mut seen,
        )?;
        Ok(EstateSubnet {
            id,
            location: Some(location),
            needs: vec![Need {
                profile: None,
                hosts: Vec::new(),
            }],
        })
    })
    .await?;
    let found = found
        .into_iter()
        .filter(|s| {
            let name = s.id.subnet.as_deref().unwrap_or_default();
            !INFRASTRUCTURE.iter().any(|i| i.eq_ignore_ascii_case(name))
        })
        .collect();
    Ok((found, refused))
}

/// Why the estate's subnets could not be found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(transparent)]
    Graph(#[from] DiscoverError),
    #[error(transparent)]
    Arm(#[from] crate::arm::ArmError),
}

/// The subnets to judge: with `every_subnet`, every subnet of `subscriptions` that Resource
/// Graph names (within `within`); else those that host Azure ML compute or Batch pools, each
/// with the profiles its compute needs. Also the rows of the answers that were refused.
pub async fn find(
    client: &mut ArmClient,
    subscriptions: &[String],
    every_subnet: bool,
    within: std::time::Duration,
) -> Result<(Vec<EstateSubnet>, Vec<Refused>), FindError> {
    Ok(if every_subnet {
        subnets(client, subscriptions, within).await?
    } else {
        let (hosted, refused) = super::compute::hosted(client, subscriptions).await?;
        (hosting(hosted), refused)
    })
}

/// An estate judged: each subnet's judgement, and the rows of the answers that were refused
/// (nothing can be said of them). Its JSON is what `check --subscription --format json` prints.
#[derive(Debug, Serialize)]
pub struct Estate {
    pub subnets: Vec<Judged>,
    pub refused: Vec<Refused>,
}

impl Estate {
    /// How many rows were refused and subnets not judged, when any were: then nothing can be
    /// said of them, and the estate's answer is incomplete.
    pub fn incomplete(&self) -> Option<(usize, usize)> {
        let unjudged = self.subnets.iter().filter(|j| j.verdict.is_none()).count();
        (!self.refused.is_empty() || unjudged > 0).then_some((self.refused.len(), unjudged))
    }

    /// Every subnet judged `ok`.
    pub fn all_ok(&self) -> bool {
        self.subnets.iter().all(|j| j.verdict == Some(Verdict::Ok))
    }
}

/// One subnet's judgement, or why there is none.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judged {
    pub id: String,
    pub location: String,
    /// The profile judged: the one its compute needs, or the one given.
    pub profile: String,
    /// The compute found in the subnet (none when every subnet is judged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// `None` when the subnet could not be judged (see `error`).
    pub verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// Reads each subnet once and judges it against each profile it needs (`profile` where it
/// names none), `jobs` subnets at a time, in the order given: one judgement per need. What
/// subnets share (a virtual network, a route table, an NSG) is read once for all of them.
pub async fn judge(
    client: &ArmClient,
    snapshot: &Snapshot,
    profile: &Profile,
    subnets: Vec<EstateSubnet>,
    public_ip: bool,
    jobs: usize,
) -> Vec<Judged> {
    let shared = super::live::Shared::default();
    let per_subnet: Vec<Vec<Judged>> = stream::iter(subnets)
        .map(|s| {
            let mut client = client.sharing();
            let shared = &shared;
            async move {
                let read =
                    super::live::read_sharing(&mut client, snapshot, &s.id, None, shared).await;
                // The region the finder gave, else the virtual network's own.
                let location = s
                    .location
                    .clone()
                    .or_else(|| {
                        read.as_ref()
                            .ok()
                            .and_then(|r| r.vnet.as_ref()?.location.clone())
                    })
                    .unwrap_or_default();
                let region = crate::select::resolve_region(snapshot, &location);
                s.needs
                    .iter()
                    .map(|need| {
                        let mut judged = Judged {
                            id: s.id.to_string(),
                            location: location.clone(),
                            profile: need.profile.unwrap_or(&profile.name).to_owned(),
                            hosts: need.hosts.clone(),
                            verdict: None,
                            error: None,
                            report: None,
                        };
                        let needed = match need.profile {
                            Some(name) => crate::profile::by_name(name),
                            None => Ok(profile),
                        };
                        match (&read, &region, needed) {
                            (Err(e), _, _) => {
                                judged.error =
                                    Some(crate::text::for_terminal(&e.to_string()).into_owned());
                            }
                            (_, Err(e), _) => judged.error = Some(e.to_string()),
                            (_, _, Err(e)) => judged.error = Some(e.to_string()),
                            (Ok(read), Ok(region), Ok(needed)) => {
                                let inputs = read.inputs(snapshot, needed, region, &[], public_ip);
                                let report = super::check(&inputs);
                                judged.verdict = Some(report.verdict());
                                judged.report = Some(report);
                            }
                        }
                        judged
                    })
                    .collect()
            }
        })
        .buffered(jobs.max(1))
        .collect()
        .await;
    per_subnet.into_iter().flatten().collect()
}
