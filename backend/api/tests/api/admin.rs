//! Administration and moderation: every admin route refuses anonymous callers (401) and
//! non-admins (403); the command line makes the first admin; suspensions end sessions and
//! withdraw rooms; reports form a queue; every action leaves its audit row (and the log cannot
//! be edited); the provider check flags what the sandbox disagrees with; operations metrics.

use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, Trader, error_of, spawn_app, spawn_app_with};
use crate::payments::market;

/// Signs `username` up and makes them an admin (as `shifting admin grant` would).
pub(crate) async fn admin(app: &TestApp, username: &str) -> String {
    let account = app.create_account(username).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE users SET role = 'admin' WHERE username_key = '{username}'"
        ))
        .await
        .expect("grant");
    account.access_token
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.send_json(Method::POST, path, token, body).await
}

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    ok_json(app.get_authed(path, token).await).await
}

/// The audit entries of `action`, newest first.
async fn audit(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    get_json(app, token, &format!("/api/admin/audit?action={action}")).await["items"]
        .as_array()
        .expect("items")
        .clone()
}

#[tokio::test]
async fn every_admin_route_refuses_anonymous_callers_and_non_admins() {
    let app = spawn_app().await;
    let user = app.create_account("someone").await.access_token;
    let root = admin(&app, "root").await;
    let (_, document) = shifting_api::http::admin_router().split_for_parts();
    let mut operations = Vec::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ] {
            if let Some(operation) = operation {
                assert_eq!(
                    operation.tags.as_deref(),
                    Some(&["admin".to_owned()][..]),
                    "{method} {path} is tagged admin"
                );
                operations.push((method, path.clone()));
            }
        }
    }
    assert!(operations.len() >= 17, "{operations:?}");
    // Nothing under /api/admin lives outside the admin router, where it could miss the check.
    let (_, whole) = shifting_api::http::api_router().split_for_parts();
    for path in whole.paths.paths.keys() {
        if path.starts_with("/api/admin") {
            assert!(
                document.paths.paths.contains_key(path),
                "{path} is outside admin_router()"
            );
        }
    }
    for (method, path) in operations {
        let concrete = path
            .replace("{id}", "00000000-0000-4000-8000-000000000000")
            .replace("{code}", "ABCDEFGH");
        let request = |token: Option<&str>| {
            let mut request = app
                .client
                .request(method.clone(), app.url(&concrete))
                .json(&json!({ "reason": "checking", "role": "admin" }));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let anonymous = request(None).await.expect("request");
        assert_eq!(
            anonymous.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let error = error_of(anonymous, StatusCode::UNAUTHORIZED).await;
        assert_eq!(error["code"], "unauthorized");
        let stranger = request(Some(&user)).await.expect("request");
        assert_eq!(stranger.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let as_admin = request(Some(&root)).await.expect("request");
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&as_admin.status()),
            "{method} {path} lets an admin in: {}",
            as_admin.status()
        );
    }
    // A revoked role counts from the next request: it is read from the database every time.
    app.db
        .execute_unprepared("UPDATE users SET role = 'user' WHERE username_key = 'root'")
        .await
        .expect("revoke");
    let after = app.get_authed("/api/admin/overview", &root).await;
    assert_eq!(after.status(), StatusCode::FORBIDDEN);
}

/// Runs `shifting ARGS` against the app's database, off the test's runtime thread (the app
/// serves on it meanwhile).
async fn shifting(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_shifting"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(app.data_dir())
        .env("SHIFTING_DATABASE_URL", app.database_url())
        .env("SHIFTING_LOG_FORMAT", "json");
    tokio::task::spawn_blocking(move || command.output().expect("shifting runs"))
        .await
        .expect("the command's thread")
}

