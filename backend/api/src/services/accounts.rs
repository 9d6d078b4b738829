//! Accounts and sessions: sign-up, log-in, refresh-token rotation with reuse detection, log-out
//! and the profile.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect, SqlErr,
};
use shifting_shared::account::PreferencesRequest;
use shifting_shared::api::{NewAccount, Role, UserResponse, WalletResponse};
use shifting_shared::{FieldCode, FieldError, FieldErrors};
use shifting_shared::{Language, MailPreferences, Notice};
use uuid::Uuid;

use crate::clock::chrono_duration;
use crate::db::begin_write;
use crate::entities::{refresh_tokens, users};
use crate::error::{ApiError, Result};
use crate::mail::MailJob;
use crate::services::passwords;
use crate::services::tokens::{TokenKeys, hash_refresh_token, new_refresh_token};
use crate::services::wallets::ResolvedWallet;

/// A signed-in session: the user, a fresh access token and a fresh refresh token.
#[derive(Debug)]
pub struct Session {
    /// The user.
    pub user: UserResponse,
    /// JWT access token.
    pub access_token: String,
    /// Opaque refresh token (for the cookie).
    pub refresh_token: String,
}

const BAD_CREDENTIALS: &str = "The login or password is incorrect.";
const BAD_REFRESH: &str = "The session has ended. Please log in again.";
const SESSION_TOO_OLD: &str = "The session has reached its maximum age. Please log in again.";

/// Creates an account and signs it in.
///
/// # Errors
/// [`ApiError::Conflict`] when the username or e-mail is taken (also when a concurrent sign-up
/// wins the race), or internal errors.
pub async fn sign_up(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    account: NewAccount,
    browser_language: Language,
) -> Result<Session> {
    let NewAccount {
        username,
        email,
        password,
        language,
    } = account;
    let taken = users::Entity::find()
        .filter(
            Condition::any()
                .add(users::Column::UsernameKey.eq(username.key()))
                .add(users::Column::Email.eq(email.as_str())),
        )
        .all(db)
        .await?;
    let mut fields = FieldErrors::new();
    for user in taken {
        if user.username_key == username.key() {
            fields.insert(
                "username",
                FieldError::new(FieldCode::UsernameTaken, "is already taken"),
            );
        }
        if user.email == email.as_str() {
            fields.insert(
                "email",
                FieldError::new(FieldCode::EmailTaken, "is already registered"),
            );
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::Conflict {
            message: "An account with these details already exists.",
            fields,
        });
    }

    let password_hash = passwords::hash(password).await?;
    let now = keys.clock.now();
    let user = users::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.as_str().to_owned()),
        username_key: Set(username.key()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        wallet_address: Set(None),
        wallet_public_name: Set(None),
        wallet_asset_code: Set(None),
        wallet_asset_scale: Set(None),
        role: Set("user".to_owned()),
        receipts_issued: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        stars_1: Set(0),
        stars_2: Set(0),
        stars_3: Set(0),
        stars_4: Set(0),
        stars_5: Set(0),
        wallet_verified_at: Set(None),
        wallet_verified_address: Set(None),
        wallet_verified_by: Set(None),
        email_verified_at: Set(None),
        language: Set(language.unwrap_or(browser_language).as_str().to_owned()),
        mail_sales: Set(true),
        mail_payment_problems: Set(true),
        mail_messages: Set(true),
        deleted_at: Set(None),
        suspended_at: Set(None),
        suspended_reason: Set(None),
    };
    let txn = begin_write(db).await?;
    let user = user.insert(&txn).await.map_err(conflict_or_internal)?;
    crate::mail::queue(&txn, &MailJob::VerifyEmail { user_id: user.id }, now).await?;
    let (session, _) =
        start_session(&txn, keys, user, NewRefreshToken::first(keys.clock.now())).await?;
    txn.commit().await?;
    Ok(session)
}

