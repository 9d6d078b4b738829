//! Cursor pagination of the lists that used to come whole or by offset: the seller's rooms and
//! the transactions. Pages are stable under inserts: rows made between two pages neither shift
//! nor repeat them.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, error_of, spawn_app};
use crate::payments::{id_of, market};

async fn page(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get_authed(path, token).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("json")
}

/// Walks a list `limit` at a time, calling `between` after each page; the ids seen in order.
async fn walk(
    app: &TestApp,
    token: &str,
    path: &str,
    items: &str,
    id: &str,
    mut between: impl AsyncFnMut(),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let body = page(app, token, &url).await;
        for item in body[items].as_array().expect("items") {
            seen.push(
                item.pointer(id)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("no {id} in {item}"))
                    .to_owned(),
            );
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
        between().await;
    }
    panic!("more than 20 pages");
}

#[tokio::test]
async fn rooms_and_transactions_page_by_cursor_and_new_rows_do_not_shift_pages() {
    let app = spawn_app().await;
    let (seller, buyer, first) = market(&app).await;
    let token = seller.account.access_token.clone();
    let mut codes = vec![first];
    for _ in 0..4 {
        codes.push(app.room(&seller, "3.00").await);
    }
    // Newest first, two at a time, a new room opened after every page: the walk sees exactly
    // the five rooms there were when it began.
    let walked = walk(
        &app,
        &token,
        "/api/rooms?limit=2",
        "rooms",
        "/code",
        async || {
            app.room(&seller, "4.00").await;
        },
    )
    .await;
    let expected: Vec<String> = codes.iter().rev().cloned().collect();
    assert_eq!(walked, expected);
    let all = page(&app, &token, "/api/rooms?limit=50").await;
    // Two rooms opened between the three pages.
    assert_eq!(all["rooms"].as_array().expect("rooms").len(), 7);
    assert!(all["next_cursor"].is_null());

    // Transactions: five payment starts, walked two at a time while more start.
    let buyer_token = buyer.account.access_token.clone();
    let mut ids = Vec::new();
    for code in &codes {
        ids.push(id_of(&app.checkout(&buyer, code).await));
    }
    let walked = walk(
        &app,
        &buyer_token,
        "/api/transactions?limit=2",
        "transactions",
        "/id",
        async || {
            app.checkout(&buyer, &codes[0]).await;
        },
    )
    .await;
    let expected: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(walked, expected);
    let unique: BTreeSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len());
    // The offset pages still work, and give a cursor for what follows them.
    let by_offset = page(&app, &buyer_token, "/api/transactions?limit=3&offset=2").await;
    assert_eq!(by_offset["offset"], 2);
    assert!(by_offset["next_cursor"].is_string());

    // A cursor from elsewhere, or one with an offset, is refused.
    for bad in [
        "/api/transactions?cursor=bm9wZQ",
        "/api/transactions?cursor=bm9wZQ&offset=1",
        "/api/rooms?cursor=bm9wZQ",
        "/api/rooms?limit=51",
    ] {
        let response = app.get_authed(bad, &buyer_token).await;
        error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let cursor = by_offset["next_cursor"].as_str().expect("cursor");
    let response = app
        .get_authed(
            &format!("/api/transactions?cursor={cursor}&offset=1"),
            &buyer_token,
        )
        .await;
    let body = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field_codes"]["offset"], "invalid");
}

#[tokio::test]
async fn budgets_page_by_cursor() {
    let app = spawn_app().await;
    let (_, buyer, _) = market(&app).await;
    let token = buyer.account.access_token.clone();
    let mut ids = Vec::new();
    for periods in 1..=3 {
        let response = app
            .send_json(
                reqwest::Method::POST,
                "/api/me/budgets",
                &token,
                &serde_json::json!({"amount": "5.00", "period": "week", "periods": periods}),
            )
            .await;
        let status = response.status();
        let budget: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{budget}");
        ids.push(budget["id"].as_str().expect("id").to_owned());
    }
    let walked = walk(
        &app,
        &token,
        "/api/me/budgets?limit=2",
        "budgets",
        "/id",
        async || {},
    )
    .await;
    let expected: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(walked, expected);
    let response = app
        .get_authed("/api/me/budgets?cursor=bm9wZQ", &token)
        .await;
    error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}
