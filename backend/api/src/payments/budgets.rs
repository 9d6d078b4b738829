//! One-click budgets (ARCHITECTURE §8): one interactive outgoing-payment grant on the buyer's
//! wallet with `limits: {debitAmount, interval}` and no receiver, approved once; its access
//! token, management URL and continuation kept sealed, so later purchases are paid without a
//! redirect (`one_click`).
//!
//! The lifecycle follows the wallet proofs': each step stored before the next, the finish
//! redirect's `state` and hash checked, the continuation claimed with a lease. The token is
//! rotated before use once expired, one rotation at a time per grant (a conditional claim of the
//! row), the new token stored before it is used; the payment worker rotates idle tokens weekly
//! so that none reaches the provider's deletion age, and ends budgets whose last period is over.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect, Set,
};
use serde::Deserialize;
use shifting_open_payments::client::OpenPaymentsClient;
use shifting_open_payments::finish::verify_finish_hash;
use shifting_open_payments::interval::RepeatingInterval;
use shifting_open_payments::types::{
    AccessAction, AccessItem, AccessToken, Amount as OpAmount, Continuation, GrantOutcome,
    InteractRequest, Limits,
};
use shifting_shared::budget::{
    BudgetListResponse, BudgetPeriod, BudgetResponse, BudgetStatus, CreateBudgetRequest,
    SpentSource,
};
use shifting_shared::{Amount, Asset, AssetCode, AssetScale, FieldCode, FieldError, RoomCode};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::entities::amount::StoredAmount;
use crate::entities::{budgets, parse_stored, transactions, users};
use crate::error::{ApiError, Result};
use crate::secrets::Sealer;
use crate::services::rooms::link;
use crate::services::tokens::sha256_hex;
use crate::services::wallets;
use crate::state::AppState;

use BudgetStatus::{Active, Approved, Declined, Ended, Failed, Pending, Revoked};

/// How long one continuation may take before another request may try again.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How long one rotation may hold the grant before another may take over.
const ROTATION_LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// A token this close to its expiry is rotated before use.
const EXPIRY_MARGIN: chrono::Duration = chrono::Duration::seconds(30);
/// Idle tokens are rotated after this long (the provider deletes a token 30 days after it
/// expired; Rafiki's tokens live 10 minutes).
pub(crate) const IDLE_ROTATION: chrono::Duration = chrono::Duration::days(7);
/// How often the worker looks for idle tokens and ended budgets.
pub(crate) const KEEPING_EVERY: Duration = Duration::from_secs(3600);
/// How often a purchase looks whether another one's rotation has finished (real time: it
/// waits for a provider's answer, not for the clock).
const ROTATION_POLL: Duration = Duration::from_millis(25);
/// How many looks before it gives up (ten seconds).
const ROTATION_POLLS: u32 = 400;

/// Statuses of purchases under a budget that count against it: the money may have moved (a
/// refund is a payment the other way; the wallet still counts the purchase's debit).
const SPENDING: [&str; 5] = [
    "approved",
    "sending",
    "completed",
    "refund_pending",
    "refunded",
];

