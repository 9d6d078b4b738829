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
    assert_eq!(error["field_codes"]["role"], "unknown_field");
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
    assert_eq!(error["field_codes"]["email"], "required");

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
    assert_eq!(error["field_codes"]["login"], "invalid");

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
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
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

    // The server closes the connection once the header timeout passes.
    let buffer = closed_past_the_header_timeout(&app, &mut slow)
        .await
        .expect("the slow connection is still open");
    let answer = String::from_utf8_lossy(&buffer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

/// Moves the app's clock past the header timeout (the default 10 s) until the server closes
/// `stream`; what the server sent, or `None` if it never closed it. The clock is moved again
/// when the server had not yet started the connection's timer at the first move: each wait
/// is for the close, which follows a move at once, never for time to pass.
async fn closed_past_the_header_timeout(
    app: &crate::helpers::TestApp,
    stream: &mut tokio::net::TcpStream,
) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    for _ in 0..50 {
        app.clock.advance(std::time::Duration::from_secs(11));
        let read = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            stream.read_to_end(&mut seen),
        );
        if read.await.is_ok() {
            return Some(seen);
        }
    }
    None
}

/// Sends `GET /health` on `stream` and reads one whole response (head and body), or what the
/// server sent before it closed the connection.
async fn health_on(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: shifting\r\n\r\n")
        .await
        .expect("the request is sent");
    let mut seen = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut buffer))
                .await
                .expect("an answer within 20 s")
                .unwrap_or(0);
        if read == 0 {
            break;
        }
        seen.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&seen);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|n| n.trim().parse::<usize>().ok());
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn connections_over_the_limit_get_a_503_and_the_open_ones_keep_being_served() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.server.max_connections = 2;
        s.server.header_read_timeout_secs = 300;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let connect = || tokio::net::TcpStream::connect(address.clone());

    let mut first = connect().await.unwrap();
    let mut second = connect().await.unwrap();
    assert!(health_on(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(health_on(&mut second).await.starts_with("HTTP/1.1 200"));

    // Both kept alive: a third connection is over the limit.
    let mut third = connect().await.unwrap();
    let answer = health_on(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    let body = answer.split_once("\r\n\r\n").expect("a body").1;
    let body: serde_json::Value = serde_json::from_str(body).expect("our JSON error body");
    assert_eq!(body["error"]["code"], "unavailable");

    // The open connections are still served.
    assert!(health_on(&mut first).await.starts_with("HTTP/1.1 200"));

    // Once one closes, a new connection gets its place (the server notices the close on its
    // own time, hence the bounded retries).
    drop(second);
    let mut served = false;
    for _ in 0..200 {
        let mut next = connect().await.unwrap();
        if health_on(&mut next).await.starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(served, "a freed place is never given to a new connection");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    assert!(health_on(&mut idle).await.starts_with("HTTP/1.1 200"));
    // Nothing more is sent: the server must not hold the connection (and its place under
    // SHIFTING_MAX_CONNECTIONS) forever.
    assert!(
        closed_past_the_header_timeout(&app, &mut idle)
            .await
            .is_some(),
        "an idle connection is still open after the header timeout"
    );
}

#[tokio::test]
async fn a_client_that_sends_nothing_or_stalls_in_the_http2_preface_is_cut_off() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let silent = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut stalled = tokio::net::TcpStream::connect(&address).await.unwrap();
    stalled.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    for (what, mut stream) in [("silent", silent), ("stalled", stalled)] {
        assert!(
            closed_past_the_header_timeout(&app, &mut stream)
                .await
                .is_some(),
            "the {what} connection is still open after the header timeout"
        );
    }
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_still_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // The preface, then an empty SETTINGS frame.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let mut frame = [0_u8; 9];
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_exact(&mut frame),
    )
    .await
    .expect("an answer within 20 s")
    .expect("the server's first frame");
    assert_eq!(frame[3], 0x04, "the server answers with its SETTINGS frame");
}
