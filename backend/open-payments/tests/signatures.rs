//! The signature profile of OPEN-PAYMENTS.md §2: the published vectors reproduced byte for byte,
//! verified by our verifier, and tampering of any kind detected.

#![allow(clippy::unwrap_used, reason = "test fixtures should fail loudly")]

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use shifting_open_payments::signatures::{self, ParsedSignature, content_digest, sign};
use shifting_open_payments::{
    Jwks, RequestToSign, SignatureHeaders, SignedRequest, SigningKey, VerifyError, VerifyOptions,
};
use url::Url;

const TEST_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----";
const KID: &str = "test-key-ed25519";
const CREATED: u64 = 1_735_689_600;
const TOKEN: &str = "GNAP 7C1A1D3F0B5E4A2B9C8D";

fn key() -> SigningKey {
    SigningKey::from_pem(KID, TEST_PEM).unwrap()
}

fn jwks() -> Jwks {
    Jwks {
        keys: vec![key().public_jwk()],
    }
}

fn options() -> VerifyOptions {
    VerifyOptions {
        now: CREATED + 10,
        max_skew: Some(Duration::from_secs(300)),
    }
}

/// The headers a server receives for a request signed with `headers`.
fn received(authorization: Option<&str>, signed: &SignatureHeaders) -> HeaderMap {
    let mut map = HeaderMap::new();
    if let Some(authorization) = authorization {
        map.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
    }
    for (name, value) in signed.pairs() {
        map.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn verify_now(
    method: &str,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
    options: VerifyOptions,
) -> Result<(), VerifyError> {
    let request = SignedRequest {
        method,
        target_uri: url,
        headers,
        body,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(signatures::verify(&request, &jwks(), options))
        .map(|_| ())
}

#[test]
fn the_incoming_payment_vector_of_section_2_4_is_reproduced_byte_for_byte() {
    let url = Url::parse(
        "https://ilp.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c/incoming-payments",
    )
    .unwrap();
    let body = br#"{"walletAddress":"https://ilp.interledger-test.dev/seller","incomingAmount":{"value":"2500","assetCode":"USD","assetScale":2},"metadata":{"description":"Order 42"}}"#;
    assert_eq!(body.len(), 164);

    let signed = sign(
        &key(),
        &RequestToSign {
            method: "POST",
            url: &url,
            authorization: Some(TOKEN),
            body: Some(body),
            content_type: "application/json",
        },
        CREATED,
    );

    assert_eq!(
        signed.content_digest.as_deref(),
        Some(
            "sha-512=:RomNdkCbYt7pSAfANlwLvN4d4LtnLtG2Nh16GGCh/6+hLeNtNLlVbsraDJrnGIsKFgwJ5d1K+8PcsFitIO3jDg==:"
        )
    );
    assert_eq!(signed.content_length.as_deref(), Some("164"));
    assert_eq!(signed.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        signed.signature_input,
        r#"sig1=("@method" "@target-uri" "authorization" "content-digest" "content-length" "content-type");keyid="test-key-ed25519";created=1735689600"#
    );
    assert_eq!(
        signed.signature,
        "sig1=:7KBUEODi9T8GjptDZlOUk7c0AAjwzpgL3Dg9N4GDbNMC1J4lngaGEK+tq9BnF224Ibvuwa+DqZixzQIVw88CDQ==:"
    );

    let headers = received(Some(TOKEN), &signed);
    let request = SignedRequest {
        method: "POST",
        target_uri: url.as_str(),
        headers: &headers,
        body,
    };
    let ParsedSignature { base, .. } = signatures::check(&request, options()).unwrap();
    assert_eq!(
        base,
        "\"@method\": POST\n\
         \"@target-uri\": https://ilp.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c/incoming-payments\n\
         \"authorization\": GNAP 7C1A1D3F0B5E4A2B9C8D\n\
         \"content-digest\": sha-512=:RomNdkCbYt7pSAfANlwLvN4d4LtnLtG2Nh16GGCh/6+hLeNtNLlVbsraDJrnGIsKFgwJ5d1K+8PcsFitIO3jDg==:\n\
         \"content-length\": 164\n\
         \"content-type\": application/json\n\
         \"@signature-params\": (\"@method\" \"@target-uri\" \"authorization\" \"content-digest\" \"content-length\" \"content-type\");keyid=\"test-key-ed25519\";created=1735689600"
    );
    verify_now("POST", url.as_str(), &headers, body, options()).unwrap();
}

#[test]
fn the_grant_request_vector_of_appendix_a_is_reproduced_and_verified() {
    let url = Url::parse("https://auth.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c")
        .unwrap();
    let body = br#"{"access_token":{"access":[{"type":"incoming-payment","actions":["create","read"]}]},"client":"https://ilp.interledger-test.dev/marketplace"}"#;
    assert_eq!(body.len(), 141);

    let signed = sign(
        &key(),
        &RequestToSign {
            method: "POST",
            url: &url,
            authorization: None,
            body: Some(body),
            content_type: "application/json",
        },
        CREATED,
    );

    assert_eq!(
        signed.content_digest.as_deref(),
        Some(
            "sha-512=:DptHyW19wOI+S0MhTGANC9M/xdhdvIam/TLcvp0Y4dgxGZhHFtnXWeC11/0APLXDTAU3YTDF5LaK+A7+6LiCCQ==:"
        )
    );
    assert_eq!(
        signed.signature_input,
        r#"sig1=("@method" "@target-uri" "content-digest" "content-length" "content-type");keyid="test-key-ed25519";created=1735689600"#
    );
    assert_eq!(
        signed.signature,
        "sig1=:K3kyps2c6Lwta2AL12u6sMTjVBSRUGhMLDGNR/jlvWsM0Olmg1jwSK3qS0yaLQ9mI3A9Nrh5vhRpHQsU2mmGCw==:"
    );
    verify_now(
        "POST",
        url.as_str(),
        &received(None, &signed),
        body,
        options(),
    )
    .unwrap();
}

#[test]
fn the_get_with_token_vector_of_appendix_a_is_reproduced_and_verified() {
    let url = Url::parse("https://ilp.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c/incoming-payments/0a1b2c3d-0000-4000-8000-000000000001").unwrap();

    let signed = sign(
        &key(),
        &RequestToSign {
            method: "GET",
            url: &url,
            authorization: Some(TOKEN),
            body: None,
            content_type: "application/json",
        },
        CREATED,
    );

    assert_eq!(signed.content_digest, None);
    assert_eq!(signed.content_length, None);
    assert_eq!(
        signed.signature_input,
        r#"sig1=("@method" "@target-uri" "authorization");keyid="test-key-ed25519";created=1735689600"#
    );
    assert_eq!(
        signed.signature,
        "sig1=:s/Wl6K7/v8fsO8Ut5lA3O72kwSmrrpPpXTjUS86mcEQUwgIcTEhzQyZNlTxYuo2Vuhtg4T/VvFGM8vHPPsEBAQ==:"
    );
    verify_now(
        "GET",
        url.as_str(),
        &received(Some(TOKEN), &signed),
        b"",
        options(),
    )
    .unwrap();
}

#[test]
fn content_digest_matches_rfc_9530_form() {
    assert_eq!(
        content_digest(b""),
        "sha-512=:z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==:"
    );
}

fn signed_post(body: &[u8]) -> (Url, HeaderMap) {
    let url = Url::parse("https://rs.example/alice/incoming-payments").unwrap();
    let signed = sign(
        &key(),
        &RequestToSign {
            method: "POST",
            url: &url,
            authorization: Some(TOKEN),
            body: Some(body),
            content_type: "application/json",
        },
        CREATED,
    );
    (url.clone(), received(Some(TOKEN), &signed))
}

#[test]
fn signatures_outside_the_time_window_are_rejected() {
    let (url, headers) = signed_post(b"{}");
    let late = VerifyOptions {
        now: CREATED + 301,
        max_skew: Some(Duration::from_secs(300)),
    };
    assert_eq!(
        verify_now("POST", url.as_str(), &headers, b"{}", late),
        Err(VerifyError::Stale)
    );
    let early = VerifyOptions {
        now: CREATED - 301,
        max_skew: Some(Duration::from_secs(300)),
    };
    assert_eq!(
        verify_now("POST", url.as_str(), &headers, b"{}", early),
        Err(VerifyError::Stale)
    );
    let lenient = VerifyOptions {
        now: CREATED + 86_400 * 365,
        max_skew: None,
    };
    verify_now("POST", url.as_str(), &headers, b"{}", lenient).unwrap();
}

#[test]
fn missing_required_components_are_rejected() {
    let url = "https://rs.example/alice/incoming-payments";
    let mut headers = signed_post(b"{}").1;
    // Cover only @method and @target-uri although the request has a token and a body.
    headers.insert(
        "signature-input",
        HeaderValue::from_static(
            r#"sig1=("@method" "@target-uri");keyid="test-key-ed25519";created=1735689600"#,
        ),
    );
    assert_eq!(
        verify_now("POST", url, &headers, b"{}", options()),
        Err(VerifyError::MissingComponent("authorization"))
    );
    headers.insert("signature-input", HeaderValue::from_static(r#"sig1=("@method" "@target-uri" "authorization");keyid="test-key-ed25519";created=1735689600"#));
    assert_eq!(
        verify_now("POST", url, &headers, b"{}", options()),
        Err(VerifyError::MissingComponent("content-digest"))
    );
    headers.insert(
        "signature-input",
        HeaderValue::from_static(
            r#"sig1=("@target-uri" "authorization");keyid="test-key-ed25519";created=1735689600"#,
        ),
    );
    assert_eq!(
        verify_now("POST", url, &headers, b"{}", options()),
        Err(VerifyError::MissingComponent("@method"))
    );
}

#[test]
fn malformed_and_unusual_inputs_are_rejected_with_a_reason() {
    let url = "https://rs.example/alice/incoming-payments";
    let (_, good) = signed_post(b"{}");
    let with = |name: &'static str, value: &'static str| {
        let mut headers = good.clone();
        headers.insert(name, HeaderValue::from_static(value));
        verify_now("POST", url, &headers, b"{}", options())
    };
    assert_eq!(
        with("signature-input", "sig1=(\"@method\""),
        Err(VerifyError::Malformed("Signature-Input"))
    );
    assert_eq!(
        with(
            "signature-input",
            r#"sig2=("@method" "@target-uri");keyid="k";created=1"#
        ),
        Err(VerifyError::MissingLabel)
    );
    assert!(matches!(
        with(
            "signature-input",
            r#"sig1=("@Method" "@target-uri");keyid="k";created=1"#
        ),
        Err(VerifyError::InvalidComponent(_))
    ));
    assert_eq!(
        with(
            "signature-input",
            r#"sig1=("@method" "@target-uri" "authorization" "content-digest" "content-length" "content-type");created=1735689600"#
        ),
        Err(VerifyError::MissingKeyId)
    );
    assert_eq!(
        with(
            "signature-input",
            r#"sig1=("@method" "@target-uri" "authorization" "content-digest" "content-length" "content-type");keyid="test-key-ed25519""#
        ),
        Err(VerifyError::MissingCreated)
    );
    assert!(matches!(
        with(
            "signature-input",
            r#"sig1=("@method" "@target-uri" "authorization" "content-digest" "content-length" "content-type" "@path");keyid="test-key-ed25519";created=1735689600"#
        ),
        Err(VerifyError::UnsupportedComponent(_))
    ));
    assert!(matches!(
        with("content-digest", "md5=:AAAA:"),
        Err(VerifyError::UnsupportedDigest(_))
    ));
    assert_eq!(
        with(
            "content-digest",
            "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
        ),
        Err(VerifyError::DigestMismatch)
    );
    assert_eq!(
        with("content-length", "3"),
        Err(VerifyError::DigestMismatch)
    );
    assert_eq!(
        with("signature", "sig1=:AAAA:"),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        with("signature", "sig1=notbytes"),
        Err(VerifyError::Malformed("Signature"))
    );
    let mut unsigned = good.clone();
    unsigned.remove("signature-input");
    assert_eq!(
        verify_now("POST", url, &unsigned, b"{}", options()),
        Err(VerifyError::MissingHeader("signature-input".into()))
    );
}

#[test]
fn an_unknown_key_id_is_rejected() {
    let other = SigningKey::from_pem("someone-else", TEST_PEM).unwrap();
    let url = Url::parse("https://rs.example/x").unwrap();
    let signed = sign(
        &other,
        &RequestToSign {
            method: "GET",
            url: &url,
            authorization: Some(TOKEN),
            body: None,
            content_type: "application/json",
        },
        CREATED,
    );
    assert_eq!(
        verify_now(
            "GET",
            url.as_str(),
            &received(Some(TOKEN), &signed),
            b"",
            options()
        ),
        Err(VerifyError::UnknownKey("someone-else".into()))
    );
}

#[test]
fn sha_256_digests_and_alg_ed25519_are_accepted_like_rafiki_does() {
    // Re-sign a request whose digest header uses sha-256 and whose parameters carry alg.
    let url = "https://rs.example/alice/incoming-payments";
    let body = b"{\"a\":1}";
    let digest = format!(
        "sha-256=:{}:",
        base64_std(ring::digest::digest(&ring::digest::SHA256, body).as_ref())
    );
    let params = r#"("@method" "@target-uri" "content-digest" "content-length" "content-type");keyid="test-key-ed25519";created=1735689600;alg="ed25519""#;
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": {url}\n\"content-digest\": {digest}\n\"content-length\": {}\n\"content-type\": application/json\n\"@signature-params\": {params}",
        body.len()
    );
    let mut headers = HeaderMap::new();
    headers.insert("content-digest", HeaderValue::from_str(&digest).unwrap());
    headers.insert(
        "content-length",
        HeaderValue::from_str(&body.len().to_string()).unwrap(),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "signature-input",
        HeaderValue::from_str(&format!("sig1={params}")).unwrap(),
    );
    headers.insert(
        "signature",
        HeaderValue::from_str(&format!(
            "sig1=:{}:",
            base64_std(&key().sign(base.as_bytes()))
        ))
        .unwrap(),
    );
    verify_now("POST", url, &headers, body, options()).unwrap();
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Which part of a signed request a test tampers with.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    Method,
    Url,
    Authorization,
    Body,
    ContentType,
    Key,
    Label,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_then_verify_round_trips(
        method in prop::sample::select(vec!["GET", "POST", "DELETE", "PUT"]),
        path in "(/[a-z0-9-]{1,12}){1,4}",
        query in proptest::option::of("[a-z]{1,8}=[a-z0-9%]{1,12}"),
        token in proptest::option::of("[A-Z0-9]{8,32}"),
        body in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..512)),
    ) {
        let mut url = Url::parse(&format!("https://rs.example{path}")).unwrap();
        url.set_query(query.as_deref());
        let authorization = token.map(|t| format!("GNAP {t}"));
        let signed = sign(&key(), &RequestToSign { method, url: &url, authorization: authorization.as_deref(), body: body.as_deref(), content_type: "application/json" }, CREATED);
        let headers = received(authorization.as_deref(), &signed);
        prop_assert_eq!(verify_now(method, url.as_str(), &headers, body.as_deref().unwrap_or_default(), options()), Ok(()));
    }

    #[test]
    fn changing_any_covered_part_breaks_verification(
        body in proptest::collection::vec(any::<u8>(), 1..256),
        tamper in prop::sample::select(vec![Tamper::Method, Tamper::Url, Tamper::Authorization, Tamper::Body, Tamper::ContentType, Tamper::Key, Tamper::Label]),
    ) {
        let url = Url::parse("https://rs.example/alice/outgoing-payments").unwrap();
        let signing_key = match tamper {
            Tamper::Key => SigningKey::generate(KID).unwrap().0,
            _ => key(),
        };
        let signed = sign(&signing_key, &RequestToSign { method: "POST", url: &url, authorization: Some(TOKEN), body: Some(&body), content_type: "application/json" }, CREATED);
        let mut headers = received(Some(TOKEN), &signed);
        let mut method = "POST";
        let mut target = url.as_str().to_owned();
        let mut received_body = body.clone();
        match tamper {
            Tamper::Method => method = "PUT",
            Tamper::Url => target.push_str("/other"),
            Tamper::Authorization => { headers.insert(http::header::AUTHORIZATION, HeaderValue::from_static("GNAP SOMETHINGELSE")); }
            Tamper::Body => received_body[0] ^= 0x01,
            Tamper::ContentType => { headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain")); }
            Tamper::Key => {}
            Tamper::Label => {
                let input = signed.signature_input.replacen("sig1=", "sig2=", 1);
                let signature = signed.signature.replacen("sig1=", "sig2=", 1);
                headers.insert("signature-input", HeaderValue::from_str(&input).unwrap());
                headers.insert("signature", HeaderValue::from_str(&signature).unwrap());
            }
        }
        prop_assert!(verify_now(method, &target, &headers, &received_body, options()).is_err(), "{:?} was not detected", tamper);
    }
}
