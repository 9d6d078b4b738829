//! Refunds (ARCHITECTURE §8): the seller gives a completed sale's money back. Open Payments has
//! no refund, so a refund is a new payment the other way, approved by the seller at their own
//! wallet: an incoming payment on the buyer's wallet, a quote on the seller's wallet debiting
//! exactly what the seller received, an interactive outgoing-payment grant limited to that debit
//! and that receiver, the finish callback, the outgoing payment, and verification at the
//! buyer's wallet.
//!
//! The sale moves `completed` → `refund_pending` in the database transaction that records the
//! refund, so only one refund of a sale is ever under way; it moves `refund_pending` →
//! `refunded` in the transaction that records the money arriving, and back to `completed`
//! (retryable) in the one that records the refund ending without it. `refunded` is final: at
//! most one refund of a sale completes, ever. Each step of the refund is stored before the
//! next, like a payment's: a replayed finish does nothing, the outgoing payment is created only
//! after its token is stored and looked for before being created again, and the verification
//! worker resumes whatever a crash interrupted.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, UpdateMany,
};
use serde_json::json;
use shifting_open_payments::client::OpenPaymentsClient;
use shifting_open_payments::finish::verify_finish_hash;
use shifting_open_payments::types::{
    AccessAction, AccessItem, AccessToken, Amount as OpAmount, Continuation, CreateIncomingPayment,
    CreateOutgoingPayment, GrantOutcome, InteractRequest, Limits, OutgoingPayment, WalletAddress,
};
use shifting_shared::TransactionStatus::{Completed, RefundPending, Refunded};
use shifting_shared::api::{FailureResponse, TransactionResponse};
use shifting_shared::refund::{RefundReasonRequest, RefundResponse, RefundStatus};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::checkout::FinishQuery;
use super::sending::{Lookup, find_outgoing};
use super::{PaymentSettings, Step, incoming_access, transition_in};
use crate::clock::chrono_duration;
use crate::db::begin_write;
use crate::entities::amount::StoredAmount;
use crate::entities::{parse_stored, refunds, transaction_events, transactions};
use crate::error::{ApiError, Result};
use crate::live::Live;
use crate::secrets::Sealer;
use crate::services::rooms::link;
use crate::services::tokens::sha256_hex;
use crate::services::transactions::{Viewer, transaction_response};
use crate::services::wallets;
use crate::state::AppState;

use RefundStatus::{Approved, AwaitingApproval, Declined, Expired, Failed, Sending};

