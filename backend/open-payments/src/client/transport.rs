//! Every call's way out: the fetch policy, the signature, retries by §6.2, and the response
//! size cap.

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::{Call, OpenPaymentsClient, OpenPaymentsError, Result, Retry};
use crate::signatures::{RequestToSign, sign};
use crate::types::ErrorResponse;

impl OpenPaymentsClient {
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        url: Url,
        token: Option<&str>,
    ) -> Result<T> {
        self.call(Call {
            method: Method::GET,
            url,
            token,
            body: None,
            retry: Retry::Idempotent,
        })
        .await
    }

    pub(super) async fn post<T: DeserializeOwned>(
        &self,
        url: Url,
        token: Option<&str>,
        body: Option<String>,
        retry: Retry,
    ) -> Result<T> {
        self.call(Call {
            method: Method::POST,
            url,
            token,
            body,
            retry,
        })
        .await
    }

    pub(super) async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let url = call.url.to_string();
        let bytes = self.send(call).await?;
        serde_json::from_slice(&bytes).map_err(|e| OpenPaymentsError::Decode {
            url,
            message: e.to_string(),
        })
    }

    pub(super) async fn call_empty(&self, call: Call<'_>) -> Result<()> {
        self.send(call).await.map(|_| ())
    }

    /// Sends a request (signed when it has a body or a token), with the policy check, retries,
    /// and the response size cap. Returns the body of a 2xx answer.
    async fn send(&self, call: Call<'_>) -> Result<Vec<u8>> {
        let url_text = call.url.to_string();
        self.inner
            .policy
            .check_url(&call.url)
            .map_err(|source| OpenPaymentsError::Policy {
                url: url_text.clone(),
                source,
            })?;
        let mut delay = self.inner.backoff;
        let mut attempt = 1;
        let host = call.url.host_str().unwrap_or("-").to_owned();
        loop {
            let started = std::time::Instant::now();
            let outcome = self.send_once(&call).await;
            record_call(&host, &outcome, started.elapsed());
            let retry = match &outcome {
                Ok(_) => false,
                Err(SendError { error, sent }) => match call.retry {
                    Retry::Idempotent | Retry::Harmless => error.is_transient(),
                    Retry::OnlyUnsent => !sent && error.is_transient(),
                },
            };
            if !retry || attempt >= self.inner.attempts {
                return outcome.map_err(|e| e.error);
            }
            tracing::debug!(url = %url_text, attempt, "retrying an Open Payments request");
            self.inner.clock.sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Vec<u8>, SendError> {
        let url_text = call.url.to_string();
        let unsent = |error| SendError { error, sent: false };
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json");
        let authorization = call.token.map(|t| format!("GNAP {t}"));
        if call.body.is_some() || authorization.is_some() {
            let created = self.inner.clock.unix_seconds();
            let signed = sign(
                &self.inner.identity.key,
                &RequestToSign {
                    method: call.method.as_str(),
                    url: &call.url,
                    authorization: authorization.as_deref(),
                    body: call.body.as_deref().map(str::as_bytes),
                    content_type: "application/json",
                },
                created,
            );
            for (name, value) in signed.pairs() {
                let value = HeaderValue::from_str(value).map_err(|e| {
                    unsent(OpenPaymentsError::Network {
                        url: url_text.clone(),
                        message: e.to_string(),
                    })
                })?;
                request = request.header(name, value);
            }
        }
        if let Some(authorization) = &authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        if let Some(body) = &call.body {
            request = request.body(body.clone());
        }
        let mut response = request.send().await.map_err(|e| SendError {
            sent: !e.is_connect(),
            error: transport_error(&url_text, &e),
        })?;
        let sent = |error| SendError { error, sent: true };
        let limit = self.inner.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(sent(OpenPaymentsError::TooLarge {
                url: url_text,
                limit,
            }));
        }
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| sent(transport_error(&url_text, &e)))?
        {
            if body.len() + chunk.len() > limit {
                return Err(sent(OpenPaymentsError::TooLarge {
                    url: url_text,
                    limit,
                }));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        Err(sent(status_error(url_text, status, &body)))
    }
}

/// Counts one request to a provider (`open_payments_requests_total{host,status}`, `status` the
/// HTTP status or what went wrong before one) and its duration, for whichever metrics
/// recorder the process installed (none: nothing is kept).
fn record_call(host: &str, outcome: &Result<Vec<u8>, SendError>, took: std::time::Duration) {
    let status = match outcome {
        Ok(_) => "2xx".to_owned(),
        Err(SendError { error, .. }) => match error {
            OpenPaymentsError::Status { status, .. } => status.to_string(),
            OpenPaymentsError::Timeout { .. } => "timeout".to_owned(),
            OpenPaymentsError::TooLarge { .. } => "too_large".to_owned(),
            _ => "network".to_owned(),
        },
    };
    let host = host_label(host);
    metrics::counter!("open_payments_requests_total", "host" => host.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("open_payments_request_duration_seconds", "host" => host)
        .record(took.as_secs_f64());
}

/// The most provider hosts a process counts by name.
const MAX_HOSTS: usize = 64;

/// `host` as a metrics label: by name for the first [`MAX_HOSTS`] hosts a process calls, then
/// `other`. Buyers (guests too) choose their wallet's host, so the label set must not grow
/// with them.
fn host_label(host: &str) -> String {
    static SEEN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    let Ok(mut seen) = SEEN.get_or_init(Default::default).lock() else {
        return "other".to_owned();
    };
    if seen.contains(host) || seen.len() < MAX_HOSTS {
        seen.insert(host.to_owned());
        host.to_owned()
    } else {
        "other".to_owned()
    }
}

struct SendError {
    error: OpenPaymentsError,
    /// Whether the request may have reached the server.
    sent: bool,
}

fn transport_error(url: &str, error: &reqwest::Error) -> OpenPaymentsError {
    if error.is_timeout() {
        return OpenPaymentsError::Timeout {
            url: url.to_owned(),
        };
    }
    // Keep the whole chain: the policy's refusal of a resolved address is in there.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    OpenPaymentsError::Network {
        url: url.to_owned(),
        message,
    }
}

fn status_error(url: String, status: StatusCode, body: &[u8]) -> OpenPaymentsError {
    let info = serde_json::from_slice::<ErrorResponse>(body)
        .map(|e| e.error)
        .unwrap_or_default();
    OpenPaymentsError::Status {
        url,
        status: status.as_u16(),
        code: info.code,
        description: info.description,
    }
}
