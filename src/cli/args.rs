//! Arguments shared by several subcommands, and their conversion into library values.

use std::path::PathBuf;

use clap::ValueEnum;
use tagroute::plan::{AZURE_MAX_ROUTES, DEFAULT_NAME_PREFIX};
use tagroute::select::FamilyChoice;
use tagroute::snapshot::{self, Snapshot};

/// Where the service-tag file comes from.
#[derive(clap::Args, Debug, Clone)]
pub struct Source {
    /// Service-tag JSON file (weekly download or `az network list-service-tags` output); `-` reads stdin.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: String,
}

impl Source {
    /// Loads and validates the file.
    pub fn load(&self, diag: &super::output::Diag) -> anyhow::Result<Snapshot> {
        let s = snapshot::load(&self.file)?;
        if s.next_link.is_some() {
            diag.warn(format!(
                "{} has a nextLink: it is one page of an ARM API answer and may lack tags",
                s.source
            ));
        }
        Ok(s)
    }
}

/// `--family`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyArg {
    Ipv4,
    Ipv6,
    Both,
}

impl From<FamilyArg> for FamilyChoice {
    fn from(f: FamilyArg) -> Self {
        match f {
            FamilyArg::Ipv4 => FamilyChoice::Ipv4,
            FamilyArg::Ipv6 => FamilyChoice::Ipv6,
            FamilyArg::Both => FamilyChoice::Both,
        }
    }
}

/// Options that shape a plan; shared by `plan` and the commands built on it.
#[derive(clap::Args, Debug, Clone)]
pub struct PlanSelection {
    /// Region: ARM name (francecentral), display name ("France Central") or tag suffix (FranceCentral).
    #[arg(
        long,
        short = 'r',
        value_name = "REGION",
        required_unless_present = "tag"
    )]
    pub region: Option<String>,
    /// Tag name or glob (repeatable, case-insensitive), instead of the region's default tags
    /// BatchNodeManagement.<region> and AzureMachineLearning.<region>.
    #[arg(long, short = 't', value_name = "TAG")]
    pub tag: Vec<String>,
    /// Address families to route.
    #[arg(long, value_enum, default_value_t = FamilyArg::Ipv4)]
    pub family: FamilyArg,
    /// Prefix of route names; routes whose names start with it belong to tagroute.
    #[arg(long, value_name = "P", default_value = DEFAULT_NAME_PREFIX)]
    pub name_prefix: String,
    /// Most routes the table may hold (Azure allows 400 per route table).
    #[arg(long, value_name = "N", default_value_t = AZURE_MAX_ROUTES)]
    pub max_routes: usize,
}

/// `--output PATH`: write atomically to a file instead of stdout.
#[derive(clap::Args, Debug, Clone)]
pub struct OutputFile {
    /// Write to this file (atomically: it is replaced whole or left as it was) instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
}
