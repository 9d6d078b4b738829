//! The checkout state machine (ARCHITECTURE §4): starting a payment, the finish callback, and
//! the verification worker. Every step is stored before the next one; every status change is a
//! conditional update plus an event row in one database transaction.

pub mod budgets;
pub mod checkout;
mod error;
pub mod evidence;
pub mod one_click;
pub(crate) mod readings;
pub mod refunds;
pub(crate) mod sending;
pub mod worker;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, UpdateMany,
};
use shifting_open_payments::client::OpenPaymentsClient;
use shifting_open_payments::types::{AccessAction, AccessItem, Amount as OpAmount, Continuation};
use shifting_shared::TransactionStatus;
use uuid::Uuid;

use crate::clock::chrono_duration;
use crate::db::begin_write;
use crate::entities::amount::StoredAmount;
use crate::entities::{rooms, transaction_events, transactions, users};
use crate::error::{ApiError, Result};
use crate::live::{Batch, Live};
use crate::secrets::{Sealer, Unopenable};
use crate::services::conversations;

pub use crate::config::PaymentSettings;

/// How long the finish callback holds a claimed approval before the worker may resume it: the
/// continuation's `wait` plus `grace` for the requests.
#[must_use]
pub(crate) fn approval_lease(wait_secs: u64, grace: std::time::Duration) -> chrono::Duration {
    chrono_duration(std::time::Duration::from_secs(wait_secs).saturating_add(grace))
}

/// Why a payment did not complete, as stored in `failure_code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumIter)]
pub enum Failure {
    /// The buyer declined at their wallet.
    Declined,
    /// The wallet ended the consent without an answer (expired, invalid, revoked).
    ConsentFailed,
    /// The quote or the approval expired first.
    Expired,
    /// A wallet provider refused or failed a step.
    ProviderError,
    /// The buyer's wallet could not send the payment (insufficient funds …).
    PaymentFailed,
    /// The money did not arrive in time.
    NotReceived,
    /// The seller closed the room before the approval was sent on.
    RoomClosed,
    /// The seller paused the room before the approval was sent on.
    RoomPaused,
    /// The buyer cancelled the payment here before approving it at their wallet.
    Cancelled,
    /// The one-click budget could not pay it (over what is left, outside its periods,
    /// revoked, or refused by the wallet); nothing was sent.
    BudgetRefused,
}

impl Failure {
    /// The stored and wire name.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Declined => "declined",
            Self::ConsentFailed => "consent_failed",
            Self::Expired => "expired",
            Self::ProviderError => "provider_error",
            Self::PaymentFailed => "payment_failed",
            Self::NotReceived => "not_received",
            Self::RoomClosed => "room_closed",
            Self::RoomPaused => "room_paused",
            Self::Cancelled => "cancelled",
            Self::BudgetRefused => "budget_refused",
        }
    }
}

/// Where payment changes are written (the database) and announced (the live fan-out).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Store<'a> {
    db: &'a DatabaseConnection,
    live: &'a Live,
}

impl<'a> Store<'a> {
    pub(crate) fn new(db: &'a DatabaseConnection, live: &'a Live) -> Self {
        Self { db, live }
    }
}

/// Moves a transaction from `from` to `to` if (and only if) it is still in `from` and the
/// extra conditions of `changes` hold, applying `changes` and recording the event, in one
/// database transaction. Returns whether this call made the change. A move to a final status
/// also forgets the wallet's grant tokens: nothing may use them any more, so they are not kept.
///
/// # Errors
/// Database errors.
pub(crate) async fn transition(
    Store { db, live }: Store<'_>,
    now: DateTime<Utc>,
    id: Uuid,
    from: TransactionStatus,
    to: TransactionStatus,
    detail: Option<String>,
    changes: impl FnOnce(UpdateMany<transactions::Entity>) -> UpdateMany<transactions::Entity>,
) -> Result<bool> {
    let txn = begin_write(db).await?;
    let mut batch = live.batch();
    let step = Step {
        now,
        id,
        from,
        to,
        detail,
    };
    let moved = transition_in(&txn, &mut batch, step, changes).await?;
    txn.commit().await?;
    batch.committed();
    if moved {
        tracing::info!(transaction = %id, %from, %to, "payment status changed");
    }
    Ok(moved)
}

