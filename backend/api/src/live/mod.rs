//! The live fan-out (ARCHITECTURE §8): what changed is announced by ids only, and each replica
//! reads the rows once and pushes them to the sockets of the people concerned.
//!
//! - **Announcing.** A change writes its rows and adds a [`Signal`] to a [`Batch`] inside its own
//!   database transaction. On PostgreSQL the batch runs `pg_notify` in that transaction, so the
//!   announcement leaves exactly when the rows are committed and reaches every replica through
//!   `LISTEN`; on SQLite (one process) the batch is handed to this process's dispatcher after the
//!   commit.
//! - **Dispatching.** One task per replica receives the signals, skips those whose people have
//!   no socket here, reads the rows and sends the rendered event to every socket of theirs.
//! - **Nothing lost.** A socket's queue is bounded: a client too slow to drain it is dropped and
//!   reconnects with the last message id it saw, and the database gives it what it missed. A
//!   dropped `LISTEN` connection (notifications sent meanwhile are lost) makes every socket of
//!   this replica resynchronise.

pub mod socket;
pub mod tickets;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, Statement};
use serde::{Deserialize, Serialize};
use shifting_shared::TransactionStatus;
use shifting_shared::conversation::{ConversationSide, LiveEvent};
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use uuid::Uuid;

use crate::config::LiveLimits;
use crate::entities::messages;
use crate::error::Result;
use crate::services::conversations;

/// The PostgreSQL channel signals travel on.
pub const CHANNEL: &str = "shifting_live";

/// How many events wait for one socket before its client counts as too slow and is dropped.
pub const SOCKET_QUEUE: usize = 64;

/// How many signals wait for this replica's dispatcher (SQLite); beyond, sockets resynchronise.
const DISPATCH_QUEUE: usize = 65_536;

/// What changed, by ids only (a NOTIFY payload stays far below PostgreSQL's 8,000 bytes), with
/// the two people concerned so that a replica without their sockets reads nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Signal {
    /// A new entry in a conversation.
    Message {
        /// The conversation.
        c: Uuid,
        /// The message.
        id: i64,
        /// Its buyer.
        b: Uuid,
        /// Its seller.
        s: Uuid,
    },
    /// One side read a conversation up to a message.
    Read {
        /// The conversation.
        c: Uuid,
        /// Who read.
        role: ConversationSide,
        /// Up to which message.
        up_to: i64,
        /// Its buyer.
        b: Uuid,
        /// Its seller.
        s: Uuid,
    },
    /// A transaction changed status.
    Transaction {
        /// The transaction.
        id: Uuid,
        /// Its new status (as of this change: a later one has its own signal).
        status: TransactionStatus,
        /// Its buyer (none for a guest).
        b: Option<Uuid>,
        /// Its seller.
        s: Uuid,
    },
    /// A person's sessions ended (an admin suspended the account): their sockets close, on
    /// every replica.
    SessionsEnded {
        /// The person.
        u: Uuid,
    },
}

impl Signal {
    fn people(self) -> [Option<Uuid>; 2] {
        match self {
            Self::Message { b, s, .. } | Self::Read { b, s, .. } => [Some(b), Some(s)],
            Self::Transaction { b, s, .. } => [b, Some(s)],
            Self::SessionsEnded { u } => [Some(u), None],
        }
    }
}

/// The fan-out of one replica. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Live {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: DatabaseConnection,
    postgres: bool,
    local: mpsc::Sender<Signal>,
    /// Set when a signal could not be queued or a notification may have been lost.
    lost: AtomicBool,
    sockets: Mutex<HashMap<Uuid, Vec<Sink>>>,
    next_socket: AtomicU64,
    limits: LiveLimits,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.get_mut().map(std::mem::take).unwrap_or_default() {
            task.abort();
        }
    }
}

#[derive(Debug)]
struct Sink {
    id: u64,
    tx: mpsc::Sender<Arc<str>>,
    kick: Arc<Kick>,
}

/// The notice that a socket must close, and with which close code.
#[derive(Debug, Default)]
pub struct Kick {
    notify: Notify,
    code: AtomicU16,
}

impl Kick {
    fn kick(&self, code: u16) {
        self.code.store(code, Ordering::Release);
        self.notify.notify_one();
    }

    /// Waits for the notice; the close code to send.
    pub async fn wait(&self) -> u16 {
        self.notify.notified().await;
        self.code.load(Ordering::Acquire)
    }
}

/// A socket's place in the fan-out: its queue of rendered events, and the notice that it is
/// being dropped. Leaves the fan-out when dropped.
#[derive(Debug)]
pub struct Subscription {
    live: Weak<Inner>,
    user: Uuid,
    id: u64,
    /// Rendered events (JSON text frames) for this socket.
    pub events: mpsc::Receiver<Arc<str>>,
    /// Notified when the socket must close (fell too far behind, or shutdown).
    pub kicked: Arc<Kick>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.live.upgrade() {
            inner.remove(self.user, self.id);
        }
    }
}

