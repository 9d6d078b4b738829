//! The complete payment flow over real HTTP against the embedded sandbox: approve, decline,
//! insufficient funds, expiry, forged and replayed finish redirects, who may see what, and a
//! restart in the middle of verification.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Trader, error_of, spawn_app, spawn_app_with};

/// A seller paid in USD (alice), a buyer paying in EUR (bruno), and a room at 25.00 USD.
pub(crate) async fn market(app: &TestApp) -> (Trader, Trader, String) {
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("buyer", "bruno").await;
    let code = app.room(&seller, "25.00").await;
    (seller, buyer, code)
}

pub(crate) fn id_of(started: &Value) -> String {
    started["transaction"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

pub(crate) fn statuses(transaction: &Value) -> Vec<String> {
    transaction["history"]
        .as_array()
        .expect("a history")
        .iter()
        .map(|e| e["status"].as_str().expect("a status").to_owned())
        .collect()
}

#[tokio::test]
async fn an_approved_payment_completes_and_moves_exactly_the_price_and_the_quote() {
    let app = spawn_app().await;
    let (seller, buyer, code) = market(&app).await;
    let (alice, bruno) = (app.balance("alice").await, app.balance("bruno").await);

    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    assert_eq!(started["transaction"]["status"], "awaiting_approval");
    assert_eq!(
        started["quote"]["receive_amount"],
        json!({"value": "2500", "asset_code": "USD", "asset_scale": 2})
    );
    assert_eq!(started["quote"]["debit_amount"]["asset_code"], "EUR");
    assert!(started["quote"]["expires_at"].is_string());
    let debit: i64 = started["quote"]["debit_amount"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let redirect = started["redirect_url"].as_str().unwrap();
    assert!(redirect.starts_with(&app.url("/sandbox/")), "{redirect}");

    let finish = app.consent(redirect, "approve").await;
    assert!(
        finish.starts_with(&app.url(&format!("/api/payments/{id}/finish?"))),
        "{finish}"
    );
    app.finish(&finish).await;

    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert_eq!(done["received_amount"]["value"], "2500");
    assert_eq!(
        statuses(&done),
        ["awaiting_approval", "approved", "sending", "completed"]
    );
    assert!(
        done["evidence"]["incoming_payment"]
            .as_str()
            .unwrap()
            .contains("/incoming-payments/")
    );
    assert!(
        done["evidence"]["outgoing_payment"]
            .as_str()
            .unwrap()
            .contains("/outgoing-payments/")
    );
    assert!(done["failure"].is_null());
    assert_eq!(app.balance("alice").await, alice + 2500);
    assert_eq!(app.balance("bruno").await, bruno - debit);

    // The seller sees the sale, and the room counts it.
    let sales: Value = app
        .get_authed(
            "/api/transactions?role=seller",
            &seller.account.access_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sales["total"], 1);
    assert_eq!(sales["transactions"][0]["id"], id.as_str());
    assert_eq!(sales["transactions"][0]["buyer"]["username"], "buyer");
    let rooms: Value = app
        .get_authed("/api/rooms", &seller.account.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rooms["rooms"][0]["sales"], 1);
    let purchases: Value = app
        .get_authed("/api/transactions?role=seller", &buyer.account.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(purchases["total"], 0, "the buyer sold nothing");
}

#[tokio::test]
async fn a_declined_payment_is_rejected_and_moves_nothing() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let (alice, bruno) = (app.balance("alice").await, app.balance("bruno").await);

    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "decline")
        .await;
    assert!(finish.contains("result=grant_rejected"), "{finish}");
    app.finish(&finish).await;

    let done = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(done["status"], "rejected");
    assert_eq!(done["failure"]["code"], "declined");
    assert_eq!(statuses(&done), ["awaiting_approval", "rejected"]);
    assert_eq!(app.balance("alice").await, alice);
    assert_eq!(app.balance("bruno").await, bruno);
    assert_eq!(app.sandbox_outgoing_payments().await, 0);

    // The buyer can try again.
    let again = app.checkout(&buyer, &code).await;
    assert_ne!(id_of(&again), id);
}

#[tokio::test]
async fn insufficient_funds_end_in_failed_with_the_reason() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("poor", "penny").await;
    let code = app.room(&seller, "25.00").await;
    let alice = app.balance("alice").await;

    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;

    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "failed")
        .await;
    assert_eq!(done["failure"]["code"], "payment_failed");
    assert!(
        done["failure"]["detail"]
            .as_str()
            .unwrap()
            .contains("balance"),
        "{done:#}"
    );
    assert_eq!(
        statuses(&done),
        ["awaiting_approval", "approved", "sending", "failed"]
    );
    assert_eq!(app.balance("alice").await, alice);
    assert_eq!(app.balance("penny").await, 50);
    // Closed, so no late money can arrive unnoticed.
    crate::finish::wait_until_incoming_payments_closed(&app).await;
}

