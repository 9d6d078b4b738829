//! Ed25519 keys: loading the platform's private key as wallet providers hand it out, the public
//! JWK that goes into `jwks.json`, and key generation.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

/// Why a key could not be loaded or used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Neither PEM, base64-wrapped PEM nor base64 DER.
    #[error("the private key is not PEM (-----BEGIN PRIVATE KEY-----) or base64 of it")]
    NotPem,
    /// PEM of another kind.
    #[error("expected a PEM block labelled PRIVATE KEY, found {0:?}")]
    WrongLabel(String),
    /// Not a PKCS#8 Ed25519 key.
    #[error("the private key is not a PKCS#8 Ed25519 key")]
    NotEd25519,
    /// The key id is empty or not printable ASCII.
    #[error("the key id must be 1–255 printable ASCII characters")]
    KeyId,
    /// A JWK that is not an Ed25519 public key.
    #[error("the JWK is not an Ed25519 public key (kty OKP, crv Ed25519, 32-byte x)")]
    Jwk,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// DER of a PKCS#8 v1 Ed25519 private key up to the 32-byte seed (RFC 8410 §7):
/// `SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING <seed> } }`.
const PKCS8_V1_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The platform's private signing key and its key id (`kid`).
pub struct SigningKey {
    key_id: String,
    pair: Ed25519KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a private key in any form the Interledger test wallet hands out: a PEM file, or
    /// base64 of that PEM (as in its environment-variable form), or base64 of the DER. Tolerates
    /// a byte-order mark, CRLF line ends and surrounding whitespace; accepts PKCS#8 v1 and v2.
    ///
    /// # Errors
    /// [`KeyError`] saying what is wrong with the key or the key id.
    pub fn from_pem(key_id: &str, text: &str) -> Result<Self, KeyError> {
        check_key_id(key_id)?;
        let der = private_key_der(text)?;
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| KeyError::NotEd25519)?;
        Ok(Self {
            key_id: key_id.to_owned(),
            pair,
        })
    }

    /// Generates a new key pair; returns it with its PKCS#8 PEM encoding (to keep it).
    ///
    /// The PEM is PKCS#8 v1 (the seed only), the form wallet providers issue and every
    /// library reads: ring's own v2 output encodes the public key in a way OpenSSL (and so
    /// Node and Rafiki) rejects.
    ///
    /// # Errors
    /// [`KeyError`] when the key id is invalid or the random number generator fails.
    pub fn generate(key_id: &str) -> Result<(Self, String), KeyError> {
        check_key_id(key_id)?;
        let mut seed = [0u8; 32];
        SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| KeyError::Random)?;
        let der = [PKCS8_V1_ED25519_PREFIX.as_slice(), seed.as_slice()].concat();
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| KeyError::NotEd25519)?;
        Ok((
            Self {
                key_id: key_id.to_owned(),
                pair,
            },
            pem,
        ))
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key as the JWK a `jwks.json` publishes.
    #[must_use]
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            kid: self.key_id.clone(),
            alg: "EdDSA".into(),
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref()),
            key_use: Some("sig".into()),
        }
    }

    /// Signs `message` with pure Ed25519 (no pre-hashing).
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut signature = [0u8; 64];
        signature.copy_from_slice(self.pair.sign(message).as_ref());
        signature
    }
}

fn check_key_id(key_id: &str) -> Result<(), KeyError> {
    let printable = key_id.bytes().all(|b| (0x20..0x7f).contains(&b));
    if key_id.is_empty() || key_id.len() > 255 || !printable {
        return Err(KeyError::KeyId);
    }
    Ok(())
}

fn private_key_der(text: &str) -> Result<Vec<u8>, KeyError> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let text = text.trim();
    if text.contains("-----BEGIN") {
        return pem_der(text);
    }
    // Base64 of a PEM file, or of the DER itself.
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let decoded = STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| KeyError::NotPem)?;
    match std::str::from_utf8(&decoded) {
        Ok(inner) if inner.contains("-----BEGIN") => pem_der(
            inner
                .trim_start_matches('\u{feff}')
                .replace("\r\n", "\n")
                .trim(),
        ),
        _ => Ok(decoded),
    }
}

fn pem_der(text: &str) -> Result<Vec<u8>, KeyError> {
    let block = pem::parse(text).map_err(|_| KeyError::NotPem)?;
    if block.tag() != "PRIVATE KEY" {
        return Err(KeyError::WrongLabel(block.tag().to_owned()));
    }
    Ok(block.into_contents())
}