/// The user already holds the most sockets allowed.
#[derive(Debug, thiserror::Error)]
#[error("too many live sockets for this user")]
pub struct TooManySockets;

impl Live {
    /// Starts this replica's dispatcher and, on PostgreSQL, its `LISTEN` connection (listening
    /// before this returns, so no change committed afterwards is missed).
    ///
    /// # Errors
    /// When the `LISTEN` connection cannot be opened.
    /// `database_url` is the PostgreSQL server the `LISTEN` connection opens to: its own
    /// connection, outside the pool, so closing the pool never waits for it.
    pub async fn start(
        db: DatabaseConnection,
        database_url: &str,
        limits: LiveLimits,
    ) -> anyhow::Result<Self> {
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        let (local, signals) = mpsc::channel(DISPATCH_QUEUE);
        let live = Self {
            inner: Arc::new(Inner {
                db: db.clone(),
                postgres,
                local,
                lost: AtomicBool::new(false),
                sockets: Mutex::new(HashMap::new()),
                next_socket: AtomicU64::new(1),
                limits,
                tasks: Mutex::new(Vec::new()),
            }),
        };
        let dispatcher = tokio::spawn(dispatch_local(Arc::downgrade(&live.inner), signals));
        live.keep(dispatcher.abort_handle());
        if postgres {
            let mut listener = sea_orm::sqlx::postgres::PgListener::connect(database_url).await?;
            listener.listen(CHANNEL).await?;
            let task = tokio::spawn(listen(Arc::downgrade(&live.inner), listener));
            live.keep(task.abort_handle());
        }
        Ok(live)
    }

