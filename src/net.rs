//! How tagroute reaches the outside, as one set of options: where the cache lives and when its
//! file is fetched again, which servers are asked, the one HTTP client's timeouts, retries and
//! byte limit, and how Resource Manager is signed in to. Every command gets its cache, its HTTP
//! client, each cloud's file and its Resource Manager clients here, so a caller (the command
//! line, or another program) fills these two types and builds no client itself.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::http::{FetchError, Http, HttpConfig, Progress};
use crate::snapshot::{Cloud, LoadError};
use crate::source::local::{Fetcher, Provenance, Wanted};
use crate::source::store::{Store, default_cache_dir};
use crate::source::{self, Endpoints, ForeignEndpoint, Method, SourceError};

/// Where the cache lives, when its file is fetched, and how servers are reached.
///
/// Offline, a cloud's file is the cached copy, whatever its age; none cached is an error that
/// names the cache:
///
/// ```
/// use tagroute::net::{NetError, NetOptions};
/// use tagroute::snapshot::Cloud;
/// use tagroute::source::{SourceError, Wanted};
/// let cache = std::env::temp_dir().join(format!("tagroute-doc-{}", std::process::id()));
/// let net = NetOptions { cache_dir: Some(cache.clone()), offline: true, ..Default::default() };
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let (mut notes, progress) = (Vec::new(), tagroute::http::Quiet);
/// let missing = rt.block_on(net.cloud_file(Cloud::Public, Wanted::MaxAge(net.max_age), &progress, &mut notes));
/// assert!(matches!(missing, Err(NetError::Source(SourceError::NotCached { .. }))));
///
/// std::fs::create_dir_all(&cache).unwrap();
/// let example = concat!(env!("CARGO_MANIFEST_DIR"), "/data/ServiceTags_Example.json");
/// std::fs::copy(example, cache.join("ServiceTags_Public.json")).unwrap();
/// let file = rt.block_on(net.cloud_file(Cloud::Public, Wanted::Newest, &progress, &mut notes)).unwrap();
/// assert_eq!(file.snapshot.cloud, Cloud::Public);
/// std::fs::remove_dir_all(&cache).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct NetOptions {
    /// The cache directory; `None`: the platform's.
    pub cache_dir: Option<PathBuf>,
    /// A cached file older than this is fetched again.
    pub max_age: Duration,
    /// Never touch the network: the cached file, whatever its age.
    pub offline: bool,
    /// The download-center page to find the file's link on; `None`: the cloud's.
    pub download_page: Option<Url>,
    /// The download path probed for recent dates; `None`: the cloud's.
    pub download_base: Option<Url>,
    /// Resource Manager (the Service Tag Discovery API and live tables); `None`: the cloud's.
    pub arm_endpoint: Option<Url>,
    /// How many days back the date probe looks.
    pub probe_days: u32,
    /// The HTTP client's timeouts, retries and byte limit.
    pub http: HttpConfig,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            cache_dir: None,
            max_age: Duration::from_secs(7 * 86_400),
            offline: false,
            download_page: None,
            download_base: None,
            arm_endpoint: None,
            probe_days: 35,
            http: HttpConfig::default(),
        }
    }
}

