//! Approvals a crash left halfway: the finish callback claimed the transaction (`approved`) and
//! the process died before the outgoing payment was recorded. The rows are put into exactly
//! the state such a crash leaves, and the verification worker must finish the job without
//! paying twice.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use shifting_api::entities::transactions;
use uuid::Uuid;

use crate::helpers::{TestApp, Trader, spawn_app_with};

async fn market(app: &TestApp) -> (Trader, String) {
    app.trader("seller", "alice").await;
    let seller = app.trader("seller2", "carmen").await;
    let buyer = app.trader("buyer", "bruno").await;
    let code = app.room(&seller, "100.00").await;
    (buyer, code)
}

fn query(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .expect("the parameter")
}

/// Puts a transaction into the state a crash right after the finish's claim leaves.
async fn as_if_claimed_then_crashed(app: &TestApp, id: &str, interact_ref: &str) {
    let id: Uuid = id.parse().expect("uuid");
    let moved = transactions::Entity::update_many()
        .col_expr(transactions::Column::Status, Expr::value("approved"))
        .col_expr(transactions::Column::InteractRef, Expr::value(interact_ref))
        .col_expr(transactions::Column::ApprovedAt, Expr::value(Utc::now()))
        .col_expr(
            transactions::Column::LeaseUntil,
            Expr::value(Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(transactions::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .expect("update");
    assert_eq!(moved.rows_affected, 1);
}

fn history(transaction: &Value) -> Vec<String> {
    transaction["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["status"].as_str().expect("status").to_owned())
        .collect()
}

#[tokio::test]
async fn an_approval_interrupted_before_the_continuation_is_finished_by_the_worker() {
    let app = spawn_app_with(|_| {}).await;
    let (buyer, code) = market(&app).await;
    let carmen = app.balance("carmen").await;
    let started = app.checkout(&buyer, &code).await;
    let id = started["transaction"]["id"].as_str().unwrap().to_owned();
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    // The redirect reached the finish, was claimed, and the process died.
    as_if_claimed_then_crashed(&app, &id, &query(&finish, "interact_ref")).await;

    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert_eq!(app.sandbox_outgoing_payments().await, 1);
    assert_eq!(app.balance("carmen").await, carmen + 10_000);
    assert_eq!(history(&done)[1..], ["sending", "completed"]);
}

#[tokio::test]
async fn a_payment_created_just_before_a_crash_is_found_and_not_paid_again() {
    // No worker at first, so the payment stays `sending` and can be put back.
    let app = spawn_app_with(|s| s.payments.payment_worker = false).await;
    let (buyer, code) = market(&app).await;
    let bruno = app.balance("bruno").await;
    let started = app.checkout(&buyer, &code).await;
    let id = started["transaction"]["id"].as_str().unwrap().to_owned();
    let debit: i64 = started["quote"]["debit_amount"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    let sent = app
        .wait_for_status(&buyer.account.access_token, &id, "sending")
        .await;
    let payment = sent["evidence"]["outgoing_payment"]
        .as_str()
        .unwrap()
        .to_owned();

    // As if the process died after creating the payment and before recording it.
    let uuid: Uuid = id.parse().unwrap();
    transactions::Entity::update_many()
        .col_expr(transactions::Column::Status, Expr::value("approved"))
        .col_expr(
            transactions::Column::OutgoingPaymentUrl,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            transactions::Column::LeaseUntil,
            Expr::value(Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(transactions::Column::Id.eq(uuid))
        .exec(&app.db)
        .await
        .unwrap();

    let app = app.restart(|_| {}).await;
    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert_eq!(done["evidence"]["outgoing_payment"], payment.as_str());
    assert_eq!(app.sandbox_outgoing_payments().await, 1);
    assert_eq!(app.balance("bruno").await, bruno - debit);
}

#[tokio::test]
async fn an_approval_the_wallet_will_not_continue_ends_as_failed_with_nothing_sent() {
    let app = spawn_app_with(|_| {}).await;
    let (buyer, code) = market(&app).await;
    let bruno = app.balance("bruno").await;
    let started = app.checkout(&buyer, &code).await;
    let id = started["transaction"]["id"].as_str().unwrap().to_owned();
    // A claim whose continuation the wallet refuses (here: an interact_ref it never issued).
    as_if_claimed_then_crashed(&app, &id, "not-an-interaction").await;

    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "failed")
        .await;
    assert_eq!(done["failure"]["code"], "provider_error");
    assert_eq!(app.sandbox_outgoing_payments().await, 0);
    assert_eq!(app.balance("bruno").await, bruno);
}
