//! Typed settings, layered: defaults, then an optional TOML file, then `SHIFTING_*` environment
//! variables, then command-line flags. Everything is validated at start, and every problem is
//! reported at once with the name of the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shifting_open_payments::SigningKey;
use shifting_open_payments::fetch_policy::FetchPolicy;
use shifting_shared::WalletAddress;
use url::Url;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Coloured, human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Settings as read from the layers, before validation. Every field has a default.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    /// `SHIFTING_ADDR`: listen address.
    pub addr: String,
    /// `SHIFTING_DATA_DIR`: SQLite database and generated secrets.
    pub data_dir: PathBuf,
    /// `SHIFTING_DATABASE_URL`: `sqlite://…` or `postgres://…`; default: SQLite in the data dir.
    pub database_url: Option<SecretString>,
    /// `SHIFTING_DATABASE_MAX_CONNECTIONS`: connection pool size.
    pub database_max_connections: u32,
    /// `SHIFTING_JWT_SECRET`: HMAC secret (at least 32 characters); default: generated once and
    /// kept in the data dir.
    pub jwt_secret: Option<SecretString>,
    /// `SHIFTING_PUBLIC_URL`: the URL people and wallets reach us at; default `http://{addr}`.
    pub public_url: Option<String>,
    /// `SHIFTING_WEB_DIR`: the built web app (Trunk's output).
    pub web_dir: PathBuf,
    /// `SHIFTING_LOG_FORMAT`: `human` or `json`.
    pub log_format: LogFormat,
    /// `SHIFTING_LOG_FILTER`: tracing filter directives (`RUST_LOG` wins when set).
    pub log_filter: String,
    /// `SHIFTING_ACCESS_TOKEN_TTL_SECS`: access-token lifetime.
    pub access_token_ttl_secs: u64,
    /// `SHIFTING_REFRESH_TOKEN_TTL_DAYS`: refresh-token lifetime.
    pub refresh_token_ttl_days: u64,
    /// `SHIFTING_REFRESH_REUSE_GRACE_SECS`: how long a just-rotated refresh token still yields
    /// the same successor (two tabs refreshing at once); 0 turns the grace off.
    pub refresh_reuse_grace_secs: u64,
    /// `SHIFTING_REFRESH_FAMILY_MAX_AGE_DAYS`: the longest a session lives from its log-in,
    /// however often it is refreshed.
    pub refresh_family_max_age_days: u64,
    /// `SHIFTING_PAYMENT_RATE_LIMIT_PER_MINUTE`: sustained payment starts per user and per IP.
    pub payment_rate_limit_per_minute: u32,
    /// `SHIFTING_PAYMENT_RATE_LIMIT_BURST`: payment starts allowed at once per user and per IP.
    pub payment_rate_limit_burst: u32,
    /// `SHIFTING_TRUSTED_PROXIES`: comma-separated CIDRs of reverse proxies whose forwarding
    /// header names the client; empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// `SHIFTING_FORWARDED_HEADER`: the header those proxies write, `x-forwarded-for` or
    /// `forwarded`; the other is never read.
    pub forwarded_header: String,
    /// `SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE`: sustained log-in/sign-up attempts per IP.
    pub auth_rate_limit_per_minute: u32,
    /// `SHIFTING_AUTH_RATE_LIMIT_BURST`: attempts allowed at once per IP.
    pub auth_rate_limit_burst: u32,
    /// `SHIFTING_COOKIE_SECURE`: mark the refresh cookie `Secure`; default: when the public URL
    /// is https.
    pub cookie_secure: Option<bool>,
    /// `SHIFTING_MAX_BODY_BYTES`: largest accepted request body.
    pub max_body_bytes: usize,
    /// `SHIFTING_HEADER_READ_TIMEOUT_SECS`: how long a client may take to send its request
    /// headers before the connection is closed.
    pub header_read_timeout_secs: u64,
    /// `SHIFTING_MAX_CONNECTIONS`: the most client connections served at once; one more is
    /// answered `503` and closed.
    pub max_connections: usize,
    /// `SHIFTING_ROOM_VIEW_CACHE_MS`: how long a public room view is served from memory
    /// (other replicas see a seller's change after at most this long); 0 turns the cache off.
    pub room_view_cache_ms: u64,
    /// `SHIFTING_OP_WALLET_ADDRESS`: the platform's Open Payments client wallet address.
    pub op_wallet_address: Option<String>,
    /// `SHIFTING_OP_KEY_ID`: the id of the key registered at that wallet address.
    pub op_key_id: Option<String>,
    /// `SHIFTING_OP_PRIVATE_KEY`: the private key (PEM, or base64 of the PEM).
    pub op_private_key: Option<SecretString>,
    /// `SHIFTING_OP_PRIVATE_KEY_FILE`: a file holding the private key instead.
    pub op_private_key_file: Option<PathBuf>,
    /// `SHIFTING_OUTBOUND_ROOT_CERTIFICATES`: PEM file of extra trusted roots for outbound calls.
    pub outbound_root_certificates: Option<PathBuf>,
    /// `SHIFTING_OUTBOUND_PRIVATE_HOSTS`: comma-separated hosts or CIDRs exempt from the
    /// internal-address rule of outbound calls.
    pub outbound_private_hosts: String,
    /// `SHIFTING_INCOMING_PAYMENT_LIFETIME_SECS`: `expiresAt` of the incoming payment created on
    /// the seller's wallet for each checkout.
    pub incoming_payment_lifetime_secs: u64,
    /// `SHIFTING_APPROVAL_TIMEOUT_SECS`: how long a buyer has to approve (the quote's expiry
    /// also ends it).
    pub approval_timeout_secs: u64,
    /// `SHIFTING_VERIFICATION_TIMEOUT_SECS`: how long after consent the seller must have
    /// received the money before the payment counts as failed.
    pub verification_timeout_secs: u64,
    /// `SHIFTING_CLAIM_GRACE_SECS`: how long (beyond the grant's `wait`) an approval claimed by
    /// a finish callback is left to it before a worker treats it as interrupted.
    pub claim_grace_secs: u64,
    /// `SHIFTING_PAYMENT_WORKER`: run the verification worker in this process.
    pub payment_worker: bool,
    /// `SHIFTING_SANDBOX_URL`: use a sandbox running elsewhere (`shifting sandbox`, sharing this
    /// data dir's platform key) instead of mounting one.
    pub sandbox_url: Option<String>,
    /// `SHIFTING_SANDBOX_DATABASE_URL`: the sandbox's own database; default: `sandbox.db` in
    /// the data dir.
    pub sandbox_database_url: Option<String>,
    /// `SHIFTING_SANDBOX_WAIT_SECS`: `continue.wait` of pending grants.
    pub sandbox_wait_secs: u64,
    /// `SHIFTING_SANDBOX_QUOTE_LIFETIME_SECS`: how long a sandbox quote can be paid.
    pub sandbox_quote_lifetime_secs: u64,
    /// `SHIFTING_SANDBOX_INTERACTION_LIFETIME_SECS`: how long the consent page stays open.
    pub sandbox_interaction_lifetime_secs: u64,
    /// `SHIFTING_SANDBOX_TOKEN_LIFETIME_SECS`: `expires_in` of sandbox access tokens.
    pub sandbox_token_lifetime_secs: u64,
    /// `SHIFTING_SANDBOX_LATENCY_MS`: test switch, added to every sandbox request.
    pub sandbox_latency_ms: u64,
    /// `SHIFTING_SANDBOX_GRANT_STORE_DELAY_MS`: test switch, how long the sandbox's auth server
    /// takes to store a grant after the request arrived (Rafiki: 40–80 ms for its key fetch).
    pub sandbox_grant_store_delay_ms: u64,
    /// `SHIFTING_SANDBOX_FAIL_OUTGOING_PAYMENTS`: test switch, every outgoing payment fails.
    pub sandbox_fail_outgoing_payments: bool,
    /// `SHIFTING_SANDBOX_HOLD_OUTGOING_PAYMENTS`: test switch, outgoing payments stay pending.
    pub sandbox_hold_outgoing_payments: bool,
    /// `SHIFTING_SANDBOX_LOSE_OUTGOING_PAYMENT_ANSWERS`: test switch, outgoing payments are
    /// created and move money but their creation is answered 500 (a lost answer).
    pub sandbox_lose_outgoing_payment_answers: bool,
    /// `SHIFTING_SANDBOX_QUOTE_SHORTFALL`: test switch, quotes promise this many minor units
    /// less than asked.
    pub sandbox_quote_shortfall: u64,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_max_connections: 10,
            jwt_secret: None,
            public_url: None,
            web_dir: PathBuf::from("dist"),
            log_format: LogFormat::Human,
            log_filter: "info,sqlx=warn,sea_orm=warn".into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            refresh_reuse_grace_secs: 20,
            refresh_family_max_age_days: 90,
            payment_rate_limit_per_minute: 10,
            payment_rate_limit_burst: 5,
            trusted_proxies: String::new(),
            forwarded_header: "x-forwarded-for".into(),
            auth_rate_limit_per_minute: 10,
            auth_rate_limit_burst: 10,
            cookie_secure: None,
            max_body_bytes: 64 * 1024,
            header_read_timeout_secs: 10,
            max_connections: 10_000,
            room_view_cache_ms: 1000,
            op_wallet_address: None,
            op_key_id: None,
            op_private_key: None,
            op_private_key_file: None,
            outbound_root_certificates: None,
            outbound_private_hosts: String::new(),
            incoming_payment_lifetime_secs: 3600,
            approval_timeout_secs: 600,
            verification_timeout_secs: 600,
            claim_grace_secs: 120,
            payment_worker: true,
            sandbox_url: None,
            sandbox_database_url: None,
            sandbox_wait_secs: 5,
            sandbox_quote_lifetime_secs: 300,
            sandbox_interaction_lifetime_secs: 600,
            sandbox_token_lifetime_secs: 600,
            sandbox_latency_ms: 0,
            sandbox_grant_store_delay_ms: 0,
            sandbox_fail_outgoing_payments: false,
            sandbox_hold_outgoing_payments: false,
            sandbox_lose_outgoing_payment_answers: false,
            sandbox_quote_shortfall: 0,
        }
    }
}

