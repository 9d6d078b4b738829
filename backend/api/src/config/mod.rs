//! Typed settings, layered: defaults, then an optional TOML file, then `SHIFTING_*` environment
//! variables, then command-line flags. One section per concern, each in its own file: its raw
//! fields (every one with a default), and the validation that turns them into typed settings.
//! Everything is validated at start, and every problem is reported at once with the name of
//! the setting.
//!
//! A new setting is one field in its section's `Raw` (with its default and its check); the
//! file and environment keys are derived from those fields.

mod auth;
mod database;
mod logging;
mod mail;
mod media;
mod open_payments;
mod payments;
mod sandbox;
mod server;

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::{Figment, Provider};
use serde::Deserialize;
use shifting_open_payments::Clock;

pub use auth::AuthSettings;
pub use database::DatabaseSettings;
pub use logging::{LogFormat, LoggingSettings};
pub use mail::{MailSettings, SmtpSecurity, SmtpSettings};
pub use media::{MediaBackend, MediaSettings, S3Settings};
pub use open_payments::{OpIdentity, OpenPaymentsSettings};
pub use payments::PaymentSettings;
pub use sandbox::SandboxSettings;
pub use server::{LiveLimits, ServerSettings};

/// Settings as read from the layers, before validation: one raw section per concern. In the
/// file and the environment the keys are flat (`addr`, `SHIFTING_ADDR`), as listed in the
/// README.
#[derive(Clone, Debug, Default)]
pub struct RawSettings {
    /// Listening, public URL, web app, connection limits, proxies.
    pub server: server::Raw,
    /// Data directory and database.
    pub database: database::Raw,
    /// Log format and filter.
    pub logging: logging::Raw,
    /// JWT, sessions, log-in rate limits, cookie.
    pub auth: auth::Raw,
    /// Checkout lifetimes, payment rate limits, the verification worker.
    pub payments: payments::Raw,
    /// The platform's Open Payments identity and the outbound-call rules.
    pub open_payments: open_payments::Raw,
    /// The embedded (or external) sandbox network.
    pub sandbox: sandbox::Raw,
    /// Where room pictures and delivery files are kept.
    pub media: media::Raw,
    /// Where mail goes.
    pub mail: mail::Raw,
}

/// The validated settings the application runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Listening, public URL, web app, connection limits, proxies.
    pub server: ServerSettings,
    /// Data directory and database.
    pub database: DatabaseSettings,
    /// Log format and filter.
    pub logging: LoggingSettings,
    /// JWT, sessions, log-in rate limits, cookie.
    pub auth: AuthSettings,
    /// Checkout lifetimes, payment rate limits, the verification worker.
    pub payments: PaymentSettings,
    /// The platform's Open Payments identity and the outbound-call rules.
    pub open_payments: OpenPaymentsSettings,
    /// The embedded (or external) sandbox network.
    pub sandbox: SandboxSettings,
    /// Where room pictures and delivery files are kept, and their size limits.
    pub media: MediaSettings,
    /// Where mail goes.
    pub mail: MailSettings,
    /// Where every part of the process reads the time (moved by tests).
    pub clock: Clock,
}

/// A sustained rate with a burst, as the rate limiters take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per minute.
    pub per_minute: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

/// Everything wrong with the configuration, one sentence each.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

/// The problems found so far, each naming its setting.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    /// Records a problem unless `value` lies in `range`; says whether it did.
    fn range<T: PartialOrd + Display + Default>(
        &mut self,
        name: &str,
        value: T,
        range: RangeInclusive<T>,
    ) -> bool {
        if range.contains(&value) {
            return true;
        }
        let (min, max) = range.into_inner();
        self.push(if min == T::default() {
            format!("{name} must be at most {max}")
        } else {
            format!("{name} must be between {min} and {max}")
        });
        false
    }

    /// Checks a rate limit's two settings (`{prefix}_per_minute` and `{prefix}_burst`).
    fn rate_limit(&mut self, prefix: &str, per_minute: u32, burst: u32) -> RateLimit {
        self.range(&format!("{prefix}_per_minute"), per_minute, 1..=1_000_000);
        self.range(&format!("{prefix}_burst"), burst, 1..=1_000_000);
        RateLimit { per_minute, burst }
    }
}