    fn keep(&self, task: AbortHandle) {
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            tasks.push(task);
        }
    }

    /// The limits sockets live under.
    #[must_use]
    pub fn limits(&self) -> LiveLimits {
        self.inner.limits
    }

    /// A batch of signals for one database transaction.
    pub fn batch(&self) -> Batch {
        Batch {
            live: self.clone(),
            pending: Vec::new(),
            transitions: Vec::new(),
        }
    }

    /// Whether `user` could open one more socket here now.
    #[must_use]
    pub fn has_room_for(&self, user: Uuid) -> bool {
        self.inner
            .sockets
            .lock()
            .map(|sockets| {
                sockets.get(&user).map_or(0, Vec::len) < self.inner.limits.sockets_per_user
            })
            .unwrap_or(false)
    }

    /// Adds a socket of `user`'s to the fan-out.
    ///
    /// # Errors
    /// [`TooManySockets`] when the user holds the most allowed.
    pub fn subscribe(&self, user: Uuid) -> std::result::Result<Subscription, TooManySockets> {
        let (tx, events) = mpsc::channel(SOCKET_QUEUE);
        let kicked = Arc::new(Kick::default());
        let id = self.inner.next_socket.fetch_add(1, Ordering::Relaxed);
        let mut sockets = self.inner.sockets.lock().map_err(|_| TooManySockets)?;
        let mine = sockets.entry(user).or_default();
        if mine.len() >= self.inner.limits.sockets_per_user {
            return Err(TooManySockets);
        }
        mine.push(Sink {
            id,
            tx,
            kick: Arc::clone(&kicked),
        });
        Ok(Subscription {
            live: Arc::downgrade(&self.inner),
            user,
            id,
            events,
            kicked,
        })
    }

    /// How many sockets this replica holds.
    #[must_use]
    pub fn socket_count(&self) -> usize {
        self.inner
            .sockets
            .lock()
            .map(|s| s.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// At shutdown: stops the dispatcher and the `LISTEN` connection, and closes every socket
    /// (clients reconnect to another replica).
    pub fn shut_down(&self) {
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
        self.close_all();
    }

    /// Closes every socket: clients reconnect and resume.
    fn close_all(&self) {
        if let Ok(mut sockets) = self.inner.sockets.lock() {
            for sink in sockets.drain().flat_map(|(_, sinks)| sinks) {
                sink.kick.kick(socket::close::GOING_AWAY);
            }
        }
    }
}

impl Inner {
    fn connected(&self, user: Uuid) -> bool {
        self.sockets
            .lock()
            .map(|s| s.contains_key(&user))
            .unwrap_or(false)
    }

    fn remove(&self, user: Uuid, id: u64) {
        if let Ok(mut sockets) = self.sockets.lock()
            && let Some(mine) = sockets.get_mut(&user)
        {
            mine.retain(|sink| sink.id != id);
            if mine.is_empty() {
                sockets.remove(&user);
            }
        }
    }

    /// Queues `text` on every socket of `user`'s; a socket whose queue is full is dropped.
    fn send_to(&self, user: Uuid, text: &Arc<str>) {
        let Ok(mut sockets) = self.sockets.lock() else {
            return;
        };
        let Some(mine) = sockets.get_mut(&user) else {
            return;
        };
        mine.retain(|sink| match sink.tx.try_send(Arc::clone(text)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::info!(user = %user, "a live socket fell behind: dropped");
                sink.kick.kick(socket::close::TOO_SLOW);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if mine.is_empty() {
            sockets.remove(&user);
        }
    }

    fn send_to_all(&self, text: &Arc<str>) {
        let users: Vec<Uuid> = self
            .sockets
            .lock()
            .map(|s| s.keys().copied().collect())
            .unwrap_or_default();
        for user in users {
            self.send_to(user, text);
        }
    }

    /// Reads what `signal` names and pushes it to the sockets of the people concerned.
    async fn dispatch(&self, signal: Signal) -> Result<()> {
        if !signal
            .people()
            .into_iter()
            .flatten()
            .any(|u| self.connected(u))
        {
            return Ok(());
        }
        match signal {
            Signal::Message { id, b, s, .. } => {
                let Some(row) = messages::Entity::find_by_id(id).one(&self.db).await? else {
                    return Ok(());
                };
                let sender = row.sender_id;
                let event = LiveEvent::Message {
                    message: conversations::message_response(&row, b),
                };
                let text = render(&event);
                self.send_to(b, &text);
                self.send_to(s, &text);
                let reader = match sender {
                    Some(sender) if sender == b => Some(s),
                    Some(_) => Some(b),
                    None => None,
                };
                if let Some(reader) = reader {
                    self.push_unread(reader).await?;
                }
            }
            Signal::Read {
                c,
                role,
                up_to,
                b,
                s,
            } => {
                let text = render(&LiveEvent::Read {
                    conversation_id: c,
                    role,
                    up_to,
                });
                self.send_to(b, &text);
                self.send_to(s, &text);
                self.push_unread(if role == ConversationSide::Buyer {
                    b
                } else {
                    s
                })
                .await?;
            }
            Signal::Transaction { id, status, b, s } => {
                let text = render(&LiveEvent::Transaction { id, status });
                if let Some(b) = b {
                    self.send_to(b, &text);
                }
                self.send_to(s, &text);
            }
            Signal::SessionsEnded { u } => self.close_user(u),
        }
        Ok(())
    }

    /// Closes every socket of `user`'s here, as unauthorised: a reconnection needs a new
    /// ticket, which their ended session cannot get.
    fn close_user(&self, user: Uuid) {
        // Kicked, not dropped: each socket closes with the code and takes itself out.
        if let Ok(sockets) = self.sockets.lock()
            && let Some(mine) = sockets.get(&user)
        {
            for sink in mine {
                sink.kick.kick(socket::close::UNAUTHORIZED);
            }
        }
    }

    async fn push_unread(&self, user: Uuid) -> Result<()> {
        if self.connected(user) {
            let total = conversations::unread_total(&self.db, user).await?;
            self.send_to(user, &render(&LiveEvent::Unread { total }));
        }
        Ok(())
    }

    /// Tells every socket here to fetch what it shows again, if signals may have been lost.
    fn resync_if_lost(&self) {
        if self.lost.swap(false, Ordering::AcqRel) {
            tracing::warn!("live signals may have been lost: every socket resynchronises");
            self.send_to_all(&render(&LiveEvent::Resync));
        }
    }
}

/// An event as the JSON text frame sockets receive.
#[must_use]
pub fn render(event: &LiveEvent) -> Arc<str> {
    serde_json::to_string(event)
        .unwrap_or_else(|_| r#"{"type":"resync"}"#.to_owned())
        .into()
}

/// The signals of one database transaction.
#[derive(Debug)]
#[must_use = "a batch announces nothing until `committed` is called after the commit"]
pub struct Batch {
    live: Live,
    pending: Vec<Signal>,
    /// Payment status changes made in the transaction, counted in the metrics once committed
    /// (a rolled-back change never counts).
    transitions: Vec<(TransactionStatus, TransactionStatus)>,
}

impl Batch {
    /// Announces `signal` with the transaction `conn` belongs to: on PostgreSQL a `pg_notify`
    /// in it (sent when it commits, never otherwise); on SQLite kept until [`Batch::committed`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn add(&mut self, conn: &impl ConnectionTrait, signal: Signal) -> Result<()> {
        if self.live.inner.postgres {
            let payload = serde_json::to_string(&signal)
                .map_err(|err| anyhow::anyhow!("cannot encode a live signal: {err}"))?;
            conn.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await?;
        } else {
            self.pending.push(signal);
        }
        Ok(())
    }

    /// Notes a payment status change of the transaction, for the metrics.
    pub fn transition(&mut self, from: TransactionStatus, to: TransactionStatus) {
        self.transitions.push((from, to));
    }

    /// After the commit: counts the transaction's status changes and hands SQLite's signals to
    /// this process's dispatcher.
    pub fn committed(self) {
        for (from, to) in self.transitions {
            crate::metrics::transition(from, to);
        }
        for signal in self.pending {
            if self.live.inner.local.try_send(signal).is_err() {
                self.live.inner.lost.store(true, Ordering::Release);
            }
        }
    }
}

/// This replica's dispatcher for signals made here (SQLite).
async fn dispatch_local(live: Weak<Inner>, mut signals: mpsc::Receiver<Signal>) {
    while let Some(signal) = signals.recv().await {
        let Some(inner) = live.upgrade() else { return };
        inner.resync_if_lost();
        if let Err(err) = inner.dispatch(signal).await {
            tracing::warn!(error = %err, "cannot push a live event");
            inner.lost.store(true, Ordering::Release);
        }
    }
}

/// Receives every replica's signals over `LISTEN` and dispatches them (PostgreSQL).
async fn listen(live: Weak<Inner>, mut listener: sea_orm::sqlx::postgres::PgListener) {
    loop {
        let received = listener.try_recv().await;
        let Some(inner) = live.upgrade() else { return };
        match received {
            Ok(Some(notification)) => {
                inner.resync_if_lost();
                match serde_json::from_str::<Signal>(notification.payload()) {
                    Ok(signal) => {
                        if let Err(err) = inner.dispatch(signal).await {
                            tracing::warn!(error = %err, "cannot push a live event");
                            inner.lost.store(true, Ordering::Release);
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "an unreadable live signal"),
                }
            }
            // The connection dropped: notifications sent meanwhile are lost. `try_recv`
            // reconnects on the next call.
            // Resynchronised now, and again at the first notification after reconnecting.
            Ok(None) => {
                inner.lost.store(true, Ordering::Release);
                inner.resync_if_lost();
                inner.lost.store(true, Ordering::Release);
            }
            Err(err) => {
                tracing::warn!(error = %err, "the live LISTEN connection failed; retrying");
                inner.lost.store(true, Ordering::Release);
                drop(inner);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn live(sockets_per_user: usize) -> Live {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        let limits = LiveLimits {
            sockets_per_user,
            ping_interval: Duration::from_secs(25),
        };
        Live::start(db, "sqlite::memory:", limits)
            .await
            .expect("live")
    }

    #[tokio::test]
    async fn a_socket_that_falls_behind_is_dropped_instead_of_growing() {
        let live = live(4).await;
        let user = Uuid::new_v4();
        let mut slow = live.subscribe(user).expect("subscribed");
        let mut quick = live.subscribe(user).expect("subscribed");
        let event: Arc<str> = Arc::from("{}");
        for _ in 0..SOCKET_QUEUE {
            live.inner.send_to(user, &event);
            quick.events.recv().await.expect("queued");
        }
        assert_eq!(live.socket_count(), 2);
        // One more than the slow socket's queue holds: it is told to close, with 4008.
        live.inner.send_to(user, &event);
        assert_eq!(slow.kicked.wait().await, socket::close::TOO_SLOW);
        assert_eq!(live.socket_count(), 1);
        // What it had queued is still there to drain; nothing more is added.
        let mut drained = 0;
        while slow.events.recv().await.is_some() {
            drained += 1;
        }
        assert_eq!(drained, SOCKET_QUEUE);
        // The quick one got everything.
        assert!(quick.events.recv().await.is_some());
    }

    #[tokio::test]
    async fn sockets_per_user_are_capped_and_freed_when_dropped() {
        let live = live(2).await;
        let user = Uuid::new_v4();
        let first = live.subscribe(user).expect("first");
        let _second = live.subscribe(user).expect("second");
        assert!(!live.has_room_for(user));
        assert!(live.subscribe(user).is_err());
        assert!(
            live.subscribe(Uuid::new_v4()).is_ok(),
            "others are not affected"
        );
        drop(first);
        assert!(live.has_room_for(user));
    }

    #[tokio::test]
    async fn shutdown_closes_every_socket_as_going_away() {
        let live = live(2).await;
        let socket = live.subscribe(Uuid::new_v4()).expect("subscribed");
        live.shut_down();
        assert_eq!(socket.kicked.wait().await, socket::close::GOING_AWAY);
        assert_eq!(live.socket_count(), 0);
    }

    #[test]
    fn signals_travel_as_small_json() {
        let signal = Signal::Message {
            c: Uuid::nil(),
            id: 42,
            b: Uuid::nil(),
            s: Uuid::nil(),
        };
        let text = serde_json::to_string(&signal).expect("json");
        assert!(text.len() < 200, "{text}");
        assert_eq!(serde_json::from_str::<Signal>(&text).expect("back"), signal);
    }
}
