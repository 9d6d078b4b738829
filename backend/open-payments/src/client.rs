//! The async Open Payments client: signed requests with exact bytes, timeouts, response size
//! caps, retries by the rules of OPEN-PAYMENTS.md §6.2, one typed error, and caches for wallet
//! address documents and non-interactive grant tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::fetch_policy::{FetchPolicy, GuardedResolver, PolicyError, redirect_policy};
use crate::keys::{Jwks, SigningKey};
use crate::signatures::{RequestToSign, sign};
use crate::types::{
    AccessItem, AccessToken, AccessTokenRequest, Continuation, ContinueRequest,
    CreateIncomingPayment, CreateOutgoingPayment, CreateQuote, ErrorResponse, GrantOutcome,
    GrantRequest, GrantResponse, IncomingPayment, InteractRequest, OutgoingPayment, Page, Quote,
    WalletAddress,
};

/// Added to a grant's `wait` before continuing it: the wallet's clock and ours round differently.
pub const WAIT_MARGIN: Duration = Duration::from_millis(100);
/// The pause before continuing again after a `too_fast` answer.
pub const TOO_FAST_RETRY: Duration = Duration::from_secs(1);

/// Everything that can go wrong talking to a wallet provider.
#[derive(Debug, thiserror::Error)]
pub enum OpenPaymentsError {
    /// The destination is not allowed (SSRF policy).
    #[error("{url} is not allowed: {source}")]
    Policy {
        /// The URL.
        url: String,
        /// Why.
        source: PolicyError,
    },
    /// The URL is not a valid absolute URL.
    #[error("{0:?} is not a valid URL")]
    InvalidUrl(String),
    /// The server could not be reached.
    #[error("could not reach {url}: {message}")]
    Network {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The server did not answer in time.
    #[error("{url} did not answer in time")]
    Timeout {
        /// The URL.
        url: String,
    },
    /// The answer was larger than the cap.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// The server answered an error status.
    #[error("{url} answered {status}{}{}", .code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Status {
        /// The URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// GNAP code or the resource server's status string.
        code: Option<String>,
        /// Description from the server.
        description: Option<String>,
    },
    /// The answer could not be decoded.
    #[error("{url} answered something unexpected: {message}")]
    Decode {
        /// The URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The grant response had a shape this client does not use.
    #[error("the grant response from {0} was neither granted nor pending")]
    UnexpectedGrant(String),
}

impl OpenPaymentsError {
    /// The HTTP status, for server errors.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The GNAP or resource-server error code.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether repeating the same request may succeed (network, timeout, 5xx, 429).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } | Self::Timeout { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// Whether the server may have acted on the request: anything but a refusal (4xx) or a
    /// request that was never sent (policy, URL). A timeout or a 5xx may follow a payment the
    /// wallet created.
    #[must_use]
    pub fn may_have_acted(&self) -> bool {
        match self {
            Self::Policy { .. } | Self::InvalidUrl(_) => false,
            Self::Status { status, .. } => !(400..500).contains(status),
            _ => true,
        }
    }

    fn is_too_fast(&self) -> bool {
        self.code() == Some("too_fast")
    }
}

type Result<T, E = OpenPaymentsError> = std::result::Result<T, E>;

/// Returns once the grant's `wait` (plus [`WAIT_MARGIN`]) has passed since `grant_answered`,
/// when the grant response arrived; at once for a grant without `wait`. [`OpenPaymentsClient::
/// continue_grant`] calls it itself; a caller that must check something just before the
/// continuation (is the sale still open?) awaits it first.
pub async fn wait_until_continuable(continuation: &Continuation, grant_answered: SystemTime) {
    let wait = Duration::from_secs(continuation.wait.unwrap_or(0));
    if wait.is_zero() {
        return;
    }
    let due = wait + WAIT_MARGIN;
    if let Ok(elapsed) = grant_answered.elapsed()
        && elapsed < due
    {
        tokio::time::sleep(due - elapsed).await;
    }
}

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
    wallet_addresses: Mutex<HashMap<String, (Instant, WalletAddress)>>,
    tokens: Mutex<HashMap<String, CachedToken>>,
}

