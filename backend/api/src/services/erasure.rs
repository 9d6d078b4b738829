//! Deleting an account. The person's own data goes: name, e-mail address, password, profile
//! wallet and its proof, sessions, pending mail and tokens. Their rooms close. What the other
//! side of a sale needs stays: each transaction's amounts, wallets, times, evidence and
//! history (the seller's books and the buyer's proof of payment), the reviews and messages
//! they wrote (shown under an anonymous name), and the row itself under that name so those
//! records still point somewhere. See the README, "Deleting an account".

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use shifting_shared::refund::RefundStatus;
use shifting_shared::{FieldCode, FieldError, FieldErrors, RoomStatus, TransactionStatus};
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{
    account_tokens, live_tickets, refresh_tokens, refunds, rooms, transactions, users,
};
use crate::error::{ApiError, Result};
use crate::services::accounts::live_account;
use crate::services::passwords;

/// The name a deleted account goes by: not one anybody can sign up with (`~` is not allowed in
/// usernames), the same length for everyone.
#[must_use]
pub fn anonymous_name(id: Uuid) -> String {
    format!("~deleted-{}", &id.simple().to_string()[..12])
}

/// What a deletion leaves to do once it is committed.
#[derive(Debug)]
pub struct Erased {
    /// The codes of the rooms it closed (their cached views must be forgotten).
    pub rooms: Vec<String>,
    /// The budgets it revoked (their grants must be revoked at the wallets).
    pub budgets: Vec<crate::entities::budgets::Model>,
}

/// Deletes `user_id`'s account after checking its password; returns what is left to do.
///
/// # Errors
/// [`ApiError::Validation`] for a wrong password; [`ApiError::Conflict`] while one of their
/// payments is moving money (approved or sending): it must end first.
pub async fn delete_account(
    db: &DatabaseConnection,
    user_id: Uuid,
    password: String,
    now: DateTime<Utc>,
) -> Result<Erased> {
    let user = live_account(db, user_id).await?;
    if !passwords::verify(password, Some(user.password_hash.clone())).await? {
        return Err(ApiError::Validation(FieldErrors::one(
            "password",
            FieldError::new(FieldCode::PasswordWrong, "is not the account's password"),
        )));
    }
    let txn = begin_write(db).await?;
    if user.role == shifting_shared::admin::Role::Admin.as_str() {
        crate::services::admin::not_the_last_admin(&txn, db.get_database_backend()).await?;
    }
    let moving = transactions::Entity::find()
        .filter(
            Condition::any()
                .add(transactions::Column::BuyerId.eq(user_id))
                .add(transactions::Column::SellerId.eq(user_id)),
        )
        .filter(transactions::Column::Status.is_in([
            TransactionStatus::Approved.as_str(),
            TransactionStatus::Sending.as_str(),
        ]))
        .one(&txn)
        .await?;
    // A refund the seller approved is money moving too.
    let refunding = refunds::Entity::find()
        .filter(refunds::Column::SellerId.eq(user_id))
        .filter(refunds::Column::Status.is_in([
            RefundStatus::Approved.as_str(),
            RefundStatus::Sending.as_str(),
        ]))
        .one(&txn)
        .await?;
    if moving.is_some() || refunding.is_some() {
        return Err(ApiError::Conflict {
            message: "A payment of this account is still moving money. Try again when it has ended.",
            fields: FieldErrors::one(
                "account",
                FieldError::new(FieldCode::PaymentInProgress, "has a payment in progress"),
            ),
        });
    }
    let closed: Vec<String> = rooms::Entity::find()
        .select_only()
        .column(rooms::Column::Code)
        .filter(rooms::Column::SellerId.eq(user_id))
        .filter(rooms::Column::Status.ne(RoomStatus::Closed.as_str()))
        .into_tuple()
        .all(&txn)
        .await?;
    rooms::Entity::update_many()
        .col_expr(
            rooms::Column::Status,
            Expr::value(RoomStatus::Closed.as_str()),
        )
        .col_expr(rooms::Column::UpdatedAt, Expr::value(now))
        .filter(rooms::Column::SellerId.eq(user_id))
        .filter(rooms::Column::Status.ne(RoomStatus::Closed.as_str()))
        .exec(&txn)
        .await?;
    let name = anonymous_name(user_id);
    let none = Option::<String>::None;
    let updated = users::Entity::update_many()
        .col_expr(users::Column::Username, Expr::value(name.clone()))
        .col_expr(users::Column::UsernameKey, Expr::value(name))
        .col_expr(
            users::Column::Email,
            Expr::value(format!("{}@deleted.invalid", user_id.simple())),
        )
        .col_expr(users::Column::PasswordHash, Expr::value("!deleted"))
        .col_expr(users::Column::WalletAddress, Expr::value(none.clone()))
        .col_expr(users::Column::WalletPublicName, Expr::value(none.clone()))
        .col_expr(users::Column::WalletAssetCode, Expr::value(none.clone()))
        .col_expr(
            users::Column::WalletAssetScale,
            Expr::value(Option::<i16>::None),
        )
        .col_expr(
            users::Column::WalletVerifiedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            users::Column::WalletVerifiedAddress,
            Expr::value(none.clone()),
        )
        .col_expr(users::Column::WalletVerifiedBy, Expr::value(none))
        .col_expr(
            users::Column::EmailVerifiedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(users::Column::MailSales, Expr::value(false))
        .col_expr(users::Column::MailPaymentProblems, Expr::value(false))
        .col_expr(users::Column::MailMessages, Expr::value(false))
        .col_expr(users::Column::DeletedAt, Expr::value(now))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::Unauthorized("The account no longer exists."));
    }
    refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    live_tickets::Entity::delete_many()
        .filter(live_tickets::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    account_tokens::Entity::delete_many()
        .filter(account_tokens::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    crate::outbox::erase_for(&txn, user_id).await?;
    // Their webhook endpoints go with their messages and secrets.
    crate::entities::webhook_endpoints::Entity::delete_many()
        .filter(crate::entities::webhook_endpoints::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    let budgets = crate::payments::budgets::revoke_all(&txn, user_id, now).await?;
    txn.commit().await?;
    tracing::info!(user = %user.id, rooms = closed.len(), "account deleted");
    Ok(Erased {
        rooms: closed,
        budgets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anonymous_name_is_not_a_username_anyone_can_take() {
        let name = anonymous_name(Uuid::new_v4());
        assert!(name.len() <= 32, "{name}");
        assert!(shifting_shared::Username::parse(&name).is_err());
    }
}
