//! The admin panel's API (`/api/admin/…`): every route takes [`AdminUser`], so anonymous
//! callers get 401 and everyone but an active admin 403, before anything is read.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use shifting_shared::ErrorBody;
use shifting_shared::admin::{
    AdminOverviewResponse, AdminReasonRequest, AdminRoomPageResponse, AdminRoomResponse,
    AdminTransactionDetailResponse, AdminTransactionPageResponse, AdminUserPageResponse,
    AdminUserResponse, AuditAction, AuditPageResponse, ProviderCheckResponse, ReportPageResponse,
    ReportResponse, ReportStatus, SetRoleRequest, StuckPaymentsResponse,
};
use shifting_shared::{FieldCode, FieldError, TransactionStatus};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AdminUser, Json, PageQuery};
use crate::http::rooms::room_code;
use crate::services::admin::{self, RoomAction, UserRef};
use crate::services::admin_views::{self, AuditFilter};
use crate::state::AppState;

fn path_id(id: std::result::Result<Path<Uuid>, PathRejection>, what: &'static str) -> Result<Uuid> {
    id.map(|Path(id)| id).map_err(|_| ApiError::NotFound(what))
}

fn query<T>(query: std::result::Result<Query<T>, QueryRejection>) -> Result<T> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest(format!("{}.", e.body_text())))
}

/// A search term or filter: at most 200 characters, without control characters (a NUL
/// cannot reach PostgreSQL's text parameters).
fn term(name: &'static str, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(text) if text.chars().count() > 200 => Err(ApiError::field(
            name,
            FieldError::new(FieldCode::TooLong, "is longer than 200 characters"),
        )),
        Some(text) if text.chars().any(char::is_control) => Err(ApiError::field(
            name,
            FieldError::new(FieldCode::ControlCharacters, "contains control characters"),
        )),
        other => Ok(other),
    }
}

/// The page size of a query, checked like every list's.
fn page(cursor: Option<String>, limit: Option<u64>) -> Result<PageQuery> {
    PageQuery::read(Ok(Query(PageQuery { cursor, limit })))
}

/// Counts, 30 days of sales per currency per day, and the payment funnel.
#[utoipa::path(
    get,
    path = "/api/admin/overview",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The overview.", body = AdminOverviewResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn overview(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<axum::Json<AdminOverviewResponse>> {
    let now = state.settings.clock.now();
    Ok(axum::Json(
        admin_views::overview(&state.db, state.settings.payments.verification_timeout, now).await?,
    ))
}

/// A search of the accounts.
#[derive(Clone, Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    /// Part of a username or e-mail address (any case).
    pub q: Option<String>,
    /// `next_cursor` of the previous page; none for the first.
    pub cursor: Option<String>,
    /// Page size, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

