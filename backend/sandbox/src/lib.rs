//! Shifting's sandbox: a small but faithful Open Payments account servicing entity, so the
//! whole product runs and is tested on one machine with no credentials. It serves wallet
//! addresses with their keys, a GNAP auth server with a consent page, and a resource server
//! whose payments really move balances, and it verifies every signed request against the
//! client's `jwks.json` fetched over HTTP, as Rafiki does. Nothing crosses the boundary by
//! function call: clients (Shifting included) talk to it over HTTP only.
//!
//! Layout under the base URL (`{base}` = e.g. `http://127.0.0.1:8080/sandbox`):
//!
//! | path | what |
//! |---|---|
//! | `GET {base}/{name}`, `GET {base}/{name}/jwks.json` | wallet address and its keys |
//! | `GET {base}/accounts` | every account with its balance |
//! | `POST {base}/auth` | grant requests (the wallet addresses' `authServer`) |
//! | `POST`/`DELETE {base}/auth/continue/{id}` | continuation, cancel |
//! | `POST`/`DELETE {base}/auth/token/{id}` | token rotation, revocation |
//! | `GET {base}/auth/interact/{id}/{nonce}` | the consent page |
//! | `{base}/rs/…` | incoming payments, quotes, outgoing payments (`resourceServer`) |
//! | `{base}/test/holds/…` | with the `test_holds` switch only: requests stopped at a step (`holds`) |

mod access;
mod auth;
mod config;
mod consent;
mod error;
mod holds;
mod language;
pub mod money;
mod resources;
mod signed;
mod store;
mod wallet;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as StateExtractor};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use shifting_open_payments::fetch_policy::{FetchPolicy, GuardedResolver};
use shifting_open_payments::{Clock, Jwks};
use uuid::Uuid;

pub use config::{PLATFORM_ACCOUNT, SandboxConfig, SeedAccount, Switches, Timings};

/// Why a sandbox could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The base URL is not an absolute http(s) URL without query.
    #[error("the sandbox base URL {0} must be an absolute http(s) URL without query or fragment")]
    BaseUrl(String),
    /// The database failed.
    #[error("the sandbox database failed: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The HTTP client for fetching client keys could not be built.
    #[error("cannot build the sandbox's HTTP client: {0}")]
    Http(String),
}

/// An opened sandbox: its state and its routes.
#[derive(Clone, Debug)]
pub struct Sandbox {
    state: Arc<State>,
}

/// Shared by every handler.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) db: DatabaseConnection,
    /// `{base}` without a trailing slash.
    pub(crate) base: String,
    /// Scheme, host and port of the base URL (to rebuild `@target-uri`).
    pub(crate) origin: String,
    /// The path the sandbox is mounted at (`/sandbox`).
    pub(crate) mount_path: String,
    pub(crate) secure_cookies: bool,
    pub(crate) http: reqwest::Client,
    /// Which client addresses may be fetched.
    pub(crate) fetch_policy: Arc<FetchPolicy>,
    pub(crate) keys: HashMap<String, Jwks>,
    pub(crate) timings: Timings,
    pub(crate) switches: Switches,
    pub(crate) clock: Clock,
    /// Protocol requests stopped by a test (`test_holds`).
    pub(crate) holds: holds::Holds,
    /// Continuations refused `too_fast` since the sandbox opened (a client that counts `wait`
    /// from the wrong moment shows here).
    pub(crate) too_fast_refusals: std::sync::atomic::AtomicU64,
}

