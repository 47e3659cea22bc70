//! Resource Manager ids of route tables and the network resources a check reads, checked part
//! by part (without the `azure` feature too: a check's files name their resources by id).

use std::fmt;
use std::str::FromStr;

use crate::text::NameError;

/// `/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/routeTables/RT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTableId {
    /// The subscription's GUID.
    pub subscription: String,
    /// The resource group's name.
    pub resource_group: String,
    /// The route table's name.
    pub name: String,
}

impl RouteTableId {
    /// The path segments of the table under the endpoint, unencoded.
    #[cfg(feature = "azure")]
    pub(crate) fn segments(&self) -> [&str; 8] {
        [
            "subscriptions",
            &self.subscription,
            "resourceGroups",
            &self.resource_group,
            "providers",
            "Microsoft.Network",
            "routeTables",
            &self.name,
        ]
    }
}

impl fmt::Display for RouteTableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/routeTables/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Why a text is not a resource's id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not of the shape of the kind wanted (`None`: any kind a check reads).
    #[error(
        "expected /subscriptions/<subscription id>/resourceGroups/<group>/providers/\
         Microsoft.Network/{}", .0.map_or("<type>/<name>", NetworkKind::shape)
    )]
    Shape(Option<NetworkKind>),
    #[error("subscription {0} is not a subscription id (a GUID)")]
    Subscription(String),
    #[error(transparent)]
    Name(#[from] NameError),
}

/// Checks a subscription id (a GUID) and gives it in lower case, as ids are compared.
pub fn subscription(text: &str) -> Result<String, IdError> {
    if is_guid(text) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(IdError::Subscription(crate::text::quoted(text)))
    }
}

impl FromStr for RouteTableId {
    type Err = IdError;

    /// Reads an id as the portal and `az` print it (segment names in any case, no trailing `/`).
    fn from_str(text: &str) -> Result<Self, IdError> {
        let id = NetworkId::parse_as(text, NetworkKind::RouteTable)?;
        Ok(RouteTableId {
            subscription: id.subscription,
            resource_group: id.resource_group,
            name: id.name,
        })
    }
}

/// The kinds of network resource a check reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkKind {
    VirtualNetwork,
    Subnet,
    RouteTable,
    NetworkSecurityGroup,
    NetworkInterface,
}

impl NetworkKind {
    /// Its type's segment under `Microsoft.Network`, what an id of it looks like after
    /// `Microsoft.Network/`, and how its name is spoken of in an error.
    fn facts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            NetworkKind::VirtualNetwork => (
                "virtualNetworks",
                "virtualNetworks/<network>",
                "a virtual network name",
            ),
            NetworkKind::Subnet => (
                "virtualNetworks",
                "virtualNetworks/<network>/subnets/<subnet>",
                "a virtual network name",
            ),
            NetworkKind::RouteTable => ("routeTables", "routeTables/<table>", "a route table name"),
            NetworkKind::NetworkSecurityGroup => (
                "networkSecurityGroups",
                "networkSecurityGroups/<nsg>",
                "a network security group name",
            ),
            NetworkKind::NetworkInterface => (
                "networkInterfaces",
                "networkInterfaces/<nic>",
                "a network interface name",
            ),
        }
    }

    fn segment(self) -> &'static str {
        self.facts().0
    }

    fn shape(self) -> &'static str {
        self.facts().1
    }

    fn noun(self) -> &'static str {
        self.facts().2
    }
}

/// A network resource's id, checked part by part like a route table's: what `check` reads, and
/// every id an answer names before it is read in turn (an answer is outside input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkId {
    pub subscription: String,
    pub resource_group: String,
    pub kind: NetworkKind,
    /// The resource's name (the virtual network's, for a subnet).
    pub name: String,
    /// A subnet's own name.
    pub subnet: Option<String>,
}

impl NetworkId {
    /// The path segments under the endpoint, unencoded.
    pub(crate) fn segments(&self) -> Vec<&str> {
        let mut s = vec![
            "subscriptions",
            &self.subscription,
            "resourceGroups",
            &self.resource_group,
            "providers",
            "Microsoft.Network",
            self.kind.segment(),
            &self.name,
        ];
        if let Some(subnet) = &self.subnet {
            s.extend(["subnets", subnet]);
        }
        s
    }

    /// The virtual network a subnet is in.
    pub fn vnet(&self) -> NetworkId {
        NetworkId {
            kind: NetworkKind::VirtualNetwork,
            subnet: None,
            ..self.clone()
        }
    }

