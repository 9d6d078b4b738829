//! Webhooks: signed events verified with the Standard Webhooks reference library, retries on
//! the schedule (the clock moved, never waited for), a receiver that was down getting every
//! event once, endpoints turned off after 5 days of failures or a 410, private addresses
//! refused at registration and at delivery, secret rotation, and sending again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shifting_api::outbox::WEBHOOK_BACKOFF;

use crate::helpers::{TestApp, error_of, spawn_app};
use crate::payments::market;

/// One request the receiver got, and what it answered.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub headers: HeaderMap,
    pub body: String,
    pub answered: u16,
}

impl Received {
    pub fn id(&self) -> &str {
        self.headers["webhook-id"].to_str().expect("webhook-id")
    }

    pub fn event(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Checks the signature with the reference library (timestamp tolerance included).
    pub fn verify(&self, secret: &str) {
        standardwebhooks::Webhook::new(secret)
            .expect("a secret")
            .verify(self.body.as_bytes(), &self.headers)
            .unwrap_or_else(|err| panic!("{err:?}: {:?}", self.headers));
    }

    /// Whether one of the signatures is the reference library's for `secret` (for messages
    /// sent at a moved clock, outside the library's 5-minute tolerance of the real time).
    pub fn signed_with(&self, secret: &str) -> bool {
        let timestamp: i64 = self.headers["webhook-timestamp"]
            .to_str()
            .expect("timestamp")
            .parse()
            .expect("a number");
        let expected = standardwebhooks::Webhook::new(secret)
            .expect("a secret")
            .sign(self.id(), timestamp, self.body.as_bytes())
            .expect("signs");
        self.headers["webhook-signature"]
            .to_str()
            .expect("signature")
            .split(' ')
            .any(|signature| signature == expected)
    }
}

/// A local webhook receiver that records every request and answers with a chosen status (and
/// `Retry-After`, when set).
pub(crate) struct Receiver {
    pub url: String,
    got: Arc<tokio::sync::watch::Sender<Vec<Received>>>,
    answer: Arc<AtomicU16>,
    retry_after: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let got = Arc::new(tokio::sync::watch::Sender::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(200));
        let retry_after = Arc::new(Mutex::new(None::<String>));
        let (got2, answer2, retry_after2) = (
            Arc::clone(&got),
            Arc::clone(&answer),
            Arc::clone(&retry_after),
        );
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
            let (got, answer) = (Arc::clone(&got2), Arc::clone(&answer2));
            let wait = retry_after2.lock().expect("lock").clone();
            async move {
                let answered = answer.load(Ordering::SeqCst);
                got.send_modify(|got| {
                    got.push(Received {
                        headers,
                        body,
                        answered,
                    });
                });
                let status = StatusCode::from_u16(answered).expect("a status");
                let mut headers = HeaderMap::new();
                if let Some(wait) = wait {
                    headers.insert("retry-after", wait.parse().expect("a header value"));
                }
                (status, headers)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/hooks/shifting",
            listener.local_addr().expect("addr")
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver");
        });
        Self {
            url,
            got,
            answer,
            retry_after,
            task,
        }
    }

    pub fn answer_with(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    /// Answers with `Retry-After: <wait>` too (or without, for `None`).
    pub fn ask_to_wait(&self, wait: Option<String>) {
        *self.retry_after.lock().expect("lock") = wait;
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.borrow().clone()
    }

    /// The requests it answered with 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Waits until it has had `n` requests (woken by each; given up after 10 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let mut got = self.got.subscribe();
        let arrived =
            tokio::time::timeout(Duration::from_secs(10), got.wait_for(|got| got.len() >= n)).await;
        match arrived {
            Ok(Ok(got)) => got.clone(),
            _ => panic!("the receiver got {:#?}, not {n} requests", self.received()),
        }
    }
}

