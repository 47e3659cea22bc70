//! A check's fix (`tagroute check --fix-format`): the routes, NSG rules and prerequisites that
//! let every flow of a profile pass, as an az script, Terraform or JSON.

use crate::check::Fix;
use crate::emit::rules::{RulesFormat, RulesTarget};
use crate::emit::{PlanFormat, Target};

/// The forms a fix is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixFormat {
    Az,
    Terraform,
    Json,
}

impl FixFormat {
    pub const ALL: [FixFormat; 3] = [FixFormat::Az, FixFormat::Terraform, FixFormat::Json];

    /// The format's name: `az`.
    pub fn name(self) -> &'static str {
        match self {
            FixFormat::Az => "az",
            FixFormat::Terraform => "terraform",
            FixFormat::Json => "json",
        }
    }
}

/// `fix` written as `format`.
pub fn render(fix: &Fix, format: FixFormat) -> String {
    let target = Target::default();
    let rules_target = RulesTarget {
        collection_group: "tagroute".into(),
        collection_group_priority: 500,
        ..Default::default()
    };
    let mut out = String::new();
    match format {
        FixFormat::Json => {
            let doc = serde_json::json!({
                "routes": fix.routes.as_ref().map(|c| serde_json::from_str::<serde_json::Value>(&super::diff::json(&c.diff)).unwrap_or_default()),
                "plan": fix.plan.as_ref().map(|p| serde_json::from_str::<serde_json::Value>(&super::render_plan(p, PlanFormat::Json, &target)).unwrap_or_default()),
                "networkSecurityGroups": fix.rules.iter().map(|n| serde_json::json!({
                    "name": n.nsg,
                    "resourceGroup": n.resource_group,
                    "shown": n.shown,
                    "securityRules": n.rules.security_rules,
                })).collect::<Vec<_>>(),
                "prerequisites": fix.prerequisites,
            });
            out = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        }
        FixFormat::Az | FixFormat::Terraform => {
            let (rules_format, comment) = match format {
                FixFormat::Az => (RulesFormat::Az, "#"),
                _ => (RulesFormat::Terraform, "#"),
            };
            for p in &fix.prerequisites {
                out.push_str(&format!("{comment} prerequisite: {p}\n"));
            }
            if let Some(c) = &fix.routes {
                out.push_str(&match format {
                    FixFormat::Az => super::diff::az_script(&c.diff, &c.planned.plan, &target),
                    _ => super::render_plan(&c.planned.plan, PlanFormat::Terraform, &target),
                });
            }
            if let Some(p) = &fix.plan {
                let f = match format {
                    FixFormat::Az => PlanFormat::Az,
                    _ => PlanFormat::Terraform,
                };
                out.push_str(&super::render_plan(p, f, &target));
            }
            // Each NSG's rules in a section of its own: the script sets its names again, the
            // Terraform names each NSG where its rules use it (a variable only for a name not
            // read), so that several stand in one file.
            for n in fix
                .rules
                .iter()
                .filter(|n| !n.rules.security_rules.is_empty())
            {
                let target = RulesTarget {
                    nsg: n.nsg.clone(),
                    resource_group: n.resource_group.clone(),
                    literal: true,
                    ..rules_target.clone()
                };
                out.push('\n');
                out.push_str(&format!(
                    "{comment} the rules of NSG {}\n",
                    super::comment_text(&n.shown)
                ));
                out.push_str(&super::rules::render(&n.rules, rules_format, &target));
            }
        }
    }
    out
}
