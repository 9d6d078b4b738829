//! The marketplace checkout with our client, end to end over HTTP, and its unhappy paths.

use std::time::Duration;

use shifting_open_payments::Clock;
use shifting_open_payments::client::OpenPaymentsError;
use shifting_open_payments::finish::{GrantUrlForm, verify_finish_hash};
use shifting_open_payments::interval::RepeatingInterval;
use shifting_open_payments::types::{
    AccessToken, Amount, CreateOutgoingPayment, Limits, OutgoingPayment,
};
use shifting_sandbox::Switches;

use crate::helpers::{FINISH_URI, TestSandbox, query, spawn};

fn status(err: &OpenPaymentsError) -> (Option<u16>, String) {
    (err.status(), err.to_string())
}

#[tokio::test]
async fn a_buyer_pays_a_seller_in_another_currency_and_the_money_moves() {
    let sandbox = spawn(|_| {}).await;
    let (alice_before, bruno_before) = (
        sandbox.balance("alice").await,
        sandbox.balance("bruno").await,
    );

    // 25.00 EUR to Bruno, paid by Alice in USD at 1 EUR = 1.08 USD, no fee.
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    assert_eq!(checkout.quote.receive_amount.value, 2500);
    assert_eq!(checkout.quote.receive_amount.asset_code, "EUR");
    assert_eq!(checkout.quote.debit_amount.value, 2700);
    assert_eq!(checkout.quote.debit_amount.asset_code, "USD");
    assert!(checkout.quote.expires_at.is_some());

    let (html, finish) = sandbox
        .consent(&checkout.interact.redirect, "approve")
        .await;
    assert!(
        html.contains("27.00\u{a0}USD"),
        "the page shows the debit limit"
    );
    assert!(finish.as_str().starts_with(FINISH_URI));
    assert_eq!(query(&finish, "order").as_deref(), Some("42"));
    let interact_ref = query(&finish, "interact_ref").unwrap();
    let hash = query(&finish, "hash").unwrap();
    assert_eq!(
        verify_finish_hash(
            &hash,
            &checkout.nonce,
            &checkout.interact.finish,
            &interact_ref,
            &checkout.buyer.auth_server,
        ),
        Some(GrantUrlForm::AsUsed),
        "the hash binds both nonces, the reference and the grant URL"
    );

    let grant = sandbox
        .client
        .continue_grant(&checkout.continuation, &interact_ref, checkout.created)
        .await
        .unwrap();
    let token = grant.access_token.unwrap();
    assert_eq!(token.expires_in, Some(600));

    let payment = sandbox
        .client
        .create_outgoing_payment(
            &checkout.buyer,
            &token.value,
            &CreateOutgoingPayment {
                wallet_address: checkout.buyer.id.clone(),
                quote_id: checkout.quote.id.clone(),
                metadata: Some(serde_json::json!({"transaction": "t-1"})),
            },
        )
        .await
        .unwrap();
    assert!(!payment.failed);
    assert_eq!(payment.receiver, checkout.incoming.id);

    let received = sandbox
        .wait_for_incoming(&checkout.incoming.id, &checkout.seller_token, |p| {
            p.completed
        })
        .await;
    assert_eq!(received.received_amount.value, 2500);
    assert!(received.is_fully_paid());
    assert_eq!(sandbox.balance("alice").await, alice_before - 2700);
    assert_eq!(sandbox.balance("bruno").await, bruno_before + 2500);

    let sent = sandbox
        .client
        .get_outgoing_payment(&payment.id, &token.value)
        .await
        .unwrap();
    assert!(!sent.failed);
    assert_eq!(sent.sent_amount.value, 2700);
    let listed = sandbox
        .client
        .list_outgoing_payments(&checkout.buyer, &token.value, 10, None)
        .await
        .unwrap();
    assert_eq!(listed.result.len(), 1);
    assert_eq!(listed.result[0].id, payment.id);

    // A completed incoming payment cannot be completed again.
    let again = sandbox
        .client
        .complete_incoming_payment(&checkout.incoming.id, &checkout.seller_token.value)
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409));
}

