//! Administration: who is an admin, and the actions admins take. Every action writes its
//! append-only audit row in the same database transaction as the change it makes, so there is
//! never a change without its row, nor a row without its change.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::{Value, json};
use shifting_shared::admin::{
    AdminRoomResponse, AdminUserResponse, AuditAction, MAX_REASON, ReportResponse, ReportStatus,
    Role, checked_text,
};
use shifting_shared::{RoomCode, RoomStatus};
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{audit_log, live_tickets, refresh_tokens, reports, rooms, users};
use crate::error::{ApiError, Result};
use crate::live::{Live, Signal};

/// Who acts: an admin over HTTP, or the operator on the server's command line.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The admin's id (`None`: the command line).
    pub id: Option<Uuid>,
    /// Their username, as the log keeps it.
    pub name: String,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
}

impl Actor {
    /// The operator at the server's command line.
    #[must_use]
    pub fn command_line() -> Self {
        Self {
            id: None,
            name: "command line".to_owned(),
            request_id: None,
        }
    }
}

/// The admin behind `user_id`, if they still are one: the role is read from the database on
/// every request, so a revoked role or a suspension takes effect at once.
///
/// # Errors
/// 403 for anyone who is not an active admin.
pub async fn admin(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    request_id: Option<String>,
) -> Result<Actor> {
    let user = users::Entity::find_by_id(user_id)
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::DeletedAt.is_null())
        .filter(users::Column::SuspendedAt.is_null())
        .one(db)
        .await?
        .ok_or(ApiError::Forbidden("Only admins may do this."))?;
    Ok(Actor {
        id: Some(user.id),
        name: user.username,
        request_id,
    })
}

/// What an action is done to, for its audit row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    pub(crate) kind: &'static str,
    pub(crate) id: &'a str,
}

/// Writes one audit row in the caller's transaction.
///
/// # Errors
/// Database errors.
pub(crate) async fn audit(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    (action, target): (AuditAction, Target<'_>),
    reason: &str,
    (before, after): (Option<Value>, Option<Value>),
    now: DateTime<Utc>,
) -> Result<()> {
    audit_log::ActiveModel {
        id: Set(Uuid::new_v4()),
        actor_id: Set(actor.id),
        actor_name: Set(actor.name.clone()),
        action: Set(action.as_str().to_owned()),
        target_type: Set(target.kind.to_owned()),
        target_id: Set(target.id.to_owned()),
        reason: Set(reason.to_owned()),
        before: Set(before.map(|v| v.to_string())),
        after: Set(after.map(|v| v.to_string())),
        request_id: Set(actor.request_id.clone()),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    tracing::info!(actor = %actor.name, action = action.as_str(), target = target.kind, id = target.id, "admin action");
    Ok(())
}

/// A reason, trimmed and checked (1–500 characters).
///
/// # Errors
/// 422 (`reason`).
pub fn reason(text: &str) -> Result<String> {
    checked_text(text, MAX_REASON, true).map_err(|problem| ApiError::field("reason", problem))
}

/// How a user is named: by id (the panel) or by username (the command line).
#[derive(Clone, Copy, Debug)]
pub enum UserRef<'a> {
    /// By id.
    Id(Uuid),
    /// By username, any case.
    Name(&'a str),
}

async fn find_user(db: &impl ConnectionTrait, who: UserRef<'_>) -> Result<users::Model> {
    let query = match who {
        UserRef::Id(id) => users::Entity::find_by_id(id),
        UserRef::Name(name) => {
            users::Entity::find().filter(users::Column::UsernameKey.eq(name.trim().to_lowercase()))
        }
    };
    query
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("No account has this id or name."))
}

/// Gives `who` the `role`. Nobody may take away the last active admin's role, so the panel
/// always has someone to answer for it.
///
/// # Errors
/// 404, 409 (already so; the last admin), database errors.
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &Actor,
    who: UserRef<'_>,
    (role, reason): (Role, &str),
    now: DateTime<Utc>,
) -> Result<AdminUserResponse> {
    let txn = begin_write(db).await?;
    let user = find_user(&txn, who).await?;
    if user.role == role.as_str() {
        return Err(ApiError::conflict(match role {
            Role::Admin => "This account is an admin already.",
            Role::User => "This account is not an admin.",
        }));
    }
    if role == Role::User {
        not_the_last_admin(&txn, db.get_database_backend()).await?;
    }
    let moved = users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::value(role.as_str()))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .filter(users::Column::Role.eq(user.role.clone()))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ApiError::conflict(
            "The account changed meanwhile; try again.",
        ));
    }
    let action = match role {
        Role::Admin => AuditAction::GrantAdmin,
        Role::User => AuditAction::RevokeAdmin,
    };
    let target = Target {
        kind: "user",
        id: &user.id.to_string(),
    };
    audit(
        &txn,
        actor,
        (action, target),
        reason,
        (
            Some(json!({ "role": user.role })),
            Some(json!({ "role": role.as_str() })),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(user_response(users::Model {
        role: role.as_str().to_owned(),
        ..user
    }))
}

/// Refuses when fewer than two active admins remain, before one of them stops being one (the
/// role revoked, the account deleted): the panel always has someone to answer for it. Two
/// admins leaving at once cannot both pass: on PostgreSQL the admins' rows are locked first;
/// SQLite's write transactions run one at a time.
///
/// # Errors
/// 409, database errors.
pub(crate) async fn not_the_last_admin(
    txn: &impl ConnectionTrait,
    backend: DatabaseBackend,
) -> Result<()> {
    let mut admins = users::Entity::find()
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::DeletedAt.is_null())
        .filter(users::Column::SuspendedAt.is_null());
    if backend == DatabaseBackend::Postgres {
        admins = admins.lock_exclusive();
    }
    if admins.all(txn).await?.len() <= 1 {
        return Err(ApiError::conflict(
            "The last admin keeps the role: make someone else an admin first.",
        ));
    }
    Ok(())
}

