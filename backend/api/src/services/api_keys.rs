//! API keys: created by a signed-in person (the secret shown once, its SHA-256 kept), listed,
//! revoked; and recognised on `Authorization: Bearer shk_…`, acting as their owner within their
//! scopes ([`crate::http::scopes`]).

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use shifting_shared::keys::{
    ApiKeyListResponse, ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse, KEY_PREFIX,
    Scope,
};
use shifting_shared::{FieldCode, FieldError, FieldErrors};
use uuid::Uuid;

use crate::entities::api_keys;
use crate::error::{ApiError, Result};
use crate::services::tokens::sha256_hex;

/// The most keys one person holds (revoked ones excluded).
pub const MAX_KEYS: usize = 20;
/// How often `last_used_at` is written, at most.
const USE_GRANULARITY: Duration = Duration::minutes(1);
/// Characters of the secret shown in lists.
const SHOWN: usize = KEY_PREFIX.len() + 8;

/// A key that authenticated a request: whose, and what it may do.
#[derive(Clone, Debug)]
pub struct KeyHolder {
    /// The owner.
    pub user_id: Uuid,
    /// Its scopes.
    pub scopes: Vec<Scope>,
}

/// Makes a key for `user_id`.
///
/// # Errors
/// 422 for a bad name, no scopes or a past expiry; 409 beyond [`MAX_KEYS`].
pub async fn create(
    db: &DatabaseConnection,
    user_id: Uuid,
    request: &CreateApiKeyRequest,
    now: DateTime<Utc>,
) -> Result<CreatedApiKeyResponse> {
    let mut errors = FieldErrors::new();
    let name = request
        .checked_name()
        .map_err(|e| errors.insert("name", e))
        .ok();
    let mut scopes = request.scopes.clone();
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    if scopes.is_empty() {
        errors.insert(
            "scopes",
            FieldError::new(FieldCode::Required, "needs at least one scope"),
        );
    }
    if request.expires_at.is_some_and(|at| at <= now) {
        errors.insert(
            "expires_at",
            FieldError::new(FieldCode::OutOfRange, "must be in the future"),
        );
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let live = api_keys::Entity::find()
        .filter(api_keys::Column::UserId.eq(user_id))
        .filter(api_keys::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .len();
    if live >= MAX_KEYS {
        return Err(ApiError::conflict(
            "You have the most keys allowed: revoke one first.",
        ));
    }
    let bytes: [u8; 32] = rand::random();
    let secret = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let row = api_keys::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        name: Set(name),
        prefix: Set(secret.chars().take(SHOWN).collect()),
        secret_hash: Set(sha256_hex(&secret)),
        scopes: Set(scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")),
        expires_at: Set(request.expires_at),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    tracing::info!(user = %user_id, key = %row.id, "API key created");
    Ok(CreatedApiKeyResponse {
        key: response(row),
        secret,
    })
}

/// The caller's keys, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(db: &DatabaseConnection, user_id: Uuid) -> Result<ApiKeyListResponse> {
    let keys = api_keys::Entity::find()
        .filter(api_keys::Column::UserId.eq(user_id))
        .order_by_desc(api_keys::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(response)
        .collect();
    Ok(ApiKeyListResponse { keys })
}

/// Revokes one of the caller's keys: it is refused from the next request.
///
/// # Errors
/// 404 for a key that is not theirs; 409 when it is revoked already.
pub async fn revoke(
    db: &DatabaseConnection,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<ApiKeyResponse> {
    let row = api_keys::Entity::find_by_id(id)
        .filter(api_keys::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("You have no key with this id."))?;
    let moved = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::RevokedAt, Expr::value(now))
        .filter(api_keys::Column::Id.eq(id))
        .filter(api_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ApiError::conflict("This key is revoked already."));
    }
    tracing::info!(user = %user_id, key = %id, "API key revoked");
    Ok(response(api_keys::Model {
        revoked_at: Some(now),
        ..row
    }))
}

/// The key `secret` names, if it works now; notes its use (at most once a minute).
///
/// # Errors
/// 401 for an unknown, revoked or expired key.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<KeyHolder> {
    let refused = || ApiError::Unauthorized("This API key is unknown, revoked or expired.");
    let row = api_keys::Entity::find()
        .filter(api_keys::Column::SecretHash.eq(sha256_hex(secret)))
        .one(db)
        .await?
        .ok_or_else(refused)?;
    if row.revoked_at.is_some() || row.expires_at.is_some_and(|at| at <= now) {
        return Err(refused());
    }
    api_keys::Entity::update_many()
        .col_expr(api_keys::Column::LastUsedAt, Expr::value(now))
        .filter(api_keys::Column::Id.eq(row.id))
        .filter(
            Condition::any()
                .add(api_keys::Column::LastUsedAt.is_null())
                .add(api_keys::Column::LastUsedAt.lt(now - USE_GRANULARITY)),
        )
        .exec(db)
        .await?;
    Ok(KeyHolder {
        user_id: row.user_id,
        scopes: scopes(&row.scopes),
    })
}

fn scopes(stored: &str) -> Vec<Scope> {
    stored
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn response(row: api_keys::Model) -> ApiKeyResponse {
    ApiKeyResponse {
        scopes: scopes(&row.scopes),
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}