/// Names of the settings, as keys in the file and (upper-cased, `SHIFTING_`-prefixed) in the
/// environment.
pub const KEYS: &[&str] = &[
    "addr",
    "data_dir",
    "database_url",
    "database_max_connections",
    "jwt_secret",
    "public_url",
    "web_dir",
    "log_format",
    "log_filter",
    "access_token_ttl_secs",
    "refresh_token_ttl_days",
    "refresh_reuse_grace_secs",
    "refresh_family_max_age_days",
    "payment_rate_limit_per_minute",
    "payment_rate_limit_burst",
    "trusted_proxies",
    "forwarded_header",
    "auth_rate_limit_per_minute",
    "auth_rate_limit_burst",
    "cookie_secure",
    "max_body_bytes",
    "header_read_timeout_secs",
    "max_connections",
    "room_view_cache_ms",
    "op_wallet_address",
    "op_key_id",
    "op_private_key",
    "op_private_key_file",
    "outbound_root_certificates",
    "outbound_private_hosts",
    "incoming_payment_lifetime_secs",
    "approval_timeout_secs",
    "verification_timeout_secs",
    "claim_grace_secs",
    "payment_worker",
    "sandbox_url",
    "sandbox_database_url",
    "sandbox_wait_secs",
    "sandbox_quote_lifetime_secs",
    "sandbox_interaction_lifetime_secs",
    "sandbox_token_lifetime_secs",
    "sandbox_latency_ms",
    "sandbox_grant_store_delay_ms",
    "sandbox_fail_outgoing_payments",
    "sandbox_hold_outgoing_payments",
    "sandbox_lose_outgoing_payment_answers",
    "sandbox_quote_shortfall",
];

