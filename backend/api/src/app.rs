//! Building and running the application: database, secrets, listener, router.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use base64::Engine;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use shifting_open_payments::SigningKey;
use shifting_open_payments::client::{ClientConfig, ClientIdentity, OpenPaymentsClient};
use shifting_open_payments::fetch_policy::FetchPolicy;
use tokio::net::TcpListener;
use url::Url;

use crate::config::Settings;
use crate::http::web::WebApp;
use crate::services::rate_limit::RateLimiter;
use crate::services::tokens::TokenKeys;
use crate::state::AppState;

/// A built application, bound to its port but not yet serving.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    router: Router,
    public_url: Url,
    db: DatabaseConnection,
}

impl App {
    /// Connects and migrates the database, loads or creates the JWT secret, binds the listener.
    ///
    /// # Errors
    /// When the database, the data directory or the address is unusable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings).await?;
        crate::db::migrate(&db).await?;
        let jwt_secret = match &settings.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create_secret(&settings.data_dir.join("jwt-secret"))?,
        };
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let public_url = match &settings.public_url {
            Some(url) => url.clone(),
            None => default_public_url(local)?,
        };
        let tokens = TokenKeys::new(
            &jwt_secret,
            public_url.origin().ascii_serialization(),
            settings.access_token_ttl,
            settings.refresh_token_ttl,
        );
        let auth_limiter = Arc::new(RateLimiter::new(
            settings.auth_rate_limit_per_minute,
            settings.auth_rate_limit_burst,
        ));
        RateLimiter::spawn_cleanup(&auth_limiter);
        crate::services::passwords::warm_up().await;
        let open_payments = open_payments_client(&settings)?;
        let web = WebApp::load(&settings.web_dir);
        let state = AppState {
            db: db.clone(),
            tokens: Arc::new(tokens),
            auth_limiter,
            cookie_secure: settings
                .cookie_secure
                .unwrap_or(public_url.scheme() == "https"),
            open_payments,
            settings: Arc::new(settings),
        };
        let router = crate::http::router(state, &web);
        Ok(Self {
            listener,
            router,
            public_url,
            db,
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
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP server failed")?;
        tracing::info!("shut down gracefully");
        self.db
            .close()
            .await
            .context("cannot close the database pool")?;
        Ok(())
    }
}

/// The Open Payments client for real wallets, when the platform's identity is configured.
fn open_payments_client(settings: &Settings) -> anyhow::Result<Option<OpenPaymentsClient>> {
    let Some(identity) = &settings.op_identity else {
        tracing::info!(
            "no Open Payments client identity configured (SHIFTING_OP_*): real wallets are not reachable"
        );
        return Ok(None);
    };
    let key = SigningKey::from_pem(&identity.key_id, identity.private_key.expose_secret())
        .context("the Open Payments private key is unusable")?;
    let policy = FetchPolicy::real()
        .with_exemptions(&settings.outbound_private_hosts)
        .context("outbound_private_hosts")?;
    let mut config = ClientConfig::new(
        ClientIdentity {
            wallet_address: identity.wallet_address.clone(),
            key,
        },
        policy,
    );
    config.extra_root_certificates = settings.outbound_root_certificates.clone();
    let client = OpenPaymentsClient::new(config)?;
    tracing::info!(wallet_address = %identity.wallet_address, key_id = %identity.key_id, "Open Payments client identity loaded");
    Ok(Some(client))
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

/// Reads the JWT secret kept in the data directory, or generates one (readable by the owner only).
fn load_or_create_secret(path: &Path) -> anyhow::Result<SecretString> {
    match std::fs::read_to_string(path) {
        Ok(secret) if secret.trim().len() >= 32 => {
            return Ok(SecretString::from(secret.trim().to_owned()));
        }
        Ok(_) => anyhow::bail!(
            "the JWT secret in {} is too short; delete it to generate a new one",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
    let bytes: [u8; 48] = rand::random();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        // Another process created it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return load_or_create_secret(path);
        }
        Err(err) => return Err(err).with_context(|| format!("cannot create {}", path.display())),
    };
    std::io::Write::write_all(&mut file, secret.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(SecretString::from(secret))
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
