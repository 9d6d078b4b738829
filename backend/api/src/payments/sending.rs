//! From an approved grant to a `sending` transaction: continue the grant, create the outgoing
//! payment from the quote, record it. The finish callback runs this right after its claim; the
//! verification worker runs it again for approvals a crash left halfway.
//!
//! Each step is recorded before the next one, so a resumed attempt knows where it stands:
//! - no outgoing-payment token stored: the grant was not continued, or the process died before
//!   the token was stored; then no outgoing payment can exist (it needs that token), so the
//!   grant is continued again, and if the wallet refuses (continuation is one-shot) the payment
//!   ends as failed with nothing sent;
//! - a token stored: the payment may exist already. The buyer's outgoing payments are listed
//!   and matched on our `metadata.transactionId` (or the quote) before creating one, so money
//!   moves at most once.
//!
//! An attempt that gives up says whether something may have been sent ([`NotSending`]); then
//! the transaction is verified at the seller's wallet like any other instead of failing.

use std::time::SystemTime;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, UpdateMany};
use serde_json::json;
use shifting_open_payments::client::{OpenPaymentsClient, OpenPaymentsError};
use shifting_open_payments::types::{
    AccessToken, Continuation, CreateOutgoingPayment, GrantOutcome, OutgoingPayment, WalletAddress,
};
use shifting_shared::RoomStatus;
use shifting_shared::TransactionStatus::{Approved, Failed, Sending};
use uuid::Uuid;

use super::budgets::TokenProblem;
use super::error::PaymentError;
use super::{Failure, Store, clear_lease, fail, release_resources, transition};
use crate::entities::{rooms, transactions};
use crate::live::Live;
use crate::secrets::Sealer;

/// How many pages of the buyer's outgoing payments a resumed attempt looks through.
const MAX_PAGES: usize = 20;

/// Why an attempt did not get the transaction to `sending`, and whether the buyer's wallet may
/// hold an outgoing payment for it all the same (a create that timed out or failed on the
/// server's side, a list that could not be read, a payment created but not recorded): then only
/// the seller's wallet can tell.
#[derive(Debug)]
pub(crate) struct NotSending {
    pub(crate) error: PaymentError,
    pub(crate) maybe_sent: bool,
}

impl NotSending {
    fn nothing_sent(error: impl Into<PaymentError>) -> Self {
        Self {
            error: error.into(),
            maybe_sent: false,
        }
    }

    fn maybe_sent(error: impl Into<PaymentError>) -> Self {
        Self {
            error: error.into(),
            maybe_sent: true,
        }
    }

    fn sent_if(maybe_sent: bool) -> impl FnOnce(PaymentError) -> Self {
        move |error| Self { error, maybe_sent }
    }
}

type StepResult<T> = Result<T, NotSending>;

