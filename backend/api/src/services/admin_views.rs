//! What the admin panel reads: the overview, the searchable lists, a payment's whole record and
//! the payments that look stuck. Nothing here writes.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use shifting_shared::admin::{
    AdminOverviewResponse, AdminRoomPageResponse, AdminTransactionDetailResponse,
    AdminTransactionPageResponse, AdminTransactionResponse, AdminUserPageResponse, AuditAction,
    AuditEntryResponse, AuditPageResponse, DailyVolume, FailureCount, Funnel, ReportStatus,
    StatusChange, StuckPaymentResponse, StuckPaymentsResponse,
};
use shifting_shared::api::AmountDto;
use shifting_shared::{RoomCode, TransactionStatus};
use uuid::Uuid;

use crate::entities::amount::StoredAmount;
use crate::entities::{audit_log, reports, rooms, transaction_events, transactions, users};
use crate::error::{ApiError, Result};
use crate::services::admin::{room_response, user_response};
use crate::services::pages;

/// How far back the overview's chart and funnel look.
const WINDOW_DAYS: i64 = 30;
/// The most stuck payments listed.
const MAX_STUCK: u64 = 200;

/// `LIKE` pattern matching `text` anywhere, its wildcards taken literally.
fn containing(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `lower(column) LIKE %text%` (`text` lower-cased already): the same on both databases.
fn like(column: impl ColumnTrait, text: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(column)))
        .like(sea_orm::sea_query::LikeExpr::new(containing(text)).escape('\\'))
}

/// A search term, trimmed and lower-cased; `None` when empty.
fn term(q: Option<&str>) -> Option<String> {
    q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty())
}

