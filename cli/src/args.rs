//! Arguments shared by several subcommands, and their conversion into library values.

use std::path::PathBuf;

use tagroute::model::{AZURE_MAX_TAG_ROUTES, DEFAULT_NAME_PREFIX, NextHop};
use tagroute::options::{self, Resolved, TableOptions};
use tagroute::plan::Strategy;
use tagroute::request::PlanRequest;
use tagroute::select::FamilyChoice;
use tagroute::snapshot::{self, Snapshot};

use crate::output::Diag;

/// Where the service-tag file comes from.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Service-tag file")]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(true).args(["file", "cloud"])))]
#[group(skip)]
pub struct Source {
    /// Service-tag JSON file (weekly download or `az network list-service-tags` output); `-` reads stdin.
    #[arg(
        long,
        short = 'f',
        value_name = "FILE",
        required_unless_present = "cloud"
    )]
    pub file: Option<String>,
    /// Use the cached file of this cloud, downloading it when missing or older than --max-age.
    /// With --file: the cloud the file must be of, and whose Resource Manager a live table is
    /// reached through [default with --file: public].
    #[arg(long, value_name = "CLOUD", value_parser = crate::values::cloud())]
    pub cloud: Option<snapshot::Cloud>,
    #[command(flatten)]
    pub net: crate::net::NetArgs,
}

impl Source {
    /// True when the file is read from stdin.
    pub fn is_stdin(&self) -> bool {
        self.file.as_deref() == Some("-")
    }

    fn path(&self, diag: &crate::output::Diag) -> anyhow::Result<String> {
        Ok(match (&self.file, self.cloud) {
            (Some(f), _) => f.clone(),
            (None, Some(c)) => crate::net::cached_file(c, &self.net, diag)?
                .display()
                .to_string(),
            (None, None) => anyhow::bail!("pass --file or --cloud"),
        })
    }

    /// Loads and validates the whole file; with both --file and --cloud, the file must be of
    /// that cloud.
    pub fn load(&self, diag: &crate::output::Diag) -> anyhow::Result<Snapshot> {
        let s = snapshot::load(&self.path(diag)?)?;
        if let (Some(_), Some(cloud)) = (&self.file, self.cloud) {
            anyhow::ensure!(
                s.cloud == cloud,
                "{} is a {} file, not a {cloud} one (--cloud)",
                s.source,
                s.cloud
            );
        }
        warn_next_link(&s, diag);
        Ok(s)
    }
}

pub fn warn_next_link(s: &Snapshot, diag: &crate::output::Diag) {
    if s.next_link.is_some() {
        diag.warn(format!(
            "{} has a nextLink: it is one page of an ARM API answer and may lack tags",
            s.source
        ));
    }
}

