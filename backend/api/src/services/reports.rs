//! Reports: any signed-in user flags a room, a review or a message for the admins; the reports
//! form a queue the admins resolve or dismiss ([`crate::services::admin::handle_report`]).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use shifting_shared::admin::{
    CreateReportRequest, MAX_REPORT_TEXT, ReportPageResponse, ReportReason, ReportResponse,
    ReportStatus, ReportTarget, checked_text,
};
use shifting_shared::{FieldCode, FieldError, RoomCode};
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{conversations, messages, reports, reviews, rooms, users};
use crate::error::{ApiError, Result};
use crate::services::pages;

const NOTHING_THERE: &str = "There is nothing with this id to report.";
const ALREADY: &str = "You reported this already; an admin will look at it.";

/// What a report points at, found.
struct Found {
    target_id: String,
    room_code: String,
}

/// Files a report by `reporter`.
///
/// # Errors
/// 422 for a bad text or id, 404 for a target that does not exist (or, for a message, that the
/// reporter cannot see), 409 when they have an open report of it already.
pub async fn create(
    db: &sea_orm::DatabaseConnection,
    reporter: Uuid,
    request: &CreateReportRequest,
    now: DateTime<Utc>,
) -> Result<ReportResponse> {
    let text = checked_text(&request.text, MAX_REPORT_TEXT, false)
        .map_err(|problem| ApiError::field("text", problem))?;
    if request.reason == ReportReason::Other && text.is_empty() {
        return Err(ApiError::field(
            "text",
            FieldError::new(
                FieldCode::Required,
                "says what is wrong when the reason is other",
            ),
        ));
    }
    let txn = begin_write(db).await?;
    let found = find_target(&txn, reporter, request.target_type, &request.target_id).await?;
    let open = reports::Entity::find()
        .filter(reports::Column::ReporterId.eq(reporter))
        .filter(reports::Column::TargetType.eq(request.target_type.as_str()))
        .filter(reports::Column::TargetId.eq(found.target_id.as_str()))
        .filter(reports::Column::Status.eq(ReportStatus::Open.as_str()))
        .one(&txn)
        .await?;
    if open.is_some() {
        return Err(ApiError::conflict(ALREADY));
    }
    let report = reports::ActiveModel {
        id: Set(Uuid::new_v4()),
        reporter_id: Set(reporter),
        target_type: Set(request.target_type.as_str().to_owned()),
        target_id: Set(found.target_id),
        room_code: Set(found.room_code),
        reason: Set(request.reason.as_str().to_owned()),
        body: Set(text),
        status: Set(ReportStatus::Open.as_str().to_owned()),
        created_at: Set(now),
        handled_at: Set(None),
        handled_by: Set(None),
        resolution: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(|err| match err.sql_err() {
        // The same report arrived twice at once: one is kept.
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(ALREADY),
        _ => err.into(),
    })?;
    let response = response(&txn, report, false).await?;
    txn.commit().await?;
    tracing::info!(report = %response.id, target = response.target_type.as_str(), "report filed");
    Ok(response)
}

async fn find_target(
    db: &impl ConnectionTrait,
    reporter: Uuid,
    target: ReportTarget,
    id: &str,
) -> Result<Found> {
    let bad_id = || {
        ApiError::field(
            "target_id",
            FieldError::new(FieldCode::Invalid, "is not an id of this kind"),
        )
    };
    match target {
        ReportTarget::Room => {
            let code = RoomCode::parse(id).map_err(|_| bad_id())?;
            let (room, _) = crate::services::rooms::find_with_seller(db, &code).await?;
            Ok(Found {
                target_id: room.code.clone(),
                room_code: room.code,
            })
        }
        ReportTarget::Review => {
            let id = Uuid::parse_str(id.trim()).map_err(|_| bad_id())?;
            let review = reviews::Entity::find_by_id(id)
                .filter(reviews::Column::DeletedAt.is_null())
                .one(db)
                .await?
                .ok_or(ApiError::NotFound(NOTHING_THERE))?;
            Ok(Found {
                target_id: review.id.to_string(),
                room_code: room_code(db, review.room_id).await?,
            })
        }
        ReportTarget::Message => {
            let id: i64 = id.trim().parse().map_err(|_| bad_id())?;
            let (message, conversation) = messages::Entity::find_by_id(id)
                .find_also_related(conversations::Entity)
                .one(db)
                .await?
                .and_then(|(message, conversation)| Some((message, conversation?)))
                .ok_or(ApiError::NotFound(NOTHING_THERE))?;
            // Only the two people in a conversation can see its messages, so only they report.
            if conversation.buyer_id != reporter && conversation.seller_id != reporter {
                return Err(ApiError::NotFound(NOTHING_THERE));
            }
            if message.body.is_none() {
                return Err(ApiError::conflict(
                    "Only messages people wrote can be reported.",
                ));
            }
            Ok(Found {
                target_id: message.id.to_string(),
                room_code: room_code(db, conversation.room_id).await?,
            })
        }
    }
}

async fn room_code(db: &impl ConnectionTrait, room_id: Uuid) -> Result<String> {
    Ok(rooms::Entity::find_by_id(room_id)
        .one(db)
        .await?
        .map(|room| room.code)
        .unwrap_or_default())
}

/// A page of reports, newest first, of one status (all when `None`).
///
/// # Errors
/// 422 for a bad cursor, database errors.
pub async fn page(
    db: &impl ConnectionTrait,
    status: Option<ReportStatus>,
    cursor: Option<&str>,
    limit: u64,
) -> Result<ReportPageResponse> {
    let mut query = reports::Entity::find();
    if let Some(status) = status {
        query = query.filter(reports::Column::Status.eq(status.as_str()));
    }
    let (rows, next_cursor) = pages::fetch(db, query, cursor, limit).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(response(db, row, true).await?);
    }
    Ok(ReportPageResponse { items, next_cursor })
}