#[tokio::test]
async fn the_command_line_makes_the_first_admin_and_the_last_one_keeps_the_role() {
    let app = spawn_app().await;
    let alice = app.create_account("alice").await.access_token;
    let bruno = app.create_account("bruno").await;
    let refused = app.get_authed("/api/admin/overview", &alice).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let granted = shifting(&app, &["admin", "grant", "ALICE"]).await;
    assert!(granted.status.success(), "{granted:?}");
    assert_eq!(
        String::from_utf8_lossy(&granted.stdout).trim(),
        "alice is now an admin."
    );
    get_json(&app, &alice, "/api/admin/overview").await;
    let again = shifting(&app, &["admin", "grant", "alice"]).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("an admin already"));
    let nobody = shifting(&app, &["admin", "grant", "nobody"]).await;
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("No account"));

    // The last admin keeps the role, from the command line and from the panel alike.
    let last = shifting(&app, &["admin", "revoke", "alice"]).await;
    assert!(!last.status.success());
    assert!(String::from_utf8_lossy(&last.stderr).contains("last admin"));
    let alice_id = get_json(&app, &alice, "/api/me").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let own = post(
        &app,
        &alice,
        &format!("/api/admin/users/{alice_id}/role"),
        &json!({ "role": "user", "reason": "Stepping down." }),
    )
    .await;
    error_of(own, StatusCode::CONFLICT).await;
    let leave = app
        .client
        .delete(app.url("/api/me"))
        .bearer_auth(&alice)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .expect("delete");
    let error = error_of(leave, StatusCode::CONFLICT).await;
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("last admin")
    );

    // An admin makes another in the panel; then the first may go.
    let made = ok_json(
        post(
            &app,
            &alice,
            &format!("/api/admin/users/{}/role", bruno.id),
            &json!({ "role": "admin", "reason": "Joins the support team." }),
        )
        .await,
    )
    .await;
    assert_eq!(made["role"], "admin");
    get_json(&app, &bruno.access_token, "/api/admin/users").await;
    let revoked = shifting(&app, &["admin", "revoke", "alice", "--reason", "Left."]).await;
    assert!(revoked.status.success(), "{revoked:?}");
    let gone = app.get_authed("/api/admin/overview", &alice).await;
    assert_eq!(gone.status(), StatusCode::FORBIDDEN);

    let grants = audit(&app, &bruno.access_token, "grant_admin").await;
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[1]["actor_name"], "command line");
    assert_eq!(grants[1]["actor_id"], Value::Null);
    assert_eq!(grants[1]["before"], json!({ "role": "user" }));
    assert_eq!(grants[1]["after"], json!({ "role": "admin" }));
    assert_eq!(grants[0]["actor_name"], "alice");
    assert_eq!(grants[0]["target_id"], bruno.id.as_str());
    assert_eq!(grants[0]["reason"], "Joins the support team.");
    let revokes = audit(&app, &bruno.access_token, "revoke_admin").await;
    assert_eq!(revokes.len(), 1, "refused changes leave no row");
    assert_eq!(revokes[0]["reason"], "Left.");
}