/// Field names of a raw section: its keys in the file and, upper-cased with `SHIFTING_`, in the
/// environment.
fn fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    serde_aux::serde_introspection::serde_introspect::<T>()
}

/// Every setting's key, derived from the raw sections' fields, in the README's order.
#[must_use]
pub fn keys() -> Vec<&'static str> {
    [
        fields::<server::Raw>(),
        fields::<database::Raw>(),
        fields::<logging::Raw>(),
        fields::<auth::Raw>(),
        fields::<payments::Raw>(),
        fields::<open_payments::Raw>(),
        fields::<sandbox::Raw>(),
        fields::<media::Raw>(),
        fields::<mail::Raw>(),
    ]
    .concat()
}

impl RawSettings {
    /// Reads every section from the merged layers; unknown keys in the file are errors.
    fn extract(figment: &Figment) -> Result<Self, ConfigError> {
        let keys = keys();
        let mut problems = Vec::new();
        match figment.data() {
            Ok(data) => {
                for dict in data.values() {
                    problems.extend(
                        dict.keys()
                            .filter(|key| !keys.contains(&key.as_str()))
                            .map(|key| format!("unknown setting `{key}`")),
                    );
                }
            }
            Err(err) => problems.extend(err.into_iter().map(|e| e.to_string())),
        }
        fn section<'de, T: Deserialize<'de> + Default>(
            figment: &Figment,
            problems: &mut Vec<String>,
        ) -> T {
            figment.extract().unwrap_or_else(|err: figment::Error| {
                problems.extend(err.into_iter().map(|e| e.to_string()));
                T::default()
            })
        }
        let raw = Self {
            server: section(figment, &mut problems),
            database: section(figment, &mut problems),
            logging: section(figment, &mut problems),
            auth: section(figment, &mut problems),
            payments: section(figment, &mut problems),
            open_payments: section(figment, &mut problems),
            sandbox: section(figment, &mut problems),
            media: section(figment, &mut problems),
            mail: section(figment, &mut problems),
        };
        if problems.is_empty() {
            Ok(raw)
        } else {
            Err(ConfigError(problems))
        }
    }
}

