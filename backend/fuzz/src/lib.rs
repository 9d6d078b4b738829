//! What the fuzz targets check, as plain functions over the fuzzer's bytes.
//!
//! `cargo fuzz` runs them with coverage guidance (`fuzz_targets/`, driven by `scripts/fuzz.sh`),
//! and `cargo test` replays every committed input under `seeds/<target>/` and
//! `regressions/<target>/` through the same functions, so a case the fuzzer once found stays
//! fixed. Each function panics when the code under test breaks a property: it must never panic
//! on any input, and what it accepts must survive a round trip unchanged.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use http::{HeaderMap, HeaderName, HeaderValue};
use shifting_open_payments::signatures::{self, RequestToSign, SignedRequest, VerifyOptions};
use shifting_open_payments::{Jwks, SigningKey, finish, types};
use shifting_shared::{
    AddressPolicy, Amount, Asset, AssetCode, AssetScale, RoomCode, WalletAddress,
};

/// A target's check: panics when a property breaks.
pub type Check = fn(&[u8]);

/// The targets, by name: the same names as the `cargo fuzz` binaries and the input folders.
pub const TARGETS: [(&str, Check); 5] = [
    ("amount", amount),
    ("wallet_address", wallet_address),
    ("room_code", room_code),
    ("signature_input", signature_input),
    ("op_json", op_json),
];

/// Prices: the first byte picks the asset scale, the rest is the text typed as a price or sent
/// as minor units. Whatever parses formats back to itself.
pub fn amount(data: &[u8]) {
    let Some((&scale, text)) = data.split_first() else {
        return;
    };
    let Ok(scale) = AssetScale::new(scale % (AssetScale::MAX + 1)) else {
        panic!("every scale up to AssetScale::MAX is valid");
    };
    let Ok(code) = AssetCode::parse("USD") else {
        panic!("USD is an asset code");
    };
    let asset = Asset { code, scale };
    let text = String::from_utf8_lossy(text);
    if let Ok(parsed) = Amount::parse_decimal(&text, asset.clone()) {
        let canonical = parsed.to_decimal_string();
        assert_eq!(
            Amount::parse_decimal(&canonical, asset.clone()).as_ref(),
            Ok(&parsed),
            "{text:?} → {canonical:?} does not parse back"
        );
        assert_eq!(
            Amount::parse_minor_units(&parsed.value().to_string(), asset.clone()).as_ref(),
            Ok(&parsed)
        );
    }
    if let Ok(parsed) = Amount::parse_minor_units(&text, asset.clone()) {
        assert!(parsed.value() > 0 && parsed.value() <= Amount::MAX_VALUE);
        assert_eq!(
            Amount::parse_decimal(&parsed.to_decimal_string(), asset).as_ref(),
            Ok(&parsed)
        );
    }
}

/// Wallet addresses under both policies: normalising is idempotent, and the result is a URL
/// the client can request.
pub fn wallet_address(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for policy in [AddressPolicy::Strict, AddressPolicy::AllowInsecure] {
        if let Ok(address) = WalletAddress::parse_with(&text, policy) {
            assert_eq!(
                WalletAddress::parse_with(address.as_str(), policy).as_ref(),
                Ok(&address),
                "{text:?} normalises to {address}, which does not normalise to itself"
            );
            let url = address.to_url();
            assert!(
                url.host_str().is_some_and(|h| !h.is_empty()),
                "{address} has no host"
            );
            assert!(
                url.query().is_none() && url.fragment().is_none(),
                "{address}"
            );
            if policy == AddressPolicy::Strict {
                assert_eq!(url.scheme(), "https", "{address}");
                assert!(url.port().is_none(), "{address}");
            }
        }
    }
}