/// The overview: counts, 30 days of sales per currency per day, and the payment funnel.
///
/// # Errors
/// Database errors.
pub async fn overview(
    db: &impl ConnectionTrait,
    verification_timeout: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<AdminOverviewResponse> {
    let since = now - Duration::days(WINDOW_DAYS);
    let users_count = users::Entity::find()
        .filter(users::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    let suspended = users::Entity::find()
        .filter(users::Column::SuspendedAt.is_not_null())
        .count(db)
        .await?;
    let rooms_count = rooms::Entity::find().count(db).await?;
    let hidden = rooms::Entity::find()
        .filter(rooms::Column::HiddenAt.is_not_null())
        .count(db)
        .await?;
    let transactions_count = transactions::Entity::find().count(db).await?;
    let open_reports = reports::Entity::find()
        .filter(reports::Column::Status.eq(ReportStatus::Open.as_str()))
        .count(db)
        .await?;
    let stuck_payments = stuck_query(verification_timeout, now).count(db).await?;
    Ok(AdminOverviewResponse {
        users: users_count,
        suspended_users: suspended,
        rooms: rooms_count,
        hidden_rooms: hidden,
        transactions: transactions_count,
        open_reports,
        stuck_payments,
        volume: volume(db, since).await?,
        funnel: funnel(db, since).await?,
    })
}

/// Completed sales per day and currency since `since` (refunded ones included: they were
/// sales that day).
async fn volume(db: &impl ConnectionTrait, since: DateTime<Utc>) -> Result<Vec<DailyVolume>> {
    let backend = db.get_database_backend();
    let day = match backend {
        DatabaseBackend::Postgres => "to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        // SQLite keeps UTC timestamps as ISO 8601 text: the date is its first ten characters.
        _ => "substr(completed_at, 1, 10)",
    };
    let (placeholder, sum) = match backend {
        DatabaseBackend::Postgres => ("$1", "CAST(SUM(amount_value) AS BIGINT)"),
        _ => ("?", "SUM(amount_value)"),
    };
    let sql = format!(
        "SELECT {day} AS day, asset_code, asset_scale, COUNT(*) AS n, {sum} AS total \
         FROM transactions WHERE completed_at IS NOT NULL AND completed_at >= {placeholder} \
         GROUP BY 1, 2, 3 ORDER BY 1, 2"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [since.into()]))
        .await?;
    rows.into_iter()
        .map(|row| {
            let day: String = row.try_get("", "day")?;
            let code: String = row.try_get("", "asset_code")?;
            let scale: i16 = row.try_get("", "asset_scale")?;
            let count: i64 = row.try_get("", "n")?;
            let total: i64 = row.try_get("", "total")?;
            Ok(DailyVolume {
                day,
                count: u64::try_from(count).unwrap_or(0),
                amount: StoredAmount::new(total, &code, scale).dto(),
            })
        })
        .collect::<std::result::Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}

/// How far the payments started since `since` got.
async fn funnel(db: &impl ConnectionTrait, since: DateTime<Utc>) -> Result<Funnel> {
    let started = transactions::Entity::find().filter(transactions::Column::CreatedAt.gte(since));
    let approved = started
        .clone()
        .filter(transactions::Column::ApprovedAt.is_not_null())
        .count(db)
        .await?;
    let completed = started
        .clone()
        .filter(transactions::Column::CompletedAt.is_not_null())
        .count(db)
        .await?;
    let unpaid = TransactionStatus::ALL
        .into_iter()
        .filter(|status| status.is_unpaid())
        .map(TransactionStatus::as_str);
    let ended: Vec<(String, Option<String>, i64)> = started
        .clone()
        .select_only()
        .column(transactions::Column::Status)
        .column(transactions::Column::FailureCode)
        .column_as(transactions::Column::Id.count(), "n")
        .filter(transactions::Column::Status.is_in(unpaid))
        .group_by(transactions::Column::Status)
        .group_by(transactions::Column::FailureCode)
        .into_tuple()
        .all(db)
        .await?;
    let mut failures: HashMap<String, u64> = HashMap::new();
    for (status, code, n) in ended {
        *failures.entry(code.unwrap_or(status)).or_default() += u64::try_from(n).unwrap_or(0);
    }
    let mut failures: Vec<FailureCount> = failures
        .into_iter()
        .map(|(reason, count)| FailureCount { reason, count })
        .collect();
    failures.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    Ok(Funnel {
        started: started.count(db).await?,
        approved,
        completed,
        failures,
    })
}

/// Accounts matching `q` (in the username or e-mail address), newest first.
///
/// # Errors
/// 422 for a bad cursor, database errors.
pub async fn users_page(
    db: &impl ConnectionTrait,
    q: Option<&str>,
    cursor: Option<&str>,
    limit: u64,
) -> Result<AdminUserPageResponse> {
    let mut query = users::Entity::find();
    if let Some(q) = term(q) {
        query = query.filter(
            Condition::any()
                .add(like(users::Column::UsernameKey, &q))
                .add(like(users::Column::Email, &q)),
        );
    }
    let (rows, next_cursor) = pages::fetch(db, query, cursor, limit).await?;
    Ok(AdminUserPageResponse {
        items: rows.into_iter().map(user_response).collect(),
        next_cursor,
    })
}

/// Rooms matching `q` (code or name), newest first; only withdrawn ones with `hidden_only`.
///
/// # Errors
/// 422 for a bad cursor, database errors.
pub async fn rooms_page(
    db: &impl ConnectionTrait,
    (q, hidden_only): (Option<&str>, bool),
    cursor: Option<&str>,
    limit: u64,
) -> Result<AdminRoomPageResponse> {
    let mut query = rooms::Entity::find();
    if let Some(q) = term(q) {
        query = query.filter(
            Condition::any()
                .add(rooms::Column::Code.eq(q.to_uppercase()))
                .add(like(rooms::Column::Name, &q)),
        );
    }
    if hidden_only {
        query = query.filter(rooms::Column::HiddenAt.is_not_null());
    }
    let (rows, next_cursor) = pages::fetch(db, query, cursor, limit).await?;
    let sellers = usernames(db, rows.iter().map(|room| room.seller_id).collect()).await?;
    let items = rows
        .into_iter()
        .filter_map(|room| {
            let seller = sellers.get(&room.seller_id)?;
            Some(room_response(room, seller))
        })
        .collect::<Result<_>>()?;
    Ok(AdminRoomPageResponse { items, next_cursor })
}

async fn usernames(
    db: &impl ConnectionTrait,
    mut ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, users::Model>> {
    ids.sort_unstable();
    ids.dedup();
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|user| (user.id, user))
        .collect())
}

