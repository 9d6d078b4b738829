//! The test holds (`Switches::test_holds`): a protocol request stopped at its step until the
//! test releases it, then dropped (never handled) or handled.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shifting_open_payments::types::{Amount, CreateIncomingPayment};

use crate::helpers::spawn;

#[tokio::test]
async fn without_the_switch_nothing_can_be_held() {
    let sandbox = spawn(|_| {}).await;
    let response = sandbox
        .http
        .post(format!("{}/test/holds/quote", sandbox.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_held_request_waits_for_its_release_and_is_then_dropped_or_handled() {
    let sandbox = spawn(|config| config.switches.test_holds = true).await;
    let holds = format!("{}/test/holds", sandbox.base);
    let post = |path: String| sandbox.http.post(format!("{holds}/{path}")).send();
    assert_eq!(
        post("payments".into()).await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "an unknown step"
    );
    let seller = sandbox.wallet("alice").await;
    let token = sandbox.incoming_token(&seller).await;

    for then in ["drop", "proceed"] {
        let step = "incoming-payment";
        assert_eq!(
            post(step.into()).await.unwrap().status(),
            StatusCode::CREATED
        );
        assert_eq!(
            post(step.into()).await.unwrap().status(),
            StatusCode::CONFLICT,
            "armed twice"
        );
        assert_eq!(
            post(format!("{step}/release?then={then}"))
                .await
                .unwrap()
                .status(),
            StatusCode::CONFLICT,
            "released before anything is held"
        );
        let creating = tokio::spawn({
            let (client, seller, token) = (sandbox.client.clone(), seller.clone(), token.clone());
            async move {
                let body = CreateIncomingPayment {
                    wallet_address: seller.id.clone(),
                    incoming_amount: Some(Amount {
                        value: 100,
                        asset_code: seller.asset_code.clone(),
                        asset_scale: seller.asset_scale,
                    }),
                    expires_at: None,
                    metadata: Some(json!({ "then": then })),
                };
                client
                    .create_incoming_payment(&seller, &token.value, &body)
                    .await
            }
        });
        let held: Value = sandbox
            .http
            .get(format!("{holds}/{step}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(held["held"], true, "{held}");
        assert!(!creating.is_finished(), "the held request was answered");

        let released = post(format!("{step}/release?then={then}")).await.unwrap();
        assert_eq!(released.status(), StatusCode::OK);
        let created = creating.await.unwrap();
        match then {
            "drop" => assert_eq!(created.unwrap_err().status(), Some(503)),
            _ => assert_eq!(
                created.unwrap().metadata,
                Some(json!({ "then": "proceed" }))
            ),
        }
    }
    // Released holds are disarmed: the next request passes.
    sandbox.incoming_payment(&seller, &token, 100).await;
}