/// Options that shape a plan; shared by `plan` and the commands built on it.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Plan")]
pub struct PlanSelection {
    /// Region: ARM name (francecentral), display name ("France Central") or tag suffix (FranceCentral).
    #[arg(
        long,
        short = 'r',
        value_name = "REGION",
        required_unless_present = "tag"
    )]
    pub region: Option<String>,
    /// Tag name or glob (repeatable, case-insensitive), instead of the tags the profile needs
    /// for the region.
    #[arg(long, short = 't', value_name = "TAG")]
    pub tag: Vec<String>,
    /// The requirement profile whose tags a region's plan routes (`tagroute profiles` lists
    /// them): forced-tunneling (the region's BatchNodeManagement and AzureMachineLearning and the
    /// paired region's AzureMachineLearning), aml-public-ip, aml-no-public-ip, batch-classic,
    /// batch-simplified or legacy-2020.
    #[arg(long, value_name = "NAME", default_value = tagroute::profile::DEFAULT_PROFILE, value_parser = crate::values::profile)]
    pub profile: String,
    /// Address families to route.
    #[arg(long, value_parser = crate::values::family(), default_value = "ipv4")]
    pub family: FamilyChoice,
    /// Prefix of route names; routes whose names start with it belong to tagroute.
    #[arg(long, value_name = "P", default_value = DEFAULT_NAME_PREFIX)]
    pub name_prefix: String,
    /// Most routes the table may hold [default: 1000, Azure's limit per route table since May
    /// 2026; it was 400]. (Given with --slack or --allow-any-slack and no --budget, it is read
    /// as --budget, its spelling before --budget existed, with a note.)
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=crate::values::MAX_ROUTES_OPTION))]
    pub max_routes: Option<usize>,
    /// A route budget, with --slack or --allow-any-slack: the plan of at most N routes that
    /// sends the fewest extra addresses to Internet.
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=crate::values::MAX_ROUTES_OPTION))]
    pub budget: Option<usize>,
    /// exact: routes to Internet only; lpm: fewest routes, using exceptions back to the default
    /// next hop under longest-prefix match.
    #[arg(long, value_parser = crate::values::strategy(), default_value = "exact")]
    pub strategy: Strategy,
    /// Next hop of the table's default route, for lpm exception routes:
    /// VirtualAppliance:IP, VirtualApplianceEcmp:IP,IP,... (2 to 64 appliances) or
    /// VirtualNetworkGateway.
    #[arg(long, value_name = "HOP", value_parser = parse_default_next_hop)]
    pub default_next_hop: Option<NextHop>,
    /// Tags (names or globs, repeatable) whose unselected addresses may also go to Internet when
    /// that saves routes, e.g. AzureCloud.eastus.
    #[arg(long, value_name = "TAG")]
    pub slack: Vec<String>,
    /// Let any unselected address go to Internet when that saves routes.
    #[arg(long, conflicts_with = "slack")]
    pub allow_any_slack: bool,
    /// Service tags (names or globs, repeatable) the plan may use as whole routes, with the tag
    /// name as the address prefix; `auto` allows every tag whose networkFeatures include UDR.
    /// Azure expands such a route and keeps it current; it sends every address of the tag, so it
    /// is used only where all of them are selected or slack (or, with lpm, excepted).
    #[arg(long, value_name = "TAG")]
    pub tag_route: Vec<String>,
    /// Most service-tag routes the table may hold (Azure's limit per route table is 25).
    #[arg(long, value_name = "N", default_value_t = AZURE_MAX_TAG_ROUTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=crate::values::MAX_ROUTES_OPTION))]
    pub max_tag_routes: usize,
}

impl PlanSelection {
    /// These flags as a layer of the table's options.
    pub fn layer(&self) -> TableOptions {
        TableOptions {
            region: self.region.clone(),
            tags: Some(self.tag.clone()),
            profile: Some(self.profile.clone()),
            family: Some(self.family),
            name_prefix: Some(self.name_prefix.clone()),
            max_routes: self.max_routes,
            budget: self.budget,
            strategy: Some(self.strategy),
            default_next_hop: self.default_next_hop.clone(),
            slack: Some(self.slack.clone()),
            allow_any_slack: Some(self.allow_any_slack),
            tag_routes: Some(self.tag_route.clone()),
            max_tag_routes: Some(self.max_tag_routes),
            ..TableOptions::default()
        }
    }

    /// The table's options these flags give (with `writing`'s, when the command writes),
    /// resolved and checked by the library; what the user should read about them is told.
    pub fn resolve(
        &self,
        writing: Option<&crate::live::WriteArgs>,
        diag: &Diag,
    ) -> anyhow::Result<Resolved> {
        let mut layer = self.layer();
        if let Some(w) = writing {
            layer.max_changes = Some(w.max_changes);
            layer.write = Some(w.write);
        }
        let resolved = options::resolve(&[&layer]).map_err(crate::words::option)?;
        for note in &resolved.notes {
            diag.note(crate::words::note(note));
        }
        Ok(resolved)
    }

    /// The request these flags make (`hint`: say what tag routes would save).
    pub fn request(&self, hint: bool, diag: &Diag) -> anyhow::Result<PlanRequest> {
        let mut request = self.resolve(None, diag)?.request;
        request.hint = hint;
        Ok(request)
    }
}

/// Reads `VirtualAppliance:IP`, `VirtualApplianceEcmp:IP,IP,...` or `VirtualNetworkGateway`;
/// explains in the command line's words why nothing else can work.
fn parse_default_next_hop(text: &str) -> Result<NextHop, String> {
    use tagroute::request::DefaultHopError;
    tagroute::request::parse_default_next_hop(text).map_err(|e| match e {
        DefaultHopError::Bgp => "a default route learned over ExpressRoute or VPN BGP is not a \
            route-table next hop: exception routes cannot send traffic back to it, so use \
            --strategy exact (or point the default at a VirtualAppliance / \
            VirtualNetworkGateway route)"
            .to_owned(),
        DefaultHopError::Problem(p) => crate::values::default_hop_problem(&p),
        DefaultHopError::Fields(e) => e,
    })
}

/// `--output PATH`: write atomically to a file instead of stdout.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Output")]
pub struct OutputFile {
    /// Write to this file (atomically: it is replaced whole or left as it was) instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
}
