//! The seller's and the buyer's ledgers: sales apart from attempts, filters, totals per
//! currency over today, 30 days and all time, and the CSV export.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Trader, error_of, spawn_app};
use crate::payments::id_of;

async fn page(app: &TestApp, who: &Trader, query: &str) -> Value {
    let response = app
        .get_authed(
            &format!("/api/transactions?{query}"),
            &who.account.access_token,
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn ids(page: &Value) -> Vec<String> {
    page["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn summary(app: &TestApp, who: &Trader, query: &str) -> Value {
    let response = app
        .get_authed(
            &format!("/api/transactions/summary?{query}"),
            &who.account.access_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// A completed sale of `code` to `buyer`; returns its id.
async fn sale(app: &TestApp, buyer: &Trader, code: &str) -> String {
    let id = app.buy(buyer, code).await;
    let done = app
        .wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert!(done["completed_at"].is_string(), "{done}");
    id
}

#[tokio::test]
async fn sales_are_apart_from_attempts_and_filter_by_room_status_and_time() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("buyer", "bruno").await;
    let guitar = app.room(&seller, "25.00").await;
    let piano = app.room(&seller, "40.00").await;

    let sold_guitar = sale(&app, &buyer, &guitar).await;
    let sold_piano = sale(&app, &buyer, &piano).await;
    let waiting = id_of(&app.checkout(&buyer, &guitar).await);
    let declined = {
        let started = app.checkout(&buyer, &guitar).await;
        let finish = app
            .consent(started["redirect_url"].as_str().unwrap(), "decline")
            .await;
        app.finish(&finish).await;
        let id = id_of(&started);
        app.wait_for_status(&buyer.account.access_token, &id, "rejected")
            .await;
        id
    };

    let sales = page(&app, &seller, "role=seller&kind=sales").await;
    assert_eq!(sales["total"], 2);
    // Receipts are numbered per seller in the order the sales completed; attempts get none.
    let numbers: Vec<&str> = sales["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["receipt_number"].as_str().unwrap())
        .collect();
    let mark = &numbers[0][..8];
    assert!(
        mark.starts_with("SHF-") && mark.ends_with('-'),
        "{numbers:?}"
    );
    assert_eq!(numbers, [format!("{mark}00002"), format!("{mark}00001")]);
    assert_eq!(ids(&sales), [sold_piano.clone(), sold_guitar.clone()]);
    let attempts = page(&app, &seller, "role=seller&kind=attempts").await;
    assert_eq!(ids(&attempts), [declined.clone(), waiting.clone()]);
    let guitar_sales = page(
        &app,
        &seller,
        &format!("role=seller&kind=sales&room={guitar}"),
    )
    .await;
    assert_eq!(ids(&guitar_sales), [sold_guitar.as_str()]);
    // Codes are read as people type them.
    let lower = guitar.to_lowercase();
    let rejected = page(&app, &seller, &format!("room={lower}&status=rejected")).await;
    assert_eq!(ids(&rejected), [declined.as_str()]);

    // Sales are dated by completion: the guitar's sale moved to 40 days ago.
    app.shift_back(
        "transactions",
        "completed_at",
        40 * 86_400,
        &format!("room_id IN (SELECT id FROM rooms WHERE code = '{guitar}')"),
    )
    .await;
    let since = (chrono::Utc::now() - chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = page(&app, &seller, &format!("kind=sales&since={since}")).await;
    assert_eq!(ids(&recent), [sold_piano.as_str()]);
    let older = page(&app, &seller, &format!("kind=sales&until={since}")).await;
    assert_eq!(ids(&older), [sold_guitar.as_str()]);

    // The buyer's purchases carry what their wallet paid, in euros.
    let purchases = page(&app, &buyer, "role=buyer&kind=sales").await;
    for purchase in purchases["transactions"].as_array().unwrap() {
        assert_eq!(purchase["quote"]["debit_amount"]["asset_code"], "EUR");
        assert_eq!(purchase["amount"]["asset_code"], "USD");
    }

    // Another seller's sales are numbered from 1.
    let other_seller = app.trader("other-seller", "carmen").await;
    let elsewhere = app.room(&other_seller, "100.00").await;
    let theirs = sale(&app, &buyer, &elsewhere).await;
    let theirs = app.transaction(&buyer.account.access_token, &theirs).await;
    let number = theirs["receipt_number"].as_str().unwrap();
    assert!(
        number.ends_with("-00001") && !number.starts_with(mark),
        "{number}"
    );

    let token = &seller.account.access_token;
    for (query, field) in [
        ("room=K0O1IL", "room"),
        (
            "since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
            "until",
        ),
    ] {
        let error = error_of(
            app.get_authed(&format!("/api/transactions?{query}"), token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(error["fields"][field].is_string(), "{query}: {error}");
    }
    for query in ["kind=refunds", "status=done", "since=yesterday"] {
        error_of(
            app.get_authed(&format!("/api/transactions?{query}"), token)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
}

#[tokio::test]
async fn totals_count_completed_sales_per_currency_over_today_30_days_and_all_time() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("buyer", "bruno").await;
    let other = app.trader("other", "carmen").await;
    let code = app.room(&seller, "25.00").await;

    let empty = summary(&app, &seller, "").await;
    assert_eq!(empty, json!({"currencies": []}));

    // Each sale completes now and is then moved back with the ones before it.
    sale(&app, &buyer, &code).await;
    app.shift_back("transactions", "completed_at", 358 * 86_400, "1 = 1")
        .await;
    sale(&app, &other, &code).await;
    app.shift_back("transactions", "completed_at", 7 * 86_400, "1 = 1")
        .await;
    sale(&app, &buyer, &code).await;
    // Attempts never count.
    app.checkout(&buyer, &code).await;

    let totals = summary(&app, &seller, "role=seller").await;
    let usd = |count: u64, value: &str| json!({"count": count, "amount": {"value": value, "asset_code": "USD", "asset_scale": 2}});
    assert_eq!(
        totals,
        json!({"currencies": [{
            "today": usd(1, "2500"),
            "last_30_days": usd(2, "5000"),
            "all_time": usd(3, "7500"),
        }]})
    );
    // The default role is the seller's.
    assert_eq!(summary(&app, &seller, "").await, totals);

    // The buyer's totals are in what their wallet paid: EUR, and nothing of carmen's MXN.
    let bought = summary(&app, &buyer, "role=buyer").await;
    let currencies = bought["currencies"].as_array().unwrap();
    assert_eq!(currencies.len(), 1, "{bought}");
    assert_eq!(currencies[0]["all_time"]["count"], 2);
    assert_eq!(currencies[0]["all_time"]["amount"]["asset_code"], "EUR");
    assert_eq!(currencies[0]["last_30_days"]["count"], 1);

    let token = &seller.account.access_token;
    for query in ["utc_offset=841", "utc_offset=-900"] {
        let error = error_of(
            app.get_authed(&format!("/api/transactions/summary?{query}"), token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(error["fields"]["utc_offset"].is_string());
    }
    for query in ["utc_offset=840", "utc_offset=-840"] {
        let response = app
            .get_authed(&format!("/api/transactions/summary?{query}"), token)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    error_of(
        app.get_authed("/api/transactions/summary?utc_offset=east", token)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    error_of(
        app.client
            .get(app.url("/api/transactions/summary"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn the_sales_export_is_a_csv_a_spreadsheet_cannot_run() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("buyer", "bruno").await;
    let response = app
        .create_room(
            &seller.account.access_token,
            &json!({"name": "=HYPERLINK(\"https://evil.example\"), \"quoted\"", "price": "12.50"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let room: Value = response.json().await.unwrap();
    let code = room["code"].as_str().unwrap();
    let sold = sale(&app, &buyer, code).await;
    app.checkout(&buyer, code).await;

    let response = app
        .get_authed(
            "/api/transactions/export.csv?role=seller&kind=sales",
            &seller.account.access_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"shifting-sales-"),
        "{disposition}"
    );
    let body = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "only the sale, not the attempt:\n{body}");
    let cell = |name: &str| {
        let at = header.iter().position(|h| h == name).expect(name);
        rows[0][at].to_owned()
    };
    assert_eq!(cell("transaction_id"), sold);
    assert!(cell("receipt_number").ends_with("-00001"), "{body}");
    assert_eq!(cell("status"), "completed");
    assert_eq!(
        cell("room_name"),
        "'=HYPERLINK(\"https://evil.example\"), \"quoted\""
    );
    assert_eq!(cell("price"), "12.50");
    assert_eq!(cell("price_currency"), "USD");
    assert_eq!(cell("buyer_currency"), "EUR");
    assert_eq!(cell("seller_received"), "12.50");
    assert_eq!(cell("buyer"), "buyer");
    assert!(cell("completed_at").ends_with('Z'));
    assert!(cell("incoming_payment").starts_with("http"));

    // The buyer exports their own side only: the seller's other rooms never show.
    let response = app
        .get_authed(
            "/api/transactions/export.csv?role=buyer",
            &buyer.account.access_token,
        )
        .await;
    let body = response.text().await.unwrap();
    assert_eq!(body.lines().count(), 3, "a header and two rows:\n{body}");
    let response = app
        .get_authed(
            "/api/transactions/export.csv?role=buyer",
            &seller.account.access_token,
        )
        .await;
    assert_eq!(response.text().await.unwrap().lines().count(), 1);
}