/// A report as the API shows it: with its reporter's name and an excerpt of what it points at
/// for the admins (`for_admins`), without for the reporter.
///
/// # Errors
/// Database errors, a stored value this build does not know.
pub async fn response(
    db: &impl ConnectionTrait,
    report: reports::Model,
    for_admins: bool,
) -> Result<ReportResponse> {
    let unknown = |column: &'static str, value: &str| {
        ApiError::Internal(anyhow::anyhow!("reports.{column} holds {value:?}"))
    };
    let target_type: ReportTarget = report
        .target_type
        .parse()
        .map_err(|()| unknown("target_type", &report.target_type))?;
    let (reporter, excerpt) = if for_admins {
        let reporter = users::Entity::find_by_id(report.reporter_id)
            .one(db)
            .await?
            .map(|user| user.username);
        (reporter, excerpt(db, target_type, &report.target_id).await?)
    } else {
        (None, None)
    };
    Ok(ReportResponse {
        id: report.id,
        target_type,
        reason: report
            .reason
            .parse()
            .map_err(|()| unknown("reason", &report.reason))?,
        status: report
            .status
            .parse()
            .map_err(|()| unknown("status", &report.status))?,
        target_id: report.target_id,
        room_code: report.room_code,
        text: report.body,
        reporter,
        excerpt,
        created_at: report.created_at,
        handled_at: report.handled_at,
        resolution: report.resolution,
    })
}

/// What the target says, for the admins (at most 280 characters).
async fn excerpt(
    db: &impl ConnectionTrait,
    target: ReportTarget,
    id: &str,
) -> Result<Option<String>> {
    let text = match target {
        ReportTarget::Room => rooms::Entity::find()
            .filter(rooms::Column::Code.eq(id))
            .one(db)
            .await?
            .map(|room| room.name),
        ReportTarget::Review => match Uuid::parse_str(id) {
            Ok(id) => reviews::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|review| review.body),
            Err(_) => None,
        },
        ReportTarget::Message => match id.parse::<i64>() {
            Ok(id) => messages::Entity::find_by_id(id)
                .one(db)
                .await?
                .and_then(|message| message.body),
            Err(_) => None,
        },
    };
    Ok(text.map(|text| text.chars().take(280).collect()))
}