/// Why the outside could not be reached as the options say.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("no cache directory: the platform names none")]
    NoCacheDir,
    /// The Resource Manager endpoint given is not the cloud's (a token would go there).
    #[error(transparent)]
    ForeignEndpoint(#[from] ForeignEndpoint),
    #[error(transparent)]
    Http(#[from] FetchError),
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The cached file could not be parsed.
    #[error(transparent)]
    Load(#[from] LoadError),
    #[cfg(feature = "azure")]
    #[error(transparent)]
    Arm(#[from] crate::arm::ArmError),
}

impl NetOptions {
    /// The cache.
    pub fn store(&self) -> Result<Store, NetError> {
        let dir = self
            .cache_dir
            .clone()
            .or_else(default_cache_dir)
            .ok_or(NetError::NoCacheDir)?;
        Ok(Store::new(dir))
    }

    /// The one HTTP client, as the options configure it.
    pub fn http(&self) -> Result<Http, NetError> {
        Ok(Http::new(self.http.clone())?)
    }

    /// `cloud`'s servers, with those the options name instead.
    pub fn endpoints(&self, cloud: Cloud) -> Endpoints {
        let mut ep = source::endpoints(cloud);
        if let Some(u) = &self.download_page {
            ep.download_page = u.clone();
        }
        if let Some(u) = &self.download_base {
            ep.download_base = u.clone();
        }
        if let Some(u) = &self.arm_endpoint {
            ep.arm_endpoint = u.clone();
        }
        ep
    }

    /// The Resource Manager endpoint a token for `cloud` may go to: the one given when it is
    /// that cloud's own origin or a loopback address, else the cloud's.
    pub fn arm_endpoint(&self, cloud: Cloud) -> Result<Url, NetError> {
        Ok(source::arm_endpoint(cloud, self.arm_endpoint.as_ref())?)
    }

    /// The default way to find a file: the download page, then dates probed back from `today`.
    pub fn discover(&self, today: time::Date) -> Method {
        Method::Discover {
            probe_days: self.probe_days,
            today,
        }
    }

    /// The cached copy of `cloud`'s file as `wanted` asks (as it is when offline), fetched when
    /// it must be, found from today's date (UTC). Notes for the user are pushed on `notes`.
    pub async fn cached(
        &self,
        cloud: Cloud,
        wanted: Wanted,
        progress: &dyn Progress,
        notes: &mut Vec<String>,
    ) -> Result<(PathBuf, Provenance), NetError> {
        let wanted = if self.offline {
            Wanted::Offline
        } else {
            wanted
        };
        let store = self.store()?;
        let http = match wanted {
            Wanted::Offline => None,
            _ => Some(self.http()?),
        };
        let endpoints = self.endpoints(cloud);
        let method = self.discover(time::OffsetDateTime::now_utc().date());
        let fetcher = http.as_ref().map(|http| Fetcher {
            http,
            endpoints: &endpoints,
            method: &method,
            progress,
        });
        Ok(source::local::cached(&store, cloud, wanted, fetcher, notes).await?)
    }

    /// Fetches `cloud`'s newest file into the cache by `method` (`None`: the download page,
    /// then dates probed back from today); a token of [`Method::Arm`] goes to the cloud's own
    /// Resource Manager only (or to loopback). Gives the fetch's outcome and the cached file's
    /// path.
    pub async fn fetch(
        &self,
        cloud: Cloud,
        method: Option<Method>,
        progress: &dyn Progress,
        notes: &mut Vec<String>,
    ) -> Result<(source::Outcome, PathBuf), NetError> {
        let store = self.store()?;
        let http = self.http()?;
        let mut endpoints = self.endpoints(cloud);
        let method =
            method.unwrap_or_else(|| self.discover(time::OffsetDateTime::now_utc().date()));
        if matches!(method, Method::Arm { .. }) {
            endpoints.arm_endpoint = self.arm_endpoint(cloud)?;
        }
        let outcome =
            source::fetch(&http, &store, cloud, &endpoints, &method, progress, notes).await?;
        Ok((outcome, store.data_path(cloud)))
    }

    /// [`NetOptions::cached`], read (within the file size limit) and parsed.
    #[cfg(feature = "azure")]
    pub async fn cloud_file(
        &self,
        cloud: Cloud,
        wanted: Wanted,
        progress: &dyn Progress,
        notes: &mut Vec<String>,
    ) -> Result<crate::fleet::files::CloudFile, NetError> {
        let (path, provenance) = self.cached(cloud, wanted, progress, notes).await?;
        let bytes = crate::snapshot::read_source(&path.display().to_string())?;
        Ok(crate::fleet::files::CloudFile::parse(bytes, provenance)?)
    }
}

/// How Resource Manager is signed in to, and how long its operations may take. (No `Debug`:
/// it may hold a token.)
#[cfg(feature = "azure")]
#[derive(Clone)]
pub struct ArmAccess {
    /// A file holding a token, read again when a fresh one is needed.
    pub token_file: Option<PathBuf>,
    /// A token given as it is (`AZURE_ACCESS_TOKEN`); blank is none.
    pub token: Option<String>,
    /// Longest time one write (or discovery) may take.
    pub operation_timeout: Duration,
    /// Wait between polls of a long-running operation when Resource Manager names none.
    pub poll_interval: Duration,
}

#[cfg(feature = "azure")]
impl ArmAccess {
    /// Where the token comes from: the file, else the token given, else the Azure SDK's
    /// credentials for `cloud`.
    fn credentials(&self, cloud: Cloud) -> crate::arm::CredentialSource {
        use crate::arm::CredentialSource;
        match (&self.token_file, &self.token) {
            (Some(path), _) => CredentialSource::File(path.clone()),
            (None, Some(token)) if !token.trim().is_empty() => {
                CredentialSource::Given(token.clone())
            }
            _ => CredentialSource::Sdk(cloud),
        }
    }

    /// A client for the tables of `cloud`: its Resource Manager endpoint (or the one `net`
    /// names, which must be that endpoint or a loopback address, since the token goes there).
    pub fn client(
        &self,
        net: &NetOptions,
        cloud: Cloud,
    ) -> Result<crate::arm::ArmClient, NetError> {
        let endpoint = net.arm_endpoint(cloud)?;
        let opts = crate::arm::ArmOptions {
            http: net.http.clone(),
            operation_timeout: self.operation_timeout,
            poll_interval: self.poll_interval,
        };
        let tokens = crate::arm::Tokens::new(self.credentials(cloud));
        Ok(crate::arm::ArmClient::new(endpoint, tokens, opts)?)
    }

    /// One client per cloud of `clouds`.
    pub fn clients(
        &self,
        net: &NetOptions,
        clouds: impl IntoIterator<Item = Cloud>,
    ) -> Result<std::collections::BTreeMap<Cloud, crate::arm::ArmClient>, NetError> {
        let mut clients = std::collections::BTreeMap::new();
        for cloud in clouds {
            if let std::collections::btree_map::Entry::Vacant(e) = clients.entry(cloud) {
                e.insert(self.client(net, cloud)?);
            }
        }
        Ok(clients)
    }
}