/// How many rows one worker pass takes.
const BATCH: u64 = 16;
/// How long a verification holds a refund.
const LEASE: Duration = Duration::from_secs(15);
/// How long resuming an interrupted approval may take.
pub const RESUME_LEASE: Duration = Duration::from_secs(300);
/// The first retry after an inconclusive check; doubled each time up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// The longest pause between two checks of one refund.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// The buyer asks the seller for a refund of a completed purchase, with a reason the seller
/// sees (asking again replaces it).
///
/// # Errors
/// 404 for anyone but its buyer; 409 unless it is completed; 422 for a bad reason.
pub async fn request(
    state: &AppState,
    buyer_id: Uuid,
    id: Uuid,
    request: &RefundReasonRequest,
) -> Result<TransactionResponse> {
    let reason = request
        .checked()
        .map_err(|problem| ApiError::field("reason", problem))?;
    let db = &state.db;
    let row = super::load(db, id)
        .await?
        .filter(|row| row.buyer_id == Some(buyer_id))
        .ok_or(ApiError::NotFound("You have no such purchase."))?;
    let now = state.settings.clock.now();
    let txn = begin_write(db).await?;
    let asked = transactions::Entity::update_many()
        .col_expr(transactions::Column::RefundRequestedAt, Expr::value(now))
        .col_expr(
            transactions::Column::RefundRequestReason,
            Expr::value(reason.clone()),
        )
        .filter(transactions::Column::Id.eq(id))
        .filter(transactions::Column::Status.eq(Completed.as_str()))
        .exec(&txn)
        .await?;
    if asked.rows_affected != 1 {
        return Err(ApiError::conflict(
            "Only a completed purchase can be refunded, and only once.",
        ));
    }
    event(
        &txn,
        id,
        Completed,
        format!("The buyer asked for a refund: {reason}"),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(transaction = %id, "the buyer asked for a refund");
    transaction_response(db, reload(db, row.id).await?, Viewer::User(buyer_id), true).await
}

/// A history entry of the sale that changes nothing else.
async fn event(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: shifting_shared::TransactionStatus,
    detail: String,
    at: DateTime<Utc>,
) -> Result<()> {
    transaction_events::ActiveModel {
        id: Set(Uuid::new_v4()),
        transaction_id: Set(id),
        from_status: Set(Some(status.as_str().to_owned())),
        to_status: Set(status.as_str().to_owned()),
        detail: Set(Some(detail)),
        at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The seller starts refunding a completed sale in full: what their wallet received goes back
/// to the buyer's wallet once they approve it at their own wallet (`refund.consent_url`).
///
/// # Errors
/// 404 for anyone but its buyer and seller, 403 for the buyer, 409 unless the sale is
/// completed (or for a guest's purchase), 422 for a bad reason, 502 when a wallet provider
/// fails (the refund is then recorded as failed and the sale is `completed` again).
pub async fn start(
    state: &AppState,
    seller_id: Uuid,
    id: Uuid,
    request: &RefundReasonRequest,
) -> Result<TransactionResponse> {
    let reason = request
        .checked()
        .map_err(|problem| ApiError::field("reason", problem))?;
    let db = &state.db;
    let sale = super::load(db, id)
        .await?
        .filter(|row| row.seller_id == seller_id || row.buyer_id == Some(seller_id))
        .ok_or(ApiError::NotFound("You have no such sale."))?;
    if sale.seller_id != seller_id {
        return Err(ApiError::Forbidden(
            "Only the seller can refund a sale; ask them for a refund instead.",
        ));
    }
    match sale.transaction_status()? {
        Completed => {}
        RefundPending => {
            return Err(ApiError::conflict(
                "A refund of this sale is already under way.",
            ));
        }
        Refunded => return Err(ApiError::conflict("This sale has been refunded already.")),
        _ => {
            return Err(ApiError::conflict("Only a completed sale can be refunded."));
        }
    }
    if sale.buyer_id.is_none() {
        return Err(ApiError::conflict(
            "This purchase was made without an account; it can be refunded once its buyer keeps it in an account.",
        ));
    }
    let client = &state.open_payments;
    let (payer, payee) = tokio::join!(
        wallets::resolve_canonical(client, &sale.seller_wallet_address),
        wallets::resolve_canonical(client, &sale.buyer_wallet_address),
    );
    let payer = payer.map_err(|problem| {
        ApiError::Upstream(format!("Your wallet address {}.", problem.message))
    })?;
    let payee = payee.map_err(|problem| {
        ApiError::Upstream(format!("The buyer's wallet address {}.", problem.message))
    })?;
    let received = sale.received_value.unwrap_or(sale.amount_value);
    if payer.document.asset_code != sale.asset_code
        || i16::from(payer.document.asset_scale) != sale.asset_scale
    {
        return Err(ApiError::conflict(
            "Your wallet no longer holds the sale's currency, so it cannot send the refund.",
        ));
    }

    let now = state.settings.clock.now();
    let refund_id = Uuid::new_v4();
    let finish_state = hex::encode(rand::random::<[u8; 16]>());
    let client_nonce = hex::encode(rand::random::<[u8; 16]>());
    let settings = &state.settings.payments;
    let row = refunds::ActiveModel {
        id: Set(refund_id),
        transaction_id: Set(id),
        seller_id: Set(seller_id),
        reason: Set(reason.clone()),
        status: Set(AwaitingApproval.as_str().to_owned()),
        debit_value: Set(received),
        debit_asset_code: Set(sale.asset_code.clone()),
        debit_asset_scale: Set(sale.asset_scale),
        payer_wallet_address: Set(payer.document.id.clone()),
        payer_auth_server: Set(payer.document.auth_server.clone()),
        payee_wallet_address: Set(payee.document.id.clone()),
        incoming_payment_url: Set(None),
        quote_url: Set(None),
        quote_expires_at: Set(None),
        receive_value: Set(None),
        receive_asset_code: Set(None),
        receive_asset_scale: Set(None),
        continue_uri: Set(None),
        continue_token: Set(None),
        continue_wait_secs: Set(None),
        grant_created_at: Set(None),
        client_nonce: Set(client_nonce.clone()),
        finish_state_hash: Set(Some(sha256_hex(&finish_state))),
        server_nonce: Set(None),
        redirect_url: Set(None),
        interact_ref: Set(None),
        outgoing_token: Set(None),
        outgoing_token_manage: Set(None),
        outgoing_payment_url: Set(None),
        received_value: Set(None),
        failure_code: Set(None),
        failure_detail: Set(None),
        approval_expires_at: Set(Some(now + chrono_duration(settings.approval_timeout))),
        approved_at: Set(None),
        next_check_at: Set(None),
        attempts: Set(0),
        lease_owner: Set(None),
        lease_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
    };
    let txn = begin_write(db).await?;
    let mut batch = state.live.batch();
    let pending = transition_in(
        &txn,
        &mut batch,
        Step {
            now,
            id,
            from: Completed,
            to: RefundPending,
            detail: Some(format!("The seller started a refund: {reason}")),
        },
        |update| update,
    )
    .await?;
    if !pending {
        return Err(ApiError::conflict(
            "This sale changed meanwhile; look at it again.",
        ));
    }
    let row = row.insert(&txn).await?;
    txn.commit().await?;
    batch.committed();

    let ours = Ours {
        db,
        live: &state.live,
        client,
        sealer: &state.sealer,
    };
    let asked = ask(state, &row, &payer.document, &payee.document, &finish_state).await;
    if let Err(detail) = asked {
        let now = state.settings.clock.now();
        // As stored by the steps that did run: what they created is released.
        let row = refunds::Entity::find_by_id(refund_id)
            .one(db)
            .await?
            .unwrap_or(row);
        ours.end(
            &row,
            (AwaitingApproval, Failed),
            ("provider_error", &detail),
            None,
            now,
        )
        .await?;
        return Err(ApiError::Upstream(detail));
    }
    tracing::info!(transaction = %id, refund = %refund_id, "refund awaiting the seller's approval");
    transaction_response(db, reload(db, id).await?, Viewer::User(seller_id), true).await
}

/// The provider steps of a refund's start, each stored before the next: the incoming payment on
/// the buyer's wallet, the quote on the seller's, the seller's interactive grant.
async fn ask(
    state: &AppState,
    row: &refunds::Model,
    payer: &WalletAddress,
    payee: &WalletAddress,
    finish_state: &str,
) -> std::result::Result<(), String> {
    let client = &state.open_payments;
    let db = &state.db;
    let store = |update: UpdateMany<refunds::Entity>| async move {
        update
            .col_expr(
                refunds::Column::UpdatedAt,
                Expr::value(state.settings.clock.now()),
            )
            .filter(refunds::Column::Id.eq(row.id))
            .filter(refunds::Column::Status.eq(AwaitingApproval.as_str()))
            .exec(db)
            .await
            .map(|_| ())
            .map_err(|err| format!("The refund could not be recorded: {err}"))
    };
    let lifetime = chrono_duration(state.settings.payments.incoming_payment_lifetime);
    let body = CreateIncomingPayment {
        wallet_address: payee.id.clone(),
        incoming_amount: None,
        expires_at: Some(row.created_at + lifetime),
        metadata: Some(json!({
            "refundId": row.id.to_string(),
            "refundOf": row.transaction_id.to_string(),
            "description": "Shifting refund",
        })),
    };
    let incoming = client
        .with_token(&payee.auth_server, &incoming_access(&payee.id), |token| {
            let body = body.clone();
            async move {
                client
                    .create_incoming_payment(payee, &token.value, &body)
                    .await
            }
        })
        .await
        .map_err(|err| {
            format!("The buyer's wallet did not create the refund's incoming payment: {err}")
        })?;
    store(refunds::Entity::update_many().col_expr(
        refunds::Column::IncomingPaymentUrl,
        Expr::value(incoming.id.clone()),
    ))
    .await?;

    let debit = debit_of(row);
    let quote_access = AccessItem::Quote {
        actions: vec![AccessAction::Create, AccessAction::Read],
    };
    let quote = client
        .with_token(&payer.auth_server, &quote_access, |token| {
            let (incoming, debit) = (incoming.id.clone(), debit.clone());
            async move {
                client
                    .create_quote_for_debit(payer, &token.value, &incoming, &debit)
                    .await
            }
        })
        .await
        .map_err(|err| format!("Your wallet did not quote the refund: {err}"))?;
    if quote.debit_amount != debit {
        return Err(format!(
            "Your wallet quoted a debit of {} instead of {}.",
            super::for_people(&quote.debit_amount),
            super::for_people(&debit)
        ));
    }
    let approval_expires = match (quote.expires_at, row.approval_expires_at) {
        (Some(quote), Some(timeout)) => Some(Ord::min(quote, timeout)),
        (quote, timeout) => quote.or(timeout),
    };
    store(
        refunds::Entity::update_many()
            .col_expr(refunds::Column::QuoteUrl, Expr::value(quote.id.clone()))
            .col_expr(
                refunds::Column::QuoteExpiresAt,
                Expr::value(quote.expires_at),
            )
            .col_expr(
                refunds::Column::ReceiveValue,
                Expr::value(i64::try_from(quote.receive_amount.value).unwrap_or(i64::MAX)),
            )
            .col_expr(
                refunds::Column::ReceiveAssetCode,
                Expr::value(quote.receive_amount.asset_code.clone()),
            )
            .col_expr(
                refunds::Column::ReceiveAssetScale,
                Expr::value(i16::from(quote.receive_amount.asset_scale)),
            )
            .col_expr(
                refunds::Column::ApprovalExpiresAt,
                Expr::value(approval_expires),
            ),
    )
    .await?;

    let finish_uri = link(
        &state.public_url,
        &format!("api/refunds/{}/finish?state={finish_state}", row.id),
    );
    let access = AccessItem::OutgoingPayment {
        actions: vec![AccessAction::Create, AccessAction::Read, AccessAction::List],
        identifier: payer.id.clone(),
        limits: Some(Limits {
            receiver: Some(incoming.id.clone()),
            debit_amount: Some(debit),
            receive_amount: None,
            interval: None,
        }),
    };
    let grant = client
        .request_grant(
            &payer.auth_server,
            vec![access],
            Some(InteractRequest::redirect(finish_uri, &row.client_nonce)),
        )
        .await
        .map_err(|err| format!("Your wallet did not start the approval of the refund: {err}"))?;
    let grant_created = state.settings.clock.now();
    let GrantOutcome::Pending(interact, continuation) = grant.outcome() else {
        return Err(
            "Your wallet answered the refund's approval request with an unusable grant.".into(),
        );
    };
    store(
        refunds::Entity::update_many()
            .col_expr(
                refunds::Column::ContinueUri,
                Expr::value(continuation.uri.clone()),
            )
            .col_expr(
                refunds::Column::ContinueToken,
                Expr::value(state.sealer.seal(
                    &continuation.access_token.value,
                    &context("continue_token", row.id),
                )),
            )
            .col_expr(
                refunds::Column::ContinueWaitSecs,
                Expr::value(
                    continuation
                        .wait
                        .map(|w| i64::try_from(w).unwrap_or(i64::MAX)),
                ),
            )
            .col_expr(refunds::Column::GrantCreatedAt, Expr::value(grant_created))
            .col_expr(
                refunds::Column::ServerNonce,
                Expr::value(interact.finish.clone()),
            )
            .col_expr(
                refunds::Column::RedirectUrl,
                Expr::value(interact.redirect.clone()),
            ),
    )
    .await
}

/// What a refund's finish redirect did, for the sale's page (`/transactions/{id}?refund=…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishOutcome {
    /// Approved: the refund is being sent.
    Approved,
    /// The seller declined at their wallet.
    Declined,
    /// The approval ended without an answer, or the quote had expired.
    Ended,
    /// Nothing changed (a replay, or no proof of origin).
    Unchanged,
}

impl FinishOutcome {
    /// The query value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Ended => "ended",
            Self::Unchanged => "unchanged",
        }
    }
}

