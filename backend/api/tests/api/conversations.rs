//! Conversations: a buyer asks before paying, the seller answers; only those two see it; texts
//! are checked and rate-limited; history pages newest first; a purchase writes its steps.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};
use crate::live::{pair, say};

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get_authed(path, token).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

#[tokio::test]
async fn a_buyer_asks_and_the_seller_answers_in_one_conversation_per_room() {
    let app = spawn_app().await;
    let p = pair(&app).await;
    let buyer = &p.buyer.account.access_token;
    let seller = &p.seller.account.access_token;

    // Opening again finds the same conversation; an empty one is listed to nobody.
    let again = app
        .send_json(
            Method::POST,
            &format!("/api/rooms/{}/conversation", p.code),
            buyer,
            &json!({}),
        )
        .await;
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], p.conversation.as_str());
    assert_eq!(again["role"], "buyer");
    assert_eq!(again["room"]["code"], p.code.as_str());
    assert_eq!(
        get(&app, seller, "/api/conversations").await["conversations"],
        json!([])
    );

    // The seller cannot open one on their own room.
    let own = app
        .send_json(
            Method::POST,
            &format!("/api/rooms/{}/conversation", p.code),
            seller,
            &json!({}),
        )
        .await;
    error_of(own, StatusCode::FORBIDDEN).await;
    let unknown = app
        .send_json(
            Method::POST,
            "/api/rooms/ZZZZZZ/conversation",
            buyer,
            &json!({}),
        )
        .await;
    error_of(unknown, StatusCode::NOT_FOUND).await;

    let question = say(&app, buyer, &p.conversation, "  Is Saturday still free?\n").await;
    assert_eq!(question["text"], "Is Saturday still free?");
    assert_eq!(question["from"], "buyer");

    let list = get(&app, seller, "/api/conversations").await;
    assert_eq!(list["unread_total"], 1);
    let listed = &list["conversations"][0];
    assert_eq!(listed["role"], "seller");
    assert_eq!(listed["buyer"]["username"], "bea");
    assert_eq!(listed["seller"]["username"], "sam");
    assert_eq!(listed["unread"], 1);
    assert_eq!(listed["last_message"], question);
    assert_eq!(
        get(&app, seller, "/api/conversations/unread").await["total"],
        1
    );

    let answer = say(&app, seller, &p.conversation, "Yes, 10:00 works.").await;
    assert_eq!(answer["from"], "seller");
    // Answering read the question.
    assert_eq!(
        get(&app, seller, "/api/conversations/unread").await["total"],
        0
    );
    let thread = get(
        &app,
        buyer,
        &format!("/api/conversations/{}/messages", p.conversation),
    )
    .await;
    assert_eq!(thread["messages"], json!([answer, question]));
    let mine = get(
        &app,
        buyer,
        &format!("/api/conversations/{}", p.conversation),
    )
    .await;
    assert_eq!(mine["unread"], 1);
    // Answering read up to the answer.
    assert_eq!(mine["other_read_up_to"], answer["id"]);

    let read = app
        .send_json(
            Method::POST,
            &format!("/api/conversations/{}/read", p.conversation),
            buyer,
            &json!({ "up_to": answer["id"] }),
        )
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(
        read.json::<Value>().await.expect("json"),
        json!({"total": 0})
    );
    // A marker never moves back, and only to an entry of this conversation.
    let back = app
        .send_json(
            Method::POST,
            &format!("/api/conversations/{}/read", p.conversation),
            buyer,
            &json!({ "up_to": question["id"] }),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    let seller_view = get(
        &app,
        seller,
        &format!("/api/conversations/{}", p.conversation),
    )
    .await;
    assert_eq!(seller_view["other_read_up_to"], answer["id"]);
    let foreign = app
        .send_json(
            Method::POST,
            &format!("/api/conversations/{}/read", p.conversation),
            buyer,
            &json!({ "up_to": 999_999 }),
        )
        .await;
    let error = error_of(foreign, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["up_to"], "invalid", "{error}");
}

