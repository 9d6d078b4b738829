//! `spawn_app()`: the application on port 0 with a fresh database, and typed helpers.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use shifting_api::{App, RawSettings, Settings};
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
    dir: TempDir,
}

/// Starts the app with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `customize` adjusts the settings.
pub async fn spawn_app_with(customize: impl FnOnce(&mut RawSettings)) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match std::env::var("SHIFTING_TEST_POSTGRES_URL") {
        Ok(server) => fresh_postgres_database(&server).await,
        Err(_) => format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
    };
    let mut raw = RawSettings {
        addr: "127.0.0.1:0".into(),
        data_dir: dir.path().to_owned(),
        database_url: Some(database_url.into()),
        jwt_secret: Some(TEST_JWT_SECRET.into()),
        web_dir: dir.path().join("no-web-app"),
        auth_rate_limit_burst: 1000,
        auth_rate_limit_per_minute: 1000,
        ..RawSettings::default()
    };
    customize(&mut raw);
    let settings = Settings::from_raw(raw).expect("valid test settings");
    let app = App::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        db,
        dir,
    }
}

/// Creates an empty database on the PostgreSQL server and returns its URL.
async fn fresh_postgres_database(server: &str) -> String {
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
