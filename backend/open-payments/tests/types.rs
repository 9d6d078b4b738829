//! Decoding responses in the shapes of every spec era (OPEN-PAYMENTS.md §8), with extra fields,
//! and encoding request bodies in exactly the current shapes.

#![allow(clippy::unwrap_used, reason = "test fixtures should fail loudly")]

use chrono::{TimeZone, Utc};
use serde_json::json;
use shifting_open_payments::types::*;

fn usd(value: u64) -> Amount {
    Amount {
        value,
        asset_code: "USD".into(),
        asset_scale: 2,
    }
}

#[test]
fn wallet_addresses_decode_with_extra_fields_and_without_public_name() {
    let current: WalletAddress = serde_json::from_value(json!({
        "id": "https://ilp.interledger-test.dev/alice", "publicName": "Alice", "assetCode": "USD", "assetScale": 2,
        "authServer": "https://auth.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c",
        "resourceServer": "https://ilp.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c",
        "cardService": "https://cards.example", "additionalProperties": {"x": 1}
    }))
    .unwrap();
    assert_eq!(current.public_name.as_deref(), Some("Alice"));
    assert_eq!(
        current.resource_url("incoming-payments"),
        "https://ilp.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c/incoming-payments"
    );
    let v1: WalletAddress = serde_json::from_value(json!({
        "id": "https://wallet.example/bob/", "assetCode": "EUR", "assetScale": 2,
        "authServer": "https://auth.example", "resourceServer": "https://wallet.example/"
    }))
    .unwrap();
    assert_eq!(v1.public_name, None);
    assert_eq!(v1.resource_url("quotes"), "https://wallet.example/quotes");
}

#[test]
fn grant_responses_of_every_shape_are_classified() {
    let granted: GrantResponse = serde_json::from_value(json!({
        "access_token": {"value": "OS9M2PMHKUR64TB8N6BW7OZB8CDFONP219RP1LT0", "manage": "https://auth.example/token/dd17", "expires_in": 600,
                         "access": [{"type": "incoming-payment", "actions": ["create", "read", "complete"], "identifier": "https://ilp.example/seller"}]},
        "continue": {"access_token": {"value": "33OMUKMKSKU80UPRY5NM"}, "uri": "https://auth.example/continue/4CF4"}
    }))
    .unwrap();
    match granted.outcome() {
        GrantOutcome::Granted(token) => {
            assert_eq!(token.expires_in, Some(600));
            assert!(
                !format!("{token:?}").contains("OS9M2PMH"),
                "Debug must hide the token"
            );
        }
        other => panic!("expected granted, got {other:?}"),
    }

    let pending: GrantResponse = serde_json::from_value(json!({
        "interact": {"redirect": "https://auth.example/interact/8ca0/F81A05DDDBBFC398?clientName=Marketplace", "finish": "F81A05DDDBBFC398"},
        "continue": {"access_token": {"value": "33OMUKMKSKU80UPRY5NM"}, "uri": "https://auth.example/continue/4CF4", "wait": 5}
    }))
    .unwrap();
    match pending.outcome() {
        GrantOutcome::Pending(interact, continuation) => {
            assert_eq!(interact.finish, "F81A05DDDBBFC398");
            assert_eq!(continuation.wait, Some(5));
        }
        other => panic!("expected pending, got {other:?}"),
    }

    // Continuation while still pending (spec ≥ 2023-12: access_token optional), a subject
    // grant (1.1.0) and a card flow without `continue` (1.3.2) must not fail to decode.
    let polling: GrantResponse = serde_json::from_value(json!({
        "continue": {"access_token": {"value": "X"}, "uri": "https://auth.example/continue/1", "wait": 1}
    }))
    .unwrap();
    assert_eq!(polling.outcome(), GrantOutcome::Unsupported);
    // A finalized subject grant (spec 1.1.0, as Rafiki 2.4 answered it): no access token.
    let subject: GrantResponse = serde_json::from_value(json!({
        "subject": {"sub_ids": [{"id": "https://ilp.example/alice", "format": "uri"}]},
        "continue": {"access_token": {"value": "X"}, "uri": "https://auth.example/continue/1"}
    }))
    .unwrap();
    match subject.outcome() {
        GrantOutcome::Subject(proven) => {
            assert!(proven.is_wallet("https://ilp.example/alice"));
            assert!(!proven.is_wallet("https://ilp.example/bob"));
        }
        other => panic!("expected a subject, got {other:?}"),
    }
    let subject_request = GrantRequest {
        access_token: None,
        client: "https://ilp.example/marketplace".into(),
        subject: Some(Subject::wallet("https://ilp.example/alice")),
        interact: Some(InteractRequest::redirect(
            "https://market.example/finish",
            "n1",
        )),
    };
    assert_eq!(
        serde_json::to_string(&subject_request).unwrap(),
        r#"{"client":"https://ilp.example/marketplace","subject":{"sub_ids":[{"id":"https://ilp.example/alice","format":"uri"}]},"interact":{"start":["redirect"],"finish":{"method":"redirect","uri":"https://market.example/finish","nonce":"n1"}}}"#
    );
    let card: GrantResponse = serde_json::from_value(json!({
        "access_token": {"value": "T", "manage": "https://auth.example/token/1", "access": [{"type": "outgoing-payment", "actions": ["create"], "identifier": "x", "cardAuthorization": {"requestId": "r"}}]}
    }))
    .unwrap();
    assert!(matches!(card.outcome(), GrantOutcome::Granted(_)));
}

