//! One-click purchases under a budget (`budgets`): the checkout quotes as usual but asks for no
//! grant when the budget can pay the quote; the buyer's one confirmation claims the payment (a
//! conditional status change, in the same database transaction as the check of what is left of
//! the budget, with the budget's row locked) and the outgoing payment is created at once with
//! the budget's token. From there it is an approved payment like any other: `sending`, verified
//! at the seller's wallet, resumed by the worker after a crash.
//!
//! A budget that cannot pay a purchase never leaves the buyer stuck: at the start, the checkout
//! asks the wallet for an approval instead and says why; at the confirmation (the budget was
//! used up meanwhile, revoked, or the wallet refused), the payment fails with nothing sent and
//! the answer says why, so the page starts it again through the wallet's approval.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect,
};
use shifting_open_payments::types::Amount as OpAmount;
use shifting_shared::TransactionStatus::{Approved, AwaitingApproval, Expired, Failed};
use shifting_shared::budget::{
    BudgetStatus, ConfirmPaymentResponse, OneClickOffer, OneClickRefusal,
};
use uuid::Uuid;

use super::{Failure, Step, Store, budgets, fail, load, transition_in};
use crate::clock::chrono_duration;
use crate::db::begin_write;
use crate::entities::{amount::StoredAmount, budgets as budget_rows, transactions};
use crate::error::{ApiError, Result};
use crate::services::transactions::{Viewer, transaction_response};
use crate::state::AppState;

/// Whether `budget` can pay `debit` now, by our own record of what it has paid this period:
/// the offer (what is left before this purchase), or why not.
pub(crate) async fn offer(
    db: &impl ConnectionTrait,
    budget: &budget_rows::Model,
    debit: &OpAmount,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<std::result::Result<OneClickOffer, OneClickRefusal>> {
    if budgets::status_of(budget)? != BudgetStatus::Active || now >= budget.ends_at {
        return Ok(Err(OneClickRefusal::Inactive));
    }
    if debit.asset_code != budget.asset_code || i16::from(debit.asset_scale) != budget.asset_scale {
        return Ok(Err(OneClickRefusal::OtherCurrency));
    }
    let Some((_, spent)) = budgets::spent_by_record(db, budget, now).await? else {
        return Ok(Err(OneClickRefusal::OutsidePeriod));
    };
    let left = i128::from(budget.limit_value) - spent;
    if i128::from(debit.value) > left {
        return Ok(Err(OneClickRefusal::OverBudget));
    }
    Ok(Ok(OneClickOffer {
        budget_id: budget.id,
        left: StoredAmount::new(
            i64::try_from(left.max(0)).unwrap_or(i64::MAX),
            &budget.asset_code,
            budget.asset_scale,
        )
        .dto(),
    }))
}

/// What a refusal reads as on the transaction.
fn refusal_detail(refusal: OneClickRefusal) -> &'static str {
    match refusal {
        OneClickRefusal::OverBudget => {
            "The purchase costs more than what is left of the one-click budget this period; nothing was sent."
        }
        OneClickRefusal::OutsidePeriod => {
            "The one-click budget's periods have not started or are over; nothing was sent."
        }
        OneClickRefusal::Inactive => "The one-click budget is no longer active; nothing was sent.",
        OneClickRefusal::OtherCurrency => {
            "The quote is in another currency than the one-click budget; nothing was sent."
        }
        OneClickRefusal::WalletRefused => {
            "The buyer's wallet refused the payment under the one-click budget; nothing was sent."
        }
    }
}