/// Continues the grant (unless its token is stored already), finds or creates the outgoing
/// payment, and moves the transaction to `sending`. Returns whether this call made the move.
///
/// The room is checked once the continuation's `wait` has passed (a seller may close it while
/// the buyer approves) and again right before the payment is created.
///
/// # Errors
/// Why the payment did not reach `sending`; [`record_not_sending`] records it.
pub(crate) async fn send(
    db: &DatabaseConnection,
    live: &Live,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    row: &transactions::Model,
) -> StepResult<bool> {
    let quote = row
        .quote_url
        .as_deref()
        .ok_or_else(|| NotSending::nothing_sent(PaymentError::Missing("quote")))?;
    // A payment can only exist if an earlier attempt stored the token it needs (under a
    // budget: marked that it was about to create one).
    let may_exist = row.outgoing_token.is_some();
    let token = match row.budget_id {
        Some(budget) => budget_token(db, client, sealer, budget, None, may_exist).await?,
        None => {
            let stored = super::outgoing_token(sealer, row)
                .map_err(|err| NotSending::sent_if(may_exist)(PaymentError::store(err)))?;
            match (stored, &row.outgoing_token_manage) {
                (Some(value), Some(manage)) => AccessToken {
                    value,
                    manage: manage.clone(),
                    expires_in: None,
                    access: Vec::new(),
                },
                _ => continue_grant(db, client, sealer, row).await?,
            }
        }
    };
    let buyer = client
        .get_wallet_address(&row.buyer_wallet_address)
        .await
        .map_err(PaymentError::provider(
            "The buyer's wallet address could not be resolved",
        ))
        .map_err(NotSending::sent_if(may_exist))?;
    let existing = if may_exist {
        find_ours(client, &buyer, &token, row.id, quote).await?
    } else {
        None
    };
    let payment = match existing {
        Some(payment) => {
            tracing::info!(transaction = %row.id, payment = %payment.id, "found the outgoing payment of an interrupted attempt");
            payment
        }
        None => {
            ensure_room_open(db, row).await?;
            match row.budget_id {
                Some(budget) => {
                    if !mark_budget_attempt(db, sealer, row, &token).await? {
                        // Another attempt holds the purchase now (or it moved on): it sends.
                        tracing::info!(transaction = %row.id, "another attempt holds this one-click purchase");
                        return Ok(false);
                    }
                    match create(client, &buyer, &token, row, quote).await {
                        // Expired or revoked meanwhile: rotated (once) and tried again. The
                        // refusal created nothing, and nothing existed before it.
                        Err(err) if err.is_inactive_token() => {
                            let token =
                                budget_token(db, client, sealer, budget, Some(&token), false)
                                    .await?;
                            create(client, &buyer, &token, row, quote)
                                .await
                                .map_err(|err| refused(row, client, err))?
                        }
                        other => other.map_err(|err| refused(row, client, err))?,
                    }
                }
                None => create(client, &buyer, &token, row, quote)
                    .await
                    .map_err(|err| refused(row, client, err))?,
            }
        }
    };
    let url = payment.id;
    let now = client.clock().now();
    transition(
        Store::new(db, live),
        now,
        row.id,
        Approved,
        Sending,
        Some("The buyer's wallet is sending the payment.".into()),
        move |u| {
            to_verification(u, now)
                .col_expr(transactions::Column::OutgoingPaymentUrl, Expr::value(url))
        },
    )
    .await
    .map_err(|e| NotSending::maybe_sent(PaymentError::store(e)))
}

/// Records an attempt [`send`] gave up on. When something may have been sent, the transaction
/// goes to `sending` all the same and the seller's wallet decides (completed only if the money
/// arrived, failed at the verification timeout otherwise); when nothing was sent, it fails and
/// its grant and incoming payment are released. Returns whether it is now `sending`.
///
/// # Errors
/// Database errors; the approval's lease then runs out and the worker resumes it.
pub(crate) async fn record_not_sending(
    db: &DatabaseConnection,
    live: &Live,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    row: &transactions::Model,
    not_sending: NotSending,
) -> crate::error::Result<bool> {
    let NotSending { error, maybe_sent } = not_sending;
    let detail = error.to_string();
    if maybe_sent {
        tracing::warn!(transaction = %row.id, %detail, "the payment may have been sent; the seller's wallet decides");
        let now = client.clock().now();
        return transition(
            Store::new(db, live),
            now,
            row.id,
            Approved,
            Sending,
            Some(format!(
                "Checking with the seller's wallet, as the payment may have been sent ({detail})."
            )),
            move |u| to_verification(u, now),
        )
        .await;
    }
    let now = client.clock().now();
    if fail(
        Store::new(db, live),
        now,
        row.id,
        Approved,
        Failed,
        error.failure(),
        &detail,
    )
    .await?
    {
        release_resources(client, sealer, row).await;
    }
    Ok(false)
}

/// The columns of a move to `sending`: due for verification now, no lease.
fn to_verification(
    update: UpdateMany<transactions::Entity>,
    now: chrono::DateTime<Utc>,
) -> UpdateMany<transactions::Entity> {
    clear_lease(update)
        .col_expr(transactions::Column::NextCheckAt, Expr::value(now))
        .col_expr(transactions::Column::Attempts, Expr::value(0))
}

/// Whether the transaction's room still takes payments, read from the database (never the
/// cached public view).
async fn ensure_room_open(db: &DatabaseConnection, row: &transactions::Model) -> StepResult<()> {
    let (room, seller) = rooms::Entity::find_by_id(row.room_id)
        .find_also_related(crate::entities::users::Entity)
        .one(db)
        .await
        .map_err(|e| NotSending::nothing_sent(PaymentError::store(e)))?
        .and_then(|(room, seller)| Some((room, seller?)))
        .ok_or_else(|| {
            NotSending::nothing_sent(PaymentError::Stopped {
                failure: Failure::RoomClosed,
                detail: "The room no longer exists.",
            })
        })?;
    let stopped =
        |failure, detail| NotSending::nothing_sent(PaymentError::Stopped { failure, detail });
    if crate::services::rooms::withdrawn(&room, &seller).is_some() {
        return Err(stopped(
            Failure::RoomClosed,
            "The platform withdrew the room before the payment was sent.",
        ));
    }
    match room.room_status() {
        Ok(RoomStatus::Open) => Ok(()),
        Ok(RoomStatus::Paused) => Err(stopped(
            Failure::RoomPaused,
            "The seller paused the room before the payment was sent.",
        )),
        Ok(RoomStatus::Closed) => Err(stopped(
            Failure::RoomClosed,
            "The seller closed the room before the payment was sent.",
        )),
        Err(err) => Err(NotSending::nothing_sent(PaymentError::store(err))),
    }
}

