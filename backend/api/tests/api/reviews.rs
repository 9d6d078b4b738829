//! Reviews: only the buyer of a completed purchase, once, within 60 days; editable until the
//! seller replies or 14 days pass; deletable; the seller's reply; the room's and the seller's
//! star counts kept with every write (also under concurrent reviews); the public profile with
//! paginated reviews; rate limits; and the verified-wallet badge through a `subject` grant.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Trader, error_of, spawn_app, spawn_app_with};

/// Alice sells, bruno buys one completed purchase; returns (seller, buyer, room, transaction).
async fn completed_purchase(app: &TestApp) -> (Trader, Trader, String, String) {
    let seller = app.trader("alice", "alice").await;
    let buyer = app.trader("bruno", "bruno").await;
    let code = app.room(&seller, "25.00").await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    (seller, buyer, code, id)
}

/// `method` on `path` (a review or its reply) as `who`.
async fn on_review(
    app: &TestApp,
    method: Method,
    who: &Trader,
    path: String,
    body: &Value,
) -> reqwest::Response {
    app.send_json(method, &path, &who.account.access_token, body)
        .await
}

async fn review(app: &TestApp, who: &Trader, id: &str, body: &Value) -> reqwest::Response {
    let path = format!("/api/transactions/{id}/review");
    on_review(app, Method::POST, who, path, body).await
}

async fn edit(app: &TestApp, who: &Trader, id: &str, body: &Value) -> reqwest::Response {
    let path = format!("/api/transactions/{id}/review");
    on_review(app, Method::PATCH, who, path, body).await
}

async fn reply(app: &TestApp, who: &Trader, id: &str, text: &str) -> reqwest::Response {
    let path = format!("/api/transactions/{id}/review/reply");
    on_review(app, Method::PUT, who, path, &json!({ "text": text })).await
}

async fn delete(app: &TestApp, who: &Trader, id: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/api/transactions/{id}/review")))
        .bearer_auth(&who.account.access_token)
        .send()
        .await
        .expect("delete")
}

