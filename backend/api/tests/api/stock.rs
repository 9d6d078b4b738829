//! A room's optional stock: how many are left, that the last one is sold once however many
//! buyers race for it, and that a payment ending without money gives its unit back.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Trader, error_of, spawn_app, spawn_app_with};
use crate::payments::id_of;

async fn stocked_room(app: &TestApp, seller: &Trader, limit: u32) -> String {
    let response = app
        .create_room(
            &seller.account.access_token,
            &json!({"name": "Signed print", "price": "25.00", "stock_limit": limit}),
        )
        .await;
    let status = response.status();
    let room: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{room}");
    assert_eq!(room["stock_limit"], limit);
    assert_eq!(room["stock_left"], limit);
    room["code"].as_str().expect("a code").to_owned()
}

#[tokio::test]
async fn the_last_units_go_to_exactly_as_many_buyers_as_there_are() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let code = stocked_room(&app, &seller, 2).await;
    let mut buyers = Vec::new();
    for n in 0..6 {
        buyers.push(app.trader(&format!("buyer{n}"), "bruno").await);
    }
    let empty = json!({});
    let answers = join_all(
        buyers
            .iter()
            .map(|buyer| app.start_payment(&buyer.account.access_token, &code, &empty)),
    )
    .await;
    let mut started = Vec::new();
    let mut sold_out = 0;
    for response in answers {
        match response.status() {
            StatusCode::CREATED => started.push(response.json::<Value>().await.unwrap()),
            StatusCode::CONFLICT => {
                let error = error_of(response, StatusCode::CONFLICT).await;
                assert_eq!(error["field_codes"]["stock"], "sold_out", "{error}");
                sold_out += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((started.len(), sold_out), (2, 4));
    assert_eq!(app.public_room(&code).await["stock_left"], 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM transactions t JOIN rooms r ON r.id = t.room_id WHERE r.code = '{code}'"
        ))
        .await,
        2
    );

    // A declined payment gives its unit back; a completed one keeps it.
    let declined = &started[0];
    let finish = app
        .consent(declined["redirect_url"].as_str().unwrap(), "decline")
        .await;
    app.finish(&finish).await;
    app.wait_for_status(&seller.account.access_token, &id_of(declined), "rejected")
        .await;
    assert_eq!(app.public_room(&code).await["stock_left"], 1);
    let approved = &started[1];
    let finish = app
        .consent(approved["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    app.wait_for_status(&seller.account.access_token, &id_of(approved), "completed")
        .await;
    assert_eq!(app.public_room(&code).await["stock_left"], 1);

    // The unit that came back can be bought once more, and then none is left.
    let last = app.buy(&buyers[5], &code).await;
    app.wait_for_status(&seller.account.access_token, &last, "completed")
        .await;
    assert_eq!(app.public_room(&code).await["stock_left"], 0);
    let error = error_of(
        app.start_payment(&buyers[4].account.access_token, &code, &json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["field_codes"]["stock"], "sold_out");

    // A restock is the seller's to give.
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/rooms/{code}"),
            &seller.account.access_token,
            &json!({"stock_limit": 3}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["stock_limit"].clone(), body["stock_left"].clone()),
        (json!(3), json!(1))
    );
    app.checkout(&buyers[4], &code).await;
}

#[tokio::test]
async fn an_expired_payment_gives_its_unit_back() {
    let app = spawn_app_with(|s| s.sandbox.sandbox_quote_lifetime_secs = 60).await;
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("buyer", "bruno").await;
    let code = stocked_room(&app, &seller, 1).await;
    let started = app.checkout(&buyer, &code).await;
    assert_eq!(app.public_room(&code).await["stock_left"], 0);
    // The quote runs out before the buyer approves: the worker expires the payment.
    app.clock.advance(std::time::Duration::from_secs(61));
    app.wait_for_status(&buyer.account.access_token, &id_of(&started), "expired")
        .await;
    assert_eq!(app.public_room(&code).await["stock_left"], 1);
}

#[tokio::test]
async fn stock_limits_are_checked_and_can_be_lifted() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let token = &seller.account.access_token;
    for limit in [json!(0), json!(1_000_001)] {
        let error = error_of(
            app.create_room(
                token,
                &json!({"name": "Print", "price": "5", "stock_limit": limit}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            error["field_codes"]["stock_limit"], "stock_limit_range",
            "{error}"
        );
    }
    error_of(
        app.create_room(
            token,
            &json!({"name": "Print", "price": "5", "stock_limit": -1}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let unlimited: Value = app
        .create_room(token, &json!({"name": "Print", "price": "5"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unlimited["stock_limit"], Value::Null);
    assert_eq!(unlimited["stock_left"], Value::Null);

    let code = stocked_room(&app, &seller, 5).await;
    let path = format!("/api/rooms/{code}");
    let error = error_of(
        app.send_json(Method::PATCH, &path, token, &json!({"stock_limit": 0}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field_codes"]["stock_limit"], "stock_limit_range");
    // A description change leaves the limit alone; `null` lifts it.
    let kept: Value = app
        .send_json(
            Method::PATCH,
            &path,
            token,
            &json!({"description": "Numbered"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["stock_limit"], 5);
    let lifted: Value = app
        .send_json(Method::PATCH, &path, token, &json!({"stock_limit": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lifted["stock_limit"], Value::Null);
    assert_eq!(lifted["stock_left"], Value::Null);
}
