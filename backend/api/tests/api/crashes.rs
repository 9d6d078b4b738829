//! The API process killed with SIGKILL at each step of a payment, then started again: every
//! transaction must reach a correct final state, money must move at most once, and nothing may
//! be left `sending` or `approved`.
//!
//! The sandbox runs as its own process, so it outlives the kill, and it adds 700 ms to every
//! auth and resource-server request. That gives each step a wide window: the test watches the
//! database, and once a step's result is stored it kills the server while the next request is
//! still in flight.

use std::path::Path;
use std::time::Duration;

use sea_orm::{Database, DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use shifting_api::entities::transactions;

use crate::helpers::{TEST_JWT_SECRET, consent, count_outgoing_payments, fresh_postgres_database};
use crate::processes::{self, Process, free_port, ready, shifting};

/// A standalone sandbox, a database, and the API process that gets killed.
struct Setup {
    api: Option<Process>,
    url: String,
    port: u16,
    sandbox: String,
    database_url: String,
    db: DatabaseConnection,
    http: reqwest::Client,
    _sandbox: Process,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match std::env::var("SHIFTING_TEST_POSTGRES_URL") {
            Ok(server) => fresh_postgres_database(&server).await,
            Err(_) => format!("sqlite://{}?mode=rwc", dir.path().join("api.db").display()),
        };
        let sandbox_port = free_port();
        let data = dir.path().display().to_string();
        let sandbox_process = shifting(
            &[
                "sandbox",
                "--addr",
                &format!("127.0.0.1:{sandbox_port}"),
                "--data-dir",
                &data,
            ],
            &[
                ("SHIFTING_SANDBOX_WAIT_SECS", "0".into()),
                ("SHIFTING_SANDBOX_LATENCY_MS", "700".into()),
            ],
        );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let sandbox = format!("http://127.0.0.1:{sandbox_port}/sandbox");
        ready(&http, &format!("{sandbox}/accounts")).await;
        let port = free_port();
        let mut setup = Self {
            api: None,
            url: format!("http://127.0.0.1:{port}"),
            port,
            sandbox,
            db: Database::connect("sqlite::memory:")
                .await
                .expect("placeholder"),
            database_url,
            http,
            _sandbox: sandbox_process,
            dir,
        };
        setup.start().await;
        setup.db = Database::connect(&setup.database_url)
            .await
            .expect("the API's database");
        setup
    }

    /// Starts the API (again) on the same port, database and data directory.
    async fn start(&mut self) {
        let data = self.dir.path().display().to_string();
        self.api = Some(shifting(
            &[
                "serve",
                "--addr",
                &format!("127.0.0.1:{}", self.port),
                "--data-dir",
                &data,
            ],
            &[
                ("SHIFTING_DATABASE_URL", self.database_url.clone()),
                ("SHIFTING_JWT_SECRET", TEST_JWT_SECRET.into()),
                ("SHIFTING_SANDBOX_URL", self.sandbox.clone()),
                (
                    "SHIFTING_WEB_DIR",
                    Path::new(&data).join("no-web").display().to_string(),
                ),
                ("SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE", "100000".into()),
                ("SHIFTING_AUTH_RATE_LIMIT_BURST", "100000".into()),
                ("SHIFTING_PAYMENT_RATE_LIMIT_PER_MINUTE", "100000".into()),
                ("SHIFTING_PAYMENT_RATE_LIMIT_BURST", "100000".into()),
                // Short, so that the tests need not wait long for what follows a crash.
                ("SHIFTING_APPROVAL_TIMEOUT_SECS", "10".into()),
                ("SHIFTING_CLAIM_GRACE_SECS", "1".into()),
            ],
        ));
        ready(&self.http, &format!("{}/ready", self.url)).await;
    }

    /// SIGKILL: no graceful shutdown, requests in flight are cut.
    fn kill(&mut self) {
        if let Some(api) = self.api.take() {
            api.kill();
        }
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Value {
        processes::json(request).await
    }

    async fn trader(&self, name: &str, wallet: &str) -> String {
        processes::trader(&self.http, &self.url, &self.sandbox, name, wallet).await
    }

    /// A seller (alice) with a room at 25.00 USD and a buyer (bruno): the buyer's token and the
    /// room's code.
    async fn market(&self) -> (String, String) {
        let seller = self.trader("seller", "alice").await;
        let buyer = self.trader("buyer", "bruno").await;
        let room = self
            .json(
                self.http
                    .post(format!("{}/api/rooms", self.url))
                    .bearer_auth(&seller)
                    .json(&json!({"name": "Lesson", "price": "25.00"})),
            )
            .await;
        (buyer, room["code"].as_str().expect("code").to_owned())
    }

    fn start_payment(&self, token: &str, code: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/api/rooms/{code}/payments", self.url))
            .bearer_auth(token)
            .json(&json!({}))
    }

    /// The newest transaction once `reached` holds for it (bounded by attempts).
    async fn wait_for_row(
        &self,
        reached: impl Fn(&transactions::Model) -> bool,
    ) -> transactions::Model {
        for _ in 0..2000 {
            let newest = transactions::Entity::find()
                .order_by_desc(transactions::Column::CreatedAt)
                .one(&self.db)
                .await
                .expect("query");
            if let Some(row) = newest.filter(|row| reached(row)) {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the transaction never reached the expected step");
    }

    /// Polls the API until the transaction is final; returns it.
    async fn final_state(&self, token: &str, id: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..1500 {
            last = self
                .json(
                    self.http
                        .get(format!("{}/api/transactions/{id}", self.url))
                        .bearer_auth(token),
                )
                .await;
            if ["completed", "failed", "expired", "rejected"]
                .contains(&last["status"].as_str().unwrap_or_default())
            {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("never final: {last:#}");
    }

    async fn balance(&self, name: &str) -> i64 {
        processes::balance(&self.http, &self.sandbox, name).await
    }

    async fn outgoing_payments(&self) -> i64 {
        count_outgoing_payments(self.dir.path()).await
    }
}

/// Kills the server while it starts a payment, once `reached` holds; after the restart the
/// unfinished approval expires, with nothing paid.
async fn killed_during_the_start(reached: impl Fn(&transactions::Model) -> bool) {
    let mut setup = Setup::new().await;
    let (buyer, code) = setup.market().await;
    let alice = setup.balance("alice").await;
    let start = tokio::spawn(setup.start_payment(&buyer, &code).send());
    let row = setup.wait_for_row(reached).await;
    setup.kill();
    assert!(start.await.expect("task").is_err(), "the request was cut");
    setup.start().await;

    let done = setup.final_state(&buyer, &row.id.to_string()).await;
    assert_eq!(done["status"], "expired", "{done:#}");
    assert_eq!(setup.outgoing_payments().await, 0);
    assert_eq!(setup.balance("alice").await, alice);
}

#[tokio::test]
async fn killed_after_the_incoming_payment_the_payment_expires_unpaid() {
    killed_during_the_start(|row| row.incoming_payment_url.is_some()).await;
}

#[tokio::test]
async fn killed_after_the_quote_the_payment_expires_unpaid() {
    killed_during_the_start(|row| row.quote_url.is_some()).await;
}

#[tokio::test]
async fn killed_after_the_grant_request_the_buyer_can_still_approve() {
    let mut setup = Setup::new().await;
    let (buyer, code) = setup.market().await;
    let alice = setup.balance("alice").await;
    let started = setup.json(setup.start_payment(&buyer, &code)).await;
    setup.kill();
    setup.start().await;

    let finish = consent(
        started["redirect_url"].as_str().expect("redirect"),
        "approve",
    )
    .await;
    let response = setup.http.get(&finish).send().await.expect("finish");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let id = started["transaction"]["id"].as_str().expect("id");
    let done = setup.final_state(&buyer, id).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(setup.outgoing_payments().await, 1);
    assert_eq!(setup.balance("alice").await, alice + 2500);
}

/// Kills the server during the work that follows the finish (the finish answers the browser
/// right after its claim; the continuation and the outgoing payment run on), once `reached`
/// holds; after the restart the worker resumes the approval (or verifies the payment) and it
/// completes, paid once.
async fn killed_during_the_finish(reached: impl Fn(&transactions::Model) -> bool) {
    let mut setup = Setup::new().await;
    let (buyer, code) = setup.market().await;
    let alice = setup.balance("alice").await;
    let started = setup.json(setup.start_payment(&buyer, &code)).await;
    let finish = consent(
        started["redirect_url"].as_str().expect("redirect"),
        "approve",
    )
    .await;
    let finishing = tokio::spawn(setup.http.get(&finish).send());
    setup.wait_for_row(reached).await;
    setup.kill();
    // Answered or cut by the kill: either way the browser's part is over.
    finishing.await.expect("task").ok();
    setup.start().await;

    let id = started["transaction"]["id"].as_str().expect("id");
    let done = setup.final_state(&buyer, id).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let completed = done["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["status"] == "completed")
        .count();
    assert_eq!(completed, 1);
    assert_eq!(setup.outgoing_payments().await, 1);
    assert_eq!(setup.balance("alice").await, alice + 2500);
}

#[tokio::test]
async fn killed_between_the_claim_and_the_continuation_the_worker_finishes_the_payment() {
    killed_during_the_finish(|row| row.status == "approved").await;
}

#[tokio::test]
async fn killed_while_creating_the_outgoing_payment_the_worker_finds_or_makes_it_once() {
    killed_during_the_finish(|row| row.status == "approved" && row.outgoing_token.is_some()).await;
}

#[tokio::test]
async fn killed_after_the_outgoing_payment_the_worker_completes_it() {
    killed_during_the_finish(|row| row.status == "sending").await;
}
