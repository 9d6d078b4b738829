//! The live socket: tickets (single use, 30 s, any replica), the `Origin` check, the per-user
//! cap, pushed messages, read markers, unread totals and payment status, and resuming after a
//! dropped connection. A WebSocket client of our own (tokio-tungstenite) plays the browser.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::helpers::{Trader, error_of, spawn_app, spawn_app_with};

/// How long a test waits for a pushed event before failing (a bound, not a pause).
const PUSH_BOUND: Duration = Duration::from_secs(15);

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A live socket as a test sees it.
pub struct LiveSocket(Stream);

impl LiveSocket {
    /// Opens `{base}/api/live{query}` with `origin`; the HTTP status when the upgrade is refused.
    pub async fn open(base: &str, query: &str, origin: Option<&str>) -> Result<Self, StatusCode> {
        let url = format!("{}/api/live{query}", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("a request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("origin"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Self(stream)),
            Err(tungstenite::Error::Http(response)) => {
                Err(StatusCode::from_u16(response.status().as_u16()).expect("status"))
            }
            Err(err) => panic!("cannot open the socket: {err}"),
        }
    }

    /// Opens a socket for the holder of `token` (a fresh ticket in the URL), resuming after
    /// `after`; returns it with its `ready` event.
    pub async fn connect(base: &str, token: &str, after: Option<i64>) -> (Self, Value) {
        let ticket = ticket(base, token).await;
        let after = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let mut socket = Self::open(base, &format!("?ticket={ticket}{after}"), None)
            .await
            .expect("the socket opens");
        let ready = socket.next_event().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        (socket, ready)
    }

    /// The next pushed event.
    pub async fn next_event(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PUSH_BOUND, self.0.next())
                .await
                .expect("an event in time")
                .expect("the socket is open")
                .expect("a frame");
            match frame {
                Message::Text(text) => return serde_json::from_str(&text).expect("json event"),
                Message::Close(frame) => panic!("the socket closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Skips events until one matches `wanted`; returns it.
    pub async fn until(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let event = self.next_event().await;
            if wanted(&event) {
                return event;
            }
        }
    }

    /// The close code the server ends the socket with.
    pub async fn close_code(&mut self) -> u16 {
        loop {
            let frame = tokio::time::timeout(PUSH_BOUND, self.0.next())
                .await
                .expect("a close in time");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
                Some(Ok(Message::Close(None))) | None => return 1005,
                Some(Ok(_)) => {}
                Some(Err(err)) => panic!("a socket error instead of a close: {err}"),
            }
        }
    }

    /// Sends a text frame.
    pub async fn send(&mut self, value: &Value) {
        self.0
            .send(Message::text(value.to_string()))
            .await
            .expect("sent");
    }

    /// Closes from the client's side.
    pub async fn close(mut self) {
        let _ = self.0.close(None).await;
    }
}

/// A ticket for the holder of `token` from the server at `base`.
pub async fn ticket(base: &str, token: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/live/ticket"))
        .bearer_auth(token)
        .send()
        .await
        .expect("ticket");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["expires_in"], 30);
    body["ticket"].as_str().expect("ticket").to_owned()
}

/// A message event's id.
pub fn message_id(event: &Value) -> i64 {
    event["message"]["id"].as_i64().expect("a message id")
}

pub fn is_message(event: &Value) -> bool {
    event["type"] == "message"
}

#[tokio::test]
async fn tickets_open_one_socket_once_and_expire_after_30_seconds() {
    let app = spawn_app().await;
    let alice = app.create_account("alice").await;
    let token = &alice.access_token;

    let anonymous = app.client.post(app.url("/api/live/ticket")).send().await;
    assert_eq!(anonymous.expect("sent").status(), StatusCode::UNAUTHORIZED);

    let first = ticket(&app.address, token).await;
    let query = format!("?ticket={first}");
    let mut socket = LiveSocket::open(&app.address, &query, None)
        .await
        .expect("opens");
    assert_eq!(
        socket.next_event().await,
        json!({"type": "ready", "unread": 0})
    );
    // The same ticket again: refused.
    assert_eq!(
        LiveSocket::open(&app.address, &query, None).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let late = ticket(&app.address, token).await;
    // Only its hash is kept.
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(late.as_bytes()));
    for (stored, count) in [(&late, 0), (&hash, 1)] {
        let sql = format!("SELECT COUNT(*) AS n FROM live_tickets WHERE hash = '{stored}'");
        assert_eq!(app.count(&sql).await, count);
    }
    app.clock.advance(Duration::from_secs(31));
    assert_eq!(
        LiveSocket::open(&app.address, &format!("?ticket={late}"), None)
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        LiveSocket::open(&app.address, "?ticket=made-up", None)
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    socket.close().await;
}

#[tokio::test]
async fn tickets_are_limited_per_account() {
    let app = spawn_app().await;
    let alice = app.create_account("alice").await;
    // 30 at once, then one a second (real time, which a busy machine lets pass meanwhile):
    // at least 30 go through, and soon one is refused.
    let mut given = 0;
    let limited = loop {
        let response = app
            .client
            .post(app.url("/api/live/ticket"))
            .bearer_auth(&alice.access_token)
            .send()
            .await
            .expect("sent");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status(), StatusCode::CREATED);
        given += 1;
        assert!(given <= 60, "never limited");
    };
    assert!(given >= 30, "only {given} tickets before the limit");
    assert!(limited.headers().contains_key("retry-after"));
    error_of(limited, StatusCode::TOO_MANY_REQUESTS).await;
    // Another account has its own allowance.
    let bob = app.create_account("bob").await;
    ticket(&app.address, &bob.access_token).await;
}

