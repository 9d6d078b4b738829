//! The profile wallet and rooms: resolving wallets, pricing in the wallet's currency, codes,
//! the public view, and the owner's changes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn setting_a_wallet_resolves_it_and_stores_its_canonical_id_and_asset() {
    let app = spawn_app().await;
    let user = app.create_account("alice").await;

    // A trailing slash and upper-case host are normalised before resolving.
    let typed = app
        .sandbox_wallet("alice")
        .replacen("http://", "HTTP://", 1)
        + "/";
    let response = app.set_wallet(&user.access_token, &typed).await;
    assert_eq!(response.status(), StatusCode::OK);
    let profile: Value = response.json().await.unwrap();
    assert_eq!(profile["wallet_address"], app.sandbox_wallet("alice"));
    assert_eq!(profile["wallet"]["asset_code"], "USD");
    assert_eq!(profile["wallet"]["asset_scale"], 2);
    assert_eq!(profile["wallet"]["public_name"], "Alice Anderson");

    let me: Value = app.me(&user.access_token).await.json().await.unwrap();
    assert_eq!(me["wallet"], profile["wallet"]);
}

#[tokio::test]
async fn a_wallet_that_cannot_be_resolved_is_a_422_saying_why() {
    let app = spawn_app().await;
    let user = app.create_account("alice").await;
    for (input, why) in [
        ("", "is required"),
        ("ftp://wallet.example/alice", "payment pointer"),
        (&*app.sandbox_wallet("nobody"), "does not exist"),
        ("http://127.0.0.2/alice", "not allowed"),
        ("https://wallet.invalid/alice", "could not be reached"),
    ] {
        let response = app.set_wallet(&user.access_token, input).await;
        let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        let message = error["fields"]["wallet_address"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(why), "{input:?}: {message}");
    }
    let me: Value = app.me(&user.access_token).await.json().await.unwrap();
    assert!(me["wallet_address"].is_null());
}