/// One status change of a transaction.
#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) now: DateTime<Utc>,
    pub(crate) id: Uuid,
    pub(crate) from: TransactionStatus,
    pub(crate) to: TransactionStatus,
    pub(crate) detail: Option<String>,
}

/// [`transition`] in the caller's database transaction (which may check more first), its
/// announcement added to `batch`.
///
/// # Errors
/// Database errors.
pub(crate) async fn transition_in(
    txn: &sea_orm::DatabaseTransaction,
    batch: &mut Batch,
    Step {
        now,
        id,
        from,
        to,
        detail,
    }: Step,
    changes: impl FnOnce(UpdateMany<transactions::Entity>) -> UpdateMany<transactions::Entity>,
) -> Result<bool> {
    if !from.can_transition_to(to) {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "illegal payment transition {from} -> {to} of {id}"
        )));
    }
    let mut update = transactions::Entity::update_many()
        .col_expr(transactions::Column::Status, Expr::value(to.as_str()))
        .col_expr(transactions::Column::UpdatedAt, Expr::value(now))
        .filter(transactions::Column::Id.eq(id))
        .filter(transactions::Column::Status.eq(from.as_str()));
    if to.is_terminal() {
        for secret in [
            transactions::Column::ContinueToken,
            transactions::Column::OutgoingToken,
            transactions::Column::OutgoingTokenManage,
            transactions::Column::FinishStateHash,
        ] {
            update = update.col_expr(secret, Expr::value(Option::<String>::None));
        }
    }
    // Paid: a refund that did not go through brings a sale back to `completed` without
    // paying it again.
    let paid = from == TransactionStatus::Sending && to == TransactionStatus::Completed;
    if paid {
        update = update.col_expr(transactions::Column::CompletedAt, Expr::value(now));
    }
    let moved = changes(update).exec(txn).await?.rows_affected == 1;
    if moved {
        batch.transition(from, to);
        record_event(txn, batch, id, Some(from), to, detail, now).await?;
        if paid {
            number_receipt(txn, id).await?;
        } else if to.is_unpaid() {
            release_stock(txn, id).await?;
        }
    }
    Ok(moved)
}

