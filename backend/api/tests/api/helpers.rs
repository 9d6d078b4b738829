//! `spawn_app()`: the application on port 0 with a fresh database, and typed helpers.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use shifting_api::{App, RawSettings, Settings};
use shifting_open_payments::Clock;
use tempfile::TempDir;

/// The JWT secret every test app uses, so tests can forge tokens.
pub const TEST_JWT_SECRET: &str = "test secret: long enough for HS256, never used in production";
/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running application.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: sea_orm::DatabaseConnection,
    /// The application's clock (the embedded sandbox's too): tests move it instead of waiting.
    pub clock: Clock,
    /// The metrics listener's port, when `metrics_addr` was set.
    pub metrics_port: Option<u16>,
    dir: TempDir,
    database_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Starts the app with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `customize` adjusts the settings.
pub async fn spawn_app_with(customize: impl FnOnce(&mut RawSettings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match std::env::var("SHIFTING_TEST_POSTGRES_URL") {
        Ok(server) => fresh_postgres_database(&server).await,
        Err(_) => format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
    };
    start(dir, database_url, "127.0.0.1:0".into(), None, customize).await
}

async fn start(
    dir: TempDir,
    database_url: String,
    addr: String,
    clock: Option<Clock>,
    customize: impl FnOnce(&mut RawSettings),
) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut raw = RawSettings::default();
    raw.server.addr = addr;
    raw.server.web_dir = dir.path().join("no-web-app");
    raw.database.data_dir = dir.path().to_owned();
    raw.database.database_url = Some(database_url.clone().into());
    raw.auth.jwt_secret = Some(TEST_JWT_SECRET.into());
    raw.auth.auth_rate_limit_burst = 1000;
    raw.auth.auth_rate_limit_per_minute = 1000;
    raw.payments.payment_rate_limit_burst = 1000;
    raw.payments.payment_rate_limit_per_minute = 1000;
    // Grants can be continued at once: tests do not sit out Rafiki's 5 s.
    raw.sandbox.sandbox_wait_secs = 0;
    customize(&mut raw);
    let mut settings = Settings::from_raw(raw).expect("valid test settings");
    if let Some(clock) = clock {
        settings.clock = clock;
    }
    let app = App::build(settings).await.expect("app builds");
    let clock = app.clock().clone();
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let metrics_port = app.metrics_port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    // No idle connections kept: a test that moves the clock past the server's idle timeout
    // would otherwise send its next request on a connection the server has just closed.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        db,
        clock,
        metrics_port,
        dir,
        database_url,
        stop: Some(stop),
        server: Some(server),
    }
}

/// Creates an empty database on the PostgreSQL server and returns its URL.
pub async fn fresh_postgres_database(server: &str) -> String {
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(server)
        .await
        .expect("connect to the PostgreSQL test server");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    admin.close().await.ok();
    let (base, _) = server
        .rsplit_once('/')
        .expect("server URL has a database path");
    format!("{base}/{name}")
}

/// The raw Set-Cookie header for the refresh cookie, if the response set one.
fn find_refresh_set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("shifting_refresh="))
        .map(str::to_owned)
}

/// The refresh cookie's value from a response, if it set one.
pub fn refresh_cookie(response: &Response) -> Option<String> {
    find_refresh_set_cookie(response).map(|v| {
        v.trim_start_matches("shifting_refresh=")
            .split(';')
            .next()
            .unwrap_or("")
            .to_owned()
    })
}

/// The raw Set-Cookie header for the refresh cookie.
pub fn refresh_set_cookie(response: &Response) -> String {
    find_refresh_set_cookie(response).expect("a refresh cookie")
}

/// A signed-up user's tokens.
pub struct Account {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    /// Stops the server (graceful shutdown, worker included) and starts it again on the same
    /// port, database, data directory and clock, after `customize` adjusts the settings.
    pub async fn restart(mut self, customize: impl FnOnce(&mut RawSettings)) -> TestApp {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        self.db.close().await.ok();
        let addr = self.address.trim_start_matches("http://").to_owned();
        start(
            self.dir,
            self.database_url,
            addr,
            Some(self.clock),
            customize,
        )
        .await
    }

