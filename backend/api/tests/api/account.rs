//! Account recovery and care through the mail they send (the local mailbox of sandbox mode):
//! e-mail confirmation, password reset, password and e-mail change, notices and their
//! preferences, one-click unsubscribe, and account deletion.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, error_of, refresh_cookie, spawn_app};

const NEW_PASSWORD: &str = "a brand new correct horse";

#[tokio::test]
async fn sign_up_mails_a_link_that_confirms_the_address_once() {
    let app = spawn_app().await;
    let ana = app.create_account("ana").await;
    let me: Value = app.me(&ana.access_token).await.json().await.unwrap();
    assert_eq!(me["email_verified"], false);
    assert_eq!(me["language"], "en");
    assert_eq!(
        me["mail"],
        json!({"sales": true, "payment_problems": true, "messages": true})
    );

    let mail = app.mail("ana@example.com", 1).await;
    assert_eq!(mail.subject(), "Confirm your e-mail address");
    assert!(mail.text.starts_with("Hello ana,"), "{}", mail.text);
    assert_eq!(mail.parts, ["text/plain", "text/html"]);
    let token = mail.token_for("/verify-email");
    let confirmed = app
        .post_json("/api/auth/verify-email", &json!({ "token": token }))
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(
        confirmed.json::<Value>().await.unwrap(),
        json!({"email": "ana@example.com", "changed": false})
    );
    let me: Value = app.me(&ana.access_token).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true);

    // Once only; a made-up token is the same error.
    for token in [token.as_str(), "made-up"] {
        let again = app
            .post_json("/api/auth/verify-email", &json!({ "token": token }))
            .await;
        let error = error_of(again, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["field_codes"]["token"], "link_invalid");
    }
    // Nothing to resend once confirmed.
    let resend = app
        .client
        .post(app.url("/api/me/email-verification"))
        .bearer_auth(&ana.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resend.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_signup_in_spanish_gets_its_mail_in_spanish_and_can_ask_for_another_link() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("accept-language", "es-MX,es;q=0.9")
        .json(&json!({"username": "lucia", "email": "lucia@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["language"], "es");
    let token = body["access_token"].as_str().unwrap();
    let first = app.mail("lucia@example.com", 1).await;
    assert_eq!(first.subject(), "Confirma tu dirección de correo");
    assert_eq!(first.header("Content-Language"), Some("es"));
    assert!(first.html.contains("<html lang=\"es\">"));

    let resend = app
        .client
        .post(app.url("/api/me/email-verification"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resend.status(), StatusCode::ACCEPTED);
    let second = app.mail("lucia@example.com", 2).await;
    assert_ne!(
        second.token_for("/verify-email"),
        first.token_for("/verify-email")
    );
    // Both links work until one is used; then the account is confirmed.
    let used = app
        .post_json(
            "/api/auth/verify-email",
            &json!({ "token": second.token_for("/verify-email") }),
        )
        .await;
    assert_eq!(used.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_reset_is_single_use_expires_and_does_not_reveal_who_has_an_account() {
    let app = spawn_app().await;
    let ana = app.create_account("ana").await;
    app.wait_for_mails("ana@example.com", 1).await;

    // The same answer for an account's address and for a stranger's.
    let known = app
        .post_json(
            "/api/auth/password-reset",
            &json!({"email": "Ana@Example.com"}),
        )
        .await;
    let unknown = app
        .post_json(
            "/api/auth/password-reset",
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), known.status());
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    let reset = app.mail("ana@example.com", 2).await;
    assert_eq!(reset.subject(), "Reset your password");
    app.outbox_settled().await;
    assert!(app.mails_to("nobody@example.com").await.is_empty());
    // Both requests did the same work: a row each, the stranger's dropped when composed.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE 'mail:reset:%'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed' AND last_error = 'no account has this address'")
            .await,
        1
    );
    // Nothing a mail said stays in the outbox once it is done.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status <> 'pending' AND payload <> '{}'")
            .await,
        0
    );

    let token = reset.token_for("/reset-password");
    let weak = app
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({"token": token, "password": "short"}),
        )
        .await;
    let error = error_of(weak, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["password"], "password_too_short");

    let done = app
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(refresh_cookie(&done).is_some(), "signed in");
    let session: Value = done.json().await.unwrap();
    assert_eq!(session["user"]["username"], "ana");
    assert_eq!(
        session["user"]["email_verified"], true,
        "the link reached the address"
    );

    // Single use; the old password and the old session are gone; the new password works.
    let again = app
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({"token": token, "password": "yet another long password"}),
        )
        .await;
    let error = error_of(again, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["token"], "link_invalid");
    assert_eq!(
        app.login("ana", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&ana.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("ana", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    let notice = app.mail("ana@example.com", 3).await;
    assert_eq!(notice.subject(), "Your password was changed");

    // A link is good for 30 minutes.
    app.post_json(
        "/api/auth/password-reset",
        &json!({"email": "ana@example.com"}),
    )
    .await;
    let late = app
        .mail("ana@example.com", 4)
        .await
        .token_for("/reset-password");
    app.clock.advance(Duration::from_secs(31 * 60));
    let expired = app
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({"token": late, "password": "yet another long password"}),
        )
        .await;
    let error = error_of(expired, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["token"], "link_invalid");
}

#[tokio::test]
async fn reset_requests_are_limited_per_address_whether_or_not_it_has_an_account() {
    let app = spawn_app().await;
    app.create_account("ana").await;
    for email in ["ana@example.com", "nobody@example.com"] {
        for _ in 0..3 {
            let taken = app
                .post_json("/api/auth/password-reset", &json!({ "email": email }))
                .await;
            assert_eq!(taken.status(), StatusCode::ACCEPTED);
        }
        let refused = app
            .post_json("/api/auth/password-reset", &json!({ "email": email }))
            .await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(refused.headers().contains_key("retry-after"));
    }
    let bad = app
        .post_json(
            "/api/auth/password-reset",
            &json!({"email": "not an address"}),
        )
        .await;
    let error = error_of(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["email"], "email_invalid");
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let ana = app.create_account("ana").await;
    let other_device = app.login("ana", PASSWORD).await;
    let other_refresh = refresh_cookie(&other_device).unwrap();
    let change = |current: &'static str| {
        app.client
            .post(app.url("/api/me/password"))
            .bearer_auth(&ana.access_token)
            .json(&json!({"current_password": current, "new_password": NEW_PASSWORD}))
            .send()
    };
    let wrong = change("not my password at all").await.unwrap();
    let error = error_of(wrong, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["current_password"], "password_wrong");
    assert_eq!(app.login("ana", PASSWORD).await.status(), StatusCode::OK);

    let changed = change(PASSWORD).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let fresh = refresh_cookie(&changed).expect("a new session for this device");
    for old in [&ana.refresh_token, &other_refresh] {
        assert_eq!(app.refresh(old).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.refresh(&fresh).await.status(), StatusCode::OK);
    assert_eq!(
        app.login("ana", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    let notice = app.mail("ana@example.com", 2).await;
    assert_eq!(notice.subject(), "Your password was changed");
    assert!(notice.text.contains("/forgot-password"));
}

#[tokio::test]
async fn an_email_change_is_confirmed_on_the_new_address_and_told_to_the_old_one() {
    let app = spawn_app().await;
    let ana = app.create_account("ana").await;
    app.create_account("bea").await;
    let change = |email: &'static str, password: &'static str| {
        app.client
            .post(app.url("/api/me/email"))
            .bearer_auth(&ana.access_token)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let wrong = change("ana@example.org", "not my password at all")
        .await
        .unwrap();
    let error = error_of(wrong, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["password"], "password_wrong");
    let same = change("ana@example.com", PASSWORD).await.unwrap();
    let error = error_of(same, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["email"], "email_same");
    let taken = change("bea@example.com", PASSWORD).await.unwrap();
    let error = error_of(taken, StatusCode::CONFLICT).await;
    assert_eq!(error["field_codes"]["email"], "email_taken");

    let asked = change("ana@example.org", PASSWORD).await.unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let confirm = app.mail("ana@example.org", 1).await;
    assert_eq!(confirm.subject(), "Confirm your new e-mail address");
    assert!(
        confirm.text.contains("ana@example.com"),
        "names the current address"
    );
    let me: Value = app.me(&ana.access_token).await.json().await.unwrap();
    assert_eq!(
        me["email"], "ana@example.com",
        "nothing changes before the link"
    );

    let done = app
        .post_json(
            "/api/auth/verify-email",
            &json!({ "token": confirm.token_for("/verify-email") }),
        )
        .await;
    assert_eq!(
        done.json::<Value>().await.unwrap(),
        json!({"email": "ana@example.org", "changed": true})
    );
    let me: Value = app.me(&ana.access_token).await.json().await.unwrap();
    assert_eq!(me["email"], "ana@example.org");
    assert_eq!(me["email_verified"], true);
    let told = app.mail("ana@example.com", 2).await;
    assert_eq!(told.subject(), "Your e-mail address was changed");
    assert!(told.text.contains("ana@example.org"));
    assert_eq!(
        app.login("ana@example.org", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn receipts_sale_notices_and_failures_follow_the_payment_and_the_preferences() {
    let app = spawn_app().await;
    let seller = app.trader("sol", "alice").await;
    let buyer = app.trader("ben", "bruno").await;
    app.confirm_email("sol@example.com").await;
    app.confirm_email("ben@example.com").await;
    let code = app.room(&seller, "12.50").await;

    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    let receipt = app.mail("ben@example.com", 2).await;
    assert!(
        receipt.subject().starts_with("Your receipt for "),
        "{}",
        receipt.subject()
    );
    assert!(receipt.text.contains("12.50"), "{}", receipt.text);
    assert!(receipt.text.contains(&format!("/transactions/{id}")));
    assert_eq!(
        receipt.parts,
        ["text/plain", "text/html", "application/pdf"]
    );
    let (name, size) = &receipt.attachments[0];
    assert!(name.ends_with(".pdf") && *size > 1000, "{name} {size}");
    assert_eq!(
        receipt.header("List-Unsubscribe"),
        None,
        "receipts always go"
    );

    let sold = app.mail("sol@example.com", 2).await;
    assert!(
        sold.subject().starts_with("You sold "),
        "{}",
        sold.subject()
    );
    assert!(sold.text.contains("ben bought"), "{}", sold.text);
    let one_click = sold
        .header("List-Unsubscribe")
        .expect("one-click unsubscribe");
    assert_eq!(
        sold.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(sold.text.contains("/unsubscribe#token="));

    // A mail program's one-click unsubscribe (RFC 8058): a form post to the header's address.
    let url = one_click.trim_start_matches('<').trim_end_matches('>');
    let off = app
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(
        off.json::<Value>().await.unwrap(),
        json!({"notice": "sales"})
    );
    let me: Value = app
        .me(&seller.account.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mail"]["sales"], false);
    let forged = app.client.post(format!("{}x", url)).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);

    // The next sale: a receipt, no sale notice.
    let second = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &second, "completed")
        .await;
    app.mail("ben@example.com", 3).await;
    app.outbox_settled().await;
    assert_eq!(app.mails_to("sol@example.com").await.len(), 2);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed' AND last_error LIKE '%turned these notices off%'")
            .await,
        1
    );

    // A declined payment tells the buyer (who can turn that off too).
    let start = app.checkout(&buyer, &code).await;
    let finish = app
        .consent(start["redirect_url"].as_str().unwrap(), "decline")
        .await;
    app.finish(&finish).await;
    let declined = start["transaction"]["id"].as_str().unwrap();
    app.wait_for_status(&buyer.account.access_token, declined, "rejected")
        .await;
    let problem = app.mail("ben@example.com", 4).await;
    assert!(
        problem.subject().contains("did not go through"),
        "{}",
        problem.subject()
    );
    assert!(problem.text.contains("declined"), "{}", problem.text);
    assert!(problem.header("List-Unsubscribe").is_some());
}

#[tokio::test]
async fn notices_wait_for_a_confirmed_address_and_preferences_are_kept() {
    let app = spawn_app().await;
    let seller = app.trader("sol", "alice").await;
    let buyer = app.trader("ben", "bruno").await;
    let prefs = app
        .client
        .put(app.url("/api/me/preferences"))
        .bearer_auth(&buyer.account.access_token)
        .json(&json!({"language": "es", "mail": {"sales": false, "payment_problems": false, "messages": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(prefs.status(), StatusCode::OK);
    let me: Value = prefs.json().await.unwrap();
    assert_eq!(me["language"], "es");
    assert_eq!(
        me["mail"],
        json!({"sales": false, "payment_problems": false, "messages": false})
    );

    let code = app.room(&seller, "3.00").await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    app.outbox_settled().await;
    // Only the sign-up confirmations: neither address is confirmed.
    assert_eq!(app.mails_to("ben@example.com").await.len(), 1);
    assert_eq!(app.mails_to("sol@example.com").await.len(), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE last_error LIKE '%not confirmed%'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_guest_receipt_goes_to_the_address_they_left_in_their_language_and_opens_the_purchase() {
    let app = spawn_app().await;
    let seller = app.trader("sol", "alice").await;
    let code = app.room(&seller, "7.00").await;
    let started = app
        .client
        .post(app.url(&format!("/api/rooms/{code}/guest-payments")))
        .header("accept-language", "es")
        .json(&json!({
            "wallet_address": app.sandbox_wallet("bruno"),
            "email": "guest@example.com",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::CREATED);
    let started: Value = started.json().await.unwrap();
    let id = started["transaction"]["id"].as_str().unwrap().to_owned();
    let key = started["guest_key"].as_str().unwrap().to_owned();
    let finish = app
        .consent(started["redirect_url"].as_str().unwrap(), "approve")
        .await;
    app.finish(&finish).await;
    app.wait_for_guest_status(&id, &key, "completed").await;

    let receipt = app.mail("guest@example.com", 1).await;
    assert!(
        receipt.subject().starts_with("Tu recibo de "),
        "{}",
        receipt.subject()
    );
    assert!(receipt.text.starts_with("Hola:"), "{}", receipt.text);
    assert_eq!(receipt.attachments.len(), 1);
    let marker = format!("/transactions/{id}#key=");
    let at = receipt
        .text
        .find(&marker)
        .expect("a link that opens the purchase")
        + marker.len();
    let mail_key: String = receipt.text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_ne!(mail_key, key, "a key of its own");
    let opened = app.guest_transaction(&id, &mail_key).await;
    assert_eq!(opened.status(), StatusCode::OK);
    let wrong = app.guest_transaction(&id, "not-the-key").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_an_account_erases_the_person_closes_the_rooms_and_keeps_the_records() {
    let app = spawn_app().await;
    let seller = app.trader("sol", "alice").await;
    let buyer = app.trader("ben", "bruno").await;
    let code = app.room(&seller, "5.00").await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;

    let delete = |password: &'static str| {
        app.client
            .delete(app.url("/api/me"))
            .bearer_auth(&seller.account.access_token)
            .json(&json!({ "password": password }))
            .send()
    };
    let wrong = delete("not my password at all").await.unwrap();
    let error = error_of(wrong, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field_codes"]["password"], "password_wrong");

    let deleted = delete(PASSWORD).await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(
        deleted.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"),
        "the refresh cookie is cleared"
    );
    assert_eq!(
        app.login("sol", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("sol@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(&seller.account.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.public_room(&code).await["status"], "closed");

    // The buyer's record keeps the amounts, wallets and time, without the seller's name.
    let record = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(record["status"], "completed");
    assert_eq!(record["amount"]["value"], "500");
    let name = record["seller"]["username"].as_str().unwrap();
    assert!(name.starts_with("~deleted-"), "{name}");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM users WHERE username = 'sol' OR email LIKE 'sol@%' OR wallet_address IS NOT NULL AND deleted_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM refresh_tokens rt JOIN users u ON u.id = rt.user_id WHERE u.deleted_at IS NOT NULL")
            .await,
        0
    );
    // The name and address are free again.
    assert_eq!(
        app.signup("sol", "sol@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_local_mailbox_shows_each_mail_with_its_parts() {
    let app = spawn_app().await;
    app.create_account("ana").await;
    app.wait_for_mails("ana@example.com", 1).await;
    let list = app
        .client
        .get(app.url("/sandbox/mail?to=ana@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let page = list.text().await.unwrap();
    assert!(page.contains("Confirm your e-mail address"), "{page}");
    let start = page.find("href=\"mail/").expect("a link to the mail") + "href=\"mail/".len();
    let id: String = page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    let shown = app
        .client
        .get(app.url(&format!("/sandbox/mail/{id}")))
        .send()
        .await
        .unwrap();
    let page = shown.text().await.unwrap();
    assert!(
        page.contains("<a href=\"http://127.0.0.1"),
        "the link is a link: {page}"
    );
    assert!(page.contains("/verify-email#token="));
    let html = app
        .client
        .get(app.url(&format!("/sandbox/mail/{id}/html")))
        .send()
        .await
        .unwrap();
    assert!(
        html.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert!(html.text().await.unwrap().contains("Confirm my address"));
    let missing = app
        .client
        .get(app.url("/sandbox/mail/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unread_message_is_mailed_once_after_ten_minutes_and_a_read_one_never() {
    let app = spawn_app().await;
    let p = crate::live::pair(&app).await;
    app.confirm_email("sam@example.com").await;
    app.confirm_email("bea@example.com").await;
    let buyer = &p.buyer.account.access_token;
    let seller = &p.seller.account.access_token;
    crate::live::say(&app, buyer, &p.conversation, "Is it still available?").await;
    crate::live::say(&app, buyer, &p.conversation, "And <b>today</b>?").await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE 'mail:unread:%' AND status = 'pending'")
            .await,
        2,
        "both wait ten minutes"
    );

    app.clock.advance(Duration::from_secs(10 * 60 + 1));
    let mail = app.mail("sam@example.com", 2).await;
    assert_eq!(mail.subject(), "bea wrote to you about Guitar lesson");
    assert!(mail.text.contains("> And <b>today</b>?"), "{}", mail.text);
    assert!(
        !mail.text.contains("still available"),
        "only the latest: {}",
        mail.text
    );
    assert!(mail.html.contains("And &lt;b&gt;today&lt;/b&gt;?"));
    assert!(mail.text.contains(&format!("/messages/{}", p.conversation)));
    assert!(mail.header("List-Unsubscribe").is_some());
    app.outbox_settled().await;
    assert_eq!(
        app.mails_to("sam@example.com").await.len(),
        2,
        "one mail for the burst"
    );

    // An answer read in time is not mailed.
    let answer = crate::live::say(&app, seller, &p.conversation, "Yes, today.").await;
    let read = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/conversations/{}/read", p.conversation),
            buyer,
            &json!({ "up_to": answer["id"] }),
        )
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    app.clock.advance(Duration::from_secs(10 * 60 + 1));
    app.outbox_settled().await;
    assert_eq!(
        app.mails_to("bea@example.com").await.len(),
        1,
        "the confirmation only"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE last_error = 'the message was read'")
            .await,
        1
    );
}
