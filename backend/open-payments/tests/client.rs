//! The client against a local fake wallet provider that verifies every signature like Rafiki:
//! every call, `too_fast`, 401, 403 rotate-and-retry, retries, timeouts, oversized answers and
//! the fetch policy on live connections.

#![allow(clippy::unwrap_used, reason = "test fixtures should fail loudly")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use shifting_open_payments::client::{
    ClientConfig, ClientIdentity, OpenPaymentsClient, OpenPaymentsError,
};
use shifting_open_payments::fetch_policy::FetchPolicy;
use shifting_open_payments::signatures::{self, SignedRequest, VerifyOptions};
use shifting_open_payments::types::{
    AccessAction, AccessItem, CreateIncomingPayment, CreateOutgoingPayment, GrantOutcome,
    InteractRequest,
};
use shifting_open_payments::{Clock, Jwks, SigningKey};
use url::Url;

#[derive(Default)]
struct Provider {
    base: String,
    jwks: Jwks,
    /// Tokens the resource server accepts.
    active_tokens: Vec<String>,
    /// Every request: method and path.
    log: Vec<(String, String)>,
    continue_calls: u32,
    flaky_calls: u32,
    rotations: u32,
}

type Shared = Arc<Mutex<Provider>>;

fn wallet(base: &str, name: &str) -> Value {
    json!({"id": format!("{base}/{name}"), "publicName": name, "assetCode": "USD", "assetScale": 2,
           "authServer": format!("{base}/auth"), "resourceServer": format!("{base}/rs"), "extra": true})
}

fn amount(value: &str) -> Value {
    json!({"value": value, "assetCode": "USD", "assetScale": 2})
}

fn incoming(base: &str) -> Value {
    json!({"id": format!("{base}/rs/incoming-payments/ip1"), "walletAddress": format!("{base}/seller"),
           "incomingAmount": amount("2500"), "receivedAmount": amount("0"), "completed": false,
           "createdAt": "2026-11-26T12:00:00Z"})
}

fn outgoing(base: &str) -> Value {
    json!({"id": format!("{base}/rs/outgoing-payments/q1"), "walletAddress": format!("{base}/buyer"), "quoteId": format!("{base}/rs/quotes/q1"),
           "failed": false, "receiver": format!("{base}/rs/incoming-payments/ip1"),
           "debitAmount": amount("2563"), "receiveAmount": amount("2500"), "sentAmount": amount("0")})
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "description": description}})),
    )
        .into_response()
}

