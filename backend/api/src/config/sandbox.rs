//! The sandbox Open Payments network: embedded, or one started elsewhere; its timings and test
//! switches.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::Problems;

const DAY: u64 = 86_400;

/// The sandbox settings as read.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Raw {
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
    /// `SHIFTING_SANDBOX_TEST_HOLDS`: test switch, serves `/sandbox/test/holds/…`, which stop a
    /// protocol request before it is handled until released.
    pub sandbox_test_holds: bool,
    /// `SHIFTING_SANDBOX_NO_SUBJECT_GRANTS`: test switch, the sandbox's auth server refuses
    /// `subject` grants as a provider from before they existed does.
    pub sandbox_no_subject_grants: bool,
    /// `SHIFTING_SANDBOX_CLOCK_AHEAD_SECS`: test switch, this process's clock (API and sandbox
    /// alike) runs this far ahead of the system's; only without a real Open Payments identity.
    pub sandbox_clock_ahead_secs: u64,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
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
            sandbox_test_holds: false,
            sandbox_no_subject_grants: false,
            sandbox_clock_ahead_secs: 0,
        }
    }
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
    /// How far this process's clock runs ahead of the system's.
    pub clock_ahead: Duration,
}

impl Raw {
    pub(super) fn validate(self, data_dir: &Path, problems: &mut Problems) -> SandboxSettings {
        for (name, value, max) in [
            ("sandbox_wait_secs", self.sandbox_wait_secs, 3600),
            (
                "sandbox_quote_lifetime_secs",
                self.sandbox_quote_lifetime_secs,
                DAY,
            ),
            (
                "sandbox_interaction_lifetime_secs",
                self.sandbox_interaction_lifetime_secs,
                DAY,
            ),
            (
                "sandbox_token_lifetime_secs",
                self.sandbox_token_lifetime_secs,
                DAY,
            ),
            // Below the server's 30 s request timeout, with room for the request itself.
            ("sandbox_latency_ms", self.sandbox_latency_ms, 10_000),
            (
                "sandbox_grant_store_delay_ms",
                self.sandbox_grant_store_delay_ms,
                10_000,
            ),
            // A shortfall above any price is meaningless (prices are at most 10^15 minor units).
            (
                "sandbox_quote_shortfall",
                self.sandbox_quote_shortfall,
                1_000_000_000_000_000,
            ),
            // A year: any deadline the product sets has passed by then.
            (
                "sandbox_clock_ahead_secs",
                self.sandbox_clock_ahead_secs,
                365 * DAY,
            ),
        ] {
            problems.range(name, value, 0..=max);
        }
        let database_url = self.sandbox_database_url.unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("sandbox.db").display()
            )
        });
        if !database_url.starts_with("sqlite:") {
            problems.push("sandbox_database_url must be a sqlite: URL");
        }
        let external_url = match self.sandbox_url.as_deref().map(Url::parse) {
            None => None,
            Some(Ok(mut url))
                if matches!(url.scheme(), "http" | "https") && url.host().is_some() =>
            {
                url.set_path(url.path().trim_end_matches('/').to_owned().as_str());
                Some(url)
            }
            Some(_) => {
                problems.push("sandbox_url must be an absolute http:// or https:// URL");
                None
            }
        };
        SandboxSettings {
            external_url,
            database_url,
            timings: shifting_sandbox::Timings {
                wait: Duration::from_secs(self.sandbox_wait_secs),
                quote_lifetime: Duration::from_secs(self.sandbox_quote_lifetime_secs),
                interaction_lifetime: Duration::from_secs(self.sandbox_interaction_lifetime_secs),
                token_lifetime: Duration::from_secs(self.sandbox_token_lifetime_secs),
            },
            switches: shifting_sandbox::Switches {
                latency: Duration::from_millis(self.sandbox_latency_ms),
                grant_store_delay: Duration::from_millis(self.sandbox_grant_store_delay_ms),
                fail_outgoing_payments: self.sandbox_fail_outgoing_payments,
                hold_outgoing_payments: self.sandbox_hold_outgoing_payments,
                lose_outgoing_payment_answers: self.sandbox_lose_outgoing_payment_answers,
                quote_shortfall: self.sandbox_quote_shortfall,
                test_holds: self.sandbox_test_holds,
                no_subject_grants: self.sandbox_no_subject_grants,
            },
            clock_ahead: Duration::from_secs(self.sandbox_clock_ahead_secs),
        }
    }
}
