//! `tagroute fetch`: download the newest service-tag file of a cloud into the cache.

use std::path::PathBuf;

use anyhow::Context;
use reqwest::Url;
use tagroute::snapshot::Cloud;
use tagroute::source::Method;

use crate::net::{NetArgs, block_on};
use crate::output::{Diag, Status, deliver, write_atomic};

/// What the command does: the first line of its help and its line in `tagroute --help`.
pub const ABOUT: &str = "Download the newest service-tag file of a cloud: found on the \
download-center page, else by probing the fixed download path for recent dates, or from --url, or \
from the ARM API, or from a file on this machine (--file: to seed the cache for --offline). The \
file is validated (JSON, cloud, changeNumber not older than the cached one) before it is stored";

#[derive(clap::Args, Debug)]
#[command(about = ABOUT, after_help = "\
Examples:
  tagroute fetch --cloud public
  tagroute fetch --cloud usgov --out ServiceTags_AzureGovernment.json
  tagroute fetch --cloud public --file data/ServiceTags_Example.json --cache-dir ./example-cache
  tagroute fetch --cloud public --url \\
      https://download.microsoft.com/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/\\
ServiceTags_Public_20251028.json
  AZURE_ACCESS_TOKEN=$(az account get-access-token --query accessToken -o tsv) \\
      tagroute fetch --cloud public --arm --subscription $SUB --location westeurope

Exit status: 0 stored or already current, 2 error (the cached file is then left as it was).")]
pub struct Args {
    /// The cloud.
    #[arg(long, value_parser = crate::values::cloud())]
    cloud: Cloud,
    /// Also write the file here (atomically).
    #[arg(long, short = 'o', value_name = "PATH")]
    out: Option<PathBuf>,
    /// Download this URL instead of discovering the newest file (`file://` reads a local file,
    /// as --file).
    #[arg(long, value_name = "URL", conflicts_with = "arm")]
    url: Option<Url>,
    /// Store this local file, validated as a download is, instead of downloading: the cache
    /// then serves --offline runs.
    #[arg(long, short = 'f', value_name = "PATH", conflicts_with_all = ["arm", "url"])]
    file: Option<PathBuf>,
    /// Use the ARM Service Tag Discovery API (needs --subscription, --location and a token in
    /// $AZURE_ACCESS_TOKEN or --token-file). It can lag the weekly file by weeks.
    #[arg(long, requires_all = ["subscription", "location"])]
    arm: bool,
    /// Subscription ID for --arm.
    #[arg(long, value_name = "ID")]
    subscription: Option<String>,
    /// Location for --arm (any region of the cloud; the answer covers all regions).
    #[arg(long, value_name = "LOCATION")]
    location: Option<String>,
    /// File holding the bearer token for --arm (else $AZURE_ACCESS_TOKEN). Never printed.
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Output format of the summary on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    net: NetArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
}

fn token(args: &Args) -> anyhow::Result<String> {
    let token = match &args.token_file {
        Some(path) => tagroute::arm::read_token_file(path)?,
        None => std::env::var("AZURE_ACCESS_TOKEN").map_err(|_| {
            anyhow::anyhow!("--arm needs a token in $AZURE_ACCESS_TOKEN or --token-file")
        })?,
    };
    let token = token.trim().to_owned();
    anyhow::ensure!(!token.is_empty(), "the access token is empty");
    Ok(token)
}

pub fn run(args: Args, diag: &Diag) -> anyhow::Result<Status> {
    let cloud = args.cloud;
    let method = if args.arm {
        Some(Method::Arm {
            subscription: args.subscription.clone().expect("required by clap"),
            location: args.location.clone().expect("required by clap"),
            token: token(&args)?,
        })
    } else if let Some(path) = &args.file {
        Some(Method::File(path.clone()))
    } else if let Some(url) = args.url.as_ref().filter(|u| u.scheme() == "file") {
        let path = url
            .to_file_path()
            .map_err(|()| anyhow::anyhow!("--url {url}: not a local file's URL"))?;
        Some(Method::File(path))
    } else {
        args.url.clone().map(Method::Url)
    };
    anyhow::ensure!(
        !args.net.offline || matches!(method, Some(Method::File(_))),
        "fetch goes to the network; --offline makes no sense here (but with --file)"
    );
    let (outcome, cached) = crate::net::fetching(diag, |bar, notes| {
        block_on(args.net.options().fetch(cloud, method, bar, notes))
    })?;
    if let Some(out) = &args.out {
        let bytes = tagroute::snapshot::read_source(&cached.display().to_string())
            .context("cannot read the cached file")?;
        write_atomic(out, &bytes)?;
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&outcome)? + "\n",
        Format::Text => format!(
            "{}: {} changeNumber {}{} at {} (from {}, found via {})\n",
            outcome.status,
            outcome.cloud,
            outcome.change_number,
            outcome
                .previous_change_number
                .filter(|&p| p != outcome.change_number)
                .map(|p| format!(" (was {p})"))
                .unwrap_or_default(),
            args.out
                .as_ref()
                .map_or(outcome.path.clone(), |o| o.display().to_string()),
            outcome.url,
            outcome.found_via
        ),
    };
    deliver(&text, None)?;
    Ok(Status::Ok)
}
