//! Rate limiting (GCRA, from `governor`), keyed by client address or by user.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;
use crate::http::client_ip::rate_key;

/// A keyed limiter: `burst` attempts at once, refilled at `per_minute`. Addresses are counted
/// per IPv4 address and per IPv6 /64.
#[derive(Debug)]
pub struct RateLimiter<K: Hash + Eq + Clone = IpAddr> {
    inner: DefaultKeyedRateLimiter<K>,
}

impl RateLimiter<IpAddr> {
    /// Counts an attempt from `ip` (its /64 for IPv6).
    ///
    /// # Errors
    /// [`ApiError::TooManyRequests`] with the seconds to wait (rounded up, at least 1).
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.check_key(&rate_key(ip))
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> RateLimiter<K> {
    /// A limiter allowing `burst` attempts at once and `per_minute` sustained (both at least 1).
    #[must_use]
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        }
    }

    /// Counts an attempt under `key`.
    ///
    /// # Errors
    /// [`ApiError::TooManyRequests`] with the seconds to wait (rounded up, at least 1).
    pub fn check_key(&self, key: &K) -> Result<(), ApiError> {
        self.inner.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::TooManyRequests {
                retry_after_secs: secs.max(1),
            }
        })
    }

    /// Forgets keys whose quota is full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }

    /// Spawns a task that calls [`RateLimiter::forget_idle`] every minute, until the limiter
    /// is dropped.
    pub fn spawn_cleanup(limiter: &std::sync::Arc<Self>) {
        let limiter = std::sync::Arc::downgrade(limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            tick.tick().await;
            loop {
                tick.tick().await;
                match limiter.upgrade() {
                    Some(limiter) => limiter.forget_idle(),
                    None => break,
                }
            }
        });
    }
}
