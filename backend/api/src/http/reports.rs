//! `POST /api/reports`: any signed-in user reports a room, a review or a message.

use axum::extract::State;
use axum::http::StatusCode;
use shifting_shared::ErrorBody;
use shifting_shared::admin::{CreateReportRequest, ReportResponse};

use crate::error::Result;
use crate::http::extract::{AuthUser, Json};
use crate::state::AppState;

/// Report a room (by its code), a review (by its id) or a message (by its id, in one of the
/// caller's conversations) to the platform's admins.
#[utoipa::path(
    post,
    path = "/api/reports",
    tag = "reports",
    security(("bearer" = [])),
    request_body = CreateReportRequest,
    responses(
        (status = 201, description = "Filed; an admin will look at it.", body = ReportResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "Nothing with this id (that the caller can see).", body = ErrorBody),
        (status = 409, description = "The caller has an open report of it already, or it is not something people wrote.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "An unknown kind or reason, a malformed id, a too long text.", body = ErrorBody),
        (status = 429, description = "Too many reports and messages in a short time.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn create_report(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<CreateReportRequest>,
) -> Result<(StatusCode, axum::Json<ReportResponse>)> {
    state.message_limiter.check_key(&user.id)?;
    let now = state.settings.clock.now();
    let report = crate::services::reports::create(&state.db, user.id, &request, now).await?;
    Ok((StatusCode::CREATED, axum::Json(report)))
}