/// Maps a unique-constraint violation on `users` to a 409 naming the field.
fn conflict_or_internal(err: DbErr) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            // SQLite names the column (users.email); PostgreSQL names our index (uq_users_email).
            let (field, problem) = if message.contains("email") {
                (
                    "email",
                    FieldError::new(FieldCode::EmailTaken, "is already registered"),
                )
            } else {
                (
                    "username",
                    FieldError::new(FieldCode::UsernameTaken, "is already taken"),
                )
            };
            ApiError::Conflict {
                message: "An account with these details already exists.",
                fields: FieldErrors::one(field, problem),
            }
        }
        _ => err.into(),
    }
}

/// Whether `user_id` may act now (neither suspended nor deleted): asked on every
/// authenticated request, so a suspension or a deletion ends sessions and keys at once.
///
/// # Errors
/// 401 for a suspended, deleted or unknown account; database errors.
pub async fn ensure_active(db: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    type When = Option<DateTime<Utc>>;
    let account: Option<(When, When)> = users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::SuspendedAt)
        .column(users::Column::DeletedAt)
        .into_tuple()
        .one(db)
        .await?;
    match account {
        Some((None, None)) => Ok(()),
        Some((Some(_), _)) => Err(ApiError::Unauthorized("This account is suspended.")),
        _ => Err(ApiError::Unauthorized("This account no longer exists.")),
    }
}

/// What a suspended account is told when it proves who it is.
pub(crate) const SUSPENDED: &str = "This account is suspended by the platform's admins.";

/// Signs in with a username (any case) or e-mail address.
///
/// # Errors
/// [`ApiError::Unauthorized`] with the same message for an unknown login and a wrong password.
pub async fn log_in(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    login: &str,
    password: String,
) -> Result<Session> {
    let key = login.trim().to_lowercase();
    let user = users::Entity::find()
        .filter(
            Condition::any()
                .add(users::Column::UsernameKey.eq(key.as_str()))
                .add(users::Column::Email.eq(key.as_str())),
        )
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    if !passwords::verify(password, stored).await? {
        return Err(ApiError::Unauthorized(BAD_CREDENTIALS));
    }
    let user = user.ok_or(ApiError::Unauthorized(BAD_CREDENTIALS))?;
    // Said only to whoever knows the password.
    if user.suspended_at.is_some() {
        return Err(ApiError::Forbidden(SUSPENDED));
    }
    let txn = begin_write(db).await?;
    let (session, _) =
        start_session(&txn, keys, user, NewRefreshToken::first(keys.clock.now())).await?;
    txn.commit().await?;
    Ok(session)
}

/// Rotates a refresh token: the presented token is retired and its successor issued in the
/// same family.
///
/// Presenting a token that was already rotated is treated as theft and revokes the whole
/// family, except within the reuse grace: two tabs restoring one session at once present the
/// same token, and the later one gets the same successor (and a fresh access token) as the
/// first. A family ends for good once it is older than the maximum family age.
///
/// # Errors
/// [`ApiError::Unauthorized`] for unknown, expired, revoked, too old or reused tokens.
pub async fn refresh(db: &DatabaseConnection, keys: &TokenKeys, token: &str) -> Result<Session> {
    // A concurrent rotation of the same token makes the first attempt lose its race; the
    // second sees the winner's successor and is answered within the grace.
    match try_refresh(db, keys, token).await? {
        Rotation::Done(session) => Ok(*session),
        Rotation::LostRace => match try_refresh(db, keys, token).await? {
            Rotation::Done(session) => Ok(*session),
            Rotation::LostRace => Err(ApiError::Unauthorized(BAD_REFRESH)),
        },
    }
}

/// How one attempt at a rotation ended.
enum Rotation {
    Done(Box<Session>),
    LostRace,
}

/// How many rotations a token presented within the grace may be behind the family's newest.
const MAX_GRACE_HOPS: usize = 8;

