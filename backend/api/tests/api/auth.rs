//! Sign-up and log-in.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::helpers::{
    PASSWORD, error_of, refresh_cookie, refresh_set_cookie, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn signup_creates_the_account_and_starts_a_session() {
    let app = spawn_app().await;

    let response = app.signup("Alice", "Alice@Example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = refresh_set_cookie(&response);
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/auth", "Max-Age="] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-http deployments cannot use Secure cookies"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "Alice");
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["user"]["wallet_address"], Value::Null);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body.get("password_hash").is_none() && body["user"].get("password_hash").is_none());

    let me = app.me(body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "Alice");
}

#[tokio::test]
async fn the_refresh_cookie_is_secure_when_the_public_url_is_https() {
    let app =
        spawn_app_with(|s| s.server.public_url = Some("https://shifting.example".into())).await;
    let response = app.signup("alice", "alice@example.com", PASSWORD).await;
    assert!(refresh_set_cookie(&response).contains("Secure"));
}

#[tokio::test]
async fn usernames_are_unique_regardless_of_case() {
    let app = spawn_app().await;
    app.create_account("alice").await;

    let error = error_of(
        app.signup("ALICE", "other@example.com", PASSWORD).await,
        StatusCode::CONFLICT,
    )
    .await;

    assert_eq!(error["code"], "conflict");
    assert_eq!(error["fields"]["username"], "is already taken");
    assert_eq!(error["field_codes"]["username"], "username_taken");
    assert!(error["fields"].get("email").is_none());
}

#[tokio::test]
async fn emails_are_unique_regardless_of_case() {
    let app = spawn_app().await;
    app.create_account("alice").await;

    let error = error_of(
        app.signup("bob", "ALICE@example.com", PASSWORD).await,
        StatusCode::CONFLICT,
    )
    .await;

    assert_eq!(error["fields"]["email"], "is already registered");
    assert_eq!(error["field_codes"]["email"], "email_taken");
}

#[tokio::test]
async fn concurrent_signups_for_one_username_give_one_account_and_conflicts_never_500() {
    let app = spawn_app().await;

    let emails: Vec<String> = (0..6).map(|i| format!("racer{i}@example.com")).collect();
    let attempts = emails
        .iter()
        .map(|email| app.signup("racer", email, PASSWORD));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();

    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn invalid_signup_fields_are_all_reported_and_nothing_is_created() {
    let app = spawn_app().await;

    let response = app.signup("a b", "not-an-email", "password123").await;

    let error = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["code"], "validation_failed");
    assert_eq!(
        error["fields"]["username"],
        "may contain only letters, digits, '_' and '-'"
    );
    assert_eq!(error["fields"]["email"], "is not a valid e-mail address");
    assert_eq!(
        error["fields"]["password"],
        "is too common; choose a less predictable password"
    );
    // The same problems as stable codes, which the web app translates.
    assert_eq!(
        error["field_codes"],
        serde_json::json!({"username": "username_characters", "email": "email_invalid",
            "password": "password_too_common"})
    );
    let short = error_of(
        app.signup("alice", "alice@example.com", "short").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        short["fields"]["password"],
        "must be at least 10 characters long"
    );
    assert_eq!(short["field_codes"]["password"], "password_too_short");
    assert_eq!(
        app.login("alice", "short").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn login_accepts_the_username_in_any_case_or_the_email() {
    let app = spawn_app().await;
    let account = app.create_account("Alice").await;

    for login in [
        "Alice",
        "alice",
        "ALICE",
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
        " alice ",
    ] {
        let response = app.login(login, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login {login:?}");
        assert!(refresh_cookie(&response).is_some());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["id"], account.id.as_str());
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_account("alice").await;

    let wrong_password = app.login("alice", "not the right password").await;
    let unknown_user = app.login("mallory", "not the right password").await;

    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_user.status(), StatusCode::UNAUTHORIZED);
    assert!(refresh_cookie(&wrong_password).is_none());
    let a: Value = wrong_password.json().await.unwrap();
    let b: Value = unknown_user.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn login_with_empty_fields_is_a_validation_error() {
    let app = spawn_app().await;
    let error = error_of(app.login("", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["fields"]["login"], "is required");
    assert_eq!(error["fields"]["password"], "is required");
}

#[tokio::test]
async fn login_is_rate_limited_per_address_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.auth.auth_rate_limit_burst = 3;
        s.auth.auth_rate_limit_per_minute = 1;
    })
    .await;

    for _ in 0..3 {
        assert_eq!(
            app.login("nobody", "whatever-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app.login("nobody", "whatever-password").await;

    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let error = error_of(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(error["code"], "too_many_requests");
}

#[tokio::test]
async fn signup_is_rate_limited_per_address() {
    let app = spawn_app_with(|s| {
        s.auth.auth_rate_limit_burst = 2;
        s.auth.auth_rate_limit_per_minute = 1;
    })
    .await;

    app.create_account("first").await;
    app.create_account("second").await;
    let limited = app.signup("third", "third@example.com", PASSWORD).await;

    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    let users = shifting_api::entities::users::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 2, "nothing is created for a refused attempt");
}
