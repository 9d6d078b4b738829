//! API keys: shown once, listed without their secret, revoked and expired keys refused, and
//! every operation open to a key only with its scope (walked from the router), account
//! operations never.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_of, spawn_app};

async fn make_key(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app
        .send_json(Method::POST, "/api/me/api-keys", token, body)
        .await;
    let status = response.status();
    let created: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

fn secret(created: &Value) -> String {
    created["secret"].as_str().expect("secret").to_owned()
}

#[tokio::test]
async fn every_operation_is_open_to_a_key_only_with_its_scope() {
    let app = spawn_app().await;
    let owner = app.create_account("integrator").await.access_token;
    let all = secret(
        &make_key(
            &app,
            &owner,
            &json!({ "name": "everything", "scopes": ["read", "rooms:write", "payments:write", "webhooks:write"] }),
        )
        .await,
    );
    let (_, document) = shifting_api::http::api_router().split_for_parts();
    let open = shifting_api::http::scopes::OPEN_TO_KEYS;
    // No stale entries: every operation the table names exists.
    for (method, path, _) in open {
        let item = document
            .paths
            .paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is no route"));
        let exists = match *method {
            "GET" => item.get.is_some(),
            "POST" => item.post.is_some(),
            "PUT" => item.put.is_some(),
            "PATCH" => item.patch.is_some(),
            "DELETE" => item.delete.is_some(),
            _ => false,
        };
        assert!(exists, "{method} {path} is no operation");
    }
    let mut walked = 0;
    for (path, item) in &document.paths.paths {
        for (method, operation) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ] {
            let Some(operation) = operation else { continue };
            let needs_session = operation.security.iter().flatten().any(|requirement| {
                serde_json::to_value(requirement).is_ok_and(|v| v.get("bearer").is_some())
            });
            if !needs_session {
                continue;
            }
            walked += 1;
            let scope = open
                .iter()
                .find(|(m, p, _)| *m == method.as_str() && p == path)
                .map(|(_, _, scope)| *scope);
            let concrete = path
                .replace("{id}", "00000000-0000-4000-8000-000000000000")
                .replace("{code}", "ABCDEF");
            let call = |key: String| {
                app.client
                    .request(method.clone(), app.url(&concrete))
                    .bearer_auth(key)
                    .json(&json!({}))
                    .send()
            };
            let answer = call(all.clone()).await.expect("request");
            match scope {
                None => assert_eq!(
                    answer.status(),
                    StatusCode::FORBIDDEN,
                    "{method} {path} is closed to keys"
                ),
                Some(scope) => {
                    assert!(
                        ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN]
                            .contains(&answer.status()),
                        "{method} {path} lets a key with {} in: {}",
                        scope.as_str(),
                        answer.status()
                    );
                    let others: Vec<&str> = shifting_shared::keys::Scope::all()
                        .filter(|s| *s != scope)
                        .map(shifting_shared::keys::Scope::as_str)
                        .collect();
                    let without = secret(
                        &make_key(
                            &app,
                            &owner,
                            &json!({ "name": "without", "scopes": others }),
                        )
                        .await,
                    );
                    let refused = call(without).await.expect("request");
                    let error = error_of(refused, StatusCode::FORBIDDEN).await;
                    assert!(
                        error["message"]
                            .as_str()
                            .expect("message")
                            .contains(scope.as_str()),
                        "{method} {path}: {error}"
                    );
                    // Keep under the per-person key limit.
                    app.db
                        .execute_unprepared("DELETE FROM api_keys WHERE name = 'without'")
                        .await
                        .expect("tidy");
                }
            }
        }
    }
    assert!(walked > 40, "{walked} operations walked");
    // The document names the scheme and scope on each open operation.
    let spec = shifting_api::http::openapi::spec();
    let rooms = serde_json::to_value(&spec.paths.paths["/api/rooms"]).expect("json");
    assert_eq!(
        rooms["post"]["security"][1]["api_key"],
        json!(["rooms:write"])
    );
}

