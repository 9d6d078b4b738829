//! Settlement: the money of an outgoing payment moves, all or nothing, right after its answer
//! (and at start for what a previous run left in flight).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::payment_states;
use crate::State;
use crate::store::{account, begin_write, incoming_payment, outgoing_payment};

/// Moves the money of a `funding` outgoing payment, all or nothing: the payer is debited, the
/// receiving account credited and the incoming payment's `receivedAmount` raised (completed
/// when it reaches `incomingAmount`). Fails the payment instead when the payer cannot cover
/// it, the receiver no longer accepts money, or the failure switch is on.
///
/// # Errors
/// When the database fails (the payment stays `funding` and is retried).
pub(crate) async fn settle(state: &State, id: Uuid) -> Result<(), DbErr> {
    if state.switches.hold_outgoing_payments {
        return Ok(());
    }
    let txn = begin_write(&state.db).await?;
    let Some(payment) = outgoing_payment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|p| p.state == payment_states::FUNDING)
    else {
        return Ok(());
    };
    let failure = match move_money(state, &txn, &payment).await? {
        None => {
            mark(
                &txn,
                &payment,
                payment_states::COMPLETED,
                payment.debit_value,
                None,
            )
            .await?;
            txn.commit().await?;
            None
        }
        Some(reason) => {
            // Undo whatever moved, then record the failure on its own.
            txn.rollback().await?;
            let txn = begin_write(&state.db).await?;
            mark(&txn, &payment, payment_states::FAILED, 0, Some(reason)).await?;
            txn.commit().await?;
            Some(reason)
        }
    };
    match failure {
        None => tracing::info!(payment = %id, "sandbox outgoing payment completed"),
        Some(reason) => tracing::info!(payment = %id, reason, "sandbox outgoing payment failed"),
    }
    Ok(())
}

/// Debits the payer and credits the receiver with conditional, relative updates; says why
/// not when one of them does not apply.
async fn move_money(
    state: &State,
    txn: &DatabaseTransaction,
    payment: &outgoing_payment::Model,
) -> Result<Option<&'static str>, DbErr> {
    if state.switches.fail_outgoing_payments {
        return Ok(Some("the sandbox is set to fail every outgoing payment"));
    }
    let receiver = match state.resource_id("incoming-payments", &payment.receiver) {
        Some(rid) => incoming_payment::Entity::find_by_id(rid).one(txn).await?,
        None => None,
    };
    let Some(receiver) = receiver else {
        return Ok(Some("the receiver does not exist"));
    };
    let debited = account::Entity::update_many()
        .col_expr(
            account::Column::Balance,
            Expr::col(account::Column::Balance).sub(payment.debit_value),
        )
        .filter(account::Column::Name.eq(&payment.account))
        .filter(account::Column::Balance.gte(payment.debit_value))
        .exec(txn)
        .await?;
    if debited.rows_affected != 1 {
        return Ok(Some("insufficient funds"));
    }
    // Accepted only while open and not beyond the expected amount.
    let room = Expr::col(incoming_payment::Column::IncomingValue)
        .sub(Expr::col(incoming_payment::Column::ReceivedValue));
    let credited = incoming_payment::Entity::update_many()
        .col_expr(
            incoming_payment::Column::ReceivedValue,
            Expr::col(incoming_payment::Column::ReceivedValue).add(payment.receive_value),
        )
        .filter(incoming_payment::Column::Id.eq(receiver.id))
        .filter(incoming_payment::Column::Completed.eq(false))
        .filter(incoming_payment::Column::ExpiresAt.gt(state.clock.now()))
        .filter(
            Condition::any()
                .add(incoming_payment::Column::IncomingValue.is_null())
                .add(room.gte(payment.receive_value)),
        )
        .exec(txn)
        .await?;
    if credited.rows_affected != 1 {
        return Ok(Some("the receiver no longer accepts this payment"));
    }
    incoming_payment::Entity::update_many()
        .col_expr(incoming_payment::Column::Completed, Expr::value(true))
        .filter(incoming_payment::Column::Id.eq(receiver.id))
        .filter(incoming_payment::Column::IncomingValue.is_not_null())
        .filter(
            Expr::col(incoming_payment::Column::ReceivedValue)
                .gte(Expr::col(incoming_payment::Column::IncomingValue)),
        )
        .exec(txn)
        .await?;
    let credited_account = account::Entity::update_many()
        .col_expr(
            account::Column::Balance,
            Expr::col(account::Column::Balance).add(payment.receive_value),
        )
        .filter(account::Column::Name.eq(&receiver.account))
        .filter(account::Column::Balance.lte(i64::MAX - payment.receive_value))
        .exec(txn)
        .await?;
    if credited_account.rows_affected != 1 {
        return Ok(Some("the receiving account cannot hold this amount"));
    }
    Ok(None)
}

async fn mark(
    txn: &DatabaseTransaction,
    payment: &outgoing_payment::Model,
    state: &str,
    sent: i64,
    failure: Option<&str>,
) -> Result<(), DbErr> {
    outgoing_payment::Entity::update_many()
        .col_expr(outgoing_payment::Column::State, Expr::value(state))
        .col_expr(outgoing_payment::Column::SentValue, Expr::value(sent))
        .col_expr(
            outgoing_payment::Column::Failure,
            Expr::value(failure.map(str::to_owned)),
        )
        .filter(outgoing_payment::Column::Id.eq(payment.id))
        .filter(outgoing_payment::Column::State.eq(payment_states::FUNDING))
        .exec(txn)
        .await?;
    Ok(())
}

/// Settles what a previous run left in flight.
pub(crate) async fn settle_all_pending(state: &State) -> Result<(), DbErr> {
    let pending = outgoing_payment::Entity::find()
        .filter(outgoing_payment::Column::State.eq(payment_states::FUNDING))
        .all(&state.db)
        .await?;
    for payment in pending {
        settle(state, payment.id).await?;
    }
    Ok(())
}
