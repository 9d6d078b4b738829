//! The one HTTP client: same-origin JSON requests that attach the session's access token and
//! decode the shared error body. A request refused `401` because its access token ran out (a tab
//! left open, a laptop woken from sleep) renews the session once from the refresh cookie and is
//! sent again; only when that fails too is the session over.

use std::fmt;

use gloo_net::http::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shifting_shared::{ErrorBody, ErrorCode, FieldErrors};
use web_sys::RequestCredentials;

use crate::session::Session;

/// Why a request failed. Pages show it through [`crate::text::api_error`], in the reader's
/// language.
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
    /// The server answered with an error body whose code this app does not know (a newer
    /// server): its own sentence is all there is to show.
    Unknown {
        /// HTTP status.
        status: u16,
        /// The server's sentence.
        message: String,
    },
    /// The server answered something we could not read.
    Unexpected(u16),
}

impl ApiError {
    /// The error code, if the server sent one this app knows.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { body, .. } => Some(body.error.code),
            _ => None,
        }
    }

    /// Per-field problems, if any.
    pub fn fields(&self) -> FieldErrors {
        match self {
            Self::Api { body, .. } => body.error.field_errors(),
            _ => FieldErrors::new(),
        }
    }

    /// Whether trying the same request again may help: the network, the server's own trouble,
    /// or a rate limit; never a refusal such as "no such transaction".
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network | Self::Unexpected(_) => true,
            Self::Api { status, .. } | Self::Unknown { status, .. } => {
                *status >= 500 || *status == 429 || *status == 408
            }
        }
    }

    /// Whether the session is missing or over.
    pub fn is_unauthorized(&self) -> bool {
        self.code() == Some(ErrorCode::Unauthorized)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network => f.write_str("network error"),
            Self::Api { status, body } => write!(f, "HTTP {status}: {}", body.error.message),
            Self::Unknown { status, message } => write!(f, "HTTP {status}: {message}"),
            Self::Unexpected(status) => write!(f, "unexpected answer (HTTP {status})"),
        }
    }
}

impl std::error::Error for ApiError {}

/// Who asks about one purchase: the signed-in user, or a guest with the purchase's key (the
/// `X-Guest-Key` header; see [`crate::guest`]).
#[derive(Clone, Debug)]
pub enum Caller {
    /// The session (its access token).
    Session(Session),
    /// A guest purchase's key.
    Guest(String),
}

/// What a request carries.
enum Body {
    Json(String),
    /// A file as the browser holds it, sent as is with its media type.
    File(web_sys::Blob, String),
}

/// One request: the method, the path and the body, kept so it can be sent again.
struct Call<'a> {
    method: Method,
    path: &'a str,
    body: Option<Body>,
    guest_key: Option<String>,
}

impl<'a> Call<'a> {
    fn new(method: Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            body: None,
            guest_key: None,
        }
    }

    fn json<B: Serialize>(mut self, body: &B) -> Result<Self, ApiError> {
        let json = serde_json::to_string(body).map_err(|_| ApiError::Unexpected(0))?;
        self.body = Some(Body::Json(json));
        Ok(self)
    }

    async fn attempt(&self, token: Option<&str>) -> Result<Response, ApiError> {
        let mut request = RequestBuilder::new(self.path)
            .method(self.method.clone())
            .credentials(RequestCredentials::SameOrigin)
            .header("Accept", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(key) = &self.guest_key {
            request = request.header("X-Guest-Key", key);
        }
        let request = match &self.body {
            Some(Body::Json(body)) => request
                .header("Content-Type", "application/json")
                .body(body.as_str()),
            Some(Body::File(file, media_type)) => request
                .header("Content-Type", media_type)
                .body(wasm_bindgen::JsValue::from(file.clone())),
            None => request.build(),
        }
        .map_err(|_| ApiError::Unexpected(0))?;
        request.send().await.map_err(|_| ApiError::Network)
    }

    /// Sends the call as `caller`.
    async fn send_as(mut self, caller: Caller) -> Result<Response, ApiError> {
        match caller {
            Caller::Session(session) => self.send(Some(session)).await,
            Caller::Guest(key) => {
                self.guest_key = Some(key);
                self.attempt(None).await
            }
        }
    }

    /// Sends the call, as `session` when there is one, renewing an expired access token once.
    async fn send(self, session: Option<Session>) -> Result<Response, ApiError> {
        let Some(session) = session else {
            return self.attempt(None).await;
        };
        let generation = session.generation();
        let response = self.attempt(session.access_token().as_deref()).await?;
        if response.status() != 401 || !session.renew(generation).await {
            return Ok(response);
        }
        self.attempt(session.access_token().as_deref()).await
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
    Err(error(response).await)
}

/// The error body with only what every version of it has, for codes this app does not know.
#[derive(serde::Deserialize)]
struct LooseBody {
    error: LooseDetail,
}

#[derive(serde::Deserialize)]
struct LooseDetail {
    message: String,
}

async fn error(response: Response) -> ApiError {
    let status = response.status();
    let Ok(text) = response.text().await else {
        return ApiError::Unexpected(status);
    };
    if let Ok(body) = serde_json::from_str::<ErrorBody>(&text) {
        return ApiError::Api { status, body };
    }
    match serde_json::from_str::<LooseBody>(&text) {
        Ok(loose) => ApiError::Unknown {
            status,
            message: loose.error.message,
        },
        Err(_) => ApiError::Unexpected(status),
    }
}

/// `GET path`, expecting JSON back.
pub async fn get<T: DeserializeOwned>(path: &str, session: Option<Session>) -> Result<T, ApiError> {
    decode(Call::new(Method::GET, path).send(session).await?).await
}

/// `GET path`, expecting text back (a file to save).
pub async fn get_text(path: &str, session: Option<Session>) -> Result<String, ApiError> {
    let response = Call::new(Method::GET, path).send(session).await?;
    if !response.ok() {
        return Err(error(response).await);
    }
    let status = response.status();
    response
        .text()
        .await
        .map_err(|_| ApiError::Unexpected(status))
}

/// `POST path` with a JSON body.
pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    session: Option<Session>,
) -> Result<T, ApiError> {
    decode(
        Call::new(Method::POST, path)
            .json(body)?
            .send(session)
            .await?,
    )
    .await
}

