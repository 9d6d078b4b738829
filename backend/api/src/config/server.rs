//! Listening, the public URL, the web app, connection limits and the reverse proxies in front.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::Problems;
use crate::http::client_ip::{ForwardedHeader, TrustedProxies};

/// The server's settings as read.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_ADDR`: listen address.
    pub addr: String,
    /// `SHIFTING_PUBLIC_URL`: the URL people and wallets reach us at; default `http://{addr}`.
    pub public_url: Option<String>,
    /// `SHIFTING_WEB_DIR`: the built web app (Trunk's output).
    pub web_dir: PathBuf,
    /// `SHIFTING_TRUSTED_PROXIES`: comma-separated CIDRs of reverse proxies whose forwarding
    /// header names the client; empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// `SHIFTING_FORWARDED_HEADER`: the header those proxies write, `x-forwarded-for` or
    /// `forwarded`; the other is never read.
    pub forwarded_header: String,
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
    /// `SHIFTING_LIVE_SOCKETS_PER_USER`: live sockets one user may hold open on one replica
    /// (tabs and devices); one more is refused.
    pub live_sockets_per_user: usize,
    /// `SHIFTING_LIVE_PING_SECS`: how often the server pings a live socket; one that has not
    /// answered for two intervals is closed.
    pub live_ping_secs: u64,
    /// `SHIFTING_METRICS_ADDR`: where the Prometheus metrics are served (`/metrics`), on a
    /// listener of their own so they are never public by accident; empty: no metrics.
    pub metrics_addr: String,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            public_url: None,
            web_dir: PathBuf::from("dist"),
            trusted_proxies: String::new(),
            forwarded_header: "x-forwarded-for".into(),
            max_body_bytes: 64 * 1024,
            header_read_timeout_secs: 10,
            max_connections: 10_000,
            room_view_cache_ms: 1000,
            live_sockets_per_user: 8,
            live_ping_secs: 25,
            metrics_addr: String::new(),
        }
    }
}

/// The server's validated settings.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// Listen address (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Public URL; `None` means `http://{bound address}`, known once the listener is bound.
    pub public_url: Option<Url>,
    /// Built web app.
    pub web_dir: PathBuf,
    /// Reverse proxies whose forwarding header is believed, and that header.
    pub trusted_proxies: TrustedProxies,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    /// The most client connections served at once.
    pub max_connections: usize,
    /// How long a public room view is served from memory.
    pub room_view_cache: Duration,
    /// Limits of live sockets.
    pub live: LiveLimits,
    /// Where the metrics listener binds (`None`: no metrics).
    pub metrics_addr: Option<SocketAddr>,
}

/// Limits of live sockets.
#[derive(Clone, Copy, Debug)]
pub struct LiveLimits {
    /// Sockets one user may hold open on one replica.
    pub sockets_per_user: usize,
    /// How often a socket is pinged (closed after two intervals without an answer).
    pub ping_interval: Duration,
}

impl Raw {
    /// Checks every value; `None` when the address is unusable (nothing can run without it).
    pub(super) fn validate(self, problems: &mut Problems) -> Option<ServerSettings> {
        let addr = self
            .addr
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.push(format!(
                    "addr {:?} is not a HOST:PORT socket address such as 127.0.0.1:8080",
                    self.addr
                ));
            })
            .ok();
        let public_url = match self.public_url.as_deref().map(Url::parse) {
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
                problems.push(
                    "public_url must be an absolute http:// or https:// URL without query or fragment",
                );
                None
            }
        };
        let forwarded_header = self
            .forwarded_header
            .parse::<ForwardedHeader>()
            .map_err(|err| problems.push(format!("forwarded_header: {err}")))
            .unwrap_or_default();
        let trusted_proxies = TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|err| problems.push(format!("trusted_proxies: {err}")))
            .unwrap_or_default()
            .reading(forwarded_header);
        problems.range(
            "max_body_bytes",
            self.max_body_bytes,
            1024..=16 * 1024 * 1024,
        );
        problems.range(
            "header_read_timeout_secs",
            self.header_read_timeout_secs,
            1..=300,
        );
        problems.range("max_connections", self.max_connections, 1..=1_000_000);
        problems.range("room_view_cache_ms", self.room_view_cache_ms, 0..=60_000);
        problems.range("live_sockets_per_user", self.live_sockets_per_user, 1..=100);
        problems.range("live_ping_secs", self.live_ping_secs, 1..=300);
        let metrics_addr = match self.metrics_addr.trim() {
            "" => None,
            text => text
                .parse::<SocketAddr>()
                .map_err(|_| {
                    problems.push(format!(
                        "metrics_addr {text:?} is not a HOST:PORT socket address such as 127.0.0.1:9090"
                    ));
                })
                .ok(),
        };
        Some(ServerSettings {
            addr: addr?,
            public_url,
            web_dir: self.web_dir,
            trusted_proxies,
            max_body_bytes: self.max_body_bytes,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_connections: self.max_connections,
            room_view_cache: Duration::from_millis(self.room_view_cache_ms),
            live: LiveLimits {
                sockets_per_user: self.live_sockets_per_user,
                ping_interval: Duration::from_secs(self.live_ping_secs),
            },
            metrics_addr,
        })
    }
}