#[tokio::test]
async fn a_quote_that_expires_before_consent_ends_in_expired_and_nothing_is_sent() {
    let app = spawn_app_with(|s| s.sandbox.sandbox_quote_lifetime_secs = 60).await;
    let (_, buyer, code) = market(&app).await;
    let bruno = app.balance("bruno").await;

    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    app.clock.advance(std::time::Duration::from_secs(61));
    let expired = app
        .wait_for_status(&buyer.account.access_token, &id, "expired")
        .await;
    assert_eq!(expired["failure"]["code"], "expired");

    // The grant is cancelled: the consent page now sends the browser back without approval
    // (once the worker's clean-up after the expiry has reached the wallet).
    let finish = app
        .wait_until_consent_refused(started["redirect_url"].as_str().unwrap())
        .await;
    assert!(finish.contains("result="), "{finish}");
    app.finish(&finish).await;
    let after = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(after["status"], "expired");
    assert_eq!(statuses(&after), ["awaiting_approval", "expired"]);
    assert_eq!(app.sandbox_outgoing_payments().await, 0);
    crate::finish::wait_until_incoming_payments_closed(&app).await;
    assert_eq!(app.balance("bruno").await, bruno);
}

#[tokio::test]
async fn an_amount_in_the_request_is_refused_and_the_price_stays() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    for body in [
        json!({"amount": {"value": "1", "asset_code": "USD", "asset_scale": 2}}),
        json!({"price": "0.01"}),
        json!({"wallet_address": app.sandbox_wallet("bruno"), "debit_amount": "1"}),
    ] {
        let response = app
            .start_payment(&buyer.account.access_token, &code, &body)
            .await;
        let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["code"], "validation_failed");
    }
    let none: Value = app
        .get_authed("/api/transactions", &buyer.account.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);
    let started = app.checkout(&buyer, &code).await;
    assert_eq!(started["transaction"]["amount"]["value"], "2500");
    assert_eq!(started["quote"]["receive_amount"]["value"], "2500");
}

#[tokio::test]
async fn a_forged_hash_sends_nothing() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let bruno = app.balance("bruno").await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    let real = url::Url::parse(&finish).unwrap();
    let interact_ref: String = real
        .query_pairs()
        .find(|(k, _)| k == "interact_ref")
        .map(|(_, v)| v.into_owned())
        .unwrap();

    for query in [
        format!("hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D&interact_ref={interact_ref}"),
        format!("hash=not-base64&interact_ref={interact_ref}"),
        "interact_ref=only".to_owned(),
        String::new(),
    ] {
        app.finish(&app.url(&format!("/api/payments/{id}/finish?{query}")))
            .await;
    }
    let after = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(after["status"], "awaiting_approval");
    assert_eq!(app.sandbox_outgoing_payments().await, 0);
    assert_eq!(app.balance("bruno").await, bruno);

    // The genuine redirect still works afterwards.
    app.finish(&finish).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
}

#[tokio::test]
async fn the_finish_url_replayed_concurrently_creates_one_outgoing_payment() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let bruno = app.balance("bruno").await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let debit: i64 = started["quote"]["debit_amount"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;

    join_all((0..20).map(|_| app.finish(&finish))).await;
    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert_eq!(
        statuses(&done),
        ["awaiting_approval", "approved", "sending", "completed"]
    );
    assert_eq!(app.sandbox_outgoing_payments().await, 1);
    assert_eq!(app.balance("bruno").await, bruno - debit);

    // And again once it is done.
    app.finish(&finish).await;
    assert_eq!(app.sandbox_outgoing_payments().await, 1);
}