async fn provider(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (base, jwks) = {
        let mut p = shared.lock().unwrap();
        p.log.push((method.to_string(), uri.path().to_owned()));
        (p.base.clone(), p.jwks.clone())
    };
    let signed = !body.is_empty() || headers.contains_key("authorization");
    if signed {
        let target = format!(
            "{base}{}",
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        );
        let request = SignedRequest {
            method: method.as_str(),
            target_uri: &target,
            headers: &headers,
            body: &body,
        };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if let Err(err) = signatures::verify(
            &request,
            &jwks,
            VerifyOptions {
                now,
                max_skew: Some(Duration::from_secs(60)),
            },
        )
        .await
        {
            return error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                &format!("invalid signature: {err}"),
            );
        }
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("GNAP "))
        .map(str::to_owned);
    let token_ok = |shared: &Shared| {
        token
            .as_ref()
            .is_some_and(|t| shared.lock().unwrap().active_tokens.contains(t))
    };
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path();
    match (method.as_str(), path) {
        ("GET", "/seller" | "/buyer" | "/shifting") => axum::Json(wallet(&base, &path[1..])).into_response(),
        ("GET", "/shifting/jwks.json") => axum::Json(jwks).into_response(),
        ("POST", "/auth") => {
            assert_eq!(body_json["client"], format!("{base}/shifting"));
            if body_json.get("interact").is_some() {
                axum::Json(json!({"interact": {"redirect": format!("{base}/interact/1/NONCE"), "finish": "NONCE"},
                                  "continue": {"access_token": {"value": "CONT"}, "uri": format!("{base}/continue/1"), "wait": 1}}))
                .into_response()
            } else {
                shared.lock().unwrap().active_tokens.push("TOKEN1".into());
                axum::Json(json!({"access_token": {"value": "TOKEN1", "manage": format!("{base}/token/1"), "expires_in": 600, "access": body_json["access_token"]["access"]},
                                  "continue": {"access_token": {"value": "CONT0"}, "uri": format!("{base}/continue/0")}}))
                .into_response()
            }
        }
        ("POST", "/continue/1") => {
            assert_eq!(token.as_deref(), Some("CONT"));
            assert_eq!(body_json, json!({"interact_ref": "REF"}));
            let calls = {
                let mut p = shared.lock().unwrap();
                p.continue_calls += 1;
                p.continue_calls
            };
            if calls == 1 {
                return error(StatusCode::BAD_REQUEST, "too_fast", "continued grant faster than \"wait\" period");
            }
            shared.lock().unwrap().active_tokens.push("OUT".into());
            axum::Json(json!({"access_token": {"value": "OUT", "manage": format!("{base}/token/9"), "expires_in": 600},
                              "continue": {"access_token": {"value": "CONT"}, "uri": format!("{base}/continue/1")}}))
            .into_response()
        }
        ("DELETE", "/continue/1") => StatusCode::NO_CONTENT.into_response(),
        ("POST", "/token/1") => {
            assert!(body.is_empty(), "rotation has no body");
            let mut p = shared.lock().unwrap();
            p.rotations += 1;
            p.active_tokens.retain(|t| t != "TOKEN1");
            p.active_tokens.push("TOKEN2".into());
            axum::Json(json!({"access_token": {"value": "TOKEN2", "manage": format!("{base}/token/2"), "expires_in": 600}})).into_response()
        }
        ("DELETE", "/token/2") => StatusCode::NO_CONTENT.into_response(),
        (_, p) if p.starts_with("/rs/") && !token_ok(&shared) => error(StatusCode::FORBIDDEN, "403", "Inactive Token"),
        ("POST", "/rs/incoming-payments") => {
            assert_eq!(body_json["incomingAmount"], amount("2500"));
            (StatusCode::CREATED, axum::Json(incoming(&base))).into_response()
        }
        ("GET", "/rs/incoming-payments/ip1") => axum::Json(incoming(&base)).into_response(),
        ("POST", "/rs/incoming-payments/ip1/complete") => {
            let mut done = incoming(&base);
            done["completed"] = json!(true);
            axum::Json(done).into_response()
        }
        ("GET", "/rs/incoming-payments") => {
            let query = uri.query().unwrap_or_default();
            assert!(query.contains("wallet-address=") && query.contains("first=10"), "{query}");
            axum::Json(json!({"pagination": {"hasNextPage": false, "hasPreviousPage": false}, "result": [incoming(&base)]})).into_response()
        }
        ("POST", "/rs/quotes") => {
            assert_eq!(body_json["method"], "ilp");
            (StatusCode::CREATED, axum::Json(json!({"id": format!("{base}/rs/quotes/q1"), "walletAddress": format!("{base}/buyer"),
                "receiver": body_json["receiver"], "debitAmount": amount("2563"), "receiveAmount": amount("2500"), "method": "ilp"}))).into_response()
        }
        ("GET", "/rs/quotes/q1") => axum::Json(json!({"id": format!("{base}/rs/quotes/q1"), "walletAddress": format!("{base}/buyer"),
            "receiver": format!("{base}/rs/incoming-payments/ip1"), "debitAmount": amount("2563"), "receiveAmount": amount("2500")})).into_response(),
        ("POST", "/rs/outgoing-payments") => (StatusCode::CREATED, axum::Json(outgoing(&base))).into_response(),
        ("GET", "/rs/outgoing-payments/q1") => axum::Json(outgoing(&base)).into_response(),
        ("GET", "/rs/outgoing-payments") => {
            axum::Json(json!({"pagination": {"hasNextPage": true, "hasPreviousPage": false, "endCursor": "q1"}, "result": [outgoing(&base)]})).into_response()
        }
        ("GET", "/flaky") => {
            let calls = {
                let mut p = shared.lock().unwrap();
                p.flaky_calls += 1;
                p.flaky_calls
            };
            if calls < 3 { StatusCode::SERVICE_UNAVAILABLE.into_response() } else { axum::Json(wallet(&base, "flaky")).into_response() }
        }
        ("POST", "/rs-down/incoming-payments") => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        ("GET", "/slow") => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            axum::Json(wallet(&base, "slow")).into_response()
        }
        ("GET", "/huge") => "x".repeat(64 * 1024).into_response(),
        ("GET", "/redirect-away") => (StatusCode::FOUND, [("location", "http://localhost:1/seller")]).into_response(),
        ("GET", "/redirect-metadata") => (StatusCode::FOUND, [("location", "http://169.254.169.254/latest/meta-data")]).into_response(),
        ("GET", "/unauthorized") => error(StatusCode::UNAUTHORIZED, "invalid_client", "invalid signature headers"),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

