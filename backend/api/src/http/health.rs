//! Liveness and readiness probes.

use axum::extract::State;
use sea_orm::DatabaseConnection;
use shifting_shared::ErrorBody;
use shifting_shared::api::HealthResponse;

use crate::error::{ApiError, Result};

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
pub async fn ready(State(db): State<DatabaseConnection>) -> Result<axum::Json<HealthResponse>> {
    db.ping().await.map_err(|err| {
        tracing::warn!(error = %err, "readiness check failed");
        ApiError::Unavailable("The database is unreachable.")
    })?;
    Ok(axum::Json(HealthResponse {
        status: "ok".into(),
    }))
}
