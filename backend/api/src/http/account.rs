//! Account recovery and care: password reset, e-mail confirmation, password and e-mail
//! change, notice preferences, one-click unsubscribe and account deletion.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use shifting_shared::account::{
    Accepted, ChangeEmailRequest, ChangePasswordRequest, DeleteAccountRequest, EmailConfirmed,
    PasswordResetConfirm, PasswordResetRequest, PreferencesRequest, Unsubscribed,
    VerifyEmailRequest,
};
use shifting_shared::api::{AuthResponse, UserResponse};
use shifting_shared::{ErrorBody, RoomCode};

use crate::error::{ApiError, Result};
use crate::http::auth::{clear_refresh_cookie, respond};
use crate::http::extract::{AuthUser, ClientIp, Json};
use crate::services::{accounts, erasure, recovery};
use crate::state::AppState;

/// The one answer to a reset request, whether or not an account has the address.
const RESET_ANSWER: &str = "If an account has this address, a link to choose a new password is on its way. It works for 30 minutes.";

/// Ask for a password reset link. The answer is the same whether or not an account has the
/// address, and a deleted account gets nothing.
#[utoipa::path(
    post,
    path = "/api/auth/password-reset",
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Taken: if an account has the address, a link is mailed to it (the same answer either way).", body = Accepted),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Not an e-mail address.", body = ErrorBody),
        (status = 429, description = "Too many requests from this address or for this e-mail address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn request_password_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<PasswordResetRequest>,
) -> Result<(StatusCode, axum::Json<Accepted>)> {
    let email = request.parse().map_err(ApiError::Validation)?;
    state.auth_limiter.check(ip)?;
    state.mail_limiter.check_key(&email.as_str().to_owned())?;
    recovery::request_reset(&state.db, &email, state.settings.clock.now()).await?;
    state.mail_wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            message: RESET_ANSWER.into(),
        }),
    ))
}

/// Choose a new password with the token from a reset link, and sign in. The link works once,
/// for 30 minutes; every other session of the account ends.
#[utoipa::path(
    post,
    path = "/api/auth/password-reset/confirm",
    tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 200, description = "Password changed and signed in; the refresh token is set as an HttpOnly cookie.",
            body = AuthResponse, headers(("Set-Cookie" = String, description = "shifting_refresh=…; HttpOnly; SameSite=Strict; Path=/api/auth"))),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 403, description = "The account is suspended: the link stays unused.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "An unacceptable password, or a link that is unknown, expired or used (`field_codes.token` = `link_invalid`).", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(request): Json<PasswordResetConfirm>,
) -> Result<(CookieJar, axum::Json<AuthResponse>)> {
    state.auth_limiter.check(ip)?;
    let password = request.parse().map_err(ApiError::Validation)?;
    let session =
        recovery::reset_password(&state.db, &state.tokens, &request.token, password).await?;
    state.mail_wake.notify_one();
    Ok(respond(&state, jar, session))
}

/// Confirm an e-mail address with the token from a mailed link: the account's address, or the
/// new address it asked to move to (the old address is then told).
#[utoipa::path(
    post,
    path = "/api/auth/verify-email",
    tag = "auth",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "Confirmed.", body = EmailConfirmed),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 409, description = "Another account took the new address meanwhile.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A link that is unknown, expired or used (`field_codes.token` = `link_invalid`).", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<VerifyEmailRequest>,
) -> Result<axum::Json<EmailConfirmed>> {
    state.auth_limiter.check(ip)?;
    let confirmed =
        recovery::confirm_email(&state.db, &request.token, state.settings.clock.now()).await?;
    state.mail_wake.notify_one();
    Ok(axum::Json(confirmed))
}

/// Mail a new link to confirm the account's address.
#[utoipa::path(
    post,
    path = "/api/me/email-verification",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new link is on its way.", body = Accepted),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 409, description = "The address is confirmed already.", body = ErrorBody),
        (status = 429, description = "Too many links asked for.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn resend_verification(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, axum::Json<Accepted>)> {
    recovery::resend_verification(
        &state.db,
        &state.mail_limiter,
        user.id,
        state.settings.clock.now(),
    )
    .await?;
    state.mail_wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            message: "A new link to confirm your address is on its way.".into(),
        }),
    ))
}

