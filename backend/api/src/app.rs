//! Building and running the application: database, secrets, listener, router.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use base64::Engine;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use shifting_open_payments::Clock;
use shifting_open_payments::client::{ClientConfig, ClientIdentity, OpenPaymentsClient};
use shifting_open_payments::fetch_policy::FetchPolicy;
use shifting_open_payments::{Jwks, SigningKey};
use shifting_sandbox::{PLATFORM_ACCOUNT, Sandbox, SandboxConfig};
use shifting_shared::AddressPolicy;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use url::Url;

use crate::config::{OpIdentity, Settings};
use crate::http::web::WebApp;
use crate::live::Live;
use crate::mail::{Mailer, Transport, UnsubscribeKey};
use crate::media::MediaStore;
use crate::payments::worker::Worker;
use crate::secrets::Sealer;
use crate::server::{ConnectionLimits, serve};
use crate::services::rate_limit::RateLimiter;
use crate::services::room_views::RoomViews;
use crate::services::tokens::TokenKeys;
use crate::state::AppState;
use crate::webhooks::sender::WebhookSender;

/// Mail a request may ask for (reset links, confirmations), per address or account: one a
/// minute, three at once.
const MAIL_PER_MINUTE: u32 = 1;
const MAIL_BURST: u32 = 3;

/// A built application, bound to its port but not yet serving.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    router: Router,
    public_url: Url,
    db: DatabaseConnection,
    live: Live,
    worker: Option<Worker>,
    mail_sender: crate::outbox::Worker<Mailer>,
    webhook_sender: crate::outbox::Worker<WebhookSender>,
    limits: ConnectionLimits,
    clock: Clock,
    metrics: Option<crate::metrics::MetricsServer>,
}

