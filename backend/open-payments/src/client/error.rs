//! [`OpenPaymentsError`]: everything that can go wrong talking to a wallet provider, and what a
//! caller may conclude from it (transient? may the request have acted?).

use crate::fetch_policy::PolicyError;

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

    /// The server's description of the error (Rafiki tells its 403s apart by it).
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        match self {
            Self::Status { description, .. } => description.as_deref(),
            _ => None,
        }
    }

    /// Whether a resource server refused the token itself (403 `Inactive Token`: expired or
    /// revoked), rather than what it asked for (403 `unauthorized`: over a grant's limits or
    /// outside its interval).
    #[must_use]
    pub fn is_inactive_token(&self) -> bool {
        self.status() == Some(403)
            && [self.description(), self.code()]
                .into_iter()
                .flatten()
                .any(|text| text.eq_ignore_ascii_case("inactive token"))
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

    pub(super) fn is_too_fast(&self) -> bool {
        self.code() == Some("too_fast")
    }
}
