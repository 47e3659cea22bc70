//! The compute of an estate: which subnets host Azure Machine Learning compute or Batch pools,
//! and so which profile each needs, read through Resource Manager's lists.
//!
//! - Azure ML: the workspaces of a subscription (`GET /subscriptions/S/providers/
//!   Microsoft.MachineLearningServices/workspaces`), then each workspace's computes (`GET
//!   …/computes`, the REST specification's `Compute/list.json`, API 2025-09-01). A compute
//!   cluster (`AmlCompute`) or compute instance (`ComputeInstance`) in a virtual network names it
//!   in `properties.properties.subnet.id`, and `properties.properties.enableNodePublicIp`
//!   (default `true`, `BasicAmlCompute.json`) picks `aml-public-ip` or `aml-no-public-ip`.
//! - Batch: the accounts of a subscription (`GET /subscriptions/S/providers/Microsoft.Batch/
//!   batchAccounts`), then each account's pools (`GET …/pools`, API 2024-07-01): a pool in a
//!   virtual network names it in `properties.networkConfiguration.subnetId` (the REST
//!   specification's `BatchAccountList.json`, `PoolList.json` and
//!   `PoolCreate_NoPublicIPAddresses.json`, Microsoft.Batch 2024-07-01, commits 1eb311c,
//!   39af660, 3ecc209); it needs
//!   `batch-simplified` (classic node communication was retired on 31 March 2026).
//!
//! Every item is outside input: an id that is not of the subscription asked for, or not of the
//! grammar, is refused and named; nothing is read from it.

use serde_json::Value;

use crate::arm::{ArmClient, ArmError, NetworkId, NetworkKind};
use crate::discover::Refused;

const ML_API: &str = "2025-09-01";
const BATCH_API: &str = "2024-07-01";

/// A subnet that hosts compute, the profile it needs, and the compute found there.
#[derive(Clone, Debug)]
pub struct Hosted {
    pub subnet: NetworkId,
    pub profile: &'static str,
    pub compute: String,
}

/// Every compute of `subscriptions` in a virtual network, and the items refused.
pub async fn hosted(
    client: &mut ArmClient,
    subscriptions: &[String],
) -> Result<(Vec<Hosted>, Vec<Refused>), ArmError> {
    let (mut found, mut refused) = (Vec::new(), Vec::new());
    for sub in subscriptions {
        let providers =
            |namespace, kind| ["subscriptions", sub.as_str(), "providers", namespace, kind];
        let workspaces = client
            .list(
                "listing Azure ML workspaces",
                &providers("Microsoft.MachineLearningServices", "workspaces"),
                ML_API,
            )
            .await?;
        for ws in &workspaces {
            let Some(path) = owned(
                ws,
                "Microsoft.MachineLearningServices",
                "workspaces",
                sub,
                &mut refused,
            ) else {
                continue;
            };
            let mut segments: Vec<&str> = path.iter().map(String::as_str).collect();
            segments.push("computes");
            let computes = client
                .list("listing Azure ML computes", &segments, ML_API)
                .await?;
            for c in &computes {
                let kind = c["properties"]["computeType"].as_str().unwrap_or_default();
                if !["AmlCompute", "ComputeInstance"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(kind))
                {
                    continue;
                }
                let inner = &c["properties"]["properties"];
                let public = inner["enableNodePublicIp"].as_bool().unwrap_or(true);
                let profile = if public {
                    "aml-public-ip"
                } else {
                    "aml-no-public-ip"
                };
                let subnet = inner["subnet"]["id"].as_str();
                take(c, subnet, profile, subscriptions, &mut found, &mut refused);
            }
        }
        let accounts = client
            .list(
                "listing Batch accounts",
                &providers("Microsoft.Batch", "batchAccounts"),
                BATCH_API,
            )
            .await?;
        for account in &accounts {
            let Some(path) = owned(
                account,
                "Microsoft.Batch",
                "batchAccounts",
                sub,
                &mut refused,
            ) else {
                continue;
            };
            let mut segments: Vec<&str> = path.iter().map(String::as_str).collect();
            segments.push("pools");
            let pools = client
                .list("listing Batch pools", &segments, BATCH_API)
                .await?;
            for p in &pools {
                let subnet = p["properties"]["networkConfiguration"]["subnetId"].as_str();
                take(
                    p,
                    subnet,
                    "batch-simplified",
                    subscriptions,
                    &mut found,
                    &mut refused,
                );
            }
        }
    }
    Ok((found, refused))
}

/// The path segments of `item`'s id when it is `/subscriptions/<sub>/resourceGroups/<group>/
/// providers/<namespace>/<kind>/<name>` in the subscription asked; else it is refused.
fn owned(
    item: &Value,
    namespace: &str,
    kind: &str,
    sub: &str,
    refused: &mut Vec<Refused>,
) -> Option<Vec<String>> {
    let text = item["id"].as_str().unwrap_or_default();
    let parts: Vec<&str> = text.split('/').collect();
    let ok = parts.len() == 9
        && parts[0].is_empty()
        && parts[1].eq_ignore_ascii_case("subscriptions")
        && parts[2].eq_ignore_ascii_case(sub)
        && parts[3].eq_ignore_ascii_case("resourceGroups")
        && crate::text::check_resource_group(parts[4]).is_ok()
        && parts[5].eq_ignore_ascii_case("providers")
        && parts[6].eq_ignore_ascii_case(namespace)
        && parts[7].eq_ignore_ascii_case(kind)
        && crate::model::check_route_name(parts[8]).is_ok();
    if !ok {
        refused.push(Refused {
            id: crate::text::for_terminal(text).into_owned(),
            reason: format!("not a {namespace}/{kind} id of subscription {sub}"),
        });
        return None;
    }
    Some(parts[1..].iter().map(|p| (*p).to_owned()).collect())
}

/// Records the compute `item` in `subnet` (none: not in a virtual network, nothing to judge).
fn take(
    item: &Value,
    subnet: Option<&str>,
    profile: &'static str,
    subscriptions: &[String],
    found: &mut Vec<Hosted>,
    refused: &mut Vec<Refused>,
) {
    let Some(text) = subnet else {
        return;
    };
    let compute = crate::text::for_terminal(item["id"].as_str().unwrap_or_default()).into_owned();
    match NetworkId::parse_as(text, NetworkKind::Subnet) {
        Ok(id)
            if subscriptions
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&id.subscription)) =>
        {
            found.push(Hosted {
                subnet: id,
                profile,
                compute,
            })
        }
        Ok(id) => refused.push(Refused {
            id: compute,
            reason: format!(
                "its subnet is in subscription {}, which was not asked for",
                id.subscription
            ),
        }),
        Err(e) => refused.push(Refused {
            id: compute,
            reason: format!("its subnet: {e}"),
        }),
    }
}