/// The validated settings the application runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Listen address (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL (may hold a password).
    pub database_url: SecretString,
    /// Connection pool size.
    pub database_max_connections: u32,
    /// Explicit JWT secret; `None` means the one generated in the data dir.
    pub jwt_secret: Option<SecretString>,
    /// Public URL; `None` means `http://{bound address}`, known once the listener is bound.
    pub public_url: Option<Url>,
    /// Built web app.
    pub web_dir: PathBuf,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_filter: String,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Duration,
    /// How long a just-rotated refresh token still yields the same successor.
    pub refresh_reuse_grace: Duration,
    /// The longest a session lives from its log-in.
    pub refresh_family_max_age: Duration,
    /// Payment starts per minute per user and per IP.
    pub payment_rate_limit_per_minute: u32,
    /// Payment-start burst per user and per IP.
    pub payment_rate_limit_burst: u32,
    /// Reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// Log-in/sign-up attempts per minute per IP.
    pub auth_rate_limit_per_minute: u32,
    /// Log-in/sign-up burst per IP.
    pub auth_rate_limit_burst: u32,
    /// Explicit `Secure` flag for the refresh cookie.
    pub cookie_secure: Option<bool>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    /// The most client connections served at once.
    pub max_connections: usize,
    /// How long a public room view is served from memory.
    pub room_view_cache: Duration,
    /// The platform's Open Payments identity, when configured.
    pub op_identity: Option<OpIdentity>,
    /// Extra trusted roots (PEM) for outbound calls.
    pub outbound_root_certificates: Option<Vec<u8>>,
    /// Hosts or CIDRs exempt from the internal-address rule of outbound calls.
    pub outbound_private_hosts: Vec<String>,
    /// The embedded sandbox (mounted when there is no Open Payments identity).
    pub sandbox: SandboxSettings,
    /// Checkout lifetimes and the verification worker.
    pub payments: crate::payments::PaymentSettings,
}

