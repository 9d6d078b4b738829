//! `/api/transactions`: the caller's purchases and sales, their totals and their CSV export.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use serde::Deserialize;
use shifting_shared::api::{SalesSummaryResponse, TransactionPageResponse, TransactionResponse};
use shifting_shared::{ErrorBody, FieldCode, FieldError, RoomCode, TransactionStatus};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, BrowserLanguage, PurchaseCaller};
use crate::services::receipts;
use crate::services::transactions::{self, Filter, Kind, Side};
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

/// Sales or attempts.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindParam {
    /// Completed payments: the seller received the full price (`completed`, `refund_pending`,
    /// `refunded`).
    Sales,
    /// Every other payment: in progress, declined, expired or failed.
    Attempts,
}

/// Which of the caller's transactions: the filters of `GET /api/transactions` and of its CSV
/// export.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    /// Only purchases (`buyer`) or only sales (`seller`); default both.
    #[param(inline)]
    pub role: Option<Role>,
    /// Only completed payments (`sales`) or only the others (`attempts`); default both.
    #[param(inline)]
    pub kind: Option<KindParam>,
    /// Only this status.
    pub status: Option<TransactionStatus>,
    /// Only this room (its code).
    #[param(example = "K7M2QX")]
    pub room: Option<String>,
    /// From this time on (RFC 3339, inclusive): the completion for `kind=sales`, otherwise when
    /// the payment started.
    #[param(example = "2026-12-01T00:00:00Z")]
    pub since: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339, exclusive), counted like `since`.
    #[param(example = "2027-01-01T00:00:00Z")]
    pub until: Option<DateTime<Utc>>,
}

impl FilterQuery {
    fn filter(&self) -> Result<Filter> {
        let room = self
            .room
            .as_deref()
            .map(RoomCode::parse)
            .transpose()
            .map_err(|e| ApiError::field("room", e))?;
        if let (Some(since), Some(until)) = (self.since, self.until)
            && until <= since
        {
            return Err(ApiError::field(
                "until",
                FieldError::new(FieldCode::OutOfRange, "must be later than since"),
            ));
        }
        Ok(Filter {
            side: match self.role {
                Some(Role::Buyer) => Side::Buyer,
                Some(Role::Seller) => Side::Seller,
                None => Side::Either,
            },
            kind: self.kind.map(|kind| match kind {
                KindParam::Sales => Kind::Sales,
                KindParam::Attempts => Kind::Attempts,
            }),
            status: self.status,
            room,
            since: self.since,
            until: self.until,
        })
    }
}

/// The page of `GET /api/transactions`.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page: pages stay stable while new transactions arrive.
    pub cursor: Option<String>,
    /// How many to skip (default 0, at most 2^63 − 1); not with `cursor`. Prefer `cursor`:
    /// a transaction made meanwhile shifts offsets.
    #[deprecated]
    pub offset: Option<u64>,
}

/// The query of `GET /api/transactions`: the filters and the page, in one struct because
/// serde cannot refuse unknown fields across flattened ones (documented as the two above).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    role: Option<Role>,
    kind: Option<KindParam>,
    status: Option<TransactionStatus>,
    room: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: Option<u64>,
    cursor: Option<String>,
    offset: Option<u64>,
}

type QueryResult<T> = std::result::Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn read_query<T>(query: QueryResult<T>) -> Result<T> {
    query
        .map(|Query(query)| query)
        .map_err(|e| ApiError::BadRequest(format!("{}.", e.body_text())))
}

