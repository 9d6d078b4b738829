//! The buyer's and the seller's view of transactions: pages of them, and one with its history.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use shifting_shared::api::{
    AmountDto, CurrencyTotalsResponse, DeliveryFileResponse, EvidenceResponse, FailureResponse,
    HistoryEntry, PartyResponse, QuoteResponse, SalesSummaryResponse, TotalResponse,
    TransactionPageResponse, TransactionResponse,
};
use shifting_shared::refund::RefundRequestResponse;
use shifting_shared::{FieldCode, FieldError, RoomCode, TransactionStatus};
use uuid::Uuid;

use crate::entities::amount::StoredAmount;
use crate::entities::parse_stored;
use crate::entities::{rooms, transaction_events, transactions, users};
use crate::error::{ApiError, Result};
use crate::http::extract::PurchaseCaller;
use crate::services::tokens::sha256_hex;
use crate::services::{pages, room_media};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

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

/// Sales (completed payments, refunded since or not) or attempts (every other one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Completed: the seller received the full price (and may have refunded it since).
    Sales,
    /// Not completed: in progress, declined, expired or failed.
    Attempts,
}

/// Which of a user's transactions a list or an export takes.
#[derive(Clone, Debug)]
pub struct Filter {
    /// Purchases, sales or both.
    pub side: Side,
    /// Sales or attempts; `None`: both.
    pub kind: Option<Kind>,
    /// One status only.
    pub status: Option<TransactionStatus>,
    /// One room only.
    pub room: Option<RoomCode>,
    /// From this time on (inclusive): completion for sales, start for the rest.
    pub since: Option<DateTime<Utc>>,
    /// Before this time (exclusive), counted like `since`.
    pub until: Option<DateTime<Utc>>,
}

impl Filter {
    /// All of a side's transactions.
    #[must_use]
    pub fn side(side: Side) -> Self {
        Self {
            side,
            kind: None,
            status: None,
            room: None,
            since: None,
            until: None,
        }
    }

    fn condition(&self, user_id: Uuid) -> Condition {
        let mut condition = Condition::all().add(match self.side {
            Side::Buyer => Condition::all().add(transactions::Column::BuyerId.eq(user_id)),
            Side::Seller => Condition::all().add(transactions::Column::SellerId.eq(user_id)),
            Side::Either => Condition::any()
                .add(transactions::Column::BuyerId.eq(user_id))
                .add(transactions::Column::SellerId.eq(user_id)),
        });
        // A sale stays a sale when it is being refunded or was refunded (its status says so).
        let sold = SOLD.map(TransactionStatus::as_str);
        match self.kind {
            Some(Kind::Sales) => {
                condition = condition.add(transactions::Column::Status.is_in(sold))
            }
            Some(Kind::Attempts) => {
                condition = condition.add(transactions::Column::Status.is_not_in(sold));
            }
            None => {}
        }
        if let Some(status) = self.status {
            condition = condition.add(transactions::Column::Status.eq(status.as_str()));
        }
        if let Some(room) = &self.room {
            condition = condition.add(
                transactions::Column::RoomId.in_subquery(
                    Query::select()
                        .column(rooms::Column::Id)
                        .from(rooms::Entity)
                        .and_where(rooms::Column::Code.eq(room.as_str()))
                        .to_owned(),
                ),
            );
        }
        let when = if self.kind == Some(Kind::Sales) {
            transactions::Column::CompletedAt
        } else {
            transactions::Column::CreatedAt
        };
        if let Some(since) = self.since {
            condition = condition.add(when.gte(since));
        }
        if let Some(until) = self.until {
            condition = condition.add(when.lt(until));
        }
        condition
    }
}

/// A page of the user's transactions that `filter` takes, newest first.
///
/// # Errors
/// Internal errors.
pub async fn list_transactions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    filter: &Filter,
    limit: u64,
    page: Page,
) -> Result<TransactionPageResponse> {
    let query = transactions::Entity::find().filter(filter.condition(user_id));
    let total = query.clone().count(db).await?;
    let (rows, next_cursor, offset) = match page {
        Page::After(cursor) => {
            let (rows, next) = pages::fetch(db, query, Some(&cursor), limit).await?;
            (rows, next, 0)
        }
        Page::Skip(offset) => {
            let rows = query
                .order_by_desc(transactions::Column::CreatedAt)
                .order_by_desc(transactions::Column::Id)
                .limit(limit)
                .offset(offset)
                .all(db)
                .await?;
            let more = offset.saturating_add(rows.len() as u64) < total;
            let next = more
                .then(|| {
                    rows.last()
                        .map(|row| <transactions::Entity as pages::Paged>::cursor(row).encode())
                })
                .flatten();
            (rows, next, offset)
        }
    };
    let transactions = responses(db, rows, Viewer::User(user_id)).await?;
    Ok(TransactionPageResponse {
        transactions,
        total,
        limit,
        offset,
        next_cursor,
    })
}

