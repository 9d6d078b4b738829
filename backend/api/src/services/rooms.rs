//! Rooms: creating them at the seller wallet's currency, listing a seller's rooms with their
//! sales, the public view, and the owner's status and description changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect, SqlErr,
};
use shifting_shared::api::{
    AmountDto, CreateRoomRequest, MoveRoomRequest, OwnRoomResponse, PartyResponse,
    RoomListResponse, RoomResponse, UpdateRoomRequest,
};
use shifting_shared::{
    Amount, Asset, AssetCode, AssetScale, FieldCode, FieldError, FieldErrors, RoomCode,
    RoomDescription, RoomStatus, StockLimit, TransactionStatus,
};
use url::Url;
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::amount::StoredAmount;
use crate::entities::{rooms, transactions, users};
use crate::error::{ApiError, Result};
use crate::services::{profiles, room_media};

const NO_ROOM: &str = "No room has this code.";

/// Creates a room priced in the currency of the seller's wallet, with a fresh unique code.
///
/// # Errors
/// [`ApiError::Conflict`] when the seller has no wallet yet, [`ApiError::Validation`] for bad
/// fields, internal errors.
pub async fn create_room(
    db: &DatabaseConnection,
    seller_id: Uuid,
    request: &CreateRoomRequest,
    public_url: &Url,
    now: DateTime<Utc>,
) -> Result<RoomResponse> {
    let seller = users::Entity::find_by_id(seller_id)
        .one(db)
        .await?
        .ok_or(ApiError::Unauthorized("The account no longer exists."))?;
    let (Some(wallet), Some(asset)) = (seller.wallet_address.clone(), wallet_asset(&seller)) else {
        return Err(ApiError::Conflict {
            message: "Set your wallet address in your profile before you create a room: prices are in its currency.",
            fields: FieldErrors::one(
                "wallet_address",
                FieldError::new(FieldCode::Required, "is required"),
            ),
        });
    };
    let room = request.parse(asset).map_err(ApiError::Validation)?;
    let price = i64::try_from(room.price.value()).map_err(anyhow::Error::from)?;
    // Codes are random over 31^6 ≈ 887 million; a collision is rare, and retried.
    for _ in 0..8 {
        let code = RoomCode::from_random(rand::random());
        let row = rooms::ActiveModel {
            id: Set(Uuid::new_v4()),
            code: Set(code.as_str().to_owned()),
            seller_id: Set(seller_id),
            name: Set(room.name.as_str().to_owned()),
            description: Set(room.description.as_str().to_owned()),
            price_value: Set(price),
            price_asset_code: Set(room.price.asset().code.as_str().to_owned()),
            price_asset_scale: Set(i16::from(room.price.asset().scale.get())),
            wallet_address: Set(wallet.clone()),
            wallet_public_name: Set(seller.wallet_public_name.clone()),
            status: Set(RoomStatus::Open.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            stock_limit: Set(room.stock_limit.map(stored_limit)),
            stock_taken: Set(0),
            delivery: Set(Some(room.delivery.as_str().to_owned()).filter(|d| !d.is_empty())),
            images: Set("[]".to_owned()),
            delivery_file: Set(None),
            stars_1: Set(0),
            stars_2: Set(0),
            stars_3: Set(0),
            stars_4: Set(0),
            stars_5: Set(0),
            hidden_at: Set(None),
            hidden_reason: Set(None),
        };
        // The room and its `room.created` webhooks, together.
        let txn = begin_write(db).await?;
        match row.insert(&txn).await {
            Ok(row) => {
                crate::webhooks::room_changed(&txn, &row, true, now).await?;
                txn.commit().await?;
                return to_response(row, &seller, public_url);
            }
            Err(err) if is_unique_violation(&err) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!(
        "no free room code after 8 attempts"
    )))
}

/// A stock limit as stored (at most a million, so it always fits).
fn stored_limit(limit: StockLimit) -> i32 {
    i32::try_from(limit.get()).unwrap_or(i32::MAX)
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The asset of a user's wallet, when one is set.
pub(crate) fn wallet_asset(user: &users::Model) -> Option<Asset> {
    let code = AssetCode::parse(user.wallet_asset_code.as_deref()?).ok()?;
    let scale = AssetScale::try_from(i64::from(user.wallet_asset_scale?)).ok()?;
    Some(Asset { code, scale })
}

/// A page of the seller's rooms, newest first, each with its number of completed sales.
///
/// # Errors
/// 422 for a bad cursor; internal errors.
pub async fn list_own_rooms(
    db: &impl ConnectionTrait,
    seller_id: Uuid,
    public_url: &Url,
    cursor: Option<&str>,
    limit: u64,
) -> Result<RoomListResponse> {
    let seller = users::Entity::find_by_id(seller_id)
        .one(db)
        .await?
        .ok_or(ApiError::Unauthorized("The account no longer exists."))?;
    let query = rooms::Entity::find().filter(rooms::Column::SellerId.eq(seller_id));
    let (rows, next_cursor) = crate::services::pages::fetch(db, query, cursor, limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let sales = transactions_per_room(
        db,
        seller_id,
        &ids,
        Condition::all().add(
            transactions::Column::Status
                .is_in(crate::services::transactions::SOLD.map(TransactionStatus::as_str)),
        ),
    )
    .await?;
    // What a pause or close would stop: approvals not yet sent on (no outgoing token yet).
    let in_progress = transactions_per_room(
        db,
        seller_id,
        &ids,
        Condition::any()
            .add(transactions::Column::Status.eq(TransactionStatus::AwaitingApproval.as_str()))
            .add(
                Condition::all()
                    .add(transactions::Column::Status.eq(TransactionStatus::Approved.as_str()))
                    .add(transactions::Column::OutgoingToken.is_null()),
            ),
    )
    .await?;
    let count = |counts: &HashMap<Uuid, u64>, id: &Uuid| counts.get(id).copied().unwrap_or(0);
    let rooms = rows
        .into_iter()
        .map(|row| {
            Ok(OwnRoomResponse {
                withdrawn: withdrawn(&row, &seller),
                sales: count(&sales, &row.id),
                payments_in_progress: count(&in_progress, &row.id),
                delivery: row.delivery.clone().unwrap_or_default(),
                delivery_file: room_media::stored_file(row.delivery_file.as_deref())?
                    .map(|file| file.response()),
                room: to_response(row, &seller, public_url)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(RoomListResponse { rooms, next_cursor })
}

/// How many of `seller_id`'s transactions in `rooms` match `which`, per room (rooms with none
/// are absent).
async fn transactions_per_room(
    db: &impl ConnectionTrait,
    seller_id: Uuid,
    rooms: &[Uuid],
    which: Condition,
) -> Result<HashMap<Uuid, u64>> {
    let counts = transactions::Entity::find()
        .select_only()
        .column(transactions::Column::RoomId)
        .column_as(transactions::Column::Id.count(), "count")
        .filter(transactions::Column::SellerId.eq(seller_id))
        .filter(transactions::Column::RoomId.is_in(rooms.iter().copied()))
        .filter(which)
        .group_by(transactions::Column::RoomId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(room, count)| (room, u64::try_from(count).unwrap_or(0)))
        .collect())
}

/// A room by its code, as anyone sees it.
///
/// # Errors
/// [`ApiError::NotFound`].
pub async fn get_room(
    db: &impl ConnectionTrait,
    code: &RoomCode,
    public_url: &Url,
) -> Result<RoomResponse> {
    let (room, seller) = find_public(db, code).await?;
    to_response(room, &seller, public_url)
}

/// A room and its seller, unless the platform withdrew the room from the public: what every
/// public read and every new payment or conversation goes through.
///
/// # Errors
/// [`ApiError::NotFound`], [`ApiError::Gone`] for a withdrawn room.
pub(crate) async fn find_public(
    db: &impl ConnectionTrait,
    code: &RoomCode,
) -> Result<(rooms::Model, users::Model)> {
    let (room, seller) = find_with_seller(db, code).await?;
    if withdrawn(&room, &seller).is_some() {
        return Err(ApiError::Gone(UNAVAILABLE));
    }
    Ok((room, seller))
}

/// What a withdrawn room answers the public.
pub(crate) const UNAVAILABLE: &str =
    "This room is unavailable: the platform withdrew it from the public.";

/// Why a room is withdrawn from the public, if it is: an admin hid it, or its seller's account
/// is suspended. A withdrawn room cannot be seen or paid by anyone but its seller.
#[must_use]
pub fn withdrawn(room: &rooms::Model, seller: &users::Model) -> Option<String> {
    match (&room.hidden_at, &seller.suspended_at) {
        (Some(_), _) => Some(room.hidden_reason.clone().unwrap_or_default()),
        (None, Some(_)) => Some(seller.suspended_reason.clone().unwrap_or_default()),
        (None, None) => None,
    }
}

/// A room as its seller sees it (withdrawn or not).
///
/// # Errors
/// [`ApiError::NotFound`].
pub(crate) async fn own_view(
    db: &impl ConnectionTrait,
    code: &RoomCode,
    public_url: &Url,
) -> Result<RoomResponse> {
    let (room, seller) = find_with_seller(db, code).await?;
    to_response(room, &seller, public_url)
}

/// A room and its seller.
pub(crate) async fn find_with_seller(
    db: &impl ConnectionTrait,
    code: &RoomCode,
) -> Result<(rooms::Model, users::Model)> {
    match rooms::Entity::find()
        .filter(rooms::Column::Code.eq(code.as_str()))
        .find_also_related(users::Entity)
        .one(db)
        .await?
    {
        Some((room, Some(seller))) => Ok((room, seller)),
        _ => Err(ApiError::NotFound(NO_ROOM)),
    }
}

/// Changes a room's status or description; only its seller may.
///
/// # Errors
/// [`ApiError::NotFound`], [`ApiError::Forbidden`] for anyone but the seller,
/// [`ApiError::Conflict`] for reopening a closed room or a concurrent change,
/// [`ApiError::Validation`] for a bad description.
pub async fn update_room(
    db: &DatabaseConnection,
    user_id: Uuid,
    code: &RoomCode,
    request: &UpdateRoomRequest,
    public_url: &Url,
    now: DateTime<Utc>,
) -> Result<RoomResponse> {
    let (room, seller) = find_with_seller(db, code).await?;
    if room.seller_id != user_id {
        return Err(ApiError::Forbidden("Only the room's seller can change it."));
    }
    let mut errors = FieldErrors::new();
    let description = request
        .description
        .as_deref()
        .map(RoomDescription::parse)
        .transpose()
        .map_err(|e| errors.insert("description", e))
        .ok()
        .flatten();
    let delivery = request
        .delivery
        .as_deref()
        .map(RoomDescription::parse)
        .transpose()
        .map_err(|e| errors.insert("delivery", e))
        .ok()
        .flatten();
    let stock_limit = request
        .stock_limit
        .map(|limit| limit.map(StockLimit::new).transpose())
        .transpose()
        .map_err(|e| errors.insert("stock_limit", e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let current = room.room_status()?;
    if let Some(next) = request.status
        && !current.can_change_to(next)
    {
        return Err(ApiError::conflict("A closed room stays closed."));
    }
    if request.status.is_none()
        && description.is_none()
        && stock_limit.is_none()
        && delivery.is_none()
    {
        return to_response(room, &seller, public_url);
    }
    let mut update = rooms::Entity::update_many()
        .col_expr(rooms::Column::UpdatedAt, Expr::value(now))
        .filter(rooms::Column::Id.eq(room.id))
        // Conditional on the status read above, so a concurrent close is never undone.
        .filter(rooms::Column::Status.eq(room.status.clone()));
    if let Some(next) = request.status {
        update = update.col_expr(rooms::Column::Status, Expr::value(next.as_str()));
    }
    if let Some(description) = &description {
        update = update.col_expr(
            rooms::Column::Description,
            Expr::value(description.as_str().to_owned()),
        );
    }
    if let Some(delivery) = &delivery {
        let text = Some(delivery.as_str().to_owned()).filter(|d| !d.is_empty());
        update = update.col_expr(rooms::Column::Delivery, Expr::value(text));
    }
    if let Some(limit) = stock_limit {
        update = update.col_expr(
            rooms::Column::StockLimit,
            Expr::value(limit.map(stored_limit)),
        );
    }
    let txn = begin_write(db).await?;
    if update.exec(&txn).await?.rows_affected != 1 {
        return Err(ApiError::conflict(
            "The room changed meanwhile; reload it and try again.",
        ));
    }
    changed(&txn, room.id, now).await?;
    txn.commit().await?;
    own_view(db, code, public_url).await
}

/// Queues `room.updated` for the room `id` as it now is, in `txn`.
async fn changed(txn: &DatabaseTransaction, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    if let Some(room) = rooms::Entity::find_by_id(id).one(txn).await? {
        crate::webhooks::room_changed(txn, &room, false, now).await?;
    }
    Ok(())
}

/// Moves a room's payouts to its seller's current wallet, at a new price in that wallet's
/// currency: the seller chooses it, nothing is converted. Payments already started keep the
/// wallet and the price they started with.
///
/// # Errors
/// [`ApiError::NotFound`], [`ApiError::Forbidden`] for anyone but the seller,
/// [`ApiError::Conflict`] for a closed room, a seller without a wallet, a room that already pays
/// into it, or a concurrent change; [`ApiError::Validation`] for the price.
pub async fn move_to_current_wallet(
    db: &DatabaseConnection,
    user_id: Uuid,
    code: &RoomCode,
    request: &MoveRoomRequest,
    public_url: &Url,
    now: DateTime<Utc>,
) -> Result<RoomResponse> {
    let (room, seller) = find_with_seller(db, code).await?;
    if room.seller_id != user_id {
        return Err(ApiError::Forbidden("Only the room's seller can change it."));
    }
    if room.room_status()? == RoomStatus::Closed {
        return Err(ApiError::conflict("A closed room stays closed."));
    }
    let (Some(wallet), Some(asset)) = (seller.wallet_address.clone(), wallet_asset(&seller)) else {
        return Err(ApiError::Conflict {
            message: "Set your wallet address in your profile first: the room moves to it.",
            fields: FieldErrors::one(
                "wallet_address",
                FieldError::new(FieldCode::Required, "is required"),
            ),
        });
    };
    if wallet == room.wallet_address {
        return Err(ApiError::conflict(
            "This room already pays into your current wallet.",
        ));
    }
    let price = Amount::parse_decimal(request.price.trim(), asset)
        .map_err(|e| ApiError::field("price", e))?;
    let value = i64::try_from(price.value()).map_err(anyhow::Error::from)?;
    let txn = begin_write(db).await?;
    let moved = rooms::Entity::update_many()
        .col_expr(rooms::Column::WalletAddress, Expr::value(wallet))
        .col_expr(
            rooms::Column::WalletPublicName,
            Expr::value(seller.wallet_public_name.clone()),
        )
        .col_expr(rooms::Column::PriceValue, Expr::value(value))
        .col_expr(
            rooms::Column::PriceAssetCode,
            Expr::value(price.asset().code.as_str().to_owned()),
        )
        .col_expr(
            rooms::Column::PriceAssetScale,
            Expr::value(i16::from(price.asset().scale.get())),
        )
        .col_expr(rooms::Column::UpdatedAt, Expr::value(now))
        .filter(rooms::Column::Id.eq(room.id))
        // Conditional on what was read, so a concurrent close or move is never undone.
        .filter(rooms::Column::Status.eq(room.status.clone()))
        .filter(rooms::Column::WalletAddress.eq(room.wallet_address.clone()))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ApiError::conflict(
            "The room changed meanwhile; reload it and try again.",
        ));
    }
    changed(&txn, room.id, now).await?;
    txn.commit().await?;
    own_view(db, code, public_url).await
}

/// The price of a stored room.
pub(crate) fn price_dto(room: &rooms::Model) -> AmountDto {
    StoredAmount::new(
        room.price_value,
        &room.price_asset_code,
        room.price_asset_scale,
    )
    .dto()
}

/// `{public_url}/{path}` for links people follow.
pub(crate) fn link(public_url: &Url, path: &str) -> String {
    format!(
        "{}/{}",
        public_url.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The public view of `room`, sold by `seller`.
///
/// # Errors
/// Internal errors (a stored value this version cannot read).
pub(crate) fn to_response(
    room: rooms::Model,
    seller: &users::Model,
    public_url: &Url,
) -> Result<RoomResponse> {
    let price = price_dto(&room);
    let status = room.room_status()?;
    let images = room_media::image_views(&room, public_url)?;
    let rating = room.star_counts().summary();
    Ok(RoomResponse {
        images,
        share_url: link(public_url, &format!("r/{}", room.code)),
        price_display: price.display(),
        price,
        code: room.code,
        name: room.name,
        description: room.description,
        seller: PartyResponse {
            username: seller.username.clone(),
            guest: false,
        },
        rating,
        seller_rating: seller.star_counts().summary(),
        // The badge vouches for the wallet the money goes to: only when this room pays into it.
        wallet_badge: profiles::wallet_badge(seller)
            .filter(|badge| badge.wallet_address == room.wallet_address),
        wallet_address: room.wallet_address,
        wallet_name: room.wallet_public_name,
        status,
        stock_limit: room.stock_limit.and_then(|limit| u32::try_from(limit).ok()),
        stock_left: room
            .stock_limit
            .map(|limit| u32::try_from(limit.saturating_sub(room.stock_taken)).unwrap_or(0)),
        created_at: room.created_at,
    })
}

/// The codes and names of the rooms `ids`, in one query.
///
/// # Errors
/// Database errors.
pub(crate) async fn codes_and_names(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, (String, String)>> {
    Ok(rooms::Entity::find()
        .select_only()
        .column(rooms::Column::Id)
        .column(rooms::Column::Code)
        .column(rooms::Column::Name)
        .filter(rooms::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect())
}
