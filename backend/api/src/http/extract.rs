//! Extractors: strict JSON bodies with our error format, the authenticated user, the client IP.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use shifting_shared::{FieldCode, FieldError};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON request body. Malformed JSON is a 400; unknown fields, missing fields and values of the
/// wrong type are a 422 naming the field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("The request body could not be read.".into())
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every request body is an object; serde would otherwise map an array onto fields by position.
    if bytes.trim_ascii_start().first() != Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return Err(ApiError::field(
            "body",
            FieldError::new(FieldCode::Invalid, "must be a JSON object"),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &inner),
            _ => ApiError::BadRequest(format!(
                "The request body is not valid JSON: {}.",
                without_position(&inner)
            )),
        }
    })?;
    deserializer.end().map_err(|_| {
        ApiError::BadRequest("The request body has data after the JSON value.".into())
    })?;
    Ok(value)
}

/// Turns a serde data error into a 422 keyed by the offending field.
fn data_error(path: &str, err: &serde_json::Error) -> ApiError {
    let message = without_position(err);
    let quoted = message.split('`').nth(1).unwrap_or_default().to_owned();
    let (field, problem) = if message.starts_with("unknown field") {
        // The path already ends with the unknown key.
        let field = if path == "." { quoted } else { path.to_owned() };
        (
            field,
            FieldError::new(FieldCode::UnknownField, "is not a known field"),
        )
    } else if message.starts_with("missing field") {
        (
            join_path(path, &quoted),
            FieldError::new(FieldCode::Required, "is required"),
        )
    } else if path == "." {
        (
            "body".to_owned(),
            FieldError::new(FieldCode::Invalid, message),
        )
    } else {
        (
            path.to_owned(),
            FieldError::new(FieldCode::Invalid, message),
        )
    };
    ApiError::field(&field, problem)
}

fn join_path(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The signed-in user, from `Authorization: Bearer <access token>`.
#[derive(Clone, Copy, Debug)]
pub struct AuthUser {
    /// The user's id.
    pub id: Uuid,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?.ok_or(ApiError::Unauthorized("Log in to continue."))?;
        let id = signed_in(state, parts, token).await?;
        Ok(Self { id })
    }
}

/// The account behind an access token or an API key (`shk_…`), if it may still act. A key is
/// checked against the operation's scope ([`crate::http::scopes`]); then the account, so a
/// suspension or a deletion ends its sessions and keys at once (not when a token expires).
async fn signed_in(state: &AppState, parts: &Parts, token: &str) -> Result<Uuid, ApiError> {
    let id = if token.starts_with(shifting_shared::keys::KEY_PREFIX) {
        let now = state.settings.clock.now();
        let key = crate::services::api_keys::authenticate(&state.db, token, now).await?;
        let path = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(axum::extract::MatchedPath::as_str)
            .unwrap_or_default();
        match crate::http::scopes::required(&parts.method, path) {
            None => {
                return Err(ApiError::Forbidden(
                    "API keys cannot be used for this operation: it needs the person's session.",
                ));
            }
            Some(scope) if !key.scopes.contains(&scope) => {
                return Err(ApiError::Forbidden(crate::http::scopes::lacking(scope)));
            }
            Some(_) => key.user_id,
        }
    } else {
        state.tokens.verify_access(token)?
    };
    crate::services::accounts::ensure_active(&state.db, id).await?;
    Ok(id)
}

/// A signed-in admin: the role is read from the database on every request. Anonymous callers
/// get 401, everyone else 403.
#[derive(Clone, Debug)]
pub struct AdminUser(pub crate::services::admin::Actor);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(64).collect());
        Ok(Self(
            crate::services::admin::admin(&state.db, user.id, request_id).await?,
        ))
    }
}

/// The signed-in user if an `Authorization` header is present; an invalid one is still a 401.
#[derive(Clone, Copy, Debug)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer_token(parts)? {
            None => Ok(Self(None)),
            Some(token) => Ok(Self(Some(AuthUser {
                id: signed_in(state, parts, token).await?,
            }))),
        }
    }
}

/// The header that carries a guest's purchase key (the secret of their receipt link).
pub const GUEST_KEY_HEADER: &str = "x-guest-key";