/// Change the password (the current one is needed). Every other session ends; this one gets
/// a fresh refresh token.
#[utoipa::path(
    post,
    path = "/api/me/password",
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; signed in afresh (the refresh token is set as an HttpOnly cookie).",
            body = AuthResponse, headers(("Set-Cookie" = String, description = "shifting_refresh=…; HttpOnly; SameSite=Strict; Path=/api/auth"))),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A wrong current password (`password_wrong`) or an unacceptable new one.", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    jar: CookieJar,
    Json(request): Json<ChangePasswordRequest>,
) -> Result<(CookieJar, axum::Json<AuthResponse>)> {
    state.auth_limiter.check(ip)?;
    let new = request.parse().map_err(ApiError::Validation)?;
    let session = recovery::change_password(
        &state.db,
        &state.tokens,
        user.id,
        request.current_password,
        new,
    )
    .await?;
    state.mail_wake.notify_one();
    Ok(respond(&state, jar, session))
}

/// Move the account to another e-mail address: a link goes to the new address, and nothing
/// changes until it is followed (24 hours).
#[utoipa::path(
    post,
    path = "/api/me/email",
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangeEmailRequest,
    responses(
        (status = 202, description = "A link is on its way to the new address.", body = Accepted),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 409, description = "Another account has the address.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Not an address, the same address, or a wrong password.", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn change_email(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    Json(request): Json<ChangeEmailRequest>,
) -> Result<(StatusCode, axum::Json<Accepted>)> {
    let email = request.parse().map_err(ApiError::Validation)?;
    state.auth_limiter.check(ip)?;
    recovery::change_email(
        &state.db,
        &state.mail_limiter,
        user.id,
        &email,
        request.password,
        state.settings.clock.now(),
    )
    .await?;
    state.mail_wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            message: "A link to confirm the new address is on its way to it.".into(),
        }),
    ))
}

/// Set the language of the user's mail and the notices they want (receipts and account
/// security mail always go).
#[utoipa::path(
    put,
    path = "/api/me/preferences",
    tag = "me",
    security(("bearer" = [])),
    request_body = PreferencesRequest,
    responses(
        (status = 200, description = "The updated profile.", body = UserResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "Missing or unknown fields.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn set_preferences(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<PreferencesRequest>,
) -> Result<axum::Json<UserResponse>> {
    Ok(axum::Json(
        accounts::set_preferences(&state.db, user.id, request, state.settings.clock.now()).await?,
    ))
}

/// `?token=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The token from the mail's `List-Unsubscribe` header or footer link.
    token: String,
}

/// One-click unsubscribe (RFC 8058): the address of a notice's `List-Unsubscribe` header. Mail
/// programs post `List-Unsubscribe=One-Click` to it; the body is not read. Turning a notice off
/// twice is fine.
#[utoipa::path(
    post,
    path = "/api/mail/unsubscribe",
    tag = "auth",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "The notice is off.", body = Unsubscribed),
        (status = 400, description = "No token.", body = ErrorBody),
        (status = 404, description = "Not a genuine unsubscribe token.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    query: std::result::Result<Query<UnsubscribeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Unsubscribed>> {
    let Query(query) =
        query.map_err(|_| ApiError::BadRequest("The unsubscribe link has no token.".into()))?;
    let (user_id, notice) = state
        .unsubscribe
        .check(&query.token)
        .ok_or(ApiError::NotFound("This unsubscribe link is not genuine."))?;
    accounts::unsubscribe(&state.db, user_id, notice, state.settings.clock.now()).await?;
    Ok(axum::Json(Unsubscribed { notice }))
}

/// Delete the account (the password is needed). Its rooms close; the name, e-mail address,
/// password, wallet and sessions are erased; the records of past sales keep amounts, wallets
/// and times under an anonymous name. Refused while one of its payments is moving money.
#[utoipa::path(
    delete,
    path = "/api/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted; the refresh cookie is cleared.",
            headers(("Set-Cookie" = String, description = "shifting_refresh=; Max-Age=0"))),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 409, description = "A payment of the account is still moving money (`payment_in_progress`), or the account is the last active admin.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A wrong password (`password_wrong`).", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    jar: CookieJar,
    Json(request): Json<DeleteAccountRequest>,
) -> Result<(StatusCode, CookieJar)> {
    state.auth_limiter.check(ip)?;
    let erased = erasure::delete_account(
        &state.db,
        user.id,
        request.password,
        state.settings.clock.now(),
    )
    .await?;
    for code in erased
        .rooms
        .iter()
        .filter_map(|code| RoomCode::parse(code).ok())
    {
        state.room_views.forget(&code).await;
    }
    crate::payments::budgets::cancel_in_background(&state, erased.budgets);
    Ok((StatusCode::NO_CONTENT, clear_refresh_cookie(&state, jar)))
}