/// The caller's transactions, newest first, filtered.
#[utoipa::path(
    get,
    path = "/api/transactions",
    tag = "transactions",
    security(("bearer" = [])),
    params(FilterQuery, PageQuery),
    responses(
        (status = 200, description = "A page of transactions.", body = TransactionPageResponse),
        (status = 400, description = "An unknown role, kind or status, a malformed number or time.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 422, description = "`limit` outside 1–100, a cursor from elsewhere, `offset` beyond 2^63 − 1 or with `cursor`, a malformed room code, or `until` not after `since`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn list_transactions(
    State(state): State<AppState>,
    user: AuthUser,
    query: QueryResult<ListQuery>,
) -> Result<axum::Json<TransactionPageResponse>> {
    let query = read_query(query)?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            FieldError::new(FieldCode::OutOfRange, "must be between 1 and 100"),
        ));
    }
    let page = match (query.cursor, query.offset) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "offset",
                FieldError::new(FieldCode::Invalid, "cannot be used with `cursor`"),
            ));
        }
        (Some(cursor), None) => transactions::Page::After(cursor),
        (None, offset) => transactions::Page::Skip(offset.unwrap_or(0)),
    };
    // Databases count rows in signed 64 bits.
    if let transactions::Page::Skip(offset) = page
        && i64::try_from(offset).is_err()
    {
        return Err(ApiError::field(
            "offset",
            FieldError::new(FieldCode::OutOfRange, "must be at most 9223372036854775807"),
        ));
    }
    let filter = FilterQuery {
        role: query.role,
        kind: query.kind,
        status: query.status,
        room: query.room,
        since: query.since,
        until: query.until,
    }
    .filter()?;
    Ok(axum::Json(
        transactions::list_transactions(&state.db, user.id, &filter, limit, page).await?,
    ))
}

