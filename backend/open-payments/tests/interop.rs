//! Cross-checks against the reference implementation, `@interledger/http-signature-utils` (the
//! code Rafiki verifies with): it must accept what our signer produces, and our verifier must
//! accept what it produces. Needs Node and `npm ci` in `backend/open-payments/interop` (the
//! README's test command does both), so plain `cargo test` skips it.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use shifting_open_payments::signatures::{self, sign};
use shifting_open_payments::{Jwks, RequestToSign, SignedRequest, SigningKey, VerifyOptions};
use url::Url;

/// A request shape both sides sign and verify.
struct Case {
    name: &'static str,
    method: &'static str,
    url: &'static str,
    authorization: Option<&'static str>,
    body: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "post-with-token-and-body",
        method: "POST",
        url: "https://ilp.example/tenant/incoming-payments",
        authorization: Some("GNAP 7C1A1D3F0B5E4A2B9C8D"),
        body: Some(
            r#"{"walletAddress":"https://ilp.example/seller","incomingAmount":{"value":"2500","assetCode":"USD","assetScale":2}}"#,
        ),
    },
    Case {
        name: "grant-request-without-token",
        method: "POST",
        url: "https://auth.example/tenant",
        authorization: None,
        body: Some(
            r#"{"access_token":{"access":[{"type":"quote","actions":["create","read"]}]},"client":"https://ilp.example/shifting"}"#,
        ),
    },
    Case {
        name: "get-with-query-and-token",
        method: "GET",
        url: "https://ilp.example/tenant/outgoing-payments?wallet-address=https%3A%2F%2Filp.example%2Fbuyer&first=10",
        authorization: Some("GNAP 0123456789ABCDEF"),
        body: None,
    },
    Case {
        name: "delete-continue-with-token",
        method: "DELETE",
        url: "https://auth.example/continue/4e4c1d52-6d5a-4b8b-9a53-0f3c1c7e2f11",
        authorization: Some("GNAP CONTINUETOKEN"),
        body: None,
    },
    Case {
        name: "post-token-rotation-without-body",
        method: "POST",
        url: "https://auth.example/token/9b6a2a5c-7c1e-4a53-b0c5-5f8d0c1e7a22",
        authorization: Some("GNAP ACCESSTOKEN"),
        body: None,
    },
];

fn node_request(case: &Case, headers: &BTreeMap<String, String>) -> Value {
    let mut request =
        json!({ "name": case.name, "method": case.method, "url": case.url, "headers": headers });
    if let Some(body) = case.body {
        request["body"] = json!(body);
    }
    request
}

fn run_node(job: &Value) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/interop");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/@interledger/http-signature-utils")
            .is_dir(),
        "run `npm ci --prefix backend/open-payments/interop` first (scripts/test.sh does)"
    );
    let mut child = Command::new("node")
        .arg("check.mjs")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(job.to_string().as_bytes())
        .expect("write job");
    let output = child.wait_with_output().expect("node finishes");
    assert!(output.status.success(), "node failed");
    serde_json::from_slice(&output.stdout).expect("node prints JSON")
}

#[test]
#[ignore = "needs node and npm ci in backend/open-payments/interop: run scripts/test.sh"]
fn the_reference_implementation_and_ours_accept_each_others_signatures() {
    let (key, pem) = SigningKey::generate("interop-key").expect("key");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();

    // Our signatures, for the reference verifier; plus one tampered copy it must reject.
    let mut ours = Vec::new();
    for case in CASES {
        let url = Url::parse(case.url).expect("url");
        let signed = sign(
            &key,
            &RequestToSign {
                method: case.method,
                url: &url,
                authorization: case.authorization,
                body: case.body.map(str::as_bytes),
                content_type: "application/json",
            },
            now,
        );
        let mut headers: BTreeMap<String, String> = signed
            .pairs()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        if let Some(authorization) = case.authorization {
            headers.insert("authorization".into(), authorization.into());
        }
        ours.push(node_request(case, &headers));
    }
    let mut tampered = ours[0].clone();
    tampered["name"] = json!("tampered-body");
    tampered["body"] = json!(
        r#"{"walletAddress":"https://ilp.example/mallory","incomingAmount":{"value":"2500","assetCode":"USD","assetScale":2}}"#
    );
    ours.push(tampered);

    let theirs: Vec<Value> = CASES
        .iter()
        .map(|case| {
            let headers: BTreeMap<String, String> = case
                .authorization
                .map(|a| ("authorization".to_owned(), a.to_owned()))
                .into_iter()
                .collect();
            node_request(case, &headers)
        })
        .collect();

    let result = run_node(
        &json!({ "pem": pem, "kid": key.key_id(), "jwk": key.public_jwk(), "verify": ours, "sign": theirs }),
    );

    for case in CASES {
        assert_eq!(
            result["verified"][case.name],
            json!(true),
            "the reference verifier rejected our {}",
            case.name
        );
    }
    assert_eq!(
        result["verified"]["tampered-body"],
        json!(false),
        "the reference verifier accepted a tampered body"
    );

    let jwks = Jwks {
        keys: vec![key.public_jwk()],
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for case in CASES {
        let produced = result["signed"][case.name]
            .as_object()
            .expect("headers from node");
        let mut headers = HeaderMap::new();
        for (name, value) in produced {
            let value = value.as_str().expect("string header");
            headers.insert(
                HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        if let Some(authorization) = case.authorization {
            headers.insert(
                http::header::AUTHORIZATION,
                HeaderValue::from_static(authorization),
            );
        }
        let request = SignedRequest {
            method: case.method,
            target_uri: case.url,
            headers: &headers,
            body: case.body.unwrap_or_default().as_bytes(),
        };
        let options = VerifyOptions {
            now,
            max_skew: Some(std::time::Duration::from_secs(300)),
        };
        let verified = runtime.block_on(signatures::verify(&request, &jwks, options));
        assert_eq!(
            verified.map(|v| v.key_id),
            Ok("interop-key".to_owned()),
            "our verifier rejected the reference {}",
            case.name
        );
    }
}
