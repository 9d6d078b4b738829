//! `/api/admin/…` (the admin panel) and `/api/reports` (anyone signed in).

use shifting_shared::admin::{
    AdminOverviewResponse, AdminReasonRequest, AdminRoomPageResponse, AdminRoomResponse,
    AdminTransactionDetailResponse, AdminTransactionPageResponse, AdminUserPageResponse,
    AdminUserResponse, AuditPageResponse, CreateReportRequest, ProviderCheckResponse,
    ReportPageResponse, ReportResponse, Role, SetRoleRequest, StuckPaymentsResponse,
};

use super::client::{self, ApiError, segment};
use crate::session::Session;

/// A query string of the non-empty `pairs`, each value encoded.
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
            out.append_pair(name, value);
        }
    }
    let text = out.finish();
    if text.is_empty() {
        text
    } else {
        format!("?{text}")
    }
}

/// Reports a room, a review or a message.
pub async fn report(
    session: Session,
    request: &CreateReportRequest,
) -> Result<ReportResponse, ApiError> {
    client::post("/api/reports", request, Some(session)).await
}

/// The overview.
pub async fn overview(session: Session) -> Result<AdminOverviewResponse, ApiError> {
    client::get("/api/admin/overview", Some(session)).await
}

/// A page of accounts.
pub async fn users(session: Session, query: &str) -> Result<AdminUserPageResponse, ApiError> {
    client::get(&format!("/api/admin/users{query}"), Some(session)).await
}

/// Suspends (`true`) or unsuspends an account.
pub async fn suspend(
    session: Session,
    id: impl std::fmt::Display,
    suspend: bool,
    reason: String,
) -> Result<AdminUserResponse, ApiError> {
    let what = if suspend { "suspend" } else { "unsuspend" };
    client::post(
        &format!("/api/admin/users/{id}/{what}"),
        &AdminReasonRequest { reason },
        Some(session),
    )
    .await
}

/// Gives an account a role.
pub async fn set_role(
    session: Session,
    id: impl std::fmt::Display,
    role: Role,
    reason: String,
) -> Result<AdminUserResponse, ApiError> {
    client::post(
        &format!("/api/admin/users/{id}/role"),
        &SetRoleRequest { role, reason },
        Some(session),
    )
    .await
}

/// A page of rooms.
pub async fn rooms(session: Session, query: &str) -> Result<AdminRoomPageResponse, ApiError> {
    client::get(&format!("/api/admin/rooms{query}"), Some(session)).await
}

/// `hide`, `unhide` or `close` a room.
pub async fn room_action(
    session: Session,
    code: &str,
    action: &str,
    reason: String,
) -> Result<AdminRoomResponse, ApiError> {
    client::post(
        &format!("/api/admin/rooms/{}/{action}", segment(code)),
        &AdminReasonRequest { reason },
        Some(session),
    )
    .await
}

/// A page of reports.
pub async fn reports(session: Session, query: &str) -> Result<ReportPageResponse, ApiError> {
    client::get(&format!("/api/admin/reports{query}"), Some(session)).await
}

/// `resolve` or `dismiss` a report.
pub async fn handle_report(
    session: Session,
    id: impl std::fmt::Display,
    action: &str,
    reason: String,
) -> Result<ReportResponse, ApiError> {
    client::post(
        &format!("/api/admin/reports/{id}/{action}"),
        &AdminReasonRequest { reason },
        Some(session),
    )
    .await
}

/// A page of transactions.
pub async fn transactions(
    session: Session,
    query: &str,
) -> Result<AdminTransactionPageResponse, ApiError> {
    client::get(&format!("/api/admin/transactions{query}"), Some(session)).await
}

/// A transaction's whole record.
pub async fn transaction(
    session: Session,
    id: &str,
) -> Result<AdminTransactionDetailResponse, ApiError> {
    client::get(
        &format!("/api/admin/transactions/{}", segment(id)),
        Some(session),
    )
    .await
}

/// Reads a payment live at the wallets.
pub async fn provider_check(session: Session, id: &str) -> Result<ProviderCheckResponse, ApiError> {
    client::post_empty(
        &format!("/api/admin/transactions/{}/provider-check", segment(id)),
        Some(session),
    )
    .await
}

/// The stuck payments.
pub async fn stuck(session: Session) -> Result<StuckPaymentsResponse, ApiError> {
    client::get("/api/admin/stuck-payments", Some(session)).await
}

/// A page of the audit log.
pub async fn audit(session: Session, query: &str) -> Result<AuditPageResponse, ApiError> {
    client::get(&format!("/api/admin/audit{query}"), Some(session)).await
}
