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
    /// `SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE`: sustained log-in/sign-up attempts per IP.
    pub auth_rate_limit_per_minute: u32,
    /// `SHIFTING_AUTH_RATE_LIMIT_BURST`: attempts allowed at once per IP.
    pub auth_rate_limit_burst: u32,
    /// `SHIFTING_COOKIE_SECURE`: mark the refresh cookie `Secure`; default: when the public URL
    /// is https.
    pub cookie_secure: Option<bool>,
    /// `SHIFTING_MAX_BODY_BYTES`: largest accepted request body.
    pub max_body_bytes: usize,
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
            auth_rate_limit_per_minute: 10,
            auth_rate_limit_burst: 10,
            cookie_secure: None,
            max_body_bytes: 64 * 1024,
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
    "auth_rate_limit_per_minute",
    "auth_rate_limit_burst",
    "cookie_secure",
    "max_body_bytes",
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
    /// Log-in/sign-up attempts per minute per IP.
    pub auth_rate_limit_per_minute: u32,
    /// Log-in/sign-up burst per IP.
    pub auth_rate_limit_burst: u32,
    /// Explicit `Secure` flag for the refresh cookie.
    pub cookie_secure: Option<bool>,
    /// Largest request body.
    pub max_body_bytes: usize,
}

/// Everything wrong with the configuration, one sentence each.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

impl Settings {
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
        let database_url = match raw.database_url {
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
        if raw.auth_rate_limit_per_minute == 0 || raw.auth_rate_limit_burst == 0 {
            problems.push(
                "auth_rate_limit_per_minute and auth_rate_limit_burst must be at least 1".into(),
            );
        }
        if !(1024..=16 * 1024 * 1024).contains(&raw.max_body_bytes) {
            problems.push("max_body_bytes must be between 1024 and 16777216".into());
        }
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&raw.log_filter) {
            problems.push(format!("log_filter is not a valid filter: {err}"));
        }
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
                auth_rate_limit_per_minute: raw.auth_rate_limit_per_minute,
                auth_rate_limit_burst: raw.auth_rate_limit_burst,
                cookie_secure: raw.cookie_secure,
                max_body_bytes: raw.max_body_bytes,
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

    #[test]
    fn every_problem_is_reported_with_its_setting_name() {
        let raw = RawSettings {
            addr: "nowhere".into(),
            jwt_secret: Some("short".into()),
            public_url: Some("ftp://x".into()),
            access_token_ttl_secs: 5,
            ..RawSettings::default()
        };
        let ConfigError(problems) = Settings::from_raw(raw).unwrap_err();
        let all = problems.join("\n");
        for name in ["addr", "jwt_secret", "public_url", "access_token_ttl_secs"] {
            assert!(all.contains(name), "{name} missing from {all}");
        }
    }
}
