//! Outgoing payments: paying a quote within the grant's limits, read and listed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr,
};
use serde::Deserialize;
use serde_json::{Value, json};
use shifting_open_payments::interval::RepeatingInterval;
use shifting_open_payments::types::{AccessAction, Amount};
use uuid::Uuid;

use crate::State;
use crate::access::{Access, Kind};
use crate::error::RsError;
use crate::signed::Incoming;
use crate::store::{begin_write, outgoing_payment, quote};

use super::pagination::PageRequest;
use super::settlement::settle;
use super::{account_for, amount, authenticate, body, created, payment_states, timestamp};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateOutgoingPayment {
    wallet_address: String,
    quote_id: String,
    #[serde(default)]
    metadata: Option<Value>,
}

fn outgoing_view(state: &State, p: &outgoing_payment::Model) -> Value {
    let mut view = json!({
        "id": state.resource_url("outgoing-payments", p.id),
        "walletAddress": state.wallet_url(&p.account),
        "quoteId": state.resource_url("quotes", p.id),
        "failed": p.state == payment_states::FAILED,
        "receiver": p.receiver,
        "debitAmount": amount(p.debit_value, &p.debit_asset_code, p.debit_asset_scale),
        "receiveAmount": amount(p.receive_value, &p.receive_asset_code, p.receive_asset_scale),
        "sentAmount": amount(p.sent_value, &p.debit_asset_code, p.debit_asset_scale),
        "createdAt": timestamp(p.created_at),
    });
    if let (Some(metadata), Some(object)) = (&p.metadata, view.as_object_mut()) {
        object.insert("metadata".into(), metadata.clone());
    }
    view
}

