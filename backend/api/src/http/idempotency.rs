//! The `Idempotency-Key` layer of the writes an integrator may retry
//! ([`crate::services::idempotency`]). It runs after routing, on `POST` only; without the
//! header a request passes untouched.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shifting_shared::{FieldCode, FieldError};

use crate::error::{ApiError, Result};
use crate::http::extract::AuthUser;
use crate::services::idempotency::{self, Begin};
use crate::services::tokens::sha256_hex;
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The header on an answer sent again.
pub const REPLAYED: &str = "idempotent-replayed";
/// The largest answer kept.
const MAX_ANSWER: usize = 1024 * 1024;

/// The middleware.
pub async fn layer(request: Request, next: Next) -> Response {
    match run(request, next).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn run(request: Request, next: Next) -> Result<Response> {
    if request.method() != axum::http::Method::POST {
        return Ok(next.run(request).await);
    }
    let Some(key) = request.headers().get(HEADER) else {
        return Ok(next.run(request).await);
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::field(
                "Idempotency-Key",
                FieldError::new(FieldCode::Invalid, "must be 1–255 visible ASCII characters"),
            )
        })?
        .to_owned();
    let state = request
        .extensions()
        .get::<AppState>()
        .cloned()
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("the app state is not on the request"))
        })?;
    let (mut parts, body) = request.into_parts();
    let user = AuthUser::from_request_parts(&mut parts, &state).await?;
    let bytes = axum::body::to_bytes(body, state.settings.server.max_body_bytes)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let mut seen = Vec::with_capacity(bytes.len() + 64);
    seen.extend_from_slice(parts.uri.path().as_bytes());
    seen.push(b'\n');
    seen.extend_from_slice(&bytes);
    let fingerprint = sha256_hex(&String::from_utf8_lossy(&seen));
    let now = state.settings.clock.now();
    match idempotency::begin(&state.db, user.id, &key, &fingerprint, now).await? {
        Begin::Fresh => {}
        Begin::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(REPLAYED, HeaderValue::from_static("true"));
            return Ok(response);
        }
        Begin::InProgress => {
            return Err(ApiError::conflict(
                "A request with this Idempotency-Key is still being answered: retry in a moment.",
            ));
        }
        Begin::Mismatch => {
            return Err(ApiError::field(
                "Idempotency-Key",
                FieldError::new(
                    FieldCode::Invalid,
                    "was used with another request in the last 24 hours",
                ),
            ));
        }
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let answer: Bytes = match axum::body::to_bytes(body, MAX_ANSWER).await {
        Ok(answer) => answer,
        Err(_) => {
            idempotency::finish(&state.db, user.id, &key, (500, "")).await?;
            return Err(ApiError::Internal(anyhow::anyhow!(
                "an answer too large to keep"
            )));
        }
    };
    idempotency::finish(
        &state.db,
        user.id,
        &key,
        (parts.status.as_u16(), &String::from_utf8_lossy(&answer)),
    )
    .await?;
    Ok(Response::from_parts(parts, Body::from(answer)))
}