/// The caller's transactions that the filters take, as a CSV file (RFC 4180, UTF-8, a header
/// row; amounts as decimals in major units with their currency in the next column; times in
/// UTC). `role=seller&kind=sales` is the seller's sales ledger. At most 100,000 rows.
#[utoipa::path(
    get,
    path = "/api/transactions/export.csv",
    tag = "transactions",
    security(("bearer" = [])),
    params(FilterQuery),
    responses(
        (status = 200, description = "The CSV file.", content_type = "text/csv", body = String),
        (status = 400, description = "An unknown role, kind or status, or a malformed time.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 422, description = "A malformed room code, `until` not after `since`, or more than 100,000 rows (reported on `since`: export a shorter period).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn export_transactions(
    State(state): State<AppState>,
    user: AuthUser,
    query: QueryResult<FilterQuery>,
) -> Result<impl IntoResponse> {
    let query = read_query(query)?;
    let filter = query.filter()?;
    let body = transactions::export_csv(&state.db, user.id, &filter).await?;
    let what = match (query.role, query.kind) {
        (Some(Role::Seller), Some(KindParam::Sales)) => "sales",
        (Some(Role::Buyer), Some(KindParam::Sales)) => "purchases",
        _ => "transactions",
    };
    let day = state.settings.clock.now().format("%Y-%m-%d");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"shifting-{what}-{day}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    ))
}

/// Query of `GET /api/transactions/summary`.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Whose totals: `seller` (what the caller received; the default) or `buyer` (what the
    /// caller's wallets paid).
    #[param(inline)]
    pub role: Option<Role>,
    /// The caller's offset from UTC in minutes, −840 to 840 (default 0), for where "today"
    /// starts. East of UTC is positive: 60 for Madrid in winter, −300 for New York.
    #[param(example = 60)]
    pub utc_offset: Option<i32>,
}

/// The caller's completed payments per currency: today, the last 30 days and all time.
#[utoipa::path(
    get,
    path = "/api/transactions/summary",
    tag = "transactions",
    security(("bearer" = [])),
    params(SummaryQuery),
    responses(
        (status = 200, description = "Totals per currency.", body = SalesSummaryResponse),
        (status = 400, description = "An unknown role or a malformed number.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 422, description = "`utc_offset` outside −840 to 840.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn summary(
    State(state): State<AppState>,
    user: AuthUser,
    query: QueryResult<SummaryQuery>,
) -> Result<axum::Json<SalesSummaryResponse>> {
    let query = read_query(query)?;
    let offset = query
        .utc_offset
        .unwrap_or(0)
        .checked_mul(60)
        .filter(|seconds| seconds.abs() <= 840 * 60)
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| {
            ApiError::field(
                "utc_offset",
                FieldError::new(
                    FieldCode::OutOfRange,
                    "must be between -840 and 840 minutes",
                ),
            )
        })?;
    let now = state.settings.clock.now();
    let today_starts = now
        .with_timezone(&offset)
        .date_naive()
        .and_time(NaiveTime::MIN)
        .and_local_timezone(offset)
        .single()
        .map_or(now, |start| start.with_timezone(&Utc));
    let side = match query.role {
        Some(Role::Buyer) => Side::Buyer,
        _ => Side::Seller,
    };
    Ok(axum::Json(
        transactions::summary(&state.db, user.id, side, today_starts, now).await?,
    ))
}

/// Cancel a payment that awaits the buyer's approval (the buyer only). The grant is cancelled
/// at the buyer's wallet and the seller's incoming payment closed; the payment ends `rejected`
/// with the failure code `cancelled`, and a unit of a stocked room comes back.
#[utoipa::path(
    post,
    path = "/api/transactions/{id}/cancel",
    tag = "transactions",
    security(("bearer" = []), ("guest_key" = [])),
    params(("id" = Uuid, Path, description = "The transaction id.")),
    responses(
        (status = 200, description = "Cancelled; the transaction with its history.", body = TransactionResponse),
        (status = 401, description = "Neither an access token nor a guest key, an invalid or expired access token, or a guest key that does not open this purchase (the same whether or not the id exists).", body = ErrorBody),
        (status = 403, description = "The seller cannot cancel the buyer's payment.", body = ErrorBody),
        (status = 404, description = "No such transaction of the signed-in caller's, or an id that is not a UUID.", body = ErrorBody),
        (status = 409, description = "Already approved or ended, or its start is still running (retry once the quote is shown).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn cancel_transaction(
    State(state): State<AppState>,
    caller: PurchaseCaller,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<axum::Json<TransactionResponse>> {
    let Path(id) = id.map_err(|_| ApiError::NotFound("No such transaction."))?;
    Ok(axum::Json(
        crate::payments::checkout::cancel_payment(&state, &caller, id).await?,
    ))
}

/// One transaction with its status history (its buyer and seller only).
#[utoipa::path(
    get,
    path = "/api/transactions/{id}",
    tag = "transactions",
    security(("bearer" = []), ("guest_key" = [])),
    params(("id" = Uuid, Path, description = "The transaction id.")),
    responses(
        (status = 200, description = "The transaction.", body = TransactionResponse),
        (status = 401, description = "Neither an access token nor a guest key, an invalid or expired access token, or a guest key that does not open this purchase (the same whether or not the id exists).", body = ErrorBody),
        (status = 404, description = "No such transaction of the signed-in caller's, or an id that is not a UUID.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn get_transaction(
    State(state): State<AppState>,
    caller: PurchaseCaller,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<axum::Json<TransactionResponse>> {
    let Path(id) = id.map_err(|_| ApiError::NotFound("No such transaction."))?;
    Ok(axum::Json(
        transactions::get_transaction(&state.db, &caller, id).await?,
    ))
}

/// The receipt's language.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// `en` or `es`; default: from `Accept-Language`, else English.
    #[param(example = "es")]
    pub lang: Option<String>,
}

/// The receipt of a completed payment as a PDF (its buyer, a guest buyer with the purchase's
/// key, or its seller), in English or Spanish.
#[utoipa::path(
    get,
    path = "/api/transactions/{id}/receipt.pdf",
    tag = "transactions",
    security(("bearer" = []), ("guest_key" = [])),
    params(("id" = Uuid, Path, description = "The transaction id."), ReceiptQuery),
    responses(
        (status = 200, description = "The receipt.", content((Vec<u8> = "application/pdf")),
            headers(("Content-Disposition" = String, description = "attachment; filename=\"SHF-7Q2-00042.pdf\""))),
        (status = 401, description = "Neither an access token nor a guest key, an invalid or expired access token, or a guest key that does not open this purchase (the same whether or not the id exists).", body = ErrorBody),
        (status = 404, description = "No such transaction of the signed-in caller's, or an id that is not a UUID.", body = ErrorBody),
        (status = 409, description = "The payment has not completed: there is no receipt.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn receipt_pdf(
    State(state): State<AppState>,
    caller: PurchaseCaller,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
    query: Result<Query<ReceiptQuery>, axum::extract::rejection::QueryRejection>,
    BrowserLanguage(browser): BrowserLanguage,
) -> Result<impl IntoResponse> {
    let Path(id) = id.map_err(|_| ApiError::NotFound("No such transaction."))?;
    let language = query
        .ok()
        .and_then(|Query(q)| q.lang)
        .map_or(browser, |asked| receipts::choose(&asked));
    let view = transactions::get_transaction(&state.db, &caller, id).await?;
    let number = view.receipt_number.clone().unwrap_or_default();
    let pdf = tokio::task::spawn_blocking(move || receipts::pdf(&view, language))
        .await
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("the receipt task failed: {err}")))??;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{number}.pdf\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        pdf,
    ))
}
