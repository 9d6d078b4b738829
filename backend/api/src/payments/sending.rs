//! From an approved grant to a `sending` transaction: continue the grant, create the outgoing
//! payment from the quote, record it. The finish callback runs this right after its claim; the
//! verification worker runs it again for approvals a crash left halfway.
//!
//! Each step is recorded before the next one, so a resumed attempt knows where it stands:
//! - no outgoing-payment token stored: the grant was not continued, or the process died before
//!   the token was stored; then no outgoing payment can exist (it needs that token), so the
//!   grant is continued again, and if the wallet refuses (continuation is one-shot) the payment
//!   ends as failed with nothing sent;
//! - a token stored: the payment may exist already. The buyer's outgoing payments are listed
//!   and matched on our `metadata.transactionId` (or the quote) before creating one, so money
//!   moves at most once.

use std::time::{Duration, SystemTime};

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::json;
use shifting_open_payments::client::{OpenPaymentsClient, OpenPaymentsError};
use shifting_open_payments::types::{
    AccessToken, Continuation, ContinuationToken, CreateOutgoingPayment, GrantOutcome,
    OutgoingPayment, WalletAddress,
};
use shifting_shared::RoomStatus;
use shifting_shared::TransactionStatus::{Approved, Sending};
use uuid::Uuid;

use super::checkout::chrono_duration;
use super::{Failure, transition};
use crate::entities::{rooms, transactions};

/// How many pages of the buyer's outgoing payments a resumed attempt looks through.
const MAX_PAGES: usize = 20;

/// How long the finish callback holds a claimed approval before the worker may resume it: the
/// continuation's `wait` plus `grace` for the requests.
#[must_use]
pub(crate) fn approval_lease(wait_secs: u64, grace: Duration) -> chrono::Duration {
    chrono_duration(Duration::from_secs(wait_secs).saturating_add(grace))
}

type StepResult<T> = Result<T, (Failure, String)>;

fn provider(what: &str, err: &OpenPaymentsError) -> (Failure, String) {
    (Failure::ProviderError, format!("{what}: {err}"))
}

fn unrecorded(err: &impl std::fmt::Display) -> (Failure, String) {
    (
        Failure::ProviderError,
        format!("The payment could not be recorded: {err}"),
    )
}

/// Continues the grant (unless its token is stored already), finds or creates the outgoing
/// payment, and moves the transaction to `sending`. `resuming` says an earlier attempt may have
/// got further. Returns whether this call made the move.
///
/// # Errors
/// Why the payment cannot go on, for the record; nothing was sent then.
pub(crate) async fn send(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    row: &transactions::Model,
    resuming: bool,
) -> StepResult<bool> {
    let quote = row.quote_url.as_deref().ok_or((
        Failure::ProviderError,
        "The approval has no quote.".to_owned(),
    ))?;
    let token = match (&row.outgoing_token, &row.outgoing_token_manage) {
        (Some(value), Some(manage)) => AccessToken {
            value: value.clone(),
            manage: manage.clone(),
            expires_in: None,
            access: Vec::new(),
        },
        _ => {
            // Nothing is sent for a room its seller closed or paused since the start.
            ensure_room_open(db, row).await?;
            continue_grant(db, client, row).await?
        }
    };
    let buyer = client
        .get_wallet_address(&row.buyer_wallet_address)
        .await
        .map_err(|e| provider("The buyer's wallet address could not be resolved", &e))?;
    let existing = if resuming {
        find_ours(client, &buyer, &token, row.id, quote).await?
    } else {
        None
    };
    let payment = match existing {
        Some(payment) => {
            tracing::info!(transaction = %row.id, payment = %payment.id, "found the outgoing payment of an interrupted attempt");
            payment
        }
        None => create(client, &buyer, &token, row, quote).await?,
    };
    let url = payment.id;
    let now = Utc::now();
    transition(
        db,
        row.id,
        Approved,
        Sending,
        Some("The buyer's wallet is sending the payment.".into()),
        move |u| {
            u.col_expr(transactions::Column::OutgoingPaymentUrl, Expr::value(url))
                .col_expr(transactions::Column::NextCheckAt, Expr::value(now))
                .col_expr(transactions::Column::Attempts, Expr::value(0))
                .col_expr(
                    transactions::Column::LeaseUntil,
                    Expr::value(Option::<chrono::DateTime<Utc>>::None),
                )
                .col_expr(
                    transactions::Column::LeaseOwner,
                    Expr::value(Option::<Uuid>::None),
                )
        },
    )
    .await
    .map_err(|e| unrecorded(&e))
}

