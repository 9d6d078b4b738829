//! Starting a payment (incoming payment, quote, interactive grant) and the finish callback
//! (hash check, claim, continuation, outgoing payment).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
};
use serde_json::json;
use shifting_open_payments::finish::verify_finish_hash;
use shifting_open_payments::types::{
    AccessAction, AccessItem, CreateIncomingPayment, GrantOutcome, InteractRequest, Limits,
};
use shifting_shared::api::StartPaymentResponse;
use shifting_shared::budget::{OneClickOffer, OneClickRefusal};
use shifting_shared::{
    FieldCode, FieldError, FieldErrors, RoomCode, RoomStatus, TransactionStatus,
};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::error::PaymentError;
use super::{
    Failure, Store, close_incoming_payment, fail, incoming_access, load, price_of, transition,
};
use crate::clock::chrono_duration;
use crate::db::begin_write;
use crate::entities::{rooms as room_rows, transactions, users};
use crate::error::{ApiError, Result};
use crate::http::extract::PurchaseCaller;
use crate::services::rooms::{self, link};
use crate::services::tokens::sha256_hex;
use crate::services::transactions::{Viewer, transaction_response};
use crate::services::wallets::{self, ResolvedWallet};
use crate::state::AppState;

use TransactionStatus::{Approved, AwaitingApproval, Expired, Failed, Rejected};

/// The answer when every unit of a room is sold or held by a payment in progress.
fn sold_out(room: &room_rows::Model) -> ApiError {
    tracing::debug!(room = %room.code, "sold out");
    ApiError::Conflict {
        message: "This room is sold out: every unit is sold or held by a payment in progress (a held unit comes back if that payment does not go through).",
        fields: FieldErrors::one("stock", FieldError::new(FieldCode::SoldOut, "is used up")),
    }
}

/// Who pays.
#[derive(Clone, Debug)]
pub enum Buyer {
    /// A signed-in user, with the wallet they chose for this payment (or their profile's).
    Account {
        /// Their id.
        id: Uuid,
        /// The wallet they chose; `None`: their profile's (or the budget's).
        wallet_address: Option<String>,
        /// Pay under this one-click budget of theirs (its wallet pays).
        budget: Option<Uuid>,
    },
    /// Someone without an account: a wallet address, and an address for the receipt.
    Guest {
        /// The wallet to pay from.
        wallet_address: String,
        /// Where the receipt may go (validated, lower-cased).
        email: Option<String>,
        /// The language their browser asked for (their receipt's).
        language: shifting_shared::Language,
    },
}