async fn try_refresh(db: &DatabaseConnection, keys: &TokenKeys, token: &str) -> Result<Rotation> {
    let now = keys.clock.now();
    let txn = begin_write(db).await?;
    let current = find_refresh_token(&txn, &hash_refresh_token(token))
        .await?
        .ok_or(ApiError::Unauthorized(BAD_REFRESH))?;
    // First, so that a session past its maximum age says so, whatever its token's state.
    let family_started = current.family_started_at.unwrap_or(current.created_at);
    let family_ends = family_started + chrono_duration(keys.family_max_age);
    if family_ends <= now {
        revoke_family(&txn, current.family_id, now).await?;
        txn.commit().await?;
        return Err(ApiError::Unauthorized(SESSION_TOO_OLD));
    }
    if let Some(revoked_at) = current.revoked_at {
        if current.replaced_by.is_none() {
            // Logged out or revoked: nothing to rotate.
            return Err(ApiError::Unauthorized(BAD_REFRESH));
        }
        let grace = chrono::Duration::from_std(keys.reuse_grace).unwrap_or(chrono::Duration::MAX);
        if !keys.reuse_grace.is_zero() && now - revoked_at <= grace {
            return successor_within_grace(&txn, keys, token, now).await;
        }
        tracing::warn!(family = %current.family_id, user = %current.user_id, "rotated refresh token reused; revoking its family");
        revoke_family(&txn, current.family_id, now).await?;
        txn.commit().await?;
        return Err(ApiError::Unauthorized(BAD_REFRESH));
    }
    if current.expires_at <= now {
        return Err(ApiError::Unauthorized(BAD_REFRESH));
    }
    let user = users::Entity::find_by_id(current.user_id)
        .filter(users::Column::SuspendedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(ApiError::Unauthorized(BAD_REFRESH))?;
    let (successor, successor_hash) = keys.successor(token);
    let new_token = NewRefreshToken {
        value: successor,
        hash: successor_hash,
        family_id: current.family_id,
        family_started_at: family_started,
    };
    let (session, new_token_id) = match start_session(&txn, keys, user, new_token).await {
        Ok(started) => started,
        // PostgreSQL: a concurrent rotation inserted the same successor first.
        Err(ApiError::Internal(err)) if is_unique_violation(&err) => return Ok(Rotation::LostRace),
        Err(err) => return Err(err),
    };
    // Retire the presented token only if nobody else did meanwhile.
    let retired = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .col_expr(
            refresh_tokens::Column::ReplacedBy,
            Expr::value(new_token_id),
        )
        .filter(refresh_tokens::Column::Id.eq(current.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if retired.rows_affected != 1 {
        return Ok(Rotation::LostRace);
    }
    txn.commit().await?;
    Ok(Rotation::Done(Box::new(session)))
}

/// Within the grace: the family's live token that rotations of `token` led to, with a fresh
/// access token. Nothing is written.
async fn successor_within_grace(
    txn: &DatabaseTransaction,
    keys: &TokenKeys,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Rotation> {
    let mut value = token.to_owned();
    for _ in 0..MAX_GRACE_HOPS {
        let (next, next_hash) = keys.successor(&value);
        let Some(row) = find_refresh_token(txn, &next_hash).await? else {
            break;
        };
        match (row.revoked_at, row.replaced_by) {
            (None, _) if row.expires_at > now => {
                let user = users::Entity::find_by_id(row.user_id)
                    .one(txn)
                    .await?
                    .ok_or(ApiError::Unauthorized(BAD_REFRESH))?;
                let access_token = keys.issue_access(user.id)?;
                return Ok(Rotation::Done(Box::new(Session {
                    user: to_response(user),
                    access_token,
                    refresh_token: next,
                })));
            }
            (Some(_), Some(_)) => value = next,
            _ => break,
        }
    }
    Err(ApiError::Unauthorized(BAD_REFRESH))
}

async fn find_refresh_token(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<refresh_tokens::Model>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .one(db)
        .await?)
}

fn is_unique_violation(err: &anyhow::Error) -> bool {
    err.downcast_ref::<DbErr>()
        .and_then(DbErr::sql_err)
        .is_some_and(|e| matches!(e, SqlErr::UniqueConstraintViolation(_)))
}

/// Ends sessions: the refresh token's family when a token is given, otherwise every session of
/// `user` (log-out with only an access token).
///
/// # Errors
/// Internal errors only; unknown tokens are ignored (log-out is idempotent).
pub async fn log_out(
    db: &DatabaseConnection,
    refresh_token: Option<&str>,
    user: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    if let Some(token) = refresh_token {
        let row = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(hash_refresh_token(token)))
            .one(&txn)
            .await?;
        if let Some(row) = row {
            revoke_family(&txn, row.family_id, now).await?;
        }
    } else if let Some(user) = user {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
            .filter(refresh_tokens::Column::UserId.eq(user))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The profile of a signed-in user.
///
/// # Errors
/// [`ApiError::Unauthorized`] when the account no longer exists.
pub async fn get_profile(db: &DatabaseConnection, user_id: Uuid) -> Result<UserResponse> {
    live_account(db, user_id).await.map(to_response)
}

/// A signed-in user's account, unless deleted.
///
/// # Errors
/// [`ApiError::Unauthorized`] when the account no longer exists.
pub(crate) async fn live_account(db: &impl ConnectionTrait, user_id: Uuid) -> Result<users::Model> {
    users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|user| user.deleted_at.is_none())
        .ok_or(ApiError::Unauthorized("The account no longer exists."))
}

/// Stores a resolved wallet as the user's: its canonical `id`, name and asset.
///
/// # Errors
/// [`ApiError::Unauthorized`] when the account no longer exists.
pub async fn set_wallet(
    db: &DatabaseConnection,
    user_id: Uuid,
    wallet: &ResolvedWallet,
    now: DateTime<Utc>,
) -> Result<UserResponse> {
    let txn = begin_write(db).await?;
    // Another wallet: the proof of controlling the old one says nothing about it.
    users::Entity::update_many()
        .col_expr(
            users::Column::WalletVerifiedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            users::Column::WalletVerifiedAddress,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            users::Column::WalletVerifiedBy,
            Expr::value(Option::<String>::None),
        )
        .filter(users::Column::Id.eq(user_id))
        .filter(
            Condition::any()
                .add(users::Column::WalletAddress.is_null())
                .add(users::Column::WalletAddress.ne(wallet.document.id.clone())),
        )
        .exec(&txn)
        .await?;
    let updated = users::Entity::update_many()
        .col_expr(
            users::Column::WalletAddress,
            Expr::value(wallet.document.id.clone()),
        )
        .col_expr(
            users::Column::WalletPublicName,
            Expr::value(wallet.document.public_name.clone()),
        )
        .col_expr(
            users::Column::WalletAssetCode,
            Expr::value(wallet.asset.code.as_str().to_owned()),
        )
        .col_expr(
            users::Column::WalletAssetScale,
            Expr::value(i16::from(wallet.asset.scale.get())),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::Unauthorized("The account no longer exists."));
    }
    txn.commit().await?;
    get_profile(db, user_id).await
}

async fn revoke_family(db: &impl ConnectionTrait, family: Uuid, now: DateTime<Utc>) -> Result<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::FamilyId.eq(family))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// A refresh token about to be stored.
struct NewRefreshToken {
    value: String,
    hash: String,
    family_id: Uuid,
    family_started_at: DateTime<Utc>,
}

impl NewRefreshToken {
    /// The first token of a new family (a log-in or sign-up) started `now`.
    fn first(now: DateTime<Utc>) -> Self {
        let (value, hash) = new_refresh_token();
        Self {
            value,
            hash,
            family_id: Uuid::new_v4(),
            family_started_at: now,
        }
    }
}

/// Issues an access token and stores `token`; returns the new token's row id. The token expires
/// after the refresh lifetime, and never after its family's maximum age.
async fn start_session(
    db: &impl ConnectionTrait,
    keys: &TokenKeys,
    user: users::Model,
    token: NewRefreshToken,
) -> Result<(Session, Uuid)> {
    let token_id = Uuid::new_v4();
    let now = keys.clock.now();
    let expires_at = (now + chrono_duration(keys.refresh_ttl))
        .min(token.family_started_at + chrono_duration(keys.family_max_age));
    refresh_tokens::ActiveModel {
        id: Set(token_id),
        user_id: Set(user.id),
        family_id: Set(token.family_id),
        token_hash: Set(token.hash),
        created_at: Set(now),
        family_started_at: Set(Some(token.family_started_at)),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        replaced_by: Set(None),
    }
    .insert(db)
    .await
    .map_err(|err| ApiError::Internal(err.into()))?;
    let access_token = keys.issue_access(user.id)?;
    Ok((
        Session {
            user: to_response(user),
            access_token,
            refresh_token: token.value,
        },
        token_id,
    ))
}

pub(crate) fn to_response(user: users::Model) -> UserResponse {
    let wallet = match (
        &user.wallet_address,
        &user.wallet_asset_code,
        user.wallet_asset_scale.and_then(|s| u8::try_from(s).ok()),
    ) {
        (Some(address), Some(code), Some(scale)) => Some(WalletResponse {
            address: address.clone(),
            public_name: user.wallet_public_name.clone(),
            asset_code: code.clone(),
            asset_scale: scale,
        }),
        _ => None,
    };
    UserResponse {
        wallet_badge: crate::services::profiles::wallet_badge(&user),
        id: user.id,
        username: user.username,
        email: user.email,
        wallet_address: user.wallet_address,
        wallet,
        role: if user.role == "admin" {
            Role::Admin
        } else {
            Role::User
        },
        created_at: user.created_at,
        email_verified: user.email_verified_at.is_some(),
        language: Language::from_tag(&user.language),
        mail: MailPreferences {
            sales: user.mail_sales,
            payment_problems: user.mail_payment_problems,
            messages: user.mail_messages,
        },
    }
}

/// Starts a new session (a new refresh-token family) for `user` in `db`.
///
/// # Errors
/// Internal errors.
pub(crate) async fn new_session(
    db: &impl ConnectionTrait,
    keys: &TokenKeys,
    user: users::Model,
) -> Result<Session> {
    let (session, _) =
        start_session(db, keys, user, NewRefreshToken::first(keys.clock.now())).await?;
    Ok(session)
}

/// Ends every session of `user_id` (a new password, a deleted account).
///
/// # Errors
/// Database errors.
pub(crate) async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Stores the language and notices `user_id` chose.
///
/// # Errors
/// [`ApiError::Unauthorized`] when the account no longer exists.
pub async fn set_preferences(
    db: &DatabaseConnection,
    user_id: Uuid,
    preferences: PreferencesRequest,
    now: DateTime<Utc>,
) -> Result<UserResponse> {
    let updated = users::Entity::update_many()
        .col_expr(
            users::Column::Language,
            Expr::value(preferences.language.as_str()),
        )
        .col_expr(
            users::Column::MailSales,
            Expr::value(preferences.mail.sales),
        )
        .col_expr(
            users::Column::MailPaymentProblems,
            Expr::value(preferences.mail.payment_problems),
        )
        .col_expr(
            users::Column::MailMessages,
            Expr::value(preferences.mail.messages),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::Unauthorized("The account no longer exists."));
    }
    get_profile(db, user_id).await
}

/// Turns `notice` off for `user_id` (a one-click unsubscribe); repeating it changes nothing.
///
/// # Errors
/// Database errors.
pub async fn unsubscribe(
    db: &DatabaseConnection,
    user_id: Uuid,
    notice: Notice,
    now: DateTime<Utc>,
) -> Result<()> {
    let column = match notice {
        Notice::Sales => users::Column::MailSales,
        Notice::PaymentProblems => users::Column::MailPaymentProblems,
        Notice::Messages => users::Column::MailMessages,
    };
    users::Entity::update_many()
        .col_expr(column, Expr::value(false))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The usernames of the users `ids`, in one query.
///
/// # Errors
/// Database errors.
pub(crate) async fn usernames(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>> {
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Username)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}