#[test]
fn incoming_payments_decode_across_eras() {
    let current: IncomingPayment = serde_json::from_value(json!({
        "id": "https://ilp.example/t/incoming-payments/0a1b", "walletAddress": "https://ilp.example/seller",
        "incomingAmount": {"value": "2500", "assetCode": "USD", "assetScale": 2},
        "receivedAmount": {"value": "0", "assetCode": "USD", "assetScale": 2},
        "completed": false, "expiresAt": "2026-09-01T12:30:00.000Z", "createdAt": "2026-09-01T12:00:00.000Z",
        "metadata": {"orderId": "8f2c"}, "methods": [{"type": "ilp", "ilpAddress": "g.x", "sharedSecret": "abc"}]
    }))
    .unwrap();
    assert_eq!(current.incoming_amount, Some(usd(2500)));
    assert_eq!(
        current.expires_at,
        Some(Utc.with_ymd_and_hms(2026, 9, 1, 12, 30, 0).unwrap())
    );
    assert!(!current.is_fully_paid());

    // 2023 shape: paymentPointer, updatedAt, description/externalRef, no completed flag.
    let old: IncomingPayment = serde_json::from_value(json!({
        "id": "https://wallet.example/incoming-payments/1", "paymentPointer": "https://wallet.example/bob",
        "incomingAmount": {"value": "100", "assetCode": "USD", "assetScale": 2},
        "receivedAmount": {"value": "100", "assetCode": "USD", "assetScale": 2},
        "description": "old", "externalRef": "#1", "updatedAt": "2023-01-01T00:00:00Z", "createdAt": "2023-01-01T00:00:00Z"
    }))
    .unwrap();
    assert_eq!(old.wallet_address, "https://wallet.example/bob");
    assert!(!old.completed);
    assert!(old.is_fully_paid(), "received ≥ expected counts as paid");

    let list_item: IncomingPayment = serde_json::from_value(json!({
        "id": "i", "walletAddress": "w", "receivedAmount": {"value": 5, "assetCode": "USD", "assetScale": 2}, "completed": true
    }))
    .unwrap();
    assert!(list_item.is_fully_paid());
    assert_eq!(
        list_item.received_amount.value, 5,
        "a numeric value is tolerated"
    );
}

#[test]
fn a_different_asset_never_counts_as_paid() {
    let payment: IncomingPayment = serde_json::from_value(json!({
        "id": "i", "walletAddress": "w",
        "incomingAmount": {"value": "100", "assetCode": "USD", "assetScale": 2},
        "receivedAmount": {"value": "100", "assetCode": "EUR", "assetScale": 2}
    }))
    .unwrap();
    assert!(!payment.is_fully_paid());
}

