//! What a real provider refuses, with Rafiki's statuses and error shapes (OPEN-PAYMENTS.md
//! §6, §10): signatures, tokens, grant validation, clients that are not who they claim.

use serde_json::json;
use shifting_open_payments::SigningKey;
use shifting_open_payments::types::{AccessAction, AccessItem, CreateIncomingPayment};

use crate::helpers::{client_for, spawn, third_party};

fn quote_grant(client: &str) -> String {
    json!({
        "access_token": {"access": [{"type": "quote", "actions": ["create", "read"]}]},
        "client": client,
    })
    .to_string()
}

#[tokio::test]
async fn grant_requests_must_be_signed_by_a_key_of_the_client() {
    let sandbox = spawn(|_| {}).await;
    let auth = format!("{}/auth", sandbox.base);
    let body = quote_grant(&sandbox.wallet_url("shifting"));

    let (status, error) = sandbox.send(None, "POST", &auth, None, Some(&body)).await;
    assert_eq!(status, 401, "unsigned: {error}");
    assert_eq!(error["error"]["code"], "invalid_client");
    assert_eq!(error["error"]["description"], "invalid signature headers");

    let stranger = SigningKey::generate("not-published").unwrap().0;
    let (status, error) = sandbox
        .send(Some(&stranger), "POST", &auth, None, Some(&body))
        .await;
    assert_eq!(status, 400, "unknown key id: {error}");
    assert_eq!(error["error"]["description"], "could not determine client");

    let impostor = SigningKey::generate("platform-key").unwrap().0;
    let (status, error) = sandbox
        .send(Some(&impostor), "POST", &auth, None, Some(&body))
        .await;
    assert_eq!(status, 401, "right key id, wrong key: {error}");
    assert_eq!(error["error"]["code"], "invalid_client");
    assert_eq!(error["error"]["description"], "invalid signature");

    let (status, grant) = sandbox.send_signed("POST", &auth, None, Some(&body)).await;
    assert_eq!(status, 200, "{grant}");
    assert!(grant["access_token"]["value"].is_string());
    assert!(grant["continue"]["uri"].is_string());
}

#[tokio::test]
async fn grant_requests_are_validated_as_rafiki_does() {
    let sandbox = spawn(|_| {}).await;
    let auth = format!("{}/auth", sandbox.base);
    let client = sandbox.wallet_url("shifting");
    let alice = sandbox.wallet_url("alice");
    let cases = [
        (
            json!({"access_token": {"access": [{"type": "outgoing-payment", "actions": ["create"], "identifier": alice}]}, "client": client}),
            "missing required request field 'interact'",
        ),
        (
            json!({"access_token": {"access": [{"type": "outgoing-payment", "actions": ["create"]}]}, "client": client,
                   "interact": {"start": ["redirect"], "finish": {"method": "redirect", "uri": "http://shop.example/f", "nonce": "n"}}}),
            "access identifier required",
        ),
        (
            json!({"access_token": {"access": [{"type": "outgoing-payment", "actions": ["create"], "identifier": alice,
                   "limits": {"debitAmount": {"value": "1", "assetCode": "USD", "assetScale": 2},
                              "receiveAmount": {"value": "1", "assetCode": "USD", "assetScale": 2}}}]},
                   "client": client,
                   "interact": {"start": ["redirect"], "finish": {"method": "redirect", "uri": "http://shop.example/f", "nonce": "n"}}}),
            "only one access amount allowed",
        ),
        (
            json!({"client": client}),
            "subject or access_token required",
        ),
    ];
    for (body, description) in cases {
        let (status, error) = sandbox
            .send_signed("POST", &auth, None, Some(&body.to_string()))
            .await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["code"], "invalid_request", "{error}");
        assert_eq!(error["error"]["description"], description);
    }

    // A malformed body never reaches a 500.
    let (status, error) = sandbox
        .send_signed("POST", &auth, None, Some(r#"{"access_token": 7}"#))
        .await;
    assert_eq!(status, 400, "{error}");
}

#[tokio::test]
async fn the_resource_server_checks_token_then_signature() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let token = sandbox.incoming_token(&seller).await;
    let url = format!("{}/rs/incoming-payments", sandbox.base);
    let body = json!({
        "walletAddress": seller.id,
        "incomingAmount": {"value": "100", "assetCode": "EUR", "assetScale": 2},
    })
    .to_string();

    let (status, error) = sandbox
        .send_signed("POST", &url, Some("BOGUS0000TOKEN"), Some(&body))
        .await;
    assert_eq!(status, 403, "bogus token: {error}");
    assert_eq!(
        error,
        json!({"error": {"code": "403", "description": "Inactive Token"}})
    );

    let (status, error) = sandbox
        .send(None, "POST", &url, Some(&token.value), Some(&body))
        .await;
    assert_eq!(status, 401, "unsigned: {error}");
    assert_eq!(
        error["error"]["description"],
        "Signature validation error: missing keyId in signature input"
    );

    let impostor = SigningKey::generate("platform-key").unwrap().0;
    let (status, error) = sandbox
        .send(
            Some(&impostor),
            "POST",
            &url,
            Some(&token.value),
            Some(&body),
        )
        .await;
    assert_eq!(status, 401, "wrong signature: {error}");
    assert_eq!(
        error["error"]["description"],
        "Signature validation error: provided signature is invalid"
    );

    let (status, created) = sandbox
        .send_signed("POST", &url, Some(&token.value), Some(&body))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["receivedAmount"]["value"], "0");
    assert_eq!(created["methods"], json!([]));
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let token = sandbox.incoming_token(&seller).await;
    let url = url::Url::parse(&format!("{}/rs/incoming-payments", sandbox.base)).unwrap();
    let signed_body = json!({"walletAddress": seller.id, "incomingAmount": {"value": "100", "assetCode": "EUR", "assetScale": 2}}).to_string();
    let sent_body = signed_body.replace("\"100\"", "\"900\"");
    let authorization = format!("GNAP {}", token.value);
    let headers = shifting_open_payments::signatures::sign(
        &sandbox.key,
        &shifting_open_payments::RequestToSign {
            method: "POST",
            url: &url,
            authorization: Some(&authorization),
            body: Some(signed_body.as_bytes()),
            content_type: "application/json",
        },
        crate::helpers::now(),
    );
    let mut request = sandbox
        .http
        .post(url)
        .header("authorization", &authorization);
    for (name, value) in headers.pairs() {
        request = request.header(name, value);
    }
    let response = request.body(sent_body).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        error["error"]["description"],
        "Signature validation error: provided signature is invalid"
    );
}