/// Waits out the grant's `wait`, checks that the room still takes payments, continues the
/// grant with the stored `interact_ref`, and stores the token before anything is paid with it.
/// Nothing can have been sent when this fails: no payment exists without the token.
async fn continue_grant(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    row: &transactions::Model,
) -> StepResult<AccessToken> {
    let token = super::continue_token(sealer, row)
        .map_err(|err| NotSending::nothing_sent(PaymentError::store(err)))?;
    let (Some(uri), Some(token), Some(interact_ref)) =
        (&row.continue_uri, &token, &row.interact_ref)
    else {
        return Err(NotSending::nothing_sent(PaymentError::Missing(
            "continuation of its approval",
        )));
    };
    let continuation = Continuation::new(
        uri.clone(),
        token.clone(),
        row.continue_wait_secs.and_then(|w| u64::try_from(w).ok()),
    );
    let answered = row
        .grant_created_at
        .map_or_else(|| client.clock().system_time(), SystemTime::from);
    // The seller may close the room while the buyer approves or during the wait: checked
    // after it, so a closed room is never paid for.
    client.wait_until_continuable(&continuation, answered).await;
    ensure_room_open(db, row).await?;
    let grant = client
        .continue_grant(&continuation, interact_ref, answered)
        .await
        .map_err(PaymentError::provider(
            "The buyer's wallet did not confirm the approval",
        ))
        .map_err(NotSending::nothing_sent)?;
    let GrantOutcome::Granted(access) = grant.outcome() else {
        return Err(NotSending::nothing_sent(PaymentError::Unusable(
            "The buyer's wallet confirmed the approval without an access token.",
        )));
    };
    // Stored before the payment is created: a payment must never exist without the token
    // that can find it again.
    let stored =
        super::store_outgoing_token(db, sealer, client.clock().now(), row.id, Approved, access)
            .await
            .map_err(|e| NotSending::nothing_sent(PaymentError::store(e)))?;
    if !stored {
        return Err(NotSending::nothing_sent(PaymentError::Stopped {
            failure: Failure::ProviderError,
            detail: "The payment changed meanwhile; nothing was sent.",
        }));
    }
    Ok(access.clone())
}

/// Creates the outgoing payment from the quote, tagged with the transaction id.
async fn create(
    client: &OpenPaymentsClient,
    buyer: &WalletAddress,
    token: &AccessToken,
    row: &transactions::Model,
    quote: &str,
) -> Result<OutgoingPayment, OpenPaymentsError> {
    let body = CreateOutgoingPayment {
        wallet_address: buyer.id.clone(),
        quote_id: quote.to_owned(),
        metadata: Some(json!({ "transactionId": row.id.to_string() })),
    };
    client
        .create_outgoing_payment(buyer, &token.value, &body)
        .await
}

/// What a refused or failed creation means for the payment.
fn refused(
    row: &transactions::Model,
    client: &OpenPaymentsClient,
    err: OpenPaymentsError,
) -> NotSending {
    match err.status() {
        Some(400)
            if row
                .quote_expires_at
                .is_some_and(|at| at <= client.clock().now()) =>
        {
            NotSending::nothing_sent(PaymentError::Stopped {
                failure: Failure::Expired,
                detail: "The quote expired before the payment could be sent.",
            })
        }
        // Over what is left of the budget, outside its periods, or its grant revoked: the
        // wallet refused, so nothing was created.
        Some(403) if row.budget_id.is_some() => NotSending::nothing_sent(PaymentError::Stopped {
            failure: Failure::BudgetRefused,
            detail: "The buyer's wallet refused the payment under the one-click budget; nothing was sent.",
        }),
        _ => {
            let maybe_sent = err.may_have_acted();
            NotSending::sent_if(maybe_sent)(PaymentError::provider(
                "The buyer's wallet did not create the payment",
            )(err))
        }
    }
}

