//! Wallet address documents (cached) and their keys.

use std::time::Instant;

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
            cache.retain(|_, (at, _)| at.elapsed() < self.inner.wallet_address_ttl);
            cache.insert(url.to_owned(), (Instant::now(), document.clone()));
        }
        Ok(document)
    }

    fn cached_wallet_address(&self, url: &str) -> Option<WalletAddress> {
        let cache = self.inner.wallet_addresses.lock().ok()?;
        let (at, document) = cache.get(url)?;
        (at.elapsed() < self.inner.wallet_address_ttl).then(|| document.clone())
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