/// The seller is back from their wallet. Only a redirect carrying the refund's `state`
/// changes anything; only one whose hash checks approves it, and only the first: the claim is
/// a conditional update. The payment is then made on its own task. Returns the outcome and the
/// sale's id (for the redirect).
///
/// # Errors
/// Database errors.
pub async fn finish(
    state: &AppState,
    id: Uuid,
    query: &FinishQuery,
) -> Result<(FinishOutcome, Option<Uuid>)> {
    let db = &state.db;
    let Some(row) = refunds::Entity::find_by_id(id).one(db).await? else {
        return Ok((FinishOutcome::Unchanged, None));
    };
    let sale = Some(row.transaction_id);
    let proven = match (&query.state, &row.finish_state_hash) {
        (Some(presented), Some(stored)) => {
            bool::from(sha256_hex(presented).as_bytes().ct_eq(stored.as_bytes()))
        }
        _ => false,
    };
    if !proven || status_of(&row)? != AwaitingApproval {
        return Ok((FinishOutcome::Unchanged, sale));
    }
    let now = state.settings.clock.now();
    let ours = Ours::of(state);
    if let Some(result) = &query.result {
        tracing::info!(refund = %id, %result, "the wallet ended the refund's approval");
        let (to, code, detail, outcome) = match result.as_str() {
            "grant_rejected" => (
                Declined,
                "declined",
                "The seller declined the refund at their wallet.",
                FinishOutcome::Declined,
            ),
            _ => (
                Failed,
                "consent_failed",
                "The seller's wallet ended the refund's approval without an answer.",
                FinishOutcome::Ended,
            ),
        };
        let ended = ours
            .end(&row, (AwaitingApproval, to), (code, detail), None, now)
            .await?;
        return Ok((
            if ended {
                outcome
            } else {
                FinishOutcome::Unchanged
            },
            sale,
        ));
    }
    let (Some(hash), Some(interact_ref), Some(server_nonce)) =
        (&query.hash, &query.interact_ref, &row.server_nonce)
    else {
        return Ok((FinishOutcome::Unchanged, sale));
    };
    if verify_finish_hash(
        hash,
        &row.client_nonce,
        server_nonce,
        interact_ref,
        &row.payer_auth_server,
    )
    .is_none()
    {
        tracing::warn!(refund = %id, "refund finish with a hash that does not match: ignored");
        return Ok((FinishOutcome::Unchanged, sale));
    }
    if row.quote_expires_at.is_some_and(|at| at <= now) {
        let ended = ours
            .end(
                &row,
                (AwaitingApproval, Expired),
                (
                    "expired",
                    "The refund's quote expired before the seller approved it.",
                ),
                None,
                now,
            )
            .await?;
        return Ok((
            if ended {
                FinishOutcome::Ended
            } else {
                FinishOutcome::Unchanged
            },
            sale,
        ));
    }
    let wait = row
        .continue_wait_secs
        .and_then(|w| u64::try_from(w).ok())
        .unwrap_or(0);
    let lease_until = now + super::approval_lease(wait, state.settings.payments.claim_grace);
    let claimed = refunds::Entity::update_many()
        .col_expr(refunds::Column::Status, Expr::value(Approved.as_str()))
        .col_expr(refunds::Column::InteractRef, Expr::value(interact_ref))
        .col_expr(refunds::Column::ApprovedAt, Expr::value(now))
        .col_expr(refunds::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            refunds::Column::LeaseOwner,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(refunds::Column::LeaseUntil, Expr::value(Some(lease_until)))
        .filter(refunds::Column::Id.eq(id))
        .filter(refunds::Column::Status.eq(AwaitingApproval.as_str()))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok((FinishOutcome::Unchanged, sale));
    }
    transactions_note(
        db,
        row.transaction_id,
        "The seller approved the refund at their wallet.",
        now,
    )
    .await?;
    tracing::info!(refund = %id, "refund approved by the seller");
    let state = state.clone();
    let mut row = row;
    row.interact_ref = Some(interact_ref.clone());
    tokio::spawn(async move {
        let ours = Ours::of(&state);
        if let Err(err) = ours.send_and_record(&row).await {
            // The worker resumes it now, not when the approval's lease runs out; should it
            // fail too, its own lease spaces the next try.
            tracing::error!(refund = %row.id, error = format!("{err:#}"), "cannot record a refund attempt; the worker resumes it");
            ours.hand_over(row.id).await;
        }
        state.worker_wake.notify_one();
    });
    Ok((FinishOutcome::Approved, sale))
}