/// Settings of the embedded (or standalone) sandbox.
#[derive(Clone, Debug)]
pub struct SandboxSettings {
    /// A sandbox elsewhere to use instead of the embedded one (its root, ending in `/sandbox`).
    pub external_url: Option<Url>,
    /// The sandbox's own database.
    pub database_url: String,
    /// Lifetimes and waits.
    pub timings: shifting_sandbox::Timings,
    /// Test switches.
    pub switches: shifting_sandbox::Switches,
}

/// The platform's Open Payments client identity, validated (the key loads).
#[derive(Clone, Debug)]
pub struct OpIdentity {
    /// Client wallet address (canonical https URL).
    pub wallet_address: String,
    /// Key id.
    pub key_id: String,
    /// The private key text (PEM or base64 of it).
    pub private_key: SecretString,
}

/// Everything wrong with the configuration, one sentence each.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

impl Settings {
    /// The limits every served connection gets.
    #[must_use]
    pub fn connection_limits(&self) -> crate::server::ConnectionLimits {
        crate::server::ConnectionLimits {
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections,
        }
    }

    /// Reads the layers and validates the result.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem.
    pub fn load(
        file: Option<&Path>,
        addr: Option<String>,
        data_dir: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError(vec![format!(
                    "configuration file {} does not exist",
                    file.display()
                )]));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(Env::prefixed("SHIFTING_").only(KEYS));
        let mut raw: RawSettings = figment
            .extract()
            .map_err(|err| ConfigError(err.into_iter().map(|e| e.to_string()).collect()))?;
        if let Some(addr) = addr {
            raw.addr = addr;
        }
        if let Some(data_dir) = data_dir {
            raw.data_dir = data_dir;
        }
        Self::from_raw(raw)
    }

    /// Validates raw settings.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem.
    pub fn from_raw(raw: RawSettings) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let addr = raw
            .addr
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.push(format!(
                    "addr {:?} is not a HOST:PORT socket address such as 127.0.0.1:8080",
                    raw.addr
                ))
            })
            .ok();
        let database_url = match raw.database_url.clone() {
            Some(url) => {
                let s = url.expose_secret();
                if !(s.starts_with("sqlite:")
                    || s.starts_with("postgres://")
                    || s.starts_with("postgresql://"))
                {
                    problems.push(
                        "database_url must start with sqlite:, postgres:// or postgresql://".into(),
                    );
                }
                url
            }
            None => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                raw.data_dir.join("shifting.db").display()
            )),
        };
        if raw.database_max_connections == 0 {
            problems.push("database_max_connections must be at least 1".into());
        }
        if let Some(secret) = &raw.jwt_secret
            && secret.expose_secret().len() < 32
        {
            problems.push("jwt_secret must be at least 32 characters long".into());
        }
        let public_url = match raw.public_url.as_deref().map(Url::parse) {
            None => None,
            Some(Ok(url))
                if matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.query().is_none()
                    && url.fragment().is_none() =>
            {
                Some(url)
            }
            Some(_) => {
                problems.push("public_url must be an absolute http:// or https:// URL without query or fragment".into());
                None
            }
        };
        if !(60..=3600).contains(&raw.access_token_ttl_secs) {
            problems.push("access_token_ttl_secs must be between 60 and 3600".into());
        }
        if !(1..=365).contains(&raw.refresh_token_ttl_days) {
            problems.push("refresh_token_ttl_days must be between 1 and 365".into());
        }
        if raw.refresh_reuse_grace_secs > 300 {
            problems.push("refresh_reuse_grace_secs must be at most 300".into());
        }
        if !(1..=3650).contains(&raw.refresh_family_max_age_days) {
            problems.push("refresh_family_max_age_days must be between 1 and 3650".into());
        }
        if raw.payment_rate_limit_per_minute == 0 || raw.payment_rate_limit_burst == 0 {
            problems.push(
                "payment_rate_limit_per_minute and payment_rate_limit_burst must be at least 1"
                    .into(),
            );
        }
        let forwarded_header = raw
            .forwarded_header
            .parse::<crate::http::client_ip::ForwardedHeader>()
            .map_err(|err| problems.push(format!("forwarded_header: {err}")))
            .unwrap_or_default();
        let trusted_proxies = crate::http::client_ip::TrustedProxies::parse(&raw.trusted_proxies)
            .map_err(|err| problems.push(format!("trusted_proxies: {err}")))
            .unwrap_or_default()
            .reading(forwarded_header);
        if raw.auth_rate_limit_per_minute == 0 || raw.auth_rate_limit_burst == 0 {
            problems.push(
                "auth_rate_limit_per_minute and auth_rate_limit_burst must be at least 1".into(),
            );
        }
        if !(1..=300).contains(&raw.header_read_timeout_secs) {
            problems.push("header_read_timeout_secs must be between 1 and 300".into());
        }
        if raw.room_view_cache_ms > 60_000 {
            problems.push("room_view_cache_ms must be at most 60000".into());
        }
        if !(1..=1_000_000).contains(&raw.max_connections) {
            problems.push("max_connections must be between 1 and 1000000".into());
        }
        if !(1024..=16 * 1024 * 1024).contains(&raw.max_body_bytes) {
            problems.push("max_body_bytes must be between 1024 and 16777216".into());
        }
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&raw.log_filter) {
            problems.push(format!("log_filter is not a valid filter: {err}"));
        }
        let op_identity = op_identity(&raw, &mut problems);
        let outbound_private_hosts: Vec<String> = raw
            .outbound_private_hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        if let Err(err) = FetchPolicy::real().with_exemptions(&outbound_private_hosts) {
            problems.push(format!("outbound_private_hosts: {err}"));
        }
        let outbound_root_certificates = match &raw.outbound_root_certificates {
            None => None,
            Some(path) => match std::fs::read(path) {
                Ok(pem)
                    if String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") =>
                {
                    Some(pem)
                }
                Ok(_) => {
                    problems.push(format!(
                        "outbound_root_certificates: {} holds no PEM certificate",
                        path.display()
                    ));
                    None
                }
                Err(err) => {
                    problems.push(format!(
                        "outbound_root_certificates: cannot read {}: {err}",
                        path.display()
                    ));
                    None
                }
            },
        };
        let sandbox = sandbox_settings(&raw, &mut problems);
        let payments = payment_settings(&raw, &mut problems);
        match addr {
            Some(addr) if problems.is_empty() => Ok(Self {
                addr,
                data_dir: raw.data_dir,
                database_url,
                database_max_connections: raw.database_max_connections,
                jwt_secret: raw.jwt_secret,
                public_url,
                web_dir: raw.web_dir,
                log_format: raw.log_format,
                log_filter: raw.log_filter,
                access_token_ttl: Duration::from_secs(raw.access_token_ttl_secs),
                refresh_token_ttl: Duration::from_secs(raw.refresh_token_ttl_days * 86_400),
                refresh_reuse_grace: Duration::from_secs(raw.refresh_reuse_grace_secs),
                refresh_family_max_age: Duration::from_secs(
                    raw.refresh_family_max_age_days * 86_400,
                ),
                payment_rate_limit_per_minute: raw.payment_rate_limit_per_minute,
                payment_rate_limit_burst: raw.payment_rate_limit_burst,
                trusted_proxies,
                auth_rate_limit_per_minute: raw.auth_rate_limit_per_minute,
                auth_rate_limit_burst: raw.auth_rate_limit_burst,
                cookie_secure: raw.cookie_secure,
                max_body_bytes: raw.max_body_bytes,
                header_read_timeout: Duration::from_secs(raw.header_read_timeout_secs),
                max_connections: raw.max_connections,
                room_view_cache: Duration::from_millis(raw.room_view_cache_ms),
                op_identity,
                outbound_root_certificates,
                outbound_private_hosts,
                sandbox,
                payments,
            }),
            _ => Err(ConfigError(problems)),
        }
    }

    /// Whether the configured database is SQLite.
    #[must_use]
    pub fn uses_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