impl App {
    /// Connects and migrates the database, loads or creates the JWT secret, binds the listener.
    ///
    /// # Errors
    /// When the database, the data directory or the address is unusable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings).await?;
        crate::db::migrate(&db).await?;
        let jwt_secret = match &settings.auth.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create_secret(&settings.database.data_dir.join("jwt-secret"))?,
        };
        let sealer = Arc::new(Sealer::new(&match settings.auth.secrets_key {
            Some(key) => key,
            None => load_or_create_secrets_key(&settings.database.data_dir.join("secrets-key"))?,
        }));
        let listener = TcpListener::bind(settings.server.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.addr))?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let public_url = match &settings.server.public_url {
            Some(url) => url.clone(),
            None => default_public_url(local)?,
        };
        let tokens = TokenKeys::new(
            &jwt_secret,
            public_url.origin().ascii_serialization(),
            settings.auth.access_token_ttl,
            settings.auth.refresh_token_ttl,
        )
        .with_refresh_policy(
            settings.auth.refresh_reuse_grace,
            settings.auth.refresh_family_max_age,
        )
        .with_clock(settings.clock.clone());
        let auth_limiter = Arc::new(RateLimiter::new(
            settings.auth.rate_limit.per_minute,
            settings.auth.rate_limit.burst,
        ));
        RateLimiter::spawn_cleanup(&auth_limiter);
        let review_limiter = Arc::new(RateLimiter::new(
            settings.auth.review_rate_limit.per_minute,
            settings.auth.review_rate_limit.burst,
        ));
        RateLimiter::spawn_cleanup(&review_limiter);
        let message_limiter = Arc::new(RateLimiter::new(
            settings.auth.message_rate_limit.per_minute,
            settings.auth.message_rate_limit.burst,
        ));
        RateLimiter::spawn_cleanup(&message_limiter);
        let ticket_limiter = Arc::new(RateLimiter::new(
            crate::live::tickets::PER_MINUTE,
            crate::live::tickets::BURST,
        ));
        RateLimiter::spawn_cleanup(&ticket_limiter);
        let live = Live::start(
            db.clone(),
            settings.database.url.expose_secret(),
            settings.server.live,
        )
        .await
        .context("cannot start the live fan-out")?;
        let payment_limiters = crate::state::PaymentLimiters {
            per_ip: Arc::new(RateLimiter::new(
                settings.payments.rate_limit.per_minute,
                settings.payments.rate_limit.burst,
            )),
            per_user: Arc::new(RateLimiter::new(
                settings.payments.rate_limit.per_minute,
                settings.payments.rate_limit.burst,
            )),
        };
        RateLimiter::spawn_cleanup(&payment_limiters.per_ip);
        RateLimiter::spawn_cleanup(&payment_limiters.per_user);
        crate::services::passwords::warm_up().await;
        let (open_payments, sandbox, address_policy) = if let Some(identity) =
            &settings.open_payments.identity
        {
            let client = open_payments_client(&settings, identity)?;
            check_published_key(&client, identity).await?;
            (client, None, AddressPolicy::Strict)
        } else if let Some(external) = &settings.sandbox.external_url {
            let key = load_or_create_platform_key(&settings.database.data_dir)?;
            let wallet = format!("{external}/{PLATFORM_ACCOUNT}");
            let client = sandbox_client(&settings, wallet, key, external)?;
            tracing::info!(sandbox = %external, "no Open Payments identity configured: using the sandbox at SHIFTING_SANDBOX_URL");
            (client, None, AddressPolicy::AllowInsecure)
        } else {
            let key = load_or_create_platform_key(&settings.database.data_dir)?;
            let sandbox = open_sandbox(&settings, &public_url, &key).await?;
            let client = sandbox_client(
                &settings,
                sandbox.wallet_address(PLATFORM_ACCOUNT),
                key,
                &public_url,
            )?;
            tracing::info!(
                accounts = %format!("{}/accounts", sandbox.base_url()),
                "no Open Payments identity configured: the embedded sandbox is the payment network"
            );
            (client, Some(sandbox), AddressPolicy::AllowInsecure)
        };
        let web = WebApp::load(&settings.server.web_dir);
        let limits = settings.connection_limits();
        let worker_wake = Arc::new(Notify::new());
        let worker = settings.payments.worker.then(|| {
            Worker::new(
                db.clone(),
                live.clone(),
                open_payments.clone(),
                Arc::clone(&sealer),
                settings.payments,
                Arc::clone(&worker_wake),
            )
        });
        let transport = match &settings.mail.smtp {
            Some(smtp) => Transport::smtp(smtp)?,
            None => {
                tracing::info!(
                    mailbox = %format!("{}/sandbox/mail", public_url.as_str().trim_end_matches('/')),
                    "no SMTP server configured: mail goes to the local mailbox"
                );
                Transport::Mailbox
            }
        };
        let unsubscribe = UnsubscribeKey::derive(jwt_secret.expose_secret().as_bytes());
        let mail_wake = Arc::new(Notify::new());
        let mail_sender = crate::outbox::Worker::new(
            db.clone(),
            settings.clock.clone(),
            Mailer::new(
                db.clone(),
                settings.clock.clone(),
                public_url.clone(),
                settings
                    .mail
                    .from
                    .clone()
                    .unwrap_or_else(|| Mailer::default_from(&public_url)),
                transport,
                unsubscribe.clone(),
            ),
            Arc::clone(&mail_wake),
        );
        let webhook_policy = Arc::new(webhook_policy(&settings)?);
        let webhook_wake = Arc::new(Notify::new());
        let webhook_sender = crate::outbox::Worker::new(
            db.clone(),
            settings.clock.clone(),
            WebhookSender::new(
                db.clone(),
                settings.clock.clone(),
                Arc::clone(&sealer),
                Arc::clone(&webhook_policy),
            )?,
            Arc::clone(&webhook_wake),
        );
        let mail_limiter = Arc::new(RateLimiter::new(MAIL_PER_MINUTE, MAIL_BURST));
        RateLimiter::spawn_cleanup(&mail_limiter);
        let state = AppState {
            sealer,
            webhook_policy,
            webhook_wake,
            mail_wake,
            mail_limiter,
            unsubscribe,
            db: db.clone(),
            tokens: Arc::new(tokens),
            auth_limiter,
            review_limiter,
            message_limiter,
            ticket_limiter,
            payment_limiters,
            cookie_secure: settings
                .auth
                .cookie_secure
                .unwrap_or(public_url.scheme() == "https"),
            open_payments,
            address_policy,
            public_url: public_url.clone(),
            worker_wake,
            room_views: RoomViews::new(settings.server.room_view_cache),
            media: MediaStore::open(&settings.media)?,
            live: live.clone(),
            settings: Arc::new(settings),
        };
        let clock = state.settings.clock.clone();
        let metrics = match state.settings.server.metrics_addr {
            Some(addr) => {
                let server =
                    crate::metrics::MetricsServer::bind(addr, db.clone(), clock.clone()).await?;
                tracing::info!(addr = %addr, port = server.port(), "metrics are served at /metrics");
                Some(server)
            }
            None => None,
        };
        let router = crate::http::router(state, &web, sandbox.as_ref());
        Ok(Self {
            listener,
            router,
            public_url,
            db,
            live,
            worker,
            mail_sender,
            webhook_sender,
            limits,
            clock,
            metrics,
        })
    }

    /// The port the metrics listener is bound to, when metrics are on.
    #[must_use]
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics
            .as_ref()
            .map(crate::metrics::MetricsServer::port)
    }

    /// The clock every part of the application reads (tests move it).
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The port the listener is bound to.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The URL people reach this server at.
    #[must_use]
    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// The database pool (for tests and tools).
    #[must_use]
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the pool.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let worker = self.worker.map(|worker| tokio::spawn(worker.run()));
        let mail_sender = tokio::spawn(self.mail_sender.run());
        let webhook_sender = tokio::spawn(self.webhook_sender.run());
        let metrics = self.metrics.map(|server| {
            tokio::spawn(async move {
                if let Err(err) = server.run().await {
                    tracing::error!(error = format!("{err:#}"), "metrics listener stopped");
                }
            })
        });
        let served = serve(
            self.listener,
            self.router,
            self.limits,
            self.clock,
            shutdown,
        )
        .await;
        // Upgraded sockets outlive their HTTP connection: closed here, clients reconnect.
        self.live.shut_down();
        // Every step of a payment is in the database: a check cut short is redone later.
        if let Some(worker) = worker {
            worker.abort();
            let _ = worker.await;
        }
        // Queued mail waits in the outbox for the next start (or another replica).
        mail_sender.abort();
        let _ = mail_sender.await;
        webhook_sender.abort();
        let _ = webhook_sender.await;
        if let Some(metrics) = metrics {
            metrics.abort();
            let _ = metrics.await;
        }
        served?;
        tracing::info!("shut down gracefully");
        self.db
            .close()
            .await
            .context("cannot close the database pool")?;
        Ok(())
    }
}