/// `POST {rs}/outgoing-payments`: pays a quote, within the grant's limits. The money moves
/// right after the answer (the payment starts with `sentAmount` 0, as in Rafiki).
pub(crate) async fn create_outgoing_payment(
    StateExtractor(state): StateExtractor<Arc<State>>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let request: CreateOutgoingPayment = body(&incoming)?;
    if request.metadata.as_ref().is_some_and(|m| !m.is_object()) {
        return Err(RsError::bad_request(
            "Received error validating OpenAPI request: metadata must be an object",
        ));
    }
    let caller = authenticate(&state, &incoming).await?;
    let permission = caller.permission(
        Kind::OutgoingPayment,
        AccessAction::Create,
        &request.wallet_address,
    )?;
    let limits = match permission.item {
        Access::OutgoingPayment { limits, .. } => limits.clone().unwrap_or_default(),
        _ => return Err(RsError::insufficient_grant()),
    };
    let payer = account_for(&state, &request.wallet_address).await?;
    let invalid_quote = || RsError::bad_request("invalid quote");
    let quote_id = state
        .resource_id("quotes", &request.quote_id)
        .ok_or_else(invalid_quote)?;
    let now = state.clock.now();
    let quote = quote::Entity::find_by_id(quote_id)
        .one(&state.db)
        .await?
        .filter(|q| q.account == payer.name && q.expires_at > now)
        .ok_or_else(invalid_quote)?;
    let unauthorized = || RsError::new(StatusCode::FORBIDDEN, "unauthorized");
    if limits
        .receiver
        .as_ref()
        .is_some_and(|r| *r != quote.receiver)
    {
        return Err(unauthorized());
    }

    let txn = begin_write(&state.db).await?;
    if outgoing_payment::Entity::find_by_id(quote.id)
        .one(&txn)
        .await?
        .is_some()
    {
        // One payment per quote, as in Rafiki (the payment's id is the quote's).
        return Err(invalid_quote());
    }
    // With an interval, the limits hold per interval: the one the payment is created in (none
    // before the start or after the last repetition, and an interval Rafiki cannot read has
    // none either: `unauthorized`). Failed payments give their amounts back.
    let window = match &limits.interval {
        Some(text) => Some(
            text.parse::<RepeatingInterval>()
                .ok()
                .and_then(|interval| interval.containing(now))
                .ok_or_else(unauthorized)?,
        ),
        None => None,
    };
    let spent = spent_under(&txn, caller.grant.id, window).await?;
    // Totals in i128: no sum of i64 amounts can overflow it.
    let spent_debit: i128 = spent.iter().map(|p| i128::from(p.debit_value)).sum();
    let spent_receive: i128 = spent.iter().map(|p| i128::from(p.receive_value)).sum();
    let within = |limit: &Option<Amount>, code: &str, scale: i32, total: i128| {
        limit.as_ref().is_none_or(|l| {
            l.asset_code == code
                && i32::from(l.asset_scale) == scale
                && total <= i128::from(l.value)
        })
    };
    if !within(
        &limits.debit_amount,
        &quote.debit_asset_code,
        quote.debit_asset_scale,
        spent_debit + i128::from(quote.debit_value),
    ) || !within(
        &limits.receive_amount,
        &quote.receive_asset_code,
        quote.receive_asset_scale,
        spent_receive + i128::from(quote.receive_value),
    ) {
        return Err(unauthorized());
    }
    let payment = outgoing_payment::ActiveModel {
        id: Set(quote.id),
        account: Set(payer.name.clone()),
        client: Set(caller.grant.client.clone()),
        grant_id: Set(caller.grant.id),
        receiver: Set(quote.receiver.clone()),
        debit_value: Set(quote.debit_value),
        debit_asset_code: Set(quote.debit_asset_code.clone()),
        debit_asset_scale: Set(quote.debit_asset_scale),
        receive_value: Set(quote.receive_value),
        receive_asset_code: Set(quote.receive_asset_code.clone()),
        receive_asset_scale: Set(quote.receive_asset_scale),
        sent_value: Set(0),
        state: Set(payment_states::FUNDING.into()),
        failure: Set(None),
        metadata: Set(request.metadata),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|err| match err.sql_err() {
        // Another process paid this quote first.
        Some(SqlErr::UniqueConstraintViolation(_)) => invalid_quote(),
        _ => RsError::from(err),
    })?;
    txn.commit().await?;

    let settling = Arc::clone(&state);
    tokio::spawn(async move {
        if let Err(err) = settle(&settling, quote.id).await {
            tracing::error!(error = %err, payment = %quote.id, "sandbox settlement failed; retried on next read or restart");
        }
    });
    if state.switches.lose_outgoing_payment_answers {
        return Err(RsError::internal(
            &"the sandbox is set to lose the answer to every created outgoing payment",
        ));
    }

    let mut view = outgoing_view(&state, &payment);
    if let Some(object) = view.as_object_mut() {
        object.insert(
            "grantSpentDebitAmount".into(),
            json!(amount(
                i64::try_from(spent_debit).unwrap_or(i64::MAX),
                &quote.debit_asset_code,
                quote.debit_asset_scale
            )),
        );
        object.insert(
            "grantSpentReceiveAmount".into(),
            json!(amount(
                i64::try_from(spent_receive).unwrap_or(i64::MAX),
                &quote.receive_asset_code,
                quote.receive_asset_scale
            )),
        );
    }
    Ok(created(view))
}

