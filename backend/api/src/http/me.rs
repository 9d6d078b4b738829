//! `/api/me`: the signed-in user's profile.

use axum::extract::State;
use shifting_shared::ErrorBody;
use shifting_shared::api::UserResponse;

use crate::error::Result;
use crate::http::extract::AuthUser;
use crate::services::accounts;
use crate::state::AppState;

/// The signed-in user's profile.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile.", body = UserResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_me(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<UserResponse>> {
    Ok(axum::Json(accounts::get_profile(&state.db, user.id).await?))
}