/// `PATCH path` with a JSON body.
pub async fn patch<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    session: Option<Session>,
) -> Result<T, ApiError> {
    decode(
        Call::new(Method::PATCH, path)
            .json(body)?
            .send(session)
            .await?,
    )
    .await
}

/// `PUT path` with a JSON body.
pub async fn put<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    session: Option<Session>,
) -> Result<T, ApiError> {
    decode(
        Call::new(Method::PUT, path)
            .json(body)?
            .send(session)
            .await?,
    )
    .await
}

/// `POST path` without a body, expecting JSON back.
pub async fn post_empty<T: DeserializeOwned>(
    path: &str,
    session: Option<Session>,
) -> Result<T, ApiError> {
    decode(Call::new(Method::POST, path).send(session).await?).await
}

/// `GET path` as `caller`, expecting JSON back.
pub async fn get_as<T: DeserializeOwned>(path: &str, caller: Caller) -> Result<T, ApiError> {
    decode(Call::new(Method::GET, path).send_as(caller).await?).await
}

/// `POST path` without a body as `caller`, expecting JSON back.
pub async fn post_empty_as<T: DeserializeOwned>(path: &str, caller: Caller) -> Result<T, ApiError> {
    decode(Call::new(Method::POST, path).send_as(caller).await?).await
}

/// `GET path` as `caller`, expecting a file back (its bytes).
pub async fn get_file(path: &str, caller: Caller) -> Result<Vec<u8>, ApiError> {
    let response = Call::new(Method::GET, path).send_as(caller).await?;
    if !response.ok() {
        return Err(error(response).await);
    }
    let status = response.status();
    response
        .binary()
        .await
        .map_err(|_| ApiError::Unexpected(status))
}

/// Sends `file` as the body of `method path` with its media type, expecting JSON back.
pub async fn send_file<T: DeserializeOwned>(
    method: Method,
    path: &str,
    file: web_sys::Blob,
    media_type: &str,
    session: Session,
) -> Result<T, ApiError> {
    let mut call = Call::new(method, path);
    call.body = Some(Body::File(file, media_type.to_owned()));
    decode(call.send(Some(session)).await?).await
}

/// `DELETE path`, expecting JSON back.
pub async fn delete<T: DeserializeOwned>(path: &str, session: Session) -> Result<T, ApiError> {
    decode(Call::new(Method::DELETE, path).send(Some(session)).await?).await
}

/// `DELETE path`, expecting no content back.
pub async fn delete_no_content(path: &str, session: Session) -> Result<(), ApiError> {
    let response = Call::new(Method::DELETE, path).send(Some(session)).await?;
    if response.ok() {
        return Ok(());
    }
    Err(error(response).await)
}

/// `DELETE path` with a JSON body, expecting no content back.
pub async fn delete_with_body<B: Serialize>(
    path: &str,
    body: &B,
    session: Session,
) -> Result<(), ApiError> {
    let response = Call::new(Method::DELETE, path)
        .json(body)?
        .send(Some(session))
        .await?;
    if response.ok() {
        return Ok(());
    }
    Err(error(response).await)
}

/// `POST path` without a body, expecting no content back.
pub async fn post_no_content(path: &str, session: Option<Session>) -> Result<(), ApiError> {
    let response = Call::new(Method::POST, path).send(session).await?;
    if response.ok() {
        return Ok(());
    }
    Err(error(response).await)
}

/// A cursor as it goes in a query: cursors are base64url; anything else is dropped.
pub fn cursor(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Keeps a path segment taken from a URL to one segment of letters, digits and dashes (room
/// codes and transaction ids are nothing else).
pub fn segment(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
