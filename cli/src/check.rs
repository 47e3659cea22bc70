//! `tagroute check`: will a profile's compute work on this subnet? Every flow judged through the
//! route table, BGP, the NSG and the subnet's way out, from exported resources, and the fix.

use std::path::PathBuf;

use tagroute::arm::{NetworkId, NetworkKind};
use tagroute::check::{self, Unread, Verdict};
use tagroute::emit;
use tagroute::emit::fix::FixFormat;
use tagroute::prefix::Prefix;
use tagroute::{profile, select};

use crate::args::{PlanSelection, Source};
use crate::check_estate::{EstateArgs, Format};
use crate::live::AuthArgs;
use crate::net::block_on;
use crate::output::{Diag, Status, deliver};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Judge every flow a profile needs on a subnet (return routes, NSG rules, \
the way out for FQDNs) through its route table, BGP, NSG and outbound method, read live \
(--subnet, --nic, or every subnet of --subscription) or from the files Azure exports: ok, \
blocked (and by what) or unknown (and why); --fix-format writes the smallest fix";

#[derive(clap::Args, Debug)]
#[command(mut_arg("region", |a| a.required_unless_present_any(["tag", "subscription", "subnet", "vnet_file"])))]
#[command(about = ABOUT, after_help = "\
Examples:
  az network route-table show -g rg-net -n rt-aml -o json > rt.json
  tagroute check --file data/ServiceTags_Example.json --region westeurope \\
      --route-table data/routes_example.json --public-ip
  tagroute check --cloud public --profile aml-no-public-ip --region eastus2 --route-table rt.json \\
      --nsg nsg.json --subnet-file subnet.json --fix-format az > fix.sh

Live, --subnet ID reads the subnet, its route table and NSG, and its virtual network through \
Resource Manager (Reader is enough; nothing is changed); --nic ID adds that NIC's effective \
routes and security groups (which also needs the NIC's effectiveRouteTable/action and \
effectiveNetworkSecurityGroups/action); --subscription ID judges the subnets that host Azure ML \
compute or Batch pools, each against its compute's profile (--all-subnets: every subnet Azure \
Resource Graph names, against --profile). Offline, inputs are the JSON the Azure CLI prints (az network route-table show, az \
network nsg show, az network vnet subnet show, az network vnet show, az network nic \
show-effective-route-table, az network nic list-effective-nsg) or Resource Manager's answers. Traffic left to Azure's system route \
is unknown while BGP propagation is on, a gateway, Route Server or peering may advertise \
0.0.0.0/0 (or the virtual network was not read), and no effective routes were given.

Exit status: 0 every flow ok, 1 a flow blocked or unknown, 2 error.")]
pub struct Args {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    selection: PlanSelection,
    /// The subnet, read live through Resource Manager with what it links (route table, NSG)
    /// and its virtual network (address space, gateways, peerings):
    /// /subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/V/subnets/N.
    #[arg(long, value_name = "ID", value_parser = subnet_id, help_heading = "Live subnet (Azure Resource Manager)",
          conflicts_with_all = ["route_table", "nsg", "effective_nsgs", "effective_routes", "subnet_file", "vnet_file"])]
    subnet: Option<NetworkId>,
    /// A NIC in that subnet: its effective routes (Azure's own forwarding, BGP included) are
    /// read too.
    #[arg(long, value_name = "ID", value_parser = nic_id, requires = "subnet", help_heading = "Live subnet (Azure Resource Manager)")]
    nic: Option<NetworkId>,
    #[command(flatten)]
    estate: EstateArgs,
    #[command(flatten)]
    auth: AuthArgs,
    /// The route table (`az network route-table show -o json`).
    #[arg(long, value_name = "FILE", help_heading = "Subnet")]
    route_table: Option<String>,
    /// The subnet's network security group (`az network nsg show -o json`).
    #[arg(long, value_name = "FILE", help_heading = "Subnet")]
    nsg: Option<PathBuf>,
    /// A NIC's effective routes (`az network nic show-effective-route-table -o json`): Azure's
    /// own forwarding, BGP included.
    #[arg(long, value_name = "FILE", help_heading = "Subnet")]
    effective_routes: Option<PathBuf>,
    /// A NIC's effective security groups (`az network nic list-effective-nsg -o json`): its own
    /// NSG and its subnet's, as Azure applies them (instead of --nsg).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Subnet",
        conflicts_with = "nsg"
    )]
    effective_nsgs: Option<PathBuf>,
    /// The subnet (`az network vnet subnet show -o json`): its range, NAT gateway, private
    /// subnet, NSG.
    #[arg(long, value_name = "FILE", help_heading = "Subnet")]
    subnet_file: Option<PathBuf>,
    /// The virtual network (`az network vnet show -o json`): its address space, and whether a
    /// gateway, Route Server or peering can bring BGP routes.
    #[arg(long, value_name = "FILE", help_heading = "Subnet")]
    vnet_file: Option<PathBuf>,
    /// The virtual network's address space (repeatable) [default: the subnet's range].
    #[arg(long, value_name = "CIDR", help_heading = "Subnet")]
    vnet_prefix: Vec<Prefix<u32>>,
    /// The compute has a public IP: its own way out to the Internet.
    #[arg(long, help_heading = "Subnet")]
    public_ip: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    format: Format,
    /// Write the fix instead of the report: the route change and the NSG rules (each in the NSG
    /// that denies the flow), with the prerequisites as comments.
    #[arg(long, value_parser = crate::values::by_name(&FixFormat::ALL, FixFormat::name), help_heading = "Output")]
    fix_format: Option<FixFormat>,
}

fn subnet_id(text: &str) -> Result<NetworkId, tagroute::arm::IdError> {
    NetworkId::parse_as(text, NetworkKind::Subnet)
}

