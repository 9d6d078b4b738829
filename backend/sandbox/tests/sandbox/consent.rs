//! The consent page as a browser sees it: what it shows, the cookie that binds it to the
//! browser, expiry, and a client name that tries to inject markup.

use std::time::Duration;

use shifting_open_payments::types::{AccessAction, AccessItem, InteractRequest, Limits};

use crate::helpers::{FINISH_URI, browser, client_for, press, query, spawn, submit, third_party};

#[tokio::test]
async fn the_page_says_who_asks_how_much_and_to_whom() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let redirect = url::Url::parse(&checkout.interact.redirect).unwrap();
    assert_eq!(query(&redirect, "clientName").as_deref(), Some("Shifting"));

    let browser = browser();
    let page = browser
        .get(&checkout.interact.redirect)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/sandbox/auth/interact/"), "{cookie}");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' http://shop.example"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    for expected in [
        "<html lang=\"en\">",
        "Shifting asks to pay from your wallet",
        "27.00\u{a0}USD",
        "Bruno Berger",
        "Room ABC234",
        "Alice Anderson",
        "100000.00\u{a0}USD",
        ">Approve</button>",
        ">Decline</button>",
    ] {
        assert!(html.contains(expected), "{expected:?} missing from {html}");
    }
    let finish = press(&browser, &html, "approve").await;
    assert!(finish.as_str().starts_with(FINISH_URI));
}

#[tokio::test]
async fn the_page_speaks_the_browsers_language() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let browser = browser();
    let page = browser
        .get(&checkout.interact.redirect)
        .header("accept-language", "es-MX,es;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["vary"], "accept-language");
    let html = page.text().await.unwrap();
    for expected in [
        "<html lang=\"es\">",
        "<title>Shifting pide tu aprobación \u{2013} Billetera de prueba</title>",
        "Shifting pide pagar desde tu billetera",
        "hasta 27,00\u{a0}USD",
        "Tu saldo",
        "100000,00\u{a0}USD",
        ">Aprobar</button>",
        ">Rechazar</button>",
    ] {
        assert!(html.contains(expected), "{expected:?} missing from {html}");
    }
    assert!(!html.contains("Approve"), "{html}");
    // Its error pages too; the protocol's own words in the redirect stay as Rafiki sends them.
    let refused = reqwest::Client::new()
        .post(crate::helpers::form_action(&html))
        .header("accept-language", "es")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("decision=approve")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let text = refused.text().await.unwrap();
    assert!(text.contains("sesión no válida"), "{text}");
    // And the same button reads in English for an English browser.
    let english = browser
        .get(&checkout.interact.redirect)
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains(">Approve</button>"), "{english}");
    let finish = press(&browser, &html, "decline").await;
    assert_eq!(query(&finish, "result").as_deref(), Some("grant_rejected"));
}

#[tokio::test]
async fn an_answer_from_another_browser_is_refused() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let html = crate::helpers::open(&browser(), &checkout.interact.redirect).await;
    // A different cookie jar: the session cookie is missing.
    let response = submit(&browser(), &html, "approve").await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("invalid session"));
    // A second browser opening the link does not lock out the first.
    let original = browser();
    let html = crate::helpers::open(&original, &checkout.interact.redirect).await;
    let preview = browser();
    preview
        .get(&checkout.interact.redirect)
        .send()
        .await
        .unwrap();
    let finish = press(&original, &html, "approve").await;
    assert!(query(&finish, "hash").is_some());
}

#[tokio::test]
async fn an_interaction_is_answered_once() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let browser = browser();
    let html = crate::helpers::open(&browser, &checkout.interact.redirect).await;
    let first = press(&browser, &html, "approve").await;
    // A double click (or a second answer) lands where the first answer did.
    let again = press(&browser, &html, "decline").await;
    assert_eq!(again, first);
    assert!(query(&again, "interact_ref").is_some());
    // Reopening a finished interaction sends the browser back with a result.
    let reopened = browser
        .get(&checkout.interact.redirect)
        .send()
        .await
        .unwrap();
    assert_eq!(reopened.status(), 302);
    let location = crate::helpers::location(&reopened);
    assert_eq!(
        query(&location, "result").as_deref(),
        Some("invalid_interaction")
    );
}

#[tokio::test]
async fn an_expired_interaction_sends_the_browser_back() {
    let sandbox = spawn(|config| config.timings.interaction_lifetime = Duration::ZERO).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let response = browser()
        .get(&checkout.interact.redirect)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = crate::helpers::location(&response);
    assert!(location.as_str().starts_with(FINISH_URI));
    assert_eq!(
        query(&location, "result").as_deref(),
        Some("invalid_interaction")
    );
    assert_eq!(
        query(&location, "message").as_deref(),
        Some("interaction expired")
    );
}

#[tokio::test]
async fn an_unknown_interaction_is_a_page_not_a_crash() {
    let sandbox = spawn(|_| {}).await;
    let response = browser()
        .get(format!(
            "{}/auth/interact/00000000-0000-4000-8000-000000000000/ABCDEF",
            sandbox.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Unknown payment request")
    );
}

#[tokio::test]
async fn client_names_are_escaped() {
    let sandbox = spawn(|_| {}).await;
    let shop = third_party(&sandbox, "<script>alert(1)</script> & Co").await;
    let shop_client = client_for(
        &sandbox.base,
        &shop.wallet_address,
        crate::helpers::key("third-party-key", &shop.key_pem),
    );
    let alice = sandbox.wallet("alice").await;
    let grant = shop_client
        .request_grant(
            &alice.auth_server,
            vec![AccessItem::OutgoingPayment {
                actions: vec![AccessAction::Create],
                identifier: alice.id.clone(),
                limits: Some(Limits::default()),
            }],
            Some(InteractRequest::redirect(FINISH_URI, "n")),
        )
        .await
        .unwrap();
    let html = crate::helpers::open(&browser(), &grant.interact.unwrap().redirect).await;
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"),
        "{html}"
    );
    assert!(html.contains("no limit"), "{html}");
}