/// Starts paying for a room: resolves both wallets (in parallel, cached), creates the incoming
/// payment on the seller's wallet for the room's price, quotes it on the buyer's wallet, and
/// requests the interactive outgoing-payment grant. Each result is stored before the next step.
/// A guest gets the purchase's key (once; we keep its hash) and the receipt link carrying it.
///
/// # Errors
/// 404 for an unknown room, 403 for the seller's own room, 409 for a room that is not open or
/// is sold out,
/// 422 for an unusable buyer wallet, 502 when a wallet provider fails (the transaction is then
/// recorded as failed with the reason).
pub async fn start_payment(
    state: &AppState,
    buyer: Buyer,
    code: &RoomCode,
) -> Result<StartPaymentResponse> {
    let db = &state.db;
    let client = &state.open_payments;
    let (room, seller) = rooms::find_public(db, code).await?;
    let buyer_id = match &buyer {
        Buyer::Account { id, .. } => Some(*id),
        Buyer::Guest { .. } => None,
    };
    if Some(room.seller_id) == buyer_id {
        return Err(ApiError::Forbidden("You cannot buy from your own room."));
    }
    match room.room_status()? {
        RoomStatus::Open => {}
        RoomStatus::Paused => {
            return Err(ApiError::conflict(
                "This room is paused by its seller and cannot be paid right now.",
            ));
        }
        RoomStatus::Closed => {
            return Err(ApiError::conflict(
                "This room is closed and cannot be paid.",
            ));
        }
    }
    if room
        .stock_limit
        .is_some_and(|limit| room.stock_taken >= limit)
    {
        return Err(sold_out(&room));
    }
    let mut budget = None;
    let (buyer_input, buyer_name, guest_email, guest_language) = match buyer {
        Buyer::Account {
            id,
            wallet_address,
            budget: budget_id,
        } => {
            let account = users::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(ApiError::Unauthorized("The account no longer exists."))?;
            if let Some(budget_id) = budget_id {
                if wallet_address.is_some() {
                    return Err(ApiError::field(
                        "wallet_address",
                        FieldError::new(
                            FieldCode::Invalid,
                            "cannot be sent with a budget: the budget's wallet pays",
                        ),
                    ));
                }
                budget = Some(super::budgets::owned(db, id, budget_id).await?);
            }
            let wallet = wallet_address
                .or_else(|| budget.as_ref().map(|b| b.wallet_address.clone()))
                .or(account.wallet_address.clone())
                .ok_or_else(|| {
                    ApiError::field(
                        "wallet_address",
                        FieldError::new(
                            FieldCode::Required,
                            "is required: send one, or set it in your profile",
                        ),
                    )
                })?;
            (wallet, account.username, None, None)
        }
        Buyer::Guest {
            wallet_address,
            email,
            language,
        } => (
            wallet_address,
            "A guest".to_owned(),
            email,
            Some(language.as_str().to_owned()),
        ),
    };
    // A guest's key opens their purchase: only its hash is kept.
    let guest_key = buyer_id.is_none().then(guest_key);

    let (buyer_wallet, seller_wallet) = tokio::join!(
        wallets::resolve(client, state.address_policy, &buyer_input, "wallet_address"),
        wallets::resolve_canonical(client, &room.wallet_address),
    );
    let buyer_wallet = buyer_wallet?;
    let seller_wallet = seller_wallet.map_err(|problem| {
        ApiError::Upstream(format!("The seller's wallet address {}.", problem.message))
    })?;
    if buyer_wallet.document.id == seller_wallet.document.id {
        return Err(ApiError::field(
            "wallet_address",
            FieldError::new(
                FieldCode::OwnWallet,
                "is the seller's own wallet: pay from another one",
            ),
        ));
    }
    let price = crate::entities::amount::StoredAmount::new(
        room.price_value,
        &room.price_asset_code,
        room.price_asset_scale,
    )
    .open_payments();
    if seller_wallet.document.asset_code != price.asset_code
        || seller_wallet.document.asset_scale != price.asset_scale
    {
        return Err(ApiError::conflict(
            "The seller's wallet no longer takes the room's currency; the room cannot be paid.",
        ));
    }

    let now = state.settings.clock.now();
    let id = Uuid::new_v4();
    let client_nonce = hex_nonce();
    // The finish URI's proof that a redirect comes through the buyer's wallet: only the wallet
    // and the buyer's browser ever see it; we keep its hash.
    let finish_state = hex_nonce();
    let settings = &state.settings.payments;
    let approval_expires = now + chrono_duration(settings.approval_timeout);
    let row = transactions::ActiveModel {
        id: Set(id),
        room_id: Set(room.id),
        buyer_id: Set(buyer_id),
        seller_id: Set(seller.id),
        status: Set(AwaitingApproval.as_str().to_owned()),
        amount_value: Set(room.price_value),
        asset_code: Set(room.price_asset_code.clone()),
        asset_scale: Set(room.price_asset_scale),
        buyer_wallet_address: Set(buyer_wallet.document.id.clone()),
        seller_wallet_address: Set(seller_wallet.document.id.clone()),
        buyer_auth_server: Set(Some(buyer_wallet.document.auth_server.clone())),
        incoming_payment_url: Set(None),
        quote_url: Set(None),
        quote_expires_at: Set(None),
        debit_value: Set(None),
        debit_asset_code: Set(None),
        debit_asset_scale: Set(None),
        receive_value: Set(None),
        continue_uri: Set(None),
        continue_token: Set(None),
        continue_wait_secs: Set(None),
        grant_created_at: Set(None),
        client_nonce: Set(client_nonce.clone()),
        finish_state_hash: Set(Some(sha256_hex(&finish_state))),
        server_nonce: Set(None),
        redirect_url: Set(None),
        interact_ref: Set(None),
        outgoing_token: Set(None),
        outgoing_token_manage: Set(None),
        outgoing_payment_url: Set(None),
        received_value: Set(None),
        failure_code: Set(None),
        failure_detail: Set(None),
        approval_expires_at: Set(Some(approval_expires)),
        approved_at: Set(None),
        next_check_at: Set(None),
        attempts: Set(0),
        lease_owner: Set(None),
        lease_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
        receipt_seq: Set(None),
        guest_key_hash: Set(guest_key.as_deref().map(sha256_hex)),
        guest_email: Set(guest_email),
        guest_language: Set(guest_language),
        guest_mail_key_hash: Set(None),
        budget_id: Set(None),
        refund_requested_at: Set(None),
        refund_request_reason: Set(None),
    };
    let txn = begin_write(db).await?;
    // The payment holds one unit of the room until it ends without money; the conditional
    // update lets exactly as many payments through as there are units, however many race.
    let held = room_rows::Entity::update_many()
        .col_expr(
            room_rows::Column::StockTaken,
            Expr::col(room_rows::Column::StockTaken).add(1),
        )
        .filter(room_rows::Column::Id.eq(room.id))
        .filter(
            Condition::any()
                .add(room_rows::Column::StockLimit.is_null())
                .add(
                    Expr::col(room_rows::Column::StockTaken)
                        .lt(Expr::col(room_rows::Column::StockLimit)),
                ),
        )
        .exec(&txn)
        .await?;
    if held.rows_affected != 1 {
        return Err(sold_out(&room));
    }
    let row = row.insert(&txn).await?;
    let mut batch = state.live.batch();
    super::record_event(
        &txn,
        &mut batch,
        id,
        None,
        AwaitingApproval,
        Some(format!("{buyer_name} started paying")),
        now,
    )
    .await?;
    txn.commit().await?;
    batch.committed();

    let checkout = Checkout {
        state,
        row: &row,
        room_code: &room.code,
        room_name: &room.name,
        buyer: &buyer_wallet,
        seller: &seller_wallet,
        client_nonce: &client_nonce,
        finish_state: &finish_state,
        budget: budget.as_ref(),
    };
    match checkout.run().await {
        Ok(started) => {
            let row = load(db, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("transaction {id} vanished"))?;
            let viewer = buyer_id.map_or(Viewer::Guest, Viewer::User);
            let transaction = transaction_response(db, row, viewer, false).await?;
            let quote = transaction
                .quote
                .clone()
                .ok_or_else(|| anyhow::anyhow!("transaction {id} has no quote"))?;
            let receipt_url = guest_key
                .as_ref()
                .map(|key| link(&state.public_url, &format!("transactions/{id}#key={key}")));
            Ok(StartPaymentResponse {
                transaction,
                redirect_url: started.redirect,
                quote,
                guest_key,
                receipt_url,
                one_click: started.one_click,
                one_click_refused: started.refused,
            })
        }
        Err(step) => {
            let detail = step.to_string();
            let now = state.settings.clock.now();
            fail(
                Store::new(db, &state.live),
                now,
                id,
                AwaitingApproval,
                Failed,
                step.failure(),
                &detail,
            )
            .await?;
            if let Some(row) = load(db, id).await? {
                close_incoming_payment(client, &row).await;
            }
            Err(ApiError::Upstream(detail))
        }
    }
}