#[tokio::test]
async fn bodies_javascript_would_rewrite_fail_like_on_rafiki() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let token = sandbox.incoming_token(&seller).await;
    let url = format!("{}/rs/incoming-payments", sandbox.base);
    for body in [
        serde_json::to_string_pretty(&json!({"walletAddress": seller.id})).unwrap(),
        json!({"walletAddress": seller.id, "metadata": {"42": "answer"}}).to_string(),
    ] {
        let (status, error) = sandbox
            .send_signed("POST", &url, Some(&token.value), Some(&body))
            .await;
        assert_eq!(status, 401, "{body}: {error}");
        assert_eq!(
            error["error"]["description"],
            "Signature validation error: provided signature is invalid"
        );
    }
}

#[tokio::test]
async fn tokens_are_bound_to_their_client() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let token = sandbox.incoming_token(&seller).await;
    let incoming = sandbox.incoming_payment(&seller, &token, 100).await;

    // A third party (its own wallet address and JWKS on loopback) runs its own grant...
    let shop = third_party(&sandbox, "Corner Shop").await;
    let shop_client = client_for(
        &sandbox.base,
        &shop.wallet_address,
        crate::helpers::key("third-party-key", &shop.key_pem),
    );
    let grant = shop_client
        .request_grant(
            &seller.auth_server,
            vec![AccessItem::IncomingPayment {
                actions: vec![AccessAction::Create, AccessAction::Read],
                identifier: Some(seller.id.clone()),
            }],
            None,
        )
        .await
        .unwrap();
    let shop_token = grant.access_token.unwrap();
    let own = shop_client
        .create_incoming_payment(
            &seller,
            &shop_token.value,
            &CreateIncomingPayment {
                wallet_address: seller.id.clone(),
                incoming_amount: None,
                expires_at: None,
                metadata: None,
            },
        )
        .await
        .unwrap();
    assert!(own.incoming_amount.is_none());

    // ...but `read` shows it only its own payments,
    let err = shop_client
        .get_incoming_payment(&incoming.id, &shop_token.value)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    // and it cannot use our token: the signature is checked against *our* keys.
    let err = shop_client
        .get_incoming_payment(&incoming.id, &token.value)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn a_token_lacking_the_action_or_wallet_is_insufficient() {
    let sandbox = spawn(|_| {}).await;
    let bruno = sandbox.wallet("bruno").await;
    let alice = sandbox.wallet("alice").await;
    let token = sandbox.incoming_token(&bruno).await;
    let err = sandbox
        .client
        .create_incoming_payment(
            &alice,
            &token.value,
            &CreateIncomingPayment {
                wallet_address: alice.id.clone(),
                incoming_amount: None,
                expires_at: None,
                metadata: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("Insufficient Grant"), "{err}");
}

#[tokio::test]
async fn rotation_replaces_the_token_and_revocation_ends_it() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let token = sandbox.incoming_token(&seller).await;
    let incoming = sandbox.incoming_payment(&seller, &token, 100).await;

    let rotated = sandbox.client.rotate_token(&token).await.unwrap();
    assert_ne!(rotated.value, token.value);
    assert_ne!(rotated.manage, token.manage, "the manage URL changes");
    let old = sandbox
        .client
        .get_incoming_payment(&incoming.id, &token.value)
        .await
        .unwrap_err();
    assert_eq!(old.status(), Some(403));
    sandbox
        .client
        .get_incoming_payment(&incoming.id, &rotated.value)
        .await
        .unwrap();

    // Rotating the old token again: it is no longer manageable.
    let again = sandbox.client.rotate_token(&token).await.unwrap_err();
    assert_eq!(again.status(), Some(401), "{again}");

    sandbox.client.revoke_token(&rotated).await.unwrap();
    let revoked = sandbox
        .client
        .get_incoming_payment(&incoming.id, &rotated.value)
        .await
        .unwrap_err();
    assert_eq!(revoked.status(), Some(403));
}

