//! The one HTTP client: same-origin JSON requests that attach the access token and decode the
//! shared error body.

use std::fmt;

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shifting_shared::{ErrorBody, ErrorCode, FieldErrors};
use web_sys::RequestCredentials;

/// Why a request failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The server could not be reached.
    Network,
    /// The server answered with an error body.
    Api {
        /// HTTP status.
        status: u16,
        /// The decoded error.
        body: ErrorBody,
    },
    /// The server answered something we could not read.
    Unexpected(u16),
}

impl ApiError {
    /// A sentence to show.
    pub fn message(&self) -> String {
        match self {
            Self::Network => "Cannot reach Shifting. Check your connection and try again.".into(),
            Self::Api { body, .. } => body.error.message.clone(),
            Self::Unexpected(status) => {
                format!("The server answered unexpectedly (HTTP {status}). Please try again.")
            }
        }
    }

    /// Per-field problems, if any.
    pub fn fields(&self) -> FieldErrors {
        match self {
            Self::Api { body, .. } => body.error.fields.clone().unwrap_or_default(),
            _ => FieldErrors::new(),
        }
    }

    /// Whether the session is missing or over.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Api { body, .. } if body.error.code == ErrorCode::Unauthorized)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

fn builder(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    let request = request
        .credentials(RequestCredentials::SameOrigin)
        .header("Accept", "application/json");
    match token {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let status = response.status();
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|_| ApiError::Unexpected(status));
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError::Api { status, body }),
        Err(_) => Err(ApiError::Unexpected(status)),
    }
}

/// `POST path` with a JSON body.
pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    token: Option<&str>,
) -> Result<T, ApiError> {
    let request = builder(Request::post(path), token)
        .json(body)
        .map_err(|_| ApiError::Unexpected(0))?;
    decode(request.send().await.map_err(|_| ApiError::Network)?).await
}

/// `GET path`, expecting JSON back.
pub async fn get<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, ApiError> {
    decode(
        builder(Request::get(path), token)
            .send()
            .await
            .map_err(|_| ApiError::Network)?,
    )
    .await
}

/// `PATCH path` with a JSON body.
pub async fn patch<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    token: Option<&str>,
) -> Result<T, ApiError> {
    let request = builder(Request::patch(path), token)
        .json(body)
        .map_err(|_| ApiError::Unexpected(0))?;
    decode(request.send().await.map_err(|_| ApiError::Network)?).await
}

/// `POST path` without a body, expecting JSON back.
pub async fn post_empty<T: DeserializeOwned>(
    path: &str,
    token: Option<&str>,
) -> Result<T, ApiError> {
    decode(
        builder(Request::post(path), token)
            .send()
            .await
            .map_err(|_| ApiError::Network)?,
    )
    .await
}

/// `POST path` without a body, expecting no content back.
pub async fn post_no_content(path: &str, token: Option<&str>) -> Result<(), ApiError> {
    let response = builder(Request::post(path), token)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError::Api { status, body }),
        Err(_) => Err(ApiError::Unexpected(status)),
    }
}