/// The steps after the transaction row exists.
struct Checkout<'a> {
    state: &'a AppState,
    row: &'a transactions::Model,
    room_code: &'a str,
    room_name: &'a str,
    buyer: &'a ResolvedWallet,
    seller: &'a ResolvedWallet,
    client_nonce: &'a str,
    finish_state: &'a str,
    /// The one-click budget asked to pay, if any.
    budget: Option<&'a crate::entities::budgets::Model>,
}

/// Where a started payment stands: awaiting the wallet's approval at `redirect`, or the
/// buyer's one click under a budget.
struct Started {
    redirect: Option<String>,
    one_click: Option<OneClickOffer>,
    refused: Option<OneClickRefusal>,
}

impl Checkout<'_> {
    /// Runs the provider steps; returns where the payment stands.
    async fn run(&self) -> Result<Started, PaymentError> {
        let client = &self.state.open_payments;
        let id = self.row.id;
        let seller = &self.seller.document;
        let buyer = &self.buyer.document;
        let quote_access = AccessItem::Quote {
            actions: vec![AccessAction::Create, AccessAction::Read],
        };
        // The quote token does not depend on the incoming payment: fetch it meanwhile.
        let (incoming, _) = tokio::join!(self.create_incoming_payment(), async {
            client
                .token_for(&buyer.auth_server, &quote_access)
                .await
                .ok()
        });
        let incoming = incoming?;
        self.store(|u| {
            u.col_expr(
                transactions::Column::IncomingPaymentUrl,
                Expr::value(incoming.id.clone()),
            )
        })
        .await?;

        let quote = client
            .with_token(&buyer.auth_server, &quote_access, |token| {
                let incoming = incoming.id.clone();
                async move { client.create_quote(buyer, &token.value, &incoming).await }
            })
            .await
            .map_err(PaymentError::provider(
                "The buyer's wallet did not quote the payment",
            ))?;
        let price = price_of(self.row);
        if quote.receive_amount != price {
            return Err(PaymentError::WrongQuote {
                got: super::for_people(&quote.receive_amount),
                want: super::for_people(&price),
            });
        }
        let approval_expires = match (quote.expires_at, self.row.approval_expires_at) {
            (Some(quote), Some(timeout)) => Some(Ord::min(quote, timeout)),
            (quote, timeout) => quote.or(timeout),
        };
        let debit = quote.debit_amount.clone();
        self.store(|u| {
            u.col_expr(
                transactions::Column::QuoteUrl,
                Expr::value(quote.id.clone()),
            )
            .col_expr(
                transactions::Column::QuoteExpiresAt,
                Expr::value(quote.expires_at),
            )
            .col_expr(
                transactions::Column::DebitValue,
                Expr::value(i64::try_from(debit.value).unwrap_or(i64::MAX)),
            )
            .col_expr(
                transactions::Column::DebitAssetCode,
                Expr::value(debit.asset_code.clone()),
            )
            .col_expr(
                transactions::Column::DebitAssetScale,
                Expr::value(i16::from(debit.asset_scale)),
            )
            .col_expr(
                transactions::Column::ReceiveValue,
                Expr::value(i64::try_from(quote.receive_amount.value).unwrap_or(i64::MAX)),
            )
            .col_expr(
                transactions::Column::ApprovalExpiresAt,
                Expr::value(approval_expires),
            )
        })
        .await?;

        let mut refused = None;
        if let Some(budget) = self.budget {
            let now = self.state.settings.clock.now();
            match super::one_click::offer(&self.state.db, budget, &debit, now).await? {
                Ok(offer) => {
                    self.store(|u| {
                        u.col_expr(transactions::Column::BudgetId, Expr::value(budget.id))
                    })
                    .await?;
                    tracing::info!(transaction = %id, budget = %budget.id, "payment awaiting the buyer's one click");
                    return Ok(Started {
                        redirect: None,
                        one_click: Some(offer),
                        refused: None,
                    });
                }
                Err(refusal) => {
                    tracing::info!(transaction = %id, budget = %budget.id, refusal = refusal.as_str(), "the budget cannot pay: asking the wallet instead");
                    refused = Some(refusal);
                }
            }
        }

        // `state`, not a name the wallet sets itself (`hash`, `interact_ref`, `result`,
        // `message`), so it survives the wallet's redirect.
        let finish_uri = link(
            &self.state.public_url,
            &format!("api/payments/{id}/finish?state={}", self.finish_state),
        );
        let access = AccessItem::OutgoingPayment {
            actions: vec![AccessAction::Create, AccessAction::Read, AccessAction::List],
            identifier: buyer.id.clone(),
            limits: Some(Limits {
                receiver: Some(incoming.id.clone()),
                debit_amount: Some(debit),
                receive_amount: None,
                interval: None,
            }),
        };
        let grant = client
            .request_grant(
                &buyer.auth_server,
                vec![access],
                Some(InteractRequest::redirect(finish_uri, self.client_nonce)),
            )
            .await
            .map_err(PaymentError::provider(
                "The buyer's wallet did not start the approval",
            ))?;
        // The wallet starts counting `wait` when it stores the grant, after fetching our keys:
        // later than we sent the request, never later than its answer arrived.
        let grant_created = self.state.settings.clock.now();
        let GrantOutcome::Pending(interact, continuation) = grant.outcome() else {
            return Err(PaymentError::Unusable(
                "The buyer's wallet answered the approval request with an unusable grant",
            ));
        };
        let redirect = interact.redirect.clone();
        self.store(|u| {
            u.col_expr(
                transactions::Column::ContinueUri,
                Expr::value(continuation.uri.clone()),
            )
            .col_expr(
                transactions::Column::ContinueToken,
                Expr::value(self.state.sealer.seal(
                    &continuation.access_token.value,
                    &super::continue_context(self.row.id),
                )),
            )
            .col_expr(
                transactions::Column::ContinueWaitSecs,
                Expr::value(
                    continuation
                        .wait
                        .map(|w| i64::try_from(w).unwrap_or(i64::MAX)),
                ),
            )
            .col_expr(
                transactions::Column::GrantCreatedAt,
                Expr::value(grant_created),
            )
            .col_expr(
                transactions::Column::ServerNonce,
                Expr::value(interact.finish.clone()),
            )
            .col_expr(
                transactions::Column::RedirectUrl,
                Expr::value(redirect.clone()),
            )
        })
        .await?;
        tracing::info!(transaction = %id, seller = %seller.id, buyer = %buyer.id, "payment awaiting the buyer's approval");
        Ok(Started {
            redirect: Some(redirect),
            one_click: None,
            refused,
        })
    }

    async fn create_incoming_payment(
        &self,
    ) -> Result<shifting_open_payments::types::IncomingPayment, PaymentError> {
        let client = &self.state.open_payments;
        let seller = &self.seller.document;
        let lifetime = chrono_duration(self.state.settings.payments.incoming_payment_lifetime);
        let body = CreateIncomingPayment {
            wallet_address: seller.id.clone(),
            incoming_amount: Some(price_of(self.row)),
            expires_at: Some(self.row.created_at + lifetime),
            // Strings only: providers re-serialise metadata before checking the digest.
            metadata: Some(json!({
                "transactionId": self.row.id.to_string(),
                "roomCode": self.room_code,
                "description": format!("Shifting room {}: {}", self.room_code, self.room_name),
            })),
        };
        client
            .with_token(&seller.auth_server, &incoming_access(&seller.id), |token| {
                let body = body.clone();
                async move {
                    client
                        .create_incoming_payment(seller, &token.value, &body)
                        .await
                }
            })
            .await
            .map_err(PaymentError::provider(
                "The seller's wallet did not create the incoming payment",
            ))
    }

    /// Stores a step's results while the transaction still awaits approval.
    async fn store(
        &self,
        changes: impl FnOnce(
            sea_orm::UpdateMany<transactions::Entity>,
        ) -> sea_orm::UpdateMany<transactions::Entity>,
    ) -> Result<(), PaymentError> {
        let update = transactions::Entity::update_many()
            .col_expr(
                transactions::Column::UpdatedAt,
                Expr::value(self.state.settings.clock.now()),
            )
            .filter(transactions::Column::Id.eq(self.row.id))
            .filter(transactions::Column::Status.eq(AwaitingApproval.as_str()));
        changes(update)
            .exec(&self.state.db)
            .await
            .map_err(ApiError::from)?;
        Ok(())
    }
}

