//! The public room view, the hot read path (every visit to a shared link), cached in memory
//! as its encoded JSON for a short time.
//!
//! Without it a view costs a database round trip, and the room view served about a tenth of the
//! requests per second of `/health` (`docs/benchmarks.md`). A room changes rarely (its status
//! or description, by its seller): this replica forgets its copy at once when it makes the
//! change (a read racing with the change does not put the old view back), and other replicas
//! serve the old one for at most the cache's lifetime. Nothing that
//! moves money reads this cache: starting a payment reads the room from the database. Rooms
//! with a stock limit are not cached at all: every payment that starts or ends changes how many
//! are left, and a buyer must not be shown a unit that is gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use moka::future::Cache;
use sea_orm::ConnectionTrait;
use shifting_shared::RoomCode;
use url::Url;

use crate::error::{ApiError, Result};
use crate::services::rooms;

/// How many rooms are kept at most.
const CAPACITY: u64 = 10_000;

/// Encoded public room views by code.
#[derive(Clone, Debug)]
pub struct RoomViews {
    cache: Option<Cache<String, Bytes>>,
    /// Bumped by every [`RoomViews::forget`]: a view read from the database before a change
    /// must not be cached after it.
    generation: Arc<AtomicU64>,
}

impl RoomViews {
    /// A cache keeping each view for `lifetime`; a zero lifetime caches nothing.
    #[must_use]
    pub fn new(lifetime: Duration) -> Self {
        let cache = (!lifetime.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(lifetime)
                .build()
        });
        Self {
            cache,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The room's public view as JSON, from the cache or the database.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] (never cached: a room created on another replica is found at
    /// once), or a database error.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        code: &RoomCode,
        public_url: &Url,
    ) -> Result<Bytes> {
        if let Some(cached) = self.cached(code).await {
            return Ok(cached);
        }
        let seen = self.generation.load(Ordering::SeqCst);
        let view = rooms::get_room(db, code, public_url).await?;
        let encoded = Bytes::from(
            serde_json::to_vec(&view)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot encode a room: {e}")))?,
        );
        // A room with a stock limit is never cached: its units left change with every payment.
        if let Some(cache) = self.cache.as_ref().filter(|_| view.stock_limit.is_none()) {
            cache
                .insert(code.as_str().to_owned(), encoded.clone())
                .await;
            // A change forgotten while we read may predate our insert: then ours may be the
            // old view, so it goes too (at worst a fresher copy is dropped: one more miss).
            if self.generation.load(Ordering::SeqCst) != seen {
                cache.invalidate(code.as_str()).await;
            }
        }
        Ok(encoded)
    }

    async fn cached(&self, code: &RoomCode) -> Option<Bytes> {
        self.cache.as_ref()?.get(code.as_str()).await
    }

    /// Drops the cached view after a change to the room.
    pub async fn forget(&self, code: &RoomCode) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            cache.invalidate(code.as_str()).await;
        }
    }
}