/// Where a page of transactions starts.
#[derive(Clone, Debug)]
pub enum Page {
    /// After the row a cursor names (stable under inserts).
    After(String),
    /// After skipping this many rows.
    Skip(u64),
}

/// The most rows one export holds.
pub const EXPORT_MAX_ROWS: u64 = 100_000;

/// The user's transactions that `filter` takes, newest first, as CSV (RFC 4180, a header row,
/// amounts as decimals in major units). Cells that a spreadsheet would run as a formula are
/// prefixed with `'`.
///
/// # Errors
/// [`ApiError::Validation`] beyond [`EXPORT_MAX_ROWS`] rows; internal errors.
pub async fn export_csv(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    filter: &Filter,
) -> Result<String> {
    let query = transactions::Entity::find().filter(filter.condition(user_id));
    if query.clone().count(db).await? > EXPORT_MAX_ROWS {
        return Err(ApiError::field(
            "since",
            FieldError::new(
                FieldCode::OutOfRange,
                "takes more than 100000 transactions: export a shorter period",
            ),
        ));
    }
    let rows = query
        .order_by_desc(transactions::Column::CreatedAt)
        .order_by_desc(transactions::Column::Id)
        .all(db)
        .await?;
    let views = responses(db, rows, Viewer::User(user_id)).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(EXPORT_COLUMNS)
        .map_err(anyhow::Error::from)?;
    for view in &views {
        out.write_record(export_record(view).map(spreadsheet_safe))
            .map_err(anyhow::Error::from)?;
    }
    let bytes = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
}

const EXPORT_COLUMNS: [&str; 20] = [
    "receipt_number",
    "transaction_id",
    "status",
    "started_at",
    "completed_at",
    "room_code",
    "room_name",
    "buyer",
    "seller",
    "price",
    "price_currency",
    "buyer_paid",
    "buyer_currency",
    "seller_received",
    "failure_code",
    "buyer_wallet",
    "seller_wallet",
    "incoming_payment",
    "quote",
    "outgoing_payment",
];

fn export_record(view: &TransactionResponse) -> [String; 20] {
    let decimal = |amount: &AmountDto| {
        let shown = amount.display();
        shown
            .strip_suffix(&format!(" {}", amount.asset_code))
            .unwrap_or(&shown)
            .to_owned()
    };
    let time = |at: &DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let debit = view.quote.as_ref().map(|quote| &quote.debit_amount);
    let evidence = &view.evidence;
    [
        view.receipt_number.clone().unwrap_or_default(),
        view.id.to_string(),
        view.status.as_str().to_owned(),
        time(&view.created_at),
        view.completed_at.as_ref().map(time).unwrap_or_default(),
        view.room_code.clone(),
        view.room_name.clone(),
        if view.buyer.guest {
            "(guest)".to_owned()
        } else {
            view.buyer.username.clone()
        },
        view.seller.username.clone(),
        decimal(&view.amount),
        view.amount.asset_code.clone(),
        debit.map(decimal).unwrap_or_default(),
        debit
            .map(|amount| amount.asset_code.clone())
            .unwrap_or_default(),
        view.received_amount
            .as_ref()
            .map(decimal)
            .unwrap_or_default(),
        view.failure
            .as_ref()
            .map(|f| f.code.clone())
            .unwrap_or_default(),
        evidence.buyer_wallet_address.clone(),
        evidence.seller_wallet_address.clone(),
        evidence.incoming_payment.clone().unwrap_or_default(),
        evidence.quote.clone().unwrap_or_default(),
        evidence.outgoing_payment.clone().unwrap_or_default(),
    ]
}