#[tokio::test]
async fn a_ticket_can_come_in_the_first_message_instead() {
    let app = spawn_app().await;
    let alice = app.create_account("alice").await;

    let mut socket = LiveSocket::open(&app.address, "", None)
        .await
        .expect("opens");
    let ticket = ticket(&app.address, &alice.access_token).await;
    socket
        .send(&json!({"type": "hello", "ticket": ticket}))
        .await;
    assert_eq!(socket.next_event().await["type"], "ready");

    // A used ticket in the hello: closed with 4401.
    let mut again = LiveSocket::open(&app.address, "", None)
        .await
        .expect("opens");
    again
        .send(&json!({"type": "hello", "ticket": ticket}))
        .await;
    assert_eq!(again.close_code().await, 4401);
    // Anything but a hello first: 4401.
    let mut rude = LiveSocket::open(&app.address, "", None)
        .await
        .expect("opens");
    rude.send(&json!({"type": "subscribe"})).await;
    assert_eq!(rude.close_code().await, 4401);
}

#[tokio::test]
async fn sockets_open_only_from_our_own_pages_and_only_as_websockets() {
    let app = spawn_app().await;
    let alice = app.create_account("alice").await;
    let ticket = ticket(&app.address, &alice.access_token).await;
    let query = format!("?ticket={ticket}");
    assert_eq!(
        LiveSocket::open(&app.address, &query, Some("https://evil.example"))
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    // The refused upgrade did not use the ticket up; our own origin opens it.
    let mut socket = LiveSocket::open(&app.address, &query, Some(&app.address))
        .await
        .expect("our origin opens");
    assert_eq!(socket.next_event().await["type"], "ready");

    // A plain GET is told what to do, in our error format.
    let plain = app
        .client
        .get(app.url("/api/live"))
        .send()
        .await
        .expect("sent");
    let error = error_of(plain, StatusCode::BAD_REQUEST).await;
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("WebSocket"),
        "{error}"
    );
}

#[tokio::test]
async fn a_user_holds_a_limited_number_of_sockets() {
    let app = spawn_app_with(|raw| raw.server.live_sockets_per_user = 2).await;
    let alice = app.create_account("alice").await;
    let token = &alice.access_token;
    let (first, _) = LiveSocket::connect(&app.address, token, None).await;
    let (_second, _) = LiveSocket::connect(&app.address, token, None).await;
    let third = ticket(&app.address, token).await;
    let query = format!("?ticket={third}");
    assert_eq!(
        LiveSocket::open(&app.address, &query, None).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    // One closes: there is room again, and the refused ticket still opens it.
    first.close().await;
    let mut opened = None;
    for _ in 0..1000 {
        match LiveSocket::open(&app.address, &query, None).await {
            Ok(socket) => {
                opened = Some(socket);
                break;
            }
            Err(status) => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                tokio::task::yield_now().await;
            }
        }
    }
    assert!(opened.is_some(), "a socket opens once another closed");
}

/// A seller with a room and a buyer with a conversation about it.
pub struct Pair {
    pub seller: Trader,
    pub buyer: Trader,
    pub code: String,
    pub conversation: String,
}

