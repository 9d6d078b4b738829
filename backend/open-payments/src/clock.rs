//! The one clock everything that reads time goes through: the API, the sandbox and this client.
//!
//! In production it is the system clock. A test moves it forward ([`Clock::advance`]) instead of
//! waiting: deadlines computed from it pass at once, and every [`Clock::sleep`] whose end the
//! move reaches returns. A process can also start with its clock ahead ([`Clock::ahead_by`]),
//! so a test that restarts a server finds its deadlines passed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A clock: the system's, plus how far it has been moved forward. Cheap to clone; clones share
/// their time.
#[derive(Clone, Debug)]
pub struct Clock {
    /// How far ahead of the system clock this one runs; changes wake the sleepers.
    ahead: Arc<watch::Sender<Duration>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

/// A [`Clock::timeout`] whose time ran out first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the time ran out")]
pub struct Elapsed;

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self::ahead_by(Duration::ZERO)
    }

    /// The system clock moved `ahead` forward.
    #[must_use]
    pub fn ahead_by(ahead: Duration) -> Self {
        Self {
            ahead: Arc::new(watch::Sender::new(ahead)),
        }
    }

    /// How far ahead of the system clock this one runs.
    #[must_use]
    pub fn ahead(&self) -> Duration {
        *self.ahead.borrow()
    }

    /// Moves the clock forward by `by`, for this clock and every clone, and wakes the sleeps
    /// that end before the new time.
    pub fn advance(&self, by: Duration) {
        self.ahead
            .send_modify(|ahead| *ahead = ahead.saturating_add(by));
    }

    /// The time now.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from(self.system_time())
    }

    /// The time now, as a [`SystemTime`].
    #[must_use]
    pub fn system_time(&self) -> SystemTime {
        let now = SystemTime::now();
        now.checked_add(self.ahead()).unwrap_or(now)
    }

    /// Seconds since the Unix epoch (0 before it).
    #[must_use]
    pub fn unix_seconds(&self) -> u64 {
        self.system_time()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    }

    /// Returns once this clock has gone `duration` forward, by itself or moved; never later
    /// than `duration` of monotonic time, so a system clock set back does not stretch it.
    pub async fn sleep(&self, duration: Duration) {
        let Some(end) = self.system_time().checked_add(duration) else {
            return tokio::time::sleep(duration).await;
        };
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.sleep_until(end) => {}
        }
    }

    /// Returns once this clock reads `end` or later.
    pub async fn sleep_until(&self, end: SystemTime) {
        let mut moved = self.ahead.subscribe();
        loop {
            let left = end
                .duration_since(self.system_time())
                .unwrap_or(Duration::ZERO);
            if left.is_zero() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(left) => {}
                // The sender lives as long as `self`: this never fails while we wait.
                _ = moved.changed() => {}
            }
        }
    }

    /// `future`'s output, or [`Elapsed`] if this clock goes `duration` forward first.
    ///
    /// # Errors
    /// [`Elapsed`] when the time runs out.
    pub async fn timeout<F: Future>(
        &self,
        duration: Duration,
        future: F,
    ) -> Result<F::Output, Elapsed> {
        tokio::select! {
            output = future => Ok(output),
            () = self.sleep(duration) => Err(Elapsed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn moving_the_clock_ends_the_sleeps_it_passes_and_only_those() {
        let clock = Clock::system();
        let before = clock.now();
        let short = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(60)).await }
        });
        let long = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(3600)).await }
        });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(120));
        short.await.unwrap();
        assert!(!long.is_finished());
        assert!(clock.now() - before >= chrono::Duration::seconds(120));
        assert_eq!(clock.ahead(), Duration::from_secs(120));
        long.abort();
    }

    #[tokio::test]
    async fn a_timeout_runs_out_when_the_clock_passes_it() {
        let clock = Clock::system();
        let waiting = tokio::spawn({
            let clock = clock.clone();
            async move {
                clock
                    .timeout(Duration::from_secs(10), std::future::pending::<()>())
                    .await
            }
        });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(11));
        assert_eq!(waiting.await.unwrap(), Err(Elapsed));
        assert_eq!(
            clock.timeout(Duration::from_secs(1), async { 7 }).await,
            Ok(7)
        );
    }

    #[test]
    fn a_clock_started_ahead_reads_ahead() {
        let clock = Clock::ahead_by(Duration::from_secs(3600));
        let gap = clock.now() - Utc::now();
        assert!(gap >= chrono::Duration::seconds(3599), "{gap}");
    }
}