fn sandbox_settings(raw: &RawSettings, problems: &mut Vec<String>) -> SandboxSettings {
    const DAY: u64 = 86_400;
    for (name, value, max) in [
        ("sandbox_wait_secs", raw.sandbox_wait_secs, 3600),
        (
            "sandbox_quote_lifetime_secs",
            raw.sandbox_quote_lifetime_secs,
            DAY,
        ),
        (
            "sandbox_interaction_lifetime_secs",
            raw.sandbox_interaction_lifetime_secs,
            DAY,
        ),
        (
            "sandbox_token_lifetime_secs",
            raw.sandbox_token_lifetime_secs,
            DAY,
        ),
        // Below the server's 30 s request timeout, with room for the request itself.
        ("sandbox_latency_ms", raw.sandbox_latency_ms, 10_000),
        (
            "sandbox_grant_store_delay_ms",
            raw.sandbox_grant_store_delay_ms,
            10_000,
        ),
    ] {
        if value > max {
            problems.push(format!("{name} must be at most {max}"));
        }
    }
    let database_url = raw.sandbox_database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            raw.data_dir.join("sandbox.db").display()
        )
    });
    if !database_url.starts_with("sqlite:") {
        problems.push("sandbox_database_url must be a sqlite: URL".into());
    }
    let external_url = match raw.sandbox_url.as_deref().map(Url::parse) {
        None => None,
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            let mut url = url;
            url.set_path(url.path().trim_end_matches('/').to_owned().as_str());
            Some(url)
        }
        Some(_) => {
            problems.push("sandbox_url must be an absolute http:// or https:// URL".into());
            None
        }
    };
    SandboxSettings {
        external_url,
        database_url,
        timings: shifting_sandbox::Timings {
            wait: Duration::from_secs(raw.sandbox_wait_secs),
            quote_lifetime: Duration::from_secs(raw.sandbox_quote_lifetime_secs),
            interaction_lifetime: Duration::from_secs(raw.sandbox_interaction_lifetime_secs),
            token_lifetime: Duration::from_secs(raw.sandbox_token_lifetime_secs),
        },
        switches: shifting_sandbox::Switches {
            latency: Duration::from_millis(raw.sandbox_latency_ms),
            grant_store_delay: Duration::from_millis(raw.sandbox_grant_store_delay_ms),
            fail_outgoing_payments: raw.sandbox_fail_outgoing_payments,
            hold_outgoing_payments: raw.sandbox_hold_outgoing_payments,
            lose_outgoing_payment_answers: raw.sandbox_lose_outgoing_payment_answers,
            quote_shortfall: raw.sandbox_quote_shortfall,
        },
    }
}