pub async fn pair(app: &crate::helpers::TestApp) -> Pair {
    let seller = app.trader("sam", "alice").await;
    let buyer = app.trader("bea", "bruno").await;
    let code = app.room(&seller, "25.00").await;
    let opened = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/rooms/{code}/conversation"),
            &buyer.account.access_token,
            &json!({}),
        )
        .await;
    assert_eq!(opened.status(), StatusCode::OK);
    let opened: Value = opened.json().await.expect("json");
    Pair {
        seller,
        buyer,
        code,
        conversation: opened["id"].as_str().expect("id").to_owned(),
    }
}

pub async fn say(
    app: &crate::helpers::TestApp,
    token: &str,
    conversation: &str,
    text: &str,
) -> Value {
    let response = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/conversations/{conversation}/messages"),
            token,
            &json!({ "text": text }),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn messages_reads_and_payment_steps_are_pushed_to_both_people() {
    let app = spawn_app().await;
    let p = pair(&app).await;
    let (mut seller, ready) =
        LiveSocket::connect(&app.address, &p.seller.account.access_token, None).await;
    assert_eq!(ready["unread"], 0);
    let (mut buyer, _) =
        LiveSocket::connect(&app.address, &p.buyer.account.access_token, None).await;

    let question = say(
        &app,
        &p.buyer.account.access_token,
        &p.conversation,
        "Still free on Saturday?",
    )
    .await;
    let pushed = seller.until(is_message).await;
    assert_eq!(pushed["message"], question);
    assert_eq!(pushed["message"]["from"], "buyer");
    assert_eq!(
        seller.until(|e| e["type"] == "unread").await,
        json!({"type": "unread", "total": 1})
    );
    // The writer's own tabs get it too.
    assert_eq!(buyer.until(is_message).await["message"], question);

    // The seller reads it: the buyer sees the marker, the seller's total drops.
    let read = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/conversations/{}/read", p.conversation),
            &p.seller.account.access_token,
            &json!({ "up_to": question["id"] }),
        )
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    let marker = buyer
        .until(|e| e["type"] == "read" && e["role"] == "seller")
        .await;
    assert_eq!(marker["up_to"], question["id"]);
    assert_eq!(
        seller.until(|e| e["type"] == "unread").await,
        json!({"type": "unread", "total": 0})
    );

    // The buyer pays: every step reaches the seller's socket, in order.
    let id = app.buy(&p.buyer, &p.code).await;
    for status in ["awaiting_approval", "approved", "sending", "completed"] {
        let event = seller.until(|e| e["type"] == "transaction").await;
        assert_eq!(
            event,
            json!({"type": "transaction", "id": id, "status": status})
        );
    }
    let mut entries = Vec::new();
    while entries.len() < 3 {
        let event = buyer.until(is_message).await;
        entries.push(
            event["message"]["event"]
                .as_str()
                .expect("event")
                .to_owned(),
        );
        assert_eq!(event["message"]["transaction_id"], id.as_str());
        assert_eq!(event["message"]["from"], Value::Null);
    }
    assert_eq!(entries, ["started", "approved", "completed"]);
}

#[tokio::test]
async fn a_socket_that_reconnects_gets_what_it_missed() {
    let app = spawn_app().await;
    let p = pair(&app).await;
    let seller_token = &p.seller.account.access_token;
    let buyer_token = &p.buyer.account.access_token;
    let (mut socket, _) = LiveSocket::connect(&app.address, buyer_token, None).await;
    let first = say(&app, seller_token, &p.conversation, "Hello!").await;
    let seen = message_id(&socket.until(is_message).await);
    assert_eq!(seen, first["id"].as_i64().expect("id"));
    socket.close().await;

    let mut sent = Vec::new();
    for text in ["one", "two", "three"] {
        sent.push(say(&app, seller_token, &p.conversation, text).await);
    }
    // Another conversation of someone else's is not sent.
    let other_buyer = app.trader("otto", "bruno").await;
    let other = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/rooms/{}/conversation", p.code),
            &other_buyer.account.access_token,
            &json!({}),
        )
        .await;
    let other: Value = other.json().await.expect("json");
    say(
        &app,
        &other_buyer.account.access_token,
        other["id"].as_str().expect("id"),
        "mine",
    )
    .await;

    // Past the overlap window, only what came after the last id seen is sent again.
    app.clock.advance(Duration::from_secs(31));
    let fourth = say(&app, seller_token, &p.conversation, "four").await;
    sent.push(fourth);
    let (mut socket, ready) = LiveSocket::connect(&app.address, buyer_token, Some(seen)).await;
    assert_eq!(ready["unread"], 5, "{ready}");
    let mut got = Vec::new();
    while got.len() < sent.len() {
        got.push(socket.until(is_message).await["message"].clone());
    }
    assert_eq!(got, sent);
}
