//! Resource Manager tokens: one given to the program (a file, or `AZURE_ACCESS_TOKEN`), or the
//! Azure SDK for Rust's credentials tried in the order its other languages' default chain uses:
//! a service principal from the environment, workload identity federation (CI pipelines,
//! Kubernetes), a managed identity (Azure ML compute's, which the SDK lacks, from `azureml`), the
//! Azure CLI's login. The SDK's HTTP client reads every token answer within a bound.
//!
//! A token is a secret: it is held in memory only, never printed, logged or written (`Debug`
//! says `<token>`), and the client sends it to the Resource Manager endpoint alone.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::CloudConfiguration;
use azure_core::credentials::TokenCredential;
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use azure_identity::{
    AzureCliCredential, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};

use crate::snapshot::Cloud;

/// Where tokens come from.
pub enum CredentialSource {
    /// A token kept in a file, read again when a fresh one is needed (a sidecar may renew it).
    File(PathBuf),
    /// A token given as it is (`AZURE_ACCESS_TOKEN`).
    Given(String),
    /// The Azure SDK's credentials, for this cloud's Resource Manager.
    Sdk(Cloud),
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::File(p) => write!(f, "File({})", p.display()),
            CredentialSource::Given(_) => f.write_str("Given(<token>)"),
            CredentialSource::Sdk(c) => write!(f, "Sdk({c})"),
        }
    }
}

/// A source of bearer tokens for one cloud's Resource Manager.
pub struct Tokens {
    source: CredentialSource,
    /// The SDK credential that gave a token, once one did.
    chosen: Option<Arc<dyn TokenCredential>>,
    /// Azure ML compute's managed identity gave a token.
    azure_ml: bool,
    current: Option<String>,
    /// Why no credential of the chain gave a token, once the whole chain was tried: the
    /// answer for every later asker (the tables of a fleet), who would wait for each
    /// credential's timeout again to hear the same.
    exhausted: Option<Vec<String>>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tokens({:?})", self.source)
    }
}

/// The Resource Manager audience of a cloud, as a scope.
fn scope(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Public => "https://management.azure.com/.default",
        Cloud::AzureGovernment => "https://management.usgovcloudapi.net/.default",
        Cloud::China => "https://management.chinacloudapi.cn/.default",
    }
}

/// Largest answer a token endpoint may give: a token answer is a few kilobytes.
pub(crate) const MAX_TOKEN_ANSWER_BYTES: u64 = 1024 * 1024;

/// The SDK's own HTTP client, with every answer's body read within a limit (counted after
/// decompression): a token endpoint that answers more fails the credential instead of filling
/// memory.
#[derive(Debug)]
struct Bounded {
    inner: Arc<dyn HttpClient>,
    limit: u64,
}

#[async_trait::async_trait]
impl HttpClient for Bounded {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let (status, headers, mut body) = self.inner.execute_request(request).await?.deconstruct();
        let mut bytes = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut body), cx)
        })
        .await
        {
            let chunk = chunk?;
            if (bytes.len() + chunk.len()) as u64 > self.limit {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Other,
                    format!("the answer is larger than {} bytes", self.limit),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(AsyncRawResponse::from_bytes(status, headers, bytes))
    }
}