/// Transactions matching `q`: a transaction id, a room code, or a username (as buyer or
/// seller); all when empty. Newest first.
///
/// # Errors
/// 422 for a bad cursor, database errors.
pub async fn transactions_page(
    db: &impl ConnectionTrait,
    (q, status): (Option<&str>, Option<TransactionStatus>),
    cursor: Option<&str>,
    limit: u64,
) -> Result<AdminTransactionPageResponse> {
    let mut query = transactions::Entity::find();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        let mut which = Condition::any();
        if let Ok(id) = Uuid::parse_str(q) {
            which = which.add(transactions::Column::Id.eq(id));
        }
        if let Ok(code) = RoomCode::parse(q)
            && let Some(room) = rooms::Entity::find()
                .filter(rooms::Column::Code.eq(code.as_str()))
                .one(db)
                .await?
        {
            which = which.add(transactions::Column::RoomId.eq(room.id));
        }
        if let Some(user) = users::Entity::find()
            .filter(users::Column::UsernameKey.eq(q.to_lowercase()))
            .one(db)
            .await?
        {
            which = which
                .add(transactions::Column::BuyerId.eq(user.id))
                .add(transactions::Column::SellerId.eq(user.id));
        }
        // Nothing matched the term: an empty page, not everything.
        which = which.add(Expr::val(1).eq(Expr::val(0)));
        query = query.filter(which);
    }
    if let Some(status) = status {
        query = query.filter(transactions::Column::Status.eq(status.as_str()));
    }
    let (rows, next_cursor) = pages::fetch(db, query, cursor, limit).await?;
    Ok(AdminTransactionPageResponse {
        items: summaries(db, rows).await?,
        next_cursor,
    })
}