impl Sandbox {
    /// Opens (and on first use creates) the sandbox's state and settles payments a previous
    /// run left in flight.
    ///
    /// # Errors
    /// [`SandboxError`] when the base URL is unusable or the database fails.
    pub async fn open(config: SandboxConfig) -> Result<Self, SandboxError> {
        let url = &config.base_url;
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(SandboxError::BaseUrl(url.to_string()));
        }
        let base = url.as_str().trim_end_matches('/').to_owned();
        let timings = config.timings.clamped();
        let mount_path = url.path().trim_end_matches('/').to_owned();
        let db = store::open(&config.database_url, &config.accounts, config.clock.now()).await?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fetch_policy = Arc::new(client_fetch_policy(url));
        let http = reqwest::Client::builder()
            .dns_resolver(GuardedResolver::new(Arc::clone(&fetch_policy)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .no_proxy()
            .user_agent("shifting-sandbox")
            .build()
            .map_err(|e| SandboxError::Http(e.to_string()))?;
        let state = Arc::new(State {
            db,
            origin: url.origin().ascii_serialization(),
            base,
            mount_path,
            secure_cookies: url.scheme() == "https",
            http,
            fetch_policy,
            keys: config.published_keys.into_iter().collect(),
            timings,
            switches: config.switches,
            clock: config.clock,
            holds: holds::Holds::default(),
            too_fast_refusals: std::sync::atomic::AtomicU64::new(0),
        });
        resources::settle_all_pending(&state).await?;
        Ok(Self { state })
    }

    /// The path to mount [`Sandbox::router`] at (the base URL's path, e.g. `/sandbox`).
    #[must_use]
    pub fn mount_path(&self) -> &str {
        &self.state.mount_path
    }

    /// The public URL of the sandbox root (`{base}`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.state.base
    }

    /// The wallet address URL of account `name`.
    #[must_use]
    pub fn wallet_address(&self, name: &str) -> String {
        self.state.wallet_url(name)
    }

    /// The routes, relative to the mount path: nest them at [`Sandbox::mount_path`].
    pub fn router(&self) -> Router {
        // The latency switch slows the auth and resource servers, not the wallet-address and
        // key documents the sandbox itself fetches while verifying a request.
        let protocol = Router::new()
            .route("/auth", post(auth::request_grant))
            .route(
                "/auth/continue/{id}",
                post(auth::continue_grant).delete(auth::cancel_grant),
            )
            .route(
                "/auth/token/{id}",
                post(auth::rotate_token).delete(auth::revoke_token),
            )
            .route(
                "/auth/interact/{id}/{nonce}",
                get(consent::start_interaction),
            )
            .route(
                "/auth/interact/{id}/{nonce}/finish",
                post(consent::decide).get(consent::replay_finish),
            )
            .route("/auth/interact/{id}/{nonce}/login", post(consent::sign_in))
            .route(
                "/rs/incoming-payments",
                post(resources::create_incoming_payment).get(resources::list_incoming_payments),
            )
            .route(
                "/rs/incoming-payments/{id}",
                get(resources::get_incoming_payment),
            )
            .route(
                "/rs/incoming-payments/{id}/complete",
                post(resources::complete_incoming_payment),
            )
            .route("/rs/quotes", post(resources::create_quote))
            .route("/rs/quotes/{id}", get(resources::get_quote))
            .route(
                "/rs/outgoing-payments",
                post(resources::create_outgoing_payment).get(resources::list_outgoing_payments),
            )
            .route(
                "/rs/outgoing-payments/{id}",
                get(resources::get_outgoing_payment),
            )
            .route(
                "/rs/outgoing-payment-grant",
                get(resources::grant_spent_amounts),
            )
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                added_latency,
            ));
        let protocol = if self.state.switches.test_holds {
            protocol
                .layer(axum::middleware::from_fn_with_state(
                    self.state.clone(),
                    holds::hold_requests,
                ))
                .route("/test/holds/{step}", post(holds::arm).get(holds::held))
                .route("/test/holds/{step}/release", post(holds::release))
        } else {
            protocol
        };
        Router::new()
            .route("/accounts", get(wallet::list_accounts))
            .route("/stats", get(wallet::stats))
            .merge(protocol)
            .route("/{name}", get(wallet::get_wallet_address))
            .route("/{name}/", get(wallet::get_wallet_address))
            .route("/{name}/jwks.json", get(wallet::get_jwks))
            .fallback(wallet::not_found)
            .with_state(self.state.clone())
    }
}

