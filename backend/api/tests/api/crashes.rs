//! The API process killed with SIGKILL at each step of a payment, then started again: every
//! transaction must reach a correct final state, money must move at most once, and nothing may
//! be left `sending` or `approved`.
//!
//! The sandbox runs as its own process, so it outlives the kill, with its test holds on: the
//! test holds the request of the step after the one under test, kills the server while that
//! request waits at the wallet, and then lets the wallet drop it (the step never happened) or
//! handle it (it happened and the answer was lost). The server comes back with its clock ahead,
//! so the leases and approval timeouts of the killed process have passed: nothing waits.

use std::path::Path;
use std::time::Duration;

use sea_orm::{Database, DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use shifting_api::entities::transactions;

use crate::helpers::{TEST_JWT_SECRET, consent, count_outgoing_payments, fresh_postgres_database};
use crate::processes::{self, Process, ready, shifting};

/// A standalone sandbox, a database, and the API process that gets killed.
struct Setup {
    api: Option<Process>,
    url: String,
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
        let data = dir.path().display().to_string();
        let (sandbox_process, sandbox) = shifting(
            &["sandbox", "--addr", "127.0.0.1:0", "--data-dir", &data],
            &[
                ("SHIFTING_SANDBOX_WAIT_SECS", "0".into()),
                ("SHIFTING_SANDBOX_TEST_HOLDS", "true".into()),
            ],
        )
        .await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        ready(&http, &format!("{sandbox}/accounts")).await;
        let mut setup = Self {
            api: None,
            url: String::new(),
            sandbox,
            db: Database::connect("sqlite::memory:")
                .await
                .expect("placeholder"),
            database_url,
            http,
            _sandbox: sandbox_process,
            dir,
        };
        setup.start(0).await;
        setup.db = Database::connect(&setup.database_url)
            .await
            .expect("the API's database");
        setup
    }

    /// Starts the API (again: on the port it had, so the finish URIs the wallet holds still
    /// reach it) on the same database and data directory, with its clock `ahead` seconds
    /// ahead.
    async fn start(&mut self, ahead: u64) {
        let data = self.dir.path().display().to_string();
        let addr = match self.url.strip_prefix("http://") {
            Some(addr) => addr.to_owned(),
            None => "127.0.0.1:0".to_owned(),
        };
        let (api, url) = shifting(
            &["serve", "--addr", &addr, "--data-dir", &data],
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
                (
                    "SHIFTING_APPROVAL_TIMEOUT_SECS",
                    APPROVAL_TIMEOUT_SECS.to_string(),
                ),
                ("SHIFTING_CLAIM_GRACE_SECS", CLAIM_GRACE_SECS.to_string()),
                ("SHIFTING_SANDBOX_CLOCK_AHEAD_SECS", ahead.to_string()),
            ],
        )
        .await;
        self.api = Some(api);
        self.url = url;
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

    /// Makes the sandbox hold the request of `step` that comes after the next `after`.
    async fn hold(&self, step: &str, after: u32) {
        let response = self
            .http
            .post(format!("{}/test/holds/{step}?after={after}", self.sandbox))
            .send()
            .await
            .expect("arm the hold");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "{step}");
    }

    /// Returns once the sandbox holds a request of `step`: the newest transaction as the
    /// server left it before sending that request.
    async fn held(&self, step: &str) -> transactions::Model {
        let held = self
            .json(self.http.get(format!("{}/test/holds/{step}", self.sandbox)))
            .await;
        assert_eq!(held["held"], true, "no {step} request reached the wallet");
        transactions::Entity::find()
            .order_by_desc(transactions::Column::CreatedAt)
            .one(&self.db)
            .await
            .expect("query")
            .expect("a transaction")
    }

    /// Lets the held request of `step` go on (`proceed`) or drops it (`drop`).
    async fn release(&self, step: &str, then: &str) {
        self.json(self.http.post(format!(
            "{}/test/holds/{step}/release?then={then}",
            self.sandbox
        )))
        .await;
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

/// Short, so that the clock of the restarted server need not be far ahead.
const APPROVAL_TIMEOUT_SECS: u64 = 10;
const CLAIM_GRACE_SECS: u64 = 1;
/// Ahead enough for the killed process's claims (grace, wait) to have run out, but not its
/// approvals.
const PAST_THE_CLAIMS: u64 = CLAIM_GRACE_SECS + 2;
/// Ahead enough for a killed one-click purchase's hold to have run out (the click holds it as
/// long as the worker holds a resumed one). The standalone sandbox keeps its own clock, so
/// the purchase's quote is still valid.
const PAST_THE_CLICK: u64 = 302;
/// Ahead enough for the killed process's approvals to have expired.
const PAST_THE_APPROVALS: u64 = APPROVAL_TIMEOUT_SECS + 2;

/// Kills the server while it starts a payment, while the wallet holds its request of `step`
/// (then handled as `then` says) and once `stored` holds for the transaction; after the
/// restart the unfinished approval expires, with nothing paid.
async fn killed_during_the_start(
    (step, after): (&str, u32),
    then: &str,
    stored: impl Fn(&transactions::Model) -> bool,
) {
    let mut setup = Setup::new().await;
    let (buyer, code) = setup.market().await;
    let alice = setup.balance("alice").await;
    setup.hold(step, after).await;
    let start = tokio::spawn(setup.start_payment(&buyer, &code).send());
    let row = setup.held(step).await;
    assert!(stored(&row), "{row:#?}");
    setup.kill();
    assert!(start.await.expect("task").is_err(), "the request was cut");
    setup.release(step, then).await;
    setup.start(PAST_THE_APPROVALS).await;

    let done = setup.final_state(&buyer, &row.id.to_string()).await;
    assert_eq!(done["status"], "expired", "{done:#}");
    assert_eq!(setup.outgoing_payments().await, 0);
    assert_eq!(setup.balance("alice").await, alice);
}

#[tokio::test]
async fn killed_after_the_incoming_payment_the_payment_expires_unpaid() {
    killed_during_the_start(("quote", 0), "proceed", |row| {
        row.incoming_payment_url.is_some() && row.quote_url.is_none()
    })
    .await;
}

#[tokio::test]
async fn killed_after_the_quote_the_payment_expires_unpaid() {
    // The first two grants are the tokens for the incoming payment and the quote; the third
    // asks for the buyer's approval.
    killed_during_the_start(("grant", 2), "drop", |row| {
        row.quote_url.is_some() && row.continue_uri.is_none()
    })
    .await;
}

#[tokio::test]
async fn killed_after_the_grant_request_the_buyer_can_still_approve() {
    let mut setup = Setup::new().await;
    let (buyer, code) = setup.market().await;
    let alice = setup.balance("alice").await;
    let started = setup.json(setup.start_payment(&buyer, &code)).await;
    setup.kill();
    setup.start(0).await;

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
/// right after its claim; the continuation and the outgoing payment run on), while the wallet
/// holds its request of `step` (then handled as `then` says) and once `stored` holds; after
/// the restart the worker resumes the approval (or verifies the payment) and it completes,
/// paid once.
async fn killed_during_the_finish(
    step: &str,
    then: &str,
    stored: impl Fn(&transactions::Model) -> bool,
) {
    let mut setup = Setup::new().await;
    let (buyer, code) = setup.market().await;
    let alice = setup.balance("alice").await;
    let started = setup.json(setup.start_payment(&buyer, &code)).await;
    let finish = consent(
        started["redirect_url"].as_str().expect("redirect"),
        "approve",
    )
    .await;
    setup.hold(step, 0).await;
    let finishing = tokio::spawn(setup.http.get(&finish).send());
    let row = setup.held(step).await;
    assert!(stored(&row), "{row:#?}");
    setup.kill();
    // Answered or cut by the kill: either way the browser's part is over.
    finishing.await.expect("task").ok();
    setup.release(step, then).await;
    setup.start(PAST_THE_CLAIMS).await;

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
    killed_during_the_finish("continue", "drop", |row| {
        row.status == "approved" && row.outgoing_token.is_none()
    })
    .await;
}

#[tokio::test]
async fn killed_before_the_outgoing_payment_reached_the_wallet_the_worker_makes_it_once() {
    killed_during_the_finish("outgoing-payment", "drop", |row| {
        row.status == "approved" && row.outgoing_token.is_some()
    })
    .await;
}

#[tokio::test]
async fn killed_while_the_wallet_made_the_outgoing_payment_the_worker_finds_it() {
    killed_during_the_finish("outgoing-payment", "proceed", |row| {
        row.status == "approved" && row.outgoing_token.is_some()
    })
    .await;
}

#[tokio::test]
async fn killed_after_the_outgoing_payment_the_worker_completes_it() {
    killed_during_the_finish("get-incoming-payment", "drop", |row| {
        row.status == "sending" && row.outgoing_payment_url.is_some()
    })
    .await;
}

/// Kills the server during a one-click purchase, while the wallet holds the outgoing payment
/// made with the budget's token (then handled as `then` says); after the restart the worker
/// resumes the purchase under the budget: it finds the payment the wallet made, or makes it,
/// once.
async fn killed_during_the_one_click(then: &str) {
    let mut setup = Setup::new().await;
    let (buyer, code) = setup.market().await;
    let alice = setup.balance("alice").await;
    let budget = setup
        .json(
            setup
                .http
                .post(format!("{}/api/me/budgets", setup.url))
                .bearer_auth(&buyer)
                .json(&json!({"amount": "500.00", "period": "month", "periods": 1})),
        )
        .await;
    let finish = consent(
        budget["redirect_url"].as_str().expect("redirect"),
        "approve",
    )
    .await;
    let response = setup.http.get(&finish).send().await.expect("finish");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let started = setup
        .json(
            setup
                .http
                .post(format!("{}/api/rooms/{code}/payments", setup.url))
                .bearer_auth(&buyer)
                .json(&json!({"budget_id": budget["id"]})),
        )
        .await;
    assert!(started["one_click"].is_object(), "{started:#}");
    let id = started["transaction"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    setup.hold("outgoing-payment", 0).await;
    let clicking = tokio::spawn(
        setup
            .http
            .post(format!("{}/api/payments/{id}/confirm", setup.url))
            .bearer_auth(&buyer)
            .send(),
    );
    let row = setup.held("outgoing-payment").await;
    assert!(
        row.status == "approved" && row.outgoing_token.is_some() && row.budget_id.is_some(),
        "{row:#?}"
    );
    setup.kill();
    clicking.await.expect("task").ok();
    setup.release("outgoing-payment", then).await;
    setup.start(PAST_THE_CLICK).await;

    let done = setup.final_state(&buyer, &id).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(setup.outgoing_payments().await, 1);
    assert_eq!(setup.balance("alice").await, alice + 2500);
}

#[tokio::test]
async fn killed_before_the_one_click_payment_reached_the_wallet_the_worker_makes_it_once() {
    killed_during_the_one_click("drop").await;
}

#[tokio::test]
async fn killed_while_the_wallet_made_the_one_click_payment_the_worker_finds_it() {
    killed_during_the_one_click("proceed").await;
}

/// A completed sale in `setup`: the seller's token, the buyer's token, the transaction id.
async fn completed_sale(setup: &Setup) -> (String, String, String) {
    let seller = setup.trader("seller", "alice").await;
    let buyer = setup.trader("buyer", "bruno").await;
    let room = setup
        .json(
            setup
                .http
                .post(format!("{}/api/rooms", setup.url))
                .bearer_auth(&seller)
                .json(&json!({"name": "Lesson", "price": "25.00"})),
        )
        .await;
    let code = room["code"].as_str().expect("code");
    let started = setup.json(setup.start_payment(&buyer, code)).await;
    let finish = consent(
        started["redirect_url"].as_str().expect("redirect"),
        "approve",
    )
    .await;
    setup.http.get(&finish).send().await.expect("finish");
    let id = started["transaction"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(setup.final_state(&buyer, &id).await["status"], "completed");
    (seller, buyer, id)
}

/// Polls the sale until it is `refunded` or `completed` with its refund ended; returns it.
async fn refund_settled(setup: &Setup, token: &str, id: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..1500 {
        last = setup
            .json(
                setup
                    .http
                    .get(format!("{}/api/transactions/{id}", setup.url))
                    .bearer_auth(token),
            )
            .await;
        let ended = ["completed", "declined", "expired", "failed"]
            .contains(&last["refund"]["status"].as_str().unwrap_or_default());
        if last["status"] == "refunded" || (last["status"] == "completed" && ended) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the refund never settled: {last:#}");
}

/// The newest refund's row as the server left it.
async fn newest_refund(setup: &Setup) -> shifting_api::entities::refunds::Model {
    use shifting_api::entities::refunds;
    refunds::Entity::find()
        .order_by_desc(refunds::Column::CreatedAt)
        .one(&setup.db)
        .await
        .expect("query")
        .expect("a refund")
}

/// Kills the server during the work after the seller approved a refund, while the wallet
/// holds its request of `step` (then handled as `then` says) and once `stored` holds for the
/// refund; after the restart the worker resumes it and the sale ends `refunded`, the money
/// returned exactly once.
async fn killed_during_the_refund(
    step: &str,
    then: &str,
    stored: impl Fn(&shifting_api::entities::refunds::Model) -> bool,
) {
    let mut setup = Setup::new().await;
    let (seller, _buyer, id) = completed_sale(&setup).await;
    let alice = setup.balance("alice").await;
    let outgoing = setup.outgoing_payments().await;
    let started = setup
        .json(
            setup
                .http
                .post(format!("{}/api/transactions/{id}/refund", setup.url))
                .bearer_auth(&seller)
                .json(&json!({"reason": "Cancelled"})),
        )
        .await;
    let finish = consent(
        started["refund"]["consent_url"].as_str().expect("consent"),
        "approve",
    )
    .await;
    setup.hold(step, 0).await;
    let finishing = tokio::spawn(setup.http.get(&finish).send());
    let held = setup
        .json(
            setup
                .http
                .get(format!("{}/test/holds/{step}", setup.sandbox)),
        )
        .await;
    assert_eq!(held["held"], true, "no {step} request reached the wallet");
    let row = newest_refund(&setup).await;
    assert!(stored(&row), "{row:#?}");
    setup.kill();
    finishing.await.expect("task").ok();
    setup.release(step, then).await;
    setup.start(PAST_THE_CLAIMS).await;

    let done = refund_settled(&setup, &seller, &id).await;
    assert_eq!(done["status"], "refunded", "{done:#}");
    assert_eq!(done["refund"]["status"], "completed");
    assert_eq!(setup.outgoing_payments().await, outgoing + 1);
    assert_eq!(setup.balance("alice").await, alice - 2500);
}

#[tokio::test]
async fn killed_between_the_refund_approval_and_its_continuation_the_worker_refunds_once() {
    killed_during_the_refund("continue", "drop", |row| {
        row.status == "approved" && row.outgoing_token.is_none()
    })
    .await;
}

#[tokio::test]
async fn killed_before_the_refund_payment_reached_the_wallet_the_worker_makes_it_once() {
    killed_during_the_refund("outgoing-payment", "drop", |row| {
        row.status == "approved" && row.outgoing_token.is_some()
    })
    .await;
}

#[tokio::test]
async fn killed_while_the_wallet_made_the_refund_payment_the_worker_finds_it() {
    killed_during_the_refund("outgoing-payment", "proceed", |row| {
        row.status == "approved" && row.outgoing_token.is_some()
    })
    .await;
}

#[tokio::test]
async fn killed_after_the_refund_payment_the_worker_completes_it() {
    killed_during_the_refund("get-incoming-payment", "drop", |row| {
        row.status == "sending" && row.outgoing_payment_url.is_some()
    })
    .await;
}

#[tokio::test]
async fn killed_while_a_refund_starts_it_expires_and_the_sale_stays_completed() {
    let mut setup = Setup::new().await;
    let (seller, _buyer, id) = completed_sale(&setup).await;
    let alice = setup.balance("alice").await;
    let outgoing = setup.outgoing_payments().await;
    // The refund's quote waits at the seller's wallet: its incoming payment exists.
    setup.hold("quote", 0).await;
    let starting = tokio::spawn(
        setup
            .http
            .post(format!("{}/api/transactions/{id}/refund", setup.url))
            .bearer_auth(&seller)
            .json(&json!({"reason": "Cancelled"}))
            .send(),
    );
    let held = setup
        .json(
            setup
                .http
                .get(format!("{}/test/holds/quote", setup.sandbox)),
        )
        .await;
    assert_eq!(held["held"], true);
    let row = newest_refund(&setup).await;
    assert!(
        row.incoming_payment_url.is_some() && row.quote_url.is_none(),
        "{row:#?}"
    );
    setup.kill();
    assert!(
        starting.await.expect("task").is_err(),
        "the request was cut"
    );
    setup.release("quote", "proceed").await;
    setup.start(PAST_THE_APPROVALS).await;

    let done = refund_settled(&setup, &seller, &id).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["refund"]["status"], "expired");
    assert_eq!(setup.outgoing_payments().await, outgoing);
    assert_eq!(setup.balance("alice").await, alice);
    // And it can be refunded afterwards.
    let again = setup
        .http
        .post(format!("{}/api/transactions/{id}/refund", setup.url))
        .bearer_auth(&seller)
        .json(&json!({"reason": "Cancelled"}))
        .send()
        .await
        .expect("refund again");
    assert_eq!(again.status(), reqwest::StatusCode::CREATED);
}
