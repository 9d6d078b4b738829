//! Secrets kept for later use (ARCHITECTURE §7, §8): tokens the platform must present again
//! (grant continuation tokens, outgoing-payment access tokens) are encrypted at rest with one
//! key, through this module only. AES-256-GCM (`ring`), a fresh random nonce per value, and the
//! row and column as associated data, so a stored value cannot be moved to another row or
//! column and still open.
//!
//! The key comes from `SHIFTING_SECRETS_KEY` (32 bytes, base64; the same on every replica) or is
//! generated into the data directory (`secrets-key`, mode 0600) on first start.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// What a sealed value starts with (and a version, should the scheme change).
const PREFIX: &str = "sealed1:";

/// Seals and opens stored secrets.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

/// A stored value that does not open with this key.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret ({0}) does not open with this server's key (SHIFTING_SECRETS_KEY)")]
pub struct Unopenable(pub String);

impl From<Unopenable> for crate::error::ApiError {
    fn from(err: Unopenable) -> Self {
        Self::Internal(anyhow::Error::new(err))
    }
}

impl Sealer {
    /// A sealer with a 32-byte key.
    #[must_use]
    pub fn new(key: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, key)
            .unwrap_or_else(|_| unreachable!("AES-256-GCM takes any 32-byte key"));
        Self {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }
    }

    /// The key in its configured form (base64 of 32 bytes).
    ///
    /// # Errors
    /// When it is not base64 of exactly 32 bytes.
    pub fn parse_key(encoded: &str) -> Result<[u8; 32], &'static str> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim()))
            .map_err(|_| "is not base64")?;
        bytes
            .try_into()
            .map_err(|_| "must be 32 bytes (44 characters of base64)")
    }

    /// A new random key in its configured form.
    #[must_use]
    pub fn generate_key() -> String {
        STANDARD.encode(rand::random::<[u8; 32]>())
    }

    /// `plain` sealed for the place `context` names (`transactions.continue_token:<id>`).
    #[must_use]
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .unwrap_or_else(|_| unreachable!("the system random source failed"));
        let mut bytes = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut bytes,
            )
            .unwrap_or_else(|_| unreachable!("sealing cannot fail for in-memory sizes"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&bytes);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// The plain value of `stored`, sealed for `context`. A value stored before secrets were
    /// sealed (no prefix) is returned as it is: such rows are short-lived payments in flight at
    /// the upgrade.
    ///
    /// # Errors
    /// [`Unopenable`] for a value sealed with another key, for another place, or damaged.
    pub fn open(&self, stored: &str, context: &str) -> Result<String, Unopenable> {
        let Some(sealed) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let unopenable = || Unopenable(context.split(':').next().unwrap_or_default().to_owned());
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| unopenable())?;
        if bytes.len() < NONCE_LEN {
            return Err(unopenable());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unopenable())?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed)
            .map_err(|_| unopenable())?;
        String::from_utf8(plain.to_vec()).map_err(|_| unopenable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer_with(byte: u8) -> Sealer {
        Sealer::new(&[byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_in_its_place() {
        let sealer = sealer_with(7);
        let sealed = sealer.seal("GNAP-token-123", "transactions.continue_token:a");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("GNAP-token-123"));
        assert_ne!(
            sealed,
            sealer.seal("GNAP-token-123", "transactions.continue_token:a"),
            "a fresh nonce each time"
        );
        assert_eq!(
            sealer
                .open(&sealed, "transactions.continue_token:a")
                .unwrap(),
            "GNAP-token-123"
        );
        assert!(
            sealer
                .open(&sealed, "transactions.continue_token:b")
                .is_err()
        );
        assert!(
            sealer
                .open(&sealed, "transactions.outgoing_token:a")
                .is_err()
        );
        assert!(
            sealer_with(8)
                .open(&sealed, "transactions.continue_token:a")
                .is_err()
        );
        let mut damaged = sealed.clone();
        damaged.pop();
        assert!(
            sealer
                .open(&damaged, "transactions.continue_token:a")
                .is_err()
        );
        // A value from before sealing is read as it is.
        assert_eq!(sealer.open("plain", "x:y").unwrap(), "plain");
    }

    #[test]
    fn keys_are_base64_of_32_bytes() {
        let key = Sealer::generate_key();
        assert_eq!(Sealer::parse_key(&key).unwrap().len(), 32);
        assert!(Sealer::parse_key("c2hvcnQ=").is_err());
        assert!(Sealer::parse_key("not base64 at all!").is_err());
    }
}