fn cloud_config(cloud: Cloud) -> ClientOptions {
    let config = match cloud {
        Cloud::Public => CloudConfiguration::AzurePublic,
        Cloud::AzureGovernment => CloudConfiguration::AzureGovernment,
        Cloud::China => CloudConfiguration::AzureChina,
    };
    let bounded = Bounded {
        inner: azure_core::http::new_http_client(None),
        limit: MAX_TOKEN_ANSWER_BYTES,
    };
    ClientOptions {
        cloud: Some(Arc::new(config)),
        transport: Some(Transport::new(Arc::new(bounded))),
        ..ClientOptions::default()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A credential of the chain: its name, itself, and how long it may take.
type Link = (&'static str, Arc<dyn TokenCredential>, Duration);

/// The SDK credentials that the environment makes possible, in the chain's order, and why each
/// one the environment asks for could not be made (the SDK has no managed identity of Azure ML
/// compute or Cloud Shell, which set `MSI_ENDPOINT`).
fn chain(cloud: Cloud) -> (Vec<Link>, Vec<String>) {
    let mut out: Vec<Link> = Vec::new();
    let mut unusable = Vec::new();
    if let (Some(tenant), Some(client), Some(secret)) = (
        env("AZURE_TENANT_ID"),
        env("AZURE_CLIENT_ID"),
        env("AZURE_CLIENT_SECRET"),
    ) {
        let options = ClientSecretCredentialOptions {
            client_options: cloud_config(cloud),
        };
        match ClientSecretCredential::new(&tenant, client, secret.into(), Some(options)) {
            Ok(c) => out.push(("environment service principal", c, CREDENTIAL_TIMEOUT)),
            Err(e) => unusable.push(format!(
                "environment service principal: {}",
                first_line(&e.to_string())
            )),
        }
    }
    if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        let mut options = WorkloadIdentityCredentialOptions::default();
        options.credential_options.client_options = cloud_config(cloud);
        match WorkloadIdentityCredential::new(Some(options)) {
            Ok(c) => out.push(("workload identity", c, CREDENTIAL_TIMEOUT)),
            Err(e) => unusable.push(format!("workload identity: {}", first_line(&e.to_string()))),
        }
    }
    let managed = ManagedIdentityCredentialOptions {
        client_options: cloud_config(cloud),
        ..ManagedIdentityCredentialOptions::default()
    };
    match ManagedIdentityCredential::new(Some(managed)) {
        Ok(c) => out.push(("managed identity", c, MANAGED_IDENTITY_TIMEOUT)),
        // Azure ML compute's is served by `azureml` instead.
        Err(_) if super::azureml::environment().is_some() => {}
        Err(e) => unusable.push(format!("managed identity: {}", first_line(&e.to_string()))),
    }
    match AzureCliCredential::new(None) {
        Ok(c) => out.push(("Azure CLI", c, CREDENTIAL_TIMEOUT)),
        Err(e) => unusable.push(format!("Azure CLI: {}", first_line(&e.to_string()))),
    }
    (out, unusable)
}

/// Longest wait for one credential of the chain.
const CREDENTIAL_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest wait for the managed identity endpoint: off Azure nothing answers there, and the Azure
/// CLI's login that comes next must not wait long behind it.
const MANAGED_IDENTITY_TIMEOUT: Duration = Duration::from_secs(5);

impl Tokens {
    /// Tokens from `source`.
    pub fn new(source: CredentialSource) -> Tokens {
        Tokens {
            source,
            chosen: None,
            azure_ml: false,
            current: None,
            exhausted: None,
        }
    }

    /// A token: the one held, or with `fresh` (after a 401) a new one.
    pub async fn get(&mut self, fresh: bool) -> Result<String, AuthError> {
        if let (Some(t), false) = (&self.current, fresh) {
            return Ok(t.clone());
        }
        let token = match &self.source {
            CredentialSource::Given(t) => t.trim().to_owned(),
            CredentialSource::File(path) => read_token_file(path)?,
            CredentialSource::Sdk(cloud) => self.sdk_token(*cloud).await?,
        };
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AuthError::NotPrintable);
        }
        crate::secret::register(&token);
        self.current = Some(token.clone());
        Ok(token)
    }

    async fn sdk_token(&mut self, cloud: Cloud) -> Result<String, AuthError> {
        let scopes = [scope(cloud)];
        if let Some(c) = &self.chosen {
            return c
                .get_token(&scopes, None)
                .await
                .map(|t| t.token.secret().to_owned())
                .map_err(AuthError::Credential);
        }
        // Azure ML compute's managed identity, which the SDK lacks, takes the managed
        // identity's place in the chain: after a service principal or workload identity the
        // environment names, before the Azure CLI's login.
        let resource = scope(cloud).trim_end_matches("/.default");
        let azure_ml = super::azureml::environment();
        if self.azure_ml
            && let Some((endpoint, secret)) = &azure_ml
        {
            return super::azureml::token(endpoint, secret, resource, MAX_TOKEN_ANSWER_BYTES)
                .await
                .map_err(AuthError::AzureMl);
        }
        if let Some(tried) = &self.exhausted {
            return Err(AuthError::NoCredential {
                tried: tried.clone(),
            });
        }
        let (links, mut tried) = chain(cloud);
        let mut links = links.into_iter().peekable();
        let mut azure_ml = azure_ml;
        loop {
            if links.peek().is_none_or(|l| l.0 == "Azure CLI")
                && let Some((endpoint, secret)) = azure_ml.take()
            {
                match super::azureml::token(&endpoint, &secret, resource, MAX_TOKEN_ANSWER_BYTES)
                    .await
                {
                    Ok(token) => {
                        self.azure_ml = true;
                        return Ok(token);
                    }
                    Err(e) => tried.push(format!(
                        "Azure ML managed identity: {}",
                        first_line(&e.to_string())
                    )),
                }
            }
            let Some((name, credential, limit)) = links.next() else {
                break;
            };
            let got = tokio::time::timeout(limit, credential.get_token(&scopes, None));
            match got.await {
                Ok(Ok(token)) => {
                    self.chosen = Some(credential);
                    return Ok(token.token.secret().to_owned());
                }
                Ok(Err(e)) => tried.push(format!(
                    "{name}: {}",
                    first_line(&crate::text::chain_once(&e))
                )),
                Err(_) => tried.push(format!("{name}: no answer in {} s", limit.as_secs())),
            }
        }
        self.exhausted = Some(tried.clone());
        Err(AuthError::NoCredential { tried })
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("token file {}: {problem}", .path.display())]
    TokenFile {
        path: PathBuf,
        problem: TokenFileProblem,
    },
    #[error("the access token is empty or not printable ASCII")]
    NotPrintable,
    #[error("getting a Resource Manager token: {0}")]
    Credential(azure_core::Error),
    #[error("getting a Resource Manager token from Azure ML compute's identity")]
    AzureMl(#[source] super::azureml::AzureMlError),
    #[error(
        "no Azure credential gave a Resource Manager token (give one in a token file or \
         AZURE_ACCESS_TOKEN; tried {})",
        .tried.join("; ")
    )]
    NoCredential {
        /// Each credential of the chain and why it gave none.
        tried: Vec<String>,
    },
}