/// Suspends an account: it can no longer sign in, every session it has ends (its refresh
/// families are revoked, and access tokens are refused from the next request), and its rooms
/// are withdrawn from the public and cannot be paid. Returns the codes of its rooms (for the
/// caches to forget).
///
/// # Errors
/// 404; 409 for oneself, an admin (revoke the role first) or an account already suspended.
pub async fn suspend(
    (db, live): (&DatabaseConnection, &Live),
    actor: &Actor,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(AdminUserResponse, Vec<String>)> {
    if actor.id == Some(user_id) {
        return Err(ApiError::conflict("You cannot suspend yourself."));
    }
    let txn = begin_write(db).await?;
    let user = find_user(&txn, UserRef::Id(user_id)).await?;
    if user.role == Role::Admin.as_str() {
        return Err(ApiError::conflict(
            "Admins cannot be suspended: revoke the admin role first.",
        ));
    }
    let moved = users::Entity::update_many()
        .col_expr(users::Column::SuspendedAt, Expr::value(now))
        .col_expr(users::Column::SuspendedReason, Expr::value(reason))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .filter(users::Column::SuspendedAt.is_null())
        // A role granted meanwhile: admins are never suspended.
        .filter(users::Column::Role.ne(Role::Admin.as_str()))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ApiError::conflict(
            "This account is suspended already, or it was made an admin meanwhile.",
        ));
    }
    let sessions = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(user.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    // Live sockets close (on every replica, once this commits), and no ticket opens one.
    live_tickets::Entity::delete_many()
        .filter(live_tickets::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let mut batch = live.batch();
    batch
        .add(&txn, Signal::SessionsEnded { u: user.id })
        .await?;
    let codes = room_codes(&txn, user.id).await?;
    audit(
        &txn,
        actor,
        (
            AuditAction::SuspendUser,
            Target {
                kind: "user",
                id: &user.id.to_string(),
            },
        ),
        reason,
        (
            Some(json!({ "suspended": false })),
            Some(json!({ "suspended": true, "sessions_revoked": sessions, "rooms_withdrawn": codes })),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    batch.committed();
    let response = user_response(users::Model {
        suspended_at: Some(now),
        suspended_reason: Some(reason.to_owned()),
        ..user
    });
    Ok((response, codes))
}

/// Lifts a suspension: the account can sign in again and its rooms (those no admin hid on
/// their own) are public again. Returns the codes of its rooms.
///
/// # Errors
/// 404; 409 when it is not suspended.
pub async fn unsuspend(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(AdminUserResponse, Vec<String>)> {
    let txn = begin_write(db).await?;
    let user = find_user(&txn, UserRef::Id(user_id)).await?;
    let moved = users::Entity::update_many()
        .col_expr(
            users::Column::SuspendedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            users::Column::SuspendedReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .filter(users::Column::SuspendedAt.is_not_null())
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ApiError::conflict("This account is not suspended."));
    }
    let codes = room_codes(&txn, user.id).await?;
    audit(
        &txn,
        actor,
        (
            AuditAction::UnsuspendUser,
            Target {
                kind: "user",
                id: &user.id.to_string(),
            },
        ),
        reason,
        (
            Some(json!({ "suspended": true, "reason": user.suspended_reason })),
            Some(json!({ "suspended": false })),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    let response = user_response(users::Model {
        suspended_at: None,
        suspended_reason: None,
        ..user
    });
    Ok((response, codes))
}

async fn room_codes(db: &impl ConnectionTrait, seller: Uuid) -> Result<Vec<String>> {
    Ok(rooms::Entity::find()
        .select_only()
        .column(rooms::Column::Code)
        .filter(rooms::Column::SellerId.eq(seller))
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// What an admin does to a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomAction {
    /// Withdraw it from the public (it cannot be paid; its seller still sees it).
    Hide,
    /// Put it back.
    Unhide,
    /// Close it for good (as its seller could).
    Close,
}

/// Hides, unhides or closes a room.
///
/// # Errors
/// 404; 409 when it is so already (or closed, for a close).
pub async fn room_action(
    db: &DatabaseConnection,
    actor: &Actor,
    code: &RoomCode,
    (action, reason): (RoomAction, &str),
    now: DateTime<Utc>,
) -> Result<AdminRoomResponse> {
    let txn = begin_write(db).await?;
    let (room, seller) = crate::services::rooms::find_with_seller(&txn, code).await?;
    let update = rooms::Entity::update_many()
        .col_expr(rooms::Column::UpdatedAt, Expr::value(now))
        .filter(rooms::Column::Id.eq(room.id));
    let (update, audited, before, after, already) = match action {
        RoomAction::Hide => (
            update
                .col_expr(rooms::Column::HiddenAt, Expr::value(now))
                .col_expr(rooms::Column::HiddenReason, Expr::value(reason))
                .filter(rooms::Column::HiddenAt.is_null()),
            AuditAction::HideRoom,
            json!({ "hidden": false }),
            json!({ "hidden": true }),
            "This room is hidden already.",
        ),
        RoomAction::Unhide => (
            update
                .col_expr(
                    rooms::Column::HiddenAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    rooms::Column::HiddenReason,
                    Expr::value(Option::<String>::None),
                )
                .filter(rooms::Column::HiddenAt.is_not_null()),
            AuditAction::UnhideRoom,
            json!({ "hidden": true, "reason": room.hidden_reason }),
            json!({ "hidden": false }),
            "This room is not hidden.",
        ),
        RoomAction::Close => (
            update
                .col_expr(
                    rooms::Column::Status,
                    Expr::value(RoomStatus::Closed.as_str()),
                )
                .filter(rooms::Column::Status.ne(RoomStatus::Closed.as_str())),
            AuditAction::CloseRoom,
            json!({ "status": room.status }),
            json!({ "status": RoomStatus::Closed.as_str() }),
            "This room is closed already.",
        ),
    };
    if update.exec(&txn).await?.rows_affected != 1 {
        return Err(ApiError::conflict(already));
    }
    audit(
        &txn,
        actor,
        (
            audited,
            Target {
                kind: "room",
                id: &room.code,
            },
        ),
        reason,
        (Some(before), Some(after)),
        now,
    )
    .await?;
    let room = rooms::Entity::find_by_id(room.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("No room has this code."))?;
    txn.commit().await?;
    room_response(room, &seller)
}

/// Resolves or dismisses an open report.
///
/// # Errors
/// 404; 409 when it is not open (any more).
pub async fn handle_report(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    (status, resolution): (ReportStatus, &str),
    now: DateTime<Utc>,
) -> Result<ReportResponse> {
    let action = match status {
        ReportStatus::Resolved => AuditAction::ResolveReport,
        ReportStatus::Dismissed => AuditAction::DismissReport,
        ReportStatus::Open => {
            return Err(ApiError::BadRequest(
                "A report is resolved or dismissed.".into(),
            ));
        }
    };
    let txn = begin_write(db).await?;
    let report = reports::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("No report has this id."))?;
    let moved = reports::Entity::update_many()
        .col_expr(reports::Column::Status, Expr::value(status.as_str()))
        .col_expr(reports::Column::HandledAt, Expr::value(now))
        .col_expr(reports::Column::HandledBy, Expr::value(actor.id))
        .col_expr(reports::Column::Resolution, Expr::value(resolution))
        .filter(reports::Column::Id.eq(id))
        .filter(reports::Column::Status.eq(ReportStatus::Open.as_str()))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ApiError::conflict("This report was handled already."));
    }
    audit(
        &txn,
        actor,
        (
            action,
            Target {
                kind: "report",
                id: &id.to_string(),
            },
        ),
        resolution,
        (
            Some(json!({ "status": report.status })),
            Some(json!({ "status": status.as_str(), "target_type": report.target_type, "target_id": report.target_id })),
        ),
        now,
    )
    .await?;
    let report = reports::Model {
        status: status.as_str().to_owned(),
        handled_at: Some(now),
        handled_by: actor.id,
        resolution: Some(resolution.to_owned()),
        ..report
    };
    let response = crate::services::reports::response(&txn, report, true).await?;
    txn.commit().await?;
    Ok(response)
}

/// An account as the admins see it.
#[must_use]
pub fn user_response(user: users::Model) -> AdminUserResponse {
    AdminUserResponse {
        id: user.id,
        role: user.role.parse().unwrap_or(Role::User),
        deleted: user.deleted_at.is_some(),
        username: user.username,
        email: user.email,
        wallet_address: user.wallet_address,
        created_at: user.created_at,
        suspended_at: user.suspended_at,
        suspended_reason: user.suspended_reason,
    }
}

/// A room as the admins see it.
///
/// # Errors
/// A stored status this build does not know.
pub fn room_response(room: rooms::Model, seller: &users::Model) -> Result<AdminRoomResponse> {
    Ok(AdminRoomResponse {
        status: room.room_status()?,
        price: crate::services::rooms::price_dto(&room),
        seller: seller.username.clone(),
        seller_id: seller.id,
        seller_suspended: seller.suspended_at.is_some(),
        code: room.code,
        name: room.name,
        hidden_at: room.hidden_at,
        hidden_reason: room.hidden_reason,
        created_at: room.created_at,
    })
}