#[tokio::test]
async fn a_key_is_shown_once_listed_without_its_secret_and_refused_once_revoked_or_expired() {
    let app = spawn_app().await;
    let owner = app.create_account("integrator").await.access_token;
    for (body, field) in [
        (json!({ "name": " ", "scopes": ["read"] }), "name"),
        (json!({ "name": "x", "scopes": [] }), "scopes"),
        (
            json!({ "name": "x", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z" }),
            "expires_at",
        ),
    ] {
        let refused = app
            .send_json(Method::POST, "/api/me/api-keys", &owner, &body)
            .await;
        let error = error_of(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(error["fields"].get(field).is_some(), "{body}: {error}");
    }
    let unknown = app
        .send_json(
            Method::POST,
            "/api/me/api-keys",
            &owner,
            &json!({ "name": "x", "scopes": ["admin"] }),
        )
        .await;
    error_of(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;

    let expires = app.clock.now() + chrono::Duration::hours(1);
    let created = make_key(
        &app,
        &owner,
        &json!({ "name": "Shop", "scopes": ["read"], "expires_at": expires }),
    )
    .await;
    let key = secret(&created);
    assert!(key.starts_with("shk_") && key.len() > 40, "{key}");
    assert!(key.starts_with(created["key"]["prefix"].as_str().expect("prefix")));
    // Only its hash is kept.
    assert!(
        app.counts(
            &format!(
                "SELECT COUNT(*) AS n FROM api_keys WHERE secret_hash = '{key}' OR prefix = '{key}'"
            ),
            0
        )
        .await
    );

    let rooms = app.get_authed("/api/rooms", &key).await;
    assert_eq!(rooms.status(), StatusCode::OK);
    let listed = app.get_authed("/api/me/api-keys", &owner).await;
    let listed: Value = listed.json().await.expect("json");
    assert!(
        !listed.to_string().contains(&key),
        "the list never holds the secret"
    );
    assert_eq!(listed["keys"][0]["scopes"], json!(["read"]));
    assert!(listed["keys"][0]["last_used_at"].is_string());
    // A key never manages keys, nor acts beyond its scope.
    let own = app.get_authed("/api/me/api-keys", &key).await;
    error_of(own, StatusCode::FORBIDDEN).await;
    let write = app
        .send_json(
            Method::POST,
            "/api/rooms",
            &key,
            &json!({ "name": "x", "price": "1.00" }),
        )
        .await;
    error_of(write, StatusCode::FORBIDDEN).await;

    // Expired: refused.
    app.clock.advance(Duration::from_secs(2 * 3600));
    let late = app.get_authed("/api/rooms", &key).await;
    error_of(late, StatusCode::UNAUTHORIZED).await;

    // Revoked: refused from the next request; twice is 409.
    let owner = {
        let response = app.login("integrator", crate::helpers::PASSWORD).await;
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_owned()
    };
    let other = secret(
        &make_key(
            &app,
            &owner,
            &json!({ "name": "Other", "scopes": ["read"] }),
        )
        .await,
    );
    let id = app
        .get_authed("/api/me/api-keys", &owner)
        .await
        .json::<Value>()
        .await
        .expect("json")["keys"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        app.get_authed("/api/rooms", &other).await.status(),
        StatusCode::OK
    );
    let revoked = app
        .send_json(
            Method::DELETE,
            &format!("/api/me/api-keys/{id}"),
            &owner,
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    error_of(
        app.get_authed("/api/rooms", &other).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let twice = app
        .send_json(
            Method::DELETE,
            &format!("/api/me/api-keys/{id}"),
            &owner,
            &json!({}),
        )
        .await;
    error_of(twice, StatusCode::CONFLICT).await;
    error_of(
        app.get_authed("/api/rooms", "shk_made-up").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}
