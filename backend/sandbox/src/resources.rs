//! The resource server: incoming payments, quotes and outgoing payments, each call
//! authenticated by an access token bound to its grant and client and by the client's HTTP
//! signature, and outgoing payments that really move balances.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set, SqlErr,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shifting_open_payments::types::{AccessAction, Amount};
use uuid::Uuid;

use crate::State;
use crate::access::{Access, Kind, Permission, permits};
use crate::auth::{after, hash, states};
use crate::error::RsError;
use crate::money::{Asset, Rounding, convert};
use crate::signed::{self, Incoming, SignatureFailure};
use crate::store::{
    access_token, account, begin_write, grant, incoming_payment, outgoing_payment, quote,
};

/// The longest an incoming payment may stay open (Rafiki: 30 days).
const MAX_INCOMING_PAYMENT_LIFETIME: chrono::Duration = chrono::Duration::days(30);

/// Outgoing payment states.
mod payment_states {
    pub(super) const FUNDING: &str = "funding";
    pub(super) const COMPLETED: &str = "completed";
    pub(super) const FAILED: &str = "failed";
}

/// An authenticated resource-server call.
#[derive(Debug)]
struct Caller {
    grant: grant::Model,
    access: Vec<Access>,
}

impl Caller {
    fn permission(
        &self,
        kind: Kind,
        action: AccessAction,
        wallet: &str,
    ) -> Result<Permission<'_>, RsError> {
        permits(&self.access, kind, action, wallet).ok_or_else(RsError::insufficient_grant)
    }

    /// Whether a resource created by `client` is visible under `permission`.
    fn sees(&self, permission: &Permission<'_>, client: &str) -> bool {
        permission.all || self.grant.client == client
    }
}

/// Checks the token (active, of a finalised grant) and then the client's signature, in
/// Rafiki's order: a bogus token is 403 even unsigned; a good token unsigned is 401.
async fn authenticate(state: &Arc<State>, incoming: &Incoming) -> Result<Caller, RsError> {
    let as_uri = state.auth_server();
    let Some(value) = incoming.gnap_token() else {
        return Err(
            RsError::unauthorized("Missing or invalid authorization header value")
                .with_as_uri(&as_uri),
        );
    };
    let now = Utc::now();
    let token = access_token::Entity::find()
        .filter(access_token::Column::ValueHash.eq(hash(value)))
        .one(&state.db)
        .await?
        .filter(|t| t.revoked_at.is_none() && t.expires_at > now)
        .ok_or_else(|| RsError::inactive_token().with_as_uri(&as_uri))?;
    let grant = grant::Entity::find_by_id(token.grant_id)
        .one(&state.db)
        .await?
        .filter(|g| g.state == states::FINALIZED)
        .ok_or_else(|| RsError::inactive_token().with_as_uri(&as_uri))?;
    if let Err(failure) = signed::verify(state, incoming, &grant.client).await {
        let (reason, details) = match &failure {
            SignatureFailure::Headers(_) => ("missing keyId in signature input", json!({})),
            SignatureFailure::KeysUnavailable(_) => ("could not retrieve client keys", json!({})),
            SignatureFailure::UnknownKey(kid) => (
                "could not find key in list of client keys",
                json!({ "keyIdInSignature": kid }),
            ),
            SignatureFailure::Invalid(_) => ("provided signature is invalid", json!({})),
        };
        tracing::info!(client = %grant.client, ?failure, "resource request signature refused");
        let mut error = RsError::unauthorized(format!("Signature validation error: {reason}"))
            .with_as_uri(&as_uri);
        if details.as_object().is_some_and(|d| !d.is_empty()) {
            error = error.with_details(details);
        }
        return Err(error);
    }
    let access = serde_json::from_value(grant.access.clone()).map_err(|e| RsError::internal(&e))?;
    Ok(Caller { grant, access })
}

/// Decodes a request body strictly, as Rafiki's OpenAPI validator does.
fn body<T: DeserializeOwned>(incoming: &Incoming) -> Result<T, RsError> {
    incoming.json().map_err(|e| {
        RsError::bad_request(format!(
            "Received error validating OpenAPI request: body: {e}"
        ))
    })
}

async fn account_for(state: &State, wallet: &str) -> Result<account::Model, RsError> {
    let unknown = || {
        RsError::bad_request("Could not get wallet address")
            .with_details(json!({ "walletAddressUrl": wallet }))
    };
    let name = state.account_name(wallet).ok_or_else(unknown)?;
    account::Entity::find_by_id(name)
        .one(&state.db)
        .await?
        .ok_or_else(unknown)
}

