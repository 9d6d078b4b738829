//! One-click budgets against the sandbox: approved once, purchases without a redirect, the
//! fallback to the wallet's approval (over budget, revoked here or at the wallet), periods
//! rolling over on the injected clock, token rotation (expired, idle) and concurrent clicks.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, Trader, spawn_app};
use crate::payments::{id_of, market};

/// `value` minor units at scale 2 as a decimal, such as `1250` → `12.50`.
pub(crate) fn decimal(value: i64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

/// The debit the buyer's wallet quotes for the room (a payment started and cancelled).
pub(crate) async fn debit_of(app: &TestApp, buyer: &Trader, code: &str) -> i64 {
    let started = app.checkout(buyer, code).await;
    let cancelled = app
        .cancel(&buyer.account.access_token, &id_of(&started))
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    started["quote"]["debit_amount"]["value"]
        .as_str()
        .expect("a debit")
        .parse()
        .expect("a number")
}

/// Asks for a budget and approves it at the wallet; returns its id.
pub(crate) async fn enable(app: &TestApp, token: &str, body: &Value) -> String {
    let response = app
        .send_json(Method::POST, "/api/me/budgets", token, body)
        .await;
    let status = response.status();
    let budget: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{budget}");
    assert_eq!(budget["status"], "pending");
    let redirect = budget["redirect_url"].as_str().expect("a consent page");
    let finish = app.consent(redirect, "approve").await;
    let back = app.client.get(&finish).send().await.expect("finish");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let location = back.headers()["location"].to_str().expect("location");
    let code = body["room_code"].as_str();
    let expected = match code {
        Some(code) => format!("/r/{code}?budget=active"),
        None => "/settings?budget=active".to_owned(),
    };
    assert_eq!(location, expected);
    budget["id"].as_str().expect("an id").to_owned()
}

/// The caller's budget `id`, as listed.
async fn listed(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.get_authed("/api/me/budgets", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.expect("json");
    list["budgets"]
        .as_array()
        .expect("budgets")
        .iter()
        .find(|b| b["id"] == id)
        .cloned()
        .expect("the budget is listed")
}

/// Starts a purchase under `budget`; returns the 201 body.
async fn start_under(app: &TestApp, token: &str, code: &str, budget: &str) -> Value {
    let response = app
        .start_payment(token, code, &json!({ "budget_id": budget }))
        .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The one click; returns the 200 body.
async fn confirm(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/payments/{id}/confirm"),
            token,
            &json!({}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A purchase under `budget` from start to `completed`, without a redirect.
pub(crate) async fn buy_with_one_click(
    app: &TestApp,
    token: &str,
    code: &str,
    budget: &str,
) -> String {
    let started = start_under(app, token, code, budget).await;
    assert!(started.get("redirect_url").is_none(), "{started}");
    assert_eq!(started["one_click"]["budget_id"], budget);
    let id = id_of(&started);
    let confirmed = confirm(app, token, &id).await;
    assert!(confirmed.get("one_click_refused").is_none(), "{confirmed}");
    assert!(
        ["sending", "completed"]
            .contains(&confirmed["transaction"]["status"].as_str().unwrap_or("")),
        "{confirmed}"
    );
    app.wait_for_status(token, &id, "completed").await;
    id
}

/// A fresh access token for `username` (after the clock moved past the old one's expiry).
async fn log_in(app: &TestApp, username: &str) -> String {
    let response = app.login(username, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn one_click_pays_three_times_without_a_redirect_and_the_fourth_asks_the_wallet() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    let debit = debit_of(&app, &buyer, &code).await;
    let budget = enable(
        &app,
        token,
        &json!({"amount": decimal(3 * debit), "period": "month", "periods": 6, "room_code": code}),
    )
    .await;
    let shown = listed(&app, token, &budget).await;
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["limit"]["value"], (3 * debit).to_string());
    assert_eq!(shown["limit"]["asset_code"], "EUR");
    assert_eq!(shown["left"]["value"], (3 * debit).to_string());
    assert_eq!(shown["spent_source"], "wallet");
    // R5 from the start: six months, as Rafiki counts repetitions.
    let starts: chrono::DateTime<chrono::Utc> = shown["starts_at"]
        .as_str()
        .expect("start")
        .parse()
        .expect("a time");
    let ends: chrono::DateTime<chrono::Utc> = shown["ends_at"]
        .as_str()
        .expect("end")
        .parse()
        .expect("a time");
    assert_eq!(
        ends,
        starts
            .checked_add_months(chrono::Months::new(6))
            .expect("a date")
    );
    let interval = app
        .count("SELECT COUNT(*) AS n FROM budgets WHERE interval LIKE 'R5/%/P1M'")
        .await;
    assert_eq!(interval, 1);

    let buyer_before = app.balance("bruno").await;
    let seller_before = app.balance("alice").await;
    let mut last = String::new();
    for _ in 0..3 {
        last = buy_with_one_click(&app, token, &code, &budget).await;
    }
    assert_eq!(app.balance("bruno").await, buyer_before - 3 * debit);
    assert_eq!(app.balance("alice").await, seller_before + 3 * 2500);
    let shown = listed(&app, token, &budget).await;
    assert_eq!(shown["spent"]["value"], (3 * debit).to_string());
    assert_eq!(shown["left"]["value"], "0");

    // The fourth is over the budget: the wallet's approval, with the reason.
    let fourth = start_under(&app, token, &code, &budget).await;
    assert_eq!(fourth["one_click_refused"], "over_budget");
    let redirect = fourth["redirect_url"].as_str().expect("a consent page");
    let finish = app.consent(redirect, "approve").await;
    app.finish(&finish).await;
    app.wait_for_status(token, &id_of(&fourth), "completed")
        .await;
    assert_eq!(app.balance("bruno").await, buyer_before - 4 * debit);

    // Confirming a completed one-click purchase again sends nothing.
    let outgoing = app.sandbox_outgoing_payments().await;
    let again = confirm(&app, token, &last).await;
    assert_eq!(again["transaction"]["status"], "completed");
    assert_eq!(app.sandbox_outgoing_payments().await, outgoing);
}

#[tokio::test]
async fn a_new_period_gives_the_budget_back_and_the_expired_token_is_rotated_first() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    let debit = debit_of(&app, &buyer, &code).await;
    let budget = enable(
        &app,
        token,
        &json!({"amount": decimal(debit), "period": "week", "periods": 2}),
    )
    .await;
    buy_with_one_click(&app, token, &code, &budget).await;
    let over = start_under(&app, token, &code, &budget).await;
    assert_eq!(over["one_click_refused"], "over_budget");
    let cancelled = app.cancel(token, &id_of(&over)).await;
    assert_eq!(cancelled.status(), StatusCode::OK);

    // A week later the second period starts from zero; the token (ten minutes) has expired
    // and is rotated before the payment.
    app.clock.advance(Duration::from_secs(7 * 24 * 3600 + 60));
    let token = log_in(&app, "buyer").await;
    buy_with_one_click(&app, &token, &code, &budget).await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM budgets WHERE token_rotated_at > activated_at")
            .await,
        1,
        "the token was rotated"
    );
    assert!(
        app.sandbox_count(
            "SELECT COUNT(*) AS n FROM sandbox_access_tokens t JOIN sandbox_grants g ON g.id = t.grant_id \
             WHERE g.access LIKE '%interval%' AND t.revoked_at IS NOT NULL"
        )
        .await
            >= 1,
        "the rotated token is revoked at the wallet"
    );

    // After the last period the budget has ended: the wallet's approval again.
    app.clock.advance(Duration::from_secs(7 * 24 * 3600));
    let token = log_in(&app, "buyer").await;
    let ended = start_under(&app, &token, &code, &budget).await;
    assert_eq!(ended["one_click_refused"], "inactive");
    assert!(ended["redirect_url"].is_string());
    assert_eq!(listed(&app, &token, &budget).await["status"], "ended");
}

#[tokio::test]
async fn a_revoked_budget_falls_back_to_the_wallet_and_its_grant_is_revoked_there() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    let budget = enable(
        &app,
        token,
        &json!({"amount": "500.00", "period": "month", "periods": 1}),
    )
    .await;
    buy_with_one_click(&app, token, &code, &budget).await;
    let response = app
        .send_json(
            Method::DELETE,
            &format!("/api/me/budgets/{budget}"),
            token,
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let revoked: Value = response.json().await.expect("json");
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM budgets WHERE access_token IS NULL AND token_manage IS NULL AND continue_token IS NULL"
        )
        .await,
        1,
        "the tokens are forgotten"
    );
    assert_eq!(
        app.sandbox_count(
            "SELECT COUNT(*) AS n FROM sandbox_grants WHERE state = 'revoked' AND access LIKE '%interval%'"
        )
        .await,
        1,
        "the grant is revoked at the wallet"
    );
    let again = app
        .send_json(
            Method::DELETE,
            &format!("/api/me/budgets/{budget}"),
            token,
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let started = start_under(&app, token, &code, &budget).await;
    assert_eq!(started["one_click_refused"], "inactive");
    let finish = app
        .consent(
            started["redirect_url"].as_str().expect("redirect"),
            "approve",
        )
        .await;
    app.finish(&finish).await;
    app.wait_for_status(token, &id_of(&started), "completed")
        .await;

    // Someone else's budget is not found; neither is a confirmation of another's purchase.
    let other = app.trader("other", "carmen").await;
    let foreign = app
        .get_authed(
            &format!("/api/me/budgets/{budget}"),
            &other.account.access_token,
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_grant_revoked_at_the_wallet_fails_the_click_with_nothing_sent() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    let budget = enable(
        &app,
        token,
        &json!({"amount": "500.00", "period": "month", "periods": 1}),
    )
    .await;
    let started = start_under(&app, token, &code, &budget).await;
    // The buyer revokes the grant in their wallet's own pages.
    app.sandbox_execute(
        "UPDATE sandbox_grants SET state = 'revoked' WHERE access LIKE '%interval%'",
    )
    .await;
    app.sandbox_execute(
        "UPDATE sandbox_access_tokens SET revoked_at = created_at WHERE grant_id IN \
         (SELECT id FROM sandbox_grants WHERE access LIKE '%interval%')",
    )
    .await;
    let outgoing = app.sandbox_outgoing_payments().await;
    let confirmed = confirm(&app, token, &id_of(&started)).await;
    assert_eq!(
        confirmed["one_click_refused"], "wallet_refused",
        "{confirmed}"
    );
    assert_eq!(confirmed["transaction"]["status"], "failed");
    assert_eq!(
        confirmed["transaction"]["failure"]["code"],
        "budget_refused"
    );
    assert_eq!(app.sandbox_outgoing_payments().await, outgoing);
    assert_eq!(listed(&app, token, &budget).await["status"], "revoked");
}

#[tokio::test]
async fn concurrent_clicks_never_spend_past_the_budget() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    let debit = debit_of(&app, &buyer, &code).await;
    // From now on the address is confirmed: payment-problem notices would be mailed.
    app.outbox_settled().await;
    app.confirm_email("buyer@example.com").await;
    let budget = enable(
        &app,
        token,
        &json!({"amount": decimal(2 * debit), "period": "month", "periods": 1}),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let started = start_under(&app, token, &code, &budget).await;
        assert!(started["one_click"].is_object(), "{started}");
        ids.push(id_of(&started));
    }
    let before = app.balance("bruno").await;
    let answers = futures::future::join_all(ids.iter().map(|id| confirm(&app, token, id))).await;
    let refused = answers
        .iter()
        .filter(|a| a["one_click_refused"] == "over_budget")
        .count();
    assert_eq!(refused, 3, "{answers:#?}");
    for (id, answer) in ids.iter().zip(&answers) {
        if answer.get("one_click_refused").is_none() {
            app.wait_for_status(token, id, "completed").await;
        }
    }
    assert_eq!(app.balance("bruno").await, before - 2 * debit);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM transactions WHERE budget_id IS NOT NULL AND status = 'completed'")
            .await,
        2
    );
    // The refused clicks were answered on the page: no "payment failed" mail for them, while
    // the receipts of the two paid ones arrive.
    app.outbox_settled().await;
    let mails = app.mails_to("buyer@example.com").await;
    let subjects: Vec<&str> = mails.iter().map(crate::mailbox::Mail::subject).collect();
    assert_eq!(
        subjects.iter().filter(|s| s.contains("receipt")).count(),
        2,
        "{subjects:?}"
    );
    assert_eq!(
        mails.len(),
        3,
        "the confirmation and two receipts: {subjects:?}"
    );
}

#[tokio::test]
async fn idle_budget_tokens_are_rotated_weekly_and_keep_working() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let budget = enable(
        &app,
        &buyer.account.access_token,
        &json!({"amount": "500.00", "period": "year", "periods": 1}),
    )
    .await;
    let rotated = "SELECT COUNT(*) AS n FROM budgets WHERE token_rotated_at > activated_at";
    assert_eq!(app.count(rotated).await, 0);
    // Eight days idle: the worker's keeping (hourly, on the clock) rotates the token.
    app.clock.advance(Duration::from_secs(8 * 24 * 3600));
    assert!(app.counts(rotated, 1).await, "the idle token was rotated");
    let token = log_in(&app, "buyer").await;
    buy_with_one_click(&app, &token, &code, &budget).await;
}

