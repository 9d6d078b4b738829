//! A seller's public profile: since when they are here, how many sales completed, their
//! rating over all rooms, their open rooms, their latest reviews, and the verified-wallet
//! badge while the wallet it proves is still theirs.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shifting_shared::review::{ReviewPageResponse, SellerProfileResponse};
use shifting_shared::{RoomStatus, Username, WalletBadge};
use url::Url;

use crate::entities::{rooms, users};
use crate::error::{ApiError, Result};
use crate::services::reviews::{self, Subject};

const NO_USER: &str = "No user has this name.";

/// How many open rooms a profile lists.
const ROOMS_SHOWN: u64 = 50;
/// How many reviews the profile's first page holds.
const REVIEWS_SHOWN: u64 = 10;

/// What a suspended seller's profile answers.
const SUSPENDED: &str = "This seller's profile is unavailable: the platform suspended the account.";

/// The public profile of `username`.
///
/// # Errors
/// 404 for an unknown (or malformed) name.
pub async fn profile(
    db: &impl ConnectionTrait,
    username: &str,
    public_url: &Url,
) -> Result<SellerProfileResponse> {
    let user = find(db, username).await?;
    if user.suspended_at.is_some() {
        return Err(ApiError::Gone(SUSPENDED));
    }
    let open_rooms = rooms::Entity::find()
        .filter(rooms::Column::SellerId.eq(user.id))
        .filter(rooms::Column::Status.eq(RoomStatus::Open.as_str()))
        .filter(rooms::Column::HiddenAt.is_null())
        .order_by_desc(rooms::Column::CreatedAt)
        .limit(ROOMS_SHOWN)
        .all(db)
        .await?
        .into_iter()
        .map(|room| crate::services::rooms::to_response(room, &user, public_url))
        .collect::<Result<Vec<_>>>()?;
    let reviews = reviews::page(db, Subject::Seller(user.id), None, REVIEWS_SHOWN).await?;
    Ok(SellerProfileResponse {
        member_since: user.created_at,
        completed_sales: u64::try_from(user.receipts_issued).unwrap_or(0),
        rating: user.star_counts().summary(),
        wallet_badge: wallet_badge(&user),
        rooms: open_rooms,
        reviews,
        username: user.username,
    })
}

/// A page of the reviews of all of `username`'s rooms.
///
/// # Errors
/// 404 for an unknown name, 422 for a bad cursor.
pub async fn reviews_of(
    db: &impl ConnectionTrait,
    username: &str,
    cursor: Option<&str>,
    limit: u64,
) -> Result<ReviewPageResponse> {
    let user = find(db, username).await?;
    if user.suspended_at.is_some() {
        return Err(ApiError::Gone(SUSPENDED));
    }
    reviews::page(db, Subject::Seller(user.id), cursor, limit).await
}

/// The user's verified-wallet badge, while their wallet is the one it proves.
#[must_use]
pub fn wallet_badge(user: &users::Model) -> Option<WalletBadge> {
    let (Some(at), Some(address), Some(by)) = (
        user.wallet_verified_at,
        &user.wallet_verified_address,
        &user.wallet_verified_by,
    ) else {
        return None;
    };
    if user.wallet_address.as_deref() != Some(address.as_str()) {
        return None;
    }
    Some(WalletBadge {
        wallet_address: address.clone(),
        verified_at: at,
        provider: Url::parse(by)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_else(|| by.clone()),
        verified_by: by.clone(),
    })
}

async fn find(db: &impl ConnectionTrait, username: &str) -> Result<users::Model> {
    let name = Username::parse(username).map_err(|_| ApiError::NotFound(NO_USER))?;
    users::Entity::find()
        .filter(users::Column::UsernameKey.eq(name.key()))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(NO_USER))
}
