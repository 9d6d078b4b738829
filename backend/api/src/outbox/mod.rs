//! The durable outbox (ARCHITECTURE §8): what must reach the outside world (mail now, webhook
//! calls later) is written as a row in the database transaction of the change it tells about,
//! and delivered afterwards by a [`Worker`] running in every replica.
//!
//! - **Exactly one row per fact.** Each row has a dedupe key (`mail:receipt:<transaction>`):
//!   a replayed step that writes the same fact again inserts nothing.
//! - **One deliverer at a time.** A worker takes a lease on a row (on PostgreSQL under
//!   `FOR UPDATE SKIP LOCKED`) before delivering it, so two replicas never deliver one row; a
//!   worker that died holding a lease lets its rows go when the lease runs out.
//! - **Retries with backoff** (each channel's [`Channel::backoff`]) until the deliverer succeeds
//!   or says the failure is permanent, or the schedule runs out (about two days for mail, three
//!   for webhooks, longer when a webhook receiver asks to wait); every attempt is logged in `outbox_attempts`, with the HTTP status the other
//!   side answered when there is one.
//!
//! Rows delivered or given up are forgotten after [`RETENTION`] (30 days), with their attempts
//! log, a few batches per pass so deliveries go on meanwhile; a channel may prune its own way
//! ([`Deliver::prune`]: webhooks forget a message with all its rows).
//!
//! A delivery that reached the other side but whose process died before recording it is
//! delivered again when the lease runs out: at least once, never twice while processes live.
//! Mail carries a `Message-ID` made from the row's id so such a repeat is recognisable.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde::Serialize;
use shifting_open_payments::Clock;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::clock::chrono_duration;
use crate::db::begin_write;
use crate::entities::{outbox, outbox_attempts};
use crate::error::Result;

/// How long after each failed mail the next attempt is made; after the last, the row is given
/// up (`failed`). About two days in all, so a mail server down for a weekend loses nothing.
pub const MAIL_BACKOFF: [Duration; 11] = [
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(4 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(8 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(12 * 3600),
];

/// How long after each failed webhook call the next is made: the Standard Webhooks example
/// schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), about three days in all
/// over ten attempts.
pub const WEBHOOK_BACKOFF: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// How many rows one pass takes.
const BATCH: u64 = 16;
/// How long a lease lasts: longer than a delivery's own timeouts (an SMTP dialogue).
const LEASE: Duration = Duration::from_secs(120);
/// The longest the worker sleeps without being woken (rows queued by other replicas or by
/// code that does not wake it).
const IDLE: Duration = Duration::from_secs(1);
/// The longest failure text kept.
const MAX_ERROR: usize = 1000;
/// How long a delivered or given-up row (and its attempts log) is kept.
pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(30);
/// `pruned_at` of a worker that has not pruned yet.
const NEVER: i64 = i64::MIN;
/// How often a worker forgets what is past [`RETENTION`].
const PRUNE_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// How many rows one pruning transaction removes.
pub const PRUNE_BATCH: u64 = 500;
/// How many pruning batches one pass runs at most: a backlog is worked off over several passes,
/// deliveries in between.
const PRUNE_BATCHES: usize = 4;
/// The longest wait a `Retry-After` gets (the longest step of the webhook schedule): a
/// receiver cannot park a message for weeks.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The states of a row.
mod status {
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
}

/// Where a row goes: each channel has one deliverer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// A mail (`mail/`).
    Mail,
    /// A webhook call (`webhooks/`).
    Webhook,
}

impl Channel {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Webhook => "webhook",
        }
    }

    /// The waits between its attempts: the row is given up after the last.
    #[must_use]
    pub fn backoff(self) -> &'static [Duration] {
        match self {
            Self::Mail => &MAIL_BACKOFF,
            Self::Webhook => &WEBHOOK_BACKOFF,
        }
    }
}

