//! Refunds against the sandbox: the seller approves at their own wallet and the buyer gets back
//! what the seller received (in the buyer's currency); a declined refund moves nothing and can
//! be tried again; a replayed finish moves money once; only the seller refunds, once; the buyer
//! can ask first.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Trader, error_of, spawn_app};
use crate::payments::market;

/// A completed purchase: (seller, buyer, transaction id).
async fn sale(app: &TestApp) -> (Trader, Trader, String) {
    let (seller, buyer, code) = market(app).await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    (seller, buyer, id)
}

async fn refund(app: &TestApp, token: &str, id: &str, reason: &str) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/transactions/{id}/refund"),
        token,
        &json!({ "reason": reason }),
    )
    .await
}

/// The seller starts a refund; returns the sale as answered (201).
async fn start_refund(app: &TestApp, seller: &Trader, id: &str) -> Value {
    let response = refund(
        app,
        &seller.account.access_token,
        id,
        "The lesson was cancelled.",
    )
    .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "refund_pending");
    assert_eq!(body["refund"]["status"], "awaiting_approval");
    body
}

/// The seller answers at their wallet; returns where the finish redirect lands.
async fn answer(app: &TestApp, started: &Value, decision: &str) -> String {
    let consent = started["refund"]["consent_url"]
        .as_str()
        .expect("the seller's consent page");
    let finish = app.consent(consent, decision).await;
    let back = app.client.get(&finish).send().await.expect("finish");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    back.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

fn history_count(sale: &Value, status: &str) -> usize {
    sale["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["status"] == status)
        .count()
}

#[tokio::test]
async fn an_approved_refund_returns_what_the_seller_received() {
    let app = spawn_app().await;
    let (seller, buyer, id) = sale(&app).await;
    let (alice, bruno) = (app.balance("alice").await, app.balance("bruno").await);
    let started = start_refund(&app, &seller, &id).await;
    assert_eq!(started["refund"]["amount"]["value"], "2500");
    assert_eq!(started["refund"]["amount"]["asset_code"], "USD");
    assert_eq!(started["refund"]["buyer_receives"]["asset_code"], "EUR");
    let gets: i64 = started["refund"]["buyer_receives"]["value"]
        .as_str()
        .expect("a value")
        .parse()
        .expect("a number");
    // Only the seller sees the consent page.
    let seen = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(seen["status"], "refund_pending");
    assert!(seen["refund"].get("consent_url").is_none(), "{seen}");
    // Delivered is delivered while the refund is under way.
    assert_eq!(
        answer(&app, &started, "approve").await,
        format!("/transactions/{id}?refund=approved")
    );
    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "refunded")
        .await;
    assert_eq!(app.balance("alice").await, alice - 2500);
    assert_eq!(app.balance("bruno").await, bruno + gets);
    let seller_view = app.transaction(&seller.account.access_token, &id).await;
    assert_eq!(seller_view["refund"]["status"], "completed");
    assert!(seller_view["refund"]["outgoing_payment"].is_string());
    assert_eq!(history_count(&done, "refund_pending"), 2, "{done:#}");
    assert_eq!(history_count(&done, "refunded"), 1);
    // Still in the seller's sales, marked refunded; no longer in their totals.
    let sales = app
        .get_authed(
            "/api/transactions?role=seller&kind=sales",
            &seller.account.access_token,
        )
        .await;
    let sales: Value = sales.json().await.expect("json");
    assert_eq!(sales["transactions"][0]["status"], "refunded", "{sales}");
    let totals = app
        .get_authed(
            "/api/transactions/summary?role=seller",
            &seller.account.access_token,
        )
        .await;
    let totals: Value = totals.json().await.expect("json");
    assert_eq!(totals, json!({"currencies": []}), "{totals}");
    // Refunded is final.
    let again = refund(&app, &seller.account.access_token, &id, "Twice?").await;
    let error = error_of(again, StatusCode::CONFLICT).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("refunded already"),
        "{error}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM refunds WHERE status = 'completed'")
            .await,
        1
    );
    // Its tokens are gone with it.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM refunds WHERE outgoing_token IS NOT NULL OR continue_token IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_refund_whose_recording_failed_goes_to_the_worker_at_once_and_moves_money_once() {
    // The seller's wallet makes the refund's payment, then our database refuses to record it:
    // the worker takes the refund over at once (the clock does not move), and once the
    // database works it finds the payment made instead of making another.
    use crate::payment_failures::refuse_sending;
    let app = spawn_app().await;
    let (seller, buyer, id) = sale(&app).await;
    let (alice, payments) = (
        app.balance("alice").await,
        app.sandbox_outgoing_payments().await,
    );
    let started = start_refund(&app, &seller, &id).await;
    refuse_sending(&app, "refunds", true).await;
    answer(&app, &started, "approve").await;
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM refunds WHERE status = 'approved' AND lease_owner IS NOT NULL",
            1,
        )
        .await,
        "the worker never took the refund over"
    );
    assert_eq!(app.sandbox_outgoing_payments().await, payments + 1);
    refuse_sending(&app, "refunds", false).await;
    app.clock
        .advance(shifting_api::payments::refunds::RESUME_LEASE + std::time::Duration::from_secs(1));
    app.wait_for_status(&buyer.account.access_token, &id, "refunded")
        .await;
    assert_eq!(app.sandbox_outgoing_payments().await, payments + 1);
    assert_eq!(app.balance("alice").await, alice - 2500);
}

