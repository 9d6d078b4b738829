//! The GNAP authorization server: grant requests validated as Rafiki validates them,
//! continuation with `wait` and `too_fast`, cancel, token rotation and revocation.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use ring::digest::{SHA256, digest};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::State;
use crate::access::Access;
use crate::error::AsError;
use crate::signed::{self, Incoming, SignatureFailure};
use crate::store::{access_token, grant};

/// Grant states.
pub(crate) mod states {
    /// Waiting for the user.
    pub(crate) const PENDING: &str = "pending";
    /// The user approved; the client has not continued yet.
    pub(crate) const APPROVED: &str = "approved";
    /// The user declined.
    pub(crate) const REJECTED: &str = "rejected";
    /// Tokens issued (non-interactive grants start here).
    pub(crate) const FINALIZED: &str = "finalized";
    /// Cancelled by the client.
    pub(crate) const REVOKED: &str = "revoked";
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantRequestBody {
    #[serde(default)]
    access_token: Option<AccessTokenRequest>,
    client: ClientField,
    #[serde(default)]
    interact: Option<InteractBody>,
    #[serde(default)]
    subject: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectBody {
    sub_ids: Vec<SubjectIdBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectIdBody {
    id: String,
    format: String,
}

/// The wallet address a `subject` grant asks to prove, checked as Rafiki checks it: one
/// identifier (the spec's `maxItems: 1`), of format `uri`, that is a URL. Whether the wallet is
/// held here is for the consent page to find out, as on Rafiki.
fn subject_wallet(subject: Value) -> Result<String, AsError> {
    let subject: SubjectBody =
        serde_json::from_value(subject).map_err(|e| AsError::validation(e.to_string()))?;
    let [one] = subject.sub_ids.as_slice() else {
        return Err(AsError::invalid_request(
            "subject.sub_ids must hold exactly one identifier",
        ));
    };
    if one.format != "uri" {
        return Err(AsError::invalid_request(
            "subject.sub_ids[0].format must be \"uri\"",
        ));
    }
    match url::Url::parse(&one.id) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(one.id.clone())
        }
        _ => Err(AsError::invalid_request(
            "subject.sub_ids[0].id must be a wallet address URL",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ClientField {
    Url(String),
    Object(ClientObject),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClientObject {
    #[serde(default)]
    wallet_address: Option<String>,
    #[serde(default)]
    jwk: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessTokenRequest {
    access: Vec<Access>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InteractBody {
    start: Vec<String>,
    #[serde(default)]
    finish: Option<FinishBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    method: String,
    uri: String,
    nonce: String,
}

/// `POST {base}/auth`: a grant request.
pub(crate) async fn request_grant(
    StateExtractor(state): StateExtractor<Arc<State>>,
    incoming: Incoming,
) -> Result<Response, AsError> {
    let body: GrantRequestBody = incoming.json().map_err(AsError::validation)?;
    let client = match &body.client {
        ClientField::Url(url) => url.clone(),
        ClientField::Object(ClientObject {
            wallet_address: Some(url),
            jwk: None,
        }) => url.clone(),
        ClientField::Object(ClientObject { jwk: Some(_), .. }) => {
            return Err(AsError::invalid_request(
                "directed identity (client.jwk) is not supported by the sandbox; send the client wallet address",
            ));
        }
        ClientField::Object(_) => {
            return Err(AsError::invalid_request(
                "missing required request field 'client'",
            ));
        }
    };
    let client_wallet = signed::fetch_wallet_address(&state, &client)
        .await
        .map_err(|cause| {
            tracing::info!(%client, %cause, "grant refused: client wallet address unresolvable");
            AsError::invalid_client(StatusCode::BAD_REQUEST, "could not determine client")
        })?;
    check_signature(&state, &incoming, &client_wallet.id).await?;

    if body.subject.is_some() && state.switches.no_subject_grants {
        // What a provider from before `subject` grants answers: the body does not validate.
        return Err(AsError::validation(
            "must NOT have additional properties (subject)".into(),
        ));
    }
    let subject = body.subject.map(subject_wallet).transpose()?;
    let access = match (body.access_token, &subject) {
        (Some(request), _) => {
            validate_access(&state, &request.access)?;
            request.access
        }
        (None, Some(_)) => Vec::new(),
        (None, None) => {
            return Err(AsError::invalid_request("subject or access_token required"));
        }
    };
    // Every subject grant needs the owner's interaction, as on Rafiki.
    let interactive = subject.is_some() || access.iter().any(Access::needs_interaction);
    let now = state.clock.now();
    let continue_token = random_token();
    let id = Uuid::new_v4();
    let access_json = serde_json::to_value(&access).map_err(|e| AsError::internal(&e))?;
    let mut row = grant::ActiveModel {
        id: Set(id),
        client: Set(client_wallet.id.clone()),
        client_name: Set(client_wallet
            .public_name
            .clone()
            .unwrap_or_else(|| client_wallet.id.clone())),
        access: Set(access_json.clone()),
        state: Set(states::FINALIZED.into()),
        continue_token_hash: Set(hash(&continue_token)),
        wait_secs: Set(0),
        finish_uri: Set(None),
        client_nonce: Set(None),
        interact_id: Set(None),
        interact_nonce: Set(None),
        interact_ref: Set(None),
        session_hash: Set(None),
        created_at: Set(now),
        interaction_expires_at: Set(None),
        subject: Set(subject),
        signed_in_hash: Set(None),
        sign_in_failures: Set(0),
    };

    if !interactive {
        let txn = crate::store::begin_write(&state.db).await?;
        row.insert(&txn).await?;
        let token = issue_token(&state, &txn, id, now).await?;
        txn.commit().await?;
        return Ok(Json(json!({
            "access_token": token.to_json(&state, access_json),
            "continue": {
                "access_token": {"value": continue_token},
                "uri": state.continue_url(id),
            },
        }))
        .into_response());
    }

    let Some(interact) = body.interact else {
        return Err(AsError::invalid_request(
            "missing required request field 'interact'",
        ));
    };
    if client_wallet.public_name.is_none() {
        // Rafiki's (misleading) answer when the client has no publicName (§0.7).
        return Err(AsError::invalid_client(
            StatusCode::BAD_REQUEST,
            "missing required request field 'client'",
        ));
    }
    if !interact.start.iter().any(|s| s == "redirect") {
        return Err(AsError::invalid_request(
            "the sandbox supports only the \"redirect\" interaction start method",
        ));
    }
    let Some(finish) = interact.finish else {
        return Err(AsError::invalid_request(
            "the sandbox needs interact.finish (method \"redirect\"); polling is not supported",
        ));
    };
    if finish.method != "redirect" {
        return Err(AsError::invalid_request(
            "the sandbox supports only the \"redirect\" finish method",
        ));
    }
    match url::Url::parse(&finish.uri) {
        Ok(uri) if matches!(uri.scheme(), "http" | "https") && uri.host().is_some() => {}
        _ => {
            return Err(AsError::invalid_request(
                "interact.finish.uri must be an absolute http(s) URL",
            ));
        }
    }
    if finish.nonce.is_empty() {
        return Err(AsError::invalid_request(
            "interact.finish.nonce must not be empty",
        ));
    }
    let interact_id = Uuid::new_v4();
    let interact_nonce = random_hex(8);
    let wait = i64::try_from(state.timings.wait.as_secs()).unwrap_or(i64::MAX);
    row.state = Set(states::PENDING.into());
    row.wait_secs = Set(wait);
    row.finish_uri = Set(Some(finish.uri));
    row.client_nonce = Set(Some(finish.nonce));
    row.interact_id = Set(Some(interact_id));
    row.interact_nonce = Set(Some(interact_nonce.clone()));
    row.interaction_expires_at = Set(Some(after(now, state.timings.interaction_lifetime)));
    // Rafiki starts the `wait` window when it stores the grant, after fetching the client's
    // keys: after the request arrived, just before the answer leaves.
    if !state.switches.grant_store_delay.is_zero() {
        state.clock.sleep(state.switches.grant_store_delay).await;
    }
    row.created_at = Set(state.clock.now());
    row.insert(&state.db).await?;

    let mut redirect = url::Url::parse(&state.interact_url(interact_id, &interact_nonce))
        .map_err(|e| AsError::internal(&e))?;
    redirect
        .query_pairs_mut()
        .append_pair(
            "clientName",
            client_wallet
                .public_name
                .as_deref()
                .unwrap_or(&client_wallet.id),
        )
        .append_pair("clientUri", &client_wallet.id);
    Ok(Json(json!({
        "interact": {"redirect": redirect.as_str(), "finish": interact_nonce},
        "continue": {
            "access_token": {"value": continue_token},
            "uri": state.continue_url(id),
            "wait": wait,
        },
    }))
    .into_response())
}

/// Rafiki's rules for access items (OPEN-PAYMENTS.md §3.1).
fn validate_access(state: &State, access: &[Access]) -> Result<(), AsError> {
    if access.is_empty() {
        return Err(AsError::invalid_request(
            "access_token.access must list at least one access item",
        ));
    }
    for item in access {
        if item.actions().is_empty() {
            return Err(AsError::invalid_request(
                "every access item needs at least one action",
            ));
        }
        if item.needs_interaction() && item.identifier().is_none() {
            return Err(AsError::invalid_request("access identifier required"));
        }
        if let Access::OutgoingPayment {
            identifier: Some(identifier),
            limits,
            ..
        } = item
        {
            if state.account_name(identifier).is_none() {
                return Err(AsError::invalid_request(
                    "access identifier is not a wallet address of this sandbox",
                ));
            }
            if let Some(limits) = limits
                && limits.debit_amount.is_some()
                && limits.receive_amount.is_some()
            {
                return Err(AsError::invalid_request("only one access amount allowed"));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContinueBody {
    #[serde(default)]
    interact_ref: Option<String>,
}

/// `POST {base}/auth/continue/{id}`: continue a grant after the interaction.
pub(crate) async fn continue_grant(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, AsError> {
    let grant = authenticate_continuation(&state, &id, &incoming).await?;
    let body: ContinueBody = incoming.json().map_err(AsError::validation)?;
    let Some(interact_ref) = body.interact_ref else {
        return Err(AsError::request_denied("grant cannot be polled"));
    };
    let now = state.clock.now();
    let wait = std::time::Duration::from_secs(u64::try_from(grant.wait_secs).unwrap_or(0));
    // As Rafiki: the window counts from when the grant was stored, and a refusal does not
    // restart it.
    if now < after(grant.created_at, wait) {
        state
            .too_fast_refusals
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(AsError::too_fast());
    }
    if grant.interact_ref.as_deref() != Some(interact_ref.as_str())
        || grant.state == states::REJECTED
    {
        return Err(AsError::grant_not_found());
    }
    if grant.state != states::APPROVED {
        return Err(AsError::request_denied("grant interaction not approved"));
    }
    let txn = crate::store::begin_write(&state.db).await?;
    let finalized = grant::Entity::update_many()
        .col_expr(grant::Column::State, Expr::value(states::FINALIZED))
        .filter(grant::Column::Id.eq(grant.id))
        .filter(grant::Column::State.eq(states::APPROVED))
        .exec(&txn)
        .await?;
    if finalized.rows_affected != 1 {
        // A concurrent continuation won.
        return Err(AsError::request_denied("grant interaction not approved"));
    }
    let has_access = grant
        .access
        .as_array()
        .is_some_and(|items| !items.is_empty());
    let token = if has_access {
        Some(issue_token(&state, &txn, grant.id, now).await?)
    } else {
        None
    };
    txn.commit().await?;
    let continue_token = incoming.gnap_token().unwrap_or_default();
    let mut answer = json!({
        "continue": {
            "access_token": {"value": continue_token},
            "uri": state.continue_url(grant.id),
        },
    });
    if let Some(token) = token {
        answer["access_token"] = token.to_json(&state, grant.access);
    }
    // A subject grant answers the proven subject, and no token when it asked for no access.
    if let Some(subject) = &grant.subject {
        answer["subject"] = json!({"sub_ids": [{"id": subject, "format": "uri"}]});
    }
    Ok(Json(answer).into_response())
}

/// `DELETE {base}/auth/continue/{id}`: cancel the grant and revoke its tokens.
pub(crate) async fn cancel_grant(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<StatusCode, AsError> {
    let grant = authenticate_continuation(&state, &id, &incoming).await?;
    let now = state.clock.now();
    let txn = crate::store::begin_write(&state.db).await?;
    grant::Entity::update_many()
        .col_expr(grant::Column::State, Expr::value(states::REVOKED))
        .filter(grant::Column::Id.eq(grant.id))
        .exec(&txn)
        .await?;
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now))
        .filter(access_token::Column::GrantId.eq(grant.id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The grant a continuation request is for, after checking its token and signature.
async fn authenticate_continuation(
    state: &Arc<State>,
    id: &str,
    incoming: &Incoming,
) -> Result<grant::Model, AsError> {
    let token = incoming.gnap_token().ok_or_else(AsError::invalid_grant)?;
    let id = Uuid::parse_str(id).map_err(|_| AsError::invalid_grant())?;
    let grant = grant::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|g| g.continue_token_hash == hash(token) && g.state != states::REVOKED)
        .ok_or_else(AsError::invalid_grant)?;
    check_signature(state, incoming, &grant.client).await?;
    Ok(grant)
}

/// `POST {base}/auth/token/{id}`: rotate an access token (an expired one too, as Rafiki).
pub(crate) async fn rotate_token(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, AsError> {
    let (token, grant) = authenticate_management(&state, &id, &incoming).await?;
    let now = state.clock.now();
    let txn = crate::store::begin_write(&state.db).await?;
    let revoked = access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now))
        .filter(access_token::Column::Id.eq(token.id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if revoked.rows_affected != 1 {
        return Err(invalid_access_token());
    }
    let issued = issue_token(&state, &txn, grant.id, now).await?;
    txn.commit().await?;
    Ok(Json(json!({ "access_token": issued.to_json(&state, grant.access) })).into_response())
}

/// `DELETE {base}/auth/token/{id}`: revoke an access token.
pub(crate) async fn revoke_token(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<StatusCode, AsError> {
    let (token, _) = authenticate_management(&state, &id, &incoming).await?;
    access_token::Entity::update_many()
        .col_expr(
            access_token::Column::RevokedAt,
            Expr::value(state.clock.now()),
        )
        .filter(access_token::Column::Id.eq(token.id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn invalid_access_token() -> AsError {
    AsError::invalid_client(StatusCode::UNAUTHORIZED, "invalid access token")
}

async fn authenticate_management(
    state: &Arc<State>,
    id: &str,
    incoming: &Incoming,
) -> Result<(access_token::Model, grant::Model), AsError> {
    let value = incoming.gnap_token().ok_or_else(invalid_access_token)?;
    let id = Uuid::parse_str(id).map_err(|_| invalid_access_token())?;
    let token = access_token::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|t| t.value_hash == hash(value) && t.revoked_at.is_none())
        .ok_or_else(invalid_access_token)?;
    let grant = grant::Entity::find_by_id(token.grant_id)
        .one(&state.db)
        .await?
        .filter(|g| g.state != states::REVOKED)
        .ok_or_else(invalid_access_token)?;
    check_signature(state, incoming, &grant.client).await?;
    Ok((token, grant))
}

/// The auth server's wording of signature failures (§2.6, §10).
async fn check_signature(
    state: &Arc<State>,
    incoming: &Incoming,
    client: &str,
) -> Result<(), AsError> {
    match signed::verify(state, incoming, client).await {
        Ok(_) => Ok(()),
        Err(SignatureFailure::Headers(cause)) => {
            tracing::info!(%client, %cause, "signature headers refused");
            Err(AsError::invalid_client(
                StatusCode::UNAUTHORIZED,
                "invalid signature headers",
            ))
        }
        Err(SignatureFailure::KeysUnavailable(cause)) => {
            tracing::info!(%client, %cause, "client keys unavailable");
            Err(AsError::invalid_client(
                StatusCode::BAD_REQUEST,
                "could not determine client",
            ))
        }
        Err(SignatureFailure::UnknownKey(kid)) => {
            tracing::info!(%client, %kid, "key id not in the client's JWKS");
            Err(AsError::invalid_client(
                StatusCode::BAD_REQUEST,
                "could not determine client",
            ))
        }
        Err(SignatureFailure::Invalid(cause)) => {
            tracing::info!(%client, %cause, "signature invalid");
            Err(AsError::invalid_client(
                StatusCode::UNAUTHORIZED,
                "invalid signature",
            ))
        }
    }
}

/// A freshly issued access token (the value exists only in this answer).
pub(crate) struct IssuedToken {
    value: String,
    id: Uuid,
    expires_in: u64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("id", &self.id)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl IssuedToken {
    fn to_json(&self, state: &State, access: Value) -> Value {
        json!({
            "value": self.value,
            "manage": state.manage_url(self.id),
            "expires_in": self.expires_in,
            "access": access,
        })
    }
}

async fn issue_token(
    state: &State,
    db: &impl ConnectionTrait,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<IssuedToken, AsError> {
    let value = random_token();
    let id = Uuid::new_v4();
    access_token::ActiveModel {
        id: Set(id),
        grant_id: Set(grant_id),
        value_hash: Set(hash(&value)),
        created_at: Set(now),
        expires_at: Set(after(now, state.timings.token_lifetime)),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(IssuedToken {
        value,
        id,
        expires_in: state.timings.token_lifetime.as_secs(),
    })
}

/// `now + duration`, saturating instead of overflowing.
pub(crate) fn after(now: DateTime<Utc>, duration: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// SHA-256 in hex: how tokens and session cookies are stored.
pub(crate) fn hash(value: &str) -> String {
    hex::encode(digest(&SHA256, value.as_bytes()))
}

/// An opaque token: 20 random bytes in upper-case hex (Rafiki's tokens are upper-case hex).
pub(crate) fn random_token() -> String {
    random_hex(20)
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let random: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode_upper(random)
}
