//! Receiving signed requests as Rafiki does: the raw body (the digest is over its bytes), the
//! `@target-uri` rebuilt from the public base URL and the request path, and the client's keys
//! fetched over HTTP from `{client}/jwks.json` on every request (Rafiki caches nothing).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use shifting_open_payments::signatures::{self, SignedRequest, VerifyError, VerifyOptions};
use shifting_open_payments::types::WalletAddress;
use shifting_open_payments::{Jwk, Jwks, KeySource};

use crate::State;

/// The most a client's wallet address or JWKS document may weigh.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// A request as received, for signature verification.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    /// Path and query as the client requested them (before any nesting stripped the prefix).
    pub(crate) path_and_query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl std::fmt::Debug for Incoming {
    /// Method and path only: the headers carry tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("method", &self.method)
            .field("path_and_query", &self.path_and_query)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequest<S> for Incoming {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path_and_query = request
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| request.uri().clone(), |original| original.0.clone())
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default();
        let method = request.method().clone();
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            method,
            path_and_query,
            headers,
            body,
        })
    }
}

impl Incoming {
    /// The GNAP token in `Authorization: GNAP <token>`, if the header has that form.
    pub(crate) fn gnap_token(&self) -> Option<&str> {
        let value = self
            .headers
            .get(http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let token = value.strip_prefix("GNAP ")?.trim();
        (!token.is_empty()).then_some(token)
    }

    /// Whether an `Authorization` header is present at all.
    pub(crate) fn has_authorization(&self) -> bool {
        self.headers.contains_key(http::header::AUTHORIZATION)
    }

    /// The body as JSON of type `T`; an empty body reads as `{}`.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| e.to_string())
    }
}

/// Why a signature was refused; each caller words it as its server does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SignatureFailure {
    /// Missing or malformed signature headers (no `keyid` …).
    Headers(VerifyError),
    /// The client's keys could not be fetched.
    KeysUnavailable(String),
    /// No key with the `keyid` in the client's JWKS.
    UnknownKey(String),
    /// The signature (or the digest it covers) does not verify.
    Invalid(VerifyError),
}

/// Verifies `incoming`'s signature with the keys published at `{client}/jwks.json`.
pub(crate) async fn verify(
    state: &Arc<State>,
    incoming: &Incoming,
    client: &str,
) -> Result<String, SignatureFailure> {
    let target_uri = format!("{}{}", state.origin, incoming.path_and_query);
    let request = SignedRequest {
        method: incoming.method.as_str(),
        target_uri: &target_uri,
        headers: &incoming.headers,
        body: &incoming.body,
    };
    let options = VerifyOptions {
        now: state.clock.unix_seconds(),
        // As Rafiki: `created` is not checked.
        max_skew: None,
    };
    let keys = ClientKeys { state, client };
    let verified = signatures::verify(&request, &keys, options).await;
    if verified.is_ok() && !survives_reserialisation(&incoming.body) {
        // Rafiki checks the digest against `JSON.stringify` of the parsed body, so a body
        // that JavaScript would write differently fails there; it must fail here too.
        return Err(SignatureFailure::Invalid(VerifyError::DigestMismatch));
    }
    match verified {
        Ok(verified) => Ok(verified.key_id),
        Err(err @ (VerifyError::BadSignature | VerifyError::DigestMismatch)) => {
            Err(SignatureFailure::Invalid(err))
        }
        Err(VerifyError::KeySource(cause)) => Err(SignatureFailure::KeysUnavailable(cause)),
        Err(VerifyError::UnknownKey(kid)) => Err(SignatureFailure::UnknownKey(kid)),
        Err(other) => Err(SignatureFailure::Headers(other)),
    }
}

/// Whether JavaScript's `JSON.stringify(JSON.parse(body))` would give back `body` as far as a
/// client can get it wrong (OPEN-PAYMENTS.md §0.2): no whitespace between tokens, no
/// integer-like object keys (JavaScript moves them first), and numbers JavaScript writes the
/// same way (no exponents, no trailing zeros, integers within 2^53). A body that is not JSON
/// is left to the handler.
pub(crate) fn survives_reserialisation(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return true;
    };
    if has_integer_like_key(&value) {
        return false;
    }
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b' ' | b'\n' | b'\r' | b'\t' => return false,
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < body.len()
                    && matches!(body[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let token = std::str::from_utf8(&body[start..i]).unwrap_or_default();
                if !number_is_stable(token) {
                    return false;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

fn has_integer_like_key(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map.iter().any(|(key, inner)| {
            (!key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()))
                || has_integer_like_key(inner)
        }),
        serde_json::Value::Array(items) => items.iter().any(has_integer_like_key),
        _ => false,
    }
}

/// Whether JavaScript prints the number `token` back as `token`.
fn number_is_stable(token: &str) -> bool {
    const MAX_SAFE: f64 = 9_007_199_254_740_992.0;
    let Ok(number) = token.parse::<f64>() else {
        return false;
    };
    let magnitude = number.abs();
    if magnitude >= 1e21 || (magnitude != 0.0 && magnitude < 1e-6) || token.contains(['e', 'E']) {
        return false;
    }
    if !token.contains('.') && magnitude > MAX_SAFE {
        return false;
    }
    number.to_string() == token
}

struct ClientKeys<'a> {
    state: &'a Arc<State>,
    client: &'a str,
}

impl KeySource for ClientKeys<'_> {
    type Error = String;

    async fn find_key(&self, key_id: &str) -> Result<Option<Jwk>, String> {
        let url = format!("{}/jwks.json", self.client.trim_end_matches('/'));
        let jwks: Jwks = fetch_json(self.state, &url).await?;
        Ok(jwks.find(key_id).cloned())
    }
}

/// Resolves a client's wallet address document.
pub(crate) async fn fetch_wallet_address(
    state: &Arc<State>,
    url: &str,
) -> Result<WalletAddress, String> {
    fetch_json(state, url).await
}

/// GETs a small JSON document, no redirects, size-capped.
async fn fetch_json<T: DeserializeOwned>(state: &Arc<State>, url: &str) -> Result<T, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url} is not an http(s) URL"));
    }
    // Literal addresses never reach the guarded resolver: check them here.
    let literal = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal
        && !state
            .fetch_policy
            .allows_address(parsed.host_str().unwrap_or_default(), ip)
    {
        return Err(format!(
            "{url} is on a network the sandbox does not fetch from"
        ));
    }
    let mut response = state
        .http
        .get(parsed)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if response.status() != StatusCode::OK {
        return Err(format!("GET {url} answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("GET {url}: the document is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not the expected JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::survives_reserialisation;

    #[test]
    fn compact_json_survives_and_what_javascript_rewrites_does_not() {
        for ok in [
            r#"{"a":"x y","b":[1,2.5,-3],"c":{"d":null}}"#,
            r#"{"value":"12345678901234567","n":9007199254740991}"#,
            r#"{"s":"tab\tquote\" done"}"#,
            "not json at all",
        ] {
            assert!(survives_reserialisation(ok.as_bytes()), "{ok}");
        }
        for rewritten in [
            "{\"a\": 1}",
            "{\n\"a\":1}",
            r#"{"metadata":{"42":"x"}}"#,
            r#"{"n":12345678901234567}"#,
            r#"{"n":1.0}"#,
            r#"{"n":1e2}"#,
        ] {
            assert!(
                !survives_reserialisation(rewritten.as_bytes()),
                "{rewritten}"
            );
        }
    }
}