/// Asks the buyer's wallet for a budget: the grant request is sent, and the answer carries the
/// wallet's consent page and the schedule (start, end) computed as Rafiki counts `Rn`, for the
/// page to spell out before the buyer goes there.
///
/// # Errors
/// 422 for an unusable wallet, amount or number of periods; 502 when the provider fails.
pub async fn create(
    state: &AppState,
    user_id: Uuid,
    request: &CreateBudgetRequest,
) -> Result<BudgetResponse> {
    let db = &state.db;
    let user = users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(ApiError::Unauthorized("The account no longer exists."))?;
    let periods = request
        .checked_periods()
        .map_err(|problem| ApiError::field("periods", problem))?;
    let return_to = request
        .room_code
        .as_deref()
        .map(|code| {
            RoomCode::parse(code.trim())
                .map(|code| code.as_str().to_owned())
                .map_err(|problem| ApiError::field("room_code", problem))
        })
        .transpose()?;
    let input = request
        .wallet_address
        .clone()
        .filter(|w| !w.trim().is_empty())
        .or(user.wallet_address)
        .ok_or_else(|| {
            ApiError::field(
                "wallet_address",
                FieldError::new(
                    FieldCode::Required,
                    "is required: send one, or set it in your profile",
                ),
            )
        })?;
    let wallet = wallets::resolve(
        &state.open_payments,
        state.address_policy,
        &input,
        "wallet_address",
    )
    .await?;
    let document = &wallet.document;
    let asset = wallet_asset(document)?;
    let limit = Amount::parse_decimal(request.amount.trim(), asset)
        .map_err(|problem| ApiError::field("amount", problem))?;
    let now = state.settings.clock.now();
    // Whole seconds: the interval is written without fractions.
    let start = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let interval = RepeatingInterval::forward(start, request.period.iso(), periods - 1)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no interval from {start}")))?;
    let ends = interval
        .last_end()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("{interval} has no end")))?;
    let limit_value = i64::try_from(limit.value()).map_err(|_| {
        ApiError::field(
            "amount",
            FieldError::new(FieldCode::AmountTooLarge, "is too large"),
        )
    })?;
    let id = Uuid::new_v4();
    let finish_state = hex_nonce();
    let client_nonce = hex_nonce();
    budgets::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        wallet_address: Set(document.id.clone()),
        auth_server: Set(document.auth_server.clone()),
        resource_server: Set(document.resource_server.clone()),
        limit_value: Set(limit_value),
        asset_code: Set(document.asset_code.clone()),
        asset_scale: Set(i16::from(document.asset_scale)),
        period: Set(request.period.iso().to_owned()),
        periods: Set(i32::try_from(periods).unwrap_or(i32::MAX)),
        interval: Set(interval.to_string()),
        starts_at: Set(start),
        ends_at: Set(ends),
        status: Set(Pending.as_str().to_owned()),
        return_to: Set(return_to),
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
        access_token: Set(None),
        token_manage: Set(None),
        token_expires_at: Set(None),
        token_rotated_at: Set(None),
        rotation_owner: Set(None),
        rotation_until: Set(None),
        failure_code: Set(None),
        created_at: Set(now),
        expires_at: Set(now + state.settings.payments.approval_timeout),
        activated_at: Set(None),
        ended_at: Set(None),
    }
    .insert(db)
    .await?;

    let finish_uri = link(
        &state.public_url,
        &format!("api/budgets/{id}/finish?state={finish_state}"),
    );
    let access = AccessItem::OutgoingPayment {
        actions: vec![AccessAction::Create, AccessAction::Read, AccessAction::List],
        identifier: document.id.clone(),
        limits: Some(Limits {
            receiver: None,
            debit_amount: Some(OpAmount {
                value: limit.value(),
                asset_code: document.asset_code.clone(),
                asset_scale: document.asset_scale,
            }),
            receive_amount: None,
            interval: Some(interval.to_string()),
        }),
    };
    let answer = state
        .open_payments
        .request_grant(
            &document.auth_server,
            vec![access],
            Some(InteractRequest::redirect(finish_uri, client_nonce)),
        )
        .await;
    let grant = match answer {
        Ok(grant) => grant,
        Err(err) => {
            tracing::warn!(budget = %id, error = %err, "the wallet's provider refused the budget grant");
            end(db, id, Pending, Failed, "provider_error", now).await?;
            return Err(ApiError::Upstream(format!(
                "Your wallet's provider did not start the approval of the budget: {err}"
            )));
        }
    };
    let GrantOutcome::Pending(interact, continuation) = grant.outcome() else {
        end(db, id, Pending, Failed, "unusable_grant", now).await?;
        return Err(ApiError::Upstream(
            "Your wallet's provider answered the budget request without asking you to approve it."
                .into(),
        ));
    };
    let grant_created = state.settings.clock.now();
    budgets::Entity::update_many()
        .col_expr(
            budgets::Column::ServerNonce,
            Expr::value(interact.finish.clone()),
        )
        .col_expr(
            budgets::Column::ContinueUri,
            Expr::value(continuation.uri.clone()),
        )
        .col_expr(
            budgets::Column::ContinueToken,
            Expr::value(state.sealer.seal(
                &continuation.access_token.value,
                &context("continue_token", id),
            )),
        )
        .col_expr(
            budgets::Column::ContinueWaitSecs,
            Expr::value(
                continuation
                    .wait
                    .map(|w| i64::try_from(w).unwrap_or(i64::MAX)),
            ),
        )
        .col_expr(budgets::Column::GrantCreatedAt, Expr::value(grant_created))
        .col_expr(
            budgets::Column::RedirectUrl,
            Expr::value(interact.redirect.clone()),
        )
        .filter(budgets::Column::Id.eq(id))
        .filter(budgets::Column::Status.eq(Pending.as_str()))
        .exec(db)
        .await?;
    tracing::info!(budget = %id, wallet = %document.id, "budget awaiting the buyer's approval");
    let row = load(db, id).await?.ok_or_else(vanished)?;
    respond(state, row).await
}

/// The wallet's asset as ours (a wallet whose asset we cannot price in cannot hold a budget).
fn wallet_asset(document: &shifting_open_payments::types::WalletAddress) -> Result<Asset> {
    let unsupported = || {
        ApiError::field(
            "wallet_address",
            FieldError::new(
                FieldCode::WalletAssetUnsupported,
                "holds an asset that cannot be budgeted",
            ),
        )
    };
    Ok(Asset {
        code: AssetCode::parse(&document.asset_code).map_err(|_| unsupported())?,
        scale: AssetScale::new(document.asset_scale).map_err(|_| unsupported())?,
    })
}