/// A history entry on the sale (its status unchanged).
async fn transactions_note(
    db: &DatabaseConnection,
    id: Uuid,
    detail: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    event(db, id, RefundPending, detail.to_owned(), at).await
}

/// What refunds work with (a request's state, or the worker's).
#[derive(Clone, Copy)]
pub(crate) struct Ours<'a> {
    pub(crate) db: &'a DatabaseConnection,
    pub(crate) live: &'a Live,
    pub(crate) client: &'a OpenPaymentsClient,
    pub(crate) sealer: &'a Sealer,
}

/// Why an attempt did not get a refund to `sending`, and whether the seller's wallet may hold
/// its outgoing payment all the same (then the buyer's wallet decides).
struct NotSent {
    detail: String,
    maybe_sent: bool,
}

impl NotSent {
    fn nothing(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            maybe_sent: false,
        }
    }

    fn maybe(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            maybe_sent: true,
        }
    }
}

impl<'a> Ours<'a> {
    fn of(state: &'a AppState) -> Self {
        Self {
            db: &state.db,
            live: &state.live,
            client: &state.open_payments,
            sealer: &state.sealer,
        }
    }

    /// Lifts the lease the finish callback took on approved refund `id` (while no worker holds
    /// it), so the worker may resume it at once. On failure the lease runs out instead.
    async fn hand_over(&self, id: Uuid) {
        let lifted = refunds::Entity::update_many()
            .col_expr(
                refunds::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(refunds::Column::Id.eq(id))
            .filter(refunds::Column::Status.eq(Approved.as_str()))
            .filter(refunds::Column::LeaseOwner.is_null())
            .exec(self.db)
            .await;
        if let Err(err) = lifted {
            tracing::warn!(refund = %id, error = %err, "cannot hand a refund to the worker; its lease runs out instead");
        }
    }

    /// Continues the approved grant (unless its token is stored), finds or creates the outgoing
    /// payment, and moves the refund to `sending`; records an attempt that gave up.
    async fn send_and_record(&self, row: &refunds::Model) -> Result<()> {
        let Err(not_sent) = self.send(row).await else {
            return Ok(());
        };
        let now = self.client.clock().now();
        if not_sent.maybe_sent {
            tracing::warn!(refund = %row.id, detail = %not_sent.detail, "the refund may have been sent; the buyer's wallet decides");
            unleased(refunds::Entity::update_many())
                .col_expr(refunds::Column::Status, Expr::value(Sending.as_str()))
                .col_expr(refunds::Column::NextCheckAt, Expr::value(now))
                .col_expr(refunds::Column::Attempts, Expr::value(0))
                .col_expr(refunds::Column::UpdatedAt, Expr::value(now))
                .filter(refunds::Column::Id.eq(row.id))
                .filter(refunds::Column::Status.eq(Approved.as_str()))
                .exec(self.db)
                .await?;
            return Ok(());
        }
        self.end(
            row,
            (Approved, Failed),
            ("provider_error", &not_sent.detail),
            None,
            now,
        )
        .await?;
        Ok(())
    }

    async fn send(&self, row: &refunds::Model) -> std::result::Result<(), NotSent> {
        let quote = row
            .quote_url
            .clone()
            .ok_or_else(|| NotSent::nothing("The refund has no quote."))?;
        let may_exist = row.outgoing_token.is_some();
        let sent_if = |detail: String| NotSent {
            detail,
            maybe_sent: may_exist,
        };
        let token = match self.stored_token(row).map_err(|e| sent_if(e.to_string()))? {
            Some(token) => token,
            None => self.continue_grant(row).await?,
        };
        let payer = self
            .client
            .get_wallet_address(&row.payer_wallet_address)
            .await
            .map_err(|err| sent_if(format!("Your wallet address could not be resolved: {err}")))?;
        let existing = if may_exist {
            self.find_ours(&payer, &token, row, &quote).await?
        } else {
            None
        };
        let payment = match existing {
            Some(payment) => payment,
            None => {
                let body = CreateOutgoingPayment {
                    wallet_address: payer.id.clone(),
                    quote_id: quote.clone(),
                    metadata: Some(json!({
                        "refundId": row.id.to_string(),
                        "refundOf": row.transaction_id.to_string(),
                    })),
                };
                self.client
                    .create_outgoing_payment(&payer, &token.value, &body)
                    .await
                    .map_err(|err| {
                        let detail =
                            format!("Your wallet did not make the refund's payment: {err}");
                        if err.may_have_acted() {
                            NotSent::maybe(detail)
                        } else {
                            NotSent::nothing(detail)
                        }
                    })?
            }
        };
        let now = self.client.clock().now();
        unleased(refunds::Entity::update_many())
            .col_expr(refunds::Column::Status, Expr::value(Sending.as_str()))
            .col_expr(
                refunds::Column::OutgoingPaymentUrl,
                Expr::value(payment.id.clone()),
            )
            .col_expr(refunds::Column::NextCheckAt, Expr::value(now))
            .col_expr(refunds::Column::Attempts, Expr::value(0))
            .col_expr(refunds::Column::UpdatedAt, Expr::value(now))
            .filter(refunds::Column::Id.eq(row.id))
            .filter(refunds::Column::Status.eq(Approved.as_str()))
            .exec(self.db)
            .await
            .map_err(|err| NotSent::maybe(format!("The refund could not be recorded: {err}")))?;
        tracing::info!(refund = %row.id, payment = %payment.id, "refund sending");
        Ok(())
    }

    /// The stored outgoing-payment token, opened.
    fn stored_token(&self, row: &refunds::Model) -> Result<Option<AccessToken>> {
        let (Some(value), Some(manage)) = (&row.outgoing_token, &row.outgoing_token_manage) else {
            return Ok(None);
        };
        Ok(Some(AccessToken {
            value: self
                .sealer
                .open(value, &context("outgoing_token", row.id))?,
            manage: self
                .sealer
                .open(manage, &context("outgoing_token_manage", row.id))?,
            expires_in: None,
            access: Vec::new(),
        }))
    }

    /// Waits out the grant's `wait`, continues it, and stores the token before anything is
    /// paid with it. Nothing can have been sent when this fails.
    async fn continue_grant(
        &self,
        row: &refunds::Model,
    ) -> std::result::Result<AccessToken, NotSent> {
        let token = row
            .continue_token
            .as_deref()
            .map(|stored| self.sealer.open(stored, &context("continue_token", row.id)))
            .transpose()
            .map_err(|err| NotSent::nothing(err.to_string()))?;
        let (Some(uri), Some(token), Some(interact_ref)) =
            (&row.continue_uri, token, &row.interact_ref)
        else {
            return Err(NotSent::nothing(
                "The refund has no continuation of its approval.",
            ));
        };
        let continuation = Continuation::new(
            uri.clone(),
            token,
            row.continue_wait_secs.and_then(|w| u64::try_from(w).ok()),
        );
        let answered = row
            .grant_created_at
            .map_or_else(|| self.client.clock().system_time(), SystemTime::from);
        let grant = self
            .client
            .continue_grant(&continuation, interact_ref, answered)
            .await
            .map_err(|err| {
                NotSent::nothing(format!(
                    "Your wallet did not confirm the refund's approval: {err}"
                ))
            })?;
        let GrantOutcome::Granted(access) = grant.outcome() else {
            return Err(NotSent::nothing(
                "Your wallet confirmed the refund's approval without an access token.",
            ));
        };
        let now = self.client.clock().now();
        let stored = refunds::Entity::update_many()
            .col_expr(
                refunds::Column::OutgoingToken,
                Expr::value(
                    self.sealer
                        .seal(&access.value, &context("outgoing_token", row.id)),
                ),
            )
            .col_expr(
                refunds::Column::OutgoingTokenManage,
                Expr::value(
                    self.sealer
                        .seal(&access.manage, &context("outgoing_token_manage", row.id)),
                ),
            )
            .col_expr(refunds::Column::UpdatedAt, Expr::value(now))
            .filter(refunds::Column::Id.eq(row.id))
            .filter(refunds::Column::Status.eq(Approved.as_str()))
            .exec(self.db)
            .await
            .map_err(|err| NotSent::nothing(format!("The refund could not be recorded: {err}")))?;
        if stored.rows_affected != 1 {
            return Err(NotSent::nothing(
                "The refund changed meanwhile; nothing was sent.",
            ));
        }
        Ok(access.clone())
    }

    /// The seller's outgoing payment made for this refund by an interrupted attempt, if any.
    /// Failing to tell counts as maybe sent.
    async fn find_ours(
        &self,
        payer: &WalletAddress,
        token: &AccessToken,
        row: &refunds::Model,
        quote: &str,
    ) -> std::result::Result<Option<OutgoingPayment>, NotSent> {
        let id = row.id.to_string();
        find_outgoing(self.client, payer, token, quote, ("refundId", &id))
            .await
            .map_err(|lookup| {
                NotSent::maybe(match lookup {
                    Lookup::Unlisted(err) => {
                        format!("Your wallet did not list its payments: {err}")
                    }
                    Lookup::TooMany => {
                        "Your wallet holds too many payments to check; nothing was sent again."
                            .to_owned()
                    }
                })
            })
    }

    /// Ends a refund in `to` (if it is still in `from`), puts the sale back to `completed`
    /// with the reason in its history, in one database transaction; then releases what the
    /// refund held at the wallets. Returns whether this call ended it.
    async fn end(
        &self,
        row: &refunds::Model,
        (from, to): (RefundStatus, RefundStatus),
        (code, detail): (&str, &str),
        holder: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let txn = begin_write(self.db).await?;
        let mut batch = self.live.batch();
        let mut update = erase(unleased(refunds::Entity::update_many()));
        if let Some(holder) = holder {
            // A verification ends only the refund it still holds: another replica may have
            // seen the money arrive meanwhile.
            update = update.filter(refunds::Column::LeaseOwner.eq(holder));
        }
        let ended = update
            .col_expr(refunds::Column::Status, Expr::value(to.as_str()))
            .col_expr(refunds::Column::FailureCode, Expr::value(code))
            .col_expr(refunds::Column::FailureDetail, Expr::value(detail))
            .col_expr(refunds::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                refunds::Column::NextCheckAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(refunds::Column::Id.eq(row.id))
            .filter(refunds::Column::Status.eq(from.as_str()))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if ended {
            transition_in(
                &txn,
                &mut batch,
                Step {
                    now,
                    id: row.transaction_id,
                    from: RefundPending,
                    to: Completed,
                    detail: Some(format!(
                        "The refund did not go through: {detail} Nothing was returned; the sale can be refunded again."
                    )),
                },
                |update| update,
            )
            .await?;
        }
        txn.commit().await?;
        batch.committed();
        if ended {
            tracing::info!(refund = %row.id, status = to.as_str(), "refund ended without money");
            self.release(row).await;
        }
        Ok(ended)
    }

    /// Closes the buyer's incoming payment and cancels the seller's grant (best effort).
    async fn release(&self, row: &refunds::Model) {
        if let Some(incoming) = &row.incoming_payment_url
            && let Ok(payee) = self
                .client
                .get_wallet_address(&row.payee_wallet_address)
                .await
        {
            let client = self.client;
            let closed = client
                .with_token(
                    &payee.auth_server,
                    &incoming_access(&payee.id),
                    |token| async move {
                        client
                            .complete_incoming_payment(incoming, &token.value)
                            .await
                    },
                )
                .await;
            if let Err(err) = closed {
                tracing::debug!(refund = %row.id, error = %err, "cannot close the refund's incoming payment");
            }
        }
        let token = row.continue_token.as_deref().and_then(|stored| {
            self.sealer
                .open(stored, &context("continue_token", row.id))
                .ok()
        });
        if let (Some(uri), Some(token)) = (&row.continue_uri, token) {
            let continuation = Continuation::new(uri.clone(), token, None);
            if let Err(err) = self.client.cancel_grant(&continuation).await {
                tracing::debug!(refund = %row.id, error = %err, "cannot cancel the refund's grant");
            }
        }
    }

    /// The worker's pass over refunds: expiries, interrupted approvals, due verifications.
    /// Returns how long until the next verification is due.
    pub(crate) async fn pass(&self, settings: &PaymentSettings, worker: Uuid) -> Result<Duration> {
        let now = self.client.clock().now();
        let due = refunds::Entity::find()
            .filter(refunds::Column::Status.eq(AwaitingApproval.as_str()))
            .filter(refunds::Column::ApprovalExpiresAt.lte(now))
            .limit(BATCH)
            .all(self.db)
            .await?;
        for row in due {
            self.end(
                &row,
                (AwaitingApproval, Expired),
                ("expired", "The seller did not approve the refund in time."),
                None,
                now,
            )
            .await?;
        }
        for row in self.lease(Approved, false, RESUME_LEASE, worker).await? {
            tracing::warn!(refund = %row.id, "resuming a refund whose approval was interrupted");
            if let Err(err) = self.send_and_record(&row).await {
                tracing::error!(refund = %row.id, error = format!("{err:#}"), "cannot record an interrupted refund");
            }
        }
        for row in self.lease(Sending, true, LEASE, worker).await? {
            if let Err(err) = self.verify(&row, settings, worker).await {
                tracing::error!(refund = %row.id, error = format!("{err:#}"), "refund verification failed");
            }
        }
        let next = refunds::Entity::find()
            .filter(refunds::Column::Status.eq(Sending.as_str()))
            .filter(refunds::Column::NextCheckAt.is_not_null())
            .order_by_asc(refunds::Column::NextCheckAt)
            .one(self.db)
            .await?
            .and_then(|row| row.next_check_at);
        Ok(next.map_or(MAX_RETRY, |at| {
            (at - self.client.clock().now())
                .to_std()
                .unwrap_or(Duration::ZERO)
        }))
    }

    /// Takes a lease on refunds in `status` nobody holds (and, with `when_due`, whose check is
    /// due).
    async fn lease(
        &self,
        status: RefundStatus,
        when_due: bool,
        length: Duration,
        worker: Uuid,
    ) -> Result<Vec<refunds::Model>> {
        let now = self.client.clock().now();
        let free = Condition::any()
            .add(refunds::Column::LeaseUntil.is_null())
            .add(refunds::Column::LeaseUntil.lt(now));
        let txn = begin_write(self.db).await?;
        let mut query = refunds::Entity::find()
            .select_only()
            .column(refunds::Column::Id)
            .filter(refunds::Column::Status.eq(status.as_str()))
            .filter(free.clone())
            .limit(BATCH);
        if when_due {
            query = query.filter(refunds::Column::NextCheckAt.lte(now));
        }
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let ids: Vec<Uuid> = query.into_tuple().all(&txn).await?;
        if ids.is_empty() {
            txn.commit().await?;
            return Ok(Vec::new());
        }
        refunds::Entity::update_many()
            .col_expr(refunds::Column::LeaseOwner, Expr::value(worker))
            .col_expr(
                refunds::Column::LeaseUntil,
                Expr::value(now + chrono_duration(length)),
            )
            .filter(refunds::Column::Id.is_in(ids.clone()))
            .filter(refunds::Column::Status.eq(status.as_str()))
            .filter(free)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(refunds::Entity::find()
            .filter(refunds::Column::Id.is_in(ids))
            .filter(refunds::Column::LeaseOwner.eq(worker))
            .all(self.db)
            .await?)
    }

    /// Checks a sending refund at the buyer's wallet: completed (and the sale refunded) once
    /// the incoming payment received what was quoted; failed when the seller's wallet gave up
    /// or the verification timeout passed.
    async fn verify(
        &self,
        row: &refunds::Model,
        settings: &PaymentSettings,
        worker: Uuid,
    ) -> Result<()> {
        let now = self.client.clock().now();
        let received = self.received(row).await;
        let wanted = row.receive_value.unwrap_or(i64::MAX);
        match &received {
            Ok(value) if *value >= wanted => return self.complete(row, *value, worker).await,
            Ok(_) => {}
            Err(err) => tracing::warn!(refund = %row.id, error = %err, "cannot check a refund yet"),
        }
        // Ended without the money only when the buyer's wallet can say how much arrived: a
        // refund ended as "nothing returned" can be made again, so it must really be nothing.
        let failed = self.outgoing_failed(row).await;
        let since = row.approved_at.unwrap_or(row.created_at);
        let timed_out = now >= since + chrono_duration(settings.verification_timeout);
        if failed || timed_out {
            let why = if failed {
                (
                    "payment_failed",
                    "Your wallet could not send the refund (for example, the balance was too low).",
                )
            } else {
                (
                    "not_received",
                    "The buyer's wallet did not receive the refund in time.",
                )
            };
            match received {
                Ok(0) => {
                    self.end(row, (Sending, Failed), why, Some(worker), now)
                        .await?;
                    return Ok(());
                }
                Ok(part) => return self.end_partly(row, part, worker, now).await,
                // Cannot tell yet: checked again, at the longest pause.
                Err(_) => {}
            }
        }
        let attempts = row.attempts.saturating_add(1);
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(16);
        let pause = FIRST_RETRY.saturating_mul(1 << exponent).min(MAX_RETRY);
        unleased(refunds::Entity::update_many())
            .col_expr(refunds::Column::Attempts, Expr::value(attempts))
            .col_expr(
                refunds::Column::NextCheckAt,
                Expr::value(now + chrono_duration(pause)),
            )
            .col_expr(refunds::Column::ReceivedValue, Expr::value(received.ok()))
            .filter(refunds::Column::Id.eq(row.id))
            .filter(refunds::Column::Status.eq(Sending.as_str()))
            .filter(refunds::Column::LeaseOwner.eq(worker))
            .exec(self.db)
            .await?;
        Ok(())
    }

    /// Ends a refund of which only `part` arrived: failed, but the sale stays `refund_pending`
    /// (never refundable again on its own, which could return more than was received); the
    /// seller settles the rest with the buyer.
    async fn end_partly(
        &self,
        row: &refunds::Model,
        part: i64,
        worker: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let got = receive_of(row)
            .map(|quoted| {
                super::for_people(&OpAmount {
                    value: u64::try_from(part).unwrap_or(0),
                    ..quoted
                })
            })
            .unwrap_or_default();
        let detail = format!(
            "The buyer's wallet received only {got} of the refund; the rest did not arrive. Settle it with the buyer."
        );
        let ended = erase(unleased(refunds::Entity::update_many()))
            .col_expr(refunds::Column::Status, Expr::value(Failed.as_str()))
            .col_expr(refunds::Column::FailureCode, Expr::value("partly_received"))
            .col_expr(refunds::Column::FailureDetail, Expr::value(detail.clone()))
            .col_expr(refunds::Column::ReceivedValue, Expr::value(part))
            .col_expr(refunds::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                refunds::Column::NextCheckAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(refunds::Column::Id.eq(row.id))
            .filter(refunds::Column::Status.eq(Sending.as_str()))
            .filter(refunds::Column::LeaseOwner.eq(worker))
            .exec(self.db)
            .await?
            .rows_affected
            == 1;
        if ended {
            transactions_note(self.db, row.transaction_id, &detail, now).await?;
            tracing::warn!(refund = %row.id, part, "refund partly received");
        }
        Ok(())
    }

    /// Records that the buyer received the refund: the refund completed and the sale refunded,
    /// in one database transaction (the sale's conditional move is what makes a second
    /// completed refund impossible).
    async fn complete(&self, row: &refunds::Model, received: i64, worker: Uuid) -> Result<()> {
        let now = self.client.clock().now();
        let txn = begin_write(self.db).await?;
        let mut batch = self.live.batch();
        let done = erase(unleased(refunds::Entity::update_many()))
            .col_expr(
                refunds::Column::Status,
                Expr::value(RefundStatus::Completed.as_str()),
            )
            .col_expr(refunds::Column::ReceivedValue, Expr::value(received))
            .col_expr(refunds::Column::CompletedAt, Expr::value(now))
            .col_expr(refunds::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                refunds::Column::NextCheckAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(refunds::Column::Id.eq(row.id))
            .filter(refunds::Column::Status.eq(Sending.as_str()))
            .filter(refunds::Column::LeaseOwner.eq(worker))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if done {
            let amount = receive_of(row)
                .map(|a| super::for_people(&a))
                .unwrap_or_default();
            let refunded = transition_in(
                &txn,
                &mut batch,
                Step {
                    now,
                    id: row.transaction_id,
                    from: RefundPending,
                    to: Refunded,
                    detail: Some(format!("Refunded: the buyer's wallet received {amount}.")),
                },
                |update| update,
            )
            .await?;
            if !refunded {
                // The refund's row says it is the sale's one refund under way; anything else
                // is a bug, and nothing is recorded half.
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "refund {} completed but its sale {} was not refund_pending",
                    row.id,
                    row.transaction_id
                )));
            }
        }
        txn.commit().await?;
        batch.committed();
        if done {
            tracing::info!(refund = %row.id, transaction = %row.transaction_id, "refund completed");
        }
        Ok(())
    }

    /// What the buyer's incoming payment has received, in minor units of the quoted asset.
    async fn received(&self, row: &refunds::Model) -> std::result::Result<i64, String> {
        let url = row
            .incoming_payment_url
            .as_deref()
            .ok_or("the refund has no incoming payment")?;
        let payee = self
            .client
            .get_wallet_address(&row.payee_wallet_address)
            .await
            .map_err(|err| err.to_string())?;
        let client = self.client;
        let incoming = client
            .with_token(
                &payee.auth_server,
                &incoming_access(&payee.id),
                |token| async move { client.get_incoming_payment(url, &token.value).await },
            )
            .await
            .map_err(|err| err.to_string())?;
        let amount = incoming.received_amount;
        let same = Some(amount.asset_code.as_str()) == row.receive_asset_code.as_deref()
            && Some(i16::from(amount.asset_scale)) == row.receive_asset_scale;
        if !same {
            return Err("the buyer's wallet received another asset".into());
        }
        Ok(i64::try_from(amount.value).unwrap_or(i64::MAX))
    }

    /// Whether the seller's wallet says the refund's payment failed.
    async fn outgoing_failed(&self, row: &refunds::Model) -> bool {
        let (Some(url), Ok(Some(token))) = (&row.outgoing_payment_url, self.stored_token(row))
        else {
            return false;
        };
        match self.client.get_outgoing_payment(url, &token.value).await {
            Ok(payment) => payment.failed,
            Err(err) => {
                tracing::debug!(refund = %row.id, error = %err, "cannot read the refund's outgoing payment");
                false
            }
        }
    }
}

/// The columns that forget a refund's secrets once it has ended.
fn erase(update: UpdateMany<refunds::Entity>) -> UpdateMany<refunds::Entity> {
    [
        refunds::Column::ContinueToken,
        refunds::Column::OutgoingToken,
        refunds::Column::OutgoingTokenManage,
        refunds::Column::FinishStateHash,
    ]
    .into_iter()
    .fold(update, |update, column| {
        update.col_expr(column, Expr::value(Option::<String>::None))
    })
}

/// The refund's debit: what the seller received for the sale.
fn debit_of(row: &refunds::Model) -> OpAmount {
    StoredAmount::new(
        row.debit_value,
        &row.debit_asset_code,
        row.debit_asset_scale,
    )
    .open_payments()
}

/// What the quote says the buyer receives.
fn receive_of(row: &refunds::Model) -> Option<OpAmount> {
    match (
        row.receive_value,
        &row.receive_asset_code,
        row.receive_asset_scale,
    ) {
        (Some(value), Some(code), Some(scale)) => {
            Some(StoredAmount::new(value, code, scale).open_payments())
        }
        _ => None,
    }
}

/// Where a refund's secret in `column` is sealed for.
fn context(column: &str, id: Uuid) -> String {
    format!("refunds.{column}:{id}")
}

fn status_of(row: &refunds::Model) -> Result<RefundStatus> {
    Ok(parse_stored("refunds.status", &row.status)?)
}

async fn reload(db: &DatabaseConnection, id: Uuid) -> Result<transactions::Model> {
    super::load(db, id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("transaction {id} vanished")))
}

