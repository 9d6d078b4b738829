//! Account recovery and care: reset, confirmation links, password and address changes,
//! preferences, unsubscribing and deletion.

use shifting_shared::account::{
    Accepted, ChangeEmailRequest, ChangePasswordRequest, DeleteAccountRequest, EmailConfirmed,
    PasswordResetConfirm, PasswordResetRequest, PreferencesRequest, Unsubscribed,
    VerifyEmailRequest,
};
use shifting_shared::api::{AuthResponse, UserResponse};

use super::client::{self, ApiError};
use crate::session::Session;

/// Asks for a reset link (the answer is the same for any address).
pub async fn request_reset(email: String) -> Result<Accepted, ApiError> {
    client::post(
        "/api/auth/password-reset",
        &PasswordResetRequest { email },
        None,
    )
    .await
}

/// Sets a new password with a reset link's token; signs in.
pub async fn confirm_reset(request: &PasswordResetConfirm) -> Result<AuthResponse, ApiError> {
    client::post("/api/auth/password-reset/confirm", request, None).await
}

/// Follows an e-mail confirmation link.
pub async fn verify_email(token: String) -> Result<EmailConfirmed, ApiError> {
    client::post(
        "/api/auth/verify-email",
        &VerifyEmailRequest { token },
        None,
    )
    .await
}

/// Turns off the notice an unsubscribe link names.
pub async fn unsubscribe(token: &str) -> Result<Unsubscribed, ApiError> {
    let path = format!(
        "/api/mail/unsubscribe?token={}",
        js_sys::encode_uri_component(token)
    );
    client::post_empty(&path, None).await
}

/// Mails a new confirmation link.
pub async fn resend_verification(session: Session) -> Result<Accepted, ApiError> {
    client::post_empty("/api/me/email-verification", Some(session)).await
}

/// Changes the password; the answer is a fresh session.
pub async fn change_password(
    session: Session,
    request: &ChangePasswordRequest,
) -> Result<AuthResponse, ApiError> {
    client::post("/api/me/password", request, Some(session)).await
}

/// Starts moving the account to another address.
pub async fn change_email(
    session: Session,
    request: &ChangeEmailRequest,
) -> Result<Accepted, ApiError> {
    client::post("/api/me/email", request, Some(session)).await
}

/// Stores the mail language and notices.
pub async fn set_preferences(
    session: Session,
    request: &PreferencesRequest,
) -> Result<UserResponse, ApiError> {
    client::put("/api/me/preferences", request, Some(session)).await
}

/// Deletes the account.
pub async fn delete_account(session: Session, password: String) -> Result<(), ApiError> {
    client::delete_with_body("/api/me", &DeleteAccountRequest { password }, session).await
}