#[tokio::test]
async fn a_declined_refund_moves_nothing_and_can_be_tried_again() {
    let app = spawn_app().await;
    let (seller, buyer, id) = sale(&app).await;
    let (alice, bruno) = (app.balance("alice").await, app.balance("bruno").await);
    let started = start_refund(&app, &seller, &id).await;
    assert_eq!(
        answer(&app, &started, "decline").await,
        format!("/transactions/{id}?refund=declined")
    );
    let back = app
        .wait_for_status(&seller.account.access_token, &id, "completed")
        .await;
    assert_eq!(back["refund"]["status"], "declined");
    assert_eq!(back["refund"]["failure"]["code"], "declined");
    assert_eq!(app.balance("alice").await, alice);
    assert_eq!(app.balance("bruno").await, bruno);
    // The sale is still the buyer's, and keeps its receipt number.
    assert!(back["receipt_number"].is_string());
    let started = start_refund(&app, &seller, &id).await;
    answer(&app, &started, "approve").await;
    app.wait_for_status(&buyer.account.access_token, &id, "refunded")
        .await;
    assert_eq!(app.balance("alice").await, alice - 2500);
}

#[tokio::test]
async fn a_refund_finish_replayed_twenty_times_moves_money_once() {
    let app = spawn_app().await;
    let (seller, buyer, id) = sale(&app).await;
    let alice = app.balance("alice").await;
    let outgoing = app.sandbox_outgoing_payments().await;
    let started = start_refund(&app, &seller, &id).await;
    let consent = started["refund"]["consent_url"].as_str().expect("consent");
    let finish = app.consent(consent, "approve").await;
    let replays = futures::future::join_all((0..20).map(|_| app.client.get(&finish).send())).await;
    let mut approved = 0;
    for replay in replays {
        let replay = replay.expect("finish");
        assert_eq!(replay.status(), StatusCode::SEE_OTHER);
        let location = replay.headers()["location"].to_str().expect("location");
        if location.ends_with("refund=approved") {
            approved += 1;
        } else {
            assert!(location.ends_with("refund=unchanged"), "{location}");
        }
    }
    assert_eq!(approved, 1);
    app.wait_for_status(&buyer.account.access_token, &id, "refunded")
        .await;
    for _ in 0..20 {
        app.client.get(&finish).send().await.expect("late replay");
    }
    assert_eq!(app.sandbox_outgoing_payments().await, outgoing + 1);
    assert_eq!(app.balance("alice").await, alice - 2500);
}

#[tokio::test]
async fn only_the_seller_refunds_once_at_a_time_and_the_buyer_can_ask() {
    let app = spawn_app().await;
    let (seller, buyer, id) = sale(&app).await;
    let buyer_token = &buyer.account.access_token;
    // The buyer asks, with a reason the seller sees.
    let asked = app
        .send_json(
            Method::POST,
            &format!("/api/transactions/{id}/refund-request"),
            buyer_token,
            &json!({"reason": "I could not attend."}),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let seen = app.transaction(&seller.account.access_token, &id).await;
    assert_eq!(seen["refund_request"]["reason"], "I could not attend.");
    // The buyer cannot refund; a stranger learns nothing; a reason is required.
    let own = refund(&app, buyer_token, &id, "Please").await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    let stranger = app.trader("stranger", "carmen").await;
    let nobody = refund(&app, &stranger.account.access_token, &id, "Mine").await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
    let empty = refund(&app, &seller.account.access_token, &id, "   ").await;
    let error = error_of(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(error["fields"]["reason"].is_string(), "{error}");
    let long = refund(&app, &seller.account.access_token, &id, &"x".repeat(501)).await;
    assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Two refunds at once: one starts, the other is told one is under way.
    let (a, b) = tokio::join!(
        refund(&app, &seller.account.access_token, &id, "First"),
        refund(&app, &seller.account.access_token, &id, "Second"),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM refunds").await, 1);

    // A purchase that is not completed cannot be refunded.
    let code = app.room(&seller, "5.00").await;
    let waiting = app.checkout(&buyer, &code).await;
    let waiting_id = waiting["transaction"]["id"].as_str().expect("id");
    let early = refund(&app, &seller.account.access_token, waiting_id, "Early").await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
}
