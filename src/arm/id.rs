//! A route table's Resource Manager id, checked part by part.

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

/// Why a text is not a route table's id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "expected /subscriptions/<subscription id>/resourceGroups/<group>/providers/\
         Microsoft.Network/routeTables/<table>"
    )]
    Shape,
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
        let parts: Vec<&str> = text.split('/').collect();
        let [
            "",
            subscriptions,
            subscription,
            groups,
            group,
            providers,
            namespace,
            tables,
            name,
        ] = parts[..]
        else {
            return Err(IdError::Shape);
        };
        let fixed = [
            (subscriptions, "subscriptions"),
            (groups, "resourceGroups"),
            (providers, "providers"),
            (namespace, "Microsoft.Network"),
            (tables, "routeTables"),
        ];
        if fixed
            .iter()
            .any(|(got, want)| !got.eq_ignore_ascii_case(want))
        {
            return Err(IdError::Shape);
        }
        if !is_guid(subscription) {
            return Err(IdError::Subscription(crate::text::quoted(subscription)));
        }
        crate::text::check_resource_group(group)?;
        crate::model::check_route_name(name).map_err(|e| e.about("a route table name"))?;
        Ok(RouteTableId {
            subscription: subscription.to_ascii_lowercase(),
            resource_group: group.to_owned(),
            name: name.to_owned(),
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
}