async fn profile(app: &TestApp, username: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/api/users/{username}")))
        .send()
        .await
        .expect("profile");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn field_code(error: &Value, field: &str) -> String {
    error["field_codes"][field]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_buyer_reviews_a_completed_purchase_once_and_the_ratings_count_it() {
    let app = spawn_app().await;
    let (seller, buyer, code, id) = completed_purchase(&app).await;
    let stranger = app.trader("carmen", "carmen").await;

    // Nobody but the buyer: the seller is refused, a stranger learns nothing.
    let by_seller = review(&app, &seller, &id, &json!({"rating": 5})).await;
    error_of(by_seller, StatusCode::FORBIDDEN).await;
    let by_stranger = review(&app, &stranger, &id, &json!({"rating": 1})).await;
    error_of(by_stranger, StatusCode::NOT_FOUND).await;

    // Ratings outside 1–5, and texts that are too long or carry control characters.
    for rating in [0, 6, -1] {
        let bad = review(&app, &buyer, &id, &json!({ "rating": rating })).await;
        let body = error_of(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(field_code(&body, "rating"), "rating_range", "{rating}");
    }
    let long = review(
        &app,
        &buyer,
        &id,
        &json!({"rating": 4, "text": "x".repeat(2001)}),
    )
    .await;
    assert_eq!(
        field_code(
            &error_of(long, StatusCode::UNPROCESSABLE_ENTITY).await,
            "text"
        ),
        "too_long"
    );
    let control = review(&app, &buyer, &id, &json!({"rating": 4, "text": "a\u{7}b"})).await;
    error_of(control, StatusCode::UNPROCESSABLE_ENTITY).await;
    let amount = review(&app, &buyer, &id, &json!({"rating": 4, "paid": "1"})).await;
    error_of(amount, StatusCode::UNPROCESSABLE_ENTITY).await;

    let written = review(
        &app,
        &buyer,
        &id,
        &json!({"rating": 4, "text": "  <b>Clear</b> and patient.  "}),
    )
    .await;
    assert_eq!(written.status(), StatusCode::CREATED);
    let written: Value = written.json().await.expect("json");
    // Trimmed, and markup kept as the text it is.
    assert_eq!(written["text"], "<b>Clear</b> and patient.");
    assert_eq!(written["rating"], 4);
    assert_eq!(written["author"]["username"], "bruno");
    assert_eq!(written["refunded"], false);
    assert!(written["editable_until"].is_string());

    // A second review of the same purchase.
    let again = review(&app, &buyer, &id, &json!({"rating": 5})).await;
    assert_eq!(
        field_code(&error_of(again, StatusCode::CONFLICT).await, "review"),
        "already_reviewed"
    );

    let room = app.public_room(&code).await;
    assert_eq!(room["rating"]["count"], 1);
    assert_eq!(room["rating"]["average"], "4.0");
    assert_eq!(room["rating"]["distribution"], json!([0, 0, 0, 1, 0]));
    assert_eq!(room["seller_rating"]["count"], 1);

    // The transaction shows its review to both parties.
    let seen = app.transaction(&seller.account.access_token, &id).await;
    assert_eq!(seen["review"]["rating"], 4);
    let bought = app.transaction(&buyer.account.access_token, &id).await;
    assert!(bought["review_until"].is_string(), "{bought}");
    assert_eq!(bought["review"]["id"], written["id"]);

    // The room's public list of reviews.
    let list: Value = app
        .client
        .get(app.url(&format!("/api/rooms/{code}/reviews")))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["reviews"][0]["text"], "<b>Clear</b> and patient.");
    assert_eq!(list["next_cursor"], Value::Null);
}

#[tokio::test]
async fn only_completed_purchases_within_sixty_days_can_be_reviewed() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let buyer = app.trader("bruno", "bruno").await;
    let code = app.room(&seller, "25.00").await;

    // Awaiting approval.
    let started = app.checkout(&buyer, &code).await;
    let pending = started["transaction"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let early = review(&app, &buyer, &pending, &json!({"rating": 5})).await;
    assert_eq!(
        field_code(&error_of(early, StatusCode::CONFLICT).await, "review"),
        "not_completed"
    );
    // Declined.
    let declined = app.checkout(&buyer, &code).await;
    let declined_id = declined["transaction"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let finish = app
        .consent(
            declined["redirect_url"].as_str().expect("redirect"),
            "decline",
        )
        .await;
    app.finish(&finish).await;
    app.wait_for_status(&buyer.account.access_token, &declined_id, "rejected")
        .await;
    let refused = review(&app, &buyer, &declined_id, &json!({"rating": 1})).await;
    assert_eq!(
        field_code(&error_of(refused, StatusCode::CONFLICT).await, "review"),
        "not_completed"
    );

    // Completed 61 days ago.
    let old = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &old, "completed")
        .await;
    app.shift_back(
        "transactions",
        "completed_at",
        61 * 86_400,
        "status = 'completed'",
    )
    .await;
    let late = review(&app, &buyer, &old, &json!({"rating": 3})).await;
    assert_eq!(
        field_code(&error_of(late, StatusCode::CONFLICT).await, "review"),
        "review_window_closed"
    );
    let room = app.public_room(&code).await;
    assert_eq!(room["rating"]["count"], 0);
    assert_eq!(room["rating"]["average"], Value::Null);
}

#[tokio::test]
async fn a_review_is_edited_until_the_seller_replies_or_fourteen_days_pass_and_deleted_for_good() {
    let app = spawn_app().await;
    let (seller, buyer, code, id) = completed_purchase(&app).await;
    let written = review(&app, &buyer, &id, &json!({"rating": 2, "text": "Late."})).await;
    assert_eq!(written.status(), StatusCode::CREATED);

    let changed = edit(
        &app,
        &buyer,
        &id,
        &json!({"rating": 5, "text": "On time after all."}),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let room = app.public_room(&code).await;
    assert_eq!(room["rating"]["distribution"], json!([0, 0, 0, 0, 1]));
    assert_eq!(room["rating"]["average"], "5.0");
    let nothing = edit(&app, &buyer, &id, &json!({})).await;
    error_of(nothing, StatusCode::UNPROCESSABLE_ENTITY).await;
    let by_seller = edit(&app, &seller, &id, &json!({"rating": 1})).await;
    error_of(by_seller, StatusCode::FORBIDDEN).await;

    // The buyer cannot reply; the seller replies and edits the reply.
    error_of(
        reply(&app, &buyer, &id, "me too").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    error_of(
        reply(&app, &seller, &id, "   ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let replied = reply(&app, &seller, &id, "Thanks!").await;
    assert_eq!(replied.status(), StatusCode::OK);
    let replied = reply(&app, &seller, &id, "Thank you, Bruno!").await;
    let replied: Value = replied.json().await.expect("json");
    assert_eq!(replied["reply"]["text"], "Thank you, Bruno!");
    assert_eq!(replied["editable_until"], Value::Null);

    // Once replied to, the review stays as it is.
    let closed = edit(&app, &buyer, &id, &json!({"rating": 1})).await;
    assert_eq!(
        field_code(&error_of(closed, StatusCode::CONFLICT).await, "review"),
        "edit_window_closed"
    );

    // Deleted: gone from the counts and the lists, and not written again.
    assert_eq!(
        delete(&app, &seller, &id).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&app, &buyer, &id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&app, &buyer, &id).await.status(),
        StatusCode::NOT_FOUND
    );
    let room = app.public_room(&code).await;
    assert_eq!(room["rating"]["count"], 0);
    assert_eq!(profile(&app, "alice").await["rating"]["count"], 0);
    let again = review(&app, &buyer, &id, &json!({"rating": 5})).await;
    assert_eq!(
        field_code(&error_of(again, StatusCode::CONFLICT).await, "review"),
        "already_reviewed"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM reviews WHERE body <> '' OR reply IS NOT NULL")
            .await,
        0,
        "a deleted review keeps no text"
    );

    // Another purchase: its review cannot change after 14 days.
    let second = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &second, "completed")
        .await;
    assert_eq!(
        review(&app, &buyer, &second, &json!({"rating": 3}))
            .await
            .status(),
        StatusCode::CREATED
    );
    app.shift_back("reviews", "created_at", 15 * 86_400, "deleted_at IS NULL")
        .await;
    let stale = edit(&app, &buyer, &second, &json!({"rating": 4})).await;
    assert_eq!(
        field_code(&error_of(stale, StatusCode::CONFLICT).await, "review"),
        "edit_window_closed"
    );
}

#[tokio::test]
async fn a_refunded_purchase_keeps_its_review_marked_as_refunded() {
    let app = spawn_app().await;
    let (_, buyer, code, id) = completed_purchase(&app).await;
    review(&app, &buyer, &id, &json!({"rating": 4})).await;
    let uuid = uuid::Uuid::parse_str(&id).expect("uuid");
    assert!(
        shifting_api::services::reviews::mark_refunded(&app.db, uuid)
            .await
            .expect("marked")
    );
    let list: Value = app
        .client
        .get(app.url(&format!("/api/rooms/{code}/reviews")))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["reviews"][0]["refunded"], true);
    assert_eq!(app.public_room(&code).await["rating"]["count"], 1);
}

#[tokio::test]
async fn concurrent_reviews_of_one_room_all_count() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "2.00").await;
    let mut purchases = Vec::new();
    for (name, wallet) in [("bruno", "bruno"), ("carmen", "carmen"), ("kenji", "kenji")] {
        let buyer = app.trader(name, wallet).await;
        let id = app.buy(&buyer, &code).await;
        app.wait_for_status(&buyer.account.access_token, &id, "completed")
            .await;
        purchases.push((buyer, id));
    }
    let writes = purchases.iter().zip([5, 4, 5]).map(|((buyer, id), stars)| {
        let body = json!({ "rating": stars });
        let app = &app;
        async move { review(app, buyer, id, &body).await }
    });
    for response in join_all(writes).await {
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let room = app.public_room(&code).await;
    assert_eq!(room["rating"]["distribution"], json!([0, 0, 0, 1, 2]));
    assert_eq!(room["rating"]["average"], "4.7");
    let seller_view = profile(&app, "ALICE").await;
    assert_eq!(seller_view["rating"]["count"], 3);
    assert_eq!(seller_view["completed_sales"], 3);

    // Concurrent edits of two of them: the counts stay exact.
    let edits = purchases[..2].iter().map(|(buyer, id)| {
        let app = &app;
        async move { edit(app, buyer, id, &json!({"rating": 1})).await }
    });
    for response in join_all(edits).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let room = app.public_room(&code).await;
    assert_eq!(room["rating"]["distribution"], json!([2, 0, 0, 0, 1]));
    assert_eq!(room["rating"]["average"], "2.3");
    // The counts agree with a recount of the reviews.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM reviews WHERE deleted_at IS NULL AND rating = 1")
            .await,
        2
    );
}

#[tokio::test]
async fn a_sellers_profile_lists_open_rooms_and_pages_through_reviews() {
    let app = spawn_app().await;
    let (seller, buyer, code, first) = completed_purchase(&app).await;
    let closed = app.room(&seller, "3.00").await;
    app.send_json(
        Method::PATCH,
        &format!("/api/rooms/{closed}"),
        &seller.account.access_token,
        &json!({"status": "closed"}),
    )
    .await;
    let mut ids = vec![first];
    for _ in 0..2 {
        let id = app.buy(&buyer, &code).await;
        app.wait_for_status(&buyer.account.access_token, &id, "completed")
            .await;
        ids.push(id);
    }
    for (n, id) in ids.iter().enumerate() {
        let response = review(
            &app,
            &buyer,
            id,
            &json!({"rating": 3 + n, "text": format!("review {n}")}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        // Newest first is by time: one second apart.
        app.clock.advance(std::time::Duration::from_secs(1));
    }
    let view = profile(&app, "alice").await;
    assert_eq!(view["username"], "alice");
    assert_eq!(view["completed_sales"], 3);
    assert_eq!(view["rating"]["average"], "4.0");
    assert_eq!(
        view["rooms"].as_array().map(Vec::len),
        Some(1),
        "open rooms only"
    );
    assert_eq!(view["rooms"][0]["code"], code);
    assert_eq!(view["wallet_badge"], Value::Null);
    assert_eq!(view["reviews"]["reviews"][0]["text"], "review 2");

    let page = |cursor: Option<String>| {
        let app = &app;
        async move {
            let mut url = app.url("/api/users/alice/reviews?limit=2");
            if let Some(cursor) = cursor {
                url.push_str(&format!("&cursor={cursor}"));
            }
            app.client
                .get(url)
                .send()
                .await
                .expect("page")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let first_page = page(None).await;
    let texts: Vec<&str> = first_page["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .filter_map(|r| r["text"].as_str())
        .collect();
    assert_eq!(texts, ["review 2", "review 1"]);
    let cursor = first_page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second_page = page(Some(cursor)).await;
    assert_eq!(second_page["reviews"][0]["text"], "review 0");
    assert_eq!(second_page["next_cursor"], Value::Null);

    for (path, status) in [
        ("/api/users/nobody-here", StatusCode::NOT_FOUND),
        (
            "/api/users/alice/reviews?cursor=not-a-cursor",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/users/alice/reviews?limit=500",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let response = app.client.get(app.url(path)).send().await.expect(path);
        error_of(response, status).await;
    }
}

#[tokio::test]
async fn review_writes_are_rate_limited_per_user() {
    let app = spawn_app_with(|raw| {
        raw.auth.review_rate_limit_burst = 2;
        raw.auth.review_rate_limit_per_minute = 1;
    })
    .await;
    let (_, buyer, _, id) = completed_purchase(&app).await;
    assert_eq!(
        review(&app, &buyer, &id, &json!({"rating": 4}))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        edit(&app, &buyer, &id, &json!({"rating": 5}))
            .await
            .status(),
        StatusCode::OK
    );
    let limited = edit(&app, &buyer, &id, &json!({"rating": 3})).await;
    assert!(limited.headers().contains_key("retry-after"));
    error_of(limited, StatusCode::TOO_MANY_REQUESTS).await;
}

// The verified-wallet badge.

/// Starts a proof for `who`; returns its consent page URL.
async fn start_proof(app: &TestApp, who: &Trader) -> String {
    let response = app
        .send_json(
            Method::POST,
            "/api/me/wallet/verification",
            &who.account.access_token,
            &json!({}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending");
    // The grant's continuation token is kept encrypted, never as the wallet gave it.
    let sealed = app
        .count(
            "SELECT COUNT(*) AS n FROM wallet_verifications WHERE continue_token LIKE 'sealed1:%'",
        )
        .await;
    let kept = app
        .count("SELECT COUNT(*) AS n FROM wallet_verifications WHERE continue_token IS NOT NULL")
        .await;
    assert!(sealed >= 1 && sealed == kept, "{sealed} of {kept} sealed");
    body["redirect_url"]
        .as_str()
        .expect("a redirect")
        .to_owned()
}

/// The owner's browser at the sandbox wallet: opens the page, signs in with `password`
/// (when given) and answers `decision`; returns the last response.
async fn at_the_wallet(
    redirect: &str,
    password: Option<&str>,
    decision: &str,
) -> reqwest::Response {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let page = browser.get(redirect).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("Prove that you own this wallet"), "{html}");
    let actions: Vec<String> = html
        .match_indices("action=\"")
        .map(|(at, _)| {
            let start = at + "action=\"".len();
            let end = start + html[start..].find('"').expect("end of action");
            html[start..end].replace("&amp;", "&")
        })
        .collect();
    let login = actions
        .iter()
        .find(|a| a.ends_with("/login"))
        .expect("a sign-in form");
    let finish = actions
        .iter()
        .find(|a| a.ends_with("/finish"))
        .expect("an answer form");
    if let Some(password) = password {
        let signed_in = browser
            .post(login)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("password={password}"))
            .send()
            .await
            .expect("sign in");
        if signed_in.status() != StatusCode::OK {
            return signed_in;
        }
        let html = signed_in.text().await.expect("html");
        assert!(html.contains("value=\"approve\""), "{html}");
    }
    browser
        .post(finish)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("decision={decision}"))
        .send()
        .await
        .expect("answer")
}

async fn finish_proof(app: &TestApp, answer: reqwest::Response) -> String {
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let finish = answer.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let back = app.client.get(&finish).send().await.expect("finish");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    back.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

#[tokio::test]
async fn a_seller_proves_their_wallet_and_the_badge_shows_until_the_wallet_changes() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    let password = app.sandbox_account("alice", "password").await;

    // Approving without signing in at the wallet proves nothing.
    let redirect = start_proof(&app, &seller).await;
    let unsigned = at_the_wallet(&redirect, None, "approve").await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    // A wrong password neither.
    let wrong = at_the_wallet(&redirect, Some("not-the-password"), "approve").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.expect("html").contains("not right"));

    // The owner signs in and approves.
    let back = finish_proof(
        &app,
        at_the_wallet(&redirect, Some(&password), "approve").await,
    )
    .await;
    assert_eq!(back, "/settings?verification=verified");
    let status: Value = app
        .get_authed("/api/me/wallet/verification", &seller.account.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "verified");
    let badge = &profile(&app, "alice").await["wallet_badge"];
    assert_eq!(badge["wallet_address"], app.sandbox_wallet("alice"));
    assert_eq!(badge["provider"], "127.0.0.1");
    assert!(
        badge["verified_by"]
            .as_str()
            .expect("by")
            .ends_with("/sandbox/auth")
    );
    let room = app.public_room(&code).await;
    assert_eq!(
        room["wallet_badge"]["wallet_address"],
        app.sandbox_wallet("alice")
    );
    let me: Value = app
        .me(&seller.account.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert!(me["wallet_badge"].is_object(), "{me}");

    // Replaying the finish changes nothing.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM wallet_verifications WHERE status = 'verified'")
            .await,
        1
    );

    // Another wallet: the badge goes, from the profile and from the room (which still pays
    // into the old one, proven by nobody now).
    let moved = app
        .set_wallet(&seller.account.access_token, &app.sandbox_wallet("carmen"))
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(profile(&app, "alice").await["wallet_badge"], Value::Null);
    // Moving back does not bring it back.
    app.set_wallet(&seller.account.access_token, &app.sandbox_wallet("alice"))
        .await;
    assert_eq!(profile(&app, "alice").await["wallet_badge"], Value::Null);
}

#[tokio::test]
async fn a_declined_proof_gives_no_badge() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    let password = app.sandbox_account("alice", "password").await;
    let redirect = start_proof(&app, &seller).await;
    let back = finish_proof(
        &app,
        at_the_wallet(&redirect, Some(&password), "decline").await,
    )
    .await;
    assert_eq!(back, "/settings?verification=declined");
    assert_eq!(profile(&app, "alice").await["wallet_badge"], Value::Null);
    let status: Value = app
        .get_authed("/api/me/wallet/verification", &seller.account.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "declined");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM wallet_verifications WHERE continue_token IS NOT NULL"
        )
        .await,
        0,
        "no continuation token is kept once the proof is over"
    );
}

#[tokio::test]
async fn a_provider_without_ownership_proofs_gets_a_clear_answer() {
    let app = spawn_app_with(|raw| raw.sandbox.sandbox_no_subject_grants = true).await;
    let seller = app.trader("alice", "alice").await;
    let response = app
        .send_json(
            Method::POST,
            "/api/me/wallet/verification",
            &seller.account.access_token,
            &json!({}),
        )
        .await;
    let body = error_of(response, StatusCode::CONFLICT).await;
    assert_eq!(field_code(&body, "wallet_address"), "proof_unsupported");
    let no_wallet = app.create_account("nowallet").await;
    let response = app
        .send_json(
            Method::POST,
            "/api/me/wallet/verification",
            &no_wallet.access_token,
            &json!({}),
        )
        .await;
    error_of(response, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn an_approval_inside_the_providers_wait_is_confirmed_when_the_page_asks_again() {
    let app = spawn_app_with(|raw| raw.sandbox.sandbox_wait_secs = 5).await;
    let seller = app.trader("alice", "alice").await;
    let password = app.sandbox_account("alice", "password").await;
    let redirect = start_proof(&app, &seller).await;
    let back = finish_proof(
        &app,
        at_the_wallet(&redirect, Some(&password), "approve").await,
    )
    .await;
    // Approved within Rafiki's 5 s: not continued yet (that would be `too_fast`).
    assert_eq!(back, "/settings?verification=pending");
    assert_eq!(proof_status(&app, &seller).await["status"], "approved");
    assert_eq!(profile(&app, "alice").await["wallet_badge"], Value::Null);
    app.clock.advance(std::time::Duration::from_secs(6));
    let proof = proof_status(&app, &seller).await;
    assert_eq!(proof["status"], "verified", "{proof}");
    assert_eq!(proof["badge"]["provider"], "127.0.0.1");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM wallet_verifications WHERE status = 'verified'")
            .await,
        1
    );
}

async fn proof_status(app: &TestApp, who: &Trader) -> Value {
    app.get_authed("/api/me/wallet/verification", &who.account.access_token)
        .await
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn an_unanswered_proof_expires_and_its_page_no_longer_proves_anything() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "alice").await;
    start_proof(&app, &seller).await;
    // Past the approval timeout (10 minutes by default).
    app.clock.advance(std::time::Duration::from_secs(601));
    assert_eq!(proof_status(&app, &seller).await["status"], "failed");
    // The grant was cancelled at the wallet: its page can prove nothing any more.
    assert_eq!(
        app.sandbox_count("SELECT COUNT(*) AS n FROM sandbox_grants WHERE state = 'revoked'")
            .await,
        1
    );
    assert_eq!(profile(&app, "alice").await["wallet_badge"], Value::Null);
}

#[tokio::test]
async fn the_badge_shows_only_on_rooms_that_pay_into_the_proven_wallet() {
    let app = spawn_app().await;
    let seller = app.trader("alice", "carmen").await;
    let old_room = app.room(&seller, "250.00").await;
    app.set_wallet(&seller.account.access_token, &app.sandbox_wallet("alice"))
        .await;
    let new_room = app.room(&seller, "25.00").await;
    let password = app.sandbox_account("alice", "password").await;
    let redirect = start_proof(&app, &seller).await;
    finish_proof(
        &app,
        at_the_wallet(&redirect, Some(&password), "approve").await,
    )
    .await;
    assert!(profile(&app, "alice").await["wallet_badge"].is_object());
    assert!(app.public_room(&new_room).await["wallet_badge"].is_object());
    // The old room still pays into carmen's wallet, which nobody proved.
    assert_eq!(
        app.public_room(&old_room).await["wallet_badge"],
        Value::Null
    );
}
