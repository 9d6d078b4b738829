//! What a sandbox is opened with: where it is reached, where it keeps its state, its accounts,
//! its timings (Rafiki's defaults unless told otherwise) and the switches tests use.

use std::time::Duration;

use shifting_open_payments::{Clock, Jwks};
use url::Url;

/// Everything [`crate::Sandbox::open`] needs.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The public URL of the sandbox root, e.g. `http://127.0.0.1:8080/sandbox` (no trailing
    /// slash). Wallet addresses are `{base}/{name}`; clients sign requests to these URLs.
    pub base_url: Url,
    /// Where the state lives, e.g. `sqlite://data/sandbox.db?mode=rwc`.
    pub database_url: String,
    /// The accounts created on first start (existing accounts are left as they are).
    pub accounts: Vec<SeedAccount>,
    /// Public keys served at `{base}/{name}/jwks.json`, by account name (the platform's client
    /// wallet publishes the platform key here).
    pub published_keys: Vec<(String, Jwks)>,
    /// Lifetimes and waits.
    pub timings: Timings,
    /// Behaviour switches for tests; all off by default.
    pub switches: Switches,
    /// Where the time comes from (the embedding application's clock, so tests move both).
    pub clock: Clock,
}

impl SandboxConfig {
    /// A sandbox at `base_url` keeping its state in `database_url`, with the demo accounts,
    /// Rafiki's timings and no switches.
    #[must_use]
    pub fn new(base_url: Url, database_url: impl Into<String>) -> Self {
        Self {
            base_url,
            database_url: database_url.into(),
            accounts: SeedAccount::demo(),
            published_keys: Vec::new(),
            timings: Timings::default(),
            switches: Switches::default(),
            clock: Clock::system(),
        }
    }
}

/// Lifetimes and waits, as Rafiki's configuration names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timings {
    /// `continue.wait` of a pending grant, counted from the grant's creation (`WAIT_SECONDS`).
    pub wait: Duration,
    /// How long a quote can be paid (`QUOTE_LIFESPAN`).
    pub quote_lifetime: Duration,
    /// How long the consent interaction stays open (`INTERACTION_EXPIRY_SECONDS`).
    pub interaction_lifetime: Duration,
    /// `expires_in` of access tokens (`ACCESS_TOKEN_EXPIRY_SECONDS`).
    pub token_lifetime: Duration,
}

impl Timings {
    /// The longest any of the timings may be (larger values are cut to this).
    pub const MAX: Duration = Duration::from_secs(30 * 86_400);

    /// These timings with every value cut to [`Timings::MAX`].
    #[must_use]
    pub fn clamped(self) -> Self {
        Self {
            wait: self.wait.min(Self::MAX),
            quote_lifetime: self.quote_lifetime.min(Self::MAX),
            interaction_lifetime: self.interaction_lifetime.min(Self::MAX),
            token_lifetime: self.token_lifetime.min(Self::MAX),
        }
    }
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            wait: Duration::from_secs(5),
            quote_lifetime: Duration::from_secs(5 * 60),
            interaction_lifetime: Duration::from_secs(10 * 60),
            token_lifetime: Duration::from_secs(600),
        }
    }
}

/// Switches that make the sandbox misbehave on purpose, for tests and demos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    /// Added before answering every request.
    pub latency: Duration,
    /// How long the auth server takes between receiving a grant request and storing the grant
    /// (Rafiki fetches the client's keys first: 40–80 ms). The `wait` window starts after it.
    pub grant_store_delay: Duration,
    /// Every outgoing payment fails instead of moving money.
    pub fail_outgoing_payments: bool,
    /// Outgoing payments stay pending: no money moves and they never fail (a wallet whose
    /// payment is stuck in the network).
    pub hold_outgoing_payments: bool,
    /// Outgoing payments are created and move money, but the create request is answered
    /// 500 (an answer lost on the way): the client cannot know that it paid.
    pub lose_outgoing_payment_answers: bool,
    /// Quotes promise the receiver this many minor units less than asked (a wallet that
    /// quotes wrong).
    pub quote_shortfall: u64,
    /// Serves `{base}/test/holds/…`, with which a test stops a protocol request before it is
    /// handled and lets it go on (or drops it) when the test is ready: a crash lands at an
    /// exact step (`crate::holds`).
    pub test_holds: bool,
    /// The auth server answers `subject` grant requests as one from before they existed
    /// (Rafiki before 2.1: 400, the request does not validate).
    pub no_subject_grants: bool,
}

/// An account the sandbox creates on first start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedAccount {
    /// The last path segment of the wallet address (`{base}/{name}`).
    pub name: String,
    /// `publicName` of the wallet address (shown on consent pages).
    pub public_name: String,
    /// Asset code.
    pub asset_code: String,
    /// Asset scale.
    pub asset_scale: u8,
    /// Opening balance in minor units.
    pub balance: u64,
}

impl SeedAccount {
    fn new(name: &str, public_name: &str, asset_code: &str, asset_scale: u8, balance: u64) -> Self {
        Self {
            name: name.into(),
            public_name: public_name.into(),
            asset_code: asset_code.into(),
            asset_scale,
            balance,
        }
    }

    /// The demo accounts: rich wallets in four currencies and scales, one with too little money
    /// to buy anything, and the platform's own client wallet.
    #[must_use]
    pub fn demo() -> Vec<Self> {
        vec![
            Self::new("alice", "Alice Anderson", "USD", 2, 10_000_000),
            Self::new("bruno", "Bruno Berger", "EUR", 2, 10_000_000),
            Self::new("carmen", "Carmen Castillo", "MXN", 2, 200_000_000),
            Self::new("kenji", "Kenji Kato", "JPY", 0, 15_000_000),
            Self::new("penny", "Penny Pincher", "USD", 2, 50),
            Self::new(PLATFORM_ACCOUNT, "Shifting", "USD", 2, 0),
        ]
    }
}

/// The name of the platform's client wallet among the demo accounts.
pub const PLATFORM_ACCOUNT: &str = "shifting";
