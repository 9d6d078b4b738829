//! Guest checkout: paying with a wallet address and no account, the purchase key that is the
//! only way into the purchase, and moving it into an account later (once, however many race).

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};

/// A guest pays alice's 25.00 EUR room from bruno's wallet; returns (transaction id, key).
async fn guest_purchase(app: &TestApp, code: &str) -> (String, String) {
    let started = app.guest_checkout(code, "bruno").await;
    let key = started["guest_key"].as_str().expect("a key").to_owned();
    let id = started["transaction"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let finish = app
        .consent(
            started["redirect_url"].as_str().expect("a redirect"),
            "approve",
        )
        .await;
    app.finish(&finish).await;
    app.wait_for_guest_status(&id, &key, "completed").await;
    (id, key)
}

#[tokio::test]
async fn a_guest_pays_with_a_wallet_address_and_only_the_key_opens_the_purchase() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/rooms/{code}"),
            &seller.account.access_token,
            &json!({"delivery": "The lesson link: https://example.com/lesson"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (alice, bruno) = (app.balance("alice").await, app.balance("bruno").await);

    let response = app
        .start_guest_payment(
            &code,
            &json!({"wallet_address": app.sandbox_wallet("bruno"), "email": " Bruno@Example.COM "}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let started: Value = response.json().await.expect("json");
    let key = started["guest_key"].as_str().expect("a key").to_owned();
    let id = started["transaction"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(key.len() >= 43, "256 bits: {key}");
    assert_eq!(
        started["receipt_url"],
        app.url(&format!("/transactions/{id}#key={key}"))
    );
    assert_eq!(
        started["transaction"]["buyer"],
        json!({"username": "", "guest": true})
    );
    assert_eq!(started["quote"]["receive_amount"]["value"], "2500");
    // Only the key's hash is kept, and the address for the receipt lower-cased.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM transactions WHERE buyer_id IS NULL \
             AND guest_email = 'bruno@example.com' AND guest_key_hash <> '{key}' \
             AND length(guest_key_hash) = 64"
        ))
        .await,
        1
    );

    let finish = app
        .consent(
            started["redirect_url"].as_str().expect("a redirect"),
            "approve",
        )
        .await;
    app.finish(&finish).await;
    let done = app.wait_for_guest_status(&id, &key, "completed").await;
    assert_eq!(
        done["delivery"],
        "The lesson link: https://example.com/lesson"
    );
    assert!(
        done["receipt_number"]
            .as_str()
            .is_some_and(|n| n.starts_with("SHF-"))
    );
    assert_eq!(app.balance("alice").await, alice + 2500);
    assert!(app.balance("bruno").await < bruno);
    // The finish redirect again moves nothing.
    app.finish(&finish).await;
    assert_eq!(app.balance("alice").await, alice + 2500);

    // Without the key, or with another, the purchase does not exist.
    let response = app
        .client
        .get(app.url(&format!("/api/transactions/{id}")))
        .send()
        .await
        .expect("request");
    error_of(response, StatusCode::UNAUTHORIZED).await;
    let last = if key.ends_with('A') { 'B' } else { 'A' };
    let wrong = format!("{}{last}", &key[..key.len() - 1]);
    // A key that does not open it is refused as a credential, exactly as for an id that does
    // not exist: nothing tells them apart.
    for other in [wrong.as_str(), "x", &"A".repeat(43)] {
        let refused = error_of(
            app.guest_transaction(&id, other).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        let missing = error_of(
            app.guest_transaction(&uuid::Uuid::new_v4().to_string(), other)
                .await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(refused, missing);
    }
    // An invalid bearer token is refused even with the right key: a token, when sent, must hold.
    let response = app
        .client
        .get(app.url(&format!("/api/transactions/{id}")))
        .bearer_auth("not-a-token")
        .header("X-Guest-Key", &key)
        .send()
        .await
        .expect("request");
    error_of(response, StatusCode::UNAUTHORIZED).await;

    // The seller sees the sale, with a guest as buyer and nothing of the buyer's.
    let sale = app.transaction(&seller.account.access_token, &id).await;
    assert_eq!(sale["buyer"]["guest"], true);
    assert!(sale.get("delivery").is_none(), "{sale}");
    let sales: Value = app
        .get_authed(
            "/api/transactions?role=seller&kind=sales",
            &seller.account.access_token,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(sales["total"], 1);
    let csv = app
        .get_authed(
            "/api/transactions/export.csv?role=seller",
            &seller.account.access_token,
        )
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|line| line.contains(",(guest),alice,")),
        "{csv}"
    );
}

#[tokio::test]
async fn a_guest_checkout_is_checked_like_any_other() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let cases = [
        (
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wallet_address",
        ),
        (
            json!({"wallet_address": app.sandbox_wallet("bruno"), "email": "not-an-address"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            json!({"wallet_address": app.sandbox_wallet("bruno"), "amount": "1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount",
        ),
        (
            json!({"wallet_address": app.sandbox_wallet("alice")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wallet_address",
        ),
        (
            json!({"wallet_address": "https://10.0.0.1/me"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wallet_address",
        ),
    ];
    for (body, status, field) in cases {
        let error = error_of(app.start_guest_payment(&code, &body).await, status).await;
        assert!(error["fields"].get(field).is_some(), "{body}: {error}");
    }
    error_of(
        app.start_guest_payment(
            "ZZZZZZ",
            &json!({"wallet_address": app.sandbox_wallet("bruno")}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A paused room cannot be paid by guests either.
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/rooms/{code}"),
            &seller.account.access_token,
            &json!({"status": "paused"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    error_of(
        app.start_guest_payment(
            &code,
            &json!({"wallet_address": app.sandbox_wallet("bruno")}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM transactions").await, 0);
}

#[tokio::test]
async fn guest_checkouts_share_the_per_address_rate_limit() {
    let app = spawn_app_with(|s| {
        s.payments.payment_rate_limit_burst = 2;
        s.payments.payment_rate_limit_per_minute = 1;
    })
    .await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let body = json!({ "wallet_address": app.sandbox_wallet("bruno") });
    for _ in 0..2 {
        assert_eq!(
            app.start_guest_payment(&code, &body).await.status(),
            StatusCode::CREATED
        );
    }
    let response = app.start_guest_payment(&code, &body).await;
    assert!(response.headers().contains_key("retry-after"));
    error_of(response, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn a_guest_cancels_with_the_key_and_nobody_else_can() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let started = app.guest_checkout(&code, "bruno").await;
    let key = started["guest_key"].as_str().expect("a key");
    let id = started["transaction"]["id"].as_str().expect("an id");
    let cancel = |key: &str| {
        app.client
            .post(app.url(&format!("/api/transactions/{id}/cancel")))
            .header("X-Guest-Key", key)
            .json(&json!({}))
            .send()
    };
    error_of(
        cancel("wrong").await.expect("request"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    error_of(
        app.cancel(&seller.account.access_token, id).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let response = cancel(key).await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let cancelled: Value = response.json().await.expect("json");
    assert_eq!(cancelled["status"], "rejected");
    assert_eq!(cancelled["failure"]["code"], "cancelled");
}

#[tokio::test]
async fn signing_in_with_the_key_moves_the_purchase_into_the_account_once() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let (id, key) = guest_purchase(&app, &code).await;

    let bruno = app.create_account("bruno").await;
    let claim = async |token: &str, key: &str| {
        app.send_json(
            Method::POST,
            "/api/me/purchases",
            token,
            &json!({"transaction_id": id, "key": key}),
        )
        .await
    };
    error_of(
        claim(&bruno.access_token, "wrong").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    error_of(
        claim(&seller.account.access_token, &key).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let response = claim(&bruno.access_token, &key).await;
    assert_eq!(response.status(), StatusCode::OK);
    let claimed: Value = response.json().await.expect("json");
    assert_eq!(
        claimed["buyer"],
        json!({"username": "bruno", "guest": false})
    );
    assert!(claimed["delivery"].is_null() || claimed["delivery"].is_string());
    // Again: the same answer. Another account: already taken.
    assert_eq!(
        claim(&bruno.access_token, &key).await.status(),
        StatusCode::OK
    );
    let carla = app.create_account("carla").await;
    error_of(claim(&carla.access_token, &key).await, StatusCode::CONFLICT).await;

    let purchases: Value = app
        .get_authed("/api/transactions?role=buyer", &bruno.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(purchases["total"], 1);
    assert_eq!(purchases["transactions"][0]["id"], id.as_str());
    // The receipt link keeps working.
    assert_eq!(
        app.guest_transaction(&id, &key).await.status(),
        StatusCode::OK
    );
    // A malformed claim is a 422, not a 500.
    let error = error_of(
        app.send_json(
            Method::POST,
            "/api/me/purchases",
            &carla.access_token,
            &json!({"transaction_id": "nope", "key": key}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(error["fields"].get("transaction_id").is_some(), "{error}");
}

#[tokio::test]
async fn of_accounts_racing_to_claim_one_purchase_exactly_one_gets_it() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let (id, key) = guest_purchase(&app, &code).await;
    let mut tokens = Vec::new();
    for n in 0..6 {
        tokens.push(app.create_account(&format!("racer{n}")).await.access_token);
    }
    let body = json!({"transaction_id": id, "key": key});
    let answers = join_all(
        tokens
            .iter()
            .map(|token| app.send_json(Method::POST, "/api/me/purchases", token, &body)),
    )
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(reqwest::Response::status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM transactions WHERE buyer_id IS NOT NULL")
            .await,
        1
    );
}

/// The guest-checkout migration on a database with purchases: undone, account purchases keep
/// their rows and events and `buyer_id` is required again (a guest purchase has no account to
/// fall back to and goes); redone, guests can buy again.
#[tokio::test]
async fn the_guest_migration_goes_down_and_up_over_real_purchases() {
    use sea_orm::ConnectionTrait;
    use shifting_migrations::{Migrator, MigratorTrait};

    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let buyer = app.trader("bruno", "bruno").await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    guest_purchase(&app, &code).await;
    let events = app
        .count("SELECT COUNT(*) AS n FROM transaction_events")
        .await;

    // Down past every migration from the guests' (the eleventh) on.
    let from_guests = u32::try_from(Migrator::migrations().len() - 10).expect("a few");
    Migrator::down(&app.db, Some(from_guests))
        .await
        .expect("down");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM transactions").await, 1);
    assert!(
        app.count("SELECT COUNT(*) AS n FROM transaction_events")
            .await
            >= 4
            && app
                .count("SELECT COUNT(*) AS n FROM transaction_events")
                .await
                < events,
        "the account purchase keeps its history, the guest's goes"
    );
    let refused = app
        .db
        .execute_unprepared("UPDATE transactions SET buyer_id = NULL")
        .await;
    assert!(refused.is_err(), "buyer_id is required again");

    Migrator::up(&app.db, None).await.expect("up");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM transactions").await, 1);
    let again = app.guest_checkout(&code, "carmen").await;
    assert_eq!(again["transaction"]["buyer"]["guest"], true);
    assert_eq!(
        app.transaction(&buyer.account.access_token, &id).await["status"],
        "completed"
    );
}