fn payment_settings(
    raw: &RawSettings,
    problems: &mut Vec<String>,
) -> crate::payments::PaymentSettings {
    const DAY: u64 = 86_400;
    for (name, value, min, max) in [
        // Open Payments allows at most 30 days.
        (
            "incoming_payment_lifetime_secs",
            raw.incoming_payment_lifetime_secs,
            60,
            30 * DAY,
        ),
        ("approval_timeout_secs", raw.approval_timeout_secs, 10, DAY),
        (
            "verification_timeout_secs",
            raw.verification_timeout_secs,
            10,
            DAY,
        ),
    ] {
        if !(min..=max).contains(&value) {
            problems.push(format!("{name} must be between {min} and {max}"));
        }
    }
    crate::payments::PaymentSettings {
        incoming_payment_lifetime: Duration::from_secs(raw.incoming_payment_lifetime_secs),
        approval_timeout: Duration::from_secs(raw.approval_timeout_secs),
        verification_timeout: Duration::from_secs(raw.verification_timeout_secs),
        claim_grace: Duration::from_secs(raw.claim_grace_secs),
        worker: raw.payment_worker,
    }
}

/// `op_private_key` names a file when it holds no PEM armour and an existing file has that
/// path.
fn key_file_path(value: &str) -> Option<PathBuf> {
    let value = value.trim();
    let path = Path::new(value);
    (!value.contains("-----BEGIN") && path.is_file()).then(|| path.to_owned())
}