#[tokio::test]
async fn a_quote_pays_at_most_once() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("alice", "carmen", 1000).await;
    let token = sandbox.approve(&checkout).await;
    let body = CreateOutgoingPayment {
        wallet_address: checkout.buyer.id.clone(),
        quote_id: checkout.quote.id.clone(),
        metadata: None,
    };
    sandbox
        .client
        .create_outgoing_payment(&checkout.buyer, &token.value, &body)
        .await
        .unwrap();
    let twice = sandbox
        .client
        .create_outgoing_payment(&checkout.buyer, &token.value, &body)
        .await
        .unwrap_err();
    assert_eq!(twice.status(), Some(400), "{twice}");
    assert!(twice.to_string().contains("invalid quote"));
}

#[tokio::test]
async fn declining_redirects_with_grant_rejected_and_moves_nothing() {
    let sandbox = spawn(|_| {}).await;
    let before = sandbox.balance("alice").await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;

    let (_, finish) = sandbox
        .consent(&checkout.interact.redirect, "decline")
        .await;
    assert_eq!(query(&finish, "result").as_deref(), Some("grant_rejected"));
    assert_eq!(query(&finish, "hash"), None);
    assert_eq!(query(&finish, "interact_ref"), None);

    let err = sandbox
        .client
        .continue_grant(&checkout.continuation, "made-up-ref", checkout.created)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert_eq!(err.code(), Some("invalid_continuation"));
    sandbox
        .client
        .cancel_grant(&checkout.continuation)
        .await
        .unwrap();
    assert_eq!(sandbox.balance("alice").await, before);
}

#[tokio::test]
async fn insufficient_funds_fail_the_outgoing_payment() {
    let sandbox = spawn(|_| {}).await;
    let penny_before = sandbox.balance("penny").await;
    let checkout = sandbox.checkout("alice", "penny", 2500).await;
    let token = sandbox.approve(&checkout).await;
    let payment = sandbox
        .pay(&checkout.buyer, &token, &checkout.quote.id)
        .await
        .unwrap();
    // Created like on Rafiki, then failed (the sandbox settles it at the latest on read).
    let read = sandbox
        .client
        .get_outgoing_payment(&payment.id, &token.value)
        .await
        .unwrap();
    assert!(read.failed);
    assert_eq!(read.sent_amount.value, 0);
    assert_eq!(sandbox.balance("penny").await, penny_before);
    let incoming = sandbox
        .client
        .get_incoming_payment(&checkout.incoming.id, &checkout.seller_token.value)
        .await
        .unwrap();
    assert_eq!(incoming.received_amount.value, 0);
    assert!(!incoming.completed);
}

#[tokio::test]
async fn the_failure_switch_fails_every_payment() {
    let sandbox = spawn(|config| {
        config.switches = Switches {
            fail_outgoing_payments: true,
            ..Switches::default()
        };
    })
    .await;
    let checkout = sandbox.checkout("bruno", "alice", 100).await;
    let token = sandbox.approve(&checkout).await;
    let payment = sandbox
        .pay(&checkout.buyer, &token, &checkout.quote.id)
        .await
        .unwrap();
    let read = sandbox
        .client
        .get_outgoing_payment(&payment.id, &token.value)
        .await
        .unwrap();
    assert!(read.failed);
}

#[tokio::test]
async fn an_expired_quote_is_refused() {
    let sandbox = spawn(|config| config.timings.quote_lifetime = Duration::ZERO).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let token = sandbox.approve(&checkout).await;
    let err = sandbox
        .pay(&checkout.buyer, &token, &checkout.quote.id)
        .await
        .unwrap_err();
    let (code, message) = status(&err);
    assert_eq!(code, Some(400), "{message}");
    assert!(message.contains("invalid quote"), "{message}");
}

