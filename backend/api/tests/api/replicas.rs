//! Several `shifting serve` processes on one database, sharing a standalone sandbox: payments
//! start on replica A, the wallet's finish redirect lands on replica B (the public URL, as
//! behind a load balancer), and both run verification workers. Every transaction must complete
//! exactly once, with exactly one outgoing payment each. On PostgreSQL when the test command
//! provides one (`SHIFTING_TEST_POSTGRES_URL`), else on one SQLite file.

use std::path::Path;
use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TEST_JWT_SECRET, consent, count_outgoing_payments, fresh_postgres_database};
use crate::live::{LiveSocket, is_message};
use crate::processes::{self, Process, ready, shifting};

pub(crate) struct Cluster {
    pub(crate) a: String,
    pub(crate) b: String,
    pub(crate) sandbox: String,
    pub(crate) http: reqwest::Client,
    pub(crate) database_url: String,
    _processes: Vec<Process>,
    pub(crate) dir: tempfile::TempDir,
}

async fn cluster() -> Cluster {
    cluster_with(&[
        ("SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE", "100000".into()),
        ("SHIFTING_AUTH_RATE_LIMIT_BURST", "100000".into()),
        ("SHIFTING_PAYMENT_RATE_LIMIT_PER_MINUTE", "100000".into()),
        ("SHIFTING_PAYMENT_RATE_LIMIT_BURST", "100000".into()),
    ])
    .await
}

/// A standalone sandbox and two replicas (B, the public URL, and A) on one database, each
/// replica started with `settings` on top of the shared ones.
pub(crate) async fn cluster_with(settings: &[(&str, String)]) -> Cluster {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match std::env::var("SHIFTING_TEST_POSTGRES_URL") {
        Ok(server) => fresh_postgres_database(&server).await,
        Err(_) => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("shared.db").display()
        ),
    };
    let data = dir.path().display().to_string();
    let (sandbox_process, sandbox) = shifting(
        &["sandbox", "--addr", "127.0.0.1:0", "--data-dir", &data],
        &[("SHIFTING_SANDBOX_WAIT_SECS", "0".into())],
    )
    .await;
    let mut processes = vec![sandbox_process];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    ready(&http, &format!("{sandbox}/accounts")).await;
    // B first: it runs the migrations before A starts, and its address is the public URL of
    // both (A is told it; B defaults to its own).
    let mut public = None;
    let mut urls = Vec::new();
    for _replica in ["b", "a"] {
        let mut envs = vec![
            ("SHIFTING_DATABASE_URL", database_url.clone()),
            ("SHIFTING_JWT_SECRET", TEST_JWT_SECRET.into()),
            ("SHIFTING_SANDBOX_URL", sandbox.clone()),
            (
                "SHIFTING_WEB_DIR",
                Path::new(&data).join("no-web").display().to_string(),
            ),
            ("SHIFTING_DATABASE_MAX_CONNECTIONS", "20".into()),
        ];
        envs.extend(public.clone().map(|url| ("SHIFTING_PUBLIC_URL", url)));
        envs.extend(settings.iter().cloned());
        let (process, url) = shifting(
            &["serve", "--addr", "127.0.0.1:0", "--data-dir", &data],
            &envs,
        )
        .await;
        ready(&http, &format!("{url}/ready")).await;
        processes.push(process);
        public.get_or_insert_with(|| url.clone());
        urls.push(url);
    }
    let [b, a] = <[String; 2]>::try_from(urls).expect("two replicas");
    Cluster {
        a,
        b,
        sandbox,
        http,
        database_url,
        _processes: processes,
        dir,
    }
}

impl Cluster {
    async fn json(&self, request: reqwest::RequestBuilder) -> Value {
        processes::json(request).await
    }

    /// Signs up on `replica` and sets a sandbox wallet; returns the access token.
    async fn trader(&self, replica: &str, name: &str, wallet: &str) -> String {
        processes::trader(&self.http, replica, &self.sandbox, name, wallet).await
    }