/// What is wrong with a token file.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileProblem {
    #[error("{0}")]
    Io(std::io::Error),
    #[error("not a regular file")]
    NotRegular,
    #[error("larger than {MAX_TOKEN_FILE_BYTES} bytes, which no access token is")]
    TooLarge,
    #[error("larger than {MAX_TOKEN_FILE_BYTES} bytes")]
    GrewTooLarge,
    #[error(
        "readable by {who} (mode {mode:04o}): a token grants access to your subscriptions, so it \
         is refused as ssh refuses a private key others can read; run chmod 600 on it"
    )]
    TooOpen { who: &'static str, mode: u32 },
}

/// Largest token file read: a Resource Manager access token is a few kilobytes.
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// Reads a token from a file: a regular file of at most [`MAX_TOKEN_FILE_BYTES`], opened
/// without blocking (a FIFO or a device is refused before anything is read, so a run holding
/// the state lock never waits on one), the token trimmed.
pub fn read_token_file(path: &std::path::Path) -> Result<String, AuthError> {
    use std::io::Read;
    let fail = |problem: TokenFileProblem| AuthError::TokenFile {
        path: path.to_owned(),
        problem,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| fail(TokenFileProblem::Io(e)))?;
    let meta = file.metadata().map_err(|e| fail(TokenFileProblem::Io(e)))?;
    if !meta.is_file() {
        return Err(fail(TokenFileProblem::NotRegular));
    }
    if meta.len() > MAX_TOKEN_FILE_BYTES {
        return Err(fail(TokenFileProblem::TooLarge));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        let who = match (mode & 0o040 != 0, mode & 0o004 != 0) {
            (true, true) => Some("its group and others"),
            (true, false) => Some("its group"),
            (false, true) => Some("others"),
            (false, false) => None,
        };
        if let Some(who) = who {
            return Err(fail(TokenFileProblem::TooOpen { who, mode }));
        }
    }
    let mut text = String::new();
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| fail(TokenFileProblem::Io(e)))?;
    if text.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(fail(TokenFileProblem::GrewTooLarge));
    }
    Ok(text.trim().to_owned())
}

fn first_line(text: &str) -> String {
    crate::text::for_terminal(text.lines().next().unwrap_or_default()).into_owned()
}