/// The query of the finish redirect.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct FinishQuery {
    /// Our per-transaction proof that the redirect came through the buyer's wallet.
    pub state: Option<String>,
    /// The finish hash (approved).
    pub hash: Option<String>,
    /// The interaction reference (approved).
    pub interact_ref: Option<String>,
    /// Why there is no approval (`grant_rejected` …).
    pub result: Option<String>,
    /// The wallet's explanation of `result` (logged, never stored or shown).
    pub message: Option<String>,
}

/// What a finish redirect did, for the outcome page (`/payments/{id}?finish=…`), which shows
/// its own text for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishOutcome {
    /// The approval was verified and recorded; the payment is being sent.
    Approved,
    /// The buyer declined at their wallet.
    Declined,
    /// The wallet ended the approval without an answer, or the quote had expired.
    Ended,
    /// The redirect proved nothing, or came again: nothing changed.
    Unchanged,
    /// We could not record the answer (our fault); the payment page shows where it stands.
    Error,
}

impl FinishOutcome {
    /// The query value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Ended => "ended",
            Self::Unchanged => "unchanged",
            Self::Error => "error",
        }
    }
}

/// Handles the buyer's return from their wallet. Nothing happens unless the redirect carries
/// the transaction's `state` (which only the buyer's wallet and browser see). An approval
/// counts only when its hash proves it answers our grant request, and only the first one: the
/// claim is a conditional update, so replays and concurrent hits do nothing. The approval is
/// recorded and the continuation and outgoing payment run on their own task, so the browser
/// is answered at once.
///
/// # Errors
/// Database errors only; the outcome is recorded on the transaction.
pub async fn finish_payment(
    state: &AppState,
    id: Uuid,
    query: &FinishQuery,
) -> Result<FinishOutcome> {
    let db = &state.db;
    let now = state.settings.clock.now();
    let Some(row) = load(db, id).await? else {
        return Ok(FinishOutcome::Unchanged);
    };
    let proven = match (&query.state, &row.finish_state_hash) {
        (Some(presented), Some(stored)) => {
            bool::from(sha256_hex(presented).as_bytes().ct_eq(stored.as_bytes()))
        }
        _ => false,
    };
    if !proven {
        tracing::warn!(transaction = %id, "finish redirect without the transaction's state: ignored");
        return Ok(FinishOutcome::Unchanged);
    }
    if row.transaction_status()? != AwaitingApproval {
        // A replay, or a late answer after expiry: nothing to do.
        return Ok(FinishOutcome::Unchanged);
    }
    if let Some(result) = &query.result {
        // Only the buyer's wallet (or the buyer) can have sent this: the state proves it. The
        // wallet's own words are attacker-shaped text as far as we know: logged, never shown.
        tracing::info!(transaction = %id, %result, message = query.message.as_deref().unwrap_or(""), "the wallet ended the approval");
        let (to, failure, detail, outcome) = match result.as_str() {
            "grant_rejected" => (
                Rejected,
                Failure::Declined,
                "The buyer declined the payment at their wallet.",
                FinishOutcome::Declined,
            ),
            "invalid_interaction" => (
                Failed,
                Failure::ConsentFailed,
                "The wallet's approval page had expired or was already used.",
                FinishOutcome::Ended,
            ),
            _ => (
                Failed,
                Failure::ConsentFailed,
                "The wallet ended the approval without an answer.",
                FinishOutcome::Ended,
            ),
        };
        if fail(
            Store::new(db, &state.live),
            now,
            id,
            AwaitingApproval,
            to,
            failure,
            detail,
        )
        .await?
        {
            release_in_background(state, &row);
            return Ok(outcome);
        }
        return Ok(FinishOutcome::Unchanged);
    }
    let (Some(hash), Some(interact_ref)) = (&query.hash, &query.interact_ref) else {
        return Ok(FinishOutcome::Unchanged);
    };
    let (Some(server_nonce), Some(auth_server)) = (&row.server_nonce, &row.buyer_auth_server)
    else {
        return Ok(FinishOutcome::Unchanged);
    };
    let Some(form) = verify_finish_hash(
        hash,
        &row.client_nonce,
        server_nonce,
        interact_ref,
        auth_server,
    ) else {
        tracing::warn!(transaction = %id, "finish redirect with a hash that does not match: ignored");
        return Ok(FinishOutcome::Unchanged);
    };
    tracing::debug!(transaction = %id, ?form, "finish hash verified");
    if row.quote_expires_at.is_some_and(|at| at <= now) {
        if fail(
            Store::new(db, &state.live),
            now,
            id,
            AwaitingApproval,
            Expired,
            Failure::Expired,
            "The quote expired before the approval arrived.",
        )
        .await?
        {
            release_in_background(state, &row);
            return Ok(FinishOutcome::Ended);
        }
        return Ok(FinishOutcome::Unchanged);
    }
    let wait = row
        .continue_wait_secs
        .and_then(|w| u64::try_from(w).ok())
        .unwrap_or(0);
    let lease_until = now + super::approval_lease(wait, state.settings.payments.claim_grace);
    let interact = interact_ref.clone();
    let claimed = transition(
        Store::new(db, &state.live),
        now,
        id,
        AwaitingApproval,
        Approved,
        Some("The buyer approved at their wallet.".into()),
        move |u| {
            u.col_expr(transactions::Column::InteractRef, Expr::value(interact))
                .col_expr(transactions::Column::ApprovedAt, Expr::value(now))
                // Ours until then; after it the worker takes over (a crash here).
                .col_expr(
                    transactions::Column::LeaseOwner,
                    Expr::value(Option::<Uuid>::None),
                )
                .col_expr(
                    transactions::Column::LeaseUntil,
                    Expr::value(Some(lease_until)),
                )
        },
    )
    .await?;
    if !claimed {
        return Ok(FinishOutcome::Unchanged);
    }
    // The continuation honours the grant's `wait`: the browser is not held for it. The task
    // owns the work from here; a crash before it ends is resumed by the worker.
    let task_state = state.clone();
    let mut row = row;
    row.interact_ref = Some(interact_ref.clone());
    tokio::spawn(async move { send_approved(&task_state, &row).await });
    Ok(FinishOutcome::Approved)
}

