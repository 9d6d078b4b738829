//! Payments that must not go through, and the paths that end them: a room closed or paused
//! mid-purchase, payment starts over the rate limit, money that never arrives, an expired
//! outgoing token, a wallet that quotes wrong, and a seller's wallet that changed currency.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::finish::wait_until_incoming_payments_closed;
use crate::helpers::{TestApp, Trader, error_of, spawn_app, spawn_app_with};
use crate::payments::{id_of, market, statuses};

/// The seller opens, pauses or closes their room.
async fn set_room_status(app: &TestApp, seller: &Trader, room: &str, status: &str) {
    let changed = app
        .send_json(
            Method::PATCH,
            &format!("/api/rooms/{room}"),
            &seller.account.access_token,
            &json!({ "status": status }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_room_closed_or_paused_during_consent_is_not_paid_and_the_buyer_is_told_why() {
    for (status, code) in [("closed", "room_closed"), ("paused", "room_paused")] {
        let app = spawn_app().await;
        let (seller, buyer, room) = market(&app).await;
        let (alice, bruno) = (app.balance("alice").await, app.balance("bruno").await);
        let started = app.checkout(&buyer, &room).await;
        let id = id_of(&started);
        let finish = app
            .consent(started["redirect_url"].as_str().unwrap(), "approve")
            .await;
        // The seller's confirmation says what the change stops.
        let own: Value = app
            .get_authed("/api/rooms", &seller.account.access_token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(own["rooms"][0]["payments_in_progress"], 1);

        set_room_status(&app, &seller, &room, status).await;
        app.finish(&finish).await;

        let done = app
            .wait_for_status(&buyer.account.access_token, &id, "failed")
            .await;
        assert_eq!(done["failure"]["code"], code, "{done:#}");
        assert_eq!(statuses(&done), ["awaiting_approval", "approved", "failed"]);
        assert_eq!(app.sandbox_outgoing_payments().await, 0, "{status}");
        assert_eq!(app.balance("alice").await, alice);
        assert_eq!(app.balance("bruno").await, bruno);
        wait_until_incoming_payments_closed(&app).await;
        let own: Value = app
            .get_authed("/api/rooms", &seller.account.access_token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(own["rooms"][0]["payments_in_progress"], 0);
    }
}

/// Starts a payment as `buyer`, the request arriving with `X-Forwarded-For: forwarded_for`.
async fn start_from(app: &TestApp, buyer: &Trader, room: &str, forwarded_for: &str) -> StatusCode {
    let response = app
        .client
        .post(app.url(&format!("/api/rooms/{room}/payments")))
        .bearer_auth(&buyer.account.access_token)
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({}))
        .send()
        .await
        .expect("start");
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert!(response.headers().contains_key("retry-after"));
        let body = error_of(response, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(body["code"], "too_many_requests", "{body}");
    }
    status
}

#[tokio::test]
async fn a_room_closed_after_the_approval_while_the_wallet_makes_us_wait_is_not_paid() {
    // The buyer approved and was sent back, but the grant's `wait` has not passed yet.
    let app = spawn_app_with(|s| s.sandbox.sandbox_wait_secs = 30).await;
    let (seller, buyer, room) = market(&app).await;
    let (alice, bruno) = (app.balance("alice").await, app.balance("bruno").await);
    let id = app.buy(&buyer, &room).await;
    let token = &buyer.account.access_token;
    assert_eq!(app.transaction(token, &id).await["status"], "approved");

    set_room_status(&app, &seller, &room, "closed").await;
    app.clock.advance(std::time::Duration::from_secs(31));

    let done = app.wait_for_status(token, &id, "failed").await;
    assert_eq!(done["failure"]["code"], "room_closed", "{done:#}");
    assert_eq!(statuses(&done), ["awaiting_approval", "approved", "failed"]);
    assert_eq!(app.sandbox_outgoing_payments().await, 0);
    assert_eq!(app.balance("alice").await, alice);
    assert_eq!(app.balance("bruno").await, bruno);
    wait_until_incoming_payments_closed(&app).await;
}

/// Waits for purchase `id` to complete through the usual steps, with one payment made and
/// the seller (alice, who had `alice` before) paid once.
async fn completed_once(app: &TestApp, buyer: &Trader, id: &str, alice: i64) {
    let done = app
        .wait_for_status(&buyer.account.access_token, id, "completed")
        .await;
    assert_eq!(
        statuses(&done),
        ["awaiting_approval", "approved", "sending", "completed"]
    );
    assert_eq!(app.sandbox_outgoing_payments().await, 1);
    assert_eq!(app.balance("alice").await, alice + 2500);
}

#[tokio::test]
async fn a_payment_whose_creation_went_unanswered_is_verified_and_completes_once() {
    // The buyer's wallet creates the payment and moves the money, but its answer is lost: the
    // platform must not call that a failure (nor cancel the grant and close the incoming
    // payment under the money); the seller's wallet decides.
    let app = spawn_app_with(|s| s.sandbox.sandbox_lose_outgoing_payment_answers = true).await;
    let (_, buyer, room) = market(&app).await;
    let alice = app.balance("alice").await;
    let id = app.buy(&buyer, &room).await;

    completed_once(&app, &buyer, &id, alice).await;
}
/// Makes the database refuse every move of a `table` row to `sending` (a trigger), as a
/// database that fails at that moment would; `false` removes it.
pub(crate) async fn refuse_sending(app: &TestApp, table: &str, refuse: bool) {
    use sea_orm::ConnectionTrait;
    let postgres = app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let statements = match (refuse, postgres) {
        (true, false) => vec![format!(
            "CREATE TRIGGER refuse_sending BEFORE UPDATE ON {table} WHEN NEW.status = 'sending' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
        (true, true) => vec![
            "CREATE OR REPLACE FUNCTION refuse_sending() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
                .to_owned(),
            format!(
                "CREATE TRIGGER refuse_sending BEFORE UPDATE ON {table} FOR EACH ROW \
                 WHEN (NEW.status = 'sending') EXECUTE FUNCTION refuse_sending()"
            ),
        ],
        (false, false) => vec!["DROP TRIGGER refuse_sending".to_owned()],
        (false, true) => vec![format!("DROP TRIGGER refuse_sending ON {table}")],
    };
    for statement in statements {
        app.db
            .execute_unprepared(&statement)
            .await
            .unwrap_or_else(|err| panic!("{statement}: {err}"));
    }
}

#[tokio::test]
async fn an_approval_whose_recording_failed_goes_to_the_worker_at_once_and_is_paid_once() {
    // The buyer's wallet creates the payment, then our database refuses to record it: the
    // finish task hands the approval to the worker at once (not when its lease runs out: the
    // clock does not move here); the worker, failing too, holds it under its own lease; once
    // the database works, the worker finds the payment made and does not make another.
    let app = spawn_app().await;
    let (_, buyer, room) = market(&app).await;
    let alice = app.balance("alice").await;
    refuse_sending(&app, "transactions", true).await;
    let id = app.buy(&buyer, &room).await;
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM transactions \
             WHERE status = 'approved' AND lease_owner IS NOT NULL",
            1,
        )
        .await,
        "the worker never took the approval over"
    );
    assert_eq!(app.sandbox_outgoing_payments().await, 1);
    refuse_sending(&app, "transactions", false).await;
    app.clock
        .advance(shifting_api::payments::worker::RESUME_LEASE + std::time::Duration::from_secs(1));
    completed_once(&app, &buyer, &id, alice).await;
}

#[tokio::test]
async fn payment_starts_are_limited_per_user_and_per_client_address() {
    let app = spawn_app_with(|s| {
        s.payments.payment_rate_limit_burst = 2;
        s.payments.payment_rate_limit_per_minute = 1;
        s.server.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    let (_, first, room) = market(&app).await;
    let second = app.trader("second", "carmen").await;
    let third = app.trader("third", "kenji").await;

    let from_one = [
        start_from(&app, &first, &room, "198.51.100.1").await,
        start_from(&app, &first, &room, "198.51.100.2").await,
        start_from(&app, &first, &room, "198.51.100.3").await,
    ];
    assert_eq!(
        from_one,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "per user, whatever the address"
    );
    // Another user from a fresh address is not held up by the first one.
    assert_eq!(
        start_from(&app, &second, &room, "203.0.113.7").await,
        StatusCode::CREATED
    );
    assert_eq!(
        start_from(&app, &second, &room, "198.51.100.1").await,
        StatusCode::CREATED
    );
    // 198.51.100.1 has started two payments: per address, whoever asks.
    assert_eq!(
        start_from(&app, &third, &room, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_does_not_escape_the_limit() {
    let app = spawn_app_with(|s| {
        s.payments.payment_rate_limit_burst = 2;
        s.payments.payment_rate_limit_per_minute = 1;
    })
    .await;
    let (_, first, room) = market(&app).await;
    let second = app.trader("second", "carmen").await;
    let third = app.trader("third", "kenji").await;

    let statuses = [
        start_from(&app, &first, &room, "198.51.100.1").await,
        start_from(&app, &second, &room, "198.51.100.2").await,
        start_from(&app, &third, &room, "198.51.100.3").await,
    ];

    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "one peer address, one bucket"
    );
}

#[tokio::test]
async fn money_that_never_arrives_fails_at_the_verification_timeout_and_the_incoming_payment_is_closed()
 {
    let app = spawn_app_with(|s| s.sandbox.sandbox_hold_outgoing_payments = true).await;
    let (_, buyer, room) = market(&app).await;
    let alice = app.balance("alice").await;
    let id = app.buy(&buyer, &room).await;
    let token = &buyer.account.access_token;
    app.wait_for_status(token, &id, "sending").await;

    // The default verification timeout is 600 s: the consent was 601 s ago.
    app.shift_back("transactions", "approved_at", 601, "status = 'sending'")
        .await;

    let done = app.wait_for_status(token, &id, "failed").await;
    assert_eq!(done["failure"]["code"], "not_received", "{done:#}");
    wait_until_incoming_payments_closed(&app).await;
    assert_eq!(app.balance("alice").await, alice);
}

#[tokio::test]
async fn an_expired_outgoing_token_is_rotated_and_the_payment_still_verifies() {
    let app = spawn_app_with(|s| s.payments.payment_worker = false).await;
    let (_, buyer, room) = market(&app).await;
    let id = app.buy(&buyer, &room).await;
    let token = &buyer.account.access_token;
    app.wait_for_status(token, &id, "sending").await;
    // Every token the buyer's wallet issued has expired meanwhile: reading the outgoing
    // payment answers 403 until the token is rotated.
    app.sandbox_execute(
        "UPDATE sandbox_access_tokens SET expires_at = '2000-01-01T00:00:00+00:00'",
    )
    .await;
    let outgoing_tokens = "SELECT COUNT(*) AS n FROM sandbox_access_tokens t \
        JOIN sandbox_grants g ON t.grant_id = g.id WHERE g.access LIKE '%outgoing-payment%'";
    assert_eq!(app.sandbox_count(outgoing_tokens).await, 1);

    let app = app.restart(|_| {}).await;

    app.wait_for_status(token, &id, "completed").await;
    assert_eq!(
        app.sandbox_count(outgoing_tokens).await,
        2,
        "the worker rotated the outgoing-payment token"
    );
}

#[tokio::test]
async fn a_wallet_that_quotes_less_than_the_price_is_refused_and_nothing_is_left_open() {
    let app = spawn_app_with(|s| s.sandbox.sandbox_quote_shortfall = 1).await;
    let (_, buyer, room) = market(&app).await;

    let response = app
        .start_payment(&buyer.account.access_token, &room, &json!({}))
        .await;

    let body = error_of(response, StatusCode::BAD_GATEWAY).await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("quoted 24.99 USD for the seller instead of the price 25.00 USD"),
        "{message}"
    );
    let purchases: Value = app
        .get_authed("/api/transactions?role=buyer", &buyer.account.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(purchases["transactions"][0]["status"], "failed");
    assert_eq!(
        purchases["transactions"][0]["failure"]["code"],
        "provider_error"
    );
    wait_until_incoming_payments_closed(&app).await;
}

#[tokio::test]
async fn a_seller_wallet_that_changed_currency_since_the_room_was_made_cannot_be_paid() {
    let app = spawn_app().await;
    let (_, buyer, room) = market(&app).await;
    app.sandbox_execute("UPDATE sandbox_accounts SET asset_code = 'EUR' WHERE name = 'alice'")
        .await;
    // A new process: no cached wallet document from before the change.
    let app = app.restart(|_| {}).await;

    let response = app
        .start_payment(&buyer.account.access_token, &room, &json!({}))
        .await;

    let body = error_of(response, StatusCode::CONFLICT).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no longer takes the room's currency"),
        "{body}"
    );
    assert_eq!(
        app.sandbox_count("SELECT COUNT(*) AS n FROM sandbox_incoming_payments")
            .await,
        0
    );
}