#[test]
fn quotes_and_outgoing_payments_decode_with_optional_fields() {
    let quote: Quote = serde_json::from_value(json!({
        "id": "https://ilp.example/t/quotes/q1", "walletAddress": "https://ilp.example/buyer", "receiver": "https://ilp.example/t/incoming-payments/0a1b",
        "debitAmount": {"value": "2563", "assetCode": "USD", "assetScale": 2}, "receiveAmount": {"value": "2500", "assetCode": "USD", "assetScale": 2},
        "method": "ilp", "createdAt": "2026-09-01T12:00:00Z", "expiresAt": "2026-09-01T12:05:00Z"
    }))
    .unwrap();
    assert_eq!(quote.debit_amount, usd(2563));

    let created: OutgoingPayment = serde_json::from_value(json!({
        "id": "https://ilp.example/t/outgoing-payments/q1", "walletAddress": "https://ilp.example/buyer", "quoteId": "https://ilp.example/t/quotes/q1",
        "failed": false, "receiver": "https://ilp.example/t/incoming-payments/0a1b",
        "debitAmount": {"value": "2563", "assetCode": "USD", "assetScale": 2}, "receiveAmount": {"value": "2500", "assetCode": "USD", "assetScale": 2},
        "sentAmount": {"value": "0", "assetCode": "USD", "assetScale": 2},
        "grantSpentDebitAmount": {"value": "2563", "assetCode": "USD", "assetScale": 2},
        "grantSpentReceiveAmount": {"value": "2500", "assetCode": "USD", "assetScale": 2},
        "metadata": {"orderId": "8f2c"}, "createdAt": "2026-09-01T12:01:00Z", "updatedAt": "2026-09-01T12:01:00Z"
    }))
    .unwrap();
    assert!(!created.failed);
    assert_eq!(created.grant_spent_debit_amount, Some(usd(2563)));

    let minimal: OutgoingPayment = serde_json::from_value(json!({
        "id": "o", "walletAddress": "w", "receiver": "r",
        "debitAmount": {"value": "1", "assetCode": "USD", "assetScale": 2}, "receiveAmount": {"value": "1", "assetCode": "USD", "assetScale": 2},
        "sentAmount": {"value": "0", "assetCode": "USD", "assetScale": 2}
    }))
    .unwrap();
    assert_eq!((minimal.failed, minimal.quote_id), (false, None));
}

#[test]
fn list_pages_and_error_bodies_decode() {
    let page: Page<IncomingPayment> = serde_json::from_value(json!({
        "pagination": {"startCursor": "a", "endCursor": "b", "hasNextPage": true, "hasPreviousPage": false},
        "result": [{"id": "i", "walletAddress": "w", "receivedAmount": {"value": "0", "assetCode": "USD", "assetScale": 2}}]
    }))
    .unwrap();
    assert!(page.pagination.has_next_page);
    assert_eq!(page.result.len(), 1);

    let gnap: ErrorResponse = serde_json::from_value(
        json!({"error": {"code": "too_fast", "description": "continued too quickly"}}),
    )
    .unwrap();
    assert_eq!(gnap.error.code.as_deref(), Some("too_fast"));
    let rs: ErrorResponse = serde_json::from_value(
        json!({"error": {"code": "403", "description": "Inactive Token", "details": {"a": 1}}}),
    )
    .unwrap();
    assert_eq!(rs.error.code.as_deref(), Some("403"));
    assert!(rs.error.details.is_some());
    let numeric: ErrorResponse =
        serde_json::from_value(json!({"error": {"code": 400, "description": "x"}})).unwrap();
    assert_eq!(numeric.error.code.as_deref(), Some("400"));
    let validation: ErrorResponse = serde_json::from_value(
        json!({"error": {"description": "Received error validating OpenAPI request"}}),
    )
    .unwrap();
    assert_eq!(validation.error.code, None);
}