#[tokio::test]
async fn a_room_is_priced_exactly_in_the_sellers_currency() {
    let app = spawn_app().await;
    let seller = app.trader("kenji", "kenji").await;
    let token = &seller.account.access_token;

    // JPY has no decimals.
    let too_precise = app
        .create_room(token, &json!({"name": "Tea ceremony", "price": "1500.5"}))
        .await;
    let error = error_of(too_precise, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["fields"]["price"], "has more than 0 decimal places");
    assert_eq!(error["field_codes"]["price"], "amount_too_precise");

    let response = app
        .create_room(
            token,
            &json!({"name": "  Tea ceremony ", "description": "Kyoto style", "price": "1500"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let room: Value = response.json().await.unwrap();
    assert_eq!(room["name"], "Tea ceremony");
    assert_eq!(
        room["price"],
        json!({"value": "1500", "asset_code": "JPY", "asset_scale": 0})
    );
    assert_eq!(room["price_display"], "1500 JPY");
    assert_eq!(room["status"], "open");
    assert_eq!(room["seller"]["username"], "kenji");
    assert_eq!(room["wallet_address"], app.sandbox_wallet("kenji"));
    let code = room["code"].as_str().unwrap();
    assert_eq!(room["share_url"], app.url(&format!("/r/{code}")));

    // The public view needs no log-in and accepts the code in any case.
    let public: Value = app
        .client
        .get(app.url(&format!("/api/rooms/{}", code.to_lowercase())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public, room);
}

#[tokio::test]
async fn room_requests_are_validated_field_by_field() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let token = &seller.account.access_token;
    let response = app
        .create_room(
            token,
            &json!({"name": "x".repeat(81), "description": "d".repeat(2001), "price": "-3"}),
        )
        .await;
    let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = error["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["description", "name", "price"]);
    // A negative price is called what it is.
    assert_eq!(error["field_codes"]["price"], "amount_zero");
    assert_eq!(error["fields"]["price"], "must be greater than zero");

    for body in [
        json!({"name": "Lesson", "price": "10", "asset_code": "EUR"}),
        json!({"name": "Lesson", "price": 10}),
        json!({"name": "Lesson"}),
    ] {
        let response = app.create_room(token, &body).await;
        error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let rooms: Value = app
        .get_authed("/api/rooms", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rooms["rooms"], json!([]), "nothing was created");
}

#[tokio::test]
async fn a_seller_without_a_wallet_cannot_create_a_room() {
    let app = spawn_app().await;
    let user = app.create_account("nowallet").await;
    let response = app
        .create_room(
            &user.access_token,
            &json!({"name": "Lesson", "price": "10"}),
        )
        .await;
    let error = error_of(response, StatusCode::CONFLICT).await;
    assert_eq!(error["fields"]["wallet_address"], "is required");
    let anonymous = app
        .client
        .post(app.url("/api/rooms"))
        .json(&json!({"name": "Lesson", "price": "10"}))
        .send()
        .await
        .unwrap();
    error_of(anonymous, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn unknown_and_malformed_codes_are_not_found() {
    let app = spawn_app().await;
    for code in ["ZZZZZZ", "abc", "0OOOOO", "%20"] {
        let response = app
            .client
            .get(app.url(&format!("/api/rooms/{code}")))
            .send()
            .await
            .unwrap();
        error_of(response, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn only_the_seller_changes_a_room_and_never_its_price() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let other = app.trader("bruno", "bruno").await;
    let code = app.room(&seller, "25.00").await;
    let path = format!("/api/rooms/{code}");

    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &other.account.access_token,
            &json!({"status": "closed"}),
        )
        .await;
    error_of(response, StatusCode::FORBIDDEN).await;

    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &seller.account.access_token,
            &json!({"price": "1.00"}),
        )
        .await;
    let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["fields"]["price"], "is not a known field");

    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &seller.account.access_token,
            &json!({"status": "paused", "description": "Back next week"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let room: Value = response.json().await.unwrap();
    assert_eq!(room["status"], "paused");
    assert_eq!(room["description"], "Back next week");
    assert_eq!(room["price"]["value"], "2500");

    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &seller.account.access_token,
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &seller.account.access_token,
            &json!({"status": "open"}),
        )
        .await;
    error_of(response, StatusCode::CONFLICT).await;
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &seller.account.access_token,
            &json!({"status": "sold"}),
        )
        .await;
    error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn my_rooms_are_listed_newest_first() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let first = app.room(&seller, "1.00").await;
    let second = app.room(&seller, "2.00").await;
    let other = app.trader("bruno", "bruno").await;
    app.room(&other, "3.00").await;

    let rooms: Value = app
        .get_authed("/api/rooms", &seller.account.access_token)
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [second.as_str(), first.as_str()]);
    assert_eq!(rooms["rooms"][0]["sales"], 0);
}

#[tokio::test]
async fn the_public_view_is_served_from_memory_and_forgotten_when_the_seller_changes_it() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app_with(|s| s.server.room_view_cache_ms = 60_000).await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let path = format!("/api/rooms/{code}");
    let view = |app: &crate::helpers::TestApp| {
        let url = app.url(&path);
        let client = app.client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                response.headers()["content-type"],
                "application/json",
                "the cached body keeps its content type"
            );
            response.json::<Value>().await.unwrap()
        }
    };
    let first = view(&app).await;
    assert_eq!(first["status"], "open");

    // Another replica's change (straight in the database) is not seen until the copy expires…
    app.db
        .execute_unprepared(&format!(
            "UPDATE rooms SET description = 'Changed elsewhere' WHERE code = '{code}'"
        ))
        .await
        .unwrap();
    assert_eq!(view(&app).await, first);

    // …but this replica's own change is seen at once, with the other one too.
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &seller.account.access_token,
            &json!({"status": "paused"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let after = view(&app).await;
    assert_eq!(after["status"], "paused");
    assert_eq!(after["description"], "Changed elsewhere");
}

#[tokio::test]
async fn a_seller_moves_a_room_to_a_new_wallet_at_a_price_they_choose() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("buyer", "bruno").await;
    let token = &seller.account.access_token;
    let code = app.room(&seller, "25.00").await;
    let path = format!("/api/rooms/{code}");
    let public = app.public_room(&code).await;
    assert_eq!(public["wallet_name"], "Alice Anderson");
    // A payment started before the move finishes as it started: to alice, in dollars.
    let started = app.checkout(&buyer, &code).await;

    let moving = format!("{path}/wallet");
    let error = error_of(
        app.send_json(Method::POST, &moving, token, &json!({"price": "3750"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        error["message"].as_str().unwrap().contains("already pays"),
        "{error}"
    );
    let response = app.set_wallet(token, &app.sandbox_wallet("kenji")).await;
    assert_eq!(response.status(), StatusCode::OK);
    // The room still pays into alice until its seller moves it.
    let rooms: Value = app
        .get_authed("/api/rooms", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rooms["rooms"][0]["wallet_address"],
        app.sandbox_wallet("alice")
    );

    // Yen have no decimals: the seller's price is checked in the new currency, not converted.
    let error = error_of(
        app.send_json(Method::POST, &moving, token, &json!({"price": "25.00"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field_codes"]["price"], "amount_too_precise");
    let stranger = app.trader("stranger", "carmen").await;
    error_of(
        app.send_json(
            Method::POST,
            &moving,
            &stranger.account.access_token,
            &json!({"price": "3750"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let response = app
        .send_json(Method::POST, &moving, token, &json!({"price": "3750"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let moved: Value = response.json().await.unwrap();
    assert_eq!(moved["wallet_address"], app.sandbox_wallet("kenji"));
    assert_eq!(moved["wallet_name"], "Kenji Kato");
    assert_eq!(
        moved["price"],
        json!({"value": "3750", "asset_code": "JPY", "asset_scale": 0})
    );
    // The public view shows the move at once on this replica.
    let public = app.public_room(&code).await;
    assert_eq!(public["wallet_name"], "Kenji Kato");

    let (alice, kenji) = (app.balance("alice").await, app.balance("kenji").await);
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    let old = started["transaction"]["id"].as_str().unwrap();
    app.wait_for_status(token, old, "completed").await;
    assert_eq!(app.balance("alice").await, alice + 2500);
    let new = app.buy(&buyer, &code).await;
    let done = app.wait_for_status(token, &new, "completed").await;
    assert_eq!(done["amount"]["asset_code"], "JPY");
    assert_eq!(app.balance("kenji").await, kenji + 3750);

    let response = app
        .send_json(Method::PATCH, &path, token, &json!({"status": "closed"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.set_wallet(token, &app.sandbox_wallet("alice")).await;
    error_of(
        app.send_json(Method::POST, &moving, token, &json!({"price": "25.00"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn a_shared_room_link_carries_its_preview_in_the_html() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!DOCTYPE html><html><head><title>Shifting</title></head><body></body></html>",
    )
    .unwrap();
    let dir = web.path().to_owned();
    let app = spawn_app_with(move |s| s.server.web_dir = dir).await;
    let seller = app.trader("seller", "alice").await;
    let response = app
        .create_room(
            &seller.account.access_token,
            &json!({
                "name": "Guitar \"lesson\" <script>alert(1)</script>",
                "description": format!("One hour.\nBeginners & {}", "very ".repeat(60)),
                "price": "25.00",
            }),
        )
        .await;
    let room: Value = response.json().await.unwrap();
    let code = room["code"].as_str().unwrap();

    let response = app
        .client
        .get(app.url(&format!("/r/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(response.headers().contains_key("content-security-policy"));
    let html = response.text().await.unwrap();
    let head = &html[..html.find("</head>").expect("a head")];
    let title = "Guitar &quot;lesson&quot; &lt;script&gt;alert(1)&lt;/script&gt; · 25.00 USD";
    for tag in [
        format!(r#"<meta property="og:title" content="{title}">"#),
        format!(r#"<meta name="twitter:title" content="{title}">"#),
        format!(
            r#"<meta property="og:url" content="{}">"#,
            app.url(&format!("/r/{code}"))
        ),
        r#"<meta name="twitter:card" content="summary">"#.to_owned(),
        "<title>Guitar &quot;lesson&quot; &lt;script&gt;alert(1)&lt;/script&gt; · Shifting</title>"
            .to_owned(),
    ] {
        assert!(head.contains(&tag), "{tag} missing from {head}");
    }
    assert!(!html.contains("<script>alert"), "{html}");
    // The description is one line, cut at 200 characters, with the seller.
    let description = head
        .split(r#"<meta property="og:description" content=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("og:description");
    assert!(
        description.starts_with("One hour. Beginners &amp; very"),
        "{description}"
    );
    assert!(
        description.ends_with("… Sold by seller on Shifting."),
        "{description}"
    );

    // With a picture, its first one is the preview's image, in a large card.
    let response = app
        .upload_image(
            &seller.account.access_token,
            code,
            "image/png",
            crate::media::png(1200, 630),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let picture: Value = response.json().await.unwrap();
    let url = picture["images"][0]["url"].as_str().unwrap();
    let html = app
        .client
        .get(app.url(&format!("/r/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for tag in [
        format!(r#"<meta property="og:image" content="{url}">"#),
        r#"<meta property="og:image:width" content="1200">"#.to_owned(),
        r#"<meta property="og:image:height" content="630">"#.to_owned(),
        format!(r#"<meta name="twitter:image" content="{url}">"#),
        r#"<meta name="twitter:card" content="summary_large_image">"#.to_owned(),
    ] {
        assert!(html.contains(&tag), "{tag} missing from {html}");
    }

    // An unknown room gets the plain app (which says so) with a 404, and no preview.
    for path in ["/r/ZZZZZZ", "/r/not-a-code"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<title>Shifting</title>") && !html.contains("og:title"));
    }
}

#[tokio::test]
async fn what_a_seller_delivers_is_shown_to_a_paying_buyer_only_once_paid() {
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let buyer = app.trader("buyer", "bruno").await;
    let token = &seller.account.access_token;
    let secret = "Your lesson: https://meet.example/abc";
    let response = app
        .create_room(
            token,
            &json!({"name": "Lesson", "price": "25.00", "delivery": secret}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let room: Value = response.json().await.unwrap();
    let code = room["code"].as_str().unwrap();
    // Never in the public view, nor in the page a link preview reads.
    let public = app
        .client
        .get(app.url(&format!("/api/rooms/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!public.contains("meet.example"), "{public}");
    // The seller reads it back in their own list.
    let mine: Value = app
        .get_authed("/api/rooms", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["rooms"][0]["delivery"], secret);

    // Before the money arrives, the buyer does not see it.
    let started = app.checkout(&buyer, code).await;
    let id = started["transaction"]["id"].as_str().unwrap().to_owned();
    let waiting = app.transaction(&buyer.account.access_token, &id).await;
    assert!(waiting.get("delivery").is_none(), "{waiting}");
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    let paid = app
        .wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    assert_eq!(paid["delivery"], secret);
    let listed: Value = app
        .get_authed("/api/transactions?role=buyer", &buyer.account.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["transactions"][0]["delivery"], secret);
    // The seller's view of the sale does not repeat it.
    let sale = app.transaction(token, &id).await;
    assert!(sale.get("delivery").is_none(), "{sale}");

    // The seller edits it; too long is refused; empty removes it.
    let path = format!("/api/rooms/{code}");
    let error = error_of(
        app.send_json(
            Method::PATCH,
            &path,
            token,
            &json!({"delivery": "x".repeat(2001)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field_codes"]["delivery"], "too_long");
    app.send_json(
        Method::PATCH,
        &path,
        token,
        &json!({"delivery": "New link"}),
    )
    .await;
    let paid = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(paid["delivery"], "New link");
    app.send_json(Method::PATCH, &path, token, &json!({"delivery": ""}))
        .await;
    let paid = app.transaction(&buyer.account.access_token, &id).await;
    assert!(paid.get("delivery").is_none(), "{paid}");
}
