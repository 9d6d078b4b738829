//! `/api/me/budgets` and the one click (`/api/payments/{id}/confirm`).

use shifting_shared::budget::{
    BudgetListResponse, BudgetResponse, ConfirmPaymentResponse, CreateBudgetRequest,
};

use super::client::{self, ApiError};
use crate::session::Session;

/// The caller's budgets, newest first.
pub async fn list(session: Session) -> Result<BudgetListResponse, ApiError> {
    let mut all: BudgetListResponse =
        client::get("/api/me/budgets?limit=50", Some(session)).await?;
    while let Some(cursor) = all.next_cursor.take() {
        let page: BudgetListResponse = client::get(
            &format!(
                "/api/me/budgets?limit=50&cursor={}",
                client::cursor(&cursor)
            ),
            Some(session),
        )
        .await?;
        all.budgets.extend(page.budgets);
        all.next_cursor = page.next_cursor;
    }
    Ok(all)
}

/// Asks the wallet for a budget; the answer carries the schedule and the wallet's page.
pub async fn create(
    session: Session,
    request: &CreateBudgetRequest,
) -> Result<BudgetResponse, ApiError> {
    client::post("/api/me/budgets", request, Some(session)).await
}

/// Revokes a budget, here and at the wallet.
pub async fn revoke(
    session: Session,
    id: impl std::fmt::Display,
) -> Result<BudgetResponse, ApiError> {
    client::delete(&format!("/api/me/budgets/{id}"), session).await
}

/// The one click: pays a purchase started under a budget.
pub async fn confirm(
    session: Session,
    id: impl std::fmt::Display,
) -> Result<ConfirmPaymentResponse, ApiError> {
    client::post_empty(&format!("/api/payments/{id}/confirm"), Some(session)).await
}