/// A cell a spreadsheet shows as text: one starting like a formula gets a leading `'` (OWASP's
/// advice against CSV injection; room names and usernames are typed by other people).
fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Completed payments per currency: today, the last 30 days and all time, counted from
/// completion. A seller's totals are what they received (the price); a buyer's, what their
/// wallet paid (the quote's debit amount, in the buyer's currency).
///
/// # Errors
/// Internal errors.
pub async fn summary(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    side: Side,
    today_starts: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<SalesSummaryResponse> {
    let (who, value, code, scale) = match side {
        Side::Buyer => (
            transactions::Column::BuyerId,
            transactions::Column::DebitValue,
            transactions::Column::DebitAssetCode,
            transactions::Column::DebitAssetScale,
        ),
        Side::Seller | Side::Either => (
            transactions::Column::SellerId,
            transactions::Column::AmountValue,
            transactions::Column::AssetCode,
            transactions::Column::AssetScale,
        ),
    };
    let periods = [
        Some(today_starts),
        Some(now - chrono::Duration::days(30)),
        None,
    ];
    let mut currencies: BTreeMap<(String, i16), [TotalResponse; 3]> = BTreeMap::new();
    for (slot, since) in periods.into_iter().enumerate() {
        let mut query = transactions::Entity::find()
            .select_only()
            .column(code)
            .column(scale)
            .column_as(transactions::Column::Id.count(), "count")
            .column_as(Expr::col(value).sum().cast_as("BIGINT"), "total")
            .filter(who.eq(user_id))
            // The money the seller has: a refunded sale's went back.
            .filter(transactions::Column::Status.is_in([
                TransactionStatus::Completed.as_str(),
                TransactionStatus::RefundPending.as_str(),
            ]))
            .group_by(code)
            .group_by(scale);
        if let Some(since) = since {
            query = query.filter(transactions::Column::CompletedAt.gte(since));
        }
        let rows = query
            .into_tuple::<(Option<String>, Option<i16>, i64, Option<i64>)>()
            .all(db)
            .await?;
        for (code, scale, count, total) in rows {
            let (Some(code), Some(scale)) = (code, scale) else {
                continue;
            };
            let totals = currencies
                .entry((code.clone(), scale))
                .or_insert_with(|| std::array::from_fn(|_| no_sales(&code, scale)));
            totals[slot] = TotalResponse {
                count: u64::try_from(count).unwrap_or(0),
                amount: StoredAmount::new(total.unwrap_or(0), &code, scale).dto(),
            };
        }
    }
    Ok(SalesSummaryResponse {
        currencies: currencies
            .into_values()
            .map(|[today, last_30_days, all_time]| CurrencyTotalsResponse {
                today,
                last_30_days,
                all_time,
            })
            .collect(),
    })
}

fn no_sales(code: &str, scale: i16) -> TotalResponse {
    TotalResponse {
        count: 0,
        amount: StoredAmount::new(0, code, scale).dto(),
    }
}

/// The statuses of a sale that happened: paid, and possibly refunded since.
pub(crate) const SOLD: [TransactionStatus; 3] = [
    TransactionStatus::Completed,
    TransactionStatus::RefundPending,
    TransactionStatus::Refunded,
];

/// Who looks at a transaction, once allowed to ([`authorise`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// A user: its buyer or its seller.
    User(Uuid),
    /// The guest who bought it, proven by the purchase's key.
    Guest,
}

impl Viewer {
    /// Whether the viewer is the transaction's buyer.
    #[must_use]
    pub fn is_buyer(self, row: &transactions::Model) -> bool {
        match self {
            Self::User(id) => row.buyer_id == Some(id),
            Self::Guest => true,
        }
    }
}

/// What a guest whose key opens no purchase with this id is told: the same whether or not the
/// id exists, so ids cannot be probed; a key is a credential, so it is 401.
const KEY_REFUSED: &str = "This guest key does not open this purchase.";

/// What `caller` is told when `row` is missing or not theirs: a signed-in user 404, a guest 401
/// (their key is the credential that failed). Neither says whether the id exists.
fn refused(caller: &PurchaseCaller) -> ApiError {
    match caller {
        PurchaseCaller::User(_) => ApiError::NotFound(NOT_FOUND),
        PurchaseCaller::Guest(_) => ApiError::Unauthorized(KEY_REFUSED),
    }
}