#[tokio::test]
async fn an_expired_token_is_inactive_but_can_be_rotated() {
    let sandbox = spawn(|config| config.timings.token_lifetime = std::time::Duration::ZERO).await;
    let seller = sandbox.wallet("bruno").await;
    let token = sandbox.incoming_token(&seller).await;
    assert_eq!(token.expires_in, Some(0));
    let url = format!("{}/rs/incoming-payments", sandbox.base);
    let body = json!({"walletAddress": seller.id}).to_string();
    let (status, error) = sandbox
        .send_signed("POST", &url, Some(&token.value), Some(&body))
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["error"]["description"], "Inactive Token");
    let rotated = sandbox.client.rotate_token(&token).await.unwrap();
    assert_ne!(rotated.value, token.value);
}

#[tokio::test]
async fn cancelling_a_grant_revokes_its_tokens() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let grant = sandbox
        .client
        .request_grant(
            &seller.auth_server,
            vec![AccessItem::IncomingPayment {
                actions: vec![AccessAction::Create, AccessAction::Read],
                identifier: None,
            }],
            None,
        )
        .await
        .unwrap();
    let token = grant.access_token.clone().unwrap();
    let continuation = grant.continuation.clone().unwrap();
    sandbox.client.cancel_grant(&continuation).await.unwrap();
    let err = sandbox
        .client
        .create_incoming_payment(
            &seller,
            &token.value,
            &CreateIncomingPayment {
                wallet_address: seller.id.clone(),
                incoming_amount: None,
                expires_at: None,
                metadata: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    let twice = sandbox
        .client
        .cancel_grant(&continuation)
        .await
        .unwrap_err();
    assert_eq!(twice.status(), Some(401));
    assert_eq!(twice.code(), Some("invalid_continuation"));
}

#[tokio::test]
async fn bad_resource_input_gets_clear_400s() {
    let sandbox = spawn(|_| {}).await;
    let seller = sandbox.wallet("bruno").await;
    let token = sandbox.incoming_token(&seller).await;
    let url = format!("{}/rs/incoming-payments", sandbox.base);
    let cases = [
        (
            json!({"walletAddress": seller.id, "incomingAmount": {"value": "100", "assetCode": "USD", "assetScale": 2}}),
            "invalid amount",
        ),
        (
            json!({"walletAddress": seller.id, "incomingAmount": {"value": "0", "assetCode": "EUR", "assetScale": 2}}),
            "invalid amount",
        ),
        (
            json!({"walletAddress": seller.id, "expiresAt": "2001-01-01T00:00:00Z"}),
            "invalid expiresAt",
        ),
    ];
    for (body, description) in cases {
        let (status, error) = sandbox
            .send_signed("POST", &url, Some(&token.value), Some(&body.to_string()))
            .await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["description"], description);
    }
    let (status, error) = sandbox
        .send_signed(
            "POST",
            &url,
            Some(&token.value),
            Some(&json!({"walletAddress": seller.id, "amount": 5}).to_string()),
        )
        .await;
    assert_eq!(status, 400, "unknown field: {error}");
    let list = format!(
        "{}/rs/incoming-payments?wallet-address={}&first=0",
        sandbox.base, seller.id
    );
    let (status, error) = sandbox
        .send_signed("GET", &list, Some(&token.value), None)
        .await;
    assert_eq!(status, 400, "{error}");
}

