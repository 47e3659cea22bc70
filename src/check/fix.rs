//! The fix of a check: the planner's change to the route table, the profile's NSG rules at
//! priorities before the rules that deny them, and the prerequisites no rule can meet.

use super::{Direction, FlowReport, Inputs, Report, Verdict};

/// The smallest change that makes the blocked flows pass: the plan's change to the route
/// table, the NSG rules of the profile that each NSG denies (in that NSG, at priorities before
/// its rules that deny them), and what no rule can do.
pub struct Fix {
    /// The route table's change (or, without a table, the plan), when a route flow is blocked.
    pub routes: Option<crate::request::Compared>,
    pub plan: Option<crate::plan::Plan>,
    /// NSG rules to add, for each NSG that denies a flow (a NIC's own, its subnet's), in the
    /// order the NSGs were read.
    pub rules: Vec<NsgRules>,
    pub prerequisites: Vec<String>,
}

/// Rules to add to one NSG.
pub struct NsgRules {
    /// How the check named the NSG.
    pub shown: String,
    /// Its name and resource group, when its id was read (else the fix asks for them).
    pub nsg: Option<String>,
    pub resource_group: Option<String>,
    pub rules: crate::rules::RuleSet,
}

/// Why no fix could be made.
#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error(transparent)]
    Request(#[from] crate::request::RequestError),
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
}

/// The fix of `report`'s blocked flows, the routes planned as `request` asks.
pub fn fix(
    report: &Report,
    inputs: &Inputs<'_>,
    request: &crate::request::PlanRequest,
) -> Result<Fix, FixError> {
    let blocked = |f: &&FlowReport| f.verdict == Verdict::Blocked;
    let routes_blocked = report
        .flows
        .iter()
        .filter(blocked)
        .any(|f| f.found.misrouted);
    let (mut routes, mut plan) = (None, None);
    if routes_blocked && !inputs.profile.routes.is_empty() {
        match inputs.table {
            Some((table, _)) => {
                routes = Some(crate::request::plan_and_diff(
                    inputs.snapshot,
                    request,
                    table,
                )?)
            }
            None => plan = Some(crate::request::plan_request(inputs.snapshot, request, None)?.plan),
        }
    }
    let mut rules = Vec::new();
    for (at, nsg) in inputs.nsgs.unwrap_or_default().iter().enumerate() {
        // The blocked flows this NSG denies, and the first of its rules that does.
        let denied: Vec<&FlowReport> = report
            .flows
            .iter()
            .filter(blocked)
            .filter(|f| f.denied_at.iter().any(|&(n, _)| n == at))
            .collect();
        let Some(first_deny) = denied
            .iter()
            .flat_map(|f| f.denied_at.iter().filter(|&&(n, _)| n == at))
            .map(|&(_, priority)| priority)
            .min()
        else {
            continue;
        };
        let set = rules_before(&denied, first_deny, inputs)?;
        rules.push(NsgRules {
            shown: nsg.shown.clone(),
            nsg: nsg.name.clone(),
            resource_group: nsg.resource_group.clone(),
            rules: set,
        });
    }
    Ok(Fix {
        routes,
        plan,
        rules,
        prerequisites: report.prerequisites.clone(),
    })
}

/// The profile's NSG rules for the `denied` flows, at consecutive priorities that end before
/// `first_deny` (and within the priorities a user's rule may take).
fn rules_before(
    denied: &[&FlowReport],
    first_deny: u32,
    inputs: &Inputs<'_>,
) -> Result<crate::rules::RuleSet, FixError> {
    let opts = crate::rules::RuleOptions {
        subnet: inputs.subnet.prefix.map(crate::prefix::IpPrefix::V4),
        priority_start: crate::rules::NSG_PRIORITY_MIN,
        kind: crate::rules::RuleKind::Nsg,
        ..Default::default()
    };
    let mut set = crate::rules::rules(inputs.profile, inputs.snapshot, inputs.region, &opts)?;
    set.security_rules.retain(|r| {
        let p = &r.properties;
        let (dir, remote) = match p.direction {
            "Inbound" => (Direction::Inbound, &p.source_address_prefix),
            _ => (Direction::Outbound, &p.destination_address_prefix),
        };
        denied.iter().any(|f| {
            f.direction == dir && f.target == *remote && f.ports == p.destination_port_ranges
        })
    });
    // A default rule of Azure's (65000 and up) comes after every rule a user may add (100 to
    // 4096): see `rules::NSG_PRIORITY_MAX`.
    let end = first_deny.min(crate::rules::NSG_PRIORITY_MAX + 1);
    let start = end
        .saturating_sub(crate::rules::PRIORITY_STEP * set.security_rules.len() as u32)
        .max(crate::rules::NSG_PRIORITY_MIN);
    // Consecutive priorities from the start, before the first rule that denies.
    for (i, r) in set.security_rules.iter_mut().enumerate() {
        r.properties.priority = start + crate::rules::PRIORITY_STEP * i as u32;
    }
    Ok(set)
}