/// Whether `caller` may see `row`: its buyer, its seller, or a guest holding its key. Anyone
/// else learns nothing, not even that the id exists.
///
/// # Errors
/// 404 for another user, 401 for a key that does not open it.
pub fn authorise(row: &transactions::Model, caller: &PurchaseCaller) -> Result<Viewer> {
    let allowed = match caller {
        PurchaseCaller::User(id) => {
            (row.buyer_id == Some(*id) || row.seller_id == *id).then_some(Viewer::User(*id))
        }
        // The key the guest's browser got at checkout, or the one in their mailed receipt.
        PurchaseCaller::Guest(key) => {
            let presented = sha256_hex(key.expose_secret());
            [&row.guest_key_hash, &row.guest_mail_key_hash]
                .into_iter()
                .flatten()
                .any(|stored| bool::from(presented.as_bytes().ct_eq(stored.as_bytes())))
                .then_some(Viewer::Guest)
        }
    };
    allowed.ok_or_else(|| refused(caller))
}

/// One stored transaction `caller` may see.
///
/// # Errors
/// [`ApiError::NotFound`] when there is none.
pub async fn find_for(
    db: &impl ConnectionTrait,
    caller: &PurchaseCaller,
    id: Uuid,
) -> Result<(transactions::Model, Viewer)> {
    let row = transactions::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| refused(caller))?;
    let viewer = authorise(&row, caller)?;
    Ok((row, viewer))
}

/// One transaction with its status history, for its buyer (or guest buyer) or seller only.
///
/// # Errors
/// [`ApiError::NotFound`] for anyone else, so that ids cannot be probed.
pub async fn get_transaction(
    db: &impl ConnectionTrait,
    caller: &PurchaseCaller,
    id: Uuid,
) -> Result<TransactionResponse> {
    let (row, viewer) = find_for(db, caller, id).await?;
    transaction_response(db, row, viewer, true).await
}

/// Moves a guest's purchase into `user_id`'s account: the key proves it is theirs. Once only:
/// the move is a conditional update, so of two accounts racing with the same key exactly one
/// gets it. Claiming a purchase already in one's own account answers it again.
///
/// # Errors
/// 404 when the key does not open the transaction, 403 for its seller, 409 when it is already
/// in another account.
pub async fn claim(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
    key: &secrecy::SecretString,
) -> Result<TransactionResponse> {
    // Here the key is what is claimed, not how the caller signs in: a wrong one is 404.
    let (row, _) = find_for(db, &PurchaseCaller::Guest(key.clone()), id)
        .await
        .map_err(|err| match err {
            ApiError::Unauthorized(_) => ApiError::NotFound(NOT_FOUND),
            other => other,
        })?;
    if row.seller_id == user_id {
        return Err(ApiError::Forbidden(
            "This is a sale of yours: it cannot also be your purchase.",
        ));
    }
    if row.buyer_id.is_none() {
        transactions::Entity::update_many()
            .col_expr(transactions::Column::BuyerId, Expr::value(user_id))
            .filter(transactions::Column::Id.eq(id))
            .filter(transactions::Column::BuyerId.is_null())
            .exec(db)
            .await?;
    }
    let row = transactions::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    if row.buyer_id != Some(user_id) {
        return Err(ApiError::conflict(
            "This purchase is already in another account.",
        ));
    }
    transaction_response(db, row, Viewer::User(user_id), true).await
}

/// The API view of one stored transaction as `viewer` sees it, optionally with its history.
///
/// # Errors
/// Internal errors.
pub(crate) async fn transaction_response(
    db: &impl ConnectionTrait,
    row: transactions::Model,
    viewer: Viewer,
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
    let mut responses = responses(db, vec![row], viewer).await?;
    let mut response = responses
        .pop()
        .ok_or_else(|| anyhow::anyhow!("a transaction without its room or users"))?;
    if with_history {
        response.review = crate::services::reviews::for_transaction(db, response.id).await?;
        response.refund = crate::payments::refunds::latest(db, response.id, viewer).await?;
    }
    response.history = history;
    Ok(response)
}

