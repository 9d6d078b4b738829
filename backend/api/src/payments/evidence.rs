//! "Check with the wallet provider": an admin reads a payment's incoming and outgoing payments
//! live over Open Payments and sees them beside our record, with every disagreement named.
//! The check is a read at the wallets; its audit row says who looked, and when.

use serde_json::json;
use shifting_open_payments::types::{Amount as OpAmount, IncomingPayment, OutgoingPayment};
use shifting_shared::TransactionStatus;
use shifting_shared::admin::{AuditAction, Disagreement, ProviderCheckResponse, ProviderReading};
use shifting_shared::api::AmountDto;
use uuid::Uuid;

use super::error::PaymentError;
use super::{for_people, price_of, readings};
use crate::entities::amount::StoredAmount;
use crate::entities::transactions;
use crate::error::{ApiError, Result};
use crate::services::admin::{Actor, Target, audit};
use crate::services::admin_views;
use crate::state::AppState;

/// Reads both sides of payment `id` at the wallets and compares them with our record.
///
/// # Errors
/// 404 for an unknown payment, database errors. A provider that cannot be read is reported in
/// the answer, not as an error.
pub async fn check(state: &AppState, actor: &Actor, id: Uuid) -> Result<ProviderCheckResponse> {
    let row = super::load(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("No transaction has this id."))?;
    let client = &state.open_payments;
    let incoming = async {
        match row.incoming_payment_url {
            Some(_) => Some(readings::incoming(client, &row).await),
            None => None,
        }
    };
    let outgoing = async {
        match row.outgoing_payment_url {
            Some(_) => Some(
                readings::outgoing(
                    (&state.db, client, &state.sealer),
                    &row,
                    readings::Rotation::Never,
                )
                .await,
            ),
            None => None,
        }
    };
    let (incoming, outgoing) = tokio::join!(incoming, outgoing);
    let disagreements = compare(&row, incoming.as_ref(), outgoing.as_ref());
    let checked_at = state.settings.clock.now();
    let incoming = incoming.map(|read| match read {
        Ok(payment) => ProviderReading {
            url: payment.id.clone(),
            read: true,
            problem: None,
            amount: Some(dto(&payment.received_amount)),
            expected: payment.incoming_amount.as_ref().map(dto),
            state: Some(
                if payment.completed {
                    "completed"
                } else {
                    "open"
                }
                .to_owned(),
            ),
        },
        Err(err) => unread(row.incoming_payment_url.clone(), &err),
    });
    let outgoing = outgoing.map(|read| match read {
        Ok(payment) => ProviderReading {
            url: payment.id.clone(),
            read: true,
            problem: None,
            amount: Some(dto(&payment.sent_amount)),
            expected: Some(dto(&payment.debit_amount)),
            state: Some(outgoing_state(&payment).to_owned()),
        },
        Err(err) => unread(row.outgoing_payment_url.clone(), &err),
    });
    let txn = crate::db::begin_write(&state.db).await?;
    audit(
        &txn,
        actor,
        (
            AuditAction::CheckPayment,
            Target {
                kind: "transaction",
                id: &id.to_string(),
            },
        ),
        "Checked with the wallet providers.",
        (
            Some(json!({ "status": row.status, "received_value": row.received_value })),
            Some(json!({ "disagreements": disagreements.len() })),
        ),
        checked_at,
    )
    .await?;
    txn.commit().await?;
    Ok(ProviderCheckResponse {
        record: admin_views::transaction_detail(&state.db, id).await?,
        incoming,
        outgoing,
        disagreements,
        checked_at,
    })
}

fn dto(amount: &OpAmount) -> AmountDto {
    AmountDto {
        value: amount.value.to_string(),
        asset_code: amount.asset_code.clone(),
        asset_scale: amount.asset_scale,
    }
}

fn unread(url: Option<String>, err: &PaymentError) -> ProviderReading {
    let problem = match err {
        // The grant's token is forgotten when a payment ends: Open Payments has no way to read
        // a buyer's outgoing payment again without the buyer's consent.
        PaymentError::Missing(_) => {
            "Not readable any more: the buyer's grant ended with the payment.".to_owned()
        }
        other => other.to_string(),
    };
    ProviderReading {
        url: url.unwrap_or_default(),
        read: false,
        problem: Some(problem),
        amount: None,
        expected: None,
        state: None,
    }
}

fn outgoing_state(payment: &OutgoingPayment) -> &'static str {
    if payment.failed {
        "failed"
    } else if payment.sent_amount.value > 0 {
        "sent"
    } else {
        "nothing_sent"
    }
}

/// Where the wallets and our record disagree. Amounts are compared once the payment has ended
/// (while it moves, our record is the worker's last reading); states whenever they contradict.
fn compare(
    row: &transactions::Model,
    incoming: Option<&std::result::Result<IncomingPayment, PaymentError>>,
    outgoing: Option<&std::result::Result<OutgoingPayment, PaymentError>>,
) -> Vec<Disagreement> {
    let status = row.transaction_status().ok();
    let ended = status.is_some_and(TransactionStatus::is_terminal);
    let paid = status.is_some_and(|s| s.is_paid() || s == TransactionStatus::Refunded);
    let price = price_of(row);
    let mut found = Vec::new();
    if let Some(Ok(payment)) = incoming {
        let received = &payment.received_amount;
        // What our record holds as received: at least the full price once paid.
        let recorded = u64::try_from(row.received_value.unwrap_or(0)).unwrap_or(0);
        let ours = if paid {
            recorded.max(price.value)
        } else {
            recorded
        };
        let ours_amount = OpAmount {
            value: ours,
            ..price.clone()
        };
        if ended && (!received.same_asset(&price) || received.value != ours) {
            found.push(Disagreement {
                field: "amount_received".to_owned(),
                ours: for_people(&ours_amount),
                theirs: for_people(received),
            });
        }
        if paid && (!received.same_asset(&price) || received.value < price.value) {
            found.push(Disagreement {
                field: "incoming_state".to_owned(),
                ours: "paid in full".to_owned(),
                theirs: format!(
                    "{} of {} received",
                    for_people(received),
                    for_people(&price)
                ),
            });
        }
    }
    if let Some(Ok(payment)) = outgoing {
        let theirs = outgoing_state(payment);
        let contradiction = match status {
            // We say the seller was paid: the buyer's wallet failed it or sent nothing.
            _ if paid => theirs != "sent",
            // We say it failed: the buyer's wallet sent money nonetheless.
            Some(TransactionStatus::Failed) => theirs == "sent",
            _ => false,
        };
        if contradiction {
            found.push(Disagreement {
                field: "outgoing_state".to_owned(),
                ours: status
                    .map_or("unknown", TransactionStatus::as_str)
                    .to_owned(),
                theirs: theirs.to_owned(),
            });
        }
        let debit = &payment.debit_amount;
        let quoted = match (
            row.debit_value,
            &row.debit_asset_code,
            row.debit_asset_scale,
        ) {
            (Some(value), Some(code), Some(scale)) => {
                Some(StoredAmount::new(value, code, scale).open_payments())
            }
            _ => None,
        };
        if let Some(quoted) = quoted
            && (!debit.same_asset(&quoted) || debit.value != quoted.value)
        {
            found.push(Disagreement {
                field: "amount_sent".to_owned(),
                ours: for_people(&quoted),
                theirs: for_people(debit),
            });
        }
    }
    found
}