#[tokio::test]
async fn the_grant_limits_bind_receiver_and_amount() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let token = sandbox.approve(&checkout).await;

    // Another incoming payment, quoted for the same buyer: not the grant's receiver.
    let other = sandbox
        .incoming_payment(&checkout.seller, &checkout.seller_token, 100)
        .await;
    let quote_token = sandbox.quote_token(&checkout.buyer).await;
    let other_quote = sandbox
        .client
        .create_quote(&checkout.buyer, &quote_token.value, &other.id)
        .await
        .unwrap();
    let err = sandbox
        .pay(&checkout.buyer, &token, &other_quote.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");

    // A grant one cent below the quote's debit cannot pay it.
    let mut short = checkout.quote.debit_amount.clone();
    short.value -= 1;
    let (interact, continuation) = sandbox
        .outgoing_grant(
            &checkout.buyer,
            Limits {
                receiver: Some(checkout.incoming.id.clone()),
                debit_amount: Some(short),
                ..Limits::default()
            },
            "short-nonce",
        )
        .await;
    let short_token = sandbox
        .approve_grant(&interact, &continuation, std::time::SystemTime::now())
        .await;
    let err = sandbox
        .pay(&checkout.buyer, &short_token, &checkout.quote.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("unauthorized"), "{err}");
}

#[tokio::test]
async fn a_replayed_interact_ref_cannot_continue_twice() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let browser = crate::helpers::browser();
    let html = crate::helpers::open(&browser, &checkout.interact.redirect).await;
    let finish = crate::helpers::press(&browser, &html, "approve").await;
    let interact_ref = query(&finish, "interact_ref").unwrap();

    // The same browser coming back to the finish URL gets the same redirect (as on Rafiki).
    let replay = browser
        .get(crate::helpers::form_action(&html))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 302);
    assert_eq!(crate::helpers::location(&replay), finish);

    sandbox
        .client
        .continue_grant(&checkout.continuation, &interact_ref, checkout.created)
        .await
        .unwrap();
    let err = sandbox
        .client
        .continue_grant(&checkout.continuation, &interact_ref, checkout.created)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(err.code(), Some("request_denied"));
}

#[tokio::test]
async fn continuing_inside_the_wait_is_too_fast() {
    let sandbox = spawn(|config| config.timings.wait = Duration::from_secs(3600)).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    assert_eq!(checkout.continuation.wait, Some(3600));
    let (_, finish) = sandbox
        .consent(&checkout.interact.redirect, "approve")
        .await;
    let body =
        serde_json::json!({ "interact_ref": query(&finish, "interact_ref").unwrap() }).to_string();
    for _ in 0..2 {
        let (status, error) = sandbox
            .send_signed(
                "POST",
                &checkout.continuation.uri,
                Some(&checkout.continuation.access_token.value),
                Some(&body),
            )
            .await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["error"]["code"], "too_fast");
    }
}

#[tokio::test]
async fn polling_a_grant_with_a_finish_uri_is_refused() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let (status, error) = sandbox
        .send_signed(
            "POST",
            &checkout.continuation.uri,
            Some(&checkout.continuation.access_token.value),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(error["error"]["code"], "request_denied");
    assert_eq!(error["error"]["description"], "grant cannot be polled");
}

#[tokio::test]
async fn a_quote_for_a_completed_incoming_payment_is_refused() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let buyer = sandbox.wallet("kenji").await;
    let token = sandbox.incoming_token(&seller).await;
    let incoming = sandbox.incoming_payment(&seller, &token, 999).await;
    sandbox
        .client
        .complete_incoming_payment(&incoming.id, &token.value)
        .await
        .unwrap();
    let quote_token = sandbox.quote_token(&buyer).await;
    let err = sandbox
        .client
        .create_quote(&buyer, &quote_token.value, &incoming.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("invalid receiver"), "{err}");
}

