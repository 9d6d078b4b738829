//! Access tokens, refresh-token rotation and log-out.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TEST_JWT_SECRET, TestApp, error_of, refresh_cookie, spawn_app, spawn_app_with,
};

/// Moves every refresh token's `column` `seconds` into the past, as if that much time had gone.
async fn age_refresh_tokens(app: &TestApp, column: &str, seconds: i64) {
    app.shift_back("refresh_tokens", column, seconds, "1 = 1")
        .await;
}

fn forge(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing")
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

#[tokio::test]
async fn me_without_a_token_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    error_of(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let app = spawn_app().await;
    for value in ["Basic YWxpY2U6cHc=", "Bearer", "Bearer ", "token abc"] {
        let response = app
            .client
            .get(app.url("/api/me"))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{value:?}");
    }
}

#[tokio::test]
async fn tampered_tokens_are_rejected() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let other = app.create_account("mallory").await;
    let mut parts: Vec<String> = account.access_token.split('.').map(str::to_owned).collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
    payload["sub"] = json!(other.id);
    parts[1] = engine.encode(serde_json::to_vec(&payload).unwrap());

    let response = app.me(&parts.join(".")).await;

    error_of(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn expired_tokens_are_rejected_with_a_clear_message() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let claims = json!({"sub": account.id, "iss": app.address, "aud": "shifting-api", "iat": now() - 7200, "exp": now() - 3600});
    let error = error_of(
        app.me(&forge(&claims, TEST_JWT_SECRET)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(error["message"], "The access token has expired.");

    // The same claims with a valid expiry are accepted, so the rejection above was the expiry.
    let fresh = json!({"sub": account.id, "iss": app.address, "aud": "shifting-api", "iat": now(), "exp": now() + 600});
    assert_eq!(
        app.me(&forge(&fresh, TEST_JWT_SECRET)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_for_another_issuer_or_audience_or_key_are_rejected() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let base = |iss: &str, aud: &str| json!({"sub": account.id, "iss": iss, "aud": aud, "iat": now(), "exp": now() + 600});

    for token in [
        forge(
            &base("https://elsewhere.example", "shifting-api"),
            TEST_JWT_SECRET,
        ),
        forge(&base(&app.address, "another-api"), TEST_JWT_SECRET),
        forge(
            &base(&app.address, "shifting-api"),
            "a different secret that is also long enough",
        ),
    ] {
        assert_eq!(app.me(&token).await.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn alg_none_tokens_are_rejected() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({"sub": account.id, "iss": app.address, "aud": "shifting-api", "iat": now(), "exp": now() + 600});
    let payload = engine.encode(serde_json::to_vec(&claims).unwrap());

    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_eq!(app.me(&token).await.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn tokens_signed_with_another_algorithm_are_rejected() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let claims = json!({"sub": account.id, "iss": app.address, "aud": "shifting-api", "iat": now(), "exp": now() + 600});
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(app.me(&token).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_issues_a_working_access_token() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;

    let response = app.refresh(&account.refresh_token).await;

    assert_eq!(response.status(), StatusCode::OK);
    let rotated = refresh_cookie(&response).expect("a new refresh cookie");
    assert_ne!(rotated, account.refresh_token);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["id"], account.id.as_str());
    assert_eq!(
        app.me(body["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.refresh(&rotated).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = spawn_app_with(|s| s.auth.refresh_reuse_grace_secs = 0).await;
    let account = app.create_account("alice").await;
    let rotated = refresh_cookie(&app.refresh(&account.refresh_token).await).unwrap();

    // An attacker replays the old token: refused, and the family dies with it.
    let replay = app.refresh(&account.refresh_token).await;
    error_of(replay, StatusCode::UNAUTHORIZED).await;

    let after = app.refresh(&rotated).await;
    error_of(after, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn within_the_grace_a_just_rotated_token_yields_the_same_successor() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let first = app.refresh(&account.refresh_token).await;
    let successor = refresh_cookie(&first).unwrap();

    // A second tab presents the token the first tab just rotated.
    let second = app.refresh(&account.refresh_token).await;

    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(refresh_cookie(&second).unwrap(), successor);
    let body: Value = second.json().await.unwrap();
    assert_eq!(
        app.me(body["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    // Both tabs hold the successor, and it still rotates.
    assert_eq!(app.refresh(&successor).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reuse_after_the_grace_still_revokes_the_family() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let successor = refresh_cookie(&app.refresh(&account.refresh_token).await).unwrap();
    // The default grace is 20 s: the old token was rotated 21 s ago.
    age_refresh_tokens(&app, "revoked_at", 21).await;

    error_of(
        app.refresh(&account.refresh_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    error_of(app.refresh(&successor).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_session_ends_at_the_maximum_family_age_however_often_it_rotates() {
    let app = spawn_app_with(|s| s.auth.refresh_family_max_age_days = 2).await;
    let account = app.create_account("alice").await;
    let mut token = refresh_cookie(&app.refresh(&account.refresh_token).await).unwrap();
    // A day later it still rotates.
    age_refresh_tokens(&app, "family_started_at", 86_400).await;
    token = refresh_cookie(&app.refresh(&token).await).expect("rotated at one day");

    // Two days after the log-in it does not, although the token itself is fresh.
    age_refresh_tokens(&app, "family_started_at", 86_400).await;
    let refused = error_of(app.refresh(&token).await, StatusCode::UNAUTHORIZED).await;

    assert!(
        refused["message"].as_str().unwrap().contains("maximum age"),
        "{refused}"
    );
    // A new log-in starts a new family.
    let again = app.login("alice", crate::helpers::PASSWORD).await;
    assert_eq!(
        app.refresh(&refresh_cookie(&again).unwrap()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_session_past_its_maximum_age_says_so_also_when_its_token_expired_too() {
    let app = spawn_app_with(|s| s.auth.refresh_family_max_age_days = 2).await;
    let account = app.create_account("alice").await;
    age_refresh_tokens(&app, "family_started_at", 3 * 86_400).await;
    age_refresh_tokens(&app, "expires_at", 400 * 86_400).await;

    let refused = error_of(
        app.refresh(&account.refresh_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    assert!(
        refused["message"].as_str().unwrap().contains("maximum age"),
        "{refused}"
    );
}

#[tokio::test]
async fn reuse_revokes_only_that_family_not_other_sessions() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let other_session =
        refresh_cookie(&app.login("alice", crate::helpers::PASSWORD).await).unwrap();
    app.refresh(&account.refresh_token).await;

    app.refresh(&account.refresh_token).await;

    assert_eq!(app.refresh(&other_session).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_without_or_with_an_unknown_cookie_is_401() {
    let app = spawn_app().await;
    let none = app
        .client
        .post(app.url("/api/auth/refresh"))
        .send()
        .await
        .unwrap();
    error_of(none, StatusCode::UNAUTHORIZED).await;
    error_of(app.refresh("made-up-token").await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn logout_revokes_the_family_and_clears_the_cookie() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let rotated = refresh_cookie(&app.refresh(&account.refresh_token).await).unwrap();

    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("shifting_refresh={rotated}"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = crate::helpers::refresh_set_cookie(&response);
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        app.refresh(&rotated).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_with_only_an_access_token_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let second = refresh_cookie(&app.login("alice", crate::helpers::PASSWORD).await).unwrap();
    let bob = app.create_account("bob").await;

    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&account.access_token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.refresh(&account.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&second).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&bob.refresh_token).await.status(),
        StatusCode::OK,
        "other users keep their sessions"
    );
}

#[tokio::test]
async fn logout_with_an_invalid_access_token_is_401_and_revokes_nothing() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    error_of(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        app.refresh(&account.refresh_token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_all_get_the_one_successor_which_keeps_working() {
    let app = spawn_app().await;
    let account = app.create_account("alice").await;

    let attempts = (0..8).map(|_| app.refresh(&account.refresh_token));
    let responses = futures::future::join_all(attempts).await;

    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "two tabs restoring a session must not log it out: {statuses:?}"
    );
    let successors: std::collections::BTreeSet<String> =
        responses.iter().filter_map(refresh_cookie).collect();
    assert_eq!(successors.len(), 1, "{successors:?}");
    let winner = successors.into_iter().next().unwrap();
    // The session is still alive: the successor rotates, and its access token works.
    let next = app.refresh(&winner).await;
    assert_eq!(next.status(), StatusCode::OK);
    let body: Value = next.json().await.unwrap();
    assert_eq!(
        app.me(body["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn with_the_grace_off_concurrent_refreshes_give_one_session_and_never_a_500() {
    let app = spawn_app_with(|s| s.auth.refresh_reuse_grace_secs = 0).await;
    let account = app.create_account("alice").await;

    let attempts = (0..8).map(|_| app.refresh(&account.refresh_token));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();

    assert!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
}