impl Settings {
    /// The limits every served connection gets.
    #[must_use]
    pub fn connection_limits(&self) -> crate::server::ConnectionLimits {
        crate::server::ConnectionLimits {
            header_read_timeout: self.server.header_read_timeout,
            max_connections: self.server.max_connections,
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
        figment = figment.merge(Env::prefixed("SHIFTING_").only(&keys()));
        let mut raw = RawSettings::extract(&figment)?;
        if let Some(addr) = addr {
            raw.server.addr = addr;
        }
        if let Some(data_dir) = data_dir {
            raw.database.data_dir = data_dir;
        }
        Self::from_raw(raw)
    }

    /// Validates raw settings.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem.
    pub fn from_raw(raw: RawSettings) -> Result<Self, ConfigError> {
        let mut problems = Problems::default();
        let server = raw.server.validate(&mut problems);
        let database = raw.database.validate(&mut problems);
        let logging = raw.logging.validate(&mut problems);
        let auth = raw.auth.validate(&mut problems);
        let payments = raw.payments.validate(&mut problems);
        let open_payments = raw.open_payments.validate(&mut problems);
        let sandbox = raw.sandbox.validate(&database.data_dir, &mut problems);
        let media = raw.media.validate(&database.data_dir, &mut problems);
        let mail = raw.mail.validate(&mut problems);
        if open_payments.identity.is_some() && mail.smtp.is_none() {
            problems.push(
                "smtp_url is required with a real Open Payments identity (the local mailbox is for the sandbox only)",
            );
        }
        if open_payments.identity.is_some() {
            for (on, name) in [
                (!sandbox.clock_ahead.is_zero(), "sandbox_clock_ahead_secs"),
                (sandbox.switches.test_holds, "sandbox_test_holds"),
            ] {
                if on {
                    problems.push(format!(
                        "{name} is a test switch: it cannot be used with a real Open Payments identity"
                    ));
                }
            }
        }
        let clock = Clock::ahead_by(sandbox.clock_ahead);
        match server {
            Some(server) if problems.0.is_empty() => Ok(Self {
                server,
                database,
                logging,
                auth,
                payments,
                open_payments,
                sandbox,
                media,
                mail,
                clock,
            }),
            _ => Err(ConfigError(problems.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn defaults_are_valid_and_use_sqlite_in_the_data_dir() {
        let settings = Settings::from_raw(RawSettings::default()).unwrap();
        assert_eq!(settings.server.addr.to_string(), "127.0.0.1:8080");
        assert!(settings.database.uses_sqlite());
        assert_eq!(
            settings.database.url.expose_secret(),
            "sqlite://data/shifting.db?mode=rwc"
        );
    }

    #[test]
    fn every_key_is_read_from_the_environment_and_documented_in_the_readme() {
        let readme = include_str!("../../../../README.md");
        let keys = keys();
        assert!(keys.len() >= 47, "{keys:?}");
        for key in &keys {
            let env = format!("`SHIFTING_{}", key.to_uppercase());
            assert!(readme.contains(&env), "{env}` is not in the README");
        }
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "a key is in two sections");

        // Every section reads its keys from the layers: one value per section, all at once.
        let figment = Figment::new().merge(figment::providers::Serialized::defaults(
            serde_json::json!({
                "addr": "127.0.0.1:9",
                "database_max_connections": 3,
                "log_filter": "warn",
                "refresh_token_ttl_days": 7,
                "claim_grace_secs": 30,
                "outbound_private_hosts": "wallet.internal",
                "sandbox_wait_secs": 2,
            }),
        ));
        let raw = RawSettings::extract(&figment).unwrap();
        assert_eq!(raw.server.addr, "127.0.0.1:9");
        assert_eq!(raw.database.database_max_connections, 3);
        assert_eq!(raw.logging.log_filter, "warn");
        assert_eq!(raw.auth.refresh_token_ttl_days, 7);
        assert_eq!(raw.payments.claim_grace_secs, 30);
        assert_eq!(raw.open_payments.outbound_private_hosts, "wallet.internal");
        assert_eq!(raw.sandbox.sandbox_wait_secs, 2);
    }

    #[test]
    fn an_unknown_or_mistyped_key_is_an_error_naming_it() {
        let figment = Figment::new().merge(figment::providers::Serialized::defaults(
            serde_json::json!({ "adress": "127.0.0.1:9", "max_connections": "many" }),
        ));
        let ConfigError(problems) = RawSettings::extract(&figment).unwrap_err();
        let all = problems.join("\n");
        assert!(
            all.contains("unknown setting `adress`") && all.contains("max_connections"),
            "{all}"
        );

        // The same through a configuration file; a known key there is read.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("shifting.toml");
        std::fs::write(&file, "claim_grace_secs = 7\nsandbox_wiat_secs = 1\n").unwrap();
        let ConfigError(problems) = Settings::load(Some(&file), None, None).unwrap_err();
        assert_eq!(problems, ["unknown setting `sandbox_wiat_secs`"]);
        std::fs::write(&file, "claim_grace_secs = 7\n").unwrap();
        let settings = Settings::load(Some(&file), None, None).unwrap();
        assert_eq!(
            settings.payments.claim_grace,
            std::time::Duration::from_secs(7)
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_setting_name() {
        let mut raw = RawSettings::default();
        raw.server.addr = "nowhere".into();
        raw.server.public_url = Some("ftp://x".into());
        raw.server.trusted_proxies = "nginx".into();
        raw.server.forwarded_header = "x-real-ip".into();
        raw.database.database_max_connections = 0;
        raw.auth.jwt_secret = Some("short".into());
        raw.auth.access_token_ttl_secs = 5;
        raw.auth.auth_rate_limit_burst = 0;
        raw.payments.claim_grace_secs = u64::MAX;
        raw.payments.payment_rate_limit_per_minute = 0;
        raw.sandbox.sandbox_quote_shortfall = u64::MAX;
        let ConfigError(problems) = Settings::from_raw(raw).unwrap_err();
        let all = problems.join("\n");
        for name in [
            "addr",
            "public_url",
            "trusted_proxies",
            "forwarded_header",
            "database_max_connections",
            "jwt_secret",
            "access_token_ttl_secs",
            "auth_rate_limit_burst",
            "claim_grace_secs",
            "payment_rate_limit_per_minute",
            "sandbox_quote_shortfall",
        ] {
            assert!(all.contains(name), "{name} missing from {all}");
        }
    }
}
