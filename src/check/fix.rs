//! The fix of a check: the planner's change to the route table, the profile's NSG rules at
//! priorities before the rules that deny them, and the prerequisites no rule can meet.

use super::{Direction, FlowReport, Inputs, Report, Verdict};

/// The smallest change that makes the blocked flows pass: the plan's change to the route
/// table, the NSG rules of the profile that the NSG denies (at priorities before the rules
/// that deny them), and what no rule can do.
pub struct Fix {
    /// The route table's change (or, without a table, the plan), when a route flow is blocked.
    pub routes: Option<crate::request::Compared>,
    pub plan: Option<crate::plan::Plan>,
    /// NSG rules to add.
    pub rules: Option<crate::rules::RuleSet>,
    pub prerequisites: Vec<String>,
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
    let routes_blocked = report.flows.iter().filter(blocked).any(|f| {
        f.reasons
            .iter()
            .any(|r| r.contains("go to the appliance") || r.contains("not to Internet"))
    });
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
    let denied: Vec<&FlowReport> = report
        .flows
        .iter()
        .filter(blocked)
        .filter(|f| !f.denied_at.is_empty())
        .collect();
    let rules = if denied.is_empty() {
        None
    } else {
        let first_deny = denied
            .iter()
            .flat_map(|f| f.denied_at.iter())
            .min()
            .copied();
        let wanted = denied.len() as u32;
        let start = first_deny
            .map(|d| d.saturating_sub(crate::rules::PRIORITY_STEP * wanted))
            .unwrap_or(200)
            .max(crate::rules::NSG_PRIORITY_MIN);
        let opts = crate::rules::RuleOptions {
            subnet: inputs.subnet.prefix.map(crate::prefix::IpPrefix::V4),
            priority_start: start,
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
        // Consecutive priorities from the start, before the first rule that denies.
        for (i, r) in set.security_rules.iter_mut().enumerate() {
            r.properties.priority = start + crate::rules::PRIORITY_STEP * i as u32;
        }
        Some(set)
    };
    Ok(Fix {
        routes,
        plan,
        rules,
        prerequisites: report.prerequisites.clone(),
    })
}