/// The query of the finish redirect.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FinishQuery {
    /// Our proof that the redirect comes through the buyer's browser.
    pub state: Option<String>,
    /// The finish hash (approved).
    pub hash: Option<String>,
    /// The interaction reference (approved).
    pub interact_ref: Option<String>,
    /// Why there is no approval.
    pub result: Option<String>,
}

/// The buyer's browser is back from their wallet. Only a redirect carrying the budget's
/// `state` changes anything; only one whose hash checks approves it, once. Returns where the
/// budget stands afterwards and the room to go back to.
///
/// # Errors
/// Database errors.
pub async fn finish(
    state: &AppState,
    id: Uuid,
    query: &FinishQuery,
) -> Result<(Option<BudgetStatus>, Option<String>)> {
    let db = &state.db;
    let now = state.settings.clock.now();
    let Some(row) = load(db, id).await? else {
        return Ok((None, None));
    };
    let return_to = row.return_to.clone();
    let proven = query.state.as_deref().is_some_and(|presented| {
        bool::from(
            sha256_hex(presented)
                .as_bytes()
                .ct_eq(row.finish_state_hash.as_bytes()),
        )
    });
    if !proven || status_of(&row)? != Pending {
        return Ok((None, return_to));
    }
    if let Some(result) = &query.result {
        let (to, code) = match result.as_str() {
            "grant_rejected" => (Declined, "declined"),
            _ => (Failed, "interaction_ended"),
        };
        end(db, id, Pending, to, code, now).await?;
        return Ok((Some(to), return_to));
    }
    let (Some(hash), Some(interact_ref), Some(server_nonce)) =
        (&query.hash, &query.interact_ref, &row.server_nonce)
    else {
        return Ok((None, return_to));
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
        tracing::warn!(budget = %id, "budget finish with a hash that does not match: ignored");
        return Ok((None, return_to));
    }
    let approved = budgets::Entity::update_many()
        .col_expr(budgets::Column::Status, Expr::value(Approved.as_str()))
        .col_expr(budgets::Column::InteractRef, Expr::value(interact_ref))
        .filter(budgets::Column::Id.eq(id))
        .filter(budgets::Column::Status.eq(Pending.as_str()))
        .exec(db)
        .await?;
    if approved.rows_affected != 1 {
        return Ok((None, return_to));
    }
    let row = load(db, id).await?.ok_or_else(vanished)?;
    let row = advance(db, &state.open_payments, &state.sealer, row).await?;
    let status = status_of(&row)?;
    if status == Approved {
        // The wallet's `wait` has not passed: the browser is answered now, and the grant is
        // continued once it has (or by whoever looks at the budget next).
        let state = state.clone();
        tokio::spawn(async move {
            if let Ok(Some(continuation)) = continuation(&state.sealer, &row) {
                let answered = row
                    .grant_created_at
                    .map_or_else(|| state.settings.clock.system_time(), SystemTime::from);
                state
                    .open_payments
                    .wait_until_continuable(&continuation, answered)
                    .await;
            }
            if let Err(err) = advance(&state.db, &state.open_payments, &state.sealer, row).await {
                tracing::warn!(budget = %id, error = format!("{err:#}"), "cannot continue an approved budget");
            }
        });
    }
    Ok((Some(status), return_to))
}

