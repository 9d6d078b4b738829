//! The buyer's return from their wallet: what a forged, replayed or failing finish redirect can
//! and cannot do, the outcomes the wallet reports, and that the browser is never held for the
//! grant's `wait`.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::payments::{id_of, market, statuses};

/// Follows a finish URL as the browser would; returns the `finish=` outcome it lands with.
async fn land(app: &TestApp, finish_url: &str) -> String {
    let response = app.client.get(finish_url).send().await.expect("finish");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().expect("location");
    assert!(location.starts_with("/payments/"), "{location}");
    location
        .split_once("?finish=")
        .map(|(_, outcome)| outcome.to_owned())
        .unwrap_or_else(|| panic!("no outcome in {location}"))
}

/// How many transactions still hold a wallet token.
async fn rows_holding_tokens(app: &TestApp) -> i64 {
    app.count(
        "SELECT COUNT(*) AS n FROM transactions WHERE continue_token IS NOT NULL \
         OR outgoing_token IS NOT NULL OR outgoing_token_manage IS NOT NULL",
    )
    .await
}

/// Waits until the sandbox holds no open incoming payment (the platform closes them after a
/// payment ends without money, off the buyer's redirect).
pub(crate) async fn wait_until_incoming_payments_closed(app: &TestApp) {
    for _ in 0..500 {
        let open = app
            .sandbox_count(
                "SELECT COUNT(*) AS n FROM sandbox_incoming_payments WHERE completed = 0",
            )
            .await;
        if open == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("an incoming payment was left open");
}

#[tokio::test]
async fn a_forged_finish_without_the_state_changes_nothing_and_the_real_approval_still_pays() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let alice = app.balance("alice").await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);

    // The seller (who sees pending sale ids) forges a decline that also carries text.
    for forged in [
        format!(
            "/api/payments/{id}/finish?result=grant_rejected&message=Your%20card%20was%20stolen"
        ),
        format!(
            "/api/payments/{id}/finish?result=grant_rejected&state=0123456789abcdef0123456789abcdef"
        ),
        format!("/api/payments/{id}/finish?result=request_denied&message=call%20us"),
    ] {
        assert_eq!(land(&app, &app.url(&forged)).await, "unchanged");
    }
    let still = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(still["status"], "awaiting_approval");
    assert!(!still.to_string().contains("stolen"), "{still}");

    // The buyer's real approval goes through.
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    assert!(finish.contains("state="), "{finish}");
    assert_eq!(land(&app, &finish).await, "approved");
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert_eq!(app.balance("alice").await, alice + 2500);
}

#[tokio::test]
async fn a_finish_with_another_transactions_state_changes_nothing() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let first = app.checkout(&buyer, &code).await;
    let second = app.checkout(&buyer, &code).await;
    let declined = app
        .consent(first["redirect_url"].as_str().unwrap(), "decline")
        .await;

    // The first payment's genuine decline, pointed at the second payment.
    let misdirected = declined.replace(&id_of(&first), &id_of(&second));
    assert_eq!(land(&app, &misdirected).await, "unchanged");

    let token = &buyer.account.access_token;
    assert_eq!(
        app.transaction(token, &id_of(&second)).await["status"],
        "awaiting_approval"
    );
    assert_eq!(land(&app, &declined).await, "declined");
    assert_eq!(
        app.transaction(token, &id_of(&first)).await["status"],
        "rejected"
    );
}

#[tokio::test]
async fn the_wallets_outcomes_end_the_approval_with_our_own_words() {
    for (result, status, code) in [
        ("grant_rejected", "rejected", "declined"),
        (
            "invalid_interaction&message=interaction+expired",
            "failed",
            "consent_failed",
        ),
        (
            "invalid_interaction&message=invalid+interaction",
            "failed",
            "consent_failed",
        ),
        (
            "request_denied&message=internal+server+error",
            "failed",
            "consent_failed",
        ),
        (
            "unknown_interaction&message=unknown+interaction",
            "failed",
            "consent_failed",
        ),
    ] {
        let app = spawn_app().await;
        let (_, buyer, code_) = market(&app).await;
        let started = app.checkout(&buyer, &code_).await;
        let id = id_of(&started);
        let declined = app
            .consent(started["redirect_url"].as_str().unwrap(), "decline")
            .await;
        let finish = declined.replace("result=grant_rejected", &format!("result={result}"));

        let outcome = land(&app, &finish).await;

        assert_eq!(
            outcome,
            if status == "rejected" {
                "declined"
            } else {
                "ended"
            },
            "{result}"
        );
        let done = app.transaction(&buyer.account.access_token, &id).await;
        assert_eq!(done["status"], status, "{result}");
        assert_eq!(done["failure"]["code"], code, "{result}");
        let text = done.to_string();
        assert!(
            !text.contains("interaction expired") && !text.contains("internal server error"),
            "the wallet's words must not reach the page: {text}"
        );
        assert_eq!(rows_holding_tokens(&app).await, 0, "{result}");
        wait_until_incoming_payments_closed(&app).await;
        assert_eq!(app.sandbox_outgoing_payments().await, 0);
    }
}

#[tokio::test]
async fn a_database_failure_during_the_finish_still_lands_on_the_payment_page() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let started = app.checkout(&buyer, &code).await;
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    // The status change cannot record its event.
    app.db
        .execute_unprepared("DROP TABLE transaction_events")
        .await
        .expect("drop");

    let response = app.client.get(&finish).send().await.expect("finish");

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!("/payments/{}?finish=error", id_of(&started))
    );
}

#[tokio::test]
async fn approving_answers_at_once_and_the_continuation_honours_wait_from_the_grants_answer() {
    // Like Rafiki: a `wait` on the grant, and the grant stored well after the request arrived.
    // This test alone lets the wait run in real time (1.3 s): what it checks is that the
    // continuation counts from the answer, 300 ms after the request, and moving the clock by
    // the wait would pass both moments at once.
    let app = spawn_app_with(|s| {
        s.sandbox.sandbox_wait_secs = 1;
        s.sandbox.sandbox_grant_store_delay_ms = 300;
    })
    .await;
    let (_, buyer, code) = market(&app).await;
    let started = app.checkout(&buyer, &code).await;
    let id = id_of(&started);
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;

    assert_eq!(land(&app, &finish).await, "approved");

    // The browser was answered while the continuation still waits out `wait`.
    let token = &buyer.account.access_token;
    assert_eq!(app.transaction(token, &id).await["status"], "approved");
    let done = app.wait_for_status(token, &id, "completed").await;
    assert_eq!(
        statuses(&done),
        ["awaiting_approval", "approved", "sending", "completed"]
    );
    let stats: Value = app
        .client
        .get(app.url("/sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["too_fast_refusals"], 0,
        "the continuation came before the wallet's `wait` had passed"
    );
}

#[tokio::test]
async fn wallet_tokens_are_forgotten_once_a_payment_ends() {
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    let paid = app.checkout(&buyer, &code).await;
    let declined = app.checkout(&buyer, &code).await;
    assert_eq!(
        rows_holding_tokens(&app).await,
        2,
        "kept while they are needed"
    );

    let finish = app
        .consent(paid["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    app.wait_for_status(token, &id_of(&paid), "completed").await;
    let finish = app
        .consent(declined["redirect_url"].as_str().unwrap(), "decline")
        .await;
    app.finish(&finish).await;

    assert_eq!(rows_holding_tokens(&app).await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM transactions WHERE finish_state_hash IS NOT NULL")
            .await,
        0
    );
}
