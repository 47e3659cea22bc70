//! Network and cache options shared by `fetch`, `refresh` and every command that takes `--cloud`,
//! the tokio runtime (built only when a command goes to the network), and the progress bar.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use reqwest::Url;
use tagroute::fleet::files::CloudFile;
use tagroute::http::{HttpConfig, Progress};
use tagroute::net::NetOptions;
use tagroute::snapshot::Cloud;
use tagroute::source::{Provenance, Wanted};

/// How to reach the servers, and where the cache lives.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Download and cache")]
pub struct NetArgs {
    /// Cache directory [default: $TAGROUTE_CACHE_DIR, else the platform's cache directory].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Re-check the cached file when it is older than this many days.
    #[arg(long, value_name = "DAYS", default_value = "7", value_parser = crate::values::days)]
    pub max_age: Duration,
    /// Never touch the network: use the cached file, whatever its age.
    #[arg(long)]
    pub offline: bool,
    /// Download-center page to find the file's link on.
    #[arg(long, value_name = "URL")]
    pub download_page: Option<Url>,
    /// Fixed download path that is probed for recent dates when the page gives no link.
    #[arg(long, value_name = "URL")]
    pub download_base: Option<Url>,
    /// Resource Manager endpoint: of the Service Tag Discovery API and of live route tables
    /// [default: the cloud's].
    #[arg(long, value_name = "URL")]
    pub arm_endpoint: Option<Url>,
    /// How many days back the date probe looks.
    #[arg(long, value_name = "N", default_value_t = 35, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub probe_days: u32,
    /// Seconds allowed for one request, body included.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = crate::values::timeout)]
    pub timeout: Duration,
    /// Seconds allowed to connect.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = crate::values::timeout)]
    pub connect_timeout: Duration,
    /// Retries after a failed attempt (connect errors, timeouts, 429, 5xx).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,
    /// First retry delay in milliseconds (doubled each retry, with jitter; Retry-After wins).
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub retry_delay_ms: u64,
    /// Largest file accepted, in bytes (at most the default).
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = tagroute::snapshot::MAX_FILE_BYTES,
        value_parser = clap::value_parser!(u64).range(1..=tagroute::snapshot::MAX_FILE_BYTES)
    )]
    pub max_bytes: u64,
}

impl NetArgs {
    /// The library's network options, as the flags give them.
    pub fn options(&self) -> NetOptions {
        NetOptions {
            cache_dir: self.cache_dir.clone(),
            max_age: self.max_age,
            offline: self.offline,
            download_page: self.download_page.clone(),
            download_base: self.download_base.clone(),
            arm_endpoint: self.arm_endpoint.clone(),
            probe_days: self.probe_days,
            http: HttpConfig {
                connect_timeout: self.connect_timeout,
                timeout: self.timeout,
                retries: self.retries,
                backoff: Duration::from_millis(self.retry_delay_ms),
                max_bytes: self.max_bytes,
                ..HttpConfig::default()
            },
        }
    }

    /// The cached copy of `cloud`'s file as `wanted` asks (as it is, with `--offline`),
    /// fetched when it must be, with a progress bar on a terminal; the fetch's notes go to
    /// stderr.
    pub fn cached(
        &self,
        cloud: Cloud,
        wanted: Wanted,
        diag: &crate::output::Diag,
    ) -> anyhow::Result<(PathBuf, Provenance)> {
        fetching(diag, |bar, notes| {
            block_on(self.options().cached(cloud, wanted, bar, notes))
        })
    }

    /// [`NetArgs::cached`], read and parsed.
    pub fn cloud_file(
        &self,
        cloud: Cloud,
        wanted: Wanted,
        diag: &crate::output::Diag,
    ) -> anyhow::Result<CloudFile> {
        fetching(diag, |bar, notes| {
            block_on(self.options().cloud_file(cloud, wanted, bar, notes))
        })
    }
}

/// Runs a download of the library's with a progress bar on a terminal; its notes go to stderr
/// whether it succeeded or not.
pub fn fetching<T, E>(
    diag: &crate::output::Diag,
    run: impl FnOnce(&Bar, &mut Vec<String>) -> anyhow::Result<Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let mut notes = Vec::new();
    let bar = Bar::new(diag.quiet);
    let result = run(&bar, &mut notes)?;
    for n in notes {
        diag.note(n);
    }
    Ok(result?)
}

/// A single-threaded runtime, built only for the commands that go to the network.
pub fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(rt.block_on(f))
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
pub struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    pub fn new(quiet: bool) -> Self {
        let on = !quiet && std::io::stderr().is_terminal();
        Bar(on.then(indicatif::ProgressBar::hidden))
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: Option<u64>) {
        if let Some(b) = &self.0 {
            b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            b.reset();
            b.set_length(total.unwrap_or(0));
            let style = indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            b.set_style(style);
            let name = what.rsplit('/').next().unwrap_or(what);
            b.set_message(name.to_owned());
        }
    }
    fn advance(&self, bytes: u64) {
        if let Some(b) = &self.0 {
            b.inc(bytes);
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// The cached file of a cloud, downloading it when missing or older than `--max-age`.
pub fn cached_file(
    cloud: Cloud,
    net: &NetArgs,
    diag: &crate::output::Diag,
) -> anyhow::Result<PathBuf> {
    let (path, provenance) = net.cached(cloud, Wanted::MaxAge(net.max_age), diag)?;
    if let Provenance::Download(outcome) = provenance {
        diag.note(format!(
            "{} {} file, changeNumber {} ({} via {})",
            outcome.status, cloud, outcome.change_number, outcome.url, outcome.found_via
        ));
    }
    Ok(path)
}