/// Accounts, newest first, searchable.
#[utoipa::path(
    get,
    path = "/api/admin/users",
    tag = "admin",
    security(("bearer" = [])),
    params(UserSearch),
    responses(
        (status = 200, description = "A page of accounts.", body = AdminUserPageResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 422, description = "A bad cursor, `limit` outside 1–50, or a search term too long or with control characters.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn users(
    State(state): State<AppState>,
    _admin: AdminUser,
    search: std::result::Result<Query<UserSearch>, QueryRejection>,
) -> Result<axum::Json<AdminUserPageResponse>> {
    let search = query(search)?;
    let page = page(search.cursor, search.limit)?;
    Ok(axum::Json(
        admin_views::users_page(
            &state.db,
            term("q", search.q)?.as_deref(),
            page.cursor.as_deref(),
            page.limit(),
        )
        .await?,
    ))
}

/// Suspend an account: it cannot sign in, every session ends at once, and its rooms are
/// withdrawn from the public and cannot be paid. Admins cannot be suspended.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/suspend",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id.")),
    request_body = AdminReasonRequest,
    responses(
        (status = 200, description = "Suspended.", body = AdminUserResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No account has this id.", body = ErrorBody),
        (status = 409, description = "Suspended already, oneself, or an admin.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn suspend_user(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<AdminReasonRequest>,
) -> Result<axum::Json<AdminUserResponse>> {
    let id = path_id(id, "No account has this id.")?;
    let reason = admin::reason(&request.reason)?;
    let now = state.settings.clock.now();
    let (user, codes) = admin::suspend((&state.db, &state.live), &actor, id, &reason, now).await?;
    forget_rooms(&state, codes).await;
    Ok(axum::Json(user))
}

/// Lift a suspension.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/unsuspend",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id.")),
    request_body = AdminReasonRequest,
    responses(
        (status = 200, description = "No longer suspended.", body = AdminUserResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No account has this id.", body = ErrorBody),
        (status = 409, description = "Not suspended.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn unsuspend_user(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<AdminReasonRequest>,
) -> Result<axum::Json<AdminUserResponse>> {
    let id = path_id(id, "No account has this id.")?;
    let reason = admin::reason(&request.reason)?;
    let now = state.settings.clock.now();
    let (user, codes) = admin::unsuspend(&state.db, &actor, id, &reason, now).await?;
    forget_rooms(&state, codes).await;
    Ok(axum::Json(user))
}

async fn forget_rooms(state: &AppState, codes: Vec<String>) {
    for code in codes {
        if let Ok(code) = shifting_shared::RoomCode::parse(&code) {
            state.room_views.forget(&code).await;
        }
    }
}

/// Make an account an admin, or take the role away. The last active admin keeps it.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/role",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id.")),
    request_body = SetRoleRequest,
    responses(
        (status = 200, description = "The new role is in effect.", body = AdminUserResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No account has this id.", body = ErrorBody),
        (status = 409, description = "It has this role already, or it is the last admin.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "An unknown role, a missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn set_role(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<SetRoleRequest>,
) -> Result<axum::Json<AdminUserResponse>> {
    let id = path_id(id, "No account has this id.")?;
    let reason = admin::reason(&request.reason)?;
    let now = state.settings.clock.now();
    Ok(axum::Json(
        admin::set_role(
            &state.db,
            &actor,
            UserRef::Id(id),
            (request.role, &reason),
            now,
        )
        .await?,
    ))
}

/// A search of the rooms.
#[derive(Clone, Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoomSearch {
    /// A room's code, or part of its name (any case).
    pub q: Option<String>,
    /// Only rooms an admin withdrew.
    pub hidden: Option<bool>,
    /// `next_cursor` of the previous page; none for the first.
    pub cursor: Option<String>,
    /// Page size, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

/// Rooms, newest first, searchable.
#[utoipa::path(
    get,
    path = "/api/admin/rooms",
    tag = "admin",
    security(("bearer" = [])),
    params(RoomSearch),
    responses(
        (status = 200, description = "A page of rooms.", body = AdminRoomPageResponse),
        (status = 400, description = "A malformed query.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 422, description = "A bad cursor, `limit` outside 1–50, or a search term too long or with control characters.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn rooms(
    State(state): State<AppState>,
    _admin: AdminUser,
    search: std::result::Result<Query<RoomSearch>, QueryRejection>,
) -> Result<axum::Json<AdminRoomPageResponse>> {
    let search = query(search)?;
    let page = page(search.cursor, search.limit)?;
    Ok(axum::Json(
        admin_views::rooms_page(
            &state.db,
            (
                term("q", search.q)?.as_deref(),
                search.hidden.unwrap_or(false),
            ),
            page.cursor.as_deref(),
            page.limit(),
        )
        .await?,
    ))
}

async fn act_on_room(
    state: &AppState,
    actor: &admin::Actor,
    code: &str,
    (action, request): (RoomAction, &AdminReasonRequest),
) -> Result<axum::Json<AdminRoomResponse>> {
    let code = room_code(code)?;
    let reason = admin::reason(&request.reason)?;
    let now = state.settings.clock.now();
    let room = admin::room_action(&state.db, actor, &code, (action, &reason), now).await?;
    state.room_views.forget(&code).await;
    Ok(axum::Json(room))
}

/// Withdraw a room from the public: its link answers 410 "unavailable", it cannot be paid, and
/// payments approved but not yet sent stop. Its seller still sees it, with the reason.
#[utoipa::path(
    post,
    path = "/api/admin/rooms/{code}/hide",
    tag = "admin",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    request_body = AdminReasonRequest,
    responses(
        (status = 200, description = "Hidden.", body = AdminRoomResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "Hidden already.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A malformed code, a missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn hide_room(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    Path(code): Path<String>,
    Json(request): Json<AdminReasonRequest>,
) -> Result<axum::Json<AdminRoomResponse>> {
    act_on_room(&state, &actor, &code, (RoomAction::Hide, &request)).await
}

/// Put a hidden room back in public.
#[utoipa::path(
    post,
    path = "/api/admin/rooms/{code}/unhide",
    tag = "admin",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    request_body = AdminReasonRequest,
    responses(
        (status = 200, description = "Public again (unless its seller is suspended).", body = AdminRoomResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "Not hidden.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A malformed code, a missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn unhide_room(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    Path(code): Path<String>,
    Json(request): Json<AdminReasonRequest>,
) -> Result<axum::Json<AdminRoomResponse>> {
    act_on_room(&state, &actor, &code, (RoomAction::Unhide, &request)).await
}

/// Close a room for good, as its seller could.
#[utoipa::path(
    post,
    path = "/api/admin/rooms/{code}/close",
    tag = "admin",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    request_body = AdminReasonRequest,
    responses(
        (status = 200, description = "Closed.", body = AdminRoomResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "Closed already.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A malformed code, a missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn close_room(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    Path(code): Path<String>,
    Json(request): Json<AdminReasonRequest>,
) -> Result<axum::Json<AdminRoomResponse>> {
    act_on_room(&state, &actor, &code, (RoomAction::Close, &request)).await
}

/// Which reports to list.
#[derive(Clone, Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportSearch {
    /// Only reports in this status (all when left out).
    pub status: Option<ReportStatus>,
    /// `next_cursor` of the previous page; none for the first.
    pub cursor: Option<String>,
    /// Page size, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

/// The reports queue, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/reports",
    tag = "admin",
    security(("bearer" = [])),
    params(ReportSearch),
    responses(
        (status = 200, description = "A page of reports.", body = ReportPageResponse),
        (status = 400, description = "A malformed query (an unknown status).", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 422, description = "A bad cursor, `limit` outside 1–50, or a search term too long or with control characters.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn reports(
    State(state): State<AppState>,
    _admin: AdminUser,
    search: std::result::Result<Query<ReportSearch>, QueryRejection>,
) -> Result<axum::Json<ReportPageResponse>> {
    let search = query(search)?;
    let page = page(search.cursor, search.limit)?;
    Ok(axum::Json(
        crate::services::reports::page(
            &state.db,
            search.status,
            page.cursor.as_deref(),
            page.limit(),
        )
        .await?,
    ))
}

async fn handle_report(
    state: &AppState,
    actor: &admin::Actor,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    (status, request): (ReportStatus, &AdminReasonRequest),
) -> Result<axum::Json<ReportResponse>> {
    let id = path_id(id, "No report has this id.")?;
    let reason = admin::reason(&request.reason)?;
    let now = state.settings.clock.now();
    Ok(axum::Json(
        admin::handle_report(&state.db, actor, id, (status, &reason), now).await?,
    ))
}

/// Resolve a report: an admin acted on it (say how).
#[utoipa::path(
    post,
    path = "/api/admin/reports/{id}/resolve",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The report's id.")),
    request_body = AdminReasonRequest,
    responses(
        (status = 200, description = "Resolved.", body = ReportResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No report has this id.", body = ErrorBody),
        (status = 409, description = "Handled already.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn resolve_report(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<AdminReasonRequest>,
) -> Result<axum::Json<ReportResponse>> {
    handle_report(&state, &actor, id, (ReportStatus::Resolved, &request)).await
}

/// Dismiss a report: nothing to act on (say why).
#[utoipa::path(
    post,
    path = "/api/admin/reports/{id}/dismiss",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The report's id.")),
    request_body = AdminReasonRequest,
    responses(
        (status = 200, description = "Dismissed.", body = ReportResponse),
        (status = 400, description = "Malformed JSON.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No report has this id.", body = ErrorBody),
        (status = 409, description = "Handled already.", body = ErrorBody),
        (status = 415, description = "Body is not JSON.", body = ErrorBody),
        (status = 422, description = "A missing or too long reason.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn dismiss_report(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    Json(request): Json<AdminReasonRequest>,
) -> Result<axum::Json<ReportResponse>> {
    handle_report(&state, &actor, id, (ReportStatus::Dismissed, &request)).await
}

/// A search of the transactions.
#[derive(Clone, Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransactionSearch {
    /// A transaction id, a room code, or a username (buyer or seller).
    pub q: Option<String>,
    /// Only this status.
    pub status: Option<TransactionStatus>,
    /// `next_cursor` of the previous page; none for the first.
    pub cursor: Option<String>,
    /// Page size, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

/// Every transaction, newest first, searchable.
#[utoipa::path(
    get,
    path = "/api/admin/transactions",
    tag = "admin",
    security(("bearer" = [])),
    params(TransactionSearch),
    responses(
        (status = 200, description = "A page of transactions.", body = AdminTransactionPageResponse),
        (status = 400, description = "A malformed query (an unknown status).", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 422, description = "A bad cursor, `limit` outside 1–50, or a search term too long or with control characters.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn transactions(
    State(state): State<AppState>,
    _admin: AdminUser,
    search: std::result::Result<Query<TransactionSearch>, QueryRejection>,
) -> Result<axum::Json<AdminTransactionPageResponse>> {
    let search = query(search)?;
    let page = page(search.cursor, search.limit)?;
    Ok(axum::Json(
        admin_views::transactions_page(
            &state.db,
            (term("q", search.q)?.as_deref(), search.status),
            page.cursor.as_deref(),
            page.limit(),
        )
        .await?,
    ))
}

/// A transaction's whole record and status history (never its secrets).
#[utoipa::path(
    get,
    path = "/api/admin/transactions/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The transaction's id.")),
    responses(
        (status = 200, description = "The record.", body = AdminTransactionDetailResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No transaction has this id.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn transaction(
    State(state): State<AppState>,
    _admin: AdminUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<AdminTransactionDetailResponse>> {
    let id = path_id(id, "No transaction has this id.")?;
    Ok(axum::Json(
        admin_views::transaction_detail(&state.db, id).await?,
    ))
}

/// Check with the wallet providers: reads the seller's incoming payment and the buyer's
/// outgoing payment live over Open Payments, beside our record, with every disagreement (amount
/// received, states). The check is written to the audit log.
#[utoipa::path(
    post,
    path = "/api/admin/transactions/{id}/provider-check",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The transaction's id.")),
    responses(
        (status = 200, description = "What the providers say; a provider that could not be read says why.", body = ProviderCheckResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 404, description = "No transaction has this id.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn provider_check(
    State(state): State<AppState>,
    AdminUser(actor): AdminUser,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<ProviderCheckResponse>> {
    let id = path_id(id, "No transaction has this id.")?;
    Ok(axum::Json(
        crate::payments::evidence::check(&state, &actor, id).await?,
    ))
}

/// Payments that look stuck: `sending` longer than the verification timeout, or `approved`
/// with no worker holding them. Oldest first.
#[utoipa::path(
    get,
    path = "/api/admin/stuck-payments",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stuck payments (at most 200).", body = StuckPaymentsResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn stuck_payments(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<axum::Json<StuckPaymentsResponse>> {
    let now = state.settings.clock.now();
    Ok(axum::Json(
        admin_views::stuck(&state.db, state.settings.payments.verification_timeout, now).await?,
    ))
}

/// Filters of the audit log.
#[derive(Clone, Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditSearch {
    /// One action.
    pub action: Option<AuditAction>,
    /// One admin's username (or `command line`).
    pub actor: Option<String>,
    /// `user`, `room`, `report` or `transaction`.
    pub target_type: Option<String>,
    /// One target's id (a room's code).
    pub target_id: Option<String>,
    /// `next_cursor` of the previous page; none for the first.
    pub cursor: Option<String>,
    /// Page size, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

/// The audit log, newest first: append-only, never editable.
#[utoipa::path(
    get,
    path = "/api/admin/audit",
    tag = "admin",
    security(("bearer" = [])),
    params(AuditSearch),
    responses(
        (status = 200, description = "A page of the log.", body = AuditPageResponse),
        (status = 400, description = "A malformed query (an unknown action).", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not an admin.", body = ErrorBody),
        (status = 422, description = "A bad cursor, `limit` outside 1–50, or a search term too long or with control characters.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn audit(
    State(state): State<AppState>,
    _admin: AdminUser,
    search: std::result::Result<Query<AuditSearch>, QueryRejection>,
) -> Result<axum::Json<AuditPageResponse>> {
    let search = query(search)?;
    let page = page(search.cursor, search.limit)?;
    let filter = AuditFilter {
        action: search.action,
        actor: term("actor", search.actor)?,
        target_type: term("target_type", search.target_type)?,
        target_id: term("target_id", search.target_id)?,
    };
    Ok(axum::Json(
        admin_views::audit_page(&state.db, &filter, page.cursor.as_deref(), page.limit()).await?,
    ))
}