    /// Reads an id of the kind wanted.
    pub fn parse_as(text: &str, kind: NetworkKind) -> Result<NetworkId, IdError> {
        match text.parse::<NetworkId>() {
            Ok(id) if id.kind == kind => Ok(id),
            Ok(_) | Err(IdError::Shape(_)) => Err(IdError::Shape(Some(kind))),
            Err(e) => Err(e),
        }
    }
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.segments().join("/"))
    }
}

impl FromStr for NetworkId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        let parts: Vec<&str> = text.split('/').collect();
        let (head, subnet) = match parts.len() {
            9 => (&parts[..], None),
            11 if parts[9].eq_ignore_ascii_case("subnets") => (&parts[..9], Some(parts[10])),
            _ => return Err(IdError::Shape(None)),
        };
        let [
            "",
            subscriptions,
            subscription,
            groups,
            group,
            providers,
            namespace,
            kind,
            name,
        ] = head[..]
        else {
            return Err(IdError::Shape(None));
        };
        let fixed = [
            (subscriptions, "subscriptions"),
            (groups, "resourceGroups"),
            (providers, "providers"),
            (namespace, "Microsoft.Network"),
        ];
        if fixed
            .iter()
            .any(|(got, want)| !got.eq_ignore_ascii_case(want))
        {
            return Err(IdError::Shape(None));
        }
        let kind = [
            NetworkKind::VirtualNetwork,
            NetworkKind::RouteTable,
            NetworkKind::NetworkSecurityGroup,
            NetworkKind::NetworkInterface,
        ]
        .into_iter()
        .find(|k| k.segment().eq_ignore_ascii_case(kind))
        .ok_or(IdError::Shape(None))?;
        let kind = match (kind, subnet) {
            (NetworkKind::VirtualNetwork, Some(_)) => NetworkKind::Subnet,
            (k, None) => k,
            _ => return Err(IdError::Shape(None)),
        };
        if !is_guid(subscription) {
            return Err(IdError::Subscription(crate::text::quoted(subscription)));
        }
        crate::text::check_resource_group(group)?;
        crate::model::check_route_name(name).map_err(|e| e.about(kind.noun()))?;
        if let Some(n) = subnet {
            crate::model::check_route_name(n).map_err(|e| e.about("a subnet name"))?;
        }
        Ok(NetworkId {
            subscription: subscription.to_ascii_lowercase(),
            resource_group: group.to_owned(),
            kind,
            name: name.to_owned(),
            subnet: subnet.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses_ids() {
        let id: RouteTableId = "/subscriptions/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/resourcegroups/rg-net/providers/microsoft.network/routetables/rt-aml"
            .parse()
            .unwrap();
        assert_eq!(
            id.to_string(),
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-aml"
        );
        for bad in [
            "",
            "rt-aml",
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt",
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt/",
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt/routes/r",
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Compute/routeTables/rt",
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/r%2Fg/providers/Microsoft.Network/routeTables/rt",
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/routeTables/r t",
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/../providers/Microsoft.Network/routeTables/rt",
        ] {
            assert!(bad.parse::<RouteTableId>().is_err(), "{bad}");
        }
    }
    #[test]
    fn reads_and_refuses_network_ids() {
        let id: NetworkId = "/subscriptions/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/resourcegroups/rg-net/providers/microsoft.network/virtualnetworks/vnet/subnets/aml"
            .parse()
            .unwrap();
        assert_eq!(id.kind, NetworkKind::Subnet);
        assert_eq!(
            id.to_string(),
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aml"
        );
        assert_eq!(id.vnet().kind, NetworkKind::VirtualNetwork);
        assert!(id.vnet().to_string().ends_with("/virtualNetworks/vnet"));
        let g = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network";
        for good in [
            "routeTables/rt",
            "networkSecurityGroups/nsg",
            "networkInterfaces/nic-1",
            "virtualNetworks/v",
        ] {
            assert!(format!("{g}/{good}").parse::<NetworkId>().is_ok(), "{good}");
        }
        for bad in [
            "routeTables/rt/subnets/s",
            "natGateways/n",
            "virtualNetworks/v/peerings/p",
            "virtualNetworks/v/subnets/../x",
            "virtualNetworks/v/subnets/a b",
            "virtualNetworks/v/subnets/",
            "networkSecurityGroups/n%2Fx",
        ] {
            assert!(format!("{g}/{bad}").parse::<NetworkId>().is_err(), "{bad}");
        }
        assert!(
            NetworkId::parse_as(
                &format!("{g}/routeTables/rt"),
                NetworkKind::NetworkSecurityGroup
            )
            .is_err()
        );
    }
}
