//! The verification worker: runs in every API process. It expires approvals nobody answered,
//! and for every `sending` payment polls the buyer's outgoing payment and the seller's incoming
//! payment with backoff until the seller has received the full price (`completed`), the
//! buyer's wallet gave up (`failed`), or the verification timeout since consent passed.
//!
//! Rows are taken with a lease (on PostgreSQL under `FOR UPDATE SKIP LOCKED`), so several
//! replicas never work on one row at once, and a crashed worker's rows are picked up again when
//! its lease runs out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use shifting_open_payments::client::OpenPaymentsClient;
use shifting_open_payments::types::{Amount as OpAmount, IncomingPayment, OutgoingPayment};
use shifting_shared::TransactionStatus;
use tokio::sync::Notify;
use uuid::Uuid;

use super::error::PaymentError;
use super::sending;
use super::{
    Failure, PaymentSettings, Store, clear_lease, close_incoming_payment, fail, price_of,
    release_resources, transition,
};
use crate::clock::chrono_duration;
use crate::db::begin_write;
use crate::entities::transactions;
use crate::error::Result;
use crate::live::Live;
use crate::secrets::Sealer;

use TransactionStatus::{Approved, AwaitingApproval, Completed, Expired, Failed, Sending};

/// How many rows one pass takes.
const BATCH: u64 = 16;
/// How long a lease lasts. A check of one row takes two provider round trips in parallel; a
/// worker that died holding leases delays those rows by at most this much. A check that runs
/// longer only lets another worker look too, which is harmless: every change is conditional.
const LEASE: Duration = Duration::from_secs(15);
/// How long resuming an interrupted approval may take (a continuation, a few pages of the
/// buyer's payments, a creation).
pub const RESUME_LEASE: Duration = Duration::from_secs(300);
/// The longest the worker sleeps without being woken (new rows from other replicas, expiries).
const IDLE: Duration = Duration::from_secs(1);
/// The first retry after a check that found nothing final; doubled each time.
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// The longest pause between two checks of one payment.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// What the worker works with.
#[derive(Clone, Debug)]
pub struct Worker {
    db: DatabaseConnection,
    live: Live,
    client: OpenPaymentsClient,
    sealer: Arc<Sealer>,
    settings: PaymentSettings,
    wake: Arc<Notify>,
    id: Uuid,
}

