//! GNAP grants: requesting, waiting out `wait`, continuing (retrying `too_fast`), cancelling;
//! access tokens rotated, revoked and cached for non-interactive grants.

use std::time::{Duration, SystemTime};

use reqwest::Method;

use super::{
    CachedToken, Call, OpenPaymentsClient, OpenPaymentsError, Result, Retry, parse, to_json,
};
use crate::types::{
    AccessItem, AccessToken, AccessTokenRequest, Continuation, ContinueRequest, GrantOutcome,
    GrantRequest, GrantResponse, InteractRequest, Subject,
};

/// Added to a grant's `wait` before continuing it: the wallet's clock and ours round differently.
pub const WAIT_MARGIN: Duration = Duration::from_millis(100);
/// The pause before continuing again after a `too_fast` answer.
pub const TOO_FAST_RETRY: Duration = Duration::from_secs(1);

impl OpenPaymentsClient {
    /// Returns once the grant's `wait` (plus [`WAIT_MARGIN`]) has passed since `grant_answered`
    /// (the client's clock when the grant response arrived); at once for a grant without
    /// `wait`. [`OpenPaymentsClient::continue_grant`] calls it itself; a caller that must check
    /// something just before the continuation (is the sale still open?) awaits it first.
    pub async fn wait_until_continuable(
        &self,
        continuation: &Continuation,
        grant_answered: SystemTime,
    ) {
        let wait = Duration::from_secs(continuation.wait.unwrap_or(0));
        if !wait.is_zero()
            && let Some(due) = grant_answered.checked_add(wait + WAIT_MARGIN)
        {
            self.inner.clock.sleep_until(due).await;
        }
    }