/// Who asks for one purchase: a signed-in user (`Authorization: Bearer`), or a guest presenting
/// the purchase's key (`X-Guest-Key`). Whether either may see the transaction is the service's
/// answer ([`crate::services::transactions::authorise`]); a bearer token, when sent, must be
/// valid, and wins over a key.
#[derive(Clone, Debug)]
pub enum PurchaseCaller {
    /// A signed-in user.
    User(Uuid),
    /// A guest with a purchase key (unchecked until matched against the transaction).
    Guest(secrecy::SecretString),
}

impl FromRequestParts<AppState> for PurchaseCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(parts)? {
            return Ok(Self::User(signed_in(state, parts, token).await?));
        }
        let key = parts
            .headers
            .get(GUEST_KEY_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .ok_or(ApiError::Unauthorized(
                "Log in, or open the purchase through its receipt link.",
            ))?;
        Ok(Self::Guest(key.to_owned().into()))
    }
}

fn bearer_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("The Authorization header is invalid."))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized(
            "Use Authorization: Bearer <access token>.",
        )),
    }
}

/// The client's IP address, for rate limiting: the TCP peer, or what a trusted reverse proxy
/// says (`SHIFTING_TRUSTED_PROXIES`, [`crate::http::client_ip`]).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!(
                    "the server was started without peer addresses"
                ))
            })?;
        Ok(Self(
            state
                .settings
                .server
                .trusted_proxies
                .client(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shifting_shared::api::LoginRequest;

    fn fields(err: ApiError) -> Vec<(String, String)> {
        match err {
            ApiError::Validation(fields) => fields
                .into_iter()
                .map(|(name, e)| (name, e.message))
                .collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let unknown =
            parse_json::<LoginRequest>(br#"{"login":"a","password":"b","price":1}"#).unwrap_err();
        assert_eq!(
            fields(unknown),
            [("price".to_owned(), "is not a known field".to_owned())]
        );
        let missing = parse_json::<LoginRequest>(br#"{"login":"a"}"#).unwrap_err();
        assert_eq!(
            fields(missing),
            [("password".to_owned(), "is required".to_owned())]
        );
        let wrong_type = parse_json::<LoginRequest>(br#"{"login":5,"password":"b"}"#).unwrap_err();
        assert_eq!(fields(wrong_type)[0].0, "login");
        assert!(matches!(
            parse_json::<LoginRequest>(b"{\"login\":"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<LoginRequest>(br#"{"login":"a","password":"b"} x"#),
            Err(ApiError::BadRequest(_))
        ));
    }
}

/// A page of a list: every list is cursor-paginated this way.
#[derive(Clone, Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page; none for the first.
    pub cursor: Option<String>,
    /// Page size, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

impl PageQuery {
    /// The most items a page holds.
    pub const MAX: u64 = 50;
    /// Items on a page when `limit` is left out.
    pub const DEFAULT: u64 = 20;

    /// Reads the query: 400 when malformed, 422 (`limit`) outside 1–50.
    ///
    /// # Errors
    /// As above.
    pub fn read(
        query: Result<axum::extract::Query<Self>, axum::extract::rejection::QueryRejection>,
    ) -> Result<Self, ApiError> {
        let query = query
            .map(|axum::extract::Query(q)| q)
            .map_err(|e| ApiError::BadRequest(format!("{}.", e.body_text())))?;
        if query.limit.is_some_and(|l| !(1..=Self::MAX).contains(&l)) {
            return Err(ApiError::field(
                "limit",
                FieldError::new(FieldCode::OutOfRange, "must be between 1 and 50"),
            ));
        }
        Ok(query)
    }

    /// The page size asked for, or the default.
    #[must_use]
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(Self::DEFAULT)
    }
}

/// The language the client's `Accept-Language` prefers among ours (English by default).
#[derive(Clone, Copy, Debug)]
pub struct BrowserLanguage(pub shifting_shared::Language);

impl<S: Send + Sync> FromRequestParts<S> for BrowserLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let asked = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        Ok(Self(crate::services::receipts::choose(asked)))
    }
}
