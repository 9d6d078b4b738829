//! The resource server: incoming payments, quotes and outgoing payments, each call
//! authenticated by an access token bound to its grant and client and by the client's HTTP
//! signature, and outgoing payments that really move balances.
//!
//! One module per resource; this one holds what they share: authenticating a call, decoding its
//! body, and the views' amounts and timestamps.

mod incoming;
mod outgoing;
mod pagination;
mod quotes;
mod settlement;

pub(crate) use incoming::{
    complete_incoming_payment, create_incoming_payment, get_incoming_payment,
    list_incoming_payments,
};
pub(crate) use outgoing::{
    create_outgoing_payment, get_outgoing_payment, grant_spent_amounts, list_outgoing_payments,
};
pub(crate) use quotes::{create_quote, get_quote};
pub(crate) use settlement::settle_all_pending;

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shifting_open_payments::types::{AccessAction, Amount};

use crate::State;
use crate::access::{Access, Kind, Permission, permits};
use crate::auth::{hash, states};
use crate::error::RsError;
use crate::signed::{self, Incoming, SignatureFailure};
use crate::store::{access_token, account, grant};

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
    let now = state.clock.now();
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
