//! `/api/me/budgets` and `/api/budgets/{id}/finish`: one-click budgets, approved once at the
//! buyer's wallet; `/api/payments/{id}/confirm` is the one click (in `payments`).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use shifting_shared::ErrorBody;
use shifting_shared::budget::{BudgetListResponse, BudgetResponse, CreateBudgetRequest};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, Json, PageQuery};
use crate::payments::budgets;
use crate::state::AppState;

/// Enable one-click purchases: asks the buyer's wallet for one outgoing-payment grant with a
/// debit limit per period and no receiver (`limits: {debitAmount, interval}`). The answer gives
/// the schedule (`starts_at`, each `period`, `ends_at`, computed as the wallet counts
/// repetitions) to show before sending the browser to `redirect_url`, because wallets' consent
/// pages do not show it. The browser comes back to the room (`/r/{room_code}?budget=…`) or to
/// `/settings?budget=…`.
#[utoipa::path(
    post,
    path = "/api/me/budgets",
    tag = "budgets",
    security(("bearer" = [])),
    request_body = CreateBudgetRequest,
    responses(
        (status = 201, description = "Awaiting the buyer's approval at their wallet.", body = BudgetResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "An unusable wallet, amount (in the wallet's currency), number of periods (1–24) or room code; `fields` says which.", body = ErrorBody),
        (status = 429, description = "Too many attempts from this account.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 502, description = "The wallet's provider refused or failed the grant request.", body = ErrorBody),
    )
)]
pub async fn create_budget(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<CreateBudgetRequest>,
) -> Result<(StatusCode, axum::Json<BudgetResponse>)> {
    state.payment_limiters.per_user.check_key(&user.id)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(budgets::create(&state, user.id, &request).await?),
    ))
}

/// The caller's budgets, newest first. Active ones say what is spent and left in the current
/// period: from the wallet (`GET outgoing-payment-grant`) where it can tell, else from the
/// purchases recorded here (`spent_source`).
#[utoipa::path(
    get,
    path = "/api/me/budgets",
    tag = "budgets",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of budgets, newest first.", body = BudgetListResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 422, description = "A cursor from elsewhere, or `limit` outside 1–50.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_budgets(
    State(state): State<AppState>,
    user: AuthUser,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<BudgetListResponse>> {
    let page = PageQuery::read(query)?;
    Ok(axum::Json(
        budgets::list(&state, user.id, page.cursor.as_deref(), page.limit()).await?,
    ))
}

/// One of the caller's budgets (an approved one is confirmed with the wallet first).
#[utoipa::path(
    get,
    path = "/api/me/budgets/{id}",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The budget's id.")),
    responses(
        (status = 200, description = "The budget.", body = BudgetResponse),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller has no such budget.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_budget(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<BudgetResponse>> {
    let id = budget_id(id)?;
    Ok(axum::Json(budgets::get(&state, user.id, id).await?))
}

/// Revoke a budget: no purchase is paid under it any more, its grant is revoked at the wallet
/// (`DELETE` on the grant's continuation URI) and its tokens are forgotten.
#[utoipa::path(
    delete,
    path = "/api/me/budgets/{id}",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The budget's id.")),
    responses(
        (status = 200, description = "Revoked.", body = BudgetResponse),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 404, description = "The caller has no such budget.", body = ErrorBody),
        (status = 409, description = "It has already ended.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn revoke_budget(
    State(state): State<AppState>,
    user: AuthUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<BudgetResponse>> {
    let id = budget_id(id)?;
    Ok(axum::Json(budgets::revoke(&state, user.id, id).await?))
}

/// Where the buyer's wallet sends the browser back after the budget's approval. Only a redirect
/// with the budget's `state` and a hash that checks approves it, once. Always answers 303: to
/// the room the buyer came from (`/r/{code}?budget=…`), else to `/settings?budget=…`.
#[utoipa::path(
    get,
    path = "/api/budgets/{id}/finish",
    tag = "budgets",
    params(
        ("id" = Uuid, Path, description = "The budget's id."),
        ("state" = Option<String>, Query, description = "The budget's finish state, put in the finish URI at the start."),
        ("hash" = Option<String>, Query, description = "The interaction hash (after approval)."),
        ("interact_ref" = Option<String>, Query, description = "The interaction reference (after approval)."),
        ("result" = Option<String>, Query, description = "Why there is no approval, such as `grant_rejected`."),
    ),
    responses(
        (status = 303, description = "To the room or the settings page; `budget` is the budget's status (`active`, `approved`, `declined`, `failed`) or `unchanged`.",
            headers(("Location" = String, description = "/r/K7M2QX?budget=active"))),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
    )
)]
pub async fn finish_budget(
    State(state): State<AppState>,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    query: std::result::Result<Query<budgets::FinishQuery>, QueryRejection>,
) -> Result<Redirect> {
    let id = budget_id(id)?;
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (status, room) = budgets::finish(&state, id, &query)
        .await
        .unwrap_or_else(|err| {
            tracing::error!(budget = %id, error = format!("{err:#}"), "the budget's finish could not be handled");
            (None, None)
        });
    let outcome = status.map_or("unchanged", |status| status.as_str());
    Ok(Redirect::to(&match room {
        Some(code) => format!("/r/{code}?budget={outcome}"),
        None => format!("/settings?budget={outcome}"),
    }))
}

fn budget_id(id: std::result::Result<Path<Uuid>, PathRejection>) -> Result<Uuid> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::BadRequest("The budget id is not a UUID.".into()))
}