/// Room codes as typed: what parses is canonical, and every generated code parses.
pub fn room_code(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(code) = RoomCode::parse(&text) {
        assert_eq!(code.as_str().len(), RoomCode::LEN);
        assert_eq!(RoomCode::parse(code.as_str()).as_ref(), Ok(&code));
        assert!(
            code.as_str()
                .bytes()
                .all(|b| RoomCode::ALPHABET.contains(&b))
        );
    }
    let mut bits = [0_u8; 8];
    for (slot, byte) in bits.iter_mut().zip(data) {
        *slot = *byte;
    }
    let generated = RoomCode::from_random(u64::from_le_bytes(bits));
    assert_eq!(RoomCode::parse(generated.as_str()).as_ref(), Ok(&generated));
}

/// A request as an attacker (or a confused client) might send it to the sandbox's verifier.
#[derive(Debug, Arbitrary)]
struct ReceivedRequest {
    method: String,
    target_uri: String,
    signature_input: String,
    signature: String,
    content_digest: Option<String>,
    content_length: Option<String>,
    content_type: Option<String>,
    authorization: Option<String>,
    body: Vec<u8>,
    now: u64,
    max_skew: Option<u16>,
}

/// A request our client signs.
#[derive(Debug, Arbitrary)]
struct OutgoingRequest {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Option<Vec<u8>>,
    created: u32,
}

/// The signature verifier's parsing (RFC 9421 headers, structured fields, digests) never panics
/// on any headers; and whatever our signer produces, the verifier accepts with the same key,
/// with a base the signature is valid over.
pub fn signature_input(data: &[u8]) {
    let mut input = Unstructured::new(data);
    if let Ok(received) = ReceivedRequest::arbitrary(&mut input) {
        check_received(&received);
    }
    if let Ok(outgoing) = OutgoingRequest::arbitrary(&mut input) {
        sign_then_check(&outgoing);
    }
}

fn check_received(received: &ReceivedRequest) {
    let mut headers = HeaderMap::new();
    let fields = [
        ("signature-input", Some(&received.signature_input)),
        ("signature", Some(&received.signature)),
        ("content-digest", received.content_digest.as_ref()),
        ("content-length", received.content_length.as_ref()),
        ("content-type", received.content_type.as_ref()),
        ("authorization", received.authorization.as_ref()),
    ];
    for (name, value) in fields {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    let request = SignedRequest {
        method: &received.method,
        target_uri: &received.target_uri,
        headers: &headers,
        body: &received.body,
    };
    let options = VerifyOptions {
        now: received.now,
        max_skew: received
            .max_skew
            .map(|s| std::time::Duration::from_secs(u64::from(s))),
    };
    if let Ok(parsed) = signatures::check(&request, options) {
        assert!(
            parsed
                .base
                .lines()
                .last()
                .is_some_and(|line| line.starts_with("\"@signature-params\": (")),
            "the signature base does not end with its parameters: {:?}",
            parsed.base
        );
    }
}

fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| match SigningKey::generate("fuzz-key") {
        Ok((key, _pem)) => key,
        Err(err) => panic!("cannot generate a key: {err}"),
    })
}

fn sign_then_check(outgoing: &OutgoingRequest) {
    let method = outgoing.method.to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return;
    }
    let Ok(url) =
        url::Url::parse("https://wallet.example/").and_then(|base| base.join(&outgoing.path))
    else {
        return;
    };
    // A token as our client sends one: a valid header value, without surrounding whitespace
    // (which receivers trim).
    let authorization = outgoing
        .authorization
        .as_deref()
        .filter(|a| HeaderValue::from_str(a).is_ok() && *a == a.trim());
    let key = signing_key();
    let created = u64::from(outgoing.created);
    let signed = signatures::sign(
        key,
        &RequestToSign {
            method: &method,
            url: &url,
            authorization,
            body: outgoing.body.as_deref(),
            content_type: "application/json",
        },
        created,
    );
    let mut headers = HeaderMap::new();
    for (name, value) in signed.pairs() {
        let Ok(value) = HeaderValue::from_str(value) else {
            panic!("the signer produced an invalid {name} header: {value:?}");
        };
        headers.insert(HeaderName::from_static(name), value);
    }
    if let Some(authorization) = authorization
        && let Ok(value) = HeaderValue::from_str(authorization)
    {
        headers.insert(http::header::AUTHORIZATION, value);
    }
    let body = outgoing.body.clone().unwrap_or_default();
    let request = SignedRequest {
        method: &method,
        target_uri: url.as_str(),
        headers: &headers,
        body: &body,
    };
    let options = VerifyOptions {
        now: created,
        max_skew: Some(std::time::Duration::from_secs(60)),
    };
    let parsed = match signatures::check(&request, options) {
        Ok(parsed) => parsed,
        Err(err) => panic!("our own signature is rejected ({err}) for {outgoing:?}"),
    };
    assert_eq!(parsed.key_id, "fuzz-key");
    assert_eq!(parsed.created, created);
    let jwk = key.public_jwk();
    let Ok(verifying) = jwk.verifying_key() else {
        panic!("our own public key does not load");
    };
    assert!(
        verifying.verify(parsed.base.as_bytes(), &parsed.signature),
        "our own signature does not verify over the base the verifier rebuilt"
    );
}

