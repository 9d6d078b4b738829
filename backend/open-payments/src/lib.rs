//! Shifting's Open Payments client: protocol types, the RFC 9421 signer and verifier, content
//! digests, the GNAP finish hash and the async client. It knows nothing of rooms, users or
//! databases. The protocol is specified in `shared/OPEN-PAYMENTS.md`; this crate is filled by
//! the Open Payments client issue.