/// The buyer's one click: claims the purchase under its budget and sends the payment.
/// Confirming again returns the purchase as it stands (nothing is sent twice).
///
/// # Errors
/// 404 for anyone but its buyer, 409 for a purchase that is not paid under a budget.
pub async fn confirm(state: &AppState, buyer_id: Uuid, id: Uuid) -> Result<ConfirmPaymentResponse> {
    let db = &state.db;
    let row = load(db, id)
        .await?
        .filter(|row| row.buyer_id == Some(buyer_id))
        .ok_or(ApiError::NotFound("You have no such purchase."))?;
    let Some(budget_id) = row.budget_id else {
        return Err(ApiError::conflict(
            "This purchase is approved at your wallet, not with one click.",
        ));
    };
    if row.transaction_status()? != AwaitingApproval {
        return answer(state, buyer_id, id, None).await;
    }
    let now = state.settings.clock.now();
    if row.quote_expires_at.is_some_and(|at| at <= now) {
        fail(
            Store::new(db, &state.live),
            now,
            id,
            AwaitingApproval,
            Expired,
            Failure::Expired,
            "The quote expired before the purchase was confirmed.",
        )
        .await?;
        return answer(state, buyer_id, id, None).await;
    }
    let debit = OpAmount {
        value: row
            .debit_value
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| anyhow::anyhow!("one-click transaction {id} has no debit"))?,
        asset_code: row.debit_asset_code.clone().unwrap_or_default(),
        asset_scale: row
            .debit_asset_scale
            .and_then(|s| u8::try_from(s).ok())
            .unwrap_or_default(),
    };

    // The check of what is left and the claim are one database transaction, with the budget's
    // row locked (SQLite: the write transaction is exclusive already): concurrent purchases
    // under one budget are confirmed one after the other, and never past its limit.
    let txn = begin_write(db).await?;
    let mut query = budget_rows::Entity::find_by_id(budget_id);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    let budget = query
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("budget {budget_id} vanished"))?;
    // The click holds the purchase as long as the worker would when resuming it: only the
    // holder may create the payment (`sending::mark_budget_attempt`).
    let lease_until = now + chrono_duration(super::worker::RESUME_LEASE);
    let holder = Uuid::new_v4();
    let mut batch = state.live.batch();
    let refusal = match offer(&txn, &budget, &debit, now).await? {
        Ok(_) => {
            let claimed = transition_in(
                &txn,
                &mut batch,
                Step {
                    now,
                    id,
                    from: AwaitingApproval,
                    to: Approved,
                    detail: Some("The buyer confirmed with one click, under their budget.".into()),
                },
                move |u| {
                    u.col_expr(transactions::Column::ApprovedAt, Expr::value(now))
                        .col_expr(transactions::Column::LeaseOwner, Expr::value(holder))
                        .col_expr(
                            transactions::Column::LeaseUntil,
                            Expr::value(Some(lease_until)),
                        )
                        .filter(transactions::Column::BudgetId.eq(budget_id))
                },
            )
            .await?;
            txn.commit().await?;
            batch.committed();
            if !claimed {
                // Confirmed or ended meanwhile (another click, the expiry).
                return answer(state, buyer_id, id, None).await;
            }
            None
        }
        Err(refusal) => {
            txn.commit().await?;
            Some(refusal)
        }
    };
    if let Some(refusal) = refusal {
        let refused = fail(
            Store::new(db, &state.live),
            now,
            id,
            AwaitingApproval,
            Failed,
            Failure::BudgetRefused,
            refusal_detail(refusal),
        )
        .await?;
        if !refused {
            // Another click claimed it first (and its own debit is what the budget counted):
            // this purchase is under way, and nothing is refused.
            return answer(state, buyer_id, id, None).await;
        }
        tracing::info!(transaction = %id, budget = %budget_id, refusal = refusal.as_str(), "one-click purchase refused");
        if let Some(row) = load(db, id).await? {
            super::close_incoming_payment(&state.open_payments, &row).await;
        }
        return answer(state, buyer_id, id, Some(refusal)).await;
    }

    let row = load(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("transaction {id} vanished"))?;
    let client = &state.open_payments;
    let sealer = &state.sealer;
    let sending = match super::sending::send(db, &state.live, client, sealer, &row).await {
        Ok(moved) => Ok(moved),
        Err(not_sending) => {
            super::sending::record_not_sending(db, &state.live, client, sealer, &row, not_sending)
                .await
        }
    };
    match sending {
        Ok(true) => state.worker_wake.notify_one(),
        Ok(false) => {}
        // The lease runs out and the worker resumes the purchase.
        Err(err) => {
            tracing::error!(transaction = %id, error = format!("{err:#}"), "cannot record a one-click attempt");
        }
    }
    let refused = load(db, id)
        .await?
        .and_then(|row| row.failure_code)
        .as_deref()
        == Some(Failure::BudgetRefused.code());
    answer(
        state,
        buyer_id,
        id,
        refused.then_some(OneClickRefusal::WalletRefused),
    )
    .await
}

/// The purchase as its buyer sees it, with why the budget did not pay it.
async fn answer(
    state: &AppState,
    buyer_id: Uuid,
    id: Uuid,
    refused: Option<OneClickRefusal>,
) -> Result<ConfirmPaymentResponse> {
    let row = load(&state.db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("transaction {id} vanished"))?;
    Ok(ConfirmPaymentResponse {
        transaction: transaction_response(&state.db, row, Viewer::User(buyer_id), true).await?,
        one_click_refused: refused,
    })
}
