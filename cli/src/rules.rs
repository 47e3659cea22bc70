//! `tagroute rules`: the NSG security rules and Azure Firewall policy rules a requirement
//! profile needs in a region, in the formats people deploy with.

use tagroute::emit::rules::{RulesFormat, RulesTarget, render};
use tagroute::prefix::IpPrefix;
use tagroute::rules::{RuleKind, RuleOptions, rules};
use tagroute::{profile, select};

use crate::args::{OutputFile, Source};
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Write the NSG security rules and Azure Firewall policy rules (network \
rules by service tag, application rules by FQDN) that a requirement profile needs in a region, \
each citing its Microsoft document, as a table, JSON, an az script, Terraform, ARM or Bicep";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute rules --file data/ServiceTags_Example.json --profile batch-simplified --region westeurope
  tagroute rules --cloud public --profile aml-no-public-ip --region eastus2 \\
      --source-prefix 10.1.2.0/24 --format az -g rg-net --nsg nsg-aml --firewall-policy fwp-hub
  tagroute rules --cloud public --profile aml-public-ip --region eastus2 --kind nsg --format bicep

Service tags are written as tags, and each one is checked to be in the cloud's file. Inbound
rules are NSG rules only: a firewall sees the subnet's outbound flows.")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// The requirement profile (`tagroute profiles` lists them).
    #[arg(long, value_name = "NAME", default_value = profile::DEFAULT_PROFILE, value_parser = crate::values::profile, help_heading = "Rules")]
    profile: String,
    /// Region: ARM name, display name or tag suffix.
    #[arg(long, short = 'r', value_name = "REGION", help_heading = "Rules")]
    region: String,
    /// The subnet's address range: source of outbound rules, destination of inbound ones
    /// [default: the VirtualNetwork tag in NSG rules, any source in firewall rules].
    #[arg(long, value_name = "CIDR", value_parser = subnet, help_heading = "Rules")]
    source_prefix: Option<IpPrefix>,
    /// Priority of the first NSG rule; each next is 10 higher (Azure takes 100 to 4096).
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(100..=4096), help_heading = "Rules")]
    priority_start: u32,
    /// What every rule's name starts with.
    #[arg(long, value_name = "P", default_value = "tagroute", value_parser = name_prefix, help_heading = "Rules")]
    name_prefix: String,
    /// Which rules: NSG security rules, firewall policy rules, or both.
    #[arg(long, value_parser = crate::values::by_name(&RuleKind::ALL, RuleKind::name), default_value = "both", help_heading = "Rules")]
    kind: RuleKind,
    /// Output format.
    #[arg(long, value_parser = crate::values::by_name(&RulesFormat::ALL, RulesFormat::name), default_value = "table", help_heading = "Output")]
    format: RulesFormat,
    /// Resource group for the az output.
    #[arg(long, short = 'g', value_name = "G", value_parser = crate::values::resource_group, help_heading = "Output")]
    resource_group: Option<String>,
    /// Network security group for the az, ARM and Bicep output.
    #[arg(long, value_name = "NSG", value_parser = crate::values::route_table, help_heading = "Output")]
    nsg: Option<String>,
    /// Firewall policy for the az, ARM and Bicep output.
    #[arg(long, value_name = "POLICY", value_parser = crate::values::route_table, help_heading = "Output")]
    firewall_policy: Option<String>,
    /// Name of the firewall policy's rule collection group.
    #[arg(long, value_name = "NAME", default_value = "tagroute", value_parser = crate::values::route_table, help_heading = "Output")]
    collection_group: String,
    /// Priority of the rule collection group (Azure takes 100 to 65000).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(100..=65000), help_heading = "Output")]
    collection_group_priority: u32,
    #[command(flatten)]
    output: OutputFile,
}

fn subnet(text: &str) -> Result<IpPrefix, String> {
    text.parse::<IpPrefix>().map_err(|e| e.to_string())
}

fn name_prefix(text: &str) -> Result<String, String> {
    tagroute::model::check_route_name(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.about("a rule name prefix").to_string())
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let snapshot = args.source.load(diag)?;
    let profile = profile::by_name(&args.profile)?;
    let region = select::resolve_region(&snapshot, &args.region)?;
    let opts = RuleOptions {
        subnet: args.source_prefix,
        priority_start: args.priority_start,
        name_prefix: args.name_prefix.clone(),
        kind: args.kind,
    };
    let set = rules(profile, &snapshot, &region, &opts)?;
    for n in &set.notes {
        diag.note(n);
    }
    let target = RulesTarget {
        resource_group: args.resource_group.clone(),
        nsg: args.nsg.clone(),
        firewall_policy: args.firewall_policy.clone(),
        collection_group: args.collection_group.clone(),
        collection_group_priority: args.collection_group_priority,
        literal: false,
    };
    deliver(
        &render(&set, args.format, &target),
        args.output.output.as_deref(),
    )?;
    Ok(Status::Ok)
}