    /// `POST {authServer}`: requests a grant for `access`, interactive when `interact` is given.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn request_grant(
        &self,
        auth_server: &str,
        access: Vec<AccessItem>,
        interact: Option<InteractRequest>,
    ) -> Result<GrantResponse> {
        let request = GrantRequest {
            access_token: Some(AccessTokenRequest { access }),
            client: self.inner.identity.wallet_address.clone(),
            subject: None,
            interact,
        };
        self.post(
            parse(auth_server)?,
            None,
            Some(to_json(&request)),
            Retry::Harmless,
        )
        .await
    }

    /// `POST {authServer}`: requests a `subject` grant proving that the user controls
    /// `wallet_address` (no access): interactive, the wallet's provider asks its owner.
    ///
    /// # Errors
    /// [`OpenPaymentsError`]; a provider without `subject` grants (before Rafiki 2.1) answers
    /// 400 `invalid_request`.
    pub async fn request_subject_grant(
        &self,
        auth_server: &str,
        wallet_address: &str,
        interact: InteractRequest,
    ) -> Result<GrantResponse> {
        let request = GrantRequest {
            access_token: None,
            client: self.inner.identity.wallet_address.clone(),
            subject: Some(Subject::wallet(wallet_address)),
            interact: Some(interact),
        };
        self.post(
            parse(auth_server)?,
            None,
            Some(to_json(&request)),
            Retry::Harmless,
        )
        .await
    }

    /// `POST {continue.uri}` with the `interact_ref` of the finish redirect. Waits until `wait`
    /// seconds (plus a small margin) have passed since `grant_answered`, when the grant
    /// response arrived: Rafiki counts `wait` from when it stored the grant, after fetching the
    /// client's keys, so the moment the request was sent is too early. A `too_fast` answer is
    /// retried after [`TOO_FAST_RETRY`], not a whole `wait` (the window does not restart).
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn continue_grant(
        &self,
        continuation: &Continuation,
        interact_ref: &str,
        grant_answered: SystemTime,
    ) -> Result<GrantResponse> {
        self.wait_until_continuable(continuation, grant_answered)
            .await;
        let body = to_json(&ContinueRequest {
            interact_ref: interact_ref.to_owned(),
        });
        let url = parse(&continuation.uri)?;
        let mut retries = 0;
        loop {
            let call = Call {
                method: Method::POST,
                url: url.clone(),
                token: Some(&continuation.access_token.value),
                body: Some(body.clone()),
                retry: Retry::OnlyUnsent,
            };
            match self.call::<GrantResponse>(call).await {
                Err(err) if err.is_too_fast() && retries < self.inner.too_fast_retries => {
                    retries += 1;
                    tracing::debug!(uri = %continuation.uri, retries, "grant continued too fast; retrying");
                    self.inner.clock.sleep(TOO_FAST_RETRY).await;
                }
                other => return other,
            }
        }
    }

    /// `DELETE {continue.uri}`: cancels the grant and revokes its tokens.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn cancel_grant(&self, continuation: &Continuation) -> Result<()> {
        self.call_empty(Call {
            method: Method::DELETE,
            url: parse(&continuation.uri)?,
            token: Some(&continuation.access_token.value),
            body: None,
            retry: Retry::Idempotent,
        })
        .await
    }

    /// `POST {manage}`: rotates a token (also an expired one); the old one stops working.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn rotate_token(&self, token: &AccessToken) -> Result<AccessToken> {
        let response: GrantResponse = self
            .post(
                parse(&token.manage)?,
                Some(&token.value),
                None,
                Retry::OnlyUnsent,
            )
            .await?;
        response
            .access_token
            .ok_or_else(|| OpenPaymentsError::UnexpectedGrant(token.manage.clone()))
    }

    /// `DELETE {manage}`: revokes a token.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn revoke_token(&self, token: &AccessToken) -> Result<()> {
        self.call_empty(Call {
            method: Method::DELETE,
            url: parse(&token.manage)?,
            token: Some(&token.value),
            body: None,
            retry: Retry::Idempotent,
        })
        .await
    }

    /// A non-interactive token for `access` at `auth_server`, from the cache when it has more than
    /// a minute left, rotated when it is about to expire, or from a new grant.
    ///
    /// # Errors
    /// [`OpenPaymentsError`], or [`OpenPaymentsError::UnexpectedGrant`] when the server wants
    /// interaction.
    pub async fn token_for(&self, auth_server: &str, access: &AccessItem) -> Result<AccessToken> {
        let key = cache_key(auth_server, access);
        let cached = self
            .inner
            .tokens
            .lock()
            .ok()
            .and_then(|tokens| tokens.get(&key).cloned());
        if let Some(cached) = cached {
            let fresh = cached
                .expires
                .is_none_or(|at| at > self.inner.clock.system_time() + Duration::from_secs(60));
            if fresh {
                return Ok(cached.token);
            }
            if let Ok(rotated) = self.rotate_token(&cached.token).await {
                self.remember(key, &rotated);
                return Ok(rotated);
            }
        }
        let response = self
            .request_grant(auth_server, vec![access.clone()], None)
            .await?;
        match response.outcome() {
            GrantOutcome::Granted(token) => {
                self.remember(key, token);
                Ok(token.clone())
            }
            _ => Err(OpenPaymentsError::UnexpectedGrant(auth_server.to_owned())),
        }
    }

    /// Runs `request` with a cached non-interactive token; when the resource server answers 403
    /// (an inactive token), rotates the token (or requests a new grant) and runs it once more.
    ///
    /// # Errors
    /// The request's error, or the token's.
    pub async fn with_token<T, F, Fut>(
        &self,
        auth_server: &str,
        access: &AccessItem,
        request: F,
    ) -> Result<T>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.token_for(auth_server, access).await?;
        match request(token.clone()).await {
            Err(err) if err.status() == Some(403) => {
                let key = cache_key(auth_server, access);
                if let Ok(mut tokens) = self.inner.tokens.lock() {
                    tokens.remove(&key);
                }
                let renewed = match self.rotate_token(&token).await {
                    Ok(rotated) => {
                        self.remember(key, &rotated);
                        rotated
                    }
                    Err(_) => self.token_for(auth_server, access).await?,
                };
                request(renewed).await
            }
            other => other,
        }
    }

    fn remember(&self, key: String, token: &AccessToken) {
        if let Ok(mut tokens) = self.inner.tokens.lock() {
            let expires = token.expires_in.and_then(|secs| {
                self.inner
                    .clock
                    .system_time()
                    .checked_add(Duration::from_secs(secs))
            });
            tokens.insert(
                key,
                CachedToken {
                    token: token.clone(),
                    expires,
                },
            );
        }
    }
}

fn cache_key(auth_server: &str, access: &AccessItem) -> String {
    format!("{auth_server} {}", to_json(access))
}
