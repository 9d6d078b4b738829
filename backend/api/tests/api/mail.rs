//! Mail over SMTP to a real server (aiosmtpd), through the outbox: what arrives, retries while
//! the server is down, and exactly one delivery once it is back.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};
use crate::mailbox::SmtpServer;

async fn app_with(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(|s| {
        s.mail.smtp_url = Some(url.into());
        s.mail.mail_from = Some("Shifting <hello@shifting.example>".into());
    })
    .await
}

#[tokio::test]
async fn mail_reaches_a_real_smtp_server_with_its_headers_and_both_parts() {
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp).await;
    let seller = app.trader("sol", "alice").await;
    let buyer = app.trader("ben", "bruno").await;
    // No local mailbox when an SMTP server is set.
    let mailbox = app
        .client
        .get(app.url("/sandbox/mail"))
        .send()
        .await
        .unwrap();
    assert_eq!(mailbox.status(), StatusCode::NOT_FOUND);

    let received = smtp.wait_for(2).await;
    let to_sol = received
        .iter()
        .find(|m| m.header("To") == Some("sol <sol@example.com>"))
        .expect("sol's confirmation");
    assert_eq!(
        to_sol.header("From"),
        Some("Shifting <hello@shifting.example>")
    );
    assert_eq!(to_sol.subject(), "Confirm your e-mail address");
    let id = to_sol.header("Message-ID").expect("a Message-ID");
    assert!(
        id.starts_with('<') && id.ends_with("@shifting.example>"),
        "{id}"
    );
    assert!(to_sol.header("Date").is_some());
    assert_eq!(to_sol.header("Content-Language"), Some("en"));
    assert_eq!(to_sol.header("Auto-Submitted"), Some("auto-generated"));
    assert!(
        to_sol
            .header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    assert_eq!(to_sol.parts, ["text/plain", "text/html"]);
    assert!(to_sol.html.contains("Confirm my address"));

    // The links in the mail work: confirm both, then a sale's notice carries the one-click
    // unsubscribe headers, and the receipt its PDF.
    for (address, mail) in [
        ("sol@example.com", to_sol),
        (
            "ben@example.com",
            received
                .iter()
                .find(|m| m.header("To") == Some("ben <ben@example.com>"))
                .expect("ben's confirmation"),
        ),
    ] {
        let confirmed = app
            .post_json(
                "/api/auth/verify-email",
                &json!({ "token": mail.token_for("/verify-email") }),
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK, "{address}");
    }
    let code = app.room(&seller, "4.00").await;
    let id = app.buy(&buyer, &code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    let received = smtp.wait_for(4).await;
    let sold = received
        .iter()
        .find(|m| m.subject().starts_with("You sold"))
        .expect("the sale notice");
    let unsubscribe = sold.header("List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with(&format!("<{}/api/mail/unsubscribe?token=", app.address)),
        "{unsubscribe}"
    );
    assert_eq!(
        sold.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let receipt = received
        .iter()
        .find(|m| m.subject().starts_with("Your receipt"))
        .expect("the receipt");
    assert!(
        receipt
            .header("Content-Type")
            .unwrap()
            .starts_with("multipart/mixed")
    );
    assert_eq!(
        receipt.parts,
        ["text/plain", "text/html", "application/pdf"]
    );
}

#[tokio::test]
async fn the_outbox_retries_while_the_server_is_down_and_delivers_once_when_it_is_back() {
    let mut smtp = SmtpServer::down();
    let app = app_with(&smtp).await;
    app.create_account("ana").await;

    // The first attempt fails (nothing listens) and is scheduled again.
    let mut attempts = 0;
    for _ in 0..500 {
        attempts = app
            .count("SELECT COUNT(*) AS n FROM outbox_attempts WHERE outcome = 'retry'")
            .await;
        if attempts > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(attempts, 1, "one failed attempt, then a wait");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND attempts = 1 AND last_error IS NOT NULL")
            .await,
        1
    );
    smtp.up().await;
    app.clock.advance(Duration::from_secs(30));
    let received = smtp.wait_for(1).await;
    assert_eq!(received[0].subject(), "Confirm your e-mail address");
    app.outbox_settled().await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent' AND attempts = 2")
            .await,
        1
    );
    let log = app
        .count("SELECT COUNT(*) AS n FROM outbox_attempts WHERE outcome = 'sent' AND attempt = 2")
        .await;
    assert_eq!(log, 1);

    // Much later, after another mail went through: still one copy of the first.
    app.clock.advance(Duration::from_secs(48 * 3600));
    app.create_account("bea").await;
    smtp.wait_for(2).await;
    app.outbox_settled().await;
    let received = smtp.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received
            .iter()
            .filter(|m| m.header("To") == Some("ana <ana@example.com>"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_mail_is_given_up_after_the_last_retry() {
    let smtp = SmtpServer::down();
    let app = app_with(&smtp).await;
    app.create_account("ana").await;
    for _ in 0..500 {
        let status = app
            .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'")
            .await;
        if status == 1 {
            break;
        }
        // Every backoff is at most 12 hours: move past the next one.
        app.clock.advance(Duration::from_secs(12 * 3600 + 1));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed' AND attempts = 12")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox_attempts WHERE outcome = 'retry'")
            .await,
        11
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox_attempts WHERE outcome = 'failed'")
            .await,
        1
    );
}