/// A row to queue.
#[derive(Debug)]
pub struct NewRow {
    /// Its channel.
    pub channel: Channel,
    /// Unique per fact.
    pub dedupe_key: String,
    /// The account it is for, if any.
    pub user_id: Option<Uuid>,
    /// What it delivers, when several rows may deliver one thing.
    pub subject_id: Option<Uuid>,
    /// What the deliverer needs, as JSON.
    pub payload: String,
    /// Not delivered before then.
    pub due: DateTime<Utc>,
}

/// Writes a row in `db` (the caller's transaction), unless a row with the same dedupe key
/// exists. Says whether it wrote one.
///
/// # Errors
/// Database errors.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    channel: Channel,
    dedupe_key: String,
    user_id: Option<Uuid>,
    payload: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<bool> {
    enqueue_at(db, channel, dedupe_key, user_id, payload, now, now).await
}

/// [`enqueue`], not delivered before `due`.
///
/// # Errors
/// Database errors.
pub async fn enqueue_at(
    db: &impl ConnectionTrait,
    channel: Channel,
    dedupe_key: String,
    user_id: Option<Uuid>,
    payload: &impl Serialize,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> Result<bool> {
    let payload = serde_json::to_string(payload).map_err(anyhow::Error::from)?;
    queue(
        db,
        NewRow {
            channel,
            dedupe_key,
            user_id,
            subject_id: None,
            payload,
            due,
        },
        now,
    )
    .await
}

/// Writes `row` in `db` (the caller's transaction), unless a row with the same dedupe key
/// exists. Says whether it wrote one.
///
/// # Errors
/// Database errors.
pub async fn queue(db: &impl ConnectionTrait, row: NewRow, now: DateTime<Utc>) -> Result<bool> {
    let row = outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        channel: Set(row.channel.as_str().to_owned()),
        dedupe_key: Set(row.dedupe_key),
        user_id: Set(row.user_id),
        subject_id: Set(row.subject_id),
        payload: Set(row.payload),
        status: Set(status::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(row.due),
        lease_owner: Set(None),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        done_at: Set(None),
    };
    let inserted = outbox::Entity::insert(row)
        .on_conflict(
            OnConflict::column(outbox::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

/// Forgets what is still queued for `user_id` and unlinks what was delivered to them (account
/// deletion; delivered rows keep no payload already).
///
/// # Errors
/// Database errors.
pub async fn erase_for(db: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    outbox::Entity::delete_many()
        .filter(outbox::Column::UserId.eq(user_id))
        .filter(outbox::Column::Status.eq(status::PENDING))
        .exec(db)
        .await?;
    outbox::Entity::update_many()
        .col_expr(outbox::Column::UserId, Expr::value(Option::<Uuid>::None))
        .filter(outbox::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// How one delivery attempt ended.
#[derive(Debug)]
pub enum Delivery {
    /// Delivered.
    Sent,
    /// Failed for now (the other side is down, a timeout): try again later.
    Retry(String),
    /// Will never work (the address is rejected): give up now.
    Permanent(String),
    /// Nothing to deliver any more (the account was deleted, the fact no longer holds).
    Dropped(String),
}

/// An attempt's end, with the HTTP status the other side answered when there was one.
#[derive(Debug)]
pub struct Attempted {
    /// How it ended.
    pub delivery: Delivery,
    /// The answer's status code.
    pub response_code: Option<u16>,
    /// How long the other side asked us to wait before trying again (`Retry-After`): a retry
    /// is made no sooner (up to [`MAX_RETRY_AFTER`]), nor sooner than the schedule says.
    pub retry_after: Option<Duration>,
}

impl From<Delivery> for Attempted {
    fn from(delivery: Delivery) -> Self {
        Self {
            delivery,
            response_code: None,
            retry_after: None,
        }
    }
}

/// What delivers one channel's rows.
pub trait Deliver: Send + Sync + 'static {
    /// The channel it delivers.
    fn channel(&self) -> Channel;

    /// Delivers one row (its attempt number is `row.attempts`, counting this one).
    fn deliver(&self, row: &outbox::Model) -> impl Future<Output = Attempted> + Send;

    /// Forgets up to [`PRUNE_BATCH`] of what the channel delivered or gave up before `cutoff`,
    /// rows and attempts log (and what the channel keeps beside them), in one transaction. Says
    /// how many went: a full batch means there may be more. By default, its rows one by one.
    fn prune(
        &self,
        db: &DatabaseConnection,
        cutoff: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64>> + Send {
        prune_rows(db, self.channel(), cutoff, Condition::all())
    }
}

/// Deletes up to [`PRUNE_BATCH`] of `channel`'s rows delivered or given up before `cutoff` (and
/// matching `only`), with their attempts log, in one transaction. Returns how many went.
///
/// # Errors
/// Database errors.
pub async fn prune_rows(
    db: &DatabaseConnection,
    channel: Channel,
    cutoff: DateTime<Utc>,
    only: Condition,
) -> Result<u64> {
    let ids: Vec<Uuid> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(outbox::Column::Channel.eq(channel.as_str()))
        .filter(outbox::Column::Status.ne(status::PENDING))
        .filter(outbox::Column::DoneAt.lt(cutoff))
        .filter(only)
        .limit(PRUNE_BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let txn = begin_write(db).await?;
    let gone = delete_rows(&txn, ids).await?;
    txn.commit().await?;
    Ok(gone)
}

/// Deletes the rows `ids` that are no longer pending, with their attempts log, in `txn`.
/// Returns how many went.
///
/// # Errors
/// Database errors.
pub async fn delete_rows(txn: &impl ConnectionTrait, ids: Vec<Uuid>) -> Result<u64> {
    let done = Condition::all()
        .add(outbox::Column::Id.is_in(ids))
        .add(outbox::Column::Status.ne(status::PENDING));
    let rows = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(done.clone())
        .into_query();
    outbox_attempts::Entity::delete_many()
        .filter(outbox_attempts::Column::OutboxId.in_subquery(rows))
        .exec(txn)
        .await?;
    Ok(outbox::Entity::delete_many()
        .filter(done)
        .exec(txn)
        .await?
        .rows_affected)
}

/// Delivers one channel's due rows, in every replica.
#[derive(Debug)]
pub struct Worker<D> {
    db: DatabaseConnection,
    clock: Clock,
    deliverer: Arc<D>,
    wake: Arc<Notify>,
    id: Uuid,
    /// Taken on SQLite to record an outcome: this worker's concurrent deliveries write one at
    /// a time instead of contending for the single write lock in busy waits (five times the
    /// throughput, docs/benchmarks.md). PostgreSQL commits them side by side.
    recording: tokio::sync::Mutex<()>,
    /// When this worker last pruned (Unix seconds; [`NEVER`] before the first time, or when a
    /// backlog is left for the next pass).
    pruned_at: AtomicI64,
}

impl<D: Deliver> Worker<D> {
    /// A worker over `db` delivering with `deliverer`, woken by `wake` when rows are queued.
    #[must_use]
    pub fn new(db: DatabaseConnection, clock: Clock, deliverer: D, wake: Arc<Notify>) -> Self {
        Self {
            db,
            clock,
            deliverer: Arc::new(deliverer),
            wake,
            id: Uuid::new_v4(),
            recording: tokio::sync::Mutex::new(()),
            pruned_at: AtomicI64::new(NEVER),
        }
    }

    /// Runs until the task is dropped: a pass, then sleep until woken or the next row is due.
    pub async fn run(self) {
        let channel = self.deliverer.channel().as_str();
        tracing::info!(worker = %self.id, channel, "outbox worker started");
        loop {
            let pause = match self.pass().await {
                Ok(pause) => pause,
                Err(err) => {
                    tracing::error!(channel, error = format!("{err:#}"), "outbox pass failed");
                    IDLE
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = self.clock.sleep(pause) => {}
            }
        }
    }

    /// One pass: delivers every due row it can lease. Returns how long to sleep.
    ///
    /// # Errors
    /// Database errors.
    pub async fn pass(&self) -> Result<Duration> {
        loop {
            let rows = self.lease().await?;
            if rows.is_empty() {
                break;
            }
            futures::future::join_all(rows.into_iter().map(|row| self.attempt(row))).await;
        }
        self.prune_if_due().await?;
        Ok(self.until_next_due().await?.min(IDLE))
    }

    /// Every [`PRUNE_EVERY`], forgets what was done more than [`RETENTION`] ago: at most
    /// [`PRUNE_BATCHES`] batches; a backlog goes on at the next pass.
    async fn prune_if_due(&self) -> Result<()> {
        let now = self.clock.now();
        let last = self.pruned_at.load(Ordering::Relaxed);
        if last != NEVER && now.timestamp() - last < PRUNE_EVERY.num_seconds() {
            return Ok(());
        }
        self.pruned_at.store(now.timestamp(), Ordering::Relaxed);
        let cutoff = now - RETENTION;
        let (mut pruned, mut more) = (0, false);
        for _ in 0..PRUNE_BATCHES {
            let gone = self.deliverer.prune(&self.db, cutoff).await?;
            pruned += gone;
            more = gone >= PRUNE_BATCH;
            if !more {
                break;
            }
        }
        if more {
            // A backlog: the next pass goes on with it.
            self.pruned_at.store(NEVER, Ordering::Relaxed);
        }
        if pruned > 0 {
            let channel = self.deliverer.channel().as_str();
            tracing::info!(
                channel,
                pruned,
                "delivered or given-up items past their retention forgotten"
            );
        }
        Ok(())
    }

    /// Leases up to [`BATCH`] due rows nobody holds, counting the attempt.
    async fn lease(&self) -> Result<Vec<outbox::Model>> {
        let now = self.clock.now();
        let free = Condition::any()
            .add(outbox::Column::LeaseUntil.is_null())
            .add(outbox::Column::LeaseUntil.lt(now));
        let channel = self.deliverer.channel().as_str();
        let txn = begin_write(&self.db).await?;
        let mut query = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .filter(outbox::Column::Status.eq(status::PENDING))
            .filter(outbox::Column::Channel.eq(channel))
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .filter(free.clone())
            .order_by_asc(outbox::Column::NextAttemptAt)
            .limit(BATCH);
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let ids: Vec<Uuid> = query.into_tuple().all(&txn).await?;
        if ids.is_empty() {
            txn.commit().await?;
            return Ok(Vec::new());
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseOwner, Expr::value(self.id))
            .col_expr(
                outbox::Column::LeaseUntil,
                Expr::value(now + chrono_duration(LEASE)),
            )
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .filter(outbox::Column::Id.is_in(ids.clone()))
            .filter(outbox::Column::Status.eq(status::PENDING))
            .filter(free)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Id.is_in(ids))
            .filter(outbox::Column::LeaseOwner.eq(self.id))
            .filter(outbox::Column::Status.eq(status::PENDING))
            .all(&self.db)
            .await?)
    }

    /// Delivers one leased row and records the outcome.
    async fn attempt(&self, row: outbox::Model) {
        let attempted = self.deliverer.deliver(&row).await;
        if let Err(err) = self.record(&row, &attempted).await {
            tracing::error!(outbox = %row.id, error = format!("{err:#}"), "cannot record a delivery");
        }
    }

    /// Records an attempt: the row's new state (only while this worker still holds it) and a
    /// line in the attempts log, in one transaction.
    async fn record(&self, row: &outbox::Model, attempted: &Attempted) -> Result<()> {
        let now = self.clock.now();
        let attempt = row.attempts;
        let delivery = &attempted.delivery;
        let asked = attempted
            .retry_after
            .unwrap_or_default()
            .min(MAX_RETRY_AFTER);
        let retry_in = usize::try_from(attempt - 1)
            .ok()
            .and_then(|i| self.deliverer.channel().backoff().get(i).copied())
            .map(|step| step.max(asked));
        let (outcome, next, detail) = match delivery {
            Delivery::Sent => ("sent", status::SENT, None),
            Delivery::Retry(why) if retry_in.is_some() => ("retry", status::PENDING, Some(why)),
            Delivery::Retry(why) | Delivery::Permanent(why) => {
                ("failed", status::FAILED, Some(why))
            }
            Delivery::Dropped(why) => ("dropped", status::FAILED, Some(why)),
        };
        let detail = detail.map(|why| truncate(why));
        match (outcome, &detail) {
            ("sent", _) => tracing::info!(outbox = %row.id, attempt, "delivered"),
            ("retry", Some(why)) => {
                tracing::warn!(outbox = %row.id, attempt, error = %why, "delivery failed; will retry");
            }
            (_, Some(why)) => {
                tracing::error!(outbox = %row.id, attempt, outcome, error = %why, "delivery given up");
            }
            _ => {}
        }
        let mut update = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(next))
            .col_expr(
                outbox::Column::LeaseOwner,
                Expr::value(Option::<Uuid>::None),
            )
            .col_expr(
                outbox::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(outbox::Column::LastError, Expr::value(detail.clone()));
        update = if next == status::PENDING {
            let wait = retry_in.unwrap_or(IDLE);
            update.col_expr(
                outbox::Column::NextAttemptAt,
                Expr::value(now + chrono_duration(wait)),
            )
        } else {
            // What it said is not kept once it is delivered or given up (it may name a
            // person's address): the dedupe key and the attempts log remain.
            update
                .col_expr(outbox::Column::DoneAt, Expr::value(Some(now)))
                .col_expr(outbox::Column::Payload, Expr::value("{}"))
        };
        let _one_at_a_time = match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(self.recording.lock().await),
            _ => None,
        };
        let txn = begin_write(&self.db).await?;
        let changed = update
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::LeaseOwner.eq(self.id))
            .filter(outbox::Column::Status.eq(status::PENDING))
            .exec(&txn)
            .await?
            .rows_affected;
        if changed == 1 {
            outbox_attempts::Entity::insert(outbox_attempts::ActiveModel {
                id: Set(Uuid::new_v4()),
                outbox_id: Set(row.id),
                attempt: Set(attempt),
                outcome: Set(outcome.to_owned()),
                detail: Set(detail),
                at: Set(now),
                response_code: Set(attempted.response_code.map(i32::from)),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// How long until the next pending row is due.
    async fn until_next_due(&self) -> Result<Duration> {
        let next: Option<DateTime<Utc>> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::NextAttemptAt)
            .filter(outbox::Column::Status.eq(status::PENDING))
            .filter(outbox::Column::Channel.eq(self.deliverer.channel().as_str()))
            .order_by_asc(outbox::Column::NextAttemptAt)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(match next {
            Some(at) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO),
            None => IDLE,
        })
    }
}

/// `text` cut to [`MAX_ERROR`] bytes at a character boundary.
fn truncate(text: &str) -> String {
    let mut end = text.len().min(MAX_ERROR);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backoff_grows_and_spans_its_days() {
        for (channel, days) in [(Channel::Mail, 2), (Channel::Webhook, 3)] {
            let backoff = channel.backoff();
            assert!(backoff.windows(2).all(|pair| pair[0] <= pair[1]));
            let total: Duration = backoff.iter().sum();
            let hours = days * 24;
            assert!(
                total > Duration::from_secs(hours * 3600 * 5 / 6),
                "{total:?}"
            );
            assert!(
                total < Duration::from_secs(hours * 3600 * 7 / 6),
                "{total:?}"
            );
            assert!(backoff[0] <= Duration::from_secs(60));
        }
    }

    #[test]
    fn failure_text_is_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_ERROR);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(truncate("short"), "short");
    }
}