/// The token of the budget paying a purchase (rotated when expired, or when `stale` was just
/// refused as inactive).
async fn budget_token(
    db: &DatabaseConnection,
    client: &OpenPaymentsClient,
    sealer: &Sealer,
    budget: Uuid,
    stale: Option<&AccessToken>,
    may_exist: bool,
) -> StepResult<AccessToken> {
    super::budgets::token(db, client, sealer, budget, stale)
        .await
        .map_err(|problem| match problem {
            TokenProblem::Inactive => NotSending::sent_if(may_exist)(PaymentError::Stopped {
                failure: Failure::BudgetRefused,
                detail: "The one-click budget is no longer active; nothing was sent under it.",
            }),
            TokenProblem::Failed(detail) => {
                NotSending::sent_if(may_exist)(PaymentError::Token(detail))
            }
        })
}

/// Records, before the payment is created under a budget, that it may exist from now on (a
/// resumed attempt then looks for it before creating one): the token it is created with.
///
/// Only while this attempt still holds the purchase (the lease it was given: the click's, or
/// the worker's when it resumes one): a budget caps a period, not a purchase, so two attempts
/// must never both create. Returns whether this attempt may go on.
async fn mark_budget_attempt(
    db: &DatabaseConnection,
    sealer: &Sealer,
    row: &transactions::Model,
    token: &AccessToken,
) -> StepResult<bool> {
    let holder = match row.lease_owner {
        Some(owner) => transactions::Column::LeaseOwner.eq(owner),
        None => transactions::Column::LeaseOwner.is_null(),
    };
    let marked = transactions::Entity::update_many()
        .col_expr(
            transactions::Column::OutgoingToken,
            Expr::value(sealer.seal(&token.value, &super::outgoing_context(row.id))),
        )
        .filter(transactions::Column::Id.eq(row.id))
        .filter(transactions::Column::Status.eq(Approved.as_str()))
        .filter(holder)
        .exec(db)
        .await
        .map_err(|e| NotSending::nothing_sent(PaymentError::store(e)))?;
    Ok(marked.rows_affected == 1)
}

/// The buyer's outgoing payment made for this transaction, if an earlier attempt created it.
/// Failing to tell counts as maybe sent.
async fn find_ours(
    client: &OpenPaymentsClient,
    buyer: &WalletAddress,
    token: &AccessToken,
    id: Uuid,
    quote: &str,
) -> StepResult<Option<OutgoingPayment>> {
    find_outgoing(
        client,
        buyer,
        token,
        quote,
        ("transactionId", &id.to_string()),
    )
    .await
    .map_err(|lookup| {
        NotSending::maybe_sent(match lookup {
            Lookup::Unlisted(err) => {
                PaymentError::provider("The buyer's wallet did not list its payments")(err)
            }
            Lookup::TooMany => PaymentError::Unusable(
                "The buyer's wallet holds too many payments to check; nothing was sent again.",
            ),
        })
    })
}

/// Why a wallet's outgoing payments could not be looked through.
pub(crate) enum Lookup {
    /// The wallet did not list them.
    Unlisted(OpenPaymentsError),
    /// More than [`MAX_PAGES`] pages.
    TooMany,
}

/// The outgoing payment of `wallet` (listed with `token`) made from `quote` or tagged with the
/// metadata `tag` (`(key, value)`), if an earlier attempt created it.
///
/// # Errors
/// [`Lookup`]: then the payment may exist all the same.
pub(crate) async fn find_outgoing(
    client: &OpenPaymentsClient,
    wallet: &WalletAddress,
    token: &AccessToken,
    quote: &str,
    (key, value): (&str, &str),
) -> Result<Option<OutgoingPayment>, Lookup> {
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .list_outgoing_payments(wallet, &token.value, 100, cursor.as_deref())
            .await
            .map_err(Lookup::Unlisted)?;
        let ours = page.result.into_iter().find(|payment| {
            payment.quote_id.as_deref() == Some(quote)
                || payment
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(key))
                    .and_then(|v| v.as_str())
                    == Some(value)
        });
        if ours.is_some() {
            return Ok(ours);
        }
        match (page.pagination.has_next_page, page.pagination.end_cursor) {
            (true, Some(next)) => cursor = Some(next),
            _ => return Ok(None),
        }
    }
    Err(Lookup::TooMany)
}