async fn summaries(
    db: &impl ConnectionTrait,
    rows: Vec<transactions::Model>,
) -> Result<Vec<AdminTransactionResponse>> {
    let rooms =
        crate::services::rooms::codes_and_names(db, rows.iter().map(|row| row.room_id).collect())
            .await?;
    let mut ids: Vec<Uuid> = rows.iter().map(|row| row.seller_id).collect();
    ids.extend(rows.iter().filter_map(|row| row.buyer_id));
    let people = usernames(db, ids).await?;
    rows.into_iter()
        .map(|row| {
            let (room_code, room_name) = rooms.get(&row.room_id).cloned().unwrap_or_default();
            Ok(AdminTransactionResponse {
                id: row.id,
                room_code,
                room_name,
                buyer: row
                    .buyer_id
                    .and_then(|id| people.get(&id))
                    .map(|user| user.username.clone()),
                seller: people
                    .get(&row.seller_id)
                    .map(|user| user.username.clone())
                    .unwrap_or_default(),
                status: row.transaction_status()?,
                amount: StoredAmount::new(row.amount_value, &row.asset_code, row.asset_scale).dto(),
                failure_code: row.failure_code,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

/// A transaction's whole record (never its secrets) with its status history.
///
/// # Errors
/// 404, database errors.
pub async fn transaction_detail(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<AdminTransactionDetailResponse> {
    let row = transactions::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("No transaction has this id."))?;
    let history = transaction_events::Entity::find()
        .filter(transaction_events::Column::TransactionId.eq(id))
        .order_by_asc(transaction_events::Column::At)
        .all(db)
        .await?
        .into_iter()
        .map(|event| {
            Ok(StatusChange {
                from: event
                    .from_status
                    .as_deref()
                    .map(str::parse::<TransactionStatus>)
                    .transpose()
                    .map_err(|e| ApiError::Internal(e.into()))?,
                to: event.to_status.parse().map_err(
                    |e: shifting_shared::transaction::UnknownStatus| ApiError::Internal(e.into()),
                )?,
                detail: event.detail,
                at: event.at,
            })
        })
        .collect::<Result<_>>()?;
    let debit = match (
        row.debit_value,
        &row.debit_asset_code,
        row.debit_asset_scale,
    ) {
        (Some(value), Some(code), Some(scale)) => Some(StoredAmount::new(value, code, scale).dto()),
        _ => None,
    };
    let received: Option<AmountDto> = row
        .received_value
        .map(|value| StoredAmount::new(value, &row.asset_code, row.asset_scale).dto());
    let detail = AdminTransactionDetailResponse {
        buyer_wallet_address: row.buyer_wallet_address.clone(),
        seller_wallet_address: row.seller_wallet_address.clone(),
        incoming_payment_url: row.incoming_payment_url.clone(),
        quote_url: row.quote_url.clone(),
        outgoing_payment_url: row.outgoing_payment_url.clone(),
        debit,
        received,
        failure_detail: row.failure_detail.clone(),
        budget_id: row.budget_id,
        approved_at: row.approved_at,
        completed_at: row.completed_at,
        attempts: row.attempts,
        next_check_at: row.next_check_at,
        lease_until: row.lease_until,
        history,
        summary: summaries(db, vec![row])
            .await?
            .pop()
            .ok_or(ApiError::NotFound("No transaction has this id."))?,
    };
    Ok(detail)
}

/// Payments that look stuck: `sending` past the verification timeout (the worker should have
/// ended them), or `approved` with no lease holding them (nobody is continuing them).
fn stuck_query(
    verification_timeout: std::time::Duration,
    now: DateTime<Utc>,
) -> sea_orm::Select<transactions::Entity> {
    let timeout = Duration::from_std(verification_timeout).unwrap_or(Duration::MAX);
    transactions::Entity::find().filter(
        Condition::any()
            .add(
                Condition::all()
                    .add(transactions::Column::Status.eq(TransactionStatus::Sending.as_str()))
                    .add(transactions::Column::ApprovedAt.lt(now - timeout)),
            )
            .add(
                Condition::all()
                    .add(transactions::Column::Status.eq(TransactionStatus::Approved.as_str()))
                    .add(
                        Condition::any()
                            .add(transactions::Column::LeaseUntil.is_null())
                            .add(transactions::Column::LeaseUntil.lt(now)),
                    ),
            ),
    )
}

/// The stuck payments, oldest first.
///
/// # Errors
/// Database errors.
pub async fn stuck(
    db: &impl ConnectionTrait,
    verification_timeout: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<StuckPaymentsResponse> {
    let rows = stuck_query(verification_timeout, now)
        .order_by_asc(transactions::Column::UpdatedAt)
        .limit(MAX_STUCK)
        .all(db)
        .await?;
    let why: Vec<(String, DateTime<Utc>)> = rows
        .iter()
        .map(|row| {
            if row.status == TransactionStatus::Sending.as_str() {
                (
                    "sending_too_long".to_owned(),
                    row.approved_at.unwrap_or(row.updated_at),
                )
            } else {
                (
                    "approval_lease_over".to_owned(),
                    row.lease_until.unwrap_or(row.updated_at),
                )
            }
        })
        .collect();
    let items = summaries(db, rows)
        .await?
        .into_iter()
        .zip(why)
        .map(|(transaction, (why, since))| StuckPaymentResponse {
            transaction,
            why,
            since,
        })
        .collect();
    Ok(StuckPaymentsResponse { items })
}

/// Filters of the audit log.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// One action.
    pub action: Option<AuditAction>,
    /// One admin, by username (or `command line`).
    pub actor: Option<String>,
    /// One kind of target.
    pub target_type: Option<String>,
    /// One target (with its kind, or alone).
    pub target_id: Option<String>,
}

/// A page of the audit log, newest first.
///
/// # Errors
/// 422 for a bad cursor, database errors.
pub async fn audit_page(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    cursor: Option<&str>,
    limit: u64,
) -> Result<AuditPageResponse> {
    let mut query = audit_log::Entity::find();
    if let Some(action) = filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(actor) = term(filter.actor.as_deref()) {
        query = query.filter(
            Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                audit_log::Column::ActorName,
            )))
            .eq(Expr::val(actor)),
        );
    }
    if let Some(kind) = filter
        .target_type
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        query = query.filter(audit_log::Column::TargetType.eq(kind));
    }
    if let Some(id) = filter
        .target_id
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        query = query.filter(audit_log::Column::TargetId.eq(id));
    }
    let (rows, next_cursor) = pages::fetch(db, query, cursor, limit).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
            Ok(AuditEntryResponse {
                id: row.id,
                actor_id: row.actor_id,
                action: row.action.parse().map_err(|()| {
                    ApiError::Internal(anyhow::anyhow!("audit_log.action holds {:?}", row.action))
                })?,
                actor_name: row.actor_name,
                target_type: row.target_type,
                target_id: row.target_id,
                reason: row.reason,
                before: json(row.before),
                after: json(row.after),
                created_at: row.created_at,
            })
        })
        .collect::<Result<_>>()?;
    Ok(AuditPageResponse { items, next_cursor })
}