#[tokio::test]
async fn balances_and_payments_survive_a_restart() {
    let sandbox = spawn(|_| {}).await;
    let checkout = sandbox.checkout("bruno", "alice", 2500).await;
    let token = sandbox.approve(&checkout).await;
    sandbox
        .pay(&checkout.buyer, &token, &checkout.quote.id)
        .await
        .unwrap();
    sandbox
        .wait_for_incoming(&checkout.incoming.id, &checkout.seller_token, |p| {
            p.completed
        })
        .await;
    let alice = sandbox.balance("alice").await;
    let key = sandbox.key_pem.clone();
    let TestSandbox { dir, server, .. } = sandbox;
    drop(server);

    let restarted = crate::helpers::spawn_in(dir, key, |_| {}).await;
    assert_eq!(restarted.balance("alice").await, alice);
    // The public view of the incoming payment, at the restarted server's address.
    let id = checkout.incoming.id.rsplit('/').next().unwrap();
    let public: serde_json::Value = restarted
        .http
        .get(format!("{}/rs/incoming-payments/{id}", restarted.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["receivedAmount"]["value"], "2500");
    assert_eq!(public["authServer"], format!("{}/auth", restarted.base));
}

#[tokio::test]
async fn an_incoming_payment_is_never_overpaid() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let buyer = sandbox.wallet("alice").await;
    let seller_token = sandbox.incoming_token(&seller).await;
    let incoming = sandbox.incoming_payment(&seller, &seller_token, 100).await;
    let quote_token = sandbox.quote_token(&buyer).await;
    let body = serde_json::json!({
        "walletAddress": buyer.id,
        "receiver": incoming.id,
        "method": "ilp",
        "receiveAmount": {"value": "60", "assetCode": "EUR", "assetScale": 2},
    })
    .to_string();
    let quotes_url = format!("{}/rs/quotes", sandbox.base);
    let mut quotes = Vec::new();
    for _ in 0..2 {
        let (status, quote) = sandbox
            .send_signed("POST", &quotes_url, Some(&quote_token.value), Some(&body))
            .await;
        assert_eq!(status, 201, "{quote}");
        // 0.60 EUR = 0.648 USD, debited rounded up.
        assert_eq!(quote["debitAmount"]["value"], "65");
        quotes.push(quote["id"].as_str().unwrap().to_owned());
    }
    let before = sandbox.balance("alice").await;
    let (interact, continuation) = sandbox
        .outgoing_grant(
            &buyer,
            Limits {
                receiver: Some(incoming.id.clone()),
                debit_amount: Some(Amount {
                    value: 130,
                    asset_code: "USD".into(),
                    asset_scale: 2,
                }),
                ..Limits::default()
            },
            "overpay",
        )
        .await;
    let token = sandbox
        .approve_grant(&interact, &continuation, std::time::SystemTime::now())
        .await;
    let mut payments = Vec::new();
    for quote in &quotes {
        let payment = sandbox.pay(&buyer, &token, quote).await.unwrap();
        payments.push(payment);
    }
    assert_eq!(
        payments[1].grant_spent_debit_amount.as_ref().unwrap().value,
        65,
        "the grant had spent the first payment before the second"
    );
    let mut outcomes = Vec::new();
    for payment in &payments {
        let read = sandbox
            .client
            .get_outgoing_payment(&payment.id, &token.value)
            .await
            .unwrap();
        outcomes.push(read.failed);
    }
    assert_eq!(outcomes, [false, true], "exactly one of the two pays");
    let received = sandbox
        .client
        .get_incoming_payment(&incoming.id, &seller_token.value)
        .await
        .unwrap();
    assert_eq!(received.received_amount.value, 60);
    assert!(!received.completed);
    assert_eq!(sandbox.balance("alice").await, before - 65);
}

