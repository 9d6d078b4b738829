//! Access tokens (HS256 JWTs, algorithm pinned, issuer and audience checked) and opaque refresh
//! tokens (random, stored only as SHA-256).

use std::fmt;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
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
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            issuer,
            access_ttl,
            refresh_ttl,
        }
    }

    /// Issues an access token for `user_id`.
    ///
    /// # Errors
    /// When signing fails (it does not with an HMAC key).
    pub fn issue_access(&self, user_id: Uuid) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
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
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims.sub)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::Unauthorized("The access token has expired.")
                }
                _ => ApiError::Unauthorized("The access token is invalid."),
            })
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
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, hash_refresh_token(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(&a));
    }
}