/// Views of several rows as `viewer` sees them, with their rooms and users loaded in two
/// queries.
async fn responses(
    db: &impl ConnectionTrait,
    rows: Vec<transactions::Model>,
    viewer: Viewer,
) -> Result<Vec<TransactionResponse>> {
    let room_ids: BTreeSet<Uuid> = rows.iter().map(|r| r.room_id).collect();
    let user_ids: BTreeSet<Uuid> = rows
        .iter()
        .flat_map(|r| [r.buyer_id, Some(r.seller_id)])
        .flatten()
        .collect();
    let room_ids: Vec<Uuid> = room_ids.into_iter().collect();
    let user_ids: Vec<Uuid> = user_ids.into_iter().collect();
    let mut rooms: HashMap<Uuid, RoomFacts> = HashMap::new();
    let mut names: HashMap<Uuid, String> = HashMap::new();
    // In slices, so a large export stays under every database's limit on bound parameters.
    for ids in room_ids.chunks(IDS_PER_QUERY) {
        let found = rooms::Entity::find()
            .select_only()
            .columns([
                rooms::Column::Id,
                rooms::Column::Code,
                rooms::Column::Name,
                rooms::Column::Delivery,
                rooms::Column::DeliveryFile,
            ])
            .filter(rooms::Column::Id.is_in(ids.iter().copied()))
            .into_tuple::<(Uuid, String, String, Option<String>, Option<String>)>()
            .all(db)
            .await?;
        for (id, code, name, delivery, file) in found {
            let delivery_file = room_media::stored_file(file.as_deref())?.map(|f| f.response());
            rooms.insert(
                id,
                RoomFacts {
                    code,
                    name,
                    delivery,
                    delivery_file,
                },
            );
        }
    }
    for ids in user_ids.chunks(IDS_PER_QUERY) {
        let found = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::Username])
            .filter(users::Column::Id.is_in(ids.iter().copied()))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?;
        names.extend(found);
    }
    rows.into_iter()
        .map(|row| {
            let room = rooms
                .get(&row.room_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("transaction {} has no room", row.id))?;
            let party = |id: Option<Uuid>| match id {
                Some(id) => PartyResponse {
                    username: names.get(&id).cloned().unwrap_or_default(),
                    guest: false,
                },
                None => PartyResponse {
                    username: String::new(),
                    guest: true,
                },
            };
            let (buyer, seller) = (party(row.buyer_id), party(Some(row.seller_id)));
            view(row, room, buyer, seller, viewer)
        })
        .collect()
}

/// A receipt number people can read out and search for: `SHF-7Q2-00042`, the seller's mark
/// (three characters derived from their id, from the room-code alphabet) and the sale's number
/// among theirs.
pub(crate) fn receipt_number(seller: Uuid, seq: i64) -> String {
    let alphabet = RoomCode::ALPHABET;
    let mark: String = seller.as_bytes()[..3]
        .iter()
        .map(|byte| char::from(alphabet[usize::from(*byte) % alphabet.len()]))
        .collect();
    format!("SHF-{mark}-{seq:05}")
}

/// The most ids one query binds (SQLite allows 32,766 parameters, PostgreSQL 65,535).
const IDS_PER_QUERY: usize = 5_000;

/// What a transaction's view shows of its room.
#[derive(Clone)]
struct RoomFacts {
    code: String,
    name: String,
    delivery: Option<String>,
    delivery_file: Option<DeliveryFileResponse>,
}

fn view(
    row: transactions::Model,
    room: RoomFacts,
    buyer: PartyResponse,
    seller: PartyResponse,
    viewer: Viewer,
) -> Result<TransactionResponse> {
    let status = row.transaction_status()?;
    let buyer_views = viewer.is_buyer(&row);
    // What the seller delivers is the buyer's once the money arrived, and only theirs.
    let delivered = buyer_views && status.is_paid();
    let delivery = room.delivery.filter(|_| delivered);
    let delivery_file = room.delivery_file.filter(|_| delivered);
    let (room_code, room_name) = (room.code, room.name);
    // A signed-in buyer reviews a completed purchase within its window.
    let review_until = row
        .completed_at
        .filter(|_| delivered && matches!(viewer, Viewer::User(_)))
        .map(|at| at + chrono::Duration::days(shifting_shared::review::REVIEW_WINDOW_DAYS));
    // The way back to the wallet's consent page is the buyer's alone, and only while it can
    // still be answered.
    let consent_url = row
        .redirect_url
        .clone()
        .filter(|_| buyer_views && status == TransactionStatus::AwaitingApproval);
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
        status,
        consent_url,
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
        completed_at: row.completed_at,
        receipt_number: row
            .receipt_seq
            .map(|seq| receipt_number(row.seller_id, seq)),
        delivery,
        delivery_file,
        history: None,
        review_until,
        review: None,
        refund: None,
        refund_request: row
            .refund_requested_at
            .zip(row.refund_request_reason)
            .map(|(at, reason)| RefundRequestResponse { reason, at }),
    })
}