#[derive(Clone, Debug)]
struct CachedToken {
    token: AccessToken,
    expires: Option<Instant>,
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
                wallet_addresses: Mutex::new(HashMap::new()),
                tokens: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The client wallet address sent as `client`.
    #[must_use]
    pub fn client_wallet_address(&self) -> &str {
        &self.inner.identity.wallet_address
    }

    /// `GET {url}`: a wallet address document, cached for the configured TTL.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_wallet_address(&self, url: &str) -> Result<WalletAddress> {
        if let Some(cached) = self.cached_wallet_address(url) {
            return Ok(cached);
        }
        let document: WalletAddress = self.get(parse(url)?, None).await?;
        if let Ok(mut cache) = self.inner.wallet_addresses.lock() {
            cache.retain(|_, (at, _)| at.elapsed() < self.inner.wallet_address_ttl);
            cache.insert(url.to_owned(), (Instant::now(), document.clone()));
        }
        Ok(document)
    }

    fn cached_wallet_address(&self, url: &str) -> Option<WalletAddress> {
        let cache = self.inner.wallet_addresses.lock().ok()?;
        let (at, document) = cache.get(url)?;
        (at.elapsed() < self.inner.wallet_address_ttl).then(|| document.clone())
    }

    /// `GET {wallet address}/jwks.json`.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_jwks(&self, wallet_address: &str) -> Result<Jwks> {
        let url = parse(&format!(
            "{}/jwks.json",
            wallet_address.trim_end_matches('/')
        ))?;
        self.get(url, None).await
    }

    /// `POST {authServer}`: requests a grant for `access`, interactive when `interact` is given.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn request_grant(
        &self,
        auth_server: &str,
        access: Vec<AccessItem>,
        interact: Option<InteractRequest>,
    ) -> Result<GrantResponse> {
        let request = GrantRequest {
            access_token: AccessTokenRequest { access },
            client: self.inner.identity.wallet_address.clone(),
            interact,
        };
        self.post(
            parse(auth_server)?,
            None,
            Some(to_json(&request)),
            Retry::Harmless,
        )
        .await
    }

    /// `POST {continue.uri}` with the `interact_ref` of the finish redirect. Waits until `wait`
    /// seconds (plus a small margin) have passed since `grant_answered`, when the grant
    /// response arrived: Rafiki counts `wait` from when it stored the grant, after fetching the
    /// client's keys, so the moment the request was sent is too early. A `too_fast` answer is
    /// retried after [`TOO_FAST_RETRY`], not a whole `wait` (the window does not restart).
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn continue_grant(
        &self,
        continuation: &Continuation,
        interact_ref: &str,
        grant_answered: SystemTime,
    ) -> Result<GrantResponse> {
        wait_until_continuable(continuation, grant_answered).await;
        let body = to_json(&ContinueRequest {
            interact_ref: interact_ref.to_owned(),
        });
        let url = parse(&continuation.uri)?;
        let mut retries = 0;
        loop {
            let call = Call {
                method: Method::POST,
                url: url.clone(),
                token: Some(&continuation.access_token.value),
                body: Some(body.clone()),
                retry: Retry::OnlyUnsent,
            };
            match self.call::<GrantResponse>(call).await {
                Err(err) if err.is_too_fast() && retries < self.inner.too_fast_retries => {
                    retries += 1;
                    tracing::debug!(uri = %continuation.uri, retries, "grant continued too fast; retrying");
                    tokio::time::sleep(TOO_FAST_RETRY).await;
                }
                other => return other,
            }
        }
    }

    /// `DELETE {continue.uri}`: cancels the grant and revokes its tokens.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn cancel_grant(&self, continuation: &Continuation) -> Result<()> {
        self.call_empty(Call {
            method: Method::DELETE,
            url: parse(&continuation.uri)?,
            token: Some(&continuation.access_token.value),
            body: None,
            retry: Retry::Idempotent,
        })
        .await
    }

    /// `POST {manage}`: rotates a token (also an expired one); the old one stops working.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn rotate_token(&self, token: &AccessToken) -> Result<AccessToken> {
        let response: GrantResponse = self
            .post(
                parse(&token.manage)?,
                Some(&token.value),
                None,
                Retry::OnlyUnsent,
            )
            .await?;
        response
            .access_token
            .ok_or_else(|| OpenPaymentsError::UnexpectedGrant(token.manage.clone()))
    }

    /// `DELETE {manage}`: revokes a token.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn revoke_token(&self, token: &AccessToken) -> Result<()> {
        self.call_empty(Call {
            method: Method::DELETE,
            url: parse(&token.manage)?,
            token: Some(&token.value),
            body: None,
            retry: Retry::Idempotent,
        })
        .await
    }

    /// A non-interactive token for `access` at `auth_server`, from the cache when it has more than
    /// a minute left, rotated when it is about to expire, or from a new grant.
    ///
    /// # Errors
    /// [`OpenPaymentsError`], or [`OpenPaymentsError::UnexpectedGrant`] when the server wants
    /// interaction.
    pub async fn token_for(&self, auth_server: &str, access: &AccessItem) -> Result<AccessToken> {
        let key = cache_key(auth_server, access);
        let cached = self
            .inner
            .tokens
            .lock()
            .ok()
            .and_then(|tokens| tokens.get(&key).cloned());
        if let Some(cached) = cached {
            let fresh = cached
                .expires
                .is_none_or(|at| at > Instant::now() + Duration::from_secs(60));
            if fresh {
                return Ok(cached.token);
            }
            if let Ok(rotated) = self.rotate_token(&cached.token).await {
                self.remember(key, &rotated);
                return Ok(rotated);
            }
        }
        let response = self
            .request_grant(auth_server, vec![access.clone()], None)
            .await?;
        match response.outcome() {
            GrantOutcome::Granted(token) => {
                self.remember(key, token);
                Ok(token.clone())
            }
            _ => Err(OpenPaymentsError::UnexpectedGrant(auth_server.to_owned())),
        }
    }

    /// Runs `request` with a cached non-interactive token; when the resource server answers 403
    /// (an inactive token), rotates the token (or requests a new grant) and runs it once more.
    ///
    /// # Errors
    /// The request's error, or the token's.
    pub async fn with_token<T, F, Fut>(
        &self,
        auth_server: &str,
        access: &AccessItem,
        request: F,
    ) -> Result<T>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.token_for(auth_server, access).await?;
        match request(token.clone()).await {
            Err(err) if err.status() == Some(403) => {
                let key = cache_key(auth_server, access);
                if let Ok(mut tokens) = self.inner.tokens.lock() {
                    tokens.remove(&key);
                }
                let renewed = match self.rotate_token(&token).await {
                    Ok(rotated) => {
                        self.remember(key, &rotated);
                        rotated
                    }
                    Err(_) => self.token_for(auth_server, access).await?,
                };
                request(renewed).await
            }
            other => other,
        }
    }

    fn remember(&self, key: String, token: &AccessToken) {
        if let Ok(mut tokens) = self.inner.tokens.lock() {
            let expires = token
                .expires_in
                .map(|secs| Instant::now() + Duration::from_secs(secs));
            tokens.insert(
                key,
                CachedToken {
                    token: token.clone(),
                    expires,
                },
            );
        }
    }

    /// `POST {resourceServer}/incoming-payments`. Not retried once sent: creation is not
    /// idempotent.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn create_incoming_payment(
        &self,
        wallet: &WalletAddress,
        token: &str,
        body: &CreateIncomingPayment,
    ) -> Result<IncomingPayment> {
        let url = parse(&wallet.resource_url("incoming-payments"))?;
        self.post(url, Some(token), Some(to_json(body)), Retry::OnlyUnsent)
            .await
    }

    /// `GET {id}` of an incoming payment (authenticated view).
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_incoming_payment(&self, id: &str, token: &str) -> Result<IncomingPayment> {
        self.get(parse(id)?, Some(token)).await
    }

    /// `POST {id}/complete`: stops an incoming payment from accepting more money.
    ///
    /// # Errors
    /// [`OpenPaymentsError`] (409 when it is already completed).
    pub async fn complete_incoming_payment(
        &self,
        id: &str,
        token: &str,
    ) -> Result<IncomingPayment> {
        let url = parse(&format!("{}/complete", id.trim_end_matches('/')))?;
        self.post(url, Some(token), None, Retry::Harmless).await
    }

    /// `GET {resourceServer}/incoming-payments?wallet-address=…&first=…[&cursor=…]`.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn list_incoming_payments(
        &self,
        wallet: &WalletAddress,
        token: &str,
        first: u8,
        cursor: Option<&str>,
    ) -> Result<Page<IncomingPayment>> {
        let url = list_url(wallet, "incoming-payments", first, cursor)?;
        self.get(url, Some(token)).await
    }

    /// `POST {resourceServer}/quotes` for `receiver` (an incoming payment URL), without amounts.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn create_quote(
        &self,
        wallet: &WalletAddress,
        token: &str,
        receiver: &str,
    ) -> Result<Quote> {
        let body = CreateQuote {
            wallet_address: wallet.id.clone(),
            receiver: receiver.to_owned(),
            method: "ilp".into(),
        };
        let url = parse(&wallet.resource_url("quotes"))?;
        self.post(url, Some(token), Some(to_json(&body)), Retry::Harmless)
            .await
    }

    /// `GET {id}` of a quote.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_quote(&self, id: &str, token: &str) -> Result<Quote> {
        self.get(parse(id)?, Some(token)).await
    }

    /// `POST {resourceServer}/outgoing-payments` from a quote. Not retried once sent: after an
    /// ambiguous failure, look the payment up instead (§6.2).
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn create_outgoing_payment(
        &self,
        wallet: &WalletAddress,
        token: &str,
        body: &CreateOutgoingPayment,
    ) -> Result<OutgoingPayment> {
        let url = parse(&wallet.resource_url("outgoing-payments"))?;
        self.post(url, Some(token), Some(to_json(body)), Retry::OnlyUnsent)
            .await
    }

    /// `GET {id}` of an outgoing payment.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_outgoing_payment(&self, id: &str, token: &str) -> Result<OutgoingPayment> {
        self.get(parse(id)?, Some(token)).await
    }

    /// `GET {resourceServer}/outgoing-payments?wallet-address=…&first=…[&cursor=…]`.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn list_outgoing_payments(
        &self,
        wallet: &WalletAddress,
        token: &str,
        first: u8,
        cursor: Option<&str>,
    ) -> Result<Page<OutgoingPayment>> {
        let url = list_url(wallet, "outgoing-payments", first, cursor)?;
        self.get(url, Some(token)).await
    }

    async fn get<T: DeserializeOwned>(&self, url: Url, token: Option<&str>) -> Result<T> {
        self.call(Call {
            method: Method::GET,
            url,
            token,
            body: None,
            retry: Retry::Idempotent,
        })
        .await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        url: Url,
        token: Option<&str>,
        body: Option<String>,
        retry: Retry,
    ) -> Result<T> {
        self.call(Call {
            method: Method::POST,
            url,
            token,
            body,
            retry,
        })
        .await
    }

    async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let url = call.url.to_string();
        let bytes = self.send(call).await?;
        serde_json::from_slice(&bytes).map_err(|e| OpenPaymentsError::Decode {
            url,
            message: e.to_string(),
        })
    }

    async fn call_empty(&self, call: Call<'_>) -> Result<()> {
        self.send(call).await.map(|_| ())
    }

    /// Sends a request (signed when it has a body or a token), with the policy check, retries,
    /// and the response size cap. Returns the body of a 2xx answer.
    async fn send(&self, call: Call<'_>) -> Result<Vec<u8>> {
        let url_text = call.url.to_string();
        self.inner
            .policy
            .check_url(&call.url)
            .map_err(|source| OpenPaymentsError::Policy {
                url: url_text.clone(),
                source,
            })?;
        let mut delay = self.inner.backoff;
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(&call).await;
            let retry = match &outcome {
                Ok(_) => false,
                Err(SendError { error, sent }) => match call.retry {
                    Retry::Idempotent | Retry::Harmless => error.is_transient(),
                    Retry::OnlyUnsent => !sent && error.is_transient(),
                },
            };
            if !retry || attempt >= self.inner.attempts {
                return outcome.map_err(|e| e.error);
            }
            tracing::debug!(url = %url_text, attempt, "retrying an Open Payments request");
            tokio::time::sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Vec<u8>, SendError> {
        let url_text = call.url.to_string();
        let unsent = |error| SendError { error, sent: false };
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json");
        let authorization = call.token.map(|t| format!("GNAP {t}"));
        if call.body.is_some() || authorization.is_some() {
            let created = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let signed = sign(
                &self.inner.identity.key,
                &RequestToSign {
                    method: call.method.as_str(),
                    url: &call.url,
                    authorization: authorization.as_deref(),
                    body: call.body.as_deref().map(str::as_bytes),
                    content_type: "application/json",
                },
                created,
            );
            for (name, value) in signed.pairs() {
                let value = HeaderValue::from_str(value).map_err(|e| {
                    unsent(OpenPaymentsError::Network {
                        url: url_text.clone(),
                        message: e.to_string(),
                    })
                })?;
                request = request.header(name, value);
            }
        }
        if let Some(authorization) = &authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        if let Some(body) = &call.body {
            request = request.body(body.clone());
        }
        let mut response = request.send().await.map_err(|e| SendError {
            sent: !e.is_connect(),
            error: transport_error(&url_text, &e),
        })?;
        let sent = |error| SendError { error, sent: true };
        let limit = self.inner.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(sent(OpenPaymentsError::TooLarge {
                url: url_text,
                limit,
            }));
        }
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| sent(transport_error(&url_text, &e)))?
        {
            if body.len() + chunk.len() > limit {
                return Err(sent(OpenPaymentsError::TooLarge {
                    url: url_text,
                    limit,
                }));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        Err(sent(status_error(url_text, status, &body)))
    }
}

