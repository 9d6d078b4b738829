//! Shifting's Open Payments client: protocol types, the RFC 9421 signer and verifier, content
//! digests, the GNAP finish hash and the async client. It knows nothing of rooms, users or
//! databases. The protocol is specified in `shared/OPEN-PAYMENTS.md`.

pub mod client;
pub mod clock;
pub mod fetch_policy;
pub mod finish;
pub mod interval;
pub mod keys;
pub mod signatures;
pub mod types;

pub use clock::Clock;
pub use keys::{Jwk, Jwks, KeyError, SigningKey, VerifyingKey};
pub use signatures::{
    KeySource, RequestToSign, SignatureHeaders, SignedRequest, VerifiedSignature, VerifyError,
    VerifyOptions,
};
