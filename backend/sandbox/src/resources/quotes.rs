//! Quotes: what paying a receiver costs at the sandbox's fixed rates, and for how long.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as StateExtractor};
use axum::response::{IntoResponse, Response};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::Deserialize;
use serde_json::{Value, json};
use shifting_open_payments::types::{AccessAction, Amount};
use uuid::Uuid;

use super::{account_for, amount, authenticate, body, created, timestamp};
use crate::State;
use crate::access::Kind;
use crate::auth::after;
use crate::error::RsError;
use crate::money::{Asset, Rounding, convert};
use crate::signed::Incoming;
use crate::store::{incoming_payment, quote};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateQuote {
    wallet_address: String,
    receiver: String,
    method: String,
    #[serde(default)]
    debit_amount: Option<Amount>,
    #[serde(default)]
    receive_amount: Option<Amount>,
}

fn quote_view(state: &State, q: &quote::Model) -> Value {
    json!({
        "id": state.resource_url("quotes", q.id),
        "walletAddress": state.wallet_url(&q.account),
        "receiver": q.receiver,
        "debitAmount": amount(q.debit_value, &q.debit_asset_code, q.debit_asset_scale),
        "receiveAmount": amount(q.receive_value, &q.receive_asset_code, q.receive_asset_scale),
        "method": "ilp",
        "createdAt": timestamp(q.created_at),
        "expiresAt": timestamp(q.expires_at),
    })
}

/// `POST {rs}/quotes`: what paying `receiver` costs, at the fixed rates, valid for the quote
/// lifetime (capped by the incoming payment's expiry).
pub(crate) async fn create_quote(
    StateExtractor(state): StateExtractor<Arc<State>>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let request: CreateQuote = body(&incoming)?;
    if request.method != "ilp" {
        return Err(RsError::bad_request(
            "Received error validating OpenAPI request: method must be \"ilp\"",
        ));
    }
    if request.debit_amount.is_some() && request.receive_amount.is_some() {
        return Err(RsError::bad_request(
            "Received error validating OpenAPI request: send debitAmount or receiveAmount, not both",
        ));
    }
    let caller = authenticate(&state, &incoming).await?;
    caller.permission(Kind::Quote, AccessAction::Create, &request.wallet_address)?;
    let payer = account_for(&state, &request.wallet_address).await?;
    let now = state.clock.now();
    let receiver = state
        .resource_id("incoming-payments", &request.receiver)
        .map(incoming_payment::Entity::find_by_id);
    let receiver = match receiver {
        Some(query) => query.one(&state.db).await?,
        None => None,
    }
    .filter(|p| !p.completed && p.expires_at > now)
    .ok_or_else(|| RsError::bad_request("invalid receiver"))?;

    let payer_asset = Asset {
        code: &payer.asset_code,
        scale: u8::try_from(payer.asset_scale).unwrap_or(0),
    };
    let receiver_asset = Asset {
        code: &receiver.asset_code,
        scale: u8::try_from(receiver.asset_scale).unwrap_or(0),
    };
    let remaining = receiver
        .incoming_value
        .map(|v| u64::try_from(v - receiver.received_value).unwrap_or(0));
    // Rafiki answers 500 here; a 400 says the same without looking like a crash.
    let no_rate = || RsError::bad_request("could not convert between assets");
    let (debit, receive) = match (&request.debit_amount, &request.receive_amount) {
        (Some(debit), None) => {
            if debit.asset_code != payer.asset_code
                || i32::from(debit.asset_scale) != payer.asset_scale
            {
                return Err(RsError::bad_request("invalid amount"));
            }
            let receive = convert(debit.value, payer_asset, receiver_asset, Rounding::Down)
                .ok_or_else(no_rate)?;
            (debit.value, receive)
        }
        (None, Some(receive)) => {
            if receive.asset_code != receiver.asset_code
                || i32::from(receive.asset_scale) != receiver.asset_scale
            {
                return Err(RsError::bad_request("invalid amount"));
            }
            let debit = convert(receive.value, receiver_asset, payer_asset, Rounding::Up)
                .ok_or_else(no_rate)?;
            (debit, receive.value)
        }
        _ => {
            let receive = remaining.ok_or_else(|| RsError::bad_request("invalid amount"))?;
            let debit =
                convert(receive, receiver_asset, payer_asset, Rounding::Up).ok_or_else(no_rate)?;
            (debit, receive)
        }
    };
    let receive = receive.saturating_sub(state.switches.quote_shortfall);
    if receive == 0 || debit == 0 {
        return Err(RsError::bad_request("non-positive receive amount"));
    }
    if remaining.is_some_and(|left| receive > left) {
        return Err(RsError::bad_request("invalid amount"));
    }
    let too_big = || RsError::bad_request("invalid amount");
    let quote = quote::ActiveModel {
        id: Set(Uuid::new_v4()),
        account: Set(payer.name.clone()),
        client: Set(caller.grant.client.clone()),
        receiver: Set(request.receiver),
        debit_value: Set(i64::try_from(debit).map_err(|_| too_big())?),
        debit_asset_code: Set(payer.asset_code.clone()),
        debit_asset_scale: Set(payer.asset_scale),
        receive_value: Set(i64::try_from(receive).map_err(|_| too_big())?),
        receive_asset_code: Set(receiver.asset_code.clone()),
        receive_asset_scale: Set(receiver.asset_scale),
        expires_at: Set(std::cmp::min(
            after(now, state.timings.quote_lifetime),
            receiver.expires_at,
        )),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(created(quote_view(&state, &quote)))
}

/// `GET {rs}/quotes/{id}`.
pub(crate) async fn get_quote(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let caller = authenticate(&state, &incoming).await?;
    let missing = || RsError::not_found("Quote does not exist");
    let id = Uuid::parse_str(&id).map_err(|_| missing())?;
    let quote = quote::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(missing)?;
    let permission = caller.permission(
        Kind::Quote,
        AccessAction::Read,
        &state.wallet_url(&quote.account),
    )?;
    if !caller.sees(&permission, &quote.client) {
        return Err(missing());
    }
    Ok(Json(quote_view(&state, &quote)).into_response())
}
