//! Incoming payments: created on the receiver's wallet, read (publicly without a token),
//! completed, and listed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use serde_json::{Value, json};
use shifting_open_payments::types::{AccessAction, Amount};
use uuid::Uuid;

use crate::State;
use crate::access::Kind;
use crate::error::RsError;
use crate::signed::Incoming;
use crate::store::incoming_payment;

use super::pagination::PageRequest;
use super::{
    MAX_INCOMING_PAYMENT_LIFETIME, account_for, amount, authenticate, body, created, timestamp,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateIncomingPayment {
    wallet_address: String,
    #[serde(default)]
    incoming_amount: Option<Amount>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    metadata: Option<Value>,
}

fn incoming_view(state: &State, p: &incoming_payment::Model, with_methods: bool) -> Value {
    let mut view = json!({
        "id": state.resource_url("incoming-payments", p.id),
        "walletAddress": state.wallet_url(&p.account),
        "receivedAmount": amount(p.received_value, &p.asset_code, p.asset_scale),
        "completed": p.completed,
        "expiresAt": timestamp(p.expires_at),
        "createdAt": timestamp(p.created_at),
    });
    if let Some(object) = view.as_object_mut() {
        if let Some(value) = p.incoming_value {
            object.insert(
                "incomingAmount".into(),
                json!(amount(value, &p.asset_code, p.asset_scale)),
            );
        }
        if let Some(metadata) = &p.metadata {
            object.insert("metadata".into(), metadata.clone());
        }
        if with_methods {
            // The sandbox settles internally; it offers no ILP STREAM credentials.
            object.insert("methods".into(), json!([]));
        }
    }
    view
}

/// `POST {rs}/incoming-payments`.
pub(crate) async fn create_incoming_payment(
    StateExtractor(state): StateExtractor<Arc<State>>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let request: CreateIncomingPayment = body(&incoming)?;
    let caller = authenticate(&state, &incoming).await?;
    caller.permission(
        Kind::IncomingPayment,
        AccessAction::Create,
        &request.wallet_address,
    )?;
    let account = account_for(&state, &request.wallet_address).await?;
    let incoming_value = match &request.incoming_amount {
        None => None,
        Some(a)
            if a.asset_code == account.asset_code
                && i32::from(a.asset_scale) == account.asset_scale
                && a.value > 0 =>
        {
            Some(i64::try_from(a.value).map_err(|_| RsError::bad_request("invalid amount"))?)
        }
        Some(_) => return Err(RsError::bad_request("invalid amount")),
    };
    let now = state.clock.now();
    let expires_at = match request.expires_at {
        None => now + MAX_INCOMING_PAYMENT_LIFETIME,
        Some(at) if at > now && at <= now + MAX_INCOMING_PAYMENT_LIFETIME => at,
        Some(_) => return Err(RsError::bad_request("invalid expiresAt")),
    };
    if request.metadata.as_ref().is_some_and(|m| !m.is_object()) {
        return Err(RsError::bad_request(
            "Received error validating OpenAPI request: metadata must be an object",
        ));
    }
    let payment = incoming_payment::ActiveModel {
        id: Set(Uuid::new_v4()),
        account: Set(account.name.clone()),
        client: Set(caller.grant.client.clone()),
        incoming_value: Set(incoming_value),
        received_value: Set(0),
        asset_code: Set(account.asset_code.clone()),
        asset_scale: Set(account.asset_scale),
        completed: Set(false),
        expires_at: Set(expires_at),
        metadata: Set(request.metadata),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(created(incoming_view(&state, &payment, true)))
}

async fn find_incoming(state: &State, id: &str) -> Result<incoming_payment::Model, RsError> {
    let missing = || RsError::not_found("Incoming payment does not exist");
    let id = Uuid::parse_str(id).map_err(|_| missing())?;
    incoming_payment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(missing)
}

/// `GET {rs}/incoming-payments/{id}`: the full view with a token, the public view without.
pub(crate) async fn get_incoming_payment(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    if !incoming.has_authorization() {
        let payment = find_incoming(&state, &id).await?;
        return Ok(Json(json!({
            "receivedAmount": amount(payment.received_value, &payment.asset_code, payment.asset_scale),
            "authServer": state.auth_server(),
        }))
        .into_response());
    }
    let caller = authenticate(&state, &incoming).await?;
    let payment = find_incoming(&state, &id).await?;
    let permission = caller.permission(
        Kind::IncomingPayment,
        AccessAction::Read,
        &state.wallet_url(&payment.account),
    )?;
    if !caller.sees(&permission, &payment.client) {
        return Err(RsError::not_found("Incoming payment does not exist"));
    }
    Ok(Json(incoming_view(&state, &payment, true)).into_response())
}

/// `POST {rs}/incoming-payments/{id}/complete`: stop accepting money.
pub(crate) async fn complete_incoming_payment(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let caller = authenticate(&state, &incoming).await?;
    let payment = find_incoming(&state, &id).await?;
    let permission = caller.permission(
        Kind::IncomingPayment,
        AccessAction::Complete,
        &state.wallet_url(&payment.account),
    )?;
    if !caller.sees(&permission, &payment.client) {
        return Err(RsError::not_found("Incoming payment does not exist"));
    }
    let updated = incoming_payment::Entity::update_many()
        .col_expr(incoming_payment::Column::Completed, Expr::value(true))
        .filter(incoming_payment::Column::Id.eq(payment.id))
        .filter(incoming_payment::Column::Completed.eq(false))
        .filter(incoming_payment::Column::ExpiresAt.gt(state.clock.now()))
        .exec(&state.db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(RsError::new(StatusCode::CONFLICT, "wrong state"));
    }
    let payment = incoming_payment::Model {
        completed: true,
        ..payment
    };
    Ok(Json(incoming_view(&state, &payment, false)).into_response())
}

/// `GET {rs}/incoming-payments?wallet-address=…`.
pub(crate) async fn list_incoming_payments(
    StateExtractor(state): StateExtractor<Arc<State>>,
    incoming: Incoming,
) -> Result<Response, RsError> {
    let page = PageRequest::parse(&incoming)?;
    let caller = authenticate(&state, &incoming).await?;
    let permission = caller.permission(Kind::IncomingPayment, AccessAction::List, &page.wallet)?;
    let account = account_for(&state, &page.wallet).await?;
    let rows = incoming_payment::Entity::find()
        .filter(incoming_payment::Column::Account.eq(account.name))
        .order_by_asc(incoming_payment::Column::CreatedAt)
        .order_by_asc(incoming_payment::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|p| caller.sees(&permission, &p.client))
        .collect::<Vec<_>>();
    page.respond(&rows, |p| p.id, |p| incoming_view(&state, p, false))
}
