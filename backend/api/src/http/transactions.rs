//! `/api/transactions`: the caller's purchases and sales.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use shifting_shared::api::{TransactionPageResponse, TransactionResponse};
use shifting_shared::{ErrorBody, FieldCode, FieldError};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::AuthUser;
use crate::services::transactions::{self, Side};
use crate::state::AppState;

/// Which side of the caller's transactions.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Purchases.
    Buyer,
    /// Sales.
    Seller,
}

/// Query of `GET /api/transactions`.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only purchases (`buyer`) or only sales (`seller`); default both.
    pub role: Option<Role>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u64>,
    /// How many to skip (default 0, at most 2^63 − 1).
    pub offset: Option<u64>,
}

/// The caller's transactions, newest first.
#[utoipa::path(
    get,
    path = "/api/transactions",
    tag = "transactions",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of transactions.", body = TransactionPageResponse),
        (status = 400, description = "An unknown role or a malformed number.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 422, description = "`limit` outside 1–100, or `offset` beyond 2^63 − 1.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_transactions(
    State(state): State<AppState>,
    user: AuthUser,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<TransactionPageResponse>> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(format!("{}.", e.body_text())))?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            FieldError::new(FieldCode::OutOfRange, "must be between 1 and 100"),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    // Databases count rows in signed 64 bits.
    if i64::try_from(offset).is_err() {
        return Err(ApiError::field(
            "offset",
            FieldError::new(FieldCode::OutOfRange, "is too large"),
        ));
    }
    let side = match query.role {
        Some(Role::Buyer) => Side::Buyer,
        Some(Role::Seller) => Side::Seller,
        None => Side::Either,
    };
    Ok(axum::Json(
        transactions::list_transactions(&state.db, user.id, side, limit, offset).await?,
    ))
}

/// One transaction with its status history (its buyer and seller only).
#[utoipa::path(
    get,
    path = "/api/transactions/{id}",
    tag = "transactions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The transaction id.")),
    responses(
        (status = 200, description = "The transaction.", body = TransactionResponse),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "No such transaction of the caller's.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_transaction(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<axum::Json<TransactionResponse>> {
    let Path(id) = id.map_err(|_| ApiError::NotFound("No such transaction."))?;
    Ok(axum::Json(
        transactions::get_transaction(&state.db, user.id, id).await?,
    ))
}