/// Where the sandbox may fetch client wallet addresses and keys from: public addresses, its
/// own origin, and loopback only when the sandbox itself is on loopback (a developer machine,
/// where third-party clients run beside it). Never private or link-local networks otherwise:
/// the client URL comes from an unauthenticated request.
fn client_fetch_policy(base: &url::Url) -> FetchPolicy {
    let on_loopback = match base.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let loopback = ["127.0.0.0/8".to_owned(), "::1/128".to_owned()];
    let exemptions: &[String] = if on_loopback { &loopback } else { &[] };
    FetchPolicy::sandbox(base)
        .with_exemptions(exemptions)
        .unwrap_or_else(|_| FetchPolicy::sandbox(base))
}

/// The latency switch: waits before handling every request.
async fn added_latency(
    StateExtractor(state): StateExtractor<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    if !state.switches.latency.is_zero() {
        tokio::time::sleep(state.switches.latency).await;
    }
    next.run(request).await
}

impl State {
    pub(crate) fn wallet_url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// The account name of a wallet address URL served here.
    pub(crate) fn account_name<'a>(&self, url: &'a str) -> Option<&'a str> {
        let name = url
            .strip_prefix(self.base.as_str())?
            .strip_prefix('/')?
            .trim_end_matches('/');
        (!name.is_empty() && !name.contains('/')).then_some(name)
    }

    pub(crate) fn auth_server(&self) -> String {
        format!("{}/auth", self.base)
    }

    pub(crate) fn resource_server(&self) -> String {
        format!("{}/rs", self.base)
    }

    pub(crate) fn continue_url(&self, id: Uuid) -> String {
        format!("{}/auth/continue/{id}", self.base)
    }

    pub(crate) fn manage_url(&self, id: Uuid) -> String {
        format!("{}/auth/token/{id}", self.base)
    }

    pub(crate) fn interact_url(&self, id: Uuid, nonce: &str) -> String {
        format!("{}/auth/interact/{id}/{nonce}", self.base)
    }

    pub(crate) fn resource_url(&self, kind: &str, id: Uuid) -> String {
        format!("{}/rs/{kind}/{id}", self.base)
    }

    /// The id in a resource URL served here (`{base}/rs/{kind}/{id}`).
    pub(crate) fn resource_id(&self, kind: &str, url: &str) -> Option<Uuid> {
        let rest = url
            .strip_prefix(self.base.as_str())?
            .strip_prefix("/rs/")?
            .strip_prefix(kind)?
            .strip_prefix('/')?;
        Uuid::parse_str(rest).ok()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::client_fetch_policy;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn a_public_sandbox_fetches_no_internal_client_addresses() {
        let public = url::Url::parse("https://sandbox.example/sandbox").ok();
        let policy = client_fetch_policy(&public.unwrap_or_else(|| unreachable!()));
        assert!(policy.allows_address("shop.example", ip("93.184.216.34")));
        for internal in ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1"] {
            assert!(
                !policy.allows_address("evil.example", ip(internal)),
                "{internal}"
            );
        }
        // Its own host may resolve internally (behind a load balancer).
        assert!(policy.allows_address("sandbox.example", ip("10.0.0.7")));
    }

    #[test]
    fn a_sandbox_on_loopback_serves_clients_on_loopback() {
        let local = url::Url::parse("http://127.0.0.1:8080/sandbox").ok();
        let policy = client_fetch_policy(&local.unwrap_or_else(|| unreachable!()));
        assert!(policy.allows_address("localhost", ip("127.0.0.1")));
        assert!(policy.allows_address("localhost", ip("::1")));
        assert!(!policy.allows_address("router.lan", ip("192.168.1.1")));
    }
}
