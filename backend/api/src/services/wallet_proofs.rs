//! Proving that a seller controls their payout wallet: an interactive Open Payments `subject`
//! grant (`subject.sub_ids = [{id: wallet, format: "uri"}]`), approved at the wallet's provider
//! by its owner, signed in there; the finish redirect's hash checked as for payments; the
//! continuation's answer naming the wallet as its subject. Success stores the proof (when,
//! which wallet, which auth server) on the user; another wallet drops it.
//!
//! Each step is stored before the next, and the continuation is claimed with a lease, so a
//! replayed redirect, two tabs polling, or a crash between the approval and the continuation
//! neither proves twice nor loses the approval: whoever looks next (the redirect, or the
//! settings page asking for the status) continues a grant that was approved.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Deserialize;
use shifting_open_payments::finish::verify_finish_hash;
use std::time::SystemTime;

use shifting_open_payments::types::{Continuation, GrantOutcome, InteractRequest};
use shifting_shared::review::{VerificationStatus, WalletVerificationResponse};
use shifting_shared::{FieldCode, FieldError};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{users, wallet_verifications as proofs};
use crate::error::{ApiError, Result};
use crate::services::rooms::link;
use crate::services::tokens::sha256_hex;
use crate::services::{profiles, wallets};
use crate::state::AppState;

use VerificationStatus::{Approved, Declined, Failed, Pending, Unsupported, Verified};

/// How long one continuation may take before another request may try again.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// Starts proving the caller's current wallet: asks its provider for a `subject` grant and
/// returns the page where the owner approves it.
///
/// # Errors
/// 409 without a wallet, or (`field_codes.wallet_address` = `proof_unsupported`) when the
/// provider does not offer ownership proofs; 422 when the wallet no longer resolves; 502 when
/// the provider fails.
pub async fn start(state: &AppState, user_id: Uuid) -> Result<WalletVerificationResponse> {
    let db = &state.db;
    let user = users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(ApiError::Unauthorized("The account no longer exists."))?;
    let Some(address) = user.wallet_address.clone() else {
        return Err(ApiError::conflict(
            "Set your wallet address first: the proof is for the wallet your rooms pay into.",
        ));
    };
    let wallet = wallets::resolve_canonical(&state.open_payments, &address)
        .await
        .map_err(|problem| ApiError::field("wallet_address", problem))?;
    let now = state.settings.clock.now();
    let finish_state = hex_nonce();
    let client_nonce = hex_nonce();
    let id = Uuid::new_v4();
    let row = proofs::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        wallet_address: Set(wallet.document.id.clone()),
        auth_server: Set(wallet.document.auth_server.clone()),
        status: Set(Pending.as_str().to_owned()),
        client_nonce: Set(client_nonce.clone()),
        finish_state_hash: Set(sha256_hex(&finish_state)),
        server_nonce: Set(None),
        continue_uri: Set(None),
        continue_token: Set(None),
        continue_wait_secs: Set(None),
        grant_created_at: Set(None),
        redirect_url: Set(None),
        interact_ref: Set(None),
        lease_until: Set(None),
        failure_code: Set(None),
        created_at: Set(now),
        expires_at: Set(now + state.settings.payments.approval_timeout),
        finished_at: Set(None),
    }
    .insert(db)
    .await?;

    let finish_uri = link(
        &state.public_url,
        &format!("api/wallet-verifications/{id}/finish?state={finish_state}"),
    );
    let answer = state
        .open_payments
        .request_subject_grant(
            &wallet.document.auth_server,
            &wallet.document.id,
            InteractRequest::redirect(finish_uri, client_nonce),
        )
        .await;
    let grant = match answer {
        Ok(grant) => grant,
        // A provider from before `subject` grants refuses the request body.
        Err(err) if err.status() == Some(400) => {
            tracing::info!(verification = %id, error = %err, "the wallet's provider refused a subject grant");
            end(db, id, Pending, Unsupported, "unsupported", now).await?;
            return Err(unsupported());
        }
        Err(err) => {
            tracing::warn!(verification = %id, error = %err, "the wallet's provider failed the subject grant");
            end(db, id, Pending, Failed, "provider_error", now).await?;
            return Err(ApiError::Upstream(
                "Your wallet's provider did not start the proof; try again in a moment.".into(),
            ));
        }
    };
    let GrantOutcome::Pending(interact, continuation) = grant.outcome() else {
        end(db, id, Pending, Unsupported, "unsupported", now).await?;
        return Err(unsupported());
    };
    let grant_created = state.settings.clock.now();
    proofs::Entity::update_many()
        .col_expr(
            proofs::Column::ServerNonce,
            Expr::value(interact.finish.clone()),
        )
        .col_expr(
            proofs::Column::ContinueUri,
            Expr::value(continuation.uri.clone()),
        )
        .col_expr(
            proofs::Column::ContinueToken,
            Expr::value(
                state
                    .sealer
                    .seal(&continuation.access_token.value, &continue_context(id)),
            ),
        )
        .col_expr(
            proofs::Column::ContinueWaitSecs,
            Expr::value(
                continuation
                    .wait
                    .map(|w| i64::try_from(w).unwrap_or(i64::MAX)),
            ),
        )
        .col_expr(proofs::Column::GrantCreatedAt, Expr::value(grant_created))
        .col_expr(
            proofs::Column::RedirectUrl,
            Expr::value(interact.redirect.clone()),
        )
        .filter(proofs::Column::Id.eq(id))
        .exec(db)
        .await?;
    tracing::info!(verification = %id, wallet = %row.wallet_address, "wallet proof awaiting its owner");
    let row = load(db, id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("wallet verification {id} vanished")))?;
    response(db, row).await
}