#[tokio::test]
async fn a_suspension_ends_sessions_at_once_and_withdraws_the_rooms() {
    let app = spawn_app().await;
    let (seller, buyer, code) = market(&app).await;
    let root = admin(&app, "root").await;
    let root_id = get_json(&app, &root, "/api/me").await["id"].clone();
    let path = |id: &str, what: &str| format!("/api/admin/users/{id}/{what}");

    let no_reason = post(
        &app,
        &root,
        &path(&seller.account.id, "suspend"),
        &json!({ "reason": " " }),
    )
    .await;
    let error = error_of(no_reason, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["reason"], "required");
    let own = post(
        &app,
        &root,
        &path(root_id.as_str().expect("id"), "suspend"),
        &json!({ "reason": "x" }),
    )
    .await;
    error_of(own, StatusCode::CONFLICT).await;

    // The seller has the app open: a live socket.
    let (mut socket, _) =
        crate::live::LiveSocket::connect(&app.address, &seller.account.access_token, None).await;
    let suspended = ok_json(
        post(
            &app,
            &root,
            &path(&seller.account.id, "suspend"),
            &json!({ "reason": "Asked buyers to pay outside the platform." }),
        )
        .await,
    )
    .await;
    assert!(suspended["suspended_at"].is_string());
    let twice = post(
        &app,
        &root,
        &path(&seller.account.id, "suspend"),
        &json!({ "reason": "x" }),
    )
    .await;
    error_of(twice, StatusCode::CONFLICT).await;

    // Every session ends: the access token now, the refresh token too; signing in is refused.
    let me = app.me(&seller.account.access_token).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let refreshed = app.refresh(&seller.account.refresh_token).await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
    let login = app.login("seller", PASSWORD).await;
    let error = error_of(login, StatusCode::FORBIDDEN).await;
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("suspended")
    );
    assert!(app.counts("SELECT COUNT(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE username_key = 'seller')", 0).await);
    assert_eq!(socket.close_code().await, 4401, "the open socket closes");
    let ticket = post(
        &app,
        &seller.account.access_token,
        "/api/live/ticket",
        &json!({}),
    )
    .await;
    assert_eq!(
        ticket.status(),
        StatusCode::UNAUTHORIZED,
        "no new live socket"
    );
    // A reset link does not sign a suspended account in (and stays unused).
    app.wait_for_mails("seller@example.com", 1).await;
    let asked = app
        .post_json(
            "/api/auth/password-reset",
            &json!({ "email": "seller@example.com" }),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let link = app
        .mail("seller@example.com", 2)
        .await
        .token_for("/reset-password");
    let reset = app
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({ "token": link, "password": "a brand new long password" }),
        )
        .await;
    error_of(reset, StatusCode::FORBIDDEN).await;
    assert!(app.counts("SELECT COUNT(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE username_key = 'seller')", 0).await);

    // The rooms are withdrawn: the link says so, nobody can pay or write about them.
    let room = app
        .client
        .get(app.url(&format!("/api/rooms/{code}")))
        .send()
        .await
        .expect("room");
    let error = error_of(room, StatusCode::GONE).await;
    assert_eq!(error["code"], "gone");
    let pay = app
        .start_payment(&buyer.account.access_token, &code, &json!({}))
        .await;
    error_of(pay, StatusCode::GONE).await;
    for path in [
        "/api/users/seller".to_owned(),
        "/api/users/seller/reviews".to_owned(),
        format!("/api/rooms/{code}/reviews"),
    ] {
        let gone = app.client.get(app.url(&path)).send().await.expect("read");
        error_of(gone, StatusCode::GONE).await;
    }
    let chat = post(
        &app,
        &buyer.account.access_token,
        &format!("/api/rooms/{code}/conversation"),
        &json!({}),
    )
    .await;
    error_of(chat, StatusCode::GONE).await;

    let lifted = ok_json(
        post(
            &app,
            &root,
            &path(&seller.account.id, "unsuspend"),
            &json!({ "reason": "Explained; it was a misunderstanding." }),
        )
        .await,
    )
    .await;
    assert_eq!(lifted["suspended_at"], Value::Null);
    assert_eq!(app.public_room(&code).await["code"], code.as_str());
    assert_eq!(app.login("seller", PASSWORD).await.status(), StatusCode::OK);
    app.checkout(&buyer, &code).await;

    let rows = audit(&app, &root, "suspend_user").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["target_type"], "user");
    assert_eq!(rows[0]["target_id"], seller.account.id.as_str());
    assert_eq!(
        rows[0]["reason"],
        "Asked buyers to pay outside the platform."
    );
    assert_eq!(rows[0]["before"]["suspended"], false);
    assert_eq!(rows[0]["after"]["suspended"], true);
    assert_eq!(rows[0]["after"]["sessions_revoked"], 1);
    assert_eq!(rows[0]["after"]["rooms_withdrawn"], json!([code]));
    assert_eq!(audit(&app, &root, "unsuspend_user").await.len(), 1);
    // Admins are not suspended (the role goes first).
    let other = app.create_account("other").await;
    app.db
        .execute_unprepared("UPDATE users SET role = 'admin' WHERE username_key = 'other'")
        .await
        .expect("grant");
    let admin_target = post(
        &app,
        &root,
        &path(&other.id, "suspend"),
        &json!({ "reason": "x" }),
    )
    .await;
    error_of(admin_target, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn reports_form_a_queue_and_room_moderation_is_audited() {
    let app = spawn_app().await;
    let (seller, buyer, code) = market(&app).await;
    let root = admin(&app, "root").await;
    let stranger = app.create_account("stranger").await.access_token;

    let report = |token: String, body: Value| {
        let app = &app;
        async move { post(app, &token, "/api/reports", &body).await }
    };
    let anonymous = app
        .client
        .post(app.url("/api/reports"))
        .json(&json!({ "target_type": "room", "target_id": code, "reason": "fraud" }))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let other_without_text = report(
        buyer.account.access_token.clone(),
        json!({ "target_type": "room", "target_id": code, "reason": "other" }),
    )
    .await;
    let error = error_of(other_without_text, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["text"], "required");
    let filed = report(
        buyer.account.access_token.clone(),
        json!({ "target_type": "room", "target_id": code.to_lowercase(), "reason": "fraud", "text": "Asked me to pay by bank transfer." }),
    )
    .await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed: Value = filed.json().await.expect("json");
    assert_eq!(filed["status"], "open");
    assert_eq!(filed["target_id"], code.as_str());
    assert_eq!(filed["reporter"], Value::Null, "the reporter's own copy");
    let again = report(
        buyer.account.access_token.clone(),
        json!({ "target_type": "room", "target_id": code, "reason": "spam" }),
    )
    .await;
    error_of(again, StatusCode::CONFLICT).await;
    // Ten of the same at once from another person: one report.
    let other = app.create_account("other").await.access_token;
    let burst = futures::future::join_all((0..10).map(|_| {
        report(
            other.clone(),
            json!({ "target_type": "room", "target_id": code, "reason": "spam" }),
        )
    }))
    .await;
    let statuses: Vec<StatusCode> = burst.iter().map(reqwest::Response::status).collect();
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
            .all(|s| [StatusCode::CREATED, StatusCode::CONFLICT].contains(s))
    );
    app.db
        .execute_unprepared("DELETE FROM reports WHERE reporter_id IN (SELECT id FROM users WHERE username_key = 'other')")
        .await
        .expect("forget the burst");
    let missing = report(
        buyer.account.access_token.clone(),
        json!({ "target_type": "room", "target_id": "ZZZZZZ", "reason": "spam" }),
    )
    .await;
    error_of(missing, StatusCode::NOT_FOUND).await;

    // A message: only the two people in its conversation can see it, so only they report it.
    let conversation = post(
        &app,
        &buyer.account.access_token,
        &format!("/api/rooms/{code}/conversation"),
        &json!({}),
    )
    .await;
    let conversation: Value = conversation.json().await.expect("json");
    let conversation = conversation["id"].as_str().expect("id").to_owned();
    let message = post(
        &app,
        &seller.account.access_token,
        &format!("/api/conversations/{conversation}/messages"),
        &json!({ "text": "Pay me on my bank account instead." }),
    )
    .await;
    let message: Value = message.json().await.expect("json");
    let message_id = message["id"].to_string();
    let hidden_from = report(
        stranger.clone(),
        json!({ "target_type": "message", "target_id": message_id, "reason": "fraud" }),
    )
    .await;
    error_of(hidden_from, StatusCode::NOT_FOUND).await;
    let bad_id = report(
        stranger,
        json!({ "target_type": "review", "target_id": "not-an-id", "reason": "spam" }),
    )
    .await;
    let error = error_of(bad_id, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["target_id"], "invalid");
    let about_message = report(buyer.account.access_token.clone(), json!({ "target_type": "message", "target_id": message_id, "reason": "fraud", "text": "Again." })).await;
    assert_eq!(about_message.status(), StatusCode::CREATED);

    let queue = get_json(&app, &root, "/api/admin/reports?status=open").await;
    let items = queue["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["target_type"], "message");
    assert_eq!(items[0]["excerpt"], "Pay me on my bank account instead.");
    assert_eq!(items[0]["room_code"], code.as_str());
    assert_eq!(items[1]["reporter"], "buyer");
    assert_eq!(items[1]["excerpt"], "Guitar lesson");
    let first_page = get_json(&app, &root, "/api/admin/reports?limit=1").await;
    let cursor = first_page["next_cursor"].as_str().expect("a next page");
    let second = get_json(
        &app,
        &root,
        &format!("/api/admin/reports?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(second["items"][0]["id"], items[1]["id"]);
    assert_eq!(second["next_cursor"], Value::Null);

    // Hide the room: the public link is unavailable, its seller still sees it with the reason.
    let hide = |what: &'static str, reason: &'static str| {
        let (app, root, code) = (&app, root.clone(), code.clone());
        async move {
            post(
                app,
                &root,
                &format!("/api/admin/rooms/{code}/{what}"),
                &json!({ "reason": reason }),
            )
            .await
        }
    };
    let hidden = ok_json(hide("hide", "Reported for fraud; checking.").await).await;
    assert!(hidden["hidden_at"].is_string());
    error_of(hide("hide", "again").await, StatusCode::CONFLICT).await;
    for path in [
        format!("/api/rooms/{code}"),
        format!("/api/rooms/{code}/reviews"),
    ] {
        let public = app.client.get(app.url(&path)).send().await.expect("room");
        error_of(public, StatusCode::GONE).await;
    }
    let own = get_json(&app, &seller.account.access_token, "/api/rooms").await;
    assert_eq!(
        own["rooms"][0]["withdrawn"],
        "Reported for fraud; checking."
    );
    let pay = app
        .start_payment(&buyer.account.access_token, &code, &json!({}))
        .await;
    error_of(pay, StatusCode::GONE).await;
    let listed = get_json(&app, &root, "/api/admin/rooms?hidden=true").await;
    assert_eq!(listed["items"][0]["code"], code.as_str());
    let searched = get_json(&app, &root, "/api/admin/rooms?q=guitar").await;
    assert_eq!(searched["items"].as_array().expect("items").len(), 1);

    ok_json(hide("unhide", "Nothing wrong found.").await).await;
    assert_eq!(app.public_room(&code).await["code"], code.as_str());
    let closed = ok_json(hide("close", "The seller asked us to.").await).await;
    assert_eq!(closed["status"], "closed");
    error_of(hide("close", "again").await, StatusCode::CONFLICT).await;

    let resolved = ok_json(
        post(
            &app,
            &root,
            &format!(
                "/api/admin/reports/{}/resolve",
                items[1]["id"].as_str().expect("id")
            ),
            &json!({ "reason": "Room closed." }),
        )
        .await,
    )
    .await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolution"], "Room closed.");
    let twice = post(
        &app,
        &root,
        &format!(
            "/api/admin/reports/{}/dismiss",
            items[1]["id"].as_str().expect("id")
        ),
        &json!({ "reason": "x" }),
    )
    .await;
    error_of(twice, StatusCode::CONFLICT).await;
    ok_json(
        post(
            &app,
            &root,
            &format!(
                "/api/admin/reports/{}/dismiss",
                items[0]["id"].as_str().expect("id")
            ),
            &json!({ "reason": "Handled with the room." }),
        )
        .await,
    )
    .await;
    assert!(
        get_json(&app, &root, "/api/admin/reports?status=open").await["items"]
            .as_array()
            .expect("items")
            .is_empty()
    );

    for (action, target) in [
        ("hide_room", code.as_str()),
        ("unhide_room", code.as_str()),
        ("close_room", code.as_str()),
        ("resolve_report", items[1]["id"].as_str().expect("id")),
        ("dismiss_report", items[0]["id"].as_str().expect("id")),
    ] {
        let rows = audit(&app, &root, action).await;
        assert_eq!(rows.len(), 1, "{action}");
        assert_eq!(rows[0]["actor_name"], "root");
        assert_eq!(rows[0]["target_id"], target);
    }
    let by_target = get_json(
        &app,
        &root,
        &format!("/api/admin/audit?target_type=room&target_id={code}"),
    )
    .await;
    assert_eq!(by_target["items"].as_array().expect("items").len(), 3);
    let by_actor = get_json(&app, &root, "/api/admin/audit?actor=ROOT").await;
    assert_eq!(by_actor["items"].as_array().expect("items").len(), 5);

    // The log is append-only in the database itself.
    for sql in [
        "UPDATE audit_log SET reason = 'edited'",
        "DELETE FROM audit_log",
    ] {
        let refused = app.db.execute_unprepared(sql).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }
    assert!(app.counts("SELECT COUNT(*) AS n FROM audit_log", 5).await);
}

/// `POST /api/admin/transactions/{id}/provider-check` as the admin `token`; the 200 body.
async fn provider_check(app: &TestApp, token: &str, id: &str) -> Value {
    ok_json(
        post(
            app,
            token,
            &format!("/api/admin/transactions/{id}/provider-check"),
            &json!({}),
        )
        .await,
    )
    .await
}

/// A completed purchase: (seller, buyer, room code, transaction id).
async fn sale(app: &TestApp) -> (Trader, Trader, String, String) {
    let (seller, buyer, code) = market(app).await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    (seller, buyer, code, id)
}

#[tokio::test]
async fn the_provider_check_flags_a_disagreement_made_in_the_sandbox() {
    let app = spawn_app().await;
    let (_, _, code, id) = sale(&app).await;
    let root = admin(&app, "root").await;
    let check = || provider_check(&app, &root, &id);

    let agreed = check().await;
    assert_eq!(agreed["record"]["summary"]["status"], "completed");
    assert_eq!(agreed["incoming"]["read"], true);
    assert_eq!(agreed["incoming"]["amount"]["value"], "2500");
    assert_eq!(agreed["incoming"]["state"], "completed");
    // The buyer's grant ended with the payment: its outgoing payment cannot be read again.
    assert_eq!(agreed["outgoing"]["read"], false);
    assert!(
        agreed["outgoing"]["problem"]
            .as_str()
            .expect("why")
            .contains("grant ended")
    );
    assert_eq!(agreed["disagreements"], json!([]));

    app.sandbox_execute(
        "UPDATE sandbox_incoming_payments SET received_value = 1000, completed = false",
    )
    .await;
    let disagreed = check().await;
    assert_eq!(disagreed["incoming"]["amount"]["value"], "1000");
    assert_eq!(disagreed["incoming"]["state"], "open");
    let fields: Vec<&str> = disagreed["disagreements"]
        .as_array()
        .expect("disagreements")
        .iter()
        .map(|d| d["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["amount_received", "incoming_state"]);
    assert_eq!(disagreed["disagreements"][0]["ours"], "25.00 USD");
    assert_eq!(disagreed["disagreements"][0]["theirs"], "10.00 USD");

    let rows = audit(&app, &root, "check_payment").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["target_type"], "transaction");
    assert_eq!(rows[0]["after"]["disagreements"], 2);

    // Found by id, by room code and by either party's name; the record holds the history.
    for q in [id.as_str(), code.as_str(), "BUYER", "seller"] {
        let found = get_json(&app, &root, &format!("/api/admin/transactions?q={q}")).await;
        assert_eq!(found["items"][0]["id"], id.as_str(), "{q}");
    }
    let none = get_json(&app, &root, "/api/admin/transactions?q=nobody").await;
    assert_eq!(none["items"], json!([]));
    for path in [
        "/api/admin/transactions?q=a%00b",
        "/api/admin/users?q=%01",
        "/api/admin/audit?actor=x%00",
    ] {
        let refused = app.get_authed(path, &root).await;
        error_of(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let record = get_json(&app, &root, &format!("/api/admin/transactions/{id}")).await;
    let statuses: Vec<&str> = record["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["to"].as_str().expect("to"))
        .collect();
    assert_eq!(
        statuses,
        ["awaiting_approval", "approved", "sending", "completed"]
    );
    assert!(
        !record.to_string().contains("token"),
        "no token is served: {record}"
    );
}

#[tokio::test]
async fn the_overview_counts_sales_and_the_funnel_and_lists_stuck_payments() {
    let app = spawn_app().await;
    let (_, buyer, code, id) = sale(&app).await;
    let root = admin(&app, "root").await;
    let declined = app.checkout(&buyer, &code).await;
    let finish = app
        .consent(
            declined["redirect_url"].as_str().expect("redirect"),
            "decline",
        )
        .await;
    app.client.get(&finish).send().await.expect("finish");
    let declined_id = declined["transaction"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.wait_for_status(&buyer.account.access_token, &declined_id, "rejected")
        .await;

    let overview = get_json(&app, &root, "/api/admin/overview").await;
    assert_eq!(overview["users"], 3);
    assert_eq!(overview["rooms"], 1);
    assert_eq!(overview["transactions"], 2);
    assert_eq!(overview["stuck_payments"], 0);
    let today = app.clock.now().format("%Y-%m-%d").to_string();
    assert_eq!(
        overview["volume"],
        json!([{ "day": today, "count": 1, "amount": { "value": "2500", "asset_code": "USD", "asset_scale": 2 } }])
    );
    assert_eq!(overview["funnel"]["started"], 2);
    assert_eq!(overview["funnel"]["approved"], 1);
    assert_eq!(overview["funnel"]["completed"], 1);
    assert_eq!(
        overview["funnel"]["failures"],
        json!([{ "reason": "declined", "count": 1 }])
    );

    // A payment left `sending` past the verification timeout (its next check far away, so the
    // worker leaves it) is listed as stuck.
    {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use shifting_api::entities::transactions::{Column, Entity};
        let now = app.clock.now();
        Entity::update_many()
            .col_expr(Column::Status, Expr::value("sending"))
            .col_expr(
                Column::ApprovedAt,
                Expr::value(now - chrono::Duration::days(2)),
            )
            .col_expr(
                Column::NextCheckAt,
                Expr::value(now + chrono::Duration::days(365)),
            )
            .filter(Column::Id.eq(uuid::Uuid::parse_str(&id).expect("id")))
            .exec(&app.db)
            .await
            .expect("stick");
    }
    let stuck = get_json(&app, &root, "/api/admin/stuck-payments").await;
    assert_eq!(stuck["items"].as_array().expect("items").len(), 1);
    assert_eq!(stuck["items"][0]["transaction"]["id"], id.as_str());
    assert_eq!(stuck["items"][0]["why"], "sending_too_long");
    assert_eq!(
        get_json(&app, &root, "/api/admin/overview").await["stuck_payments"],
        1
    );
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_in_the_prometheus_format() {
    let app = spawn_app_with(|raw| raw.server.metrics_addr = "127.0.0.1:0".into()).await;
    let (_, _, code, _) = sale(&app).await;
    app.public_room(&code).await;
    let port = app.metrics_port.expect("a metrics listener");
    let response = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("text");
    for family in [
        "axum_http_requests_total{",
        "axum_http_requests_duration_seconds_bucket{",
        "shifting_payment_transitions_total{",
        "shifting_worker_lag_seconds",
        "shifting_payments_sending",
        "shifting_db_pool_connections{",
        "shifting_db_pool_max",
        "open_payments_requests_total{",
        "open_payments_request_duration_seconds_bucket{",
    ] {
        assert!(text.contains(family), "{family} is missing from:\n{text}");
    }
    assert!(
        text.contains(r#"endpoint="/api/rooms/{code}""#),
        "route templates label requests"
    );
    assert!(text.contains(r#"to="completed""#));
    assert!(text.contains(r#"host="127.0.0.1""#));
    // The public listener does not serve them.
    let public = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("public");
    assert_ne!(public.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_provider_check_reads_a_one_click_purchase_at_both_wallets() {
    use crate::budgets::{buy_with_one_click, debit_of, decimal, enable};
    let app = spawn_app().await;
    let (_, buyer, code) = market(&app).await;
    let root = admin(&app, "root").await;
    let token = &buyer.account.access_token;
    let debit = debit_of(&app, &buyer, &code).await;
    let budget = enable(
        &app,
        token,
        &json!({"amount": decimal(2 * debit), "period": "month", "periods": 2, "room_code": code}),
    )
    .await;
    let id = buy_with_one_click(&app, token, &code, &budget).await;
    let check = || provider_check(&app, &root, &id);

    // The budget's grant still reads the buyer's side after completion.
    let agreed = check().await;
    assert_eq!(agreed["outgoing"]["read"], true, "{agreed}");
    assert_eq!(agreed["outgoing"]["state"], "sent");
    assert_eq!(agreed["outgoing"]["expected"]["value"], debit.to_string());
    assert_eq!(agreed["outgoing"]["expected"]["asset_code"], "EUR");
    assert_eq!(agreed["disagreements"], json!([]));

    // The buyer's wallet now says it failed, and for another debit: both are named.
    app.sandbox_execute(&format!(
        "UPDATE sandbox_outgoing_payments SET state = 'failed', debit_value = {}",
        debit + 1
    ))
    .await;
    let disagreed = check().await;
    assert_eq!(disagreed["outgoing"]["state"], "failed");
    let found: Vec<(&str, &str, &str)> = disagreed["disagreements"]
        .as_array()
        .expect("disagreements")
        .iter()
        .map(|d| {
            (
                d["field"].as_str().expect("field"),
                d["ours"].as_str().expect("ours"),
                d["theirs"].as_str().expect("theirs"),
            )
        })
        .collect();
    assert_eq!(found[0], ("outgoing_state", "completed", "failed"));
    assert_eq!(found[1].0, "amount_sent");
    assert_eq!(found.len(), 2, "{found:?}");
}