#[tokio::test]
async fn strangers_cannot_read_or_write_in_a_conversation() {
    let app = spawn_app().await;
    let p = pair(&app).await;
    say(
        &app,
        &p.buyer.account.access_token,
        &p.conversation,
        "Hello",
    )
    .await;
    let stranger = app.create_account("eve").await;
    let token = &stranger.access_token;
    let c = &p.conversation;
    for path in [
        format!("/api/conversations/{c}"),
        format!("/api/conversations/{c}/messages"),
    ] {
        error_of(app.get_authed(&path, token).await, StatusCode::NOT_FOUND).await;
    }
    let post = app
        .send_json(
            Method::POST,
            &format!("/api/conversations/{c}/messages"),
            token,
            &json!({"text": "hi"}),
        )
        .await;
    error_of(post, StatusCode::NOT_FOUND).await;
    let read = app
        .send_json(
            Method::POST,
            &format!("/api/conversations/{c}/read"),
            token,
            &json!({"up_to": 1}),
        )
        .await;
    error_of(read, StatusCode::NOT_FOUND).await;
    let list = get(&app, token, "/api/conversations").await;
    assert_eq!(
        list,
        json!({"conversations": [], "next_cursor": null, "unread_total": 0})
    );
    // Nor without signing in, nor with a malformed id.
    let anonymous = app
        .client
        .get(app.url(&format!("/api/conversations/{c}")))
        .send()
        .await
        .expect("sent");
    error_of(anonymous, StatusCode::UNAUTHORIZED).await;
    error_of(
        app.get_authed("/api/conversations/not-a-uuid", token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn messages_are_plain_text_of_1_to_4000_characters() {
    let app = spawn_app().await;
    let p = pair(&app).await;
    let token = &p.buyer.account.access_token;
    let path = format!("/api/conversations/{}/messages", p.conversation);
    for (text, code) in [
        (" \n\t ".to_owned(), "required"),
        ("é".repeat(4001), "too_long"),
        ("bell \u{7}".to_owned(), "control_characters"),
    ] {
        let response = app
            .send_json(Method::POST, &path, token, &json!({ "text": text }))
            .await;
        let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["field_codes"]["text"], code, "{error}");
    }
    let unknown = app
        .send_json(
            Method::POST,
            &path,
            token,
            &json!({ "text": "hi", "html": "<b>" }),
        )
        .await;
    error_of(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;
    let longest = say(&app, token, &p.conversation, &"é".repeat(4000)).await;
    assert_eq!(
        longest["text"].as_str().expect("text").chars().count(),
        4000
    );
    let markup = say(&app, token, &p.conversation, "<script>alert(1)</script>").await;
    assert_eq!(
        markup["text"], "<script>alert(1)</script>",
        "kept as typed, shown as text"
    );
}

#[tokio::test]
async fn messages_are_rate_limited_per_account() {
    let app = spawn_app_with(|raw| {
        raw.auth.message_rate_limit_burst = 3;
        raw.auth.message_rate_limit_per_minute = 1;
    })
    .await;
    let p = pair(&app).await;
    for n in 0..3 {
        say(
            &app,
            &p.buyer.account.access_token,
            &p.conversation,
            &format!("m{n}"),
        )
        .await;
    }
    let path = format!("/api/conversations/{}/messages", p.conversation);
    let limited = app
        .send_json(
            Method::POST,
            &path,
            &p.buyer.account.access_token,
            &json!({"text": "more"}),
        )
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    error_of(limited, StatusCode::TOO_MANY_REQUESTS).await;
    // The seller has their own allowance.
    say(
        &app,
        &p.seller.account.access_token,
        &p.conversation,
        "answer",
    )
    .await;
}

#[tokio::test]
async fn history_pages_newest_first_with_an_opaque_cursor() {
    let app = spawn_app().await;
    let p = pair(&app).await;
    let token = &p.buyer.account.access_token;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(say(&app, token, &p.conversation, &format!("m{n}")).await["id"].clone());
    }
    ids.reverse();
    let base = format!("/api/conversations/{}/messages?limit=2", p.conversation);
    let mut seen = Vec::new();
    let mut path = base.clone();
    loop {
        let page = get(&app, token, &path).await;
        seen.extend(
            page["messages"]
                .as_array()
                .expect("messages")
                .iter()
                .map(|m| m["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{base}&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let bad = app
        .get_authed(&format!("{base}&cursor=nonsense"), token)
        .await;
    let error = error_of(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["cursor"], "invalid", "{error}");
    let too_many = app
        .get_authed(
            &format!("/api/conversations/{}/messages?limit=51", p.conversation),
            token,
        )
        .await;
    error_of(too_many, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn a_purchase_and_its_review_are_written_in_the_conversation() {
    let app = spawn_app().await;
    let seller = app.trader("sam", "alice").await;
    let buyer = app.trader("bea", "bruno").await;
    let code = app.room(&seller, "25.00").await;
    // No question first: the purchase opens the conversation.
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    let review = app
        .send_json(
            Method::POST,
            &format!("/api/transactions/{id}/review"),
            &buyer.account.access_token,
            &json!({"rating": 5}),
        )
        .await;
    assert_eq!(review.status(), StatusCode::CREATED);

    let list = get(&app, &seller.account.access_token, "/api/conversations").await;
    let conversation = list["conversations"][0]["id"]
        .as_str()
        .expect("opened")
        .to_owned();
    // System entries are not unread messages.
    assert_eq!(list["unread_total"], 0);
    let thread = get(
        &app,
        &seller.account.access_token,
        &format!("/api/conversations/{conversation}/messages"),
    )
    .await;
    let entries: Vec<(&str, &str)> = thread["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .rev()
        .map(|m| {
            assert_eq!(m["from"], Value::Null);
            (
                m["event"].as_str().expect("event"),
                m["transaction_id"].as_str().expect("transaction"),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("started", id.as_str()),
            ("approved", id.as_str()),
            ("completed", id.as_str()),
            ("reviewed", id.as_str())
        ]
    );
}

#[tokio::test]
async fn a_declined_payment_and_a_closed_room_show_in_the_conversation() {
    let app = spawn_app().await;
    let p = pair(&app).await;
    let started = app.checkout(&p.buyer, &p.code).await;
    let finish = app
        .consent(
            started["redirect_url"].as_str().expect("redirect"),
            "decline",
        )
        .await;
    app.finish(&finish).await;
    let thread = get(
        &app,
        &p.buyer.account.access_token,
        &format!("/api/conversations/{}/messages", p.conversation),
    )
    .await;
    let events: Vec<&str> = thread["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["event"].as_str().expect("event"))
        .collect();
    assert_eq!(events, ["rejected", "started"]);

    // A closed room takes no new conversations; existing ones go on.
    let closed = app
        .send_json(
            Method::PATCH,
            &format!("/api/rooms/{}", p.code),
            &p.seller.account.access_token,
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    let newcomer = app.create_account("nina").await;
    let refused = app
        .send_json(
            Method::POST,
            &format!("/api/rooms/{}/conversation", p.code),
            &newcomer.access_token,
            &json!({}),
        )
        .await;
    error_of(refused, StatusCode::CONFLICT).await;
    say(
        &app,
        &p.seller.account.access_token,
        &p.conversation,
        "Sorry, closed now.",
    )
    .await;
}