fn amount(value: i64, code: &str, scale: i32) -> Amount {
    Amount {
        value: u64::try_from(value).unwrap_or(0),
        asset_code: code.to_owned(),
        asset_scale: u8::try_from(scale).unwrap_or(0),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn created(value: Value) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

// ---------------------------------------------------------------- incoming payments

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
    let now = Utc::now();
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
        .filter(incoming_payment::Column::ExpiresAt.gt(Utc::now()))
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

// ---------------------------------------------------------------- quotes

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
    let now = Utc::now();
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

// ---------------------------------------------------------------- outgoing payments

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
    let now = Utc::now();
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
    let spent = outgoing_payment::Entity::find()
        .filter(outgoing_payment::Column::GrantId.eq(caller.grant.id))
        .filter(outgoing_payment::Column::State.ne(payment_states::FAILED))
        .all(&txn)
        .await?;
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

// ---------------------------------------------------------------- settlement

/// Moves the money of a `funding` outgoing payment, all or nothing: the payer is debited, the
/// receiving account credited and the incoming payment's `receivedAmount` raised (completed
/// when it reaches `incomingAmount`). Fails the payment instead when the payer cannot cover
/// it, the receiver no longer accepts money, or the failure switch is on.
///
/// # Errors
/// When the database fails (the payment stays `funding` and is retried).
pub(crate) async fn settle(state: &State, id: Uuid) -> Result<(), DbErr> {
    if state.switches.hold_outgoing_payments {
        return Ok(());
    }
    let txn = begin_write(&state.db).await?;
    let Some(payment) = outgoing_payment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|p| p.state == payment_states::FUNDING)
    else {
        return Ok(());
    };
    let failure = match move_money(state, &txn, &payment).await? {
        None => {
            mark(
                &txn,
                &payment,
                payment_states::COMPLETED,
                payment.debit_value,
                None,
            )
            .await?;
            txn.commit().await?;
            None
        }
        Some(reason) => {
            // Undo whatever moved, then record the failure on its own.
            txn.rollback().await?;
            let txn = begin_write(&state.db).await?;
            mark(&txn, &payment, payment_states::FAILED, 0, Some(reason)).await?;
            txn.commit().await?;
            Some(reason)
        }
    };
    match failure {
        None => tracing::info!(payment = %id, "sandbox outgoing payment completed"),
        Some(reason) => tracing::info!(payment = %id, reason, "sandbox outgoing payment failed"),
    }
    Ok(())
}

/// Debits the payer and credits the receiver with conditional, relative updates; says why
/// not when one of them does not apply.
async fn move_money(
    state: &State,
    txn: &DatabaseTransaction,
    payment: &outgoing_payment::Model,
) -> Result<Option<&'static str>, DbErr> {
    if state.switches.fail_outgoing_payments {
        return Ok(Some("the sandbox is set to fail every outgoing payment"));
    }
    let receiver = match state.resource_id("incoming-payments", &payment.receiver) {
        Some(rid) => incoming_payment::Entity::find_by_id(rid).one(txn).await?,
        None => None,
    };
    let Some(receiver) = receiver else {
        return Ok(Some("the receiver does not exist"));
    };
    let debited = account::Entity::update_many()
        .col_expr(
            account::Column::Balance,
            Expr::col(account::Column::Balance).sub(payment.debit_value),
        )
        .filter(account::Column::Name.eq(&payment.account))
        .filter(account::Column::Balance.gte(payment.debit_value))
        .exec(txn)
        .await?;
    if debited.rows_affected != 1 {
        return Ok(Some("insufficient funds"));
    }
    // Accepted only while open and not beyond the expected amount.
    let room = Expr::col(incoming_payment::Column::IncomingValue)
        .sub(Expr::col(incoming_payment::Column::ReceivedValue));
    let credited = incoming_payment::Entity::update_many()
        .col_expr(
            incoming_payment::Column::ReceivedValue,
            Expr::col(incoming_payment::Column::ReceivedValue).add(payment.receive_value),
        )
        .filter(incoming_payment::Column::Id.eq(receiver.id))
        .filter(incoming_payment::Column::Completed.eq(false))
        .filter(incoming_payment::Column::ExpiresAt.gt(Utc::now()))
        .filter(
            Condition::any()
                .add(incoming_payment::Column::IncomingValue.is_null())
                .add(room.gte(payment.receive_value)),
        )
        .exec(txn)
        .await?;
    if credited.rows_affected != 1 {
        return Ok(Some("the receiver no longer accepts this payment"));
    }
    incoming_payment::Entity::update_many()
        .col_expr(incoming_payment::Column::Completed, Expr::value(true))
        .filter(incoming_payment::Column::Id.eq(receiver.id))
        .filter(incoming_payment::Column::IncomingValue.is_not_null())
        .filter(
            Expr::col(incoming_payment::Column::ReceivedValue)
                .gte(Expr::col(incoming_payment::Column::IncomingValue)),
        )
        .exec(txn)
        .await?;
    let credited_account = account::Entity::update_many()
        .col_expr(
            account::Column::Balance,
            Expr::col(account::Column::Balance).add(payment.receive_value),
        )
        .filter(account::Column::Name.eq(&receiver.account))
        .filter(account::Column::Balance.lte(i64::MAX - payment.receive_value))
        .exec(txn)
        .await?;
    if credited_account.rows_affected != 1 {
        return Ok(Some("the receiving account cannot hold this amount"));
    }
    Ok(None)
}