/// The query of the finish redirect.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FinishQuery {
    /// Our proof that the redirect comes through the owner's browser.
    pub state: Option<String>,
    /// The finish hash (approved).
    pub hash: Option<String>,
    /// The interaction reference (approved).
    pub interact_ref: Option<String>,
    /// Why there is no approval.
    pub result: Option<String>,
}

/// Where the finish redirect leaves a proof, for the settings page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishOutcome {
    /// Proven.
    Verified,
    /// Approved; the provider's `wait` has not passed yet (the page asks again).
    Pending,
    /// The owner declined.
    Declined,
    /// It ended without a proof.
    Failed,
    /// Nothing changed (a replay, or no proof of origin).
    Unchanged,
}

impl FinishOutcome {
    /// As the settings page's `verification` query value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Pending => "pending",
            Self::Declined => "declined",
            Self::Failed => "failed",
            Self::Unchanged => "unchanged",
        }
    }
}

/// The owner's browser is back from their wallet's provider. Only a redirect carrying the
/// proof's `state` changes anything; only one whose hash checks approves it, once.
///
/// # Errors
/// Database errors.
pub async fn finish(state: &AppState, id: Uuid, query: &FinishQuery) -> Result<FinishOutcome> {
    let db = &state.db;
    let now = state.settings.clock.now();
    let Some(row) = load(db, id).await? else {
        return Ok(FinishOutcome::Unchanged);
    };
    let proven = query.state.as_deref().is_some_and(|presented| {
        bool::from(
            sha256_hex(presented)
                .as_bytes()
                .ct_eq(row.finish_state_hash.as_bytes()),
        )
    });
    if !proven || status_of(&row)? != Pending {
        return Ok(FinishOutcome::Unchanged);
    }
    if let Some(result) = &query.result {
        let (to, code, outcome) = match result.as_str() {
            "grant_rejected" => (Declined, "declined", FinishOutcome::Declined),
            _ => (Failed, "interaction_ended", FinishOutcome::Failed),
        };
        end(db, id, Pending, to, code, now).await?;
        return Ok(outcome);
    }
    let (Some(hash), Some(interact_ref), Some(server_nonce)) =
        (&query.hash, &query.interact_ref, &row.server_nonce)
    else {
        return Ok(FinishOutcome::Unchanged);
    };
    if verify_finish_hash(
        hash,
        &row.client_nonce,
        server_nonce,
        interact_ref,
        &row.auth_server,
    )
    .is_none()
    {
        tracing::warn!(verification = %id, "wallet proof finish with a hash that does not match: ignored");
        return Ok(FinishOutcome::Unchanged);
    }
    let approved = proofs::Entity::update_many()
        .col_expr(proofs::Column::Status, Expr::value(Approved.as_str()))
        .col_expr(proofs::Column::InteractRef, Expr::value(interact_ref))
        .filter(proofs::Column::Id.eq(id))
        .filter(proofs::Column::Status.eq(Pending.as_str()))
        .exec(db)
        .await?;
    if approved.rows_affected != 1 {
        return Ok(FinishOutcome::Unchanged);
    }
    let row = load(db, id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("wallet verification {id} vanished")))?;
    Ok(match status_of(&advance(state, row).await?)? {
        Verified => FinishOutcome::Verified,
        Approved => FinishOutcome::Pending,
        Declined => FinishOutcome::Declined,
        _ => FinishOutcome::Failed,
    })
}