/// Reads and checks the Open Payments identity: all of wallet address, key id and key, or none.
fn op_identity(raw: &RawSettings, problems: &mut Vec<String>) -> Option<OpIdentity> {
    let key = match (&raw.op_private_key, &raw.op_private_key_file) {
        (Some(_), Some(_)) => {
            problems.push("set only one of op_private_key and op_private_key_file".into());
            return None;
        }
        (Some(key), None) => match key_file_path(key.expose_secret()) {
            // A path in place of the key: read it, as `op_private_key_file` would.
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(text) => Some(SecretString::from(text)),
                Err(err) => {
                    problems.push(format!(
                        "op_private_key: cannot read the key file {}: {err}",
                        path.display()
                    ));
                    return None;
                }
            },
            None => Some(key.clone()),
        },
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(text) => Some(SecretString::from(text)),
            Err(err) => {
                problems.push(format!(
                    "op_private_key_file: cannot read {}: {err}",
                    path.display()
                ));
                return None;
            }
        },
        (None, None) => None,
    };
    match (&raw.op_wallet_address, &raw.op_key_id, key) {
        (None, None, None) => None,
        (Some(wallet), Some(key_id), Some(key)) => {
            let wallet = match WalletAddress::parse(wallet) {
                Ok(wallet) => wallet,
                Err(err) => {
                    problems.push(format!("op_wallet_address {err}"));
                    return None;
                }
            };
            // Never echo the key: say only what is wrong with it.
            if let Err(err) = SigningKey::from_pem(key_id, key.expose_secret()) {
                let text = key.expose_secret().trim_start();
                let hint = if text.starts_with('/') || text.starts_with('.') {
                    " (if it is meant as a file path: no such file)"
                } else {
                    ""
                };
                problems.push(format!(
                    "the Open Payments private key is unusable: {err}{hint}"
                ));
                return None;
            }
            Some(OpIdentity {
                wallet_address: wallet.as_str().to_owned(),
                key_id: key_id.clone(),
                private_key: key,
            })
        }
        _ => {
            problems.push(
                "the Open Payments identity needs all of op_wallet_address, op_key_id and op_private_key (or op_private_key_file)".into(),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_use_sqlite_in_the_data_dir() {
        let settings = Settings::from_raw(RawSettings::default()).unwrap();
        assert_eq!(settings.addr.to_string(), "127.0.0.1:8080");
        assert!(settings.uses_sqlite());
        assert_eq!(
            settings.database_url.expose_secret(),
            "sqlite://data/shifting.db?mode=rwc"
        );
    }

    const TEST_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----";

    #[test]
    fn an_open_payments_identity_is_all_or_nothing_and_its_key_must_load() {
        let partial = RawSettings {
            op_wallet_address: Some("$ilp.interledger-test.dev/shifting".into()),
            ..RawSettings::default()
        };
        let ConfigError(problems) = Settings::from_raw(partial).unwrap_err();
        assert!(problems[0].contains("needs all of"), "{problems:?}");

        let bad_key = RawSettings {
            op_wallet_address: Some("$ilp.interledger-test.dev/shifting".into()),
            op_key_id: Some("k".into()),
            op_private_key: Some(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into(),
            ),
            ..RawSettings::default()
        };
        let ConfigError(problems) = Settings::from_raw(bad_key).unwrap_err();
        assert!(
            problems[0].contains("private key is unusable") && !problems[0].contains("AAAA"),
            "{problems:?}"
        );

        let http_wallet = RawSettings {
            op_wallet_address: Some("http://ilp.example/shifting".into()),
            op_key_id: Some("k".into()),
            op_private_key: Some(TEST_PEM.into()),
            ..RawSettings::default()
        };
        assert!(Settings::from_raw(http_wallet).is_err());

        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("private.key");
        std::fs::write(&key_file, TEST_PEM).unwrap();
        let good = RawSettings {
            op_wallet_address: Some("$ilp.interledger-test.dev/shifting".into()),
            op_key_id: Some("test-key-ed25519".into()),
            op_private_key_file: Some(key_file.clone()),
            outbound_private_hosts: "wallet.internal, 10.1.0.0/16".into(),
            ..RawSettings::default()
        };
        let settings = Settings::from_raw(good).unwrap();
        let identity = settings.op_identity.unwrap();

        // SHIFTING_OP_PRIVATE_KEY may also name the file.
        let by_path = RawSettings {
            op_wallet_address: Some("$ilp.interledger-test.dev/shifting".into()),
            op_key_id: Some("test-key-ed25519".into()),
            op_private_key: Some(key_file.display().to_string().into()),
            ..RawSettings::default()
        };
        let from_path = Settings::from_raw(by_path).unwrap().op_identity.unwrap();
        assert_eq!(from_path.private_key.expose_secret(), TEST_PEM);
        let missing = RawSettings {
            op_wallet_address: Some("$ilp.interledger-test.dev/shifting".into()),
            op_key_id: Some("test-key-ed25519".into()),
            op_private_key: Some("/nonexistent/private.key".into()),
            ..RawSettings::default()
        };
        assert!(Settings::from_raw(missing).is_err());
        assert_eq!(
            identity.wallet_address,
            "https://ilp.interledger-test.dev/shifting"
        );
        assert_eq!(
            settings.outbound_private_hosts,
            ["wallet.internal", "10.1.0.0/16"]
        );
        assert!(
            !format!("{identity:?}").contains("MC4C"),
            "Debug must not show the key"
        );
    }

    #[test]
    fn outbound_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("roots.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let raw = RawSettings {
            outbound_private_hosts: "not a host!".into(),
            outbound_root_certificates: Some(not_pem),
            ..RawSettings::default()
        };
        let ConfigError(problems) = Settings::from_raw(raw).unwrap_err();
        let all = problems.join("\n");
        assert!(
            all.contains("outbound_private_hosts") && all.contains("outbound_root_certificates"),
            "{all}"
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_setting_name() {
        let raw = RawSettings {
            addr: "nowhere".into(),
            jwt_secret: Some("short".into()),
            public_url: Some("ftp://x".into()),
            access_token_ttl_secs: 5,
            trusted_proxies: "nginx".into(),
            forwarded_header: "x-real-ip".into(),
            ..RawSettings::default()
        };
        let ConfigError(problems) = Settings::from_raw(raw).unwrap_err();
        let all = problems.join("\n");
        for name in [
            "addr",
            "jwt_secret",
            "public_url",
            "access_token_ttl_secs",
            "trusted_proxies",
            "forwarded_header",
        ] {
            assert!(all.contains(name), "{name} missing from {all}");
        }
    }
}