#[tokio::test]
async fn only_the_buyer_and_the_seller_can_read_a_transaction() {
    let app = spawn_app().await;
    let (seller, buyer, code) = market(&app).await;
    let stranger = app.create_account("stranger").await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);

    for token in [&buyer.account.access_token, &seller.account.access_token] {
        let transaction = app.transaction(token, &id).await;
        assert_eq!(transaction["room_code"], code.as_str());
        assert_eq!(transaction["seller"]["username"], "seller");
        assert_eq!(transaction["buyer"]["username"], "buyer");
    }
    let response = app
        .get_authed(&format!("/api/transactions/{id}"), &stranger.access_token)
        .await;
    error_of(response, StatusCode::NOT_FOUND).await;
    let response = app
        .get_authed("/api/transactions/not-a-uuid", &stranger.access_token)
        .await;
    error_of(response, StatusCode::NOT_FOUND).await;
    let theirs: Value = app
        .get_authed("/api/transactions", &stranger.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["total"], 0);
    let response = app
        .client
        .get(app.url(&format!("/api/transactions/{id}")))
        .send()
        .await
        .unwrap();
    error_of(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_seller_cannot_buy_from_their_own_room() {
    let app = spawn_app().await;
    let (seller, _, code) = market(&app).await;
    let response = app
        .start_payment(&seller.account.access_token, &code, &json!({}))
        .await;
    error_of(response, StatusCode::FORBIDDEN).await;
    // Nor pay into their own wallet from another account.
    let twin = app.create_account("twin").await;
    let response = app
        .start_payment(
            &twin.access_token,
            &code,
            &json!({"wallet_address": app.sandbox_wallet("alice")}),
        )
        .await;
    let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["fields"]["wallet_address"]
            .as_str()
            .unwrap()
            .contains("seller")
    );
    assert_eq!(error["field_codes"]["wallet_address"], "own_wallet");
}