/// The caller's latest proof (continued first when it was approved and is due).
///
/// # Errors
/// 404 when the caller never started one.
pub async fn latest(state: &AppState, user_id: Uuid) -> Result<WalletVerificationResponse> {
    let db = &state.db;
    let row = proofs::Entity::find()
        .filter(proofs::Column::UserId.eq(user_id))
        .order_by_desc(proofs::Column::CreatedAt)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("You have not started a wallet proof."))?;
    let row = advance(state, row).await?;
    response(db, row).await
}

/// Continues an approved grant once its `wait` has passed, or ends a pending one whose time is
/// up; returns the row as it stands afterwards.
async fn advance(state: &AppState, row: proofs::Model) -> Result<proofs::Model> {
    let db = &state.db;
    let now = state.settings.clock.now();
    let status = status_of(&row)?;
    if status == Pending && now >= row.expires_at {
        if end(db, row.id, Pending, Failed, "expired", now).await?
            && let (Some(uri), Ok(Some(token))) = (&row.continue_uri, continue_token(state, &row))
        {
            // The provider's page must not prove anything any more (best effort).
            let continuation = Continuation::new(uri.clone(), token, None);
            if let Err(err) = state.open_payments.cancel_grant(&continuation).await {
                tracing::debug!(verification = %row.id, error = %err, "cannot cancel the expired proof's grant");
            }
        }
        return load(db, row.id).await?.ok_or_else(vanished);
    }
    if status != Approved {
        return Ok(row);
    }
    let wait = chrono::Duration::seconds(row.continue_wait_secs.unwrap_or(0).max(0));
    if row.grant_created_at.is_some_and(|at| now < at + wait) {
        return Ok(row);
    }
    let claimed = proofs::Entity::update_many()
        .col_expr(proofs::Column::LeaseUntil, Expr::value(now + LEASE))
        .filter(proofs::Column::Id.eq(row.id))
        .filter(proofs::Column::Status.eq(Approved.as_str()))
        .filter(
            Condition::any()
                .add(proofs::Column::LeaseUntil.is_null())
                .add(proofs::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        // Another request is continuing it.
        return Ok(row);
    }
    let token = continue_token(state, &row)?;
    let (Some(uri), Some(token), Some(interact_ref)) =
        (&row.continue_uri, &token, &row.interact_ref)
    else {
        end(db, row.id, Approved, Failed, "incomplete", now).await?;
        return load(db, row.id).await?.ok_or_else(vanished);
    };
    let continuation = Continuation::new(
        uri.clone(),
        token.clone(),
        row.continue_wait_secs.and_then(|w| u64::try_from(w).ok()),
    );
    let answered = row
        .grant_created_at
        .map_or_else(|| state.settings.clock.system_time(), SystemTime::from);
    let answer = state
        .open_payments
        .continue_grant(&continuation, interact_ref, answered)
        .await;
    let now = state.settings.clock.now();
    match answer {
        Ok(grant) => match grant.outcome() {
            GrantOutcome::Subject(subject) if subject.is_wallet(&row.wallet_address) => {
                prove(db, &row, now).await?;
            }
            other => {
                tracing::warn!(verification = %row.id, outcome = ?other, "the continuation named no matching subject");
                end(db, row.id, Approved, Failed, "not_confirmed", now).await?;
            }
        },
        Err(err) => {
            tracing::warn!(verification = %row.id, error = %err, "the wallet proof's continuation failed");
            end(db, row.id, Approved, Failed, "not_confirmed", now).await?;
        }
    }
    load(db, row.id).await?.ok_or_else(vanished)
}

/// Where a proof's continuation token is sealed for.
fn continue_context(id: Uuid) -> String {
    format!("wallet_verifications.continue_token:{id}")
}

/// The continuation token of `row`, opened.
fn continue_token(state: &AppState, row: &proofs::Model) -> Result<Option<String>> {
    Ok(row
        .continue_token
        .as_deref()
        .map(|stored| state.sealer.open(stored, &continue_context(row.id)))
        .transpose()?)
}

/// Records the proof, and the badge on the user while their wallet is still the one proven.
async fn prove(db: &DatabaseConnection, row: &proofs::Model, now: DateTime<Utc>) -> Result<()> {
    let txn = begin_write(db).await?;
    let ended = proofs::Entity::update_many()
        .col_expr(proofs::Column::Status, Expr::value(Verified.as_str()))
        .col_expr(proofs::Column::FinishedAt, Expr::value(now))
        .col_expr(
            proofs::Column::ContinueToken,
            Expr::value(Option::<String>::None),
        )
        .filter(proofs::Column::Id.eq(row.id))
        .filter(proofs::Column::Status.eq(Approved.as_str()))
        .exec(&txn)
        .await?;
    if ended.rows_affected == 1 {
        users::Entity::update_many()
            .col_expr(users::Column::WalletVerifiedAt, Expr::value(now))
            .col_expr(
                users::Column::WalletVerifiedAddress,
                Expr::value(row.wallet_address.clone()),
            )
            .col_expr(
                users::Column::WalletVerifiedBy,
                Expr::value(row.auth_server.clone()),
            )
            .filter(users::Column::Id.eq(row.user_id))
            .filter(users::Column::WalletAddress.eq(row.wallet_address.clone()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(verification = %row.id, wallet = %row.wallet_address, "wallet ownership proven");
    Ok(())
}

/// Moves a proof from `from` to an end state, erasing its continuation token.
async fn end(
    db: &DatabaseConnection,
    id: Uuid,
    from: VerificationStatus,
    to: VerificationStatus,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let ended = proofs::Entity::update_many()
        .col_expr(proofs::Column::Status, Expr::value(to.as_str()))
        .col_expr(proofs::Column::FailureCode, Expr::value(code))
        .col_expr(proofs::Column::FinishedAt, Expr::value(now))
        .col_expr(
            proofs::Column::ContinueToken,
            Expr::value(Option::<String>::None),
        )
        .filter(proofs::Column::Id.eq(id))
        .filter(proofs::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(ended.rows_affected == 1)
}

async fn load(db: &DatabaseConnection, id: Uuid) -> Result<Option<proofs::Model>> {
    Ok(proofs::Entity::find_by_id(id).one(db).await?)
}

async fn response(
    db: &DatabaseConnection,
    row: proofs::Model,
) -> Result<WalletVerificationResponse> {
    let status = status_of(&row)?;
    let badge = if status == Verified {
        users::Entity::find_by_id(row.user_id)
            .one(db)
            .await?
            .and_then(|user| profiles::wallet_badge(&user))
            .filter(|badge| badge.wallet_address == row.wallet_address)
    } else {
        None
    };
    Ok(WalletVerificationResponse {
        id: row.id,
        wallet_address: row.wallet_address,
        status,
        redirect_url: row.redirect_url.filter(|_| status == Pending),
        created_at: row.created_at,
        finished_at: row.finished_at,
        badge,
    })
}

fn status_of(row: &proofs::Model) -> Result<VerificationStatus> {
    row.status.parse().map_err(|()| {
        ApiError::Internal(anyhow::anyhow!(
            "wallet verification {} holds status {:?}",
            row.id,
            row.status
        ))
    })
}

fn unsupported() -> ApiError {
    ApiError::Conflict {
        message: "Your wallet's provider does not offer ownership proofs yet, so the wallet cannot be verified.",
        fields: shifting_shared::FieldErrors::one(
            "wallet_address",
            FieldError::new(
                FieldCode::ProofUnsupported,
                "cannot be verified: its provider does not offer ownership proofs (subject grants)",
            ),
        ),
    }
}

fn vanished() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("a wallet verification vanished"))
}

/// 128 random bits as hex.
fn hex_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}
