//! A check's inputs read through Resource Manager: the subnet, then what it links (its route
//! table and NSG) and its virtual network (address space, gateways, peerings), and, given a NIC
//! in the subnet, Azure's effective routes for it. Every answer is outside input: it must be
//! the resource asked for, and an id it names is checked (a route table's, an NSG's) before it
//! is read in turn. Only reads are sent.
//!
//! Shapes: the REST specification's examples for API 2025-07-01 (`SubnetGet.json`,
//! `VirtualNetworkGet.json`, `VirtualNetworkPeeringGet.json`, `RouteTableGet.json`,
//! `NetworkInterfaceEffectiveRouteTableList.json`), azure-rest-api-specs.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::Resources;
use super::inputs::{self, InputError, field};
use crate::arm::{ArmClient, ArmError, Effective, IdError, NetworkId, NetworkKind};
use crate::snapshot::Snapshot;

/// Why the subnet could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Arm(#[from] ArmError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Routes(#[from] crate::routes::RoutesError),
    #[error("the subnet links {what} {shown}, which is not a {what} id")]
    BadLink {
        what: &'static str,
        shown: String,
        #[source]
        err: IdError,
    },
    #[error("asked for {asked}, Resource Manager answered {answered}")]
    NotAsked { asked: String, answered: String },
    #[error("NIC {nic} is not in subnet {subnet}")]
    NicElsewhere { nic: String, subnet: String },
}

/// Answers an estate reads once: what several subnets share (their virtual network, a route
/// table, an NSG) is asked for once, by id in any case, however many subnets are read at once
/// (a second reader of an id waits for the first). A failed read is not kept: the next reader
/// asks again, and says its own error.
#[derive(Default)]
pub struct Shared(std::sync::Mutex<HashMap<String, Arc<futures_util::lock::Mutex<Option<Value>>>>>);

/// Reads `subnet` (and `nic`'s effective routes) through `client`; `snapshot` names the
/// service tags the NSG's rules use.
pub async fn read(
    client: &mut ArmClient,
    snapshot: &Snapshot,
    subnet: &NetworkId,
    nic: Option<&NetworkId>,
) -> Result<Resources, LiveError> {
    read_sharing(client, snapshot, subnet, nic, &Shared::default()).await
}

/// [`read`], taking what other subnets read from `shared` (and leaving there what it reads).
pub async fn read_sharing(
    client: &mut ArmClient,
    snapshot: &Snapshot,
    subnet: &NetworkId,
    nic: Option<&NetworkId>,
    shared: &Shared,
) -> Result<Resources, LiveError> {
    let mut out = Resources::default();
    let subnet_doc = get(client, subnet, &mut out.read).await?;
    out.subnet = inputs::parse_subnet(&subnet.to_string(), &subnet_doc)?;
    if let Some(text) = linked_id(&subnet_doc, "routeTable") {
        let id = link(&text, NetworkKind::RouteTable, "route table")?;
        let doc = shared.get(client, &id, &mut out.read).await?;
        let table = crate::routes::from_value(&id.to_string(), &doc)?;
        out.table = Some((table, inputs::disable_bgp(&doc)));
    }
    // With a NIC, its effective security groups (below) hold the subnet's NSG as Azure applies
    // it: the NSG itself is read only without one.
    let nsg_link = linked_id(&subnet_doc, "networkSecurityGroup").filter(|_| nic.is_none());
    if let Some(text) = nsg_link {
        let id = link(
            &text,
            NetworkKind::NetworkSecurityGroup,
            "network security group",
        )?;
        let doc = shared.get(client, &id, &mut out.read).await?;
        let rules = inputs::parse_nsg(&id.to_string(), &doc, snapshot)?;
        out.nsgs = Some(vec![super::Nsg {
            shown: id.name.clone(),
            name: Some(id.name.clone()),
            resource_group: Some(id.resource_group.clone()),
            rules,
        }]);
    }
    let vnet = subnet.vnet();
    let doc = shared.get(client, &vnet, &mut out.read).await?;
    out.vnet = Some(inputs::parse_vnet(&vnet.to_string(), &doc)?);
    if let Some(nic) = nic {
        let doc = get(client, nic, &mut out.read).await?;
        if !nic_subnets(&doc)
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&subnet.to_string()))
        {
            return Err(LiveError::NicElsewhere {
                nic: nic.to_string(),
                subnet: subnet.to_string(),
            });
        }
        let source = nic.to_string();
        let routes = client.nic_effective(nic, Effective::Routes).await?;
        out.read.push(format!("{nic}/effectiveRouteTable"));
        let routes = inputs::read_json(&source, &routes)?;
        out.effective = Some(inputs::parse_effective(&source, &routes)?);
        // The NIC's effective security groups: its own NSG and its subnet's, as Azure applies
        // them.
        let groups = client.nic_effective(nic, Effective::SecurityGroups).await?;
        let groups = inputs::read_json(&source, &groups)?;
        out.read
            .push(format!("{nic}/effectiveNetworkSecurityGroups"));
        out.nsgs = Some(inputs::parse_effective_nsgs(&source, &groups, snapshot)?);
    }
    Ok(out)
}

impl Shared {
    /// `id`'s answer: the one kept, else read (by [`get`]) and kept.
    async fn get(
        &self,
        client: &mut ArmClient,
        id: &NetworkId,
        read: &mut Vec<String>,
    ) -> Result<Value, LiveError> {
        let slot = {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            kept.entry(id.to_string().to_ascii_lowercase())
                .or_default()
                .clone()
        };
        let mut slot = slot.lock().await;
        if let Some(doc) = slot.as_ref() {
            read.push(id.to_string());
            return Ok(doc.clone());
        }
        let doc = get(client, id, read).await?;
        *slot = Some(doc.clone());
        Ok(doc)
    }
}

/// Reads `id`, which the answer must be, as JSON.
async fn get(
    client: &mut ArmClient,
    id: &NetworkId,
    read: &mut Vec<String>,
) -> Result<Value, LiveError> {
    let body = client.read_network(id).await?;
    let doc = inputs::read_json(&id.to_string(), &body)?;
    let answered = own_id(&doc).unwrap_or_default();
    let same = answered
        .parse::<NetworkId>()
        .is_ok_and(|a| a.to_string().eq_ignore_ascii_case(&id.to_string()));
    if !same {
        return Err(LiveError::NotAsked {
            asked: id.to_string(),
            answered: crate::text::quoted(&answered),
        });
    }
    read.push(id.to_string());
    Ok(doc)
}

fn link(text: &str, kind: NetworkKind, what: &'static str) -> Result<NetworkId, LiveError> {
    NetworkId::parse_as(text, kind).map_err(|err| LiveError::BadLink {
        what,
        shown: crate::text::quoted(text),
        err,
    })
}

/// The `id` a subnet links under `key` (`routeTable`, `networkSecurityGroup`), as written.
fn linked_id(doc: &Value, key: &str) -> Option<String> {
    field(doc, key)?.get("id")?.as_str().map(str::to_owned)
}

/// The `id` of a resource as Resource Manager answered it.
fn own_id(doc: &Value) -> Option<String> {
    doc.get("id")?.as_str().map(str::to_owned)
}

/// The subnets a NIC's IP configurations are in (`properties.ipConfigurations[].properties.
/// subnet.id`, the REST specification's `NetworkInterfaceGet.json`, API 2025-07-01).
fn nic_subnets(doc: &Value) -> Vec<String> {
    field(doc, "ipConfigurations")
        .and_then(Value::as_array)
        .map(|configs| {
            configs
                .iter()
                .filter_map(|c| field(c, "subnet")?.get("id")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