#[tokio::test]
async fn paused_and_closed_rooms_cannot_be_paid() {
    let app = spawn_app().await;
    let (seller, buyer, code) = market(&app).await;
    for status in ["paused", "closed"] {
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/api/rooms/{code}"),
                &seller.account.access_token,
                &json!({"status": status}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let response = app
            .start_payment(&buyer.account.access_token, &code, &json!({}))
            .await;
        let error = error_of(response, StatusCode::CONFLICT).await;
        assert!(
            error["message"].as_str().unwrap().contains(status),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_buyer_needs_a_usable_wallet() {
    let app = spawn_app().await;
    let (_, _, code) = market(&app).await;
    let nowallet = app.create_account("nowallet").await;
    let response = app
        .start_payment(&nowallet.access_token, &code, &json!({}))
        .await;
    let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["fields"]["wallet_address"]
            .as_str()
            .unwrap()
            .contains("required")
    );
    let response = app
        .start_payment(
            &nowallet.access_token,
            &code,
            &json!({"wallet_address": app.sandbox_wallet("ghost")}),
        )
        .await;
    error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    // A wallet sent in the request works without a profile wallet.
    let response = app
        .start_payment(
            &nowallet.access_token,
            &code,
            &json!({"wallet_address": app.sandbox_wallet("carmen")}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let started: Value = response.json().await.unwrap();
    assert_eq!(started["quote"]["debit_amount"]["asset_code"], "MXN");
    let response = app
        .client
        .post(app.url(&format!("/api/rooms/{code}/payments")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    error_of(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn transactions_page_newest_first() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(id_of(&app.checkout(&buyer, &code).await));
    }
    let token = &buyer.account.access_token;
    let page: Value = app
        .get_authed("/api/transactions?role=buyer&limit=2", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 3);
    let got: Vec<&str> = page["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    assert!(page["transactions"][0].get("history").is_none());
    let rest: Value = app
        .get_authed("/api/transactions?limit=2&offset=2", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["transactions"][0]["id"], ids[0].as_str());

    let far: Value = app
        .get_authed(&format!("/api/transactions?offset={}", i64::MAX), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(far["transactions"], json!([]));
    for query in ["limit=0", "limit=101", "offset=9223372036854775808"] {
        let response = app
            .get_authed(&format!("/api/transactions?{query}"), token)
            .await;
        error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    for query in ["role=admin", "limit=many", "offset=-1"] {
        let response = app
            .get_authed(&format!("/api/transactions?{query}"), token)
            .await;
        error_of(response, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn a_restart_after_the_outgoing_payment_was_created_still_completes_it() {
    // The first process stops right after the finish created the outgoing payment: it runs
    // no verification worker, so the payment is left `sending`.
    let app = spawn_app_with(|s| s.payments.payment_worker = false).await;
    let (_, buyer, code) = market(&app).await;
    let alice = app.balance("alice").await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "sending")
        .await;

    let app = app.restart(|_| {}).await;
    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert_eq!(
        statuses(&done),
        ["awaiting_approval", "approved", "sending", "completed"]
    );
    assert_eq!(app.balance("alice").await, alice + 2500);
}

#[tokio::test]
async fn payments_go_through_a_sandbox_running_on_its_own_port() {
    let shared = tempfile::tempdir().unwrap();
    let sandbox = shifting_api::app::SandboxServer::build(
        shifting_api::Settings::from_raw({
            let mut raw = shifting_api::RawSettings::default();
            raw.server.addr = "127.0.0.1:0".into();
            raw.database.data_dir = shared.path().to_owned();
            raw.sandbox.sandbox_wait_secs = 0;
            raw
        })
        .unwrap(),
    )
    .await
    .unwrap();
    let base = sandbox.base_url().to_owned();
    tokio::spawn(sandbox.run_until(std::future::pending()));
    let data_dir = shared.path().to_owned();
    let app = spawn_app_with(|s| {
        s.sandbox.sandbox_url = Some(base.clone());
        s.database.data_dir = data_dir;
    })
    .await;
    let mounted = app
        .client
        .get(app.url("/sandbox/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        mounted.status(),
        StatusCode::NOT_FOUND,
        "no sandbox of its own"
    );

    let seller = app.create_account("seller").await;
    let buyer = app.create_account("buyer").await;
    for (account, wallet) in [(&seller, "alice"), (&buyer, "kenji")] {
        let response = app
            .set_wallet(&account.access_token, &format!("{base}/{wallet}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let room: Value = app
        .create_room(
            &seller.access_token,
            &json!({"name": "Lesson", "price": "10.00"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let code = room["code"].as_str().unwrap();
    let started: Value = app
        .start_payment(&buyer.access_token, code, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(started["quote"]["debit_amount"]["asset_code"], "JPY");
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    app.wait_for_status(&buyer.access_token, &id_of(&started), "completed")
        .await;
    let accounts: Value = reqwest::get(format!("{base}/accounts"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alice = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "alice")
        .unwrap();
    assert_eq!(alice["balance"], "10001000");
}

#[tokio::test]
async fn an_approval_arriving_after_the_quote_expired_sends_nothing() {
    // No worker: the approval reaches the finish before anything expired the transaction.
    let app = spawn_app_with(|s| {
        s.sandbox.sandbox_quote_lifetime_secs = 60;
        s.payments.payment_worker = false;
    })
    .await;
    let (_, buyer, code) = market(&app).await;
    let bruno = app.balance("bruno").await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let expires: chrono::DateTime<chrono::Utc> = started["quote"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.clock.advance(std::time::Duration::from_secs(61));
    assert!(app.clock.now() > expires);
    app.finish(&finish).await;

    let after = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(after["status"], "expired");
    assert_eq!(after["failure"]["code"], "expired");
    assert_eq!(app.sandbox_outgoing_payments().await, 0);
    assert_eq!(app.balance("bruno").await, bruno);
}

#[tokio::test]
async fn the_buyer_can_go_back_to_the_wallet_or_cancel_until_approving() {
    let app = spawn_app().await;
    let (seller, buyer, code) = market(&app).await;
    let bruno = app.balance("bruno").await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);

    // The way back to the consent page is the buyer's alone.
    let mine = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(mine["consent_url"], started["redirect_url"]);
    let theirs = app.transaction(&seller.account.access_token, &id).await;
    assert!(theirs.get("consent_url").is_none(), "{theirs}");

    // Nobody but the buyer cancels.
    let error = error_of(
        app.cancel(&seller.account.access_token, &id).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(error["code"], "forbidden");
    let stranger = app.trader("stranger", "carmen").await;
    error_of(
        app.cancel(&stranger.account.access_token, &id).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let response = app.cancel(&buyer.account.access_token, &id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cancelled: Value = response.json().await.unwrap();
    assert_eq!(cancelled["status"], "rejected");
    assert_eq!(cancelled["failure"]["code"], "cancelled");
    assert!(cancelled.get("consent_url").is_none());
    assert_eq!(statuses(&cancelled), ["awaiting_approval", "rejected"]);

    // The grant is cancelled at the wallet (once the clean-up after the cancel reached it): its
    // consent page sends the browser back without an approval, and that return changes nothing.
    let finish = app
        .wait_until_consent_refused(started["redirect_url"].as_str().unwrap())
        .await;
    assert!(finish.contains("result="), "{finish}");
    app.finish(&finish).await;
    let after = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(statuses(&after), ["awaiting_approval", "rejected"]);

    // Twice is a conflict, and so is an approved payment.
    error_of(
        app.cancel(&buyer.account.access_token, &id).await,
        StatusCode::CONFLICT,
    )
    .await;
    let paid = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &paid, "completed")
        .await;
    error_of(
        app.cancel(&buyer.account.access_token, &paid).await,
        StatusCode::CONFLICT,
    )
    .await;
    error_of(
        app.cancel(&buyer.account.access_token, "not-a-uuid").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.sandbox_outgoing_payments().await, 1);
    assert!(app.balance("bruno").await < bruno);
}

/// The grant's continuation token the platform keeps while the buyer approves, opened with the
/// key in the app's data directory.
async fn stored_continue_token(app: &TestApp, id: &str) -> String {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => {
                    "SELECT continue_token FROM transactions WHERE id = $1"
                }
                _ => "SELECT continue_token FROM transactions WHERE id = ?",
            },
            [uuid::Uuid::parse_str(id).expect("an id").into()],
        ))
        .await
        .expect("the query")
        .expect("the transaction");
    row.try_get::<String>("", "continue_token")
        .expect("a continuation token")
}

#[tokio::test]
async fn grant_tokens_are_encrypted_at_rest_with_the_servers_key() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let stored = stored_continue_token(&app, &id).await;
    assert!(stored.starts_with("sealed1:"), "{stored}");

    // Opened with the generated key, it is the token the wallet gave (the sandbox keeps its
    // hash); with another key, or for another row, it does not open.
    let key = std::fs::read_to_string(app.data_dir().join("secrets-key")).unwrap();
    let sealer = shifting_api::secrets::Sealer::new(
        &shifting_api::secrets::Sealer::parse_key(&key).unwrap(),
    );
    let context = format!("transactions.continue_token:{id}");
    let plain = sealer.open(&stored, &context).unwrap();
    let hash = hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        plain.as_bytes(),
    ));
    assert_eq!(
        app.sandbox_count(&format!(
            "SELECT COUNT(*) AS n FROM sandbox_grants WHERE continue_token_hash = '{hash}'"
        ))
        .await,
        1
    );
    assert!(
        sealer
            .open(&stored, "transactions.continue_token:another")
            .is_err()
    );
    let other = shifting_api::secrets::Sealer::new(&[9; 32]);
    assert!(other.open(&stored, &context).is_err());

    // And the payment goes through with it.
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
}

#[tokio::test]
async fn the_secrets_key_can_be_set_and_a_bad_one_is_refused() {
    let key = shifting_api::secrets::Sealer::generate_key();
    let app = spawn_app_with(|s| s.auth.secrets_key = Some(key.clone().into())).await;
    let (_seller, buyer, code) = market(&app).await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let stored = stored_continue_token(&app, &id).await;
    let sealer = shifting_api::secrets::Sealer::new(
        &shifting_api::secrets::Sealer::parse_key(&key).unwrap(),
    );
    assert!(
        sealer
            .open(&stored, &format!("transactions.continue_token:{id}"))
            .is_ok()
    );
    assert!(
        !app.data_dir().join("secrets-key").exists(),
        "no key generated"
    );

    let mut raw = shifting_api::RawSettings::default();
    raw.auth.secrets_key = Some("too short".into());
    let problems = shifting_api::Settings::from_raw(raw).unwrap_err().0;
    assert!(
        problems.iter().any(|p| p.starts_with("secrets_key")),
        "{problems:?}"
    );
}