/// Continues an approved grant once its `wait` has passed (storing the token before anything
/// uses it), or ends a pending one whose time is up; returns the row as it stands afterwards.
async fn advance(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    row: budgets::Model,
) -> Result<budgets::Model> {
    let now = client.clock().now();
    let status = status_of(&row)?;
    if status == Pending && now >= row.expires_at {
        if end(db, row.id, Pending, Failed, "expired", now).await? {
            cancel_at_wallet(client, sealer, &row).await;
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
    let claimed = budgets::Entity::update_many()
        .col_expr(budgets::Column::LeaseUntil, Expr::value(now + LEASE))
        .filter(budgets::Column::Id.eq(row.id))
        .filter(budgets::Column::Status.eq(Approved.as_str()))
        .filter(
            Condition::any()
                .add(budgets::Column::LeaseUntil.is_null())
                .add(budgets::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        // Another request is continuing it.
        return Ok(row);
    }
    // Held by this call from here: whatever happens is recorded before it returns.
    let (Ok(Some(continuation)), Some(interact_ref)) =
        (continuation(sealer, &row), &row.interact_ref)
    else {
        end(db, row.id, Approved, Failed, "incomplete", now).await?;
        return load(db, row.id).await?.ok_or_else(vanished);
    };
    let answered = row
        .grant_created_at
        .map_or_else(|| client.clock().system_time(), SystemTime::from);
    let answer = client
        .continue_grant(&continuation, interact_ref, answered)
        .await;
    let now = client.clock().now();
    match answer {
        Ok(grant) => match grant.outcome() {
            GrantOutcome::Granted(token) => {
                // The continuation may come with a new continue token: revocation needs it.
                let continue_token = grant
                    .continuation
                    .as_ref()
                    .map_or(&continuation.access_token.value, |c| &c.access_token.value);
                activate(db, sealer, &row, token, continue_token, now).await?;
            }
            other => {
                tracing::warn!(budget = %row.id, outcome = ?other, "the continuation gave no access token");
                client.cancel_grant(&continuation).await.ok();
                end(db, row.id, Approved, Failed, "not_granted", now).await?;
            }
        },
        // Tried again by whoever looks next (the owner's page, the worker's keeping).
        Err(err) if err.is_transient() => {
            tracing::warn!(budget = %row.id, error = %err, "the budget's continuation failed for now");
            budgets::Entity::update_many()
                .col_expr(
                    budgets::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(budgets::Column::Id.eq(row.id))
                .filter(budgets::Column::Status.eq(Approved.as_str()))
                .exec(db)
                .await?;
        }
        Err(err) => {
            tracing::warn!(budget = %row.id, error = %err, "the wallet refused the budget's continuation");
            client.cancel_grant(&continuation).await.ok();
            end(db, row.id, Approved, Failed, "not_granted", now).await?;
        }
    }
    load(db, row.id).await?.ok_or_else(vanished)
}

/// Stores the budget's token and makes it usable.
async fn activate(
    db: &DatabaseConnection,
    sealer: &Sealer,
    row: &budgets::Model,
    token: &AccessToken,
    continue_token: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let sealed = Sealed::of(sealer, row.id, token);
    budgets::Entity::update_many()
        .col_expr(budgets::Column::Status, Expr::value(Active.as_str()))
        .col_expr(budgets::Column::AccessToken, Expr::value(sealed.value))
        .col_expr(budgets::Column::TokenManage, Expr::value(sealed.manage))
        .col_expr(
            budgets::Column::TokenExpiresAt,
            Expr::value(expiry(token, now)),
        )
        .col_expr(budgets::Column::TokenRotatedAt, Expr::value(now))
        .col_expr(
            budgets::Column::ContinueToken,
            Expr::value(sealer.seal(continue_token, &context("continue_token", row.id))),
        )
        .col_expr(budgets::Column::ActivatedAt, Expr::value(now))
        .col_expr(
            budgets::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            budgets::Column::RedirectUrl,
            Expr::value(Option::<String>::None),
        )
        .filter(budgets::Column::Id.eq(row.id))
        .filter(budgets::Column::Status.eq(Approved.as_str()))
        .exec(db)
        .await?;
    tracing::info!(budget = %row.id, wallet = %row.wallet_address, "budget active");
    Ok(())
}

/// A token's value and management URL, sealed for a budget's row.
struct Sealed {
    value: String,
    manage: String,
}

impl Sealed {
    fn of(sealer: &Sealer, id: Uuid, token: &AccessToken) -> Self {
        Self {
            value: sealer.seal(&token.value, &context("access_token", id)),
            manage: sealer.seal(&token.manage, &context("token_manage", id)),
        }
    }
}

/// When a token expires, by the provider's `expires_in` (`None`: it does not say).
fn expiry(token: &AccessToken, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    token
        .expires_in
        .and_then(|secs| i64::try_from(secs).ok())
        .map(|secs| now + chrono::Duration::seconds(secs))
}

/// One of the caller's budgets (an approved one is continued first).
///
/// # Errors
/// 404 for anyone else's or an unknown id.
pub async fn get(state: &AppState, user_id: Uuid, id: Uuid) -> Result<BudgetResponse> {
    let row = owned(&state.db, user_id, id).await?;
    let row = advance(&state.db, &state.open_payments, &state.sealer, row).await?;
    respond(state, row).await
}

/// The caller's budgets, newest first, with what is left of the active ones in this period.
///
/// # Errors
/// Database errors.
pub async fn list(
    state: &AppState,
    user_id: Uuid,
    cursor: Option<&str>,
    limit: u64,
) -> Result<BudgetListResponse> {
    let query = budgets::Entity::find().filter(budgets::Column::UserId.eq(user_id));
    let (rows, next_cursor) =
        crate::services::pages::fetch(&state.db, query, cursor, limit).await?;
    let mut budgets = Vec::with_capacity(rows.len());
    for row in rows {
        // One budget that cannot be advanced now is shown as it stands, not a failed list.
        let advanced = advance(&state.db, &state.open_payments, &state.sealer, row.clone()).await;
        budgets.push(advanced.unwrap_or_else(|err| {
            tracing::warn!(budget = %row.id, error = format!("{err:#}"), "cannot advance a budget");
            row
        }));
    }
    let answers = futures::future::join_all(budgets.into_iter().map(|row| respond(state, row)))
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    Ok(BudgetListResponse {
        budgets: answers,
        next_cursor,
    })
}

/// Revokes a budget: here first (no purchase starts under it any more), then the grant at the
/// wallet (`DELETE` on its continuation URI), then the tokens are forgotten.
///
/// # Errors
/// 404 for anyone else's or an unknown id; 409 when it has already ended.
pub async fn revoke(state: &AppState, user_id: Uuid, id: Uuid) -> Result<BudgetResponse> {
    let db = &state.db;
    let row = owned(db, user_id, id).await?;
    let now = state.settings.clock.now();
    let revoked = budgets::Entity::update_many()
        .col_expr(budgets::Column::Status, Expr::value(Revoked.as_str()))
        .col_expr(budgets::Column::FailureCode, Expr::value("revoked"))
        .col_expr(budgets::Column::EndedAt, Expr::value(now))
        .filter(budgets::Column::Id.eq(id))
        .filter(budgets::Column::Status.is_in([
            Pending.as_str(),
            Approved.as_str(),
            Active.as_str(),
        ]))
        .exec(db)
        .await?;
    if revoked.rows_affected != 1 {
        return Err(ApiError::conflict("This budget has already ended."));
    }
    cancel_at_wallet(&state.open_payments, &state.sealer, &row).await;
    forget(db, id).await?;
    tracing::info!(budget = %id, "budget revoked");
    let row = load(db, id).await?.ok_or_else(vanished)?;
    respond(state, row).await
}

/// Revokes every budget of an account being deleted, in the caller's transaction; returns them
/// as they were, for [`cancel_in_background`] once the deletion is committed.
///
/// # Errors
/// Database errors.
pub(crate) async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<budgets::Model>> {
    let live = [Pending.as_str(), Approved.as_str(), Active.as_str()];
    let rows = budgets::Entity::find()
        .filter(budgets::Column::UserId.eq(user_id))
        .filter(budgets::Column::Status.is_in(live))
        .all(db)
        .await?;
    erase(budgets::Entity::update_many())
        .col_expr(budgets::Column::Status, Expr::value(Revoked.as_str()))
        .col_expr(budgets::Column::FailureCode, Expr::value("account_deleted"))
        .col_expr(budgets::Column::EndedAt, Expr::value(now))
        .filter(budgets::Column::UserId.eq(user_id))
        .filter(budgets::Column::Status.is_in(live))
        .exec(db)
        .await?;
    Ok(rows)
}

/// Revokes the grants of `rows` at their wallets, off the request.
pub(crate) fn cancel_in_background(state: &AppState, rows: Vec<budgets::Model>) {
    if rows.is_empty() {
        return;
    }
    let client = state.open_payments.clone();
    let sealer = std::sync::Arc::clone(&state.sealer);
    tokio::spawn(async move {
        for row in rows {
            cancel_at_wallet(&client, &sealer, &row).await;
        }
    });
}

/// `DELETE {continue.uri}`: the grant ends at the wallet, every token of it with it. Best
/// effort: a failure is logged (the tokens are forgotten here all the same, and without them
/// and our key the grant is of no use to anyone).
async fn cancel_at_wallet(client: &OpenPaymentsClient, sealer: &Sealer, row: &budgets::Model) {
    match continuation(sealer, row) {
        Ok(Some(continuation)) => {
            if let Err(err) = client.cancel_grant(&continuation).await {
                tracing::warn!(budget = %row.id, error = %err, "cannot revoke the budget's grant at the wallet");
            }
        }
        Ok(None) => {}
        Err(err) => {
            tracing::warn!(budget = %row.id, error = %err, "cannot open the budget's continuation");
        }
    }
}

/// The columns that forget a budget's secrets.
fn erase(update: sea_orm::UpdateMany<budgets::Entity>) -> sea_orm::UpdateMany<budgets::Entity> {
    [
        budgets::Column::AccessToken,
        budgets::Column::TokenManage,
        budgets::Column::ContinueToken,
        budgets::Column::ContinueUri,
        budgets::Column::RedirectUrl,
    ]
    .into_iter()
    .fold(update, |update, column| {
        update.col_expr(column, Expr::value(Option::<String>::None))
    })
}

/// Forgets a budget's secrets.
async fn forget(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    erase(budgets::Entity::update_many())
        .filter(budgets::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Why a budget's token cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenProblem {
    /// The budget is not active any more (revoked here or at the wallet, ended).
    #[error("the budget is no longer active")]
    Inactive,
    /// The wallet did not rotate the token, or our key does not open it.
    #[error("{0}")]
    Failed(String),
}

/// The budget's token for a payment: rotated first when expired (or `stale`, the token a
/// resource server just called inactive), one rotation at a time per grant, the new token
/// stored before it is returned.
///
/// # Errors
/// [`TokenProblem`].
pub(crate) async fn token(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    id: Uuid,
    stale: Option<&AccessToken>,
) -> std::result::Result<AccessToken, TokenProblem> {
    let store = |err: ApiError| TokenProblem::Failed(format!("{err:#}"));
    for _ in 0..ROTATION_POLLS {
        let row = load(db, id)
            .await
            .map_err(store)?
            .ok_or(TokenProblem::Inactive)?;
        if status_of(&row).map_err(store)? != Active {
            return Err(TokenProblem::Inactive);
        }
        let now = client.clock().now();
        let current = opened(sealer, &row).map_err(store)?;
        let expired = row
            .token_expires_at
            .is_some_and(|at| at <= now + EXPIRY_MARGIN);
        let refused = stale.is_some_and(|stale| stale.value == current.value);
        if !expired && !refused {
            return Ok(current);
        }
        if let Some(token) = rotate(db, client, sealer, &row, &current).await? {
            return Ok(token);
        }
        // Another purchase is rotating it: its token is stored before it is used.
        tokio::time::sleep(ROTATION_POLL).await;
    }
    Err(TokenProblem::Failed(
        "another rotation of the budget's token did not finish".into(),
    ))
}

/// Rotates the token of `row` if this call can take the grant for it (`None`: another call
/// holds it). The claim is conditional on the token still being `row`'s, so a token is never
/// rotated twice (the second rotation of a token fails at the wallet).
async fn rotate(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    row: &budgets::Model,
    current: &AccessToken,
) -> std::result::Result<Option<AccessToken>, TokenProblem> {
    let store = |err: sea_orm::DbErr| TokenProblem::Failed(err.to_string());
    let me = Uuid::new_v4();
    let now = client.clock().now();
    let taken = budgets::Entity::update_many()
        .col_expr(budgets::Column::RotationOwner, Expr::value(me))
        .col_expr(
            budgets::Column::RotationUntil,
            Expr::value(now + ROTATION_LEASE),
        )
        .filter(budgets::Column::Id.eq(row.id))
        .filter(budgets::Column::Status.eq(Active.as_str()))
        .filter(budgets::Column::AccessToken.eq(row.access_token.clone()))
        .filter(
            Condition::any()
                .add(budgets::Column::RotationUntil.is_null())
                .add(budgets::Column::RotationUntil.lt(now)),
        )
        .exec(db)
        .await
        .map_err(store)?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    match client.rotate_token(current).await {
        Ok(rotated) => {
            let now = client.clock().now();
            let sealed = Sealed::of(sealer, row.id, &rotated);
            let stored = unclaimed(budgets::Entity::update_many())
                .col_expr(budgets::Column::AccessToken, Expr::value(sealed.value))
                .col_expr(budgets::Column::TokenManage, Expr::value(sealed.manage))
                .col_expr(
                    budgets::Column::TokenExpiresAt,
                    Expr::value(expiry(&rotated, now)),
                )
                .col_expr(budgets::Column::TokenRotatedAt, Expr::value(now))
                .filter(budgets::Column::Id.eq(row.id))
                .filter(budgets::Column::RotationOwner.eq(me))
                .filter(budgets::Column::Status.eq(Active.as_str()))
                .exec(db)
                .await
                .map_err(store)?;
            if stored.rows_affected != 1 {
                // Revoked or ended meanwhile: the new token is not kept, so it must not live.
                if let Err(err) = client.revoke_token(&rotated).await {
                    tracing::warn!(budget = %row.id, error = %err, "cannot revoke the token of a budget that ended during its rotation");
                }
                return Err(TokenProblem::Inactive);
            }
            tracing::info!(budget = %row.id, "budget token rotated");
            Ok(Some(rotated))
        }
        // The grant is gone at the wallet: revoked by its owner, or its token deleted.
        Err(err) if matches!(err.status(), Some(401 | 404)) => {
            tracing::warn!(budget = %row.id, error = %err, "the wallet no longer knows the budget's token");
            // Its owner may have revoked the grant, or an earlier rotation's answer was lost
            // (the token it replaced is dead, the new one unknown): the grant itself may still
            // be live, so it is revoked through its continuation before it is forgotten.
            cancel_at_wallet(client, sealer, row).await;
            erase(unclaimed(budgets::Entity::update_many()))
                .col_expr(budgets::Column::Status, Expr::value(Revoked.as_str()))
                .col_expr(
                    budgets::Column::FailureCode,
                    Expr::value("revoked_at_wallet"),
                )
                .col_expr(budgets::Column::EndedAt, Expr::value(now))
                .filter(budgets::Column::Id.eq(row.id))
                .filter(budgets::Column::RotationOwner.eq(me))
                .filter(budgets::Column::Status.eq(Active.as_str()))
                .exec(db)
                .await
                .map_err(store)?;
            Err(TokenProblem::Inactive)
        }
        Err(err) => {
            unclaimed(budgets::Entity::update_many())
                .filter(budgets::Column::Id.eq(row.id))
                .filter(budgets::Column::RotationOwner.eq(me))
                .exec(db)
                .await
                .map_err(store)?;
            Err(TokenProblem::Failed(format!(
                "The wallet did not rotate the budget's token: {err}"
            )))
        }
    }
}

/// The worker's keeping of budgets: ends those whose last period is over (revoking their
/// grants), and rotates tokens idle for a week so the provider never deletes them. Returns how
/// many tokens it rotated.
///
/// # Errors
/// Database errors; a rotation that fails is logged and tried again next time.
pub(crate) async fn keep(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
) -> Result<usize> {
    let now = client.clock().now();
    // Approvals nobody came back to look at: continued, or ended and cancelled at the wallet.
    let stale = budgets::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(budgets::Column::Status.eq(Pending.as_str()))
                        .add(budgets::Column::ExpiresAt.lte(now)),
                )
                .add(
                    Condition::all()
                        .add(budgets::Column::Status.eq(Approved.as_str()))
                        .add(
                            Condition::any()
                                .add(budgets::Column::LeaseUntil.is_null())
                                .add(budgets::Column::LeaseUntil.lt(now)),
                        ),
                ),
        )
        .limit(100)
        .all(db)
        .await?;
    for row in stale {
        let id = row.id;
        if let Err(err) = advance(db, client, sealer, row).await {
            tracing::warn!(budget = %id, error = format!("{err:#}"), "cannot advance a budget");
        }
    }
    let over = budgets::Entity::find()
        .filter(budgets::Column::Status.eq(Active.as_str()))
        .filter(budgets::Column::EndsAt.lte(now))
        .limit(100)
        .all(db)
        .await?;
    for row in over {
        let ended = budgets::Entity::update_many()
            .col_expr(budgets::Column::Status, Expr::value(Ended.as_str()))
            .col_expr(budgets::Column::EndedAt, Expr::value(now))
            .filter(budgets::Column::Id.eq(row.id))
            .filter(budgets::Column::Status.eq(Active.as_str()))
            .exec(db)
            .await?;
        if ended.rows_affected == 1 {
            cancel_at_wallet(client, sealer, &row).await;
            forget(db, row.id).await?;
        }
    }
    let idle = budgets::Entity::find()
        .filter(budgets::Column::Status.eq(Active.as_str()))
        .filter(budgets::Column::TokenRotatedAt.lte(now - IDLE_ROTATION))
        .limit(100)
        .all(db)
        .await?;
    let mut rotated = 0;
    for row in idle {
        let current = match opened(sealer, &row) {
            Ok(current) => current,
            Err(err) => {
                tracing::warn!(budget = %row.id, error = %err, "cannot open an idle budget's token");
                continue;
            }
        };
        match rotate(db, client, sealer, &row, &current).await {
            Ok(Some(_)) => rotated += 1,
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(budget = %row.id, error = %err, "cannot rotate an idle budget's token");
            }
        }
    }
    Ok(rotated)
}

/// What a budget has left in the period containing `at`, by our own record (purchases under
/// it that may have moved money, by when they were confirmed): `(period, spent)`; `None`
/// outside its periods.
pub(crate) async fn spent_by_record(
    db: &impl ConnectionTrait,
    row: &budgets::Model,
    at: DateTime<Utc>,
) -> Result<Option<((DateTime<Utc>, DateTime<Utc>), i128)>> {
    let Some(window) = period_at(row, at) else {
        return Ok(None);
    };
    let values: Vec<Option<i64>> = transactions::Entity::find()
        .select_only()
        .column(transactions::Column::DebitValue)
        .filter(transactions::Column::BudgetId.eq(row.id))
        .filter(transactions::Column::Status.is_in(SPENDING))
        .filter(transactions::Column::ApprovedAt.gte(window.0))
        .filter(transactions::Column::ApprovedAt.lt(window.1))
        .into_tuple()
        .all(db)
        .await?;
    let spent = values.into_iter().flatten().map(i128::from).sum();
    Ok(Some((window, spent)))
}

/// The period of `row` that `at` falls in, as Rafiki counts them.
pub(crate) fn period_at(
    row: &budgets::Model,
    at: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    row.interval
        .parse::<RepeatingInterval>()
        .ok()
        .and_then(|interval| interval.containing(at))
}

/// The budget's limit as an amount.
pub(crate) fn limit_of(row: &budgets::Model) -> StoredAmount<'_> {
    StoredAmount::new(row.limit_value, &row.asset_code, row.asset_scale)
}

/// The answer for `row`: active budgets say what is spent and left in this period, from the
/// wallet where it can tell, else from our record.
async fn respond(state: &AppState, row: budgets::Model) -> Result<BudgetResponse> {
    let now = state.settings.clock.now();
    let mut status = status_of(&row)?;
    if status == Active && now >= row.ends_at {
        status = Ended;
    }
    let limit = limit_of(&row);
    let mut answer = BudgetResponse {
        id: row.id,
        wallet_address: row.wallet_address.clone(),
        limit: limit.dto(),
        period: BudgetPeriod::from_iso(&row.period).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "budget {} has period {:?}",
                row.id,
                row.period
            ))
        })?,
        periods: u32::try_from(row.periods).unwrap_or(0),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        status,
        spent: None,
        left: None,
        spent_source: None,
        period_ends_at: None,
        redirect_url: row.redirect_url.clone().filter(|_| status == Pending),
        created_at: row.created_at,
    };
    if status != Active {
        return Ok(answer);
    }
    let Some((window, recorded)) = spent_by_record(&state.db, &row, now).await? else {
        return Ok(answer);
    };
    let (spent, source) = match spent_at_wallet(state, &row).await {
        Some(spent) => (spent, SpentSource::Wallet),
        None => (recorded, SpentSource::Record),
    };
    let amount = |value: i128| {
        StoredAmount::new(
            i64::try_from(value.max(0)).unwrap_or(i64::MAX),
            &row.asset_code,
            row.asset_scale,
        )
        .dto()
    };
    answer.spent = Some(amount(spent));
    answer.left = Some(amount(i128::from(row.limit_value) - spent));
    answer.spent_source = Some(source);
    answer.period_ends_at = Some(window.1);
    Ok(answer)
}