#[tokio::test]
async fn bad_budget_requests_are_422_and_declined_ones_end() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    for (body, field) in [
        (
            json!({"amount": "0", "period": "month", "periods": 3}),
            "amount",
        ),
        (
            json!({"amount": "10.001", "period": "month", "periods": 3}),
            "amount",
        ),
        (
            json!({"amount": "10", "period": "month", "periods": 0}),
            "periods",
        ),
        (
            json!({"amount": "10", "period": "month", "periods": 25}),
            "periods",
        ),
        (
            json!({"amount": "10", "period": "month", "periods": 2, "room_code": "nope!"}),
            "room_code",
        ),
    ] {
        let response = app
            .send_json(Method::POST, "/api/me/budgets", token, &body)
            .await;
        let error = crate::helpers::error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    let response = app
        .send_json(
            Method::POST,
            "/api/me/budgets",
            token,
            &json!({"amount": "10", "period": "fortnight", "periods": 2}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = app
        .send_json(
            Method::POST,
            "/api/me/budgets",
            token,
            &json!({"amount": "10", "period": "month", "periods": 2, "room_code": code}),
        )
        .await;
    let budget: Value = response.json().await.expect("json");
    let finish = app
        .consent(
            budget["redirect_url"].as_str().expect("redirect"),
            "decline",
        )
        .await;
    let back = app.client.get(&finish).send().await.expect("finish");
    assert_eq!(
        back.headers()["location"].to_str().expect("location"),
        format!("/r/{code}?budget=declined")
    );
    let id = budget["id"].as_str().expect("id");
    assert_eq!(listed(&app, token, id).await["status"], "declined");
    // A purchase under a budget that never became active asks the wallet.
    let started = start_under(&app, token, &code, id).await;
    assert_eq!(started["one_click_refused"], "inactive");
    // Confirming a purchase that is not under a budget is refused.
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/payments/{}/confirm", id_of(&started)),
            token,
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_purchase_confirmed_twice_at_once_is_paid_once_and_neither_click_is_refused() {
    let app = spawn_app().await;
    let (_seller, buyer, code) = market(&app).await;
    let token = &buyer.account.access_token;
    let debit = debit_of(&app, &buyer, &code).await;
    // Room for this purchase, not for two: the second click must not count it twice.
    let budget = enable(
        &app,
        token,
        &json!({"amount": decimal(debit + debit / 2), "period": "month", "periods": 1}),
    )
    .await;
    let started = start_under(&app, token, &code, &budget).await;
    let id = id_of(&started);
    let outgoing = app.sandbox_outgoing_payments().await;
    let (first, second) = tokio::join!(confirm(&app, token, &id), confirm(&app, token, &id));
    for answer in [&first, &second] {
        assert!(answer.get("one_click_refused").is_none(), "{answer:#}");
    }
    app.wait_for_status(token, &id, "completed").await;
    assert_eq!(app.sandbox_outgoing_payments().await, outgoing + 1);
}

#[tokio::test]
async fn an_unanswered_budget_is_ended_and_cancelled_by_the_workers_keeping() {
    let app = spawn_app().await;
    let (_seller, buyer, _code) = market(&app).await;
    let response = app
        .send_json(
            Method::POST,
            "/api/me/budgets",
            &buyer.account.access_token,
            &json!({"amount": "10", "period": "month", "periods": 2}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    // Nobody comes back from the wallet, and nobody looks at the budget: the keeping (hourly,
    // on the clock) ends it and cancels its grant at the wallet.
    app.clock.advance(Duration::from_secs(2 * 3600));
    let ended = "SELECT COUNT(*) AS n FROM budgets WHERE status = 'failed' AND failure_code = 'expired' AND continue_token IS NULL";
    let cancelled = "SELECT COUNT(*) AS n FROM sandbox_grants WHERE state = 'revoked' AND access LIKE '%interval%'";
    assert!(
        app.counts(ended, 1).await,
        "the unanswered budget was ended"
    );
    // Its grant is cancelled at the wallet right after (the same keeping, in order).
    assert!(
        app.sandbox_counts(cancelled, 1).await,
        "its grant is cancelled at the wallet"
    );
}
