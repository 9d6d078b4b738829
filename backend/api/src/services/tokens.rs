//! Access tokens (HS256 JWTs, algorithm pinned, issuer and audience checked) and opaque refresh
//! tokens (stored only as SHA-256). A family's first token is random; each rotation's successor
//! is an HMAC of its predecessor under a key derived from the JWT secret, so a server that
//! stores only hashes can still hand the *same* successor to a second tab presenting the
//! just-rotated token (the reuse grace), and nobody without the predecessor can compute it.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shifting_open_payments::Clock;
use uuid::Uuid;

use crate::error::ApiError;

/// The audience every access token is issued for.
pub const AUDIENCE: &str = "shifting-api";

/// Keys and lifetimes for issuing and checking tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    /// Access-token lifetime.
    pub access_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// How long a just-rotated refresh token still yields its successor instead of counting
    /// as reuse (zero: never).
    pub reuse_grace: Duration,
    /// The longest a family of refresh tokens lives, however often it rotates.
    pub family_max_age: Duration,
    successor: ring::hmac::Key,
    /// The time tokens are issued and checked at.
    pub clock: Clock,
}

/// How far past `exp` an access token is still accepted (clocks of replicas differ a little).
const EXPIRY_LEEWAY_SECS: u64 = 5;

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("reuse_grace", &self.reuse_grace)
            .field("family_max_age", &self.family_max_age)
            .finish_non_exhaustive()
    }
}

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
}

impl TokenKeys {
    /// Keys from an HMAC secret; `issuer` is the public URL of this deployment.
    #[must_use]
    pub fn new(
        secret: &SecretString,
        issuer: String,
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // `exp` is checked against our clock in `verify_access`, not the crate's.
        validation.validate_exp = false;
        // A key of its own for successors, so no value computed with it is ever a valid JWT
        // signature and the JWT secret itself never keys anything but JWTs.
        let derived = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes),
            b"shifting refresh-token successor v1",
        );
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            issuer,
            access_ttl,
            refresh_ttl,
            reuse_grace: Duration::from_secs(20),
            family_max_age: Duration::from_secs(90 * 86_400),
            successor: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref()),
            clock: Clock::system(),
        }
    }

    /// These keys issuing and checking tokens by `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// These keys with the refresh-token reuse grace and the maximum family age.
    #[must_use]
    pub fn with_refresh_policy(mut self, reuse_grace: Duration, family_max_age: Duration) -> Self {
        self.reuse_grace = reuse_grace;
        self.family_max_age = family_max_age;
        self
    }

    /// The refresh token that replaces `token` on rotation, and the hash to store.
    #[must_use]
    pub fn successor(&self, token: &str) -> (String, String) {
        let tag = ring::hmac::sign(&self.successor, token.as_bytes());
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref());
        let hash = hash_refresh_token(&value);
        (value, hash)
    }

    /// Issues an access token for `user_id`.
    ///
    /// # Errors
    /// When signing fails (it does not with an HMAC key).
    pub fn issue_access(&self, user_id: Uuid) -> anyhow::Result<String> {
        let now = self.clock.unix_seconds();
        let claims = Claims {
            sub: user_id,
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.access_ttl.as_secs(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Checks an access token and returns its user id.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for anything but a valid, unexpired HS256 token of ours.
    pub fn verify_access(&self, token: &str) -> Result<Uuid, ApiError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::Unauthorized("The access token is invalid."))?
            .claims;
        if claims.exp.saturating_add(EXPIRY_LEEWAY_SECS) <= self.clock.unix_seconds() {
            return Err(ApiError::Unauthorized("The access token has expired."));
        }
        Ok(claims.sub)
    }
}

/// A new opaque refresh token (256 random bits, base64url) and the hash to store.
#[must_use]
pub fn new_refresh_token() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// The stored form of a refresh token: lower-case hex SHA-256.
#[must_use]
pub fn hash_refresh_token(token: &str) -> String {
    sha256_hex(token)
}

/// Lower-case hex SHA-256 of a secret: how secrets we only need to recognise are stored.
#[must_use]
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            &SecretString::from("a test secret that is long enough!!"),
            "http://127.0.0.1".into(),
            Duration::from_secs(900),
            Duration::from_secs(86_400),
        )
    }

    #[test]
    fn access_tokens_round_trip_and_other_issuers_are_rejected() {
        let id = Uuid::new_v4();
        let token = keys().issue_access(id).unwrap();
        assert_eq!(keys().verify_access(&token).unwrap(), id);
        let other = TokenKeys::new(
            &SecretString::from("a test secret that is long enough!!"),
            "https://elsewhere.example".into(),
            Duration::from_secs(900),
            Duration::from_secs(86_400),
        );
        assert!(other.verify_access(&token).is_err());
    }

    #[test]
    fn an_access_token_expires_by_the_clock_after_its_lifetime_and_the_leeway() {
        let clock = Clock::system();
        let keys = keys().with_clock(clock.clone());
        let id = Uuid::new_v4();
        let token = keys.issue_access(id).unwrap();
        clock.advance(Duration::from_secs(900));
        assert_eq!(keys.verify_access(&token).unwrap(), id, "within the leeway");
        clock.advance(Duration::from_secs(EXPIRY_LEEWAY_SECS + 1));
        let err = keys.verify_access(&token).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn successors_are_stable_per_token_and_key_and_look_like_tokens() {
        let (token, _) = new_refresh_token();
        let (a, hash_a) = keys().successor(&token);
        let (b, _) = keys().successor(&token);
        assert_eq!(a, b, "the same token always yields the same successor");
        assert_eq!(hash_a, hash_refresh_token(&a));
        assert_eq!(a.len(), token.len());
        assert_ne!(keys().successor(&a).0, a);
        let other = TokenKeys::new(
            &SecretString::from("another secret that is long enough!"),
            "http://127.0.0.1".into(),
            Duration::from_secs(900),
            Duration::from_secs(86_400),
        );
        assert_ne!(
            other.successor(&token).0,
            a,
            "the key decides the successor"
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, hash_refresh_token(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(&a));
    }
}