/// Gives a completed sale the next number among its seller's sales. The seller's row is updated
/// first, so concurrent completions for one seller wait for each other and never share a number
/// (a unique index says so too).
async fn number_receipt(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> Result<()> {
    let seller: Option<Uuid> = transactions::Entity::find_by_id(id)
        .select_only()
        .column(transactions::Column::SellerId)
        .into_tuple()
        .one(db)
        .await?;
    let seller = seller.ok_or_else(|| anyhow::anyhow!("transaction {id} vanished"))?;
    users::Entity::update_many()
        .col_expr(
            users::Column::ReceiptsIssued,
            Expr::col(users::Column::ReceiptsIssued).add(1),
        )
        .filter(users::Column::Id.eq(seller))
        .exec(db)
        .await?;
    let issued: Option<i64> = users::Entity::find_by_id(seller)
        .select_only()
        .column(users::Column::ReceiptsIssued)
        .into_tuple()
        .one(db)
        .await?;
    transactions::Entity::update_many()
        .col_expr(transactions::Column::ReceiptSeq, Expr::value(issued))
        .filter(transactions::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives back the unit of its room that a payment held, now that it ended without money.
async fn release_stock(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> Result<()> {
    rooms::Entity::update_many()
        .col_expr(
            rooms::Column::StockTaken,
            Expr::col(rooms::Column::StockTaken).sub(1),
        )
        .filter(
            rooms::Column::Id.in_subquery(
                Query::select()
                    .column(transactions::Column::RoomId)
                    .from(transactions::Entity)
                    .and_where(transactions::Column::Id.eq(id))
                    .to_owned(),
            ),
        )
        .filter(rooms::Column::StockTaken.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a transaction as not completed: `to` with the failure code and detail.
pub(crate) async fn fail(
    store: Store<'_>,
    now: DateTime<Utc>,
    id: Uuid,
    from: TransactionStatus,
    to: TransactionStatus,
    failure: Failure,
    detail: &str,
) -> Result<bool> {
    let detail = detail.to_owned();
    transition(
        store,
        now,
        id,
        from,
        to,
        Some(detail.clone()),
        move |update| {
            clear_lease(update)
                .col_expr(
                    transactions::Column::FailureCode,
                    Expr::value(failure.code()),
                )
                .col_expr(transactions::Column::FailureDetail, Expr::value(detail))
                .col_expr(
                    transactions::Column::NextCheckAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
        },
    )
    .await
}

/// The columns that end whichever lease a transaction has (a finish callback's or a worker's).
pub(crate) fn clear_lease(
    update: UpdateMany<transactions::Entity>,
) -> UpdateMany<transactions::Entity> {
    update
        .col_expr(
            transactions::Column::LeaseOwner,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            transactions::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

/// Records a status change of transaction `id`, writes its entry in the buyer's conversation
/// with the seller and announces the new status, all in the caller's transaction.
pub(crate) async fn record_event(
    db: &impl sea_orm::ConnectionTrait,
    batch: &mut Batch,
    id: Uuid,
    from: Option<TransactionStatus>,
    to: TransactionStatus,
    detail: Option<String>,
    at: DateTime<Utc>,
) -> Result<()> {
    transaction_events::ActiveModel {
        id: Set(Uuid::new_v4()),
        transaction_id: Set(id),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        detail: Set(detail),
        at: Set(at),
    }
    .insert(db)
    .await?;
    // A sale back to `completed` after a refund that did not go through is no news to mail or
    // to write in the conversation (the refund's own entries say what happened).
    let news = from != Some(TransactionStatus::RefundPending);
    if news {
        crate::mail::payment_status(db, id, to, at).await?;
        crate::webhooks::transaction_status(db, id, to, at).await?;
    }
    conversations::status_changed(db, batch, id, to, at, news).await
}

/// The access to incoming payments on the seller's wallet.
pub(crate) fn incoming_access(seller_wallet: &str) -> AccessItem {
    AccessItem::IncomingPayment {
        actions: vec![
            AccessAction::Create,
            AccessAction::Read,
            AccessAction::Complete,
        ],
        identifier: Some(seller_wallet.to_owned()),
    }
}

/// An Open Payments amount as people read it: `25.00 USD`.
pub(crate) fn for_people(amount: &OpAmount) -> String {
    shifting_shared::api::AmountDto {
        value: amount.value.to_string(),
        asset_code: amount.asset_code.clone(),
        asset_scale: amount.asset_scale,
    }
    .display()
}

/// The price of a transaction as an Open Payments amount.
pub(crate) fn price_of(row: &transactions::Model) -> OpAmount {
    StoredAmount::new(row.amount_value, &row.asset_code, row.asset_scale).open_payments()
}

/// Closes the seller's incoming payment so that no money arrives unnoticed after the platform
/// gave up on it. Best effort: a failure is logged (an unpaid incoming payment also expires).
pub(crate) async fn close_incoming_payment(client: &OpenPaymentsClient, row: &transactions::Model) {
    let Some(incoming) = &row.incoming_payment_url else {
        return;
    };
    let seller = match client.get_wallet_address(&row.seller_wallet_address).await {
        Ok(seller) => seller,
        Err(err) => {
            tracing::warn!(transaction = %row.id, error = %err, "cannot resolve the seller's wallet to close the incoming payment");
            return;
        }
    };
    let access = incoming_access(&seller.id);
    let closed = client
        .with_token(&seller.auth_server, &access, |token| async move {
            client
                .complete_incoming_payment(incoming, &token.value)
                .await
        })
        .await;
    match closed {
        Ok(_) => {}
        Err(err) if err.status() == Some(409) => {}
        Err(err) => {
            tracing::warn!(transaction = %row.id, error = %err, "cannot close the incoming payment");
        }
    }
}

/// After a payment ended without money: closes the incoming payment and cancels the grant, so
/// neither can be used any more. Best effort, like [`close_incoming_payment`].
pub(crate) async fn release_resources(
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    row: &transactions::Model,
) {
    close_incoming_payment(client, row).await;
    let token = match continue_token(sealer, row) {
        Ok(token) => token,
        Err(err) => {
            tracing::warn!(transaction = %row.id, error = %err, "cannot cancel the grant");
            None
        }
    };
    if let (Some(uri), Some(token)) = (&row.continue_uri, token) {
        let continuation = Continuation::new(uri.clone(), token, None);
        if let Err(err) = client.cancel_grant(&continuation).await {
            tracing::debug!(transaction = %row.id, error = %err, "cannot cancel the grant");
        }
    }
}

/// Stores the outgoing-payment grant's access token while the transaction is in `status`;
/// returns whether it was stored.
pub(crate) async fn store_outgoing_token(
    db: &DatabaseConnection,
    sealer: &Sealer,
    now: DateTime<Utc>,
    id: Uuid,
    status: TransactionStatus,
    token: &shifting_open_payments::types::AccessToken,
) -> Result<bool> {
    let stored = transactions::Entity::update_many()
        .col_expr(
            transactions::Column::OutgoingToken,
            Expr::value(sealer.seal(&token.value, &outgoing_context(id))),
        )
        .col_expr(
            transactions::Column::OutgoingTokenManage,
            Expr::value(token.manage.clone()),
        )
        .col_expr(transactions::Column::UpdatedAt, Expr::value(now))
        .filter(transactions::Column::Id.eq(id))
        .filter(transactions::Column::Status.eq(status.as_str()))
        .exec(db)
        .await?;
    Ok(stored.rows_affected == 1)
}

/// Where a transaction's continuation token is sealed for.
pub(crate) fn continue_context(id: Uuid) -> String {
    format!("transactions.continue_token:{id}")
}

/// Where a transaction's outgoing-payment access token is sealed for.
pub(crate) fn outgoing_context(id: Uuid) -> String {
    format!("transactions.outgoing_token:{id}")
}

/// The grant's continuation token of `row`, opened.
///
/// # Errors
/// [`Unopenable`] when this server's key does not open it.
pub(crate) fn continue_token(
    sealer: &Sealer,
    row: &transactions::Model,
) -> std::result::Result<Option<String>, Unopenable> {
    row.continue_token
        .as_deref()
        .map(|stored| sealer.open(stored, &continue_context(row.id)))
        .transpose()
}

/// The outgoing-payment access token of `row`, opened.
///
/// # Errors
/// [`Unopenable`] when this server's key does not open it.
pub(crate) fn outgoing_token(
    sealer: &Sealer,
    row: &transactions::Model,
) -> std::result::Result<Option<String>, Unopenable> {
    row.outgoing_token
        .as_deref()
        .map(|stored| sealer.open(stored, &outgoing_context(row.id)))
        .transpose()
}

/// Loads a transaction.
pub(crate) async fn load(db: &DatabaseConnection, id: Uuid) -> Result<Option<transactions::Model>> {
    Ok(transactions::Entity::find_by_id(id).one(db).await?)
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::Failure;

    #[test]
    fn every_failure_code_is_one_clients_know() {
        // Clients (the web app's catalogues) have words for exactly the codes in FAILURE_CODES.
        let codes: Vec<_> = Failure::iter().map(Failure::code).collect();
        assert_eq!(codes, shifting_shared::transaction::FAILURE_CODES);
    }
}