struct Fixture {
    base: String,
    shared: Shared,
    client: OpenPaymentsClient,
}

async fn fixture(configure: impl FnOnce(&mut ClientConfig)) -> Fixture {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (key, _) = SigningKey::generate("client-key").unwrap();
    let shared: Shared = Arc::new(Mutex::new(Provider {
        base: base.clone(),
        jwks: Jwks {
            keys: vec![key.public_jwk()],
        },
        ..Provider::default()
    }));
    let app = axum::Router::new()
        .fallback(provider)
        .with_state(Arc::clone(&shared));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let identity = ClientIdentity {
        wallet_address: format!("{base}/shifting"),
        key,
    };
    let mut config = ClientConfig::new(identity, FetchPolicy::sandbox(&Url::parse(&base).unwrap()));
    config.backoff = Duration::from_millis(10);
    configure(&mut config);
    Fixture {
        base,
        shared,
        client: OpenPaymentsClient::new(config).unwrap(),
    }
}

fn incoming_access(base: &str) -> AccessItem {
    AccessItem::IncomingPayment {
        actions: vec![
            AccessAction::Create,
            AccessAction::Read,
            AccessAction::Complete,
        ],
        identifier: Some(format!("{base}/seller")),
    }
}

#[tokio::test]
async fn wallet_addresses_are_fetched_once_and_cached() {
    let f = fixture(|_| {}).await;
    let first = f
        .client
        .get_wallet_address(&format!("{}/seller", f.base))
        .await
        .unwrap();
    let second = f
        .client
        .get_wallet_address(&format!("{}/seller", f.base))
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(first.auth_server, format!("{}/auth", f.base));
    let gets = f
        .shared
        .lock()
        .unwrap()
        .log
        .iter()
        .filter(|(_, p)| p == "/seller")
        .count();
    assert_eq!(gets, 1);
    let jwks = f
        .client
        .get_jwks(&format!("{}/shifting", f.base))
        .await
        .unwrap();
    assert_eq!(jwks.keys[0].kid, "client-key");
}