/// What the wallet says the grant spent in the current period (`None` when it cannot tell: a
/// provider from before `GET outgoing-payment-grant`, an error, another asset).
async fn spent_at_wallet(state: &AppState, row: &budgets::Model) -> Option<i128> {
    let client = &state.open_payments;
    let token = token(&state.db, client, &state.sealer, row.id, None)
        .await
        .map_err(|err| tracing::debug!(budget = %row.id, error = %err, "no token to read the spent amounts"))
        .ok()?;
    let wallet = client.get_wallet_address(&row.wallet_address).await.ok()?;
    let spent = client
        .grant_spent_amounts(&wallet, &token.value)
        .await
        .map_err(|err| tracing::debug!(budget = %row.id, error = %err, "the wallet did not tell the spent amounts"))
        .ok()?;
    match spent.spent_debit_amount {
        None => Some(0),
        Some(amount)
            if amount.asset_code == row.asset_code
                && i16::from(amount.asset_scale) == row.asset_scale =>
        {
            Some(i128::from(amount.value))
        }
        Some(_) => None,
    }
}

/// The budget's current token, opened.
fn opened(sealer: &Sealer, row: &budgets::Model) -> Result<AccessToken> {
    let (Some(value), Some(manage)) = (&row.access_token, &row.token_manage) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "active budget {} has no token",
            row.id
        )));
    };
    Ok(AccessToken {
        value: sealer.open(value, &context("access_token", row.id))?,
        manage: sealer.open(manage, &context("token_manage", row.id))?,
        expires_in: None,
        access: Vec::new(),
    })
}