/// Pays `value` (USD cents) from alice to penny with the outgoing-payment `token`: a new
/// incoming payment, a quote, the payment.
async fn pay_from_budget(
    sandbox: &TestSandbox,
    token: &AccessToken,
    value: u64,
) -> Result<OutgoingPayment, OpenPaymentsError> {
    let seller = sandbox.wallet("penny").await;
    let buyer = sandbox.wallet("alice").await;
    let seller_token = sandbox.incoming_token(&seller).await;
    let incoming = sandbox
        .incoming_payment(&seller, &seller_token, value)
        .await;
    let quote_token = sandbox.quote_token(&buyer).await;
    let quote = sandbox
        .client
        .create_quote(&buyer, &quote_token.value, &incoming.id)
        .await
        .unwrap();
    assert_eq!(
        quote.debit_amount.value, value,
        "no fee between two USD wallets"
    );
    sandbox.pay(&buyer, token, &quote.id).await
}

#[tokio::test]
async fn a_budget_without_receiver_is_spent_per_interval_as_rafiki_counts() {
    let clock = Clock::system();
    let sandbox = spawn(|config| config.clock = clock.clone()).await;
    let buyer = sandbox.wallet("alice").await;
    // 10.00 USD a month, for the month it starts and one more (R1: the first and one
    // repetition).
    let interval = RepeatingInterval::forward(clock.now(), "P1M", 1).unwrap();
    let (interact, continuation) = sandbox
        .outgoing_grant(
            &buyer,
            Limits {
                debit_amount: Some(Amount {
                    value: 1000,
                    asset_code: "USD".into(),
                    asset_scale: 2,
                }),
                interval: Some(interval.to_string()),
                ..Limits::default()
            },
            "budget-nonce",
        )
        .await;
    let token = sandbox
        .approve_grant(&interact, &continuation, std::time::SystemTime::now())
        .await;
    let spent = sandbox
        .client
        .grant_spent_amounts(&buyer, &token.value)
        .await
        .unwrap();
    assert_eq!(spent.spent_debit_amount, None, "nothing spent yet");

    pay_from_budget(&sandbox, &token, 600).await.unwrap();
    let over = pay_from_budget(&sandbox, &token, 500).await.unwrap_err();
    assert_eq!(over.status(), Some(403), "{over}");
    assert!(over.to_string().contains("unauthorized"), "{over}");
    pay_from_budget(&sandbox, &token, 400).await.unwrap();
    let spent = sandbox
        .client
        .grant_spent_amounts(&buyer, &token.value)
        .await
        .unwrap();
    assert_eq!(spent.spent_debit_amount.unwrap().value, 1000);
    assert_eq!(spent.spent_receive_amount.unwrap().value, 1000);

    // The next month starts from zero. The token expired meanwhile: it is rotated (an expired,
    // unrevoked token can be), and the new one spends the same budget.
    clock.advance(Duration::from_secs(32 * 86_400));
    let inactive = pay_from_budget(&sandbox, &token, 100).await.unwrap_err();
    assert!(
        inactive.to_string().contains("Inactive Token"),
        "{inactive}"
    );
    let token = sandbox.client.rotate_token(&token).await.unwrap();
    let spent = sandbox
        .client
        .grant_spent_amounts(&buyer, &token.value)
        .await
        .unwrap();
    assert_eq!(spent.spent_debit_amount.unwrap().value, 0, "a new interval");
    pay_from_budget(&sandbox, &token, 1000).await.unwrap();
    let over = pay_from_budget(&sandbox, &token, 1).await.unwrap_err();
    assert_eq!(over.status(), Some(403), "{over}");

    // After the last repetition nothing is allowed, and nothing is counted.
    clock.advance(Duration::from_secs(32 * 86_400));
    let token = sandbox.client.rotate_token(&token).await.unwrap();
    let ended = pay_from_budget(&sandbox, &token, 100).await.unwrap_err();
    assert_eq!(ended.status(), Some(403), "{ended}");
    assert!(ended.to_string().contains("unauthorized"), "{ended}");
    let spent = sandbox
        .client
        .grant_spent_amounts(&buyer, &token.value)
        .await
        .unwrap();
    assert_eq!(spent.spent_debit_amount, None);
    assert_eq!(spent.spent_receive_amount, None);
}
