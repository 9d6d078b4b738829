//! Wallet address documents (cached) and their keys.

use std::time::SystemTime;

use super::{OpenPaymentsClient, Result, parse};
use crate::keys::Jwks;
use crate::types::WalletAddress;

impl OpenPaymentsClient {
    /// `GET {url}`: a wallet address document, cached for the configured TTL.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_wallet_address(&self, url: &str) -> Result<WalletAddress> {
        if let Some(cached) = self.cached_wallet_address(url) {
            return Ok(cached);
        }
        let document: WalletAddress = self.get(parse(url)?, None).await?;
        if let Ok(mut cache) = self.inner.wallet_addresses.lock() {
            let now = self.inner.clock.system_time();
            cache.retain(|_, (at, _)| self.fresh(*at, now));
            cache.insert(url.to_owned(), (now, document.clone()));
        }
        Ok(document)
    }

    fn cached_wallet_address(&self, url: &str) -> Option<WalletAddress> {
        let cache = self.inner.wallet_addresses.lock().ok()?;
        let (at, document) = cache.get(url)?;
        self.fresh(*at, self.inner.clock.system_time())
            .then(|| document.clone())
    }

    /// Whether a document cached at `at` may still be served at `now`.
    fn fresh(&self, at: SystemTime, now: SystemTime) -> bool {
        now.duration_since(at)
            .is_ok_and(|age| age < self.inner.wallet_address_ttl)
    }

    /// `GET {wallet address}/jwks.json`.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_jwks(&self, wallet_address: &str) -> Result<Jwks> {
        let url = parse(&format!(
            "{}/jwks.json",
            wallet_address.trim_end_matches('/')
        ))?;
        self.get(url, None).await
    }
}
