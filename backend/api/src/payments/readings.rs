//! Reading a payment's two sides at the wallets: the seller's incoming payment (with the
//! platform's incoming-payment grant at the seller's provider) and the buyer's outgoing payment
//! (with the purchase's grant token, or its budget's). The verification worker and the admins'
//! "check with the wallet provider" read them the same way.

use sea_orm::DatabaseConnection;
use shifting_open_payments::client::OpenPaymentsClient;
use shifting_open_payments::types::{AccessToken, IncomingPayment, OutgoingPayment};
use shifting_shared::TransactionStatus::Sending;
use uuid::Uuid;

use super::error::PaymentError;
use super::incoming_access;
use crate::entities::transactions;
use crate::secrets::Sealer;

const READ_OUTGOING: &str = "The buyer's wallet did not show the outgoing payment";

/// The seller's incoming payment, read with the seller-side token.
///
/// # Errors
/// [`PaymentError`] when it has none or the provider does not answer.
pub(crate) async fn incoming(
    client: &OpenPaymentsClient,
    row: &transactions::Model,
) -> Result<IncomingPayment, PaymentError> {
    let url = row
        .incoming_payment_url
        .as_deref()
        .ok_or(PaymentError::Missing("incoming payment"))?;
    let seller = client
        .get_wallet_address(&row.seller_wallet_address)
        .await
        .map_err(PaymentError::provider(
            "The seller's wallet address could not be resolved",
        ))?;
    client
        .with_token(
            &seller.auth_server,
            &incoming_access(&seller.id),
            |token| async move { client.get_incoming_payment(url, &token.value).await },
        )
        .await
        .map_err(PaymentError::provider(
            "The seller's wallet did not show the incoming payment",
        ))
}

/// Whether a read may rotate the purchase's grant token when the wallet says it is inactive:
/// only the verification worker, which holds the payment's lease, does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rotation {
    /// Rotate once and store the new token (the worker).
    Allowed,
    /// Report the refusal (a read by anyone else).
    Never,
}

/// The buyer's outgoing payment, read with the grant's token (rotated once if inactive, the
/// new token stored while the payment is `sending`, when `rotation` allows), or with its
/// budget's.
///
/// # Errors
/// [`PaymentError::Missing`] when no token is kept (the payment ended), provider errors.
pub(crate) async fn outgoing(
    (db, client, sealer): (&DatabaseConnection, &OpenPaymentsClient, &Sealer),
    row: &transactions::Model,
    rotation: Rotation,
) -> Result<OutgoingPayment, PaymentError> {
    if let Some(budget) = row.budget_id {
        return outgoing_under_budget(db, client, sealer, row, budget).await;
    }
    let value = super::outgoing_token(sealer, row).map_err(PaymentError::store)?;
    let (Some(url), Some(value), Some(manage)) = (
        &row.outgoing_payment_url,
        &value,
        &row.outgoing_token_manage,
    ) else {
        return Err(PaymentError::Missing("outgoing payment"));
    };
    match client.get_outgoing_payment(url, value).await {
        Err(err) if err.status() == Some(403) && rotation == Rotation::Allowed => {
            let token = AccessToken {
                value: value.clone(),
                manage: manage.clone(),
                expires_in: None,
                access: Vec::new(),
            };
            let rotated = client
                .rotate_token(&token)
                .await
                .map_err(PaymentError::provider(
                    "The buyer's wallet did not rotate the payment's token",
                ))?;
            super::store_outgoing_token(
                db,
                sealer,
                client.clock().now(),
                row.id,
                Sending,
                &rotated,
            )
            .await?;
            client
                .get_outgoing_payment(url, &rotated.value)
                .await
                .map_err(PaymentError::provider(READ_OUTGOING))
        }
        other => other.map_err(PaymentError::provider(READ_OUTGOING)),
    }
}

/// The buyer's outgoing payment paid under a budget, read with the budget's token (rotated
/// there, one rotation at a time, never here on its own).
async fn outgoing_under_budget(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    row: &transactions::Model,
    budget: Uuid,
) -> Result<OutgoingPayment, PaymentError> {
    let url = row
        .outgoing_payment_url
        .as_deref()
        .ok_or(PaymentError::Missing("outgoing payment"))?;
    let current = budget_token(db, client, sealer, budget, None).await?;
    match client.get_outgoing_payment(url, &current.value).await {
        Err(err) if err.is_inactive_token() => {
            let rotated = budget_token(db, client, sealer, budget, Some(&current)).await?;
            client
                .get_outgoing_payment(url, &rotated.value)
                .await
                .map_err(PaymentError::provider(READ_OUTGOING))
        }
        other => other.map_err(PaymentError::provider(READ_OUTGOING)),
    }
}

async fn budget_token(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    budget: Uuid,
    stale: Option<&AccessToken>,
) -> Result<AccessToken, PaymentError> {
    super::budgets::token(db, client, sealer, budget, stale)
        .await
        .map_err(|problem| PaymentError::Token(problem.to_string()))
}