/// Continues the approved grant and creates the outgoing payment; wakes the worker once the
/// transaction is `sending` (also when it may have been sent and must be verified), or ends
/// it and releases its resources when nothing was sent.
async fn send_approved(state: &AppState, row: &transactions::Model) {
    let client = &state.open_payments;
    let sealer = &state.sealer;
    let sending = match super::sending::send(&state.db, &state.live, client, sealer, row).await {
        Ok(moved) => Ok(moved),
        Err(not_sending) => {
            super::sending::record_not_sending(
                &state.db,
                &state.live,
                client,
                sealer,
                row,
                not_sending,
            )
            .await
        }
    };
    match sending {
        Ok(true) => state.worker_wake.notify_one(),
        Ok(false) => {}
        // The worker resumes the approval now, not when the approval's lease runs out; should
        // it fail too, its own lease spaces the next try.
        Err(err) => {
            tracing::error!(transaction = %row.id, error = format!("{err:#}"), "cannot record a payment attempt; the worker resumes it");
            hand_over(&state.db, row.id).await;
            state.worker_wake.notify_one();
        }
    }
}

/// Lifts the lease the finish callback took on approval `id` (while it is still `approved`
/// and no worker holds it), so the worker may resume it at once. On failure the lease runs
/// out instead.
async fn hand_over(db: &sea_orm::DatabaseConnection, id: Uuid) {
    let lifted = transactions::Entity::update_many()
        .col_expr(
            transactions::Column::LeaseUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(transactions::Column::Id.eq(id))
        .filter(transactions::Column::Status.eq(Approved.as_str()))
        .filter(transactions::Column::LeaseOwner.is_null())
        .exec(db)
        .await;
    if let Err(err) = lifted {
        tracing::warn!(transaction = %id, error = %err, "cannot hand an approval to the worker; its lease runs out instead");
    }
}

/// After a payment ended without money: releases its resources off the buyer's redirect, so
/// the page does not wait for the providers.
fn release_in_background(state: &AppState, row: &transactions::Model) {
    let client = state.open_payments.clone();
    let sealer = std::sync::Arc::clone(&state.sealer);
    let row = row.clone();
    tokio::spawn(async move { super::release_resources(&client, &sealer, &row).await });
}

/// A guest purchase's key: 256 random bits, URL-safe.
fn guest_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// 128 random bits as hex, for the client nonce and the finish state.
fn hex_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The buyer gives up a payment they have not approved. Only a payment still awaiting approval
/// can be cancelled: the conditional status change races fairly with an approval arriving at
/// the same moment, and exactly one of them wins. Afterwards the incoming payment is closed and
/// the grant cancelled at the wallet (in the background), so the consent page no longer offers
/// it.
///
/// # Errors
/// 404 for anyone but its buyer and seller, 403 for the seller, 409 while its start is still
/// running and once it was approved or has ended.
pub async fn cancel_payment(
    state: &AppState,
    caller: &PurchaseCaller,
    id: Uuid,
) -> Result<shifting_shared::api::TransactionResponse> {
    let db = &state.db;
    let (row, viewer) = crate::services::transactions::find_for(db, caller, id).await?;
    if !viewer.is_buyer(&row) {
        return Err(ApiError::Forbidden("Only the buyer can cancel a payment."));
    }
    if row.transaction_status()? == AwaitingApproval
        && row.redirect_url.is_none()
        && row.budget_id.is_none()
    {
        // Its start is still asking the wallets: cancelling now would leave what it creates
        // next (the quote, the grant) behind.
        return Err(ApiError::conflict(
            "This payment is still being started; cancel it once its quote is shown.",
        ));
    }
    let now = state.settings.clock.now();
    let detail = "The buyer cancelled the payment before approving it.";
    let cancelled = transition(
        Store::new(db, &state.live),
        now,
        id,
        AwaitingApproval,
        Rejected,
        Some(detail.to_owned()),
        |update| {
            super::clear_lease(update)
                .col_expr(
                    transactions::Column::FailureCode,
                    Expr::value(Failure::Cancelled.code()),
                )
                .col_expr(transactions::Column::FailureDetail, Expr::value(detail))
                // Only a payment whose start finished: its grant (or budget) and incoming
                // payment are known.
                .filter(
                    Condition::any()
                        .add(transactions::Column::RedirectUrl.is_not_null())
                        .add(transactions::Column::BudgetId.is_not_null()),
                )
        },
    )
    .await?;
    if !cancelled {
        return Err(ApiError::conflict(
            "This payment can no longer be cancelled: it was approved or has already ended.",
        ));
    }
    // The row as read before the change still holds the grant's continuation. The wallets are
    // told off the request, as after a finish: the cancel itself is already final.
    release_in_background(state, &row);
    let row = load(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("transaction {id} vanished"))?;
    transaction_response(db, row, viewer, true).await
}