/// The budget's grant continuation (for revocation), opened.
fn continuation(sealer: &Sealer, row: &budgets::Model) -> Result<Option<Continuation>> {
    let (Some(uri), Some(token)) = (&row.continue_uri, &row.continue_token) else {
        return Ok(None);
    };
    let token = sealer.open(token, &context("continue_token", row.id))?;
    Ok(Some(Continuation::new(
        uri.clone(),
        token,
        row.continue_wait_secs.and_then(|w| u64::try_from(w).ok()),
    )))
}

/// Where a budget's secret in `column` is sealed for.
fn context(column: &str, id: Uuid) -> String {
    format!("budgets.{column}:{id}")
}

/// Moves a budget from `from` to an end state, forgetting its secrets.
async fn end(
    db: &DatabaseConnection,
    id: Uuid,
    from: BudgetStatus,
    to: BudgetStatus,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let ended = budgets::Entity::update_many()
        .col_expr(budgets::Column::Status, Expr::value(to.as_str()))
        .col_expr(budgets::Column::FailureCode, Expr::value(code))
        .col_expr(budgets::Column::EndedAt, Expr::value(now))
        .col_expr(
            budgets::Column::ContinueToken,
            Expr::value(Option::<String>::None),
        )
        .filter(budgets::Column::Id.eq(id))
        .filter(budgets::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(ended.rows_affected == 1)
}

/// A budget of `user_id`'s.
pub(crate) async fn owned(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<budgets::Model> {
    budgets::Entity::find_by_id(id)
        .filter(budgets::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("You have no such budget."))
}

async fn load(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<budgets::Model>> {
    Ok(budgets::Entity::find_by_id(id).one(db).await?)
}

/// Where `row` stands, as stored.
pub(crate) fn status_of(row: &budgets::Model) -> Result<BudgetStatus> {
    Ok(parse_stored("budgets.status", &row.status)?)
}

fn vanished() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("a budget vanished"))
}

/// 128 random bits as hex.
fn hex_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The columns that end a rotation's hold on a budget.
fn unclaimed(update: sea_orm::UpdateMany<budgets::Entity>) -> sea_orm::UpdateMany<budgets::Entity> {
    update
        .col_expr(
            budgets::Column::RotationOwner,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            budgets::Column::RotationUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}
