//! `/api/auth/*`.

use shifting_shared::api::{AuthResponse, LoginRequest, SignupRequest};

use super::client::{self, ApiError};
use crate::session::Session;

/// Creates an account.
pub async fn signup(request: &SignupRequest) -> Result<AuthResponse, ApiError> {
    client::post("/api/auth/signup", request, None).await
}

/// Signs in.
pub async fn login(request: &LoginRequest) -> Result<AuthResponse, ApiError> {
    client::post("/api/auth/login", request, None).await
}

/// Trades the refresh cookie for a new access token.
pub async fn refresh() -> Result<AuthResponse, ApiError> {
    client::post_empty("/api/auth/refresh", None).await
}

/// Ends the session and clears the refresh cookie.
pub async fn logout(session: Session) -> Result<(), ApiError> {
    client::post_no_content("/api/auth/logout", Some(session)).await
}
