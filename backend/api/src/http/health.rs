//! Liveness and readiness probes.

use axum::extract::State;
use shifting_shared::ErrorBody;
use shifting_shared::api::HealthResponse;

use crate::error::Result;
use crate::services;
use crate::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Alive.", body = HealthResponse)))]
pub async fn health() -> axum::Json<HealthResponse> {
    axum::Json(HealthResponse {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve.", body = HealthResponse),
        (status = 503, description = "The database is unreachable.", body = ErrorBody),
    ))]
pub async fn ready(State(state): State<AppState>) -> Result<axum::Json<HealthResponse>> {
    services::health::check_database(&state.db).await?;
    Ok(axum::Json(HealthResponse {
        status: "ok".into(),
    }))
}