/// The sandbox on its own port (`shifting sandbox`).
#[derive(Debug)]
pub struct SandboxServer {
    listener: TcpListener,
    router: Router,
    sandbox: Sandbox,
    limits: ConnectionLimits,
    clock: Clock,
}

impl SandboxServer {
    /// Binds the listener and opens the sandbox, publishing the platform key kept in the data
    /// directory for its `shifting` wallet.
    ///
    /// # Errors
    /// When the address, the data directory or the sandbox database is unusable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.server.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.addr))?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let public_url = match &settings.server.public_url {
            Some(url) => url.clone(),
            None => default_public_url(local)?,
        };
        let key = load_or_create_platform_key(&settings.database.data_dir)?;
        let sandbox = open_sandbox(&settings, &public_url, &key).await?;
        let router = Router::new()
            .nest(sandbox.mount_path(), sandbox.router())
            .layer(
                tower::ServiceBuilder::new()
                    .layer(tower_http::trace::TraceLayer::new_for_http())
                    .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                        axum::http::header::X_CONTENT_TYPE_OPTIONS,
                        axum::http::HeaderValue::from_static("nosniff"),
                    ))
                    .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                        axum::http::header::X_FRAME_OPTIONS,
                        axum::http::HeaderValue::from_static("DENY"),
                    )),
            );
        Ok(Self {
            listener,
            router,
            sandbox,
            limits: settings.connection_limits(),
            clock: settings.clock.clone(),
        })
    }

    /// The port the listener is bound to.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The sandbox's public root URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.sandbox.base_url()
    }

    /// Serves until `shutdown` resolves.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(url = %self.sandbox.base_url(), "the sandbox is listening");
        serve(
            self.listener,
            self.router,
            self.limits,
            self.clock,
            shutdown,
        )
        .await
    }
}

/// The key id of the platform key the sandbox publishes for its `shifting` wallet.
pub const SANDBOX_PLATFORM_KEY_ID: &str = "shifting-sandbox";

/// The file in the data directory holding the platform's private key in sandbox mode.
pub const SANDBOX_PLATFORM_KEY_FILE: &str = "sandbox-platform-key.pem";