/// The latest refund of a sale as `viewer` sees it (its consent page for the seller only).
///
/// # Errors
/// Database errors.
pub(crate) async fn latest(
    db: &impl ConnectionTrait,
    transaction: Uuid,
    viewer: Viewer,
) -> Result<Option<RefundResponse>> {
    let Some(row) = refunds::Entity::find()
        .filter(refunds::Column::TransactionId.eq(transaction))
        .order_by_desc(refunds::Column::CreatedAt)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let status = status_of(&row)?;
    let seller_views = viewer == Viewer::User(row.seller_id);
    let failure = row.failure_code.clone().map(|code| FailureResponse {
        code,
        detail: row.failure_detail.clone().unwrap_or_default(),
    });
    Ok(Some(RefundResponse {
        id: row.id,
        status,
        reason: row.reason.clone(),
        amount: StoredAmount::new(
            row.debit_value,
            &row.debit_asset_code,
            row.debit_asset_scale,
        )
        .dto(),
        buyer_receives: match (
            row.receive_value,
            &row.receive_asset_code,
            row.receive_asset_scale,
        ) {
            (Some(value), Some(code), Some(scale)) => {
                Some(StoredAmount::new(value, code, scale).dto())
            }
            _ => None,
        },
        consent_url: row
            .redirect_url
            .clone()
            .filter(|_| seller_views && status == AwaitingApproval),
        failure,
        incoming_payment: row.incoming_payment_url,
        outgoing_payment: row.outgoing_payment_url,
        created_at: row.created_at,
        completed_at: row.completed_at,
    }))
}

/// The columns that end whoever holds a refund (a finish, a worker).
fn unleased(update: UpdateMany<refunds::Entity>) -> UpdateMany<refunds::Entity> {
    update
        .col_expr(
            refunds::Column::LeaseOwner,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            refunds::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}
