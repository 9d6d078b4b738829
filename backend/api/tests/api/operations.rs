//! Probes, headers and what the server says when the web app is missing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn health_and_ready_answer_ok() {
    let app = spawn_app().await;
    for path in ["/health", "/ready"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}

#[tokio::test]
async fn ready_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();
    let response = app.client.get(app.url("/ready")).send().await.unwrap();
    let error = error_of(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(error["code"], "unavailable");
}

#[tokio::test]
async fn every_response_has_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    for path in ["/health", "/api/nothing", "/api/docs/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert!(headers.contains_key("x-request-id"), "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
            "{csp}"
        );
    }
}

#[tokio::test]
async fn a_client_request_id_is_kept() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn cross_origin_requests_get_no_cors_grant() {
    let app = spawn_app().await;
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn pages_are_a_clear_404_when_the_web_app_is_not_built() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/dashboard")).send().await.unwrap();
    let error = error_of(response, StatusCode::NOT_FOUND).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("web app is not built")
    );
}

#[tokio::test]
async fn the_built_web_app_is_served_with_index_fallback_and_its_script_hash_in_the_csp() {
    let web = tempfile::tempdir().unwrap();
    let script = "import init from '/app.js'; await init();";
    std::fs::write(
        web.path().join("index.html"),
        format!("<html><body><script type=\"module\">{script}</script></body></html>"),
    )
    .unwrap();
    std::fs::write(
        web.path().join("app.js"),
        "export default async function init() {}",
    )
    .unwrap();
    std::fs::write(
        web.path().join("shifting-web-5522f9252423397b.js"),
        "// built",
    )
    .unwrap();
    let dir = web.path().to_owned();
    let app = crate::helpers::spawn_app_with(|s| s.server.web_dir = dir).await;

    // An unknown room's link still loads the app (which says so), with a 404 for crawlers.
    let unknown = app.client.get(app.url("/r/ABCDEF")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.text().await.unwrap().contains(script));
    let page = app.client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(page.text().await.unwrap().contains(script));
    use base64::Engine;
    use sha2::Digest;
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes()));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");

    let asset = app.client.get(app.url("/app.js")).send().await.unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
    assert!(asset.text().await.unwrap().contains("export default"));

    // Content-hashed files (Trunk's names) are cached for a year.
    let hashed = app
        .client
        .get(app.url("/shifting-web-5522f9252423397b.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(hashed.status(), StatusCode::OK);
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn the_server_starts_with_an_open_payments_identity_from_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("private.key");
    let (_, pem) = shifting_open_payments::SigningKey::generate("platform-key").unwrap();
    std::fs::write(&key_file, pem).unwrap();
    let app = crate::helpers::spawn_app_with(|s| {
        s.open_payments.op_wallet_address = Some("$ilp.interledger-test.dev/shifting".into());
        s.open_payments.op_key_id = Some("platform-key".into());
        s.open_payments.op_private_key_file = Some(key_file);
        s.open_payments.outbound_private_hosts = "wallet.internal".into();
        s.mail.smtp_url = Some("smtp://127.0.0.1:9".into());
    })
    .await;
    let response = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