#[tokio::test]
async fn the_whole_payment_conversation_is_signed_and_understood() {
    let clock = Clock::system();
    let f = fixture(|c| c.clock = clock.clone()).await;
    let seller = f
        .client
        .get_wallet_address(&format!("{}/seller", f.base))
        .await
        .unwrap();
    let buyer = f
        .client
        .get_wallet_address(&format!("{}/buyer", f.base))
        .await
        .unwrap();

    let token = f
        .client
        .token_for(&seller.auth_server, &incoming_access(&f.base))
        .await
        .unwrap();
    assert_eq!(token.value, "TOKEN1");
    let body = CreateIncomingPayment {
        wallet_address: seller.id.clone(),
        incoming_amount: Some(shifting_open_payments::types::Amount {
            value: 2500,
            asset_code: "USD".into(),
            asset_scale: 2,
        }),
        expires_at: None,
        metadata: Some(json!({"room": "AB3D7K"})),
    };
    let payment = f
        .client
        .create_incoming_payment(&seller, &token.value, &body)
        .await
        .unwrap();
    assert_eq!(
        payment.incoming_amount.as_ref().map(|a| a.value),
        Some(2500)
    );
    assert_eq!(
        f.client
            .get_incoming_payment(&payment.id, &token.value)
            .await
            .unwrap(),
        payment
    );
    let page = f
        .client
        .list_incoming_payments(&seller, &token.value, 10, None)
        .await
        .unwrap();
    assert_eq!(page.result.len(), 1);

    let quote = f
        .client
        .create_quote(&buyer, &token.value, &payment.id)
        .await
        .unwrap();
    assert_eq!(quote.debit_amount.value, 2563);
    assert_eq!(
        f.client
            .get_quote(&quote.id, &token.value)
            .await
            .unwrap()
            .id,
        quote.id
    );

    let pending = f
        .client
        .request_grant(
            &buyer.auth_server,
            vec![AccessItem::OutgoingPayment {
                actions: vec![AccessAction::Create, AccessAction::Read],
                identifier: buyer.id.clone(),
                limits: None,
            }],
            Some(InteractRequest::redirect(
                format!("{}/finish", f.base),
                "client-nonce",
            )),
        )
        .await
        .unwrap();
    let GrantOutcome::Pending(interact, continuation) = pending.outcome() else {
        panic!("expected a pending grant")
    };
    assert_eq!(interact.finish, "NONCE");
    let continuation = continuation.clone();

    // The first continue answers too_fast; the client waits and retries. Both waits (the
    // grant's 1 s `wait`, then the pause after too_fast) pass on the clock, moved until the
    // continuation is done; each real wait is for the answer, not for time.
    let mut continuing = tokio::spawn({
        let (client, continuation, answered) =
            (f.client.clone(), continuation.clone(), clock.system_time());
        async move { client.continue_grant(&continuation, "REF", answered).await }
    });
    let mut granted = None;
    for _ in 0..50 {
        clock.advance(Duration::from_secs(1));
        if let Ok(done) = tokio::time::timeout(Duration::from_millis(100), &mut continuing).await {
            granted = Some(done.unwrap().unwrap());
            break;
        }
    }
    let granted = granted.expect("the continuation never ended");
    let GrantOutcome::Granted(out_token) = granted.outcome() else {
        panic!("expected a granted continuation")
    };
    assert_eq!(f.shared.lock().unwrap().continue_calls, 2);

    let created = f
        .client
        .create_outgoing_payment(
            &buyer,
            &out_token.value,
            &CreateOutgoingPayment {
                wallet_address: buyer.id.clone(),
                quote_id: quote.id.clone(),
                metadata: None,
            },
        )
        .await
        .unwrap();
    assert!(!created.failed);
    assert_eq!(
        f.client
            .get_outgoing_payment(&created.id, &out_token.value)
            .await
            .unwrap()
            .id,
        created.id
    );
    let outgoing_page = f
        .client
        .list_outgoing_payments(&buyer, &out_token.value, 10, Some("q0"))
        .await
        .unwrap();
    assert_eq!(outgoing_page.pagination.end_cursor.as_deref(), Some("q1"));
    assert!(
        f.client
            .complete_incoming_payment(&payment.id, &token.value)
            .await
            .unwrap()
            .completed
    );
    f.client.cancel_grant(&continuation).await.unwrap();
}

#[tokio::test]
async fn an_inactive_token_is_rotated_and_the_request_retried_once() {
    let f = fixture(|_| {}).await;
    let seller = f
        .client
        .get_wallet_address(&format!("{}/seller", f.base))
        .await
        .unwrap();
    let access = incoming_access(&f.base);
    f.client
        .token_for(&seller.auth_server, &access)
        .await
        .unwrap();
    // The provider expires TOKEN1 behind our back.
    f.shared.lock().unwrap().active_tokens.clear();

    let payment = f
        .client
        .with_token(&seller.auth_server, &access, |token| {
            let client = f.client.clone();
            let id = format!("{}/rs/incoming-payments/ip1", f.base);
            async move { client.get_incoming_payment(&id, &token.value).await }
        })
        .await
        .unwrap();

    assert_eq!(payment.id, format!("{}/rs/incoming-payments/ip1", f.base));
    assert_eq!(f.shared.lock().unwrap().rotations, 1);
    let cached = f
        .client
        .token_for(&seller.auth_server, &access)
        .await
        .unwrap();
    assert_eq!(cached.value, "TOKEN2", "the rotated token is cached");
    f.client.revoke_token(&cached).await.unwrap();
}