async fn mark(
    txn: &DatabaseTransaction,
    payment: &outgoing_payment::Model,
    state: &str,
    sent: i64,
    failure: Option<&str>,
) -> Result<(), DbErr> {
    outgoing_payment::Entity::update_many()
        .col_expr(outgoing_payment::Column::State, Expr::value(state))
        .col_expr(outgoing_payment::Column::SentValue, Expr::value(sent))
        .col_expr(
            outgoing_payment::Column::Failure,
            Expr::value(failure.map(str::to_owned)),
        )
        .filter(outgoing_payment::Column::Id.eq(payment.id))
        .filter(outgoing_payment::Column::State.eq(payment_states::FUNDING))
        .exec(txn)
        .await?;
    Ok(())
}

/// Settles what a previous run left in flight.
pub(crate) async fn settle_all_pending(state: &State) -> Result<(), DbErr> {
    let pending = outgoing_payment::Entity::find()
        .filter(outgoing_payment::Column::State.eq(payment_states::FUNDING))
        .all(&state.db)
        .await?;
    for payment in pending {
        settle(state, payment.id).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- pagination

/// `wallet-address`, `first`/`last` (1–100) and `cursor` of a list request (§6.4).
#[derive(Debug)]
struct PageRequest {
    wallet: String,
    first: Option<usize>,
    last: Option<usize>,
    cursor: Option<Uuid>,
}

impl PageRequest {
    fn parse(incoming: &Incoming) -> Result<Self, RsError> {
        let query = incoming
            .path_and_query
            .split_once('?')
            .map_or("", |(_, q)| q);
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let invalid = |what: &str| {
            RsError::bad_request(format!("Received error validating OpenAPI request: {what}"))
        };
        let wallet = params
            .get("wallet-address")
            .cloned()
            .ok_or_else(|| invalid("query parameter wallet-address is required"))?;
        let count = |name: &str| -> Result<Option<usize>, RsError> {
            params
                .get(name)
                .map(|v| {
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| (1..=100).contains(n))
                        .ok_or_else(|| invalid(&format!("{name} must be between 1 and 100")))
                })
                .transpose()
        };
        let first = count("first")?;
        let last = count("last")?;
        let cursor = params
            .get("cursor")
            .map(|c| Uuid::parse_str(c).map_err(|_| invalid("cursor must be a resource id")))
            .transpose()?;
        if first.is_some() && last.is_some() {
            return Err(invalid("first and last are mutually exclusive"));
        }
        if last.is_some() && cursor.is_none() {
            return Err(invalid("last needs a cursor"));
        }
        Ok(Self {
            wallet,
            first,
            last,
            cursor,
        })
    }

    /// The list response for `rows` (oldest first): this page's items and its pagination.
    fn respond<T>(
        &self,
        rows: &[T],
        id: impl Fn(&T) -> Uuid,
        view: impl Fn(&T) -> Value,
    ) -> Result<Response, RsError> {
        let ids: Vec<Uuid> = rows.iter().map(id).collect();
        let (range, info) = self.select(&ids)?;
        let result: Vec<Value> = rows[range].iter().map(view).collect();
        Ok(Json(json!({ "pagination": info, "result": result })).into_response())
    }

    /// Which slice of `ids` (oldest first) this page is, and its pagination object.
    fn select(&self, ids: &[Uuid]) -> Result<(std::ops::Range<usize>, Value), RsError> {
        let position = |cursor: Uuid| {
            ids.iter()
                .position(|id| *id == cursor)
                .ok_or_else(|| RsError::bad_request("invalid cursor"))
        };
        let range = match (self.last, self.cursor) {
            (Some(last), Some(cursor)) => {
                let end = position(cursor)?;
                end.saturating_sub(last)..end
            }
            (_, cursor) => {
                let start = match cursor {
                    Some(cursor) => position(cursor)? + 1,
                    None => 0,
                };
                let first = self.first.unwrap_or(20);
                start..(start + first).min(ids.len())
            }
        };
        let mut info = serde_json::Map::new();
        if !range.is_empty() {
            info.insert("startCursor".into(), json!(ids[range.start].to_string()));
            info.insert("endCursor".into(), json!(ids[range.end - 1].to_string()));
        }
        info.insert("hasNextPage".into(), json!(range.end < ids.len()));
        info.insert("hasPreviousPage".into(), json!(range.start > 0));
        let info = Value::Object(info);
        Ok((range, info))
    }
}