#[test]
fn request_bodies_are_encoded_in_the_current_compact_shapes() {
    let grant = GrantRequest {
        access_token: Some(AccessTokenRequest {
            access: vec![AccessItem::OutgoingPayment {
                actions: vec![AccessAction::Create, AccessAction::Read, AccessAction::List],
                identifier: "https://ilp.example/buyer".into(),
                limits: Some(Limits {
                    receiver: Some("https://ilp.example/t/incoming-payments/0a1b".into()),
                    debit_amount: Some(usd(2563)),
                    ..Limits::default()
                }),
            }],
        }),
        client: "https://ilp.example/marketplace".into(),
        subject: None,
        interact: Some(InteractRequest::redirect(
            "https://market.example/api/payments/1/finish",
            "9b1d5c7e",
        )),
    };
    assert_eq!(
        serde_json::to_string(&grant).unwrap(),
        r#"{"access_token":{"access":[{"type":"outgoing-payment","actions":["create","read","list"],"identifier":"https://ilp.example/buyer","limits":{"receiver":"https://ilp.example/t/incoming-payments/0a1b","debitAmount":{"value":"2563","assetCode":"USD","assetScale":2}}}]},"client":"https://ilp.example/marketplace","interact":{"start":["redirect"],"finish":{"method":"redirect","uri":"https://market.example/api/payments/1/finish","nonce":"9b1d5c7e"}}}"#
    );
    let quote_grant = GrantRequest {
        access_token: Some(AccessTokenRequest {
            access: vec![AccessItem::Quote {
                actions: vec![AccessAction::Create, AccessAction::Read],
            }],
        }),
        client: "https://ilp.example/marketplace".into(),
        subject: None,
        interact: None,
    };
    assert_eq!(
        serde_json::to_string(&quote_grant).unwrap(),
        r#"{"access_token":{"access":[{"type":"quote","actions":["create","read"]}]},"client":"https://ilp.example/marketplace"}"#
    );
    let incoming = CreateIncomingPayment {
        wallet_address: "https://ilp.example/seller".into(),
        incoming_amount: Some(usd(2500)),
        expires_at: Some(Utc.with_ymd_and_hms(2026, 9, 1, 12, 30, 0).unwrap()),
        metadata: Some(json!({"room": "AB3D7K"})),
    };
    assert_eq!(
        serde_json::to_string(&incoming).unwrap(),
        r#"{"walletAddress":"https://ilp.example/seller","incomingAmount":{"value":"2500","assetCode":"USD","assetScale":2},"expiresAt":"2026-09-01T12:30:00.000Z","metadata":{"room":"AB3D7K"}}"#
    );
    let quote = CreateQuote {
        wallet_address: "w".into(),
        receiver: "r".into(),
        method: "ilp".into(),
        debit_amount: None,
    };
    assert_eq!(
        serde_json::to_string(&quote).unwrap(),
        r#"{"walletAddress":"w","receiver":"r","method":"ilp"}"#
    );
    let refund_quote = CreateQuote {
        debit_amount: Some(Amount {
            value: 2500,
            asset_code: "USD".into(),
            asset_scale: 2,
        }),
        ..quote
    };
    assert_eq!(
        serde_json::to_string(&refund_quote).unwrap(),
        r#"{"walletAddress":"w","receiver":"r","method":"ilp","debitAmount":{"value":"2500","assetCode":"USD","assetScale":2}}"#
    );
    let outgoing = CreateOutgoingPayment {
        wallet_address: "w".into(),
        quote_id: "q".into(),
        metadata: None,
    };
    assert_eq!(
        serde_json::to_string(&outgoing).unwrap(),
        r#"{"walletAddress":"w","quoteId":"q"}"#
    );
    assert_eq!(
        serde_json::to_string(&ContinueRequest {
            interact_ref: "ad82".into()
        })
        .unwrap(),
        r#"{"interact_ref":"ad82"}"#
    );
}

#[test]
fn amount_values_must_be_unsigned_integers() {
    for bad in [
        json!("-1"),
        json!("1.5"),
        json!("1e3"),
        json!(""),
        json!(-1),
        json!("18446744073709551616"),
    ] {
        let result = serde_json::from_value::<Amount>(
            json!({"value": bad, "assetCode": "USD", "assetScale": 2}),
        );
        assert!(result.is_err(), "{bad} was accepted");
    }
}