#[tokio::test]
async fn wallet_addresses_answer_like_rafiki() {
    let sandbox = spawn(|_| {}).await;
    let document: serde_json::Value = sandbox
        .http
        .get(sandbox.wallet_url("carmen"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        document,
        json!({
            "id": sandbox.wallet_url("carmen"),
            "publicName": "Carmen Castillo",
            "assetCode": "MXN",
            "assetScale": 2,
            "authServer": format!("{}/auth", sandbox.base),
            "resourceServer": format!("{}/rs", sandbox.base),
        })
    );
    let html_only = sandbox
        .http
        .get(sandbox.wallet_url("carmen"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html_only.status(), 406);
    let missing = sandbox
        .http
        .get(sandbox.wallet_url("nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let jwks = sandbox
        .client
        .get_jwks(&sandbox.wallet_url("shifting"))
        .await
        .unwrap();
    assert_eq!(jwks.keys, vec![sandbox.key.public_jwk()]);

    let accounts: serde_json::Value = sandbox
        .http
        .get(format!("{}/accounts", sandbox.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["alice", "bruno", "carmen", "kenji", "penny", "shifting"]
    );
    assert_eq!(accounts["accounts"][4]["balance"], "50");
    assert_eq!(
        accounts["accounts"][0]["wallet_address"],
        sandbox.wallet_url("alice")
    );
}

/// `subject` grants (Open Payments 1.1): validated as Rafiki validates them, always
/// interactive, approved only by the wallet's owner signed in with the account's password (five
/// wrong ones end the sign-in), continued into the subject and no access token.
#[tokio::test]
async fn subject_grants_prove_a_wallet_only_after_its_owner_signs_in() {
    let sandbox = spawn(|_| {}).await;
    let auth = format!("{}/auth", sandbox.base);
    let client = sandbox.wallet_url("shifting");
    let alice = sandbox.wallet_url("alice");
    let interact = json!({"start": ["redirect"], "finish": {"method": "redirect", "uri": "http://shop.example/f", "nonce": "n"}});
    let subject = |ids: serde_json::Value| json!({"client": client, "subject": {"sub_ids": ids}, "interact": interact});
    let cases = [
        (
            subject(json!([])),
            "subject.sub_ids must hold exactly one identifier",
        ),
        (
            subject(json!([{"id": alice, "format": "uri"}, {"id": alice, "format": "uri"}])),
            "subject.sub_ids must hold exactly one identifier",
        ),
        (
            subject(json!([{"id": alice, "format": "email"}])),
            "subject.sub_ids[0].format must be \"uri\"",
        ),
        (
            subject(json!([{"id": "alice", "format": "uri"}])),
            "subject.sub_ids[0].id must be a wallet address URL",
        ),
        (
            json!({"client": client, "subject": {"sub_ids": [{"id": alice, "format": "uri"}]}}),
            "missing required request field 'interact'",
        ),
    ];
    for (body, description) in cases {
        let (status, error) = sandbox
            .send_signed("POST", &auth, None, Some(&body.to_string()))
            .await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["description"], description, "{error}");
    }

    let body = subject(json!([{"id": alice, "format": "uri"}])).to_string();
    let (status, grant) = sandbox.send_signed("POST", &auth, None, Some(&body)).await;
    assert_eq!(status, 200, "{grant}");
    assert!(grant["access_token"].is_null(), "pending: {grant}");
    let redirect = grant["interact"]["redirect"].as_str().unwrap().to_owned();
    let browser = crate::helpers::browser();
    let page = crate::helpers::open(&browser, &redirect).await;
    assert!(page.contains("Prove that you own this wallet"), "{page}");
    assert!(page.contains("Alice Anderson"), "{page}");
    let login = page
        .match_indices("action=\"")
        .map(|(at, _)| {
            let start = at + "action=\"".len();
            page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&")
        })
        .find(|action| action.ends_with("/login"))
        .expect("a sign-in form");
    let finish = login.replace("/login", "/finish");
    let sign_in = |password: &str| post_form(&browser, &login, format!("password={password}"));
    // Approving before signing in proves nothing.
    let early = post_form(&browser, &finish, "decision=approve".into()).await;
    assert_eq!(early.status(), 401);

    let accounts: serde_json::Value = reqwest::get(format!("{}/accounts", sandbox.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let password = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "alice")
        .and_then(|a| a["password"].as_str())
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 10);
    assert_eq!(sign_in("wrong").await.status(), 401);
    let signed_in = sign_in(&password).await;
    assert_eq!(signed_in.status(), 200);
    let consent = signed_in.text().await.unwrap();
    assert!(consent.contains("value=\"approve\""), "{consent}");
    let approved = post_form(&browser, &finish, "decision=approve".into()).await;
    assert_eq!(approved.status(), 303);
    let back = crate::helpers::location(&approved);
    let interact_ref = crate::helpers::query(&back, "interact_ref").expect("an interact_ref");
    let continue_uri = grant["continue"]["uri"].as_str().unwrap();
    let token = grant["continue"]["access_token"]["value"].as_str().unwrap();
    let (status, continued) = sandbox
        .send_signed(
            "POST",
            continue_uri,
            Some(token),
            Some(&json!({ "interact_ref": interact_ref }).to_string()),
        )
        .await;
    assert_eq!(status, 200, "{continued}");
    assert_eq!(
        continued["subject"],
        json!({"sub_ids": [{"id": alice, "format": "uri"}]})
    );
    assert!(continued["access_token"].is_null(), "{continued}");

    // A second interaction: five wrong passwords end the sign-in.
    let (_, grant) = sandbox.send_signed("POST", &auth, None, Some(&body)).await;
    let redirect = grant["interact"]["redirect"].as_str().unwrap().to_owned();
    let browser = crate::helpers::browser();
    let page = crate::helpers::open(&browser, &redirect).await;
    let login = crate::helpers::form_action(&page);
    for _ in 0..5 {
        let wrong = post_form(&browser, &login, "password=guess".into()).await;
        assert_eq!(wrong.status(), 401);
    }
    let locked = post_form(&browser, &login, format!("password={password}")).await;
    assert_eq!(locked.status(), 429);
}

#[tokio::test]
async fn a_provider_from_before_subject_grants_refuses_them_and_unknown_wallets_cannot_be_proven() {
    let old = spawn(|config| config.switches.no_subject_grants = true).await;
    let (status, error) = request_proof(&old, &old.wallet_url("alice")).await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"]["code"].is_null(),
        "a validation error has no code: {error}"
    );

    // As on Rafiki, a wallet the server does not hold is accepted as a subject; its page can
    // only be declined.
    let sandbox = spawn(|_| {}).await;
    let (status, grant) = request_proof(&sandbox, "https://elsewhere.example/zoe").await;
    assert_eq!(status, 200, "{grant}");
    let browser = crate::helpers::browser();
    let page =
        crate::helpers::open(&browser, grant["interact"]["redirect"].as_str().unwrap()).await;
    assert!(page.contains("not held at the sandbox wallet"), "{page}");
    assert!(!page.contains("value=\"approve\""), "{page}");
    let declined = crate::helpers::press(&browser, &page, "decline").await;
    assert_eq!(
        crate::helpers::query(&declined, "result").as_deref(),
        Some("grant_rejected")
    );
}

/// The platform asks `sandbox` for a `subject` grant proving `wallet`.
async fn request_proof(
    sandbox: &crate::helpers::TestSandbox,
    wallet: &str,
) -> (u16, serde_json::Value) {
    let body = json!({"client": sandbox.wallet_url("shifting"),
        "subject": {"sub_ids": [{"id": wallet, "format": "uri"}]},
        "interact": {"start": ["redirect"], "finish": {"method": "redirect", "uri": "http://shop.example/f", "nonce": "n"}}});
    sandbox
        .send_signed(
            "POST",
            &format!("{}/auth", sandbox.base),
            None,
            Some(&body.to_string()),
        )
        .await
}

/// Posts a form body from `browser`.
async fn post_form(browser: &reqwest::Client, url: &str, body: String) -> reqwest::Response {
    browser
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}