/// Opens the sandbox at `{public_url}/sandbox`, publishing `platform_key` for its platform
/// wallet.
///
/// # Errors
/// When the sandbox's database cannot be opened.
pub async fn open_sandbox(
    settings: &Settings,
    public_url: &Url,
    platform_key: &SigningKey,
) -> anyhow::Result<Sandbox> {
    // `join` replaces the last segment unless the path ends with a slash.
    let mut root = public_url.clone();
    if !root.path().ends_with('/') {
        root.set_path(&format!("{}/", root.path()));
    }
    let base = root
        .join("sandbox")
        .context("cannot build the sandbox URL")?;
    let mut config = SandboxConfig::new(base, settings.sandbox.database_url.clone());
    config.timings = settings.sandbox.timings;
    config.switches = settings.sandbox.switches;
    config.clock = settings.clock.clone();
    config.published_keys = vec![(
        PLATFORM_ACCOUNT.to_owned(),
        Jwks {
            keys: vec![platform_key.public_jwk()],
        },
    )];
    if settings.database.uses_sqlite() || settings.sandbox.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.database.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.database.data_dir.display()
            )
        })?;
    }
    Sandbox::open(config)
        .await
        .context("cannot open the sandbox")
}

/// Where webhooks may be posted: as wallet calls, `https` to public addresses and the
/// operator's exemptions; in sandbox mode (no Open Payments identity) also plain `http` and
/// loopback, for a receiver on the developer's machine. Private networks stay refused.
fn webhook_policy(settings: &Settings) -> anyhow::Result<FetchPolicy> {
    let mut exemptions = settings.open_payments.outbound_private_hosts.clone();
    let mut policy = FetchPolicy::real();
    if settings.open_payments.identity.is_none() {
        exemptions.extend(["127.0.0.0/8".to_owned(), "::1/128".to_owned()]);
        policy = policy.with_plain_http();
    }
    policy
        .with_exemptions(&exemptions)
        .context("outbound_private_hosts")
}

/// The client for a sandbox: the platform wallet is the sandbox's `shifting` account, and only
/// the sandbox's origin may be fetched besides public addresses.
fn sandbox_client(
    settings: &Settings,
    wallet_address: String,
    key: SigningKey,
    sandbox_origin: &Url,
) -> anyhow::Result<OpenPaymentsClient> {
    let policy = FetchPolicy::sandbox(sandbox_origin)
        .with_exemptions(&settings.open_payments.outbound_private_hosts)
        .context("outbound_private_hosts")?;
    let mut config = ClientConfig::new(
        ClientIdentity {
            wallet_address,
            key,
        },
        policy,
    );
    config.clock = settings.clock.clone();
    Ok(OpenPaymentsClient::new(config)?)
}

/// Reads the platform key kept in the data directory for sandbox mode, or generates one
/// (readable by the owner only).
///
/// # Errors
/// When the file cannot be read, written or parsed.
pub fn load_or_create_platform_key(data_dir: &Path) -> anyhow::Result<SigningKey> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let path = data_dir.join(SANDBOX_PLATFORM_KEY_FILE);
    let pem = load_or_create_file(&path, || {
        SigningKey::generate(SANDBOX_PLATFORM_KEY_ID)
            .map(|(_, pem)| pem)
            .context("cannot generate the sandbox platform key")
    })?;
    SigningKey::from_pem(SANDBOX_PLATFORM_KEY_ID, &pem).with_context(|| {
        format!(
            "{} is not a usable key; delete it to generate a new one",
            path.display()
        )
    })
}

/// The Open Payments client for real wallets, with the platform's configured identity.
fn open_payments_client(
    settings: &Settings,
    identity: &OpIdentity,
) -> anyhow::Result<OpenPaymentsClient> {
    let key = SigningKey::from_pem(&identity.key_id, identity.private_key.expose_secret())
        .context("the Open Payments private key is unusable")?;
    let policy = FetchPolicy::real()
        .with_exemptions(&settings.open_payments.outbound_private_hosts)
        .context("outbound_private_hosts")?;
    let mut config = ClientConfig::new(
        ClientIdentity {
            wallet_address: identity.wallet_address.clone(),
            key,
        },
        policy,
    );
    config.extra_root_certificates = settings.open_payments.outbound_root_certificates.clone();
    config.clock = settings.clock.clone();
    let client = OpenPaymentsClient::new(config)?;
    tracing::info!(wallet_address = %identity.wallet_address, key_id = %identity.key_id, "Open Payments client identity loaded");
    Ok(client)
}