/// A JSON Web Key as Open Payments publishes client keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key id, matched against the signature's `keyid`.
    pub kid: String,
    /// `EdDSA`.
    pub alg: String,
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// `sig`, optional.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}

impl Jwk {
    /// The Ed25519 public key in this JWK.
    ///
    /// # Errors
    /// [`KeyError::Jwk`] when it is not an Ed25519 public key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(KeyError::Jwk);
        }
        // Accept a padded `x` too; some publishers add it.
        let bytes = URL_SAFE_NO_PAD
            .decode(self.x.trim_end_matches('='))
            .map_err(|_| KeyError::Jwk)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Jwk)?;
        Ok(VerifyingKey(bytes))
    }
}

/// A JWK set (`{wallet address}/jwks.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The key with id `kid`.
    #[must_use]
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyingKey([u8; 32]);

impl VerifyingKey {
    /// Whether `signature` is a valid Ed25519 signature of `message`.
    #[must_use]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 test 1, as OPEN-PAYMENTS.md §2.4 gives it (PKCS#8 v1).
    pub(crate) const TEST_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----";
    const TEST_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn the_test_vector_key_loads_and_exports_its_public_jwk() {
        let key = SigningKey::from_pem("test-key-ed25519", TEST_PEM).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk.x, TEST_X);
        assert_eq!(
            (
                jwk.kid.as_str(),
                jwk.alg.as_str(),
                jwk.kty.as_str(),
                jwk.crv.as_str()
            ),
            ("test-key-ed25519", "EdDSA", "OKP", "Ed25519")
        );
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!(json["use"], "sig");
    }

    #[test]
    fn keys_load_from_every_form_the_test_wallet_hands_out() {
        let crlf_bom = format!("\u{feff}{}\r\n", TEST_PEM.replace('\n', "\r\n"));
        let base64_pem = STANDARD.encode(TEST_PEM);
        let base64_pem_wrapped: String = base64_pem
            .as_bytes()
            .chunks(60)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        let der = pem::parse(TEST_PEM).unwrap().into_contents();
        let base64_der = STANDARD.encode(der);
        for (form, text) in [
            ("CRLF + BOM", crlf_bom),
            ("base64 PEM", base64_pem),
            ("wrapped base64 PEM", base64_pem_wrapped),
            ("base64 DER", base64_der),
        ] {
            let key = SigningKey::from_pem("k", &text).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(key.public_jwk().x, TEST_X, "{form}");
        }
    }

    #[test]
    fn generated_keys_are_pkcs8_v1_like_the_test_vector_and_reload() {
        let (key, pem) = SigningKey::generate("fresh").unwrap();
        let der = pem::parse(&pem).unwrap().into_contents();
        let vector = pem::parse(TEST_PEM).unwrap().into_contents();
        assert_eq!(der.len(), 48);
        assert_eq!(der[..16], vector[..16]);
        let reloaded = SigningKey::from_pem("fresh", &pem).unwrap();
        assert_eq!(key.public_jwk(), reloaded.public_jwk());
        let message = b"hello";
        assert!(
            key.public_jwk()
                .verifying_key()
                .unwrap()
                .verify(message, &reloaded.sign(message))
        );
    }

    #[test]
    fn bad_keys_and_key_ids_are_rejected() {
        assert_eq!(
            SigningKey::from_pem("k", "not a key").unwrap_err(),
            KeyError::NotPem
        );
        let cert = "-----BEGIN CERTIFICATE-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END CERTIFICATE-----";
        assert!(matches!(
            SigningKey::from_pem("k", cert),
            Err(KeyError::WrongLabel(_))
        ));
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
        assert_eq!(
            SigningKey::from_pem("k", garbage).unwrap_err(),
            KeyError::NotEd25519
        );
        assert_eq!(
            SigningKey::from_pem("", TEST_PEM).unwrap_err(),
            KeyError::KeyId
        );
        assert_eq!(
            SigningKey::from_pem("k\u{e9}", TEST_PEM).unwrap_err(),
            KeyError::KeyId
        );
    }

    #[test]
    fn the_debug_output_never_shows_the_key() {
        let key = SigningKey::from_pem("test-key-ed25519", TEST_PEM).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains("test-key-ed25519") && !debug.contains("MC4C"));
    }
}