impl Worker {
    /// A worker over `db` using `client`, woken by `wake`.
    #[must_use]
    pub fn new(
        db: DatabaseConnection,
        live: Live,
        client: OpenPaymentsClient,
        sealer: Arc<Sealer>,
        settings: PaymentSettings,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            live,
            client,
            sealer,
            settings,
            wake,
            id: Uuid::new_v4(),
        }
    }

    /// The time now, by the client's (the application's) clock.
    fn now(&self) -> DateTime<Utc> {
        self.client.clock().now()
    }

    /// Runs until the task is dropped: a pass, then sleep until woken or the next check is due.
    pub async fn run(self) {
        tracing::info!(worker = %self.id, "payment verification worker started");
        tokio::join!(self.verify_forever(), self.keep_budgets());
    }

    /// Verification passes until the task is dropped.
    async fn verify_forever(&self) {
        loop {
            let pause = match self.pass().await {
                Ok(pause) => pause,
                Err(err) => {
                    tracing::error!(
                        error = format!("{err:#}"),
                        "payment verification pass failed"
                    );
                    IDLE
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                // On the clock: a test that moves it wakes the worker for what fell due.
                () = self.client.clock().sleep(pause) => {}
            }
        }
    }

    /// One pass: expiries, then due verifications. Returns how long to sleep.
    ///
    /// # Errors
    /// Database errors.
    pub async fn pass(&self) -> Result<Duration> {
        self.expire_approvals().await?;
        let stalled = self.lease(Approved, false, RESUME_LEASE).await?;
        join_all(stalled.into_iter().map(|row| self.resume(row))).await;
        let leased = self.lease(Sending, true, LEASE).await?;
        join_all(leased.into_iter().map(|row| self.verify(row))).await;
        let refunds = super::refunds::Ours {
            db: &self.db,
            live: &self.live,
            client: &self.client,
            sealer: &self.sealer,
        };
        let refund_due = refunds.pass(&self.settings, self.id).await?;
        Ok(self.until_next_due().await?.min(refund_due).min(IDLE))
    }

    /// Finishes an approval whose finish callback stopped halfway (the process died after the
    /// claim): continue, find or create the outgoing payment, `sending`. An attempt that gives
    /// up is recorded like the callback's: verified at the seller's wallet when something may
    /// have been sent (a stored token whose payments could not be listed, a create without an
    /// answer), failed when nothing was.
    async fn resume(&self, row: transactions::Model) {
        let id = row.id;
        tracing::warn!(transaction = %id, "resuming an approval that was interrupted");
        let Err(not_sending) =
            sending::send(&self.db, &self.live, &self.client, &self.sealer, &row).await
        else {
            return;
        };
        if let Err(err) = sending::record_not_sending(
            &self.db,
            &self.live,
            &self.client,
            &self.sealer,
            &row,
            not_sending,
        )
        .await
        {
            tracing::error!(transaction = %id, error = format!("{err:#}"), "cannot record an interrupted approval");
        }
    }

    /// How long until the next `sending` row is due.
    async fn until_next_due(&self) -> Result<Duration> {
        let next = transactions::Entity::find()
            .filter(transactions::Column::Status.eq(Sending.as_str()))
            .filter(transactions::Column::NextCheckAt.is_not_null())
            .order_by_asc(transactions::Column::NextCheckAt)
            .one(&self.db)
            .await?
            .and_then(|row| row.next_check_at);
        Ok(match next {
            Some(at) => (at - self.now()).to_std().unwrap_or(Duration::ZERO),
            None => IDLE,
        })
    }

    /// Approvals nobody answered before the quote or the approval timeout ran out.
    async fn expire_approvals(&self) -> Result<()> {
        let now = self.now();
        let due = transactions::Entity::find()
            .filter(transactions::Column::Status.eq(AwaitingApproval.as_str()))
            .filter(transactions::Column::ApprovalExpiresAt.lte(now))
            .limit(BATCH)
            .all(&self.db)
            .await?;
        for row in due {
            self.end(
                &row,
                AwaitingApproval,
                Expired,
                Failure::Expired,
                "The buyer did not approve the payment before the quote expired.",
            )
            .await?;
        }
        Ok(())
    }

    /// Ends a payment without money (if it is still in `from`) and releases its resources.
    async fn end(
        &self,
        row: &transactions::Model,
        from: TransactionStatus,
        to: TransactionStatus,
        failure: Failure,
        detail: &str,
    ) -> Result<()> {
        if fail(
            Store::new(&self.db, &self.live),
            self.now(),
            row.id,
            from,
            to,
            failure,
            detail,
        )
        .await?
        {
            release_resources(&self.client, &self.sealer, row).await;
        }
        Ok(())
    }

    /// Takes a lease of `length` on up to [`BATCH`] rows in `status` that nobody holds (and,
    /// with `when_due`, whose next check is due).
    async fn lease(
        &self,
        status: TransactionStatus,
        when_due: bool,
        length: Duration,
    ) -> Result<Vec<transactions::Model>> {
        let now = self.now();
        let lease_until = now + chrono_duration(length);
        let free = Condition::any()
            .add(transactions::Column::LeaseUntil.is_null())
            .add(transactions::Column::LeaseUntil.lt(now));
        // IMMEDIATE on SQLite: the read below is followed by a write.
        let txn = begin_write(&self.db).await?;
        let mut query = transactions::Entity::find()
            .select_only()
            .column(transactions::Column::Id)
            .filter(transactions::Column::Status.eq(status.as_str()))
            .filter(free.clone())
            .order_by_asc(transactions::Column::NextCheckAt)
            .order_by_asc(transactions::Column::UpdatedAt)
            .limit(BATCH);
        if when_due {
            query = query.filter(transactions::Column::NextCheckAt.lte(now));
        }
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let ids: Vec<Uuid> = query.into_tuple().all(&txn).await?;
        if ids.is_empty() {
            txn.commit().await?;
            return Ok(Vec::new());
        }
        transactions::Entity::update_many()
            .col_expr(transactions::Column::LeaseOwner, Expr::value(self.id))
            .col_expr(transactions::Column::LeaseUntil, Expr::value(lease_until))
            .filter(transactions::Column::Id.is_in(ids.clone()))
            .filter(transactions::Column::Status.eq(status.as_str()))
            .filter(free)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(transactions::Entity::find()
            .filter(transactions::Column::Id.is_in(ids))
            .filter(transactions::Column::LeaseOwner.eq(self.id))
            .all(&self.db)
            .await?)
    }

    /// Checks one leased payment and records what it found.
    async fn verify(&self, row: transactions::Model) {
        let id = row.id;
        if let Err(err) = self.try_verify(row).await {
            tracing::error!(transaction = %id, error = format!("{err:#}"), "payment verification failed");
        }
    }

    async fn try_verify(&self, row: transactions::Model) -> Result<()> {
        let (incoming, outgoing) = tokio::join!(self.incoming(&row), self.outgoing(&row));
        let price = price_of(&row);
        let received = incoming
            .as_ref()
            .ok()
            .map(|p| p.received_amount.clone())
            .filter(|r| r.same_asset(&price));
        let received_value = received.as_ref().map(|r| r.value);
        if received_value.is_some_and(|v| v >= price.value) {
            let value = received_value.and_then(|v| i64::try_from(v).ok());
            let completed = transition(
                Store::new(&self.db, &self.live),
                self.now(),
                row.id,
                Sending,
                Completed,
                Some(format!(
                    "The seller's wallet received {}.",
                    super::for_people(&OpAmount {
                        value: received_value.unwrap_or_default(),
                        ..price.clone()
                    })
                )),
                |u| {
                    self.release_lease(u)
                        .col_expr(transactions::Column::ReceivedValue, Expr::value(value))
                },
            )
            .await?;
            if completed
                && let Ok(incoming) = &incoming
                && !incoming.completed
            {
                close_incoming_payment(&self.client, &row).await;
            }
            return Ok(());
        }
        if let Ok(outgoing) = &outgoing
            && outgoing.failed
        {
            return self
                .end(
                    &row,
                    Sending,
                    Failed,
                    Failure::PaymentFailed,
                    "The buyer's wallet could not send the payment (for example, the balance was too low).",
                )
                .await;
        }
        let since_consent = row.approved_at.unwrap_or(row.created_at);
        if self.now() >= since_consent + chrono_duration(self.settings.verification_timeout) {
            return self
                .end(
                    &row,
                    Sending,
                    Failed,
                    Failure::NotReceived,
                    "The seller's wallet did not receive the full price in time.",
                )
                .await;
        }
        for err in [incoming.as_ref().err(), outgoing.as_ref().err()]
            .into_iter()
            .flatten()
        {
            tracing::warn!(transaction = %row.id, error = %err, "cannot check a payment yet; retrying");
        }
        let attempts = row.attempts.saturating_add(1);
        let next = self.now() + chrono_duration(backoff(attempts));
        let partial = received_value.and_then(|v| i64::try_from(v).ok());
        clear_lease(transactions::Entity::update_many())
            .col_expr(transactions::Column::Attempts, Expr::value(attempts))
            .col_expr(transactions::Column::NextCheckAt, Expr::value(next))
            .col_expr(transactions::Column::ReceivedValue, Expr::value(partial))
            .filter(transactions::Column::Id.eq(row.id))
            .filter(transactions::Column::Status.eq(Sending.as_str()))
            .filter(transactions::Column::LeaseOwner.eq(self.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Conditions and changes that end this worker's lease with a status change.
    fn release_lease(
        &self,
        update: sea_orm::UpdateMany<transactions::Entity>,
    ) -> sea_orm::UpdateMany<transactions::Entity> {
        clear_lease(update.filter(transactions::Column::LeaseOwner.eq(self.id))).col_expr(
            transactions::Column::NextCheckAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
    }

    /// The seller's incoming payment, read with the seller-side token.
    async fn incoming(&self, row: &transactions::Model) -> Result<IncomingPayment, PaymentError> {
        super::readings::incoming(&self.client, row).await
    }

    /// The buyer's outgoing payment, read with the grant's token (rotated once if inactive).
    async fn outgoing(&self, row: &transactions::Model) -> Result<OutgoingPayment, PaymentError> {
        super::readings::outgoing(
            (&self.db, &self.client, &self.sealer),
            row,
            super::readings::Rotation::Allowed,
        )
        .await
    }
}

impl Worker {
    /// Keeps budgets (idle tokens rotated, ended ones closed) every
    /// [`super::budgets::KEEPING_EVERY`], on the clock.
    async fn keep_budgets(&self) {
        loop {
            match super::budgets::keep(&self.db, &self.client, &self.sealer).await {
                Ok(0) => {}
                Ok(rotated) => tracing::info!(rotated, "rotated idle budget tokens"),
                Err(err) => {
                    tracing::error!(error = format!("{err:#}"), "keeping budgets failed");
                }
            }
            self.client
                .clock()
                .sleep(super::budgets::KEEPING_EVERY)
                .await;
        }
    }
}

/// The pause after the `attempts`-th inconclusive check: 100 ms, doubling, at most 30 s.
fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    FIRST_RETRY.saturating_mul(1 << exponent).min(MAX_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(5), Duration::from_millis(1600));
        assert_eq!(backoff(40), MAX_RETRY);
    }
}
