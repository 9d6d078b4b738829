//! The buyer's and the seller's view of transactions: pages of them, and one with its history.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use shifting_shared::api::{
    EvidenceResponse, FailureResponse, HistoryEntry, PartyResponse, QuoteResponse,
    TransactionPageResponse, TransactionResponse,
};
use uuid::Uuid;

use crate::entities::amount::StoredAmount;
use crate::entities::parse_stored;
use crate::entities::{rooms, transaction_events, transactions, users};
use crate::error::{ApiError, Result};

const NOT_FOUND: &str = "No such transaction.";

/// Whose side of the transactions to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Purchases.
    Buyer,
    /// Sales.
    Seller,
    /// Both.
    Either,
}

/// A page of the user's transactions, newest first.
///
/// # Errors
/// Internal errors.
pub async fn list_transactions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    side: Side,
    limit: u64,
    offset: u64,
) -> Result<TransactionPageResponse> {
    let mine = match side {
        Side::Buyer => Condition::all().add(transactions::Column::BuyerId.eq(user_id)),
        Side::Seller => Condition::all().add(transactions::Column::SellerId.eq(user_id)),
        Side::Either => Condition::any()
            .add(transactions::Column::BuyerId.eq(user_id))
            .add(transactions::Column::SellerId.eq(user_id)),
    };
    let query = transactions::Entity::find().filter(mine);
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(transactions::Column::CreatedAt)
        .order_by_desc(transactions::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    let transactions = responses(db, rows).await?;
    Ok(TransactionPageResponse {
        transactions,
        total,
        limit,
        offset,
    })
}

/// One transaction with its status history, for its buyer or seller only.
///
/// # Errors
/// [`ApiError::NotFound`] for anyone else, so that ids cannot be probed.
pub async fn get_transaction(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<TransactionResponse> {
    let row = transactions::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|row| row.buyer_id == user_id || row.seller_id == user_id)
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    transaction_response(db, row, true).await
}

/// The API view of one stored transaction, optionally with its history.
///
/// # Errors
/// Internal errors.
pub(crate) async fn transaction_response(
    db: &impl ConnectionTrait,
    row: transactions::Model,
    with_history: bool,
) -> Result<TransactionResponse> {
    let history = if with_history {
        let events = transaction_events::Entity::find()
            .filter(transaction_events::Column::TransactionId.eq(row.id))
            .order_by_asc(transaction_events::Column::At)
            .all(db)
            .await?;
        Some(
            events
                .into_iter()
                .map(|event| {
                    Ok(HistoryEntry {
                        status: parse_stored("transaction_events.to_status", &event.to_status)?,
                        at: event.at,
                        detail: event.detail,
                    })
                })
                .collect::<Result<_>>()?,
        )
    } else {
        None
    };
    let mut responses = responses(db, vec![row]).await?;
    let mut response = responses
        .pop()
        .ok_or_else(|| anyhow::anyhow!("a transaction without its room or users"))?;
    response.history = history;
    Ok(response)
}

/// Views of several rows, with their rooms and users loaded in two queries.
async fn responses(
    db: &impl ConnectionTrait,
    rows: Vec<transactions::Model>,
) -> Result<Vec<TransactionResponse>> {
    let room_ids: Vec<Uuid> = rows.iter().map(|r| r.room_id).collect();
    let user_ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.buyer_id, r.seller_id])
        .collect();
    let rooms: HashMap<Uuid, (String, String)> = rooms::Entity::find()
        .select_only()
        .columns([rooms::Column::Id, rooms::Column::Code, rooms::Column::Name])
        .filter(rooms::Column::Id.is_in(room_ids))
        .into_tuple::<(Uuid, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect();
    let names: HashMap<Uuid, String> = users::Entity::find()
        .select_only()
        .columns([users::Column::Id, users::Column::Username])
        .filter(users::Column::Id.is_in(user_ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|row| {
            let (code, name) = rooms
                .get(&row.room_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("transaction {} has no room", row.id))?;
            let party = |id: Uuid| PartyResponse {
                username: names.get(&id).cloned().unwrap_or_default(),
            };
            let (buyer, seller) = (party(row.buyer_id), party(row.seller_id));
            view(row, code, name, buyer, seller)
        })
        .collect()
}

fn view(
    row: transactions::Model,
    room_code: String,
    room_name: String,
    buyer: PartyResponse,
    seller: PartyResponse,
) -> Result<TransactionResponse> {
    let in_price_asset =
        |value: i64| StoredAmount::new(value, &row.asset_code, row.asset_scale).dto();
    let quote = match (
        row.debit_value,
        &row.debit_asset_code,
        row.debit_asset_scale,
        row.receive_value,
    ) {
        (Some(debit), Some(code), Some(debit_scale), Some(receive)) => Some(QuoteResponse {
            debit_amount: StoredAmount::new(debit, code, debit_scale).dto(),
            receive_amount: in_price_asset(receive),
            expires_at: row.quote_expires_at,
        }),
        _ => None,
    };
    let failure = match (&row.failure_code, &row.failure_detail) {
        (Some(code), detail) => Some(FailureResponse {
            code: code.clone(),
            detail: detail.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(TransactionResponse {
        id: row.id,
        room_code,
        room_name,
        status: row.transaction_status()?,
        amount: in_price_asset(row.amount_value),
        quote,
        received_amount: row.received_value.map(in_price_asset),
        failure,
        buyer,
        seller,
        evidence: EvidenceResponse {
            buyer_wallet_address: row.buyer_wallet_address,
            seller_wallet_address: row.seller_wallet_address,
            incoming_payment: row.incoming_payment_url,
            quote: row.quote_url,
            outgoing_payment: row.outgoing_payment_url,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
        history: None,
    })
}
