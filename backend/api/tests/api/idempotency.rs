//! `Idempotency-Key` on creating a room and starting a payment: a replay gets the first answer
//! and makes nothing new; another body with the same key is refused; keys are per person; a
//! burst with one key makes one room.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_of, spawn_app};
use crate::payments::market;

async fn send(
    app: &TestApp,
    token: &str,
    path: &str,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(Method::POST, app.url(path))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn a_retried_room_creation_gets_the_first_answer_and_makes_one_room() {
    let app = spawn_app().await;
    let (seller, _, _) = market(&app).await;
    let token = &seller.account.access_token;
    let body = json!({ "name": "Drum lesson", "price": "30.00" });
    let first = send(&app, token, "/api/rooms", Some("order-7781"), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.expect("json");
    let again = send(&app, token, "/api/rooms", Some("order-7781"), &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first);
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM rooms WHERE name = 'Drum lesson'",
            1
        )
        .await
    );

    // The same key with another body: refused, nothing made.
    let other = send(
        &app,
        token,
        "/api/rooms",
        Some("order-7781"),
        &json!({ "name": "Piano lesson", "price": "30.00" }),
    )
    .await;
    let error = error_of(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(error["fields"].get("Idempotency-Key").is_some(), "{error}");
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM rooms WHERE name = 'Piano lesson'",
            0
        )
        .await
    );
    // Without a key, two requests are two rooms.
    for _ in 0..2 {
        assert_eq!(
            send(&app, token, "/api/rooms", None, &body).await.status(),
            StatusCode::CREATED
        );
    }
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM rooms WHERE name = 'Drum lesson'",
            3
        )
        .await
    );
    // A refusal is an answer too: kept and sent again.
    let bad = json!({ "name": "", "price": "30.00" });
    let refused = send(&app, token, "/api/rooms", Some("bad-1"), &bad).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let replayed = send(&app, token, "/api/rooms", Some("bad-1"), &bad).await;
    assert_eq!(replayed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    // A malformed key.
    let long = "k".repeat(256);
    error_of(
        send(&app, token, "/api/rooms", Some(&long), &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // After 24 hours the key is free again.
    app.clock
        .advance(std::time::Duration::from_secs(24 * 3600 + 1));
    let token = {
        let response = app.login("seller", crate::helpers::PASSWORD).await;
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_owned()
    };
    let later = send(&app, &token, "/api/rooms", Some("order-7781"), &body).await;
    assert_eq!(later.status(), StatusCode::CREATED);
    assert!(later.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_retried_payment_start_is_one_transaction_and_keys_are_per_person() {
    let app = spawn_app().await;
    let (seller, buyer, code) = market(&app).await;
    let path = format!("/api/rooms/{code}/payments");
    let token = &buyer.account.access_token;
    // A burst with one key: one transaction, every other answer the first or "still answering".
    let empty = json!({});
    let burst = futures::future::join_all(
        (0..5).map(|_| send(&app, token, &path, Some("cart-42"), &empty)),
    )
    .await;
    let mut ids = Vec::new();
    for response in burst {
        match response.status() {
            StatusCode::CREATED => {
                let body: Value = response.json().await.expect("json");
                ids.push(body["transaction"]["id"].as_str().expect("id").to_owned());
            }
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let again = send(&app, token, &path, Some("cart-42"), &json!({})).await;
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["transaction"]["id"], ids[0].as_str());
    assert!(
        app.counts("SELECT COUNT(*) AS n FROM transactions", 1)
            .await
    );
    // Another person's same key is theirs alone.
    let other = app.create_account("someone").await.access_token;
    let theirs = send(
        &app,
        &other,
        "/api/rooms",
        Some("cart-42"),
        &json!({ "name": "x", "price": "1.00" }),
    )
    .await;
    assert_ne!(theirs.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    let _ = seller;
}
