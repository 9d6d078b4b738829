//! Getting back into an account and keeping it in its owner's hands: e-mail verification,
//! password reset, password change and e-mail change. Each acts through a single-use token
//! mailed to the address (made when the mail is delivered; only its SHA-256 is stored), and
//! each tells the owner by mail.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use shifting_shared::account::EmailConfirmed;
use shifting_shared::{Email, FieldCode, FieldError, FieldErrors, Password};
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{account_tokens, users};
use crate::error::{ApiError, Result};
use crate::mail::{self, MailJob};
use crate::services::accounts::{Session, live_account, new_session, revoke_all};
use crate::services::passwords;
use crate::services::rate_limit::RateLimiter;
use crate::services::tokens::{TokenKeys, sha256_hex};

/// What a mailed token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm the account's address.
    VerifyEmail,
    /// Choose a new password without the old one.
    ResetPassword,
    /// Move the account to the address the token was sent to.
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmail => "change_email",
        }
    }

    /// How long its link works.
    fn lifetime(self) -> Duration {
        match self {
            Self::VerifyEmail => Duration::days(7),
            Self::ResetPassword => Duration::minutes(30),
            Self::ChangeEmail => Duration::hours(24),
        }
    }
}

/// An unknown, expired, used or other-purpose link: one answer for all.
fn link_invalid() -> ApiError {
    ApiError::Validation(FieldErrors::one(
        "token",
        FieldError::new(
            FieldCode::LinkInvalid,
            "This link is unknown, expired or already used. Ask for a new one.",
        ),
    ))
}

