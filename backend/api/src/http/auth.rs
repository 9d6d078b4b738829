//! `/api/auth/*`: sign-up, log-in, refresh and log-out. The refresh token lives in an HttpOnly,
//! SameSite=Strict cookie scoped to `/api/auth`, so scripts never see it.

use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use shifting_shared::ErrorBody;
use shifting_shared::api::{AuthResponse, LoginRequest, SignupRequest};

use crate::error::{ApiError, Result};
use crate::http::extract::{BrowserLanguage, ClientIp, Json, MaybeAuthUser};
use crate::services::accounts::{self, Session};
use crate::state::AppState;

/// Name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "shifting_refresh";
const COOKIE_PATH: &str = "/api/auth";

/// Create an account and sign in.
#[utoipa::path(
    post,
    path = "/api/auth/signup",
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created and signed in; the refresh token is set as an HttpOnly cookie. A link to confirm the e-mail address is mailed.",
            body = AuthResponse, headers(("Set-Cookie" = String, description = "shifting_refresh=…; HttpOnly; SameSite=Strict; Path=/api/auth"))),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 409, description = "Username or e-mail already registered.", body = ErrorBody),
        (status = 413, description = "Body too large.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Invalid or unknown fields.", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    BrowserLanguage(language): BrowserLanguage,
    jar: CookieJar,
    Json(request): Json<SignupRequest>,
) -> Result<(StatusCode, CookieJar, axum::Json<AuthResponse>)> {
    state.auth_limiter.check(ip)?;
    let account = request.parse().map_err(ApiError::Validation)?;
    let session = accounts::sign_up(&state.db, &state.tokens, account, language).await?;
    state.mail_wake.notify_one();
    let (jar, body) = respond(&state, jar, session);
    Ok((StatusCode::CREATED, jar, body))
}

/// Sign in with a username or e-mail address and a password.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the refresh token is set as an HttpOnly cookie.",
            body = AuthResponse, headers(("Set-Cookie" = String, description = "shifting_refresh=…; HttpOnly; SameSite=Strict; Path=/api/auth"))),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Wrong login or password (the same answer for both).", body = ErrorBody),
        (status = 403, description = "The account is suspended (said only after the right password).", body = ErrorBody),
        (status = 413, description = "Body too large.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Missing or unknown fields.", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(request): Json<LoginRequest>,
) -> Result<(CookieJar, axum::Json<AuthResponse>)> {
    state.auth_limiter.check(ip)?;
    request.check().map_err(ApiError::Validation)?;
    let session =
        accounts::log_in(&state.db, &state.tokens, &request.login, request.password).await?;
    Ok(respond(&state, jar, session))
}

/// Exchange the refresh cookie for a new access token. The refresh token is rotated; presenting
/// an already-rotated token ends every session of its family.
#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = "auth",
    params(("shifting_refresh" = String, Cookie, description = "The refresh token set at sign-up, log-in or the previous refresh.")),
    responses(
        (status = 200, description = "A new access token; the rotated refresh token is set as an HttpOnly cookie.",
            body = AuthResponse, headers(("Set-Cookie" = String, description = "shifting_refresh=…; HttpOnly; SameSite=Strict; Path=/api/auth"))),
        (status = 401, description = "No, unknown, expired, revoked or reused refresh token.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<(CookieJar, axum::Json<AuthResponse>)> {
    let token = jar
        .get(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(ApiError::Unauthorized(
            "There is no session to refresh. Please log in.",
        ))?;
    let session = accounts::refresh(&state.db, &state.tokens, &token).await?;
    Ok(respond(&state, jar, session))
}

/// End the session: revokes the refresh cookie's token family (or, with only an access token,
/// every session of the user) and clears the cookie. Access tokens already issued stay valid
/// until they expire.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    params(("shifting_refresh" = Option<String>, Cookie, description = "The refresh token to revoke.")),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Logged out; the cookie is cleared.",
            headers(("Set-Cookie" = String, description = "shifting_refresh=; Max-Age=0"))),
        (status = 401, description = "An Authorization header was sent but is invalid.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar)> {
    let token = jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned());
    accounts::log_out(
        &state.db,
        token.as_deref(),
        user.map(|u| u.id),
        state.settings.clock.now(),
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, clear_refresh_cookie(&state, jar)))
}

/// `jar` with the refresh cookie removed (log-out, a deleted account).
pub(crate) fn clear_refresh_cookie(state: &AppState, jar: CookieJar) -> CookieJar {
    let cleared = Cookie::build((REFRESH_COOKIE, ""))
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.cookie_secure)
        .removal();
    jar.add(cleared)
}

pub(crate) fn respond(
    state: &AppState,
    jar: CookieJar,
    session: Session,
) -> (CookieJar, axum::Json<AuthResponse>) {
    let max_age = time::Duration::seconds(
        i64::try_from(state.tokens.refresh_ttl.as_secs()).unwrap_or(i64::MAX),
    );
    let cookie = Cookie::build((REFRESH_COOKIE, session.refresh_token))
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.cookie_secure)
        .max_age(max_age);
    let body = AuthResponse {
        user: session.user,
        access_token: session.access_token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.access_ttl.as_secs(),
    };
    (jar.add(cookie), axum::Json(body))
}