struct SendError {
    error: OpenPaymentsError,
    /// Whether the request may have reached the server.
    sent: bool,
}

fn transport_error(url: &str, error: &reqwest::Error) -> OpenPaymentsError {
    if error.is_timeout() {
        return OpenPaymentsError::Timeout {
            url: url.to_owned(),
        };
    }
    // Keep the whole chain: the policy's refusal of a resolved address is in there.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    OpenPaymentsError::Network {
        url: url.to_owned(),
        message,
    }
}

fn status_error(url: String, status: StatusCode, body: &[u8]) -> OpenPaymentsError {
    let info = serde_json::from_slice::<ErrorResponse>(body)
        .map(|e| e.error)
        .unwrap_or_default();
    OpenPaymentsError::Status {
        url,
        status: status.as_u16(),
        code: info.code,
        description: info.description,
    }
}

fn parse(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|_| OpenPaymentsError::InvalidUrl(url.to_owned()))
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Our request types serialise infallibly (no maps with non-string keys, no custom errors).
    serde_json::to_string(value).unwrap_or_else(|_| unreachable!("request bodies always serialise"))
}

fn list_url(
    wallet: &WalletAddress,
    resource: &str,
    first: u8,
    cursor: Option<&str>,
) -> Result<Url> {
    let mut url = parse(&wallet.resource_url(resource))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("wallet-address", &wallet.id);
        query.append_pair("first", &first.clamp(1, 100).to_string());
        if let Some(cursor) = cursor {
            query.append_pair("cursor", cursor);
        }
    }
    Ok(url)
}

fn cache_key(auth_server: &str, access: &AccessItem) -> String {
    format!("{auth_server} {}", to_json(access))
}
