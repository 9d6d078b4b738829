//! `/payments/{id}`: where the buyer's wallet sends them back. Shows the payment's status live
//! (polled every second until it is final), then the receipt or what went wrong, always in our
//! own words for each failure code (never text a wallet or a URL brought).

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shifting_shared::TransactionStatus;
use shifting_shared::api::{FailureResponse, TransactionResponse};

use crate::api;
use crate::components::guard::RequireLogin;
use crate::components::problem::Problem;
use crate::components::status::StatusBadge;
use crate::pages::{Page, room_path, transaction_path, when};
use crate::session::Session;

/// The payment outcome page, for signed-in users.
#[component]
pub fn PaymentPage() -> impl IntoView {
    view! { <RequireLogin><Payment/></RequireLogin> }
}

#[component]
fn Payment() -> impl IntoView {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // What the finish redirect could not do, said once above the live status.
    let finish_note = move || match query.read().get("finish").as_deref() {
        Some("error") => Some(
            "We could not record your wallet's answer just now. The status below is where your payment stands; if it stays waiting, start again from the room.",
        ),
        _ => None,
    };
    let payment = LocalResource::new(move || {
        let id = id();
        async move { api::transactions::transaction(session, &id).await }
    });
    // Until the status is final, look again a second after each answer; leaving the page (or a
    // newer answer) cancels the pending look.
    Effect::new(move |_| {
        let pending = payment
            .get()
            .is_some_and(|answer| answer.is_ok_and(|t| !t.status.is_terminal()));
        if pending
            && let Ok(timer) =
                set_timeout_with_handle(move || payment.refetch(), Duration::from_secs(1))
        {
            on_cleanup(move || timer.clear());
        }
    });
    view! {
        <section class="narrow page">
            <h1>"Your payment"</h1>
            {move || finish_note().map(|note| view! { <p class="notice" role="status" data-testid="finish-note">{note}</p> })}
            <div aria-live="polite" aria-atomic="true" data-testid="outcome">
                <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading your payment…"</p> }>
                    {move || payment.get().map(|answer| match answer {
                        Ok(t) => outcome(t).into_any(),
                        Err(err) => view! { <Problem error=err retry=Callback::new(move |()| payment.refetch())/> }.into_any(),
                    })}
                </Transition>
            </div>
        </section>
    }
}

fn outcome(t: TransactionResponse) -> impl IntoView {
    let again = room_path(&t.room_code);
    let details = transaction_path(&t.id.to_string());
    let reason = t.failure.as_ref().map(failure_text).unwrap_or_default();
    let status = t.status;
    let body = match status {
        TransactionStatus::AwaitingApproval => view! {
            <p class="status-line"><span class="spinner" aria-hidden="true"></span>
                "Waiting for your approval at your wallet."</p>
            <p class="muted">"If you closed your wallet's page, start again from the room."</p>
        }.into_any(),
        TransactionStatus::Approved => view! {
            <p class="status-line"><span class="spinner" aria-hidden="true"></span>
                "Approved. Sending the payment from your wallet…"</p>
        }.into_any(),
        TransactionStatus::Sending => view! {
            <p class="status-line"><span class="spinner" aria-hidden="true"></span>
                "Approved. Your wallet is sending the payment; we are confirming that the seller received it…"</p>
        }.into_any(),
        TransactionStatus::Completed => receipt(&t).into_any(),
        TransactionStatus::Rejected => view! {
            <p class="result bad" data-testid="result">"You declined the payment at your wallet. Nothing was paid."</p>
        }.into_any(),
        TransactionStatus::Expired => view! {
            <p class="result bad" data-testid="result">"The quote expired before the payment was approved. Nothing was paid."</p>
        }.into_any(),
        TransactionStatus::Failed => view! {
            <p class="result bad" data-testid="result">{reason}</p>
        }.into_any(),
    };
    let retry = matches!(
        status,
        TransactionStatus::Rejected | TransactionStatus::Expired | TransactionStatus::Failed
    );
    view! {
        <div class="card">
            <p class="muted">{t.room_name.clone()} " · " <StatusBadge status=status/></p>
            {body}
            <div class="actions">
                {retry.then(|| view! { <A href=again.clone() attr:class="button" attr:data-testid="try-again">"Try again"</A> })}
                <A href=details attr:class="button secondary">"Details"</A>
                <A href=Page::Dashboard.path() attr:class="button secondary">"Dashboard"</A>
            </div>
        </div>
    }
}

/// Our sentence for a failure code; the server's detail only for a code this app does not know.
pub(crate) fn failure_text(failure: &FailureResponse) -> String {
    match failure.code.as_str() {
        "declined" => "You declined the payment at your wallet. Nothing was paid.",
        "consent_failed" => "Your wallet ended the approval without an answer (it may have expired or been used already). Nothing was paid.",
        "expired" => "The quote expired before the payment was approved. Nothing was paid.",
        "provider_error" => "A wallet provider could not complete a step of the payment. Nothing was paid.",
        "payment_failed" => "Your wallet could not send the payment (for example, the balance was too low). Nothing was paid.",
        "not_received" => "The seller's wallet did not receive the payment in time. If money left your wallet, your wallet provider can trace it with the payment details.",
        "room_closed" => "The seller closed the room before your payment was sent. Nothing was paid.",
        "room_paused" => "The seller paused the room before your payment was sent. Nothing was paid; try again when it reopens.",
        _ => return failure.detail.clone(),
    }
    .to_owned()
}

fn receipt(t: &TransactionResponse) -> impl IntoView {
    let paid = t.quote.as_ref().map(|q| q.debit_amount.display());
    let received = t.received_amount.as_ref().unwrap_or(&t.amount).display();
    view! {
        <p class="result ok" data-testid="result">"Payment completed. The seller received the full price."</p>
        <dl class="receipt">
            <dt>"Room"</dt><dd>{t.room_name.clone()} " (" <span class="code">{t.room_code.clone()}</span> ")"</dd>
            <dt>"Seller"</dt><dd>{t.seller.username.clone()}</dd>
            {paid.map(|paid| view! { <dt>"You paid"</dt><dd class="amount">{paid}</dd> })}
            <dt>"Seller received"</dt><dd class="amount">{received}</dd>
            <dt>"Completed"</dt><dd>{when(&t.updated_at)}</dd>
            <dt>"Receipt number"</dt><dd class="code">{t.id.to_string()}</dd>
        </dl>
    }
}