#[tokio::test]
async fn errors_keep_status_code_and_description() {
    let f = fixture(|_| {}).await;
    let err = f
        .client
        .get_wallet_address(&format!("{}/unauthorized", f.base))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("invalid_client"));
    assert!(
        err.to_string().contains("invalid signature headers"),
        "{err}"
    );
    let missing = f
        .client
        .get_wallet_address(&format!("{}/nobody", f.base))
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
}

#[tokio::test]
async fn gets_are_retried_on_5xx_but_payment_creation_is_not() {
    let f = fixture(|_| {}).await;
    f.client
        .get_wallet_address(&format!("{}/flaky", f.base))
        .await
        .unwrap();
    assert_eq!(f.shared.lock().unwrap().flaky_calls, 3);

    f.shared.lock().unwrap().active_tokens.push("T".into());
    let mut down = f
        .client
        .get_wallet_address(&format!("{}/seller", f.base))
        .await
        .unwrap();
    down.resource_server = format!("{}/rs-down", f.base);
    let body = CreateIncomingPayment {
        wallet_address: down.id.clone(),
        incoming_amount: None,
        expires_at: None,
        metadata: None,
    };
    let err = f
        .client
        .create_incoming_payment(&down, "T", &body)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    let posts = f
        .shared
        .lock()
        .unwrap()
        .log
        .iter()
        .filter(|(m, p)| m == "POST" && p == "/rs-down/incoming-payments")
        .count();
    assert_eq!(
        posts, 1,
        "a create that reached the server must not be repeated"
    );
}

#[tokio::test]
async fn slow_answers_time_out_and_huge_answers_are_cut_off() {
    let f = fixture(|c| {
        c.request_timeout = Duration::from_millis(300);
        c.attempts = 1;
        c.max_response_bytes = 16 * 1024;
    })
    .await;
    let slow = f
        .client
        .get_wallet_address(&format!("{}/slow", f.base))
        .await
        .unwrap_err();
    assert!(matches!(slow, OpenPaymentsError::Timeout { .. }), "{slow}");
    let huge = f
        .client
        .get_wallet_address(&format!("{}/huge", f.base))
        .await
        .unwrap_err();
    assert!(
        matches!(huge, OpenPaymentsError::TooLarge { limit: 16384, .. }),
        "{huge}"
    );
}

#[tokio::test]
async fn the_fetch_policy_holds_on_live_requests_and_redirects() {
    let f = fixture(|_| {}).await;
    // Another port on loopback, http outside the sandbox origin, a hostname that resolves to
    // loopback, and redirects to another host or to a metadata address: all refused.
    let port = f.base.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    for url in [
        format!("http://127.0.0.1:{}/seller", port + 1),
        "http://10.0.0.1/seller".to_owned(),
        "https://localhost/seller".to_owned(),
        format!("http://localhost:{port}/seller"),
    ] {
        let err = f.client.get_wallet_address(&url).await.unwrap_err();
        assert!(
            matches!(
                err,
                OpenPaymentsError::Policy { .. } | OpenPaymentsError::Network { .. }
            ),
            "{url}: {err}"
        );
    }
    let resolved = f
        .client
        .get_wallet_address("https://localhost/seller")
        .await
        .unwrap_err();
    assert!(
        resolved.to_string().contains("internal addresses"),
        "{resolved}"
    );
    for path in ["/redirect-away", "/redirect-metadata"] {
        let err = f
            .client
            .get_wallet_address(&format!("{}{path}", f.base))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("redirect to another host"),
            "{path}: {err}"
        );
    }
}

#[tokio::test]
async fn in_real_mode_plain_http_and_literal_internal_addresses_never_leave_the_process() {
    let (key, _) = SigningKey::generate("k").unwrap();
    let config = ClientConfig::new(
        ClientIdentity {
            wallet_address: "https://ilp.example/shifting".into(),
            key,
        },
        FetchPolicy::real(),
    );
    let client = OpenPaymentsClient::new(config).unwrap();
    for url in [
        "http://ilp.example/alice",
        "https://127.0.0.1/alice",
        "https://[::1]/alice",
        "https://169.254.169.254/latest",
        "https://[::ffff:192.168.0.1]/x",
    ] {
        let err = client.get_wallet_address(url).await.unwrap_err();
        assert!(
            matches!(err, OpenPaymentsError::Policy { .. }),
            "{url}: {err}"
        );
    }
}