fn nic_id(text: &str) -> Result<NetworkId, tagroute::arm::IdError> {
    NetworkId::parse_as(text, NetworkKind::NetworkInterface)
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let snapshot = args.source.load(diag)?;
    let profile = profile::by_name(&args.selection.profile)?;
    if !args.estate.subscription.is_empty() {
        let client = args.auth.client(&args.source.net, snapshot.cloud)?;
        return crate::check_estate::run(
            &args.estate,
            client,
            args.auth.operation_timeout,
            (&snapshot, profile),
            args.public_ip,
            args.format,
            diag,
        );
    }
    let read = match &args.subnet {
        Some(id) => {
            let mut client = args.auth.client(&args.source.net, snapshot.cloud)?;
            let read = block_on(check::read_live(
                &mut client,
                &snapshot,
                id,
                args.nic.as_ref(),
            ))??;
            diag.note(format!(
                "read {}",
                tagroute::text::plural(read.read.len(), "resource")
            ));
            read
        }
        None => check::Files {
            route_table: args.route_table.clone().map(PathBuf::from),
            nsg: args.nsg.clone(),
            effective_nsgs: args.effective_nsgs.clone(),
            effective_routes: args.effective_routes.clone(),
            subnet: args.subnet_file.clone(),
            vnet: args.vnet_file.clone(),
        }
        .read(&snapshot)?,
    };
    // The region given, else the virtual network's.
    let Some(region_name) = args
        .selection
        .region
        .clone()
        .or_else(|| read.vnet.as_ref().and_then(|v| v.location.clone()))
    else {
        anyhow::bail!("check needs --region (the virtual network read names none)");
    };
    let region = select::resolve_region(&snapshot, &region_name)?;
    let inputs = read.inputs(
        &snapshot,
        profile,
        &region,
        &args.vnet_prefix,
        args.public_ip,
    );
    if let Some(v) = read.vnet.as_ref().filter(|v| !v.gateways.is_empty()) {
        diag.note(format!(
            "BGP routes can come from {}",
            v.gateways.join(", ")
        ));
    }
    let report = check::check(&inputs);
    let live = args.subnet.is_some();
    let status = match report.verdict() {
        Verdict::Ok => Status::Ok,
        _ => Status::Differences,
    };
    if let Some(format) = args.fix_format {
        let mut request = args.selection.request(false, diag)?;
        request.region = Some(region.name.clone());
        let fix = check::fix(&report, &inputs, &request)?;
        diag.note(format!(
            "{} of {} flows blocked, {} unknown",
            report
                .flows
                .iter()
                .filter(|f| f.verdict == Verdict::Blocked)
                .count(),
            report.flows.len(),
            report
                .flows
                .iter()
                .filter(|f| f.verdict == Verdict::Unknown)
                .count()
        ));
        for input in &report.unread {
            diag.note(format!("to settle: give {}", give(*input, live)));
        }
        deliver(&emit::fix::render(&fix, format), None)?;
        return Ok(status);
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Table => table_text(&report, live, false),
        Format::Markdown => table_text(&report, live, true),
    };
    deliver(&text, None)?;
    Ok(status)
}

/// What the command line takes to read an input the check lacked: a file, or for a live subnet
/// a NIC (the subnet and its NSG are read with it).
fn give(input: Unread, live: bool) -> &'static str {
    match (input, live) {
        (Unread::EffectiveRoutes, true) => "--nic ID (a NIC in the subnet: its effective routes)",
        (Unread::EffectiveRoutes, false) => {
            "--effective-routes FILE (az network nic show-effective-route-table -o json)"
        }
        (Unread::Nsg, _) => {
            "--nsg FILE (az network nsg show -o json) or --effective-nsgs FILE (az network nic \
             list-effective-nsg -o json)"
        }
        (Unread::Subnet, _) => "--subnet-file FILE (az network vnet subnet show -o json)",
    }
}

fn table_text(report: &check::Report, live: bool, markdown: bool) -> String {
    let rows: Vec<Vec<String>> = report
        .flows
        .iter()
        .map(|f| {
            vec![
                f.verdict.word().to_owned(),
                f.kind.to_owned(),
                format!("{:?}", f.direction).to_lowercase(),
                format!("{:?}", f.protocol).to_lowercase(),
                f.ports.join(","),
                f.target.clone(),
                if f.addresses > 0 {
                    format!("{}/{}", f.passing, f.addresses)
                } else {
                    "-".into()
                },
            ]
        })
        .collect();
    let header = [
        "VERDICT",
        "KIND",
        "DIRECTION",
        "PROTOCOL",
        "PORTS",
        "TARGET",
        "PASSING",
    ];
    let mut out = if markdown {
        tagroute::emit::table::markdown(&header, &rows)
    } else {
        tagroute::emit::table::columns(&header, &rows)
    };
    out.push('\n');
    for f in report.flows.iter().filter(|f| f.verdict != Verdict::Ok) {
        for r in &f.reasons {
            out.push_str(&format!(
                "{} {}: {}\n",
                f.verdict.word(),
                tagroute::text::for_terminal(&f.target),
                tagroute::text::for_terminal(r)
            ));
        }
    }
    for p in &report.prerequisites {
        out.push_str(&format!("prerequisite: {p}\n"));
    }
    for input in &report.unread {
        out.push_str(&format!("to settle: give {}\n", give(*input, live)));
    }
    let count = |v| report.flows.iter().filter(|f| f.verdict == v).count();
    out.push_str(&format!(
        "\n{} flows of the {} profile in {}: {} ok, {} blocked, {} unknown\n",
        report.flows.len(),
        report.profile,
        report.region,
        count(Verdict::Ok),
        count(Verdict::Blocked),
        count(Verdict::Unknown)
    ));
    out
}