/// Whether the transaction's room still takes payments, read from the database (never the
/// cached public view).
async fn ensure_room_open(db: &DatabaseConnection, row: &transactions::Model) -> StepResult<()> {
    let room = rooms::Entity::find_by_id(row.room_id)
        .one(db)
        .await
        .map_err(|e| unrecorded(&e))?
        .ok_or((Failure::RoomClosed, "The room no longer exists.".to_owned()))?;
    match room.status.parse::<RoomStatus>() {
        Ok(RoomStatus::Open) => Ok(()),
        Ok(RoomStatus::Paused) => Err((
            Failure::RoomPaused,
            "The seller paused the room before the payment was sent.".to_owned(),
        )),
        Ok(RoomStatus::Closed) => Err((
            Failure::RoomClosed,
            "The seller closed the room before the payment was sent.".to_owned(),
        )),
        Err(err) => Err(unrecorded(&err)),
    }
}

/// Continues the grant with the stored `interact_ref` and stores the token before anything
/// is paid with it.
async fn continue_grant(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    row: &transactions::Model,
) -> StepResult<AccessToken> {
    let (Some(uri), Some(token), Some(interact_ref)) =
        (&row.continue_uri, &row.continue_token, &row.interact_ref)
    else {
        return Err((
            Failure::ProviderError,
            "The approval is missing its continuation.".into(),
        ));
    };
    let continuation = Continuation {
        access_token: ContinuationToken {
            value: token.clone(),
        },
        uri: uri.clone(),
        wait: row.continue_wait_secs.and_then(|w| u64::try_from(w).ok()),
    };
    let created = row
        .grant_created_at
        .map_or_else(SystemTime::now, SystemTime::from);
    let grant = client
        .continue_grant(&continuation, interact_ref, created)
        .await
        .map_err(|e| provider("The buyer's wallet did not confirm the approval", &e))?;
    let GrantOutcome::Granted(access) = grant.outcome() else {
        return Err((
            Failure::ProviderError,
            "The buyer's wallet confirmed the approval without an access token.".into(),
        ));
    };
    // Stored before the payment is created: a payment must never exist without the token
    // that can find it again.
    let stored = super::store_outgoing_token(db, row.id, Approved, access)
        .await
        .map_err(|e| unrecorded(&e))?;
    if !stored {
        return Err((
            Failure::ProviderError,
            "The payment changed meanwhile; nothing was sent.".into(),
        ));
    }
    Ok(access.clone())
}

/// Creates the outgoing payment from the quote, tagged with the transaction id.
async fn create(
    client: &OpenPaymentsClient,
    buyer: &WalletAddress,
    token: &AccessToken,
    row: &transactions::Model,
    quote: &str,
) -> StepResult<OutgoingPayment> {
    let body = CreateOutgoingPayment {
        wallet_address: buyer.id.clone(),
        quote_id: quote.to_owned(),
        metadata: Some(json!({ "transactionId": row.id.to_string() })),
    };
    client
        .create_outgoing_payment(buyer, &token.value, &body)
        .await
        .map_err(|err| match err.status() {
            Some(400) if row.quote_expires_at.is_some_and(|at| at <= Utc::now()) => (
                Failure::Expired,
                "The quote expired before the payment could be sent.".to_owned(),
            ),
            _ => provider("The buyer's wallet did not create the payment", &err),
        })
}

/// The buyer's outgoing payment made for this transaction, if an earlier attempt created it.
async fn find_ours(
    client: &OpenPaymentsClient,
    buyer: &WalletAddress,
    token: &AccessToken,
    id: Uuid,
    quote: &str,
) -> StepResult<Option<OutgoingPayment>> {
    let id = id.to_string();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .list_outgoing_payments(buyer, &token.value, 100, cursor.as_deref())
            .await
            .map_err(|e| provider("The buyer's wallet did not list its payments", &e))?;
        let ours = page.result.into_iter().find(|payment| {
            payment.quote_id.as_deref() == Some(quote)
                || payment
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get("transactionId"))
                    .and_then(|v| v.as_str())
                    == Some(id.as_str())
        });
        if ours.is_some() {
            return Ok(ours);
        }
        match (page.pagination.has_next_page, page.pagination.end_cursor) {
            (true, Some(next)) => cursor = Some(next),
            _ => return Ok(None),
        }
    }
    Err((
        Failure::ProviderError,
        "The buyer's wallet holds too many payments to check; nothing was sent again.".into(),
    ))
}