    /// A whole purchase: started on `start_on`, approved, finished wherever the wallet sends
    /// the browser. Returns the transaction id.
    async fn purchase(&self, start_on: &str, token: &str, code: &str) -> String {
        let started = self
            .json(
                self.http
                    .post(format!("{start_on}/api/rooms/{code}/payments"))
                    .bearer_auth(token)
                    .json(&json!({})),
            )
            .await;
        let finish = consent(
            started["redirect_url"].as_str().expect("redirect"),
            "approve",
        )
        .await;
        assert!(
            finish.starts_with(&self.b),
            "the finish lands on B: {finish}"
        );
        let response = self.http.get(&finish).send().await.expect("finish");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        started["transaction"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Polls (on either replica) until the transaction is completed; returns it.
    async fn completed(&self, replica: &str, token: &str, id: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..1500 {
            last = self
                .json(
                    self.http
                        .get(format!("{replica}/api/transactions/{id}"))
                        .bearer_auth(token),
                )
                .await;
            if last["status"] == "completed" {
                return last;
            }
            assert_ne!(last["status"], "failed", "{last:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("never completed: {last:#}");
    }

    /// A room at 25.00 opened on A by the holder of `seller`; its code.
    async fn room(&self, seller: &str) -> String {
        let room = self
            .json(
                self.http
                    .post(format!("{}/api/rooms", self.a))
                    .bearer_auth(seller)
                    .json(&json!({"name": "Lesson", "price": "25.00"})),
            )
            .await;
        room["code"].as_str().expect("code").to_owned()
    }

    async fn balance(&self, name: &str) -> i64 {
        processes::balance(&self.http, &self.sandbox, name).await
    }
}

/// Each status appears once in the history: no step was done twice.
fn assert_each_step_once(transaction: &Value) {
    let statuses: Vec<&str> = transaction["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        ["awaiting_approval", "approved", "sending", "completed"]
    );
}

#[tokio::test]
async fn payments_started_on_one_replica_and_finished_on_another_complete_exactly_once() {
    let cluster = cluster().await;
    let seller = cluster.trader(&cluster.a, "seller", "alice").await;
    let code = cluster.room(&seller).await;
    let alice = cluster.balance("alice").await;

    // One purchase, A to B.
    let buyer = cluster.trader(&cluster.a, "first", "bruno").await;
    let id = cluster.purchase(&cluster.a, &buyer, &code).await;
    let done = cluster.completed(&cluster.a, &buyer, &id).await;
    assert_each_step_once(&done);

    // Fifty buyers at once, starting on both replicas.
    let buyers = join_all((0..50).map(|n| {
        let cluster = &cluster;
        async move {
            let replica = if n % 2 == 0 { &cluster.a } else { &cluster.b };
            (
                replica.clone(),
                cluster.trader(replica, &format!("buyer{n}"), "bruno").await,
            )
        }
    }))
    .await;
    let ids = join_all(
        buyers
            .iter()
            .map(|(replica, token)| cluster.purchase(replica, token, &code)),
    )
    .await;
    for ((replica, token), id) in buyers.iter().zip(&ids) {
        let done = cluster.completed(replica, token, id).await;
        assert_each_step_once(&done);
    }
    assert_eq!(cluster.balance("alice").await, alice + 51 * 2500);
    assert_eq!(count_outgoing_payments(cluster.dir.path()).await, 51);
    let sales = cluster
        .json(
            cluster
                .http
                .get(format!(
                    "{}/api/transactions?role=seller&limit=100",
                    cluster.b
                ))
                .bearer_auth(&seller),
        )
        .await;
    assert_eq!(sales["total"], 51);
}

/// Live fan-out across replicas goes through PostgreSQL's LISTEN/NOTIFY; on SQLite the product
/// runs one process, so this runs where the test command provides PostgreSQL (it always does).
#[tokio::test]
async fn messages_and_payment_status_reach_a_socket_on_the_other_replica() {
    if std::env::var("SHIFTING_TEST_POSTGRES_URL").is_err() {
        eprintln!("several replicas share live events through PostgreSQL only: skipped on SQLite");
        return;
    }
    let cluster = cluster().await;
    let seller = cluster.trader(&cluster.a, "seller", "alice").await;
    let buyer = cluster.trader(&cluster.a, "buyer", "bruno").await;
    let code = cluster.room(&seller).await;
    let conversation = cluster
        .json(
            cluster
                .http
                .post(format!("{}/api/rooms/{code}/conversation", cluster.a))
                .bearer_auth(&buyer),
        )
        .await;
    let conversation = conversation["id"].as_str().expect("id").to_owned();

    // The seller watches on B; the buyer writes through A.
    let (mut on_b, _) = LiveSocket::connect(&cluster.b, &seller, None).await;
    let posted = cluster
        .json(
            cluster
                .http
                .post(format!(
                    "{}/api/conversations/{conversation}/messages",
                    cluster.a
                ))
                .bearer_auth(&buyer)
                .json(&json!({"text": "Written on A"})),
        )
        .await;
    let pushed = on_b.until(is_message).await;
    assert_eq!(pushed["message"], posted);
    assert_eq!(on_b.until(|e| e["type"] == "unread").await["total"], 1);

    // The buyer pays; the wallet's finish redirect is sent to A.
    let started = cluster
        .json(
            cluster
                .http
                .post(format!("{}/api/rooms/{code}/payments", cluster.a))
                .bearer_auth(&buyer)
                .json(&json!({})),
        )
        .await;
    let id = started["transaction"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let finish = consent(
        started["redirect_url"].as_str().expect("redirect"),
        "approve",
    )
    .await;
    let finish = finish.replacen(&cluster.b, &cluster.a, 1);
    let response = cluster.http.get(&finish).send().await.expect("finish");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The conversation's entry is written just before the status is announced.
    let entry = on_b
        .until(|e| is_message(e) && e["message"]["event"] == "completed")
        .await;
    assert_eq!(entry["message"]["transaction_id"], id.as_str());
    let completed = on_b
        .until(|e| e["type"] == "transaction" && e["status"] == "completed")
        .await;
    assert_eq!(completed["id"], id.as_str());
}

#[tokio::test]
async fn two_replicas_send_each_mail_once() {
    let smtp = crate::mailbox::SmtpServer::start().await;
    let cluster = cluster_with(&[
        ("SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE", "100000".into()),
        ("SHIFTING_AUTH_RATE_LIMIT_BURST", "100000".into()),
        ("SHIFTING_SMTP_URL", smtp.url()),
    ])
    .await;
    let signups = (0..24).map(|i| {
        let replica = if i % 2 == 0 { &cluster.a } else { &cluster.b };
        cluster
            .http
            .post(format!("{replica}/api/auth/signup"))
            .json(&json!({
                "username": format!("user{i}"),
                "email": format!("user{i}@example.com"),
                "password": crate::helpers::PASSWORD,
            }))
            .send()
    });
    for response in join_all(signups).await {
        assert_eq!(response.expect("signup").status(), StatusCode::CREATED);
    }
    smtp.wait_for(24).await;
    let db = sea_orm::Database::connect(&cluster.database_url)
        .await
        .expect("database");
    for _ in 0..500 {
        let pending = crate::helpers::scalar(
            &db,
            "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'",
        )
        .await;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = crate::helpers::scalar(&db, "SELECT COUNT(*) AS n FROM outbox_attempts").await;
    assert_eq!(sent, 24, "one attempt per mail, none repeated");
    db.close().await.ok();
    let received = smtp.received();
    assert_eq!(received.len(), 24);
    let mut ids: Vec<&str> = received
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 24, "each mail once");
}

#[tokio::test]
async fn two_replicas_deliver_each_webhook_once() {
    let receiver = crate::webhooks::Receiver::start().await;
    let cluster = cluster().await;
    let seller = cluster.trader(&cluster.b, "seller", "alice").await;
    let (_, secret) = crate::webhooks::register(
        &cluster.b,
        &cluster.http,
        &seller,
        &receiver.url,
        &["room.created"],
    )
    .await;
    // Rooms opened on both replicas at once: each replica's sender races for every message.
    let opened = (0..30).map(|i| {
        let replica = if i % 2 == 0 { &cluster.a } else { &cluster.b };
        cluster
            .http
            .post(format!("{replica}/api/rooms"))
            .bearer_auth(&seller)
            .json(&json!({ "name": format!("Lesson {i}"), "price": "25.00" }))
            .send()
    });
    for response in join_all(opened).await {
        assert_eq!(response.expect("room").status(), StatusCode::CREATED);
    }
    let got = receiver.wait_for(30).await;
    let db = sea_orm::Database::connect(&cluster.database_url)
        .await
        .expect("database");
    for _ in 0..500 {
        let pending = crate::helpers::scalar(
            &db,
            "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'webhook' AND status <> 'sent'",
        )
        .await;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let attempts = crate::helpers::scalar(
        &db,
        "SELECT COUNT(*) AS n FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id \
         WHERE o.channel = 'webhook'",
    )
    .await;
    assert_eq!(attempts, 30, "one attempt per message, none repeated");
    db.close().await.ok();
    let got_now = receiver.received();
    assert_eq!(got_now.len(), 30, "no message posted twice");
    let mut ids: Vec<&str> = got.iter().map(crate::webhooks::Received::id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 30, "each event once");
    for request in &got {
        request.verify(&secret);
    }
}
