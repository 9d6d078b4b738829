//! Bad input always gets our JSON error body with a fitting 4xx, never a 500.

use reqwest::StatusCode;

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("content-type", "application/json")
        .body(r#"{"username": "alice", "#)
        .send()
        .await
        .unwrap();
    let error = error_of(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["code"], "bad_request");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
}

#[tokio::test]
async fn unknown_fields_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let body = serde_json::json!({"username": "alice", "email": "a@example.com", "password": "x", "role": "admin"});
    let error = error_of(
        app.post_json("/api/auth/signup", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["fields"]["role"], "is not a known field");
}

#[tokio::test]
async fn missing_and_mistyped_fields_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let missing = serde_json::json!({"username": "alice", "password": "correct horse battery"});
    let error = error_of(
        app.post_json("/api/auth/signup", &missing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["fields"]["email"], "is required");

    let mistyped = serde_json::json!({"login": ["alice"], "password": "x"});
    let error = error_of(
        app.post_json("/api/auth/login", &mistyped).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        error["fields"]["login"]
            .as_str()
            .unwrap()
            .contains("invalid type")
    );

    let not_an_object = serde_json::json!([1, 2]);
    let error = error_of(
        app.post_json("/api/auth/login", &not_an_object).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["fields"]["body"], "must be a JSON object");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("login=alice&password=secret")
        .send()
        .await
        .unwrap();
    error_of(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(200 * 1024);
    let body = serde_json::json!({"login": huge, "password": "x"});
    error_of(
        app.post_json("/api/auth/login", &body).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
}

#[tokio::test]
async fn unknown_api_paths_are_a_json_404() {
    let app = spawn_app().await;
    for path in ["/api", "/api/nothing-here", "/api/auth/nope"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let error = error_of(response, StatusCode::NOT_FOUND).await;
        assert_eq!(error["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    let error = error_of(response, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_eq!(error["code"], "method_not_allowed");
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    for body in [
        format!(
            r#"{{"login":{}1{}}}"#,
            "[".repeat(20_000),
            "]".repeat(20_000)
        ),
        format!("{}{}", "{\"a\":".repeat(8_000), "}".repeat(8_000)),
    ] {
        let response = app
            .client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status}"
        );
        error_of(response, status).await;
    }
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_and_others_are_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(|s| s.header_read_timeout_secs = 1).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    // Headers begun, never ended (slowloris).
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: shifting\r\nX-Slow: ")
        .await
        .unwrap();

    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "others are served meanwhile"
    );

    // The server closes the connection once the header timeout passes (bounded wait).
    let mut buffer = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        slow.read_to_end(&mut buffer),
    )
    .await;
    assert!(closed.is_ok(), "the slow connection is still open");
    let answer = String::from_utf8_lossy(&buffer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}
