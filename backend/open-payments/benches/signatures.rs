//! Signing and verifying a POST with a 1 KiB JSON body, the hot path of every Open Payments call.
//! Run with `cargo bench --workspace --bench signatures`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderName, HeaderValue};
use shifting_open_payments::signatures::{self, sign};
use shifting_open_payments::{RequestToSign, SignedRequest, SigningKey, VerifyOptions};
use url::Url;

fn bench(c: &mut Criterion) {
    let (key, _) = SigningKey::generate("bench-key").expect("key");
    let url = Url::parse("https://ilp.example/tenant/incoming-payments").expect("url");
    let padding = "x".repeat(1024 - 40);
    let body = format!(r#"{{"metadata":{{"description":"{padding}"}}}}"#);
    let body = body.as_bytes();
    let request = RequestToSign {
        method: "POST",
        url: &url,
        authorization: Some("GNAP 7C1A1D3F0B5E4A2B9C8D"),
        body: Some(body),
        content_type: "application/json",
    };
    let created = 1_735_689_600;

    c.bench_function("Ed25519 signature of a 400-byte base alone", |b| {
        let base = [b'a'; 400];
        b.iter(|| key.sign(black_box(&base)));
    });
    c.bench_function("Content-Digest (SHA-512) of 1 KiB alone", |b| {
        b.iter(|| signatures::content_digest(black_box(body)));
    });
    c.bench_function("sign POST, 1 KiB body (digest + Ed25519)", |b| {
        b.iter(|| sign(black_box(&key), black_box(&request), created));
    });

    let signed = sign(&key, &request, created);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("GNAP 7C1A1D3F0B5E4A2B9C8D"),
    );
    for (name, value) in signed.pairs() {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("header"),
        );
    }
    let received = SignedRequest {
        method: "POST",
        target_uri: url.as_str(),
        headers: &headers,
        body,
    };
    let public = key.public_jwk().verifying_key().expect("public key");
    let options = VerifyOptions {
        now: created,
        max_skew: None,
    };
    c.bench_function("verify POST, 1 KiB body (parse + digest + Ed25519)", |b| {
        b.iter(|| {
            let parsed = signatures::check(black_box(&received), options).expect("valid");
            assert!(public.verify(parsed.base.as_bytes(), &parsed.signature));
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