/// Registers an endpoint for `events` at `url` with `token`; returns (id, secret).
pub(crate) async fn register(
    app_url: &str,
    http: &reqwest::Client,
    token: &str,
    url: &str,
    events: &[&str],
) -> (String, String) {
    let response = http
        .post(format!("{app_url}/api/webhooks"))
        .bearer_auth(token)
        .json(&json!({ "url": url, "description": "Shop", "event_types": events }))
        .send()
        .await
        .expect("register");
    let status = response.status();
    let created: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["endpoint"]["id"].as_str().expect("id").to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn endpoint(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.get_authed(&format!("/api/webhooks/{id}"), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// Turns endpoint `id` on or off; returns it.
async fn switch(app: &TestApp, token: &str, id: &str, on: bool) -> Value {
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/webhooks/{id}"),
            token,
            &json!({ "enabled": on }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let endpoint: Value = response.json().await.expect("json");
    assert_eq!(endpoint["enabled"], on);
    endpoint
}

async fn deliveries(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app
        .get_authed(&format!("/api/webhooks/{id}/deliveries"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.expect("json");
    page["deliveries"].as_array().expect("deliveries").clone()
}

/// Waits until `n` attempts of the webhook channel are recorded.
async fn attempts_reach(app: &TestApp, n: i64) {
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id \
             WHERE o.channel = 'webhook'",
            n,
        )
        .await,
        "never {n} webhook attempts"
    );
}

async fn key(app: &TestApp, token: &str, scopes: &[&str]) -> String {
    let response = app
        .send_json(
            Method::POST,
            "/api/me/api-keys",
            token,
            &json!({ "name": "shop", "scopes": scopes }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    created["secret"].as_str().expect("secret").to_owned()
}

async fn new_room(app: &TestApp, token: &str) -> String {
    let response = app
        .create_room(token, &json!({ "name": "Guitar lesson", "price": "9.50" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let room: Value = response.json().await.expect("json");
    room["code"].as_str().expect("code").to_owned()
}

/// A seller whose integration uses an API key with every scope (a key outlives the clock
/// moves that expire access tokens).
async fn integrator(app: &TestApp) -> String {
    let seller = app.trader("seller", "alice").await;
    key(
        app,
        &seller.account.access_token,
        &["read", "rooms:write", "webhooks:write"],
    )
    .await
}

/// An app whose integrator (a key with every scope) has an endpoint at a fresh receiver for
/// `room.created`.
struct Hooked {
    app: TestApp,
    token: String,
    receiver: Receiver,
    id: String,
    secret: String,
}

async fn hooked() -> Hooked {
    let app = spawn_app().await;
    let token = integrator(&app).await;
    let receiver = Receiver::start().await;
    let (id, secret) = register(
        &app.address,
        &app.client,
        &token,
        &receiver.url,
        &["room.created"],
    )
    .await;
    Hooked {
        app,
        token,
        receiver,
        id,
        secret,
    }
}

#[tokio::test]
async fn signed_events_reach_the_seller_and_the_buyer_and_verify_with_the_reference_library() {
    let app = spawn_app().await;
    let (seller, buyer, _) = market(&app).await;
    let (shop, wallet) = (Receiver::start().await, Receiver::start().await);
    // The seller's integration works with an API key; the buyer registers from a session.
    let shop_key = key(
        &app,
        &seller.account.access_token,
        &["read", "rooms:write", "webhooks:write"],
    )
    .await;
    let (shop_id, shop_secret) = register(
        &app.address,
        &app.client,
        &shop_key,
        &shop.url,
        &["transaction.completed", "room.created", "room.updated"],
    )
    .await;
    let (wallet_id, wallet_secret) = register(
        &app.address,
        &app.client,
        &buyer.account.access_token,
        &wallet.url,
        &["transaction.completed"],
    )
    .await;

    let code = new_room(&app, &shop_key).await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;

    let got = shop.wait_for(2).await;
    let mut types = BTreeMap::new();
    for request in &got {
        request.verify(&shop_secret);
        assert!(request.id().starts_with("msg_"), "{}", request.id());
        assert_eq!(request.headers["content-type"], "application/json");
        let event = request.event();
        types.insert(event["type"].as_str().expect("type").to_owned(), event);
    }
    assert_eq!(
        types.keys().map(String::as_str).collect::<Vec<_>>(),
        ["room.created", "transaction.completed"]
    );
    let room = &types["room.created"]["data"];
    assert_eq!(room["room_code"], code.as_str());
    assert_eq!(room["price"]["value"], "950");
    assert_eq!(room["closed"], false);
    let paid = &types["transaction.completed"]["data"];
    assert_eq!(paid["transaction_id"], id.as_str());
    assert_eq!(paid["room_code"], code.as_str());
    assert_eq!(paid["status"], "completed");
    assert_eq!(paid["amount"]["value"], "950");
    assert_eq!(paid["amount"]["asset_code"], "USD");

    // The buyer's endpoint wants only completions: it gets the same fact, signed its own way.
    let theirs = wallet.wait_for(1).await;
    assert_eq!(theirs.len(), 1);
    theirs[0].verify(&wallet_secret);
    assert!(!theirs[0].signed_with(&shop_secret));
    assert_eq!(theirs[0].event()["data"]["transaction_id"], id.as_str());
    assert_ne!(theirs[0].id(), types["transaction.completed"]["id"]);

    // The delivery log: each delivered at the first attempt with 200 (once the sender has
    // recorded the answers its receivers already got).
    attempts_reach(&app, 3).await;
    let log = deliveries(&app, &shop_key, &shop_id).await;
    assert_eq!(log.len(), 2);
    for message in &log {
        assert_eq!(message["status"], "delivered", "{message}");
        assert_eq!(message["attempts"][0]["outcome"], "sent");
        assert_eq!(message["attempts"][0]["response_code"], 200);
        assert!(message["next_attempt_at"].is_null());
    }
    let ids: BTreeSet<&str> = log.iter().map(|m| m["id"].as_str().expect("id")).collect();
    let sent: BTreeSet<&str> = got.iter().map(Received::id).collect();
    assert_eq!(ids, sent);
    assert_eq!(
        deliveries(&app, &buyer.account.access_token, &wallet_id)
            .await
            .len(),
        1
    );

    // A room change is news to the shop; the secret is never served and is sealed at rest.
    let changed = app
        .send_json(
            Method::PATCH,
            &format!("/api/rooms/{code}"),
            &seller.account.access_token,
            &json!({ "description": "Two hours now." }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let got = shop.wait_for(3).await;
    assert_eq!(got[2].event()["type"], "room.updated");
    let listed = app.get_authed("/api/webhooks", &shop_key).await;
    let listed = listed.text().await.expect("text");
    assert!(!listed.contains("whsec_"), "{listed}");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE secret LIKE '%whsec_%'")
            .await,
        0
    );

    // Another person's endpoint is not there for anyone else.
    let response = app
        .get_authed(
            &format!("/api/webhooks/{shop_id}"),
            &buyer.account.access_token,
        )
        .await;
    error_of(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_once_on_the_schedule() {
    let Hooked {
        app,
        token,
        receiver,
        id,
        secret,
    } = hooked().await;
    let token = &token;
    receiver.answer_with(503);
    for _ in 0..3 {
        new_room(&app, token).await;
    }
    attempts_reach(&app, 3).await;
    assert!(!endpoint(&app, token, &id).await["failing_since"].is_null());

    // Each retry waits its step of the schedule: it is due exactly one step after the attempt
    // before, and made no earlier than due (the clock is moved in two parts, the last second
    // apart: an attempt made early would carry the earlier time).
    let mut due = BTreeMap::new();
    for (step, wait) in WEBHOOK_BACKOFF[..3].iter().enumerate() {
        let tried = i64::try_from(3 * (step + 1)).expect("small");
        for message in deliveries(&app, token, &id).await {
            assert_eq!(message["status"], "pending");
            let attempts = message["attempts"].as_array().expect("attempts");
            assert_eq!(attempts.len(), step + 1);
            let last = attempts.last().expect("an attempt");
            assert_eq!(last["outcome"], "retry");
            assert_eq!(last["response_code"], 503);
            let at = time(&last["at"]);
            let id = message["id"].as_str().expect("id").to_owned();
            if let Some(was_due) = due.get(&id) {
                assert!(at >= *was_due, "attempted at {at}, before {was_due}");
            }
            let next = time(&message["next_attempt_at"]);
            assert_eq!(next - at, chrono::Duration::from_std(*wait).expect("fits"));
            due.insert(id, next);
        }
        assert_eq!(app.count(ATTEMPTS).await, tried);
        app.clock.advance(*wait - Duration::from_secs(1));
        app.clock.advance(Duration::from_secs(1));
        attempts_reach(&app, tried + 3).await;
    }

    // The receiver is back: the next retry delivers each event, once.
    receiver.answer_with(200);
    app.clock.advance(WEBHOOK_BACKOFF[3]);
    attempts_reach(&app, 15).await;
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), 3, "{delivered:#?}");
    let ids: BTreeSet<&str> = delivered.iter().map(Received::id).collect();
    assert_eq!(ids.len(), 3);
    let received = receiver.received();
    let all: BTreeSet<&str> = received.iter().map(Received::id).collect();
    assert_eq!(all, ids, "every attempt carried one of the three ids");
    for request in &delivered {
        assert!(request.signed_with(&secret));
    }
    // Every attempt of a message carries its id and the very same body.
    for request in &received {
        let first = received
            .iter()
            .find(|r| r.id() == request.id())
            .expect("seen");
        assert_eq!(first.body, request.body);
    }
    for message in deliveries(&app, token, &id).await {
        assert_eq!(message["status"], "delivered");
        assert_eq!(message["attempts"].as_array().expect("attempts").len(), 5);
    }
    assert!(endpoint(&app, token, &id).await["failing_since"].is_null());
}

#[tokio::test]
async fn a_retry_after_is_honoured_up_to_a_day() {
    let Hooked {
        app,
        token,
        receiver,
        id,
        ..
    } = hooked().await;
    let token = &token;
    // Each answer, and the wait before the next attempt it gives: the longer of the
    // schedule's step and the one asked (at most a day).
    let in_ten_days = httpdate::fmt_http_date((app.clock.now() + chrono::Days::new(10)).into());
    let steps = [
        (429, Some("3600".to_owned()), Duration::from_secs(3600)),
        (503, Some(in_ten_days), Duration::from_secs(24 * 3600)),
        (503, None, WEBHOOK_BACKOFF[2]),
        (500, Some("1".to_owned()), WEBHOOK_BACKOFF[3]),
    ];
    receiver.answer_with(steps[0].0);
    receiver.ask_to_wait(steps[0].1.clone());
    new_room(&app, token).await;
    for (n, (code, asked, wait)) in steps.iter().enumerate() {
        let tried = i64::try_from(n + 1).expect("small");
        attempts_reach(&app, tried).await;
        let message = deliveries(&app, token, &id).await.remove(0);
        assert_eq!(message["status"], "pending");
        let last = message["attempts"].as_array().expect("attempts")[n].clone();
        assert_eq!(last["response_code"], *code);
        assert_eq!(
            last["detail"]
                .as_str()
                .expect("a detail")
                .contains("Retry-After"),
            asked.is_some(),
            "{last}"
        );
        let next = time(&message["next_attempt_at"]);
        assert_eq!(
            next - time(&last["at"]),
            chrono::Duration::from_std(*wait).expect("fits"),
            "attempt {}",
            n + 1
        );
        if let Some((code, asked, _)) = steps.get(n + 1) {
            receiver.answer_with(*code);
            receiver.ask_to_wait(asked.clone());
        } else {
            receiver.answer_with(200);
            receiver.ask_to_wait(Some("3600".to_owned()));
        }
        app.clock.advance(*wait);
    }
    attempts_reach(&app, 5).await;
    let message = deliveries(&app, token, &id).await.remove(0);
    assert_eq!(message["status"], "delivered", "{message}");
    assert_eq!(receiver.delivered().len(), 1);
}

#[tokio::test]
async fn deliveries_and_mail_rows_are_forgotten_thirty_days_after_their_last_send() {
    let Hooked {
        app,
        token,
        receiver,
        id,
        ..
    } = hooked().await;
    let token = &token;
    const MAIL: &str = "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'mail'";
    const MESSAGES: &str = "SELECT COUNT(*) AS n FROM webhook_messages";
    const ALL_ATTEMPTS: &str = "SELECT COUNT(*) AS n FROM outbox_attempts";
    // The sign-up's mail, delivered now; two events, delivered now.
    assert!(app.count(MAIL).await > 0);
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'mail' AND status = 'pending'",
            0
        )
        .await
    );
    new_room(&app, token).await;
    new_room(&app, token).await;
    receiver.wait_for(2).await;
    attempts_reach(&app, 2).await;
    let first = deliveries(&app, token, &id).await;
    let (resent, old) = (first[0]["id"].clone(), first[1]["id"].clone());

    // An hour short of 30 days on, one of them is sent again, and a third event finds the
    // receiver down. An hour later the other is 30 days old and goes, with its row, its
    // attempts and the mail; the one sent again stays whole (both sends), and so does the one
    // still trying.
    app.clock
        .advance(Duration::from_secs(30 * 24 * 3600 - 3600));
    let again = app
        .send_json(
            Method::POST,
            &format!(
                "/api/webhooks/{id}/deliveries/{}/send",
                resent.as_str().expect("an id")
            ),
            token,
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    receiver.wait_for(3).await;
    attempts_reach(&app, 3).await;
    receiver.answer_with(503);
    new_room(&app, token).await;
    attempts_reach(&app, 4).await;
    let trying = deliveries(&app, token, &id).await[0]["id"].clone();
    assert_eq!(app.count(MESSAGES).await, 3);
    app.clock.advance(Duration::from_secs(3600 + 1));
    assert!(app.counts(MESSAGES, 2).await, "the old message was kept");
    assert!(app.counts(MAIL, 0).await, "the mail rows were kept");
    let log = deliveries(&app, token, &id).await;
    let ids: Vec<&Value> = log.iter().map(|message| &message["id"]).collect();
    assert_eq!(ids, [&trying, &resent], "{old} is gone");
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[1]["status"], "delivered");
    let sends = log[1]["attempts"].as_array().expect("attempts");
    assert_eq!(sends.len(), 2, "both sends of the message sent again");
    // Nothing else is left: the attempts are those two and the ones still trying.
    let trying_attempts = log[0]["attempts"].as_array().expect("attempts").len();
    assert_eq!(
        app.count(ALL_ATTEMPTS).await,
        i64::try_from(2 + trying_attempts).expect("small")
    );

    // The one still trying is delivered when the receiver is back; 30 days after their last
    // sends, both are forgotten.
    receiver.answer_with(200);
    app.clock.advance(Duration::from_secs(3600));
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'webhook' AND status = 'pending'",
            0
        )
        .await
    );
    app.clock.advance(Duration::from_secs(31 * 24 * 3600));
    assert!(app.counts(MESSAGES, 0).await);
    assert!(app.counts(ALL_ATTEMPTS, 0).await);
    assert!(deliveries(&app, token, &id).await.is_empty());
}

#[tokio::test]
async fn the_rows_of_a_deleted_endpoint_are_forgotten_thirty_days_after_their_send() {
    let Hooked {
        app,
        token,
        receiver,
        id,
        ..
    } = hooked().await;
    new_room(&app, &token).await;
    receiver.wait_for(1).await;
    attempts_reach(&app, 1).await;
    let deleted = app
        .send_json(
            Method::DELETE,
            &format!("/api/webhooks/{id}"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    const ROWS: &str = "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'webhook'";
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM webhook_messages")
            .await,
        0
    );
    assert_eq!(
        app.count(ROWS).await,
        1,
        "the attempts log outlives the endpoint"
    );
    app.clock.advance(Duration::from_secs(30 * 24 * 3600 + 1));
    assert!(
        app.counts(ROWS, 0).await,
        "the row of a deleted endpoint was kept"
    );
    assert_eq!(app.count(ATTEMPTS).await, 0);
}

#[tokio::test]
async fn a_suspended_account_hears_nothing_until_the_suspension_is_lifted() {
    use shifting_shared::webhooks::{EventData, EventType, MessageEventData};
    let app = spawn_app().await;
    let seller = app.trader("seller", "alice").await;
    let token = &key(
        &app,
        &seller.account.access_token,
        &["read", "webhooks:write"],
    )
    .await;
    let receiver = Receiver::start().await;
    register(
        &app.address,
        &app.client,
        token,
        &receiver.url,
        &["message.created"],
    )
    .await;
    let user: uuid::Uuid = seller.account.id.parse().expect("an id");
    let emit = |message_id: i64| {
        let data = EventData::Message(MessageEventData {
            conversation_id: uuid::Uuid::nil(),
            message_id,
        });
        let (db, at) = (app.db.clone(), app.clock.now());
        async move {
            shifting_api::webhooks::emit(
                &db,
                EventType::MessageCreated,
                &[user],
                data,
                &format!("message.created:{message_id}"),
                at,
            )
            .await
            .expect("emits")
        }
    };
    let root = crate::admin::admin(&app, "root").await;
    let admin_action = |what: &'static str| {
        let (app, root) = (&app, &root);
        async move {
            app.send_json(
                Method::POST,
                &format!("/api/admin/users/{user}/{what}"),
                root,
                &json!({ "reason": "Checking the integrations." }),
            )
            .await
        }
    };
    assert_eq!(admin_action("suspend").await.status(), StatusCode::OK);
    assert_eq!(emit(1).await, 0, "queued for a suspended account");
    error_of(
        app.get_authed("/api/webhooks", token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(admin_action("unsuspend").await.status(), StatusCode::OK);
    assert_eq!(emit(2).await, 1);
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event()["data"]["message_id"], 2);
}

const ATTEMPTS: &str = "SELECT COUNT(*) AS n FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id WHERE o.channel = 'webhook'";

fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value
        .as_str()
        .expect("a time")
        .parse()
        .expect("an RFC 3339 time")
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_turned_off_then_on_and_sends_again() {
    let Hooked {
        app,
        token,
        receiver,
        id,
        secret,
    } = hooked().await;
    let token = &token;
    const OWNER: &str = "seller@example.com";
    app.confirm_email(OWNER).await;
    receiver.answer_with(500);
    new_room(&app, token).await;
    attempts_reach(&app, 1).await;
    // The whole schedule: ten attempts over about three days, then given up.
    for (step, wait) in WEBHOOK_BACKOFF.iter().enumerate() {
        app.clock.advance(*wait);
        attempts_reach(&app, i64::try_from(step + 2).expect("small")).await;
    }
    let log = deliveries(&app, token, &id).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"].as_array().expect("attempts").len(), 10);
    assert_eq!(log[0]["attempts"][9]["outcome"], "failed");
    let first = log[0]["id"].as_str().expect("id").to_owned();
    assert!(
        endpoint(&app, token, &id).await["enabled"]
            .as_bool()
            .expect("bool")
    );

    // Five days after the first failure, one more failure turns it off.
    app.clock.advance(Duration::from_secs(2 * 86_400));
    new_room(&app, token).await;
    attempts_reach(&app, 11).await;
    let off = endpoint(&app, token, &id).await;
    assert_eq!(off["enabled"], false);
    assert_eq!(off["disabled_reason"], "failing");
    // Its owner is told by mail too (the first mail was the address's confirmation).
    let told = app.mail(OWNER, 2).await;
    assert_eq!(told.subject(), "Shifting turned off one of your webhooks");
    assert!(told.text.contains(&receiver.url), "{}", told.text);
    assert!(told.text.contains("failed for 5 days"), "{}", told.text);
    assert!(told.text.contains("/settings#webhooks"), "{}", told.text);
    // Nothing more is queued for it, and its pending message is dropped at its next try.
    new_room(&app, token).await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM webhook_messages")
            .await,
        2
    );
    app.clock.advance(WEBHOOK_BACKOFF[0]);
    assert!(
        app.counts(
            "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'webhook' AND status = 'pending'",
            0
        )
        .await
    );
    let again = app
        .send_json(
            Method::POST,
            &format!("/api/webhooks/{id}/deliveries/{first}/send"),
            token,
            &json!({}),
        )
        .await;
    error_of(again, StatusCode::CONFLICT).await;

    // Back on, with the receiver working: the first message is sent again on request, with
    // its id and body, signed afresh.
    receiver.answer_with(200);
    let on = switch(&app, token, &id, true).await;
    assert!(on["failing_since"].is_null() && on["disabled_reason"].is_null());
    let before = receiver.received().len();
    let again = app
        .send_json(
            Method::POST,
            &format!("/api/webhooks/{id}/deliveries/{first}/send"),
            token,
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let got = receiver.wait_for(before + 1).await;
    let resent = got.last().expect("one");
    assert_eq!(resent.id(), first);
    assert_eq!(resent.answered, 200);
    assert!(resent.signed_with(&secret));
    assert_eq!(resent.body, got[0].body);
    attempts_reach(&app, 13).await;
    let log = deliveries(&app, token, &id).await;
    let message = log
        .iter()
        .find(|m| m["id"] == first.as_str())
        .expect("listed");
    assert_eq!(message["status"], "delivered");
    assert_eq!(message["attempts"].as_array().expect("attempts").len(), 11);
    // An unknown message id is 404.
    let unknown = app
        .send_json(
            Method::POST,
            &format!("/api/webhooks/{id}/deliveries/msg_nothing/send"),
            token,
            &json!({}),
        )
        .await;
    error_of(unknown, StatusCode::NOT_FOUND).await;

    // A receiver answering 410 Gone turns its endpoint off at once.
    receiver.answer_with(410);
    new_room(&app, token).await;
    attempts_reach(&app, 14).await;
    let gone = endpoint(&app, token, &id).await;
    assert_eq!(gone["enabled"], false);
    assert_eq!(gone["disabled_reason"], "gone");
    let told = app.mail(OWNER, 3).await;
    assert!(told.text.contains("410 Gone"), "{}", told.text);
    // Turning it off oneself mails nothing: no third mail is even queued.
    switch(&app, token, &id, true).await;
    assert_eq!(
        switch(&app, token, &id, false).await["disabled_reason"],
        "owner"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE 'mail:webhook-off:%'")
            .await,
        2
    );
}

#[tokio::test]
async fn private_addresses_are_refused_at_registration_and_at_delivery() {
    let app = spawn_app().await;
    let token = &integrator(&app).await;
    for (url, code) in [
        ("http://10.0.0.1/hook", "url_not_allowed"),
        ("http://192.168.1.20:8080/hook", "url_not_allowed"),
        ("http://169.254.169.254/latest/meta-data", "url_not_allowed"),
        ("http://[::ffff:10.0.0.1]/hook", "url_not_allowed"),
        ("http://[fd00::1]/hook", "url_not_allowed"),
        ("ftp://shop.example/hook", "url_not_allowed"),
        ("http://user:pass@127.0.0.1/hook", "invalid"),
        ("not a url", "invalid"),
        ("", "required"),
    ] {
        let response = app
            .send_json(
                Method::POST,
                "/api/webhooks",
                token,
                &json!({ "url": url, "event_types": ["room.created"] }),
            )
            .await;
        let body = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["field_codes"]["url"], code, "{url}: {body}");
    }
    let response = app
        .send_json(
            Method::POST,
            "/api/webhooks",
            token,
            &json!({ "url": "https://shop.example/hook", "event_types": [] }),
        )
        .await;
    let body = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field_codes"]["event_types"], "required");

    // An endpoint stored before its address was refused (a changed policy, an edited row) is
    // refused at delivery, without a connection: given up at once.
    let receiver = Receiver::start().await;
    let (id, _) = register(
        &app.address,
        &app.client,
        token,
        &receiver.url,
        &["room.created"],
    )
    .await;
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        use shifting_api::entities::webhook_endpoints::{Column, Entity};
        let moved = Entity::update_many()
            .col_expr(Column::Url, Expr::value("http://10.0.0.1:9/hook"))
            .filter(Column::Id.eq(uuid::Uuid::parse_str(&id).expect("uuid")))
            .exec(&app.db)
            .await
            .expect("update");
        assert_eq!(moved.rows_affected, 1);
    }
    new_room(&app, token).await;
    attempts_reach(&app, 1).await;
    let log = deliveries(&app, token, &id).await;
    assert_eq!(log[0]["status"], "failed");
    let detail = log[0]["attempts"][0]["detail"].as_str().expect("detail");
    assert!(detail.contains("internal address"), "{detail}");
    assert!(receiver.received().is_empty());
    // So is a URL moved there through the API.
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/webhooks/{id}"),
            token,
            &json!({ "url": "http://172.16.0.1/hook" }),
        )
        .await;
    let body = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field_codes"]["url"], "url_not_allowed");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_for_a_day() {
    let Hooked {
        app,
        token,
        receiver,
        id,
        secret: old,
    } = hooked().await;
    let token = &token;
    let rotated = app
        .send_json(
            Method::POST,
            &format!("/api/webhooks/{id}/secret"),
            token,
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.expect("json");
    let new = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    assert!(!rotated["endpoint"]["previous_secret_until"].is_null());

    new_room(&app, token).await;
    let got = receiver.wait_for(1).await;
    got[0].verify(&new);
    got[0].verify(&old);
    let signatures = got[0].headers["webhook-signature"].to_str().expect("text");
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");

    app.clock.advance(Duration::from_secs(24 * 3600 + 1));
    new_room(&app, token).await;
    let got = receiver.wait_for(2).await;
    assert!(got[1].signed_with(&new));
    assert!(!got[1].signed_with(&old));
    let signatures = got[1].headers["webhook-signature"].to_str().expect("text");
    assert_eq!(signatures.split(' ').count(), 1, "{signatures}");
}

#[tokio::test]
async fn endpoints_are_limited_checked_and_deleted_with_their_log() {
    let app = spawn_app().await;
    let owner = app.create_account("integrator").await.access_token;
    let read_only = key(&app, &owner, &["read"]).await;
    let response = app
        .send_json(
            Method::POST,
            "/api/webhooks",
            &read_only,
            &json!({ "url": "https://shop.example/hook", "event_types": ["room.created"] }),
        )
        .await;
    let body = error_of(response, StatusCode::FORBIDDEN).await;
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("webhooks:write")
    );
    let mut ids = Vec::new();
    for n in 0..10 {
        let url = format!("https://shop{n}.example/hook");
        ids.push(
            register(
                &app.address,
                &app.client,
                &owner,
                &url,
                &["room.created", "room.created"],
            )
            .await
            .0,
        );
    }
    let listed: Value = app
        .get_authed("/api/webhooks", &read_only)
        .await
        .json()
        .await
        .expect("json");
    let listed = listed["endpoints"].as_array().expect("endpoints");
    assert_eq!(listed.len(), 10);
    assert_eq!(listed[0]["event_types"], json!(["room.created"]));
    let response = app
        .send_json(
            Method::POST,
            "/api/webhooks",
            &owner,
            &json!({ "url": "https://eleven.example/hook", "event_types": ["room.created"] }),
        )
        .await;
    error_of(response, StatusCode::CONFLICT).await;
    let response = app
        .send_json(
            Method::POST,
            "/api/webhooks",
            &owner,
            &json!({ "url": "https://shop.example/hook", "event_types": ["room.sold"] }),
        )
        .await;
    assert!(response.status().is_client_error());

    // Its owner turns one off and on.
    let off = app
        .send_json(
            Method::PATCH,
            &format!("/api/webhooks/{}", ids[1]),
            &owner,
            &json!({ "enabled": false, "description": "Paused for the move" }),
        )
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    let off: Value = off.json().await.expect("json");
    assert_eq!(off["enabled"], false);
    assert_eq!(off["disabled_reason"], "owner");
    assert_eq!(off["description"], "Paused for the move");

    let deleted = app
        .send_json(
            Method::DELETE,
            &format!("/api/webhooks/{}", ids[0]),
            &owner,
            &json!({}),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let response = app
        .get_authed(&format!("/api/webhooks/{}", ids[0]), &owner)
        .await;
    error_of(response, StatusCode::NOT_FOUND).await;
    let response = app.get_authed("/api/webhooks/not-a-uuid", &owner).await;
    error_of(response, StatusCode::NOT_FOUND).await;
}