/// Checks that the platform's wallet address publishes the configured key: without it, every
/// signed request would be refused, so the server does not start. When the wallet provider
/// cannot be reached the check is only logged: an outage there must not keep rooms and
/// histories offline.
///
/// # Errors
/// When the JWKS lacks the key id or holds another key under it.
async fn check_published_key(
    client: &OpenPaymentsClient,
    identity: &OpIdentity,
) -> anyhow::Result<()> {
    let key = SigningKey::from_pem(&identity.key_id, identity.private_key.expose_secret())
        .context("the Open Payments private key is unusable")?;
    match client.get_jwks(&identity.wallet_address).await {
        Ok(jwks) => {
            published_key_matches(&jwks, &key, &identity.wallet_address)?;
            tracing::info!(key_id = %identity.key_id, "the platform wallet publishes our key");
        }
        Err(err) => tracing::error!(
            error = %err,
            "cannot read the platform wallet's keys to check op_key_id; payments fail until it publishes them"
        ),
    }
    Ok(())
}

/// Whether `jwks` publishes `key` under its key id.
fn published_key_matches(jwks: &Jwks, key: &SigningKey, wallet: &str) -> anyhow::Result<()> {
    let ours = key.public_jwk();
    match jwks.keys.iter().find(|k| k.kid == ours.kid) {
        Some(published) if published.x == ours.x => Ok(()),
        Some(_) => anyhow::bail!(
            "the platform wallet {wallet} publishes another public key under key id {:?}: op_private_key does not belong to op_key_id",
            ours.kid
        ),
        None => anyhow::bail!(
            "the platform wallet {wallet} publishes no key with id {:?}; check op_key_id",
            ours.kid
        ),
    }
}

fn default_public_url(local: SocketAddr) -> anyhow::Result<Url> {
    let host = if local.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        local.ip().to_string()
    };
    let host = if local.is_ipv6() && !local.ip().is_unspecified() {
        format!("[{host}]")
    } else {
        host
    };
    Url::parse(&format!("http://{host}:{}", local.port())).context("cannot build the public URL")
}

/// The key for stored secrets kept in `path`, or a new one (readable by the owner only).
fn load_or_create_secrets_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    let encoded = load_or_create_file(path, || Ok(Sealer::generate_key()))?;
    Sealer::parse_key(encoded.trim())
        .map_err(|problem| anyhow::anyhow!("{} {problem}", path.display()))
}

/// Reads the JWT secret kept in the data directory, or generates one (readable by the owner only).
fn load_or_create_secret(path: &Path) -> anyhow::Result<SecretString> {
    let secret = load_or_create_file(path, || {
        let bytes: [u8; 48] = rand::random();
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    })?;
    if secret.trim().len() < 32 {
        anyhow::bail!(
            "the JWT secret in {} is too short; delete it to generate a new one",
            path.display()
        );
    }
    Ok(SecretString::from(secret.trim().to_owned()))
}

/// Reads a secret file, or creates it (mode 0600) with what `generate` makes. When two
/// processes race, the one that loses reads the winner's file.
fn load_or_create_file(
    path: &Path,
    generate: impl Fn() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text),
        Ok(_) => anyhow::bail!(
            "{} is empty; delete it to generate a new one",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
    let text = generate()?;
    // Written to a private temporary file first, then linked into place without replacing:
    // a crash leaves no half-written file, and of two racing processes one wins cleanly.
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()
    });
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(err).with_context(|| format!("cannot write {}", temporary.display()));
    }
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return load_or_create_file(path, generate);
        }
        Err(err) => return Err(err).with_context(|| format!("cannot create {}", path.display())),
    }
    tracing::info!(path = %path.display(), "generated a new secret file");
    Ok(text)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_key_must_match_the_private_key_under_its_id() {
        let (ours, _) = SigningKey::generate("platform-key").unwrap();
        let (other, _) = SigningKey::generate("platform-key").unwrap();
        let (renamed, _) = SigningKey::generate("another-id").unwrap();
        let jwks = |key: &SigningKey| Jwks {
            keys: vec![key.public_jwk()],
        };
        assert!(published_key_matches(&jwks(&ours), &ours, "w").is_ok());
        let wrong = published_key_matches(&jwks(&other), &ours, "w").unwrap_err();
        assert!(wrong.to_string().contains("another public key"), "{wrong}");
        let missing = published_key_matches(&jwks(&renamed), &ours, "w").unwrap_err();
        assert!(missing.to_string().contains("no key with id"), "{missing}");
    }

    #[test]
    fn the_jwt_secret_is_generated_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt-secret");
        let first = load_or_create_secret(&path).unwrap();
        let second = load_or_create_secret(&path).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(first.expose_secret(), second.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
