//! The async Open Payments client: signed requests with exact bytes, timeouts, response size
//! caps, retries by the rules of OPEN-PAYMENTS.md §6.2, one typed error, and caches for wallet
//! address documents and non-interactive grant tokens.
//!
//! One module per concern: [`wallet`] documents and keys, [`grants`] (GNAP: request, continue,
//! cancel, tokens), [`resources`] (incoming payments, quotes, outgoing payments), the
//! [`transport`] every call goes through, and the [`error`] they share.

mod error;
mod grants;
mod resources;
mod transport;
mod wallet;

pub use error::OpenPaymentsError;
pub use grants::{TOO_FAST_RETRY, WAIT_MARGIN};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde::Serialize;
use url::Url;

use crate::clock::Clock;
use crate::fetch_policy::{FetchPolicy, GuardedResolver, redirect_policy};
use crate::keys::SigningKey;
use crate::types::{AccessToken, WalletAddress};

type Result<T, E = OpenPaymentsError> = std::result::Result<T, E>;

/// The platform's Open Payments identity: its wallet address `id` and signing key.
#[derive(Debug)]
pub struct ClientIdentity {
    /// The client wallet address (sent as `client` in grant requests).
    pub wallet_address: String,
    /// The key registered in that wallet address's `jwks.json`.
    pub key: SigningKey,
}

/// Client settings.
#[derive(Debug)]
pub struct ClientConfig {
    /// Who we are.
    pub identity: ClientIdentity,
    /// Where we may connect.
    pub policy: FetchPolicy,
    /// Extra trusted root certificates (PEM bundle), for providers with a private CA.
    pub extra_root_certificates: Option<Vec<u8>>,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Largest accepted response body.
    pub max_response_bytes: usize,
    /// Attempts for retryable requests (at least 1).
    pub attempts: u32,
    /// First retry delay; doubles each time.
    pub backoff: Duration,
    /// How long wallet address documents are cached.
    pub wallet_address_ttl: Duration,
    /// How many times a `too_fast` continuation is retried.
    pub too_fast_retries: u32,
    /// Where the time comes from (signatures' `created`, grants' `wait`, token lifetimes).
    pub clock: Clock,
}

impl ClientConfig {
    /// Defaults for `identity` and `policy`: 10 s requests, 5 s connects, 1 MiB responses,
    /// 3 attempts from 200 ms, 5 min wallet-address cache.
    #[must_use]
    pub fn new(identity: ClientIdentity, policy: FetchPolicy) -> Self {
        Self {
            identity,
            policy,
            extra_root_certificates: None,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
            attempts: 3,
            backoff: Duration::from_millis(200),
            wallet_address_ttl: Duration::from_secs(300),
            too_fast_retries: 5,
            clock: Clock::system(),
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the Open Payments client: {0}")]
pub struct BuildError(String);

/// Whether a request may be repeated after a failure (§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Retry {
    /// GET and DELETE: network errors, timeouts and 5xx.
    Idempotent,
    /// Repeating leaves at most a harmless unused resource (grant and quote requests).
    Harmless,
    /// Only when the connection was never made (incoming and outgoing payments, continuation).
    OnlyUnsent,
}

struct Call<'a> {
    method: Method,
    url: Url,
    token: Option<&'a str>,
    body: Option<String>,
    retry: Retry,
}

/// The client. Cheap to clone; clones share the connection pool and caches.
#[derive(Clone, Debug)]
pub struct OpenPaymentsClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    policy: Arc<FetchPolicy>,
    identity: ClientIdentity,
    max_response_bytes: usize,
    attempts: u32,
    backoff: Duration,
    too_fast_retries: u32,
    wallet_address_ttl: Duration,
    clock: Clock,
    wallet_addresses: Mutex<HashMap<String, (SystemTime, WalletAddress)>>,
    tokens: Mutex<HashMap<String, CachedToken>>,
}

#[derive(Clone, Debug)]
struct CachedToken {
    token: AccessToken,
    expires: Option<SystemTime>,
}

impl OpenPaymentsClient {
    /// Builds the client.
    ///
    /// # Errors
    /// [`BuildError`] when the extra root certificates are not PEM or TLS cannot be set up.
    pub fn new(config: ClientConfig) -> Result<Self, BuildError> {
        // reqwest is built without a default crypto provider; this process uses ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Arc::new(config.policy);
        let mut builder = reqwest::Client::builder()
            .dns_resolver(GuardedResolver::new(Arc::clone(&policy)))
            .redirect(redirect_policy(Arc::clone(&policy)))
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("shifting/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &config.extra_root_certificates {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| BuildError(format!("extra root certificates: {e}")))?;
            if certificates.is_empty() {
                return Err(BuildError(
                    "the extra root certificate file holds no certificate".into(),
                ));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let http = builder.build().map_err(|e| BuildError(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                policy,
                identity: config.identity,
                max_response_bytes: config.max_response_bytes,
                attempts: config.attempts.max(1),
                backoff: config.backoff,
                too_fast_retries: config.too_fast_retries,
                wallet_address_ttl: config.wallet_address_ttl,
                clock: config.clock,
                wallet_addresses: Mutex::new(HashMap::new()),
                tokens: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The clock the client reads time from (the application's).
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The client wallet address sent as `client`.
    #[must_use]
    pub fn client_wallet_address(&self) -> &str {
        &self.inner.identity.wallet_address
    }
}

fn parse(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|_| OpenPaymentsError::InvalidUrl(url.to_owned()))
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Our request types serialise infallibly (no maps with non-string keys, no custom errors).
    serde_json::to_string(value).unwrap_or_else(|_| unreachable!("request bodies always serialise"))
}