/// Makes the token mailed by outbox row `outbox_id` (replacing the one an earlier attempt of
/// that row made) and returns it; only its hash is stored.
///
/// # Errors
/// Database errors.
pub async fn issue(
    db: &DatabaseConnection,
    user_id: Uuid,
    purpose: Purpose,
    new_email: Option<String>,
    outbox_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String> {
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let txn = begin_write(db).await?;
    account_tokens::Entity::delete_many()
        .filter(account_tokens::Column::OutboxId.eq(outbox_id))
        .exec(&txn)
        .await?;
    account_tokens::Entity::insert(account_tokens::ActiveModel {
        hash: Set(sha256_hex(&token)),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        new_email: Set(new_email),
        outbox_id: Set(Some(outbox_id)),
        expires_at: Set(now + purpose.lifetime()),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// Uses up `token` for one of `purposes` in `db` (the caller's transaction): exactly one
/// caller gets its row, however many present it at once.
///
/// # Errors
/// [`ApiError::Validation`] (`token`: `link_invalid`) for an unknown, expired, used or
/// other-purpose token.
async fn redeem(
    db: &impl ConnectionTrait,
    token: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<account_tokens::Model> {
    let hash = sha256_hex(token.trim());
    let row = account_tokens::Entity::find_by_id(hash.clone())
        .one(db)
        .await?
        .filter(|row| purposes.iter().any(|p| p.as_str() == row.purpose))
        .filter(|row| row.expires_at > now)
        .ok_or_else(link_invalid)?;
    let taken = account_tokens::Entity::delete_many()
        .filter(account_tokens::Column::Hash.eq(hash))
        .exec(db)
        .await?
        .rows_affected;
    if taken != 1 {
        return Err(link_invalid());
    }
    Ok(row)
}

/// Queues a reset link for the account with `email`, if there is one. The request does the
/// same work either way (the account is looked up when the mail is composed), so neither its
/// answer nor its timing tells whether an account has the address.
///
/// # Errors
/// Database errors.
pub async fn request_reset(
    db: &DatabaseConnection,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let job = MailJob::PasswordReset {
        email: email.as_str().to_owned(),
    };
    mail::queue(&txn, &job, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a new password from a reset link and signs in: every other session ends, the address
/// counts as confirmed (the link reached it), and the owner is told.
///
/// # Errors
/// [`ApiError::Validation`] for a bad link; internal errors.
pub async fn reset_password(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    token: &str,
    password: Password,
) -> Result<Session> {
    let hash = passwords::hash(password).await?;
    let now = keys.clock.now();
    let txn = begin_write(db).await?;
    let used = redeem(&txn, token, &[Purpose::ResetPassword], now).await?;
    let user = live_account(&txn, used.user_id)
        .await
        .map_err(|_| link_invalid())?;
    // A new password signs in: not for a suspended account (the link stays unused).
    if user.suspended_at.is_some() {
        return Err(ApiError::Forbidden(crate::services::accounts::SUSPENDED));
    }
    set_password(&txn, &user, hash, now).await?;
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(&txn)
        .await?;
    // Other reset links die with this one.
    account_tokens::Entity::delete_many()
        .filter(account_tokens::Column::UserId.eq(user.id))
        .filter(account_tokens::Column::Purpose.eq(Purpose::ResetPassword.as_str()))
        .exec(&txn)
        .await?;
    let user = live_account(&txn, user.id).await?;
    let session = new_session(&txn, keys, user).await?;
    txn.commit().await?;
    Ok(session)
}

/// Changes the password of a signed-in user who knows the current one, ends every other
/// session and signs this one in afresh.
///
/// # Errors
/// [`ApiError::Validation`] (`current_password`: `password_wrong`); internal errors.
pub async fn change_password(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    user_id: Uuid,
    current: String,
    new: Password,
) -> Result<Session> {
    let user = live_account(db, user_id).await?;
    if !passwords::verify(current, Some(user.password_hash.clone())).await? {
        return Err(ApiError::Validation(FieldErrors::one(
            "current_password",
            FieldError::new(FieldCode::PasswordWrong, "is not the account's password"),
        )));
    }
    let hash = passwords::hash(new).await?;
    let now = keys.clock.now();
    let txn = begin_write(db).await?;
    set_password(&txn, &user, hash, now).await?;
    let user = live_account(&txn, user.id).await?;
    let session = new_session(&txn, keys, user).await?;
    txn.commit().await?;
    Ok(session)
}

/// Stores a new password hash, ends every session and queues the notice.
async fn set_password(
    db: &impl ConnectionTrait,
    user: &users::Model,
    hash: String,
    now: DateTime<Utc>,
) -> Result<()> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(hash))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .exec(db)
        .await?;
    revoke_all(db, user.id, now).await?;
    mail::queue(db, &MailJob::PasswordChanged { user_id: user.id }, now).await
}

/// Mails a new confirmation link to a signed-in user whose address is not confirmed.
///
/// # Errors
/// [`ApiError::Conflict`] when it is confirmed already; [`ApiError::TooManyRequests`] past
/// the mail limit.
pub async fn resend_verification(
    db: &DatabaseConnection,
    limiter: &RateLimiter<String>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let user = live_account(db, user_id).await?;
    if user.email_verified_at.is_some() {
        return Err(ApiError::Conflict {
            message: "The e-mail address is confirmed already.",
            fields: FieldErrors::new(),
        });
    }
    limiter.check_key(&format!("user:{user_id}"))?;
    let txn = begin_write(db).await?;
    mail::queue(&txn, &MailJob::VerifyEmail { user_id }, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Starts moving a signed-in user to `email`: a link goes to the new address; nothing changes
/// until it is followed.
///
/// # Errors
/// [`ApiError::Validation`] for a wrong password or the same address; [`ApiError::Conflict`]
/// when another account has the address; [`ApiError::TooManyRequests`] past the mail limit.
pub async fn change_email(
    db: &DatabaseConnection,
    limiter: &RateLimiter<String>,
    user_id: Uuid,
    email: &Email,
    password: String,
    now: DateTime<Utc>,
) -> Result<()> {
    let user = live_account(db, user_id).await?;
    if !passwords::verify(password, Some(user.password_hash.clone())).await? {
        return Err(ApiError::Validation(FieldErrors::one(
            "password",
            FieldError::new(FieldCode::PasswordWrong, "is not the account's password"),
        )));
    }
    if user.email == email.as_str() {
        return Err(ApiError::Validation(FieldErrors::one(
            "email",
            FieldError::new(FieldCode::EmailSame, "is the account's address already"),
        )));
    }
    email_free(db, email.as_str()).await?;
    limiter.check_key(&format!("user:{user_id}"))?;
    let txn = begin_write(db).await?;
    mail::queue(
        &txn,
        &MailJob::ConfirmNewEmail {
            user_id,
            new_email: email.as_str().to_owned(),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Follows a mailed confirmation link: confirms the account's address, or moves the account
/// to the new address it was sent to (and tells the old one).
///
/// # Errors
/// [`ApiError::Validation`] for a bad link; [`ApiError::Conflict`] when another account took
/// the new address meanwhile.
pub async fn confirm_email(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<EmailConfirmed> {
    let txn = begin_write(db).await?;
    let used = redeem(
        &txn,
        token,
        &[Purpose::VerifyEmail, Purpose::ChangeEmail],
        now,
    )
    .await?;
    let user = live_account(&txn, used.user_id)
        .await
        .map_err(|_| link_invalid())?;
    let confirmed = match used.new_email {
        Some(new_email) if used.purpose == Purpose::ChangeEmail.as_str() => {
            email_free(&txn, &new_email).await?;
            users::Entity::update_many()
                .col_expr(users::Column::Email, Expr::value(new_email.clone()))
                .col_expr(users::Column::EmailVerifiedAt, Expr::value(now))
                .col_expr(users::Column::UpdatedAt, Expr::value(now))
                .filter(users::Column::Id.eq(user.id))
                .exec(&txn)
                .await
                .map_err(|err| match err.sql_err() {
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => taken(),
                    _ => err.into(),
                })?;
            mail::queue(
                &txn,
                &MailJob::EmailChanged {
                    user_id: user.id,
                    old_email: user.email.clone(),
                },
                now,
            )
            .await?;
            EmailConfirmed {
                email: new_email,
                changed: true,
            }
        }
        _ => {
            users::Entity::update_many()
                .col_expr(users::Column::EmailVerifiedAt, Expr::value(now))
                .filter(users::Column::Id.eq(user.id))
                .filter(users::Column::EmailVerifiedAt.is_null())
                .exec(&txn)
                .await?;
            EmailConfirmed {
                email: user.email.clone(),
                changed: false,
            }
        }
    };
    txn.commit().await?;
    Ok(confirmed)
}

/// Fails when an account (deleted ones excepted: their address is gone) has `email`.
async fn email_free(db: &impl ConnectionTrait, email: &str) -> Result<()> {
    let other = users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await?;
    if other.is_some() {
        return Err(taken());
    }
    Ok(())
}

fn taken() -> ApiError {
    ApiError::Conflict {
        message: "Another account has this e-mail address.",
        fields: FieldErrors::one(
            "email",
            FieldError::new(FieldCode::EmailTaken, "is already registered"),
        ),
    }
}