/// The first byte picks what a wallet provider's answer is decoded as; the rest is the body.
/// Decoding never panics, and the shapes we also send survive a round trip.
pub fn op_json(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 12 {
        0 => round_trip::<types::WalletAddress>(body),
        1 => round_trip::<types::Amount>(body),
        2 => round_trip::<Jwks>(body),
        3 => decode::<types::GrantResponse>(body),
        4 => decode::<types::IncomingPayment>(body),
        5 => decode::<types::PublicIncomingPayment>(body),
        6 => decode::<types::Quote>(body),
        7 => decode::<types::OutgoingPayment>(body),
        8 => decode::<types::Page<types::OutgoingPayment>>(body),
        9 => decode::<types::ErrorResponse>(body),
        10 => {
            if let Ok(jwks) = serde_json::from_slice::<Jwks>(body) {
                for jwk in &jwks.keys {
                    let _ = jwk.verifying_key();
                }
            }
        }
        _ => finish_hash(body),
    }
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) {
    let _ = serde_json::from_slice::<T>(body);
}

fn round_trip<T>(body: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(body) {
        let Ok(encoded) = serde_json::to_vec(&value) else {
            panic!("{value:?} does not encode");
        };
        let again = serde_json::from_slice::<T>(&encoded);
        assert_eq!(
            again.as_ref().ok(),
            Some(&value),
            "{value:?} does not decode back"
        );
    }
}

/// The finish redirect's `hash` and `interact_ref` come from the query string: any text.
fn finish_hash(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let mut parts = text.splitn(3, '\n');
    let received = parts.next().unwrap_or_default();
    let interact_ref = parts.next().unwrap_or_default();
    let auth_server = parts.next().unwrap_or_default();
    let _ = finish::verify_finish_hash(
        received,
        "client-nonce",
        "interact-nonce",
        interact_ref,
        auth_server,
    );
    let genuine = finish::finish_hash("client-nonce", "interact-nonce", interact_ref, auth_server);
    assert_eq!(
        finish::verify_finish_hash(
            &genuine,
            "client-nonce",
            "interact-nonce",
            interact_ref,
            auth_server
        ),
        Some(finish::GrantUrlForm::AsUsed)
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::TARGETS;

    /// Replays every committed input of every target. Seeds are the fuzzer's starting corpus;
    /// regressions are the cases it found, kept after their fix.
    #[test]
    fn every_committed_fuzz_input_passes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (name, check) in TARGETS {
            let mut replayed = 0;
            for folder in ["seeds", "regressions"] {
                let Ok(entries) = std::fs::read_dir(root.join(folder).join(name)) else {
                    continue;
                };
                for entry in entries {
                    let path = entry.expect("a readable folder").path();
                    let data = std::fs::read(&path).expect("a readable input");
                    let outcome = std::panic::catch_unwind(|| check(&data));
                    assert!(outcome.is_ok(), "{name}: {} fails", path.display());
                    replayed += 1;
                }
            }
            assert!(replayed > 0, "{name} has no committed inputs");
        }
    }
}