/// The payments of `grant` that count against its limits: not failed, and created in
/// `window` when it has one.
async fn spent_under(
    db: &impl ConnectionTrait,
    grant: Uuid,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<Vec<outgoing_payment::Model>, RsError> {
    let mut query = outgoing_payment::Entity::find()
        .filter(outgoing_payment::Column::GrantId.eq(grant))
        .filter(outgoing_payment::Column::State.ne(payment_states::FAILED));
    if let Some((from, to)) = window {
        query = query
            .filter(outgoing_payment::Column::CreatedAt.gte(from))
            .filter(outgoing_payment::Column::CreatedAt.lt(to));
    }
    Ok(query.all(db).await?)
}

/// `GET {rs}/outgoing-payment-grant`: what the caller's outgoing-payment grant has spent, as
/// Rafiki answers it: in the current interval when the grant has one (`null`s before its start
/// or after its last repetition, zero in a new interval), over the grant's life otherwise, and
/// `null`s before the first payment.
pub(crate) async fn grant_spent_amounts(
    StateExtractor(state): StateExtractor<Arc<State>>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let caller = authenticate(&state, &incoming).await?;
    let limits = caller
        .access
        .iter()
        .find_map(|item| match item {
            Access::OutgoingPayment {
                actions, limits, ..
            } if actions.contains(&AccessAction::Create) => {
                Some(limits.clone().unwrap_or_default())
            }
            _ => None,
        })
        .ok_or_else(RsError::insufficient_grant)?;
    let nothing = || Json(json!({"spentDebitAmount": null, "spentReceiveAmount": null}));
    let now = state.clock.now();
    let window = match &limits.interval {
        Some(text) => match text
            .parse::<RepeatingInterval>()
            .ok()
            .and_then(|interval| interval.containing(now))
        {
            Some(window) => Some(window),
            None => return Ok(nothing().into_response()),
        },
        None => None,
    };
    let all = spent_under(&state.db, caller.grant.id, None).await?;
    let Some(latest) = all.iter().max_by_key(|p| p.created_at) else {
        return Ok(nothing().into_response());
    };
    let counted: Vec<_> = all
        .iter()
        .filter(|p| window.is_none_or(|(from, to)| (from..to).contains(&p.created_at)))
        .collect();
    let sum = |value: fn(&outgoing_payment::Model) -> i64| {
        counted.iter().map(|p| i128::from(value(p))).sum::<i128>()
    };
    let debit = i64::try_from(sum(|p| p.debit_value)).unwrap_or(i64::MAX);
    let receive = i64::try_from(sum(|p| p.receive_value)).unwrap_or(i64::MAX);
    Ok(Json(json!({
        "spentDebitAmount": amount(debit, &latest.debit_asset_code, latest.debit_asset_scale),
        "spentReceiveAmount": amount(receive, &latest.receive_asset_code, latest.receive_asset_scale),
    }))
    .into_response())
}

/// `GET {rs}/outgoing-payments/{id}`.
pub(crate) async fn get_outgoing_payment(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let caller = authenticate(&state, &incoming).await?;
    let missing = || RsError::not_found("Outgoing payment does not exist");
    let id = Uuid::parse_str(&id).map_err(|_| missing())?;
    let mut payment = outgoing_payment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(missing)?;
    let permission = caller.permission(
        Kind::OutgoingPayment,
        AccessAction::Read,
        &state.wallet_url(&payment.account),
    )?;
    if !caller.sees(&permission, &payment.client) {
        return Err(missing());
    }
    if payment.state == payment_states::FUNDING {
        settle(&state, payment.id).await?;
        payment = outgoing_payment::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .ok_or_else(missing)?;
    }
    Ok(Json(outgoing_view(&state, &payment)).into_response())
}

/// `GET {rs}/outgoing-payments?wallet-address=…`.
pub(crate) async fn list_outgoing_payments(
    StateExtractor(state): StateExtractor<Arc<State>>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let page = PageRequest::parse(&incoming)?;
    let caller = authenticate(&state, &incoming).await?;
    let permission = caller.permission(Kind::OutgoingPayment, AccessAction::List, &page.wallet)?;
    let account = account_for(&state, &page.wallet).await?;
    let rows = outgoing_payment::Entity::find()
        .filter(outgoing_payment::Column::Account.eq(account.name))
        .order_by_asc(outgoing_payment::Column::CreatedAt)
        .order_by_asc(outgoing_payment::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|p| caller.sees(&permission, &p.client))
        .collect::<Vec<_>>();
    page.respond(&rows, |p| p.id, |p| outgoing_view(&state, p))
}