    /// The database's URL (for commands run against it).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The data directory (generated secrets, the sandbox's database).
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn signup(&self, username: &str, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/signup",
            &json!({"username": username, "email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, login: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/login",
            &json!({"login": login, "password": password}),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.client
            .post(self.url("/api/auth/refresh"))
            .header(COOKIE, format!("shifting_refresh={refresh_token}"))
            .send()
            .await
            .expect("request")
    }

    pub async fn me(&self, access_token: &str) -> Response {
        self.client
            .get(self.url("/api/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("request")
    }

    /// Signs up a user and returns the tokens; panics unless the answer is 201.
    pub async fn create_account(&self, username: &str) -> Account {
        let email = format!("{}@example.com", username.to_lowercase());
        let response = self.signup(username, &email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let refresh_token = refresh_cookie(&response).expect("refresh cookie");
        let body: Value = response.json().await.expect("json");
        Account {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            access_token: body["access_token"].as_str().expect("token").to_owned(),
            refresh_token,
        }
    }
}

/// The `error` object of an error response, after checking the status.
pub async fn error_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "errors are JSON"
    );
    let body: Value = response.json().await.expect("json error body");
    body["error"].clone()
}

/// A user with a wallet, ready to sell or buy.
pub struct Trader {
    pub account: Account,
}

impl TestApp {
    /// A sandbox wallet address of this app, such as `http://127.0.0.1:PORT/sandbox/alice`.
    pub fn sandbox_wallet(&self, name: &str) -> String {
        self.url(&format!("/sandbox/{name}"))
    }

    pub async fn get_authed(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn set_wallet(&self, token: &str, wallet: &str) -> Response {
        self.send_json(
            reqwest::Method::PATCH,
            "/api/me",
            token,
            &json!({ "wallet_address": wallet }),
        )
        .await
    }

    /// Signs up `username` with the sandbox wallet `wallet`.
    pub async fn trader(&self, username: &str, wallet: &str) -> Trader {
        let account = self.create_account(username).await;
        let wallet = self.sandbox_wallet(wallet);
        let response = self.set_wallet(&account.access_token, &wallet).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        Trader { account }
    }

    pub async fn create_room(&self, token: &str, body: &Value) -> Response {
        self.send_json(reqwest::Method::POST, "/api/rooms", token, body)
            .await
    }

    /// Creates a room priced at `price`; returns its code.
    pub async fn room(&self, seller: &Trader, price: &str) -> String {
        let response = self
            .create_room(
                &seller.account.access_token,
                &json!({"name": "Guitar lesson", "description": "One hour, beginners welcome.", "price": price}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let room: Value = response.json().await.expect("json");
        room["code"].as_str().expect("code").to_owned()
    }

    /// The public view of room `code`, as anyone reads it.
    pub async fn public_room(&self, code: &str) -> Value {
        self.client
            .get(self.url(&format!("/api/rooms/{code}")))
            .send()
            .await
            .expect("room")
            .json()
            .await
            .expect("json")
    }

    pub async fn start_payment(&self, token: &str, code: &str, body: &Value) -> Response {
        self.send_json(
            reqwest::Method::POST,
            &format!("/api/rooms/{code}/payments"),
            token,
            body,
        )
        .await
    }

    /// Starts a payment that must succeed; returns the 201 body.
    pub async fn checkout(&self, buyer: &Trader, code: &str) -> Value {
        let response = self
            .start_payment(&buyer.account.access_token, code, &json!({}))
            .await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Starts a purchase, approves it at the wallet and follows the finish redirect; returns
    /// the transaction id.
    pub async fn buy(&self, buyer: &Trader, code: &str) -> String {
        let started = self.checkout(buyer, code).await;
        let finish = self
            .consent(
                started["redirect_url"].as_str().expect("a redirect"),
                "approve",
            )
            .await;
        self.finish(&finish).await;
        started["transaction"]["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }

    /// Opens the consent page at `redirect` in a fresh browser and presses `decision`
    /// (`approve` or `decline`); returns the finish URL the wallet redirects to.
    pub async fn consent(&self, redirect: &str, decision: &str) -> String {
        consent(redirect, decision).await
    }

    /// Follows the wallet's finish redirect as the buyer's browser would; checks it lands on
    /// the outcome page.
    pub async fn finish(&self, finish_url: &str) {
        let response = self.client.get(finish_url).send().await.expect("finish");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()["location"].to_str().expect("location");
        assert!(location.starts_with("/payments/"), "{location}");
    }

    pub async fn transaction(&self, token: &str, id: &str) -> Value {
        let response = self
            .get_authed(&format!("/api/transactions/{id}"), token)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    /// Polls the transaction until its status is `status` (bounded by attempts, not time).
    pub async fn wait_for_status(&self, token: &str, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..600 {
            last = self.transaction(token, id).await;
            if last["status"] == status {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the transaction never became {status}: {last:#}");
    }

    /// `POST /api/transactions/{id}/cancel` as the holder of `token`.
    pub async fn cancel(&self, token: &str, id: &str) -> Response {
        self.send_json(
            reqwest::Method::POST,
            &format!("/api/transactions/{id}/cancel"),
            token,
            &json!({}),
        )
        .await
    }

    /// Polls the consent page at `redirect` until the wallet stops offering the approval (its
    /// grant was cancelled, which the platform does after a payment ends) and sends the browser
    /// back instead; returns that finish URL. Each look is a request, so the clean-up runs in
    /// between; no time is waited, and the number of looks is bounded.
    pub async fn wait_until_consent_refused(&self, redirect: &str) -> String {
        for _ in 0..5_000 {
            let page = self
                .client
                .get(redirect)
                .send()
                .await
                .expect("consent page");
            if page.status() == StatusCode::FOUND {
                return page.headers()["location"]
                    .to_str()
                    .expect("a location")
                    .to_owned();
            }
            tokio::task::yield_now().await;
        }
        panic!("the consent page at {redirect} still offers the approval");
    }

    /// A sandbox account's balance in minor units.
    pub async fn balance(&self, name: &str) -> i64 {
        self.sandbox_account(name, "balance")
            .await
            .parse()
            .expect("a number")
    }

    /// A field of a sandbox account in `/sandbox/accounts` (`balance`, `password` …).
    pub async fn sandbox_account(&self, name: &str, field: &str) -> String {
        let accounts: Value = self
            .client
            .get(self.url("/sandbox/accounts"))
            .send()
            .await
            .expect("accounts")
            .json()
            .await
            .expect("json");
        accounts["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["name"] == name)
            .and_then(|a| a[field].as_str())
            .expect("the account exists")
            .to_owned()
    }

    /// How many outgoing payments the sandbox holds (read from its database file).
    pub async fn sandbox_outgoing_payments(&self) -> i64 {
        count_outgoing_payments(self.data_dir()).await
    }

    /// The integer `n` that `sql` selects from the sandbox's database.
    pub async fn sandbox_count(&self, sql: &str) -> i64 {
        sandbox_count(self.data_dir(), sql).await
    }

    /// Waits until `sql` counts `n` in the sandbox's database (bounded by attempts); returns
    /// whether it did.
    pub async fn sandbox_counts(&self, sql: &str, n: i64) -> bool {
        for _ in 0..500 {
            if self.sandbox_count(sql).await == n {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
    }

    /// Changes the sandbox's database, as another party (the wallet provider) would.
    pub async fn sandbox_execute(&self, sql: &str) {
        let db = Database::connect(&sandbox_url(self.data_dir()))
            .await
            .expect("sandbox database");
        db.execute_unprepared(sql).await.expect("sandbox change");
        db.close().await.ok();
    }

    /// The integer `n` that `sql` selects from the API's database.
    pub async fn count(&self, sql: &str) -> i64 {
        scalar(&self.db, sql).await
    }

    /// Waits until `sql` counts `n` in the API's database (a background worker's doing; bounded
    /// by attempts, like the other waits here); returns whether it did.
    pub async fn counts(&self, sql: &str, n: i64) -> bool {
        for _ in 0..500 {
            if self.count(sql).await == n {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
    }

    /// Moves `column` of the `table` rows matching `filter` `seconds` into the past, as if that
    /// much time had gone by (on SQLite and PostgreSQL alike).
    pub async fn shift_back(&self, table: &str, column: &str, seconds: i64, filter: &str) {
        let sql = match self.db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => format!(
                "UPDATE {table} SET {column} = {column} - interval '{seconds} seconds' WHERE {column} IS NOT NULL AND {filter}"
            ),
            _ => format!(
                "UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%f+00:00', {column}, '-{seconds} seconds') WHERE {column} IS NOT NULL AND {filter}"
            ),
        };
        self.db.execute_unprepared(&sql).await.expect("shift back");
    }
}

/// Opens the consent page at `redirect` in a fresh browser and presses `decision`
/// (`approve` or `decline`); returns the finish URL the wallet redirects to.
pub async fn consent(redirect: &str, decision: &str) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let page = browser.get(redirect).send().await.expect("consent page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = start + html[start..].find('"').expect("end of action");
    let action = html[start..end].replace("&amp;", "&");
    let answer = browser
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("decision={decision}"))
        .send()
        .await
        .expect("consent answer");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    answer.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// How many outgoing payments the sandbox keeping its state in `data_dir` holds.
pub async fn count_outgoing_payments(data_dir: &std::path::Path) -> i64 {
    sandbox_count(
        data_dir,
        "SELECT COUNT(*) AS n FROM sandbox_outgoing_payments",
    )
    .await
}

fn sandbox_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rw", data_dir.join("sandbox.db").display())
}

/// The integer `n` that `sql` selects from the sandbox database in `data_dir`.
pub async fn sandbox_count(data_dir: &std::path::Path, sql: &str) -> i64 {
    let db = Database::connect(&sandbox_url(data_dir))
        .await
        .expect("sandbox database");
    let n = scalar(&db, sql).await;
    db.close().await.ok();
    n
}

pub async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("query")
        .expect("a row");
    row.try_get("", "n").expect("n")
}

/// Guest checkout: paying without an account, and the purchase key that opens it.
impl TestApp {
    /// `POST /api/rooms/{code}/guest-payments` with `body`, from no account.
    pub async fn start_guest_payment(&self, code: &str, body: &Value) -> Response {
        self.client
            .post(self.url(&format!("/api/rooms/{code}/guest-payments")))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A guest checkout from the sandbox wallet `wallet` that must start; returns the 201 body.
    pub async fn guest_checkout(&self, code: &str, wallet: &str) -> Value {
        let response = self
            .start_guest_payment(
                code,
                &json!({ "wallet_address": self.sandbox_wallet(wallet) }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// `GET /api/transactions/{id}` with the purchase key `key` and no account.
    pub async fn guest_transaction(&self, id: &str, key: &str) -> Response {
        self.client
            .get(self.url(&format!("/api/transactions/{id}")))
            .header("X-Guest-Key", key)
            .send()
            .await
            .expect("request")
    }

    /// Reads the guest's purchase until its status is `status`; each look is a request, the
    /// number of looks bounded, and no time is waited.
    pub async fn wait_for_guest_status(&self, id: &str, key: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..5_000 {
            let response = self.guest_transaction(id, key).await;
            assert_eq!(response.status(), StatusCode::OK);
            last = response.json().await.expect("json");
            if last["status"] == status {
                return last;
            }
            tokio::task::yield_now().await;
        }
        panic!("the guest's purchase never became {status}: {last:#}");
    }
}
