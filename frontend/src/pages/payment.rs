//! `/payments/{id}`: where the buyer's wallet sends them back. Shows the payment's status live
//! (pushed over the live socket; polled every second while the socket is not connected), then
//! the receipt or what went wrong, always in our
//! own words for each failure code (never text a wallet or a URL brought).

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shifting_shared::TransactionStatus;
use shifting_shared::api::{FailureResponse, TransactionResponse};
use shifting_shared::conversation::LiveEvent;

use crate::api;
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::phone::PhoneApproval;
use crate::components::problem::Problem;
use crate::components::status::StatusBadge;
use crate::format;
use crate::guest;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::live::Live;
use crate::pages::{Page, room_path, transaction_path};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The payment outcome page, for signed-in users and for guests holding the purchase's key.
#[component]
pub fn PaymentPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.read_untracked().get("id").unwrap_or_default();
    if guest::key_for(&id).is_some() {
        view! { <Payment/> }.into_any()
    } else {
        view! { <RequireLogin><Payment/></RequireLogin> }.into_any()
    }
}

#[component]
fn Payment() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // What the finish redirect could not do, said once above the live status.
    let finish_note = move || match query.read().get("finish").as_deref() {
        Some("error") => Some(t_string!(i18n, payment.finish_error)),
        _ => None,
    };
    let payment = LocalResource::new(move || {
        let id = id();
        async move { api::transactions::transaction(guest::caller(session, &id), &id).await }
    });
    // The outcome re-renders, and its live region speaks, only when the answer changed: a poll
    // that brings the same status again says nothing.
    let answer = Memo::new(move |_| payment.get());
    let cancel = Action::new_local(move |(): &()| {
        let id = id();
        async move { api::transactions::cancel(guest::caller(session, &id), &id).await }
    });
    let cancel_error = RwSignal::new(None);
    Effect::new(move |_| match cancel.value().get() {
        Some(Ok(_)) => payment.refetch(),
        Some(Err(err)) => {
            cancel_error.set(Some(err));
            payment.refetch();
        }
        None => {}
    });
    let actions = Actions {
        cancel: Callback::new(move |()| {
            cancel_error.set(None);
            cancel.dispatch(());
        }),
        cancelling: cancel.pending(),
    };
    // Status changes arrive over the live socket. Only while it is not connected (a guest, a
    // network that blocks WebSockets), look again a second after each answer until the status
    // is final; leaving the page (or a newer answer) cancels the pending look.
    let live = expect_context::<Live>();
    live.listen(move |event| {
        if let LiveEvent::Transaction { id: changed, .. } = event
            && changed.to_string() == id()
        {
            payment.refetch();
        }
    });
    // Connecting after a step was missed: fetch once.
    Effect::new(move |was: Option<bool>| {
        let now = live.connected.get();
        if now && was == Some(false) {
            payment.refetch();
        }
        now
    });
    Effect::new(move |_| {
        let pending = payment
            .get()
            .is_some_and(|answer| answer.is_ok_and(|t| !t.status.is_terminal()));
        if pending
            && !live.connected.get()
            && let Ok(timer) =
                set_timeout_with_handle(move || payment.refetch(), Duration::from_secs(1))
        {
            on_cleanup(move || timer.clear());
        }
    });
    view! {
        <section class="narrow page">
            <Heading text=tr!(payment.title)/>
            {move || finish_note().map(|note| view! { <p class="notice" role="status" data-testid="finish-note">{note}</p> })}
            <div aria-live="polite" aria-atomic="true" data-testid="outcome"
                data-live=move || if live.connected.get() { "pushed" } else { "polling" }>
                {move || match answer.get() {
                    None => view! { <p class="muted" aria-busy="true">{tr!(payment.loading)}</p> }.into_any(),
                    Some(Ok(t)) => outcome(t, i18n.get_locale(), actions).into_any(),
                    Some(Err(err)) => view! {
                        <Problem error=err retry=Callback::new(move |()| payment.refetch())/>
                        <p><A href=Page::Dashboard.path()>{tr!(payment.dashboard)}</A></p>
                    }.into_any(),
                }}
            </div>
            <p class="form-error" role="alert">{move || cancel_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
        </section>
    }
}

/// What the buyer can do about a payment that awaits their approval.
#[derive(Clone, Copy)]
struct Actions {
    cancel: Callback<()>,
    cancelling: Memo<bool>,
}

fn outcome(t: TransactionResponse, locale: Locale, actions: Actions) -> impl IntoView {
    let again = room_path(&t.room_code);
    let details = transaction_path(&t.id.to_string());
    let reason = t
        .failure
        .as_ref()
        .map(|f| failure_text(locale, f))
        .unwrap_or_default();
    let status = t.status;
    let room_name = t.room_name.clone();
    let body = match status {
        TransactionStatus::AwaitingApproval => {
            let phone = t
                .consent_url
                .clone()
                .map(|url| view! { <PhoneApproval url=url/> });
            let back = t.consent_url.clone().map(|url| view! {
                <a class="button" href=url rel="external" data-testid="return-to-wallet">{td_string!(locale, payment.return_to_wallet)}</a>
            });
            view! {
                <p class="status-line"><span class="spinner" aria-hidden="true"></span>
                    {td_string!(locale, payment.awaiting)}</p>
                <p class="muted">{td_string!(locale, payment.awaiting_hint)} " "
                    <A href=again.clone()>{room_name}</A></p>
                <div class="actions">
                    {back}
                    <button class="button secondary" type="button" data-testid="cancel-payment"
                        disabled=move || actions.cancelling.get() on:click=move |_| actions.cancel.run(())>
                        {td_string!(locale, payment.cancel)}
                    </button>
                </div>
                {phone}
            }
            .into_any()
        }
        TransactionStatus::Approved => view! {
            <p class="status-line"><span class="spinner" aria-hidden="true"></span>
                {td_string!(locale, payment.approved)}</p>
        }
        .into_any(),
        TransactionStatus::Sending => view! {
            <p class="status-line"><span class="spinner" aria-hidden="true"></span>
                {td_string!(locale, payment.sending)}</p>
        }
        .into_any(),
        TransactionStatus::Completed | TransactionStatus::RefundPending => {
            receipt(&t, locale).into_any()
        }
        TransactionStatus::Refunded => view! {
            <p class="result" data-testid="result">{td_string!(locale, status.refunded)}</p>
        }
        .into_any(),
        TransactionStatus::Rejected => {
            let why = t.failure.as_ref().map_or_else(
                || td_string!(locale, failures.declined).to_owned(),
                |_| reason.clone(),
            );
            view! { <p class="result bad" data-testid="result">{why}</p> }.into_any()
        }
        TransactionStatus::Expired => view! {
            <p class="result bad" data-testid="result">{td_string!(locale, failures.expired)}</p>
        }
        .into_any(),
        TransactionStatus::Failed => view! {
            <p class="result bad" data-testid="result">{reason}</p>
        }
        .into_any(),
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
                {retry.then(|| view! { <A href=again.clone() attr:class="button" attr:data-testid="try-again">{td_string!(locale, payment.try_again)}</A> })}
                <A href=details attr:class="button secondary">{td_string!(locale, payment.details)}</A>
                {(!t.buyer.guest).then(|| view! {
                    <A href=Page::Dashboard.path() attr:class="button secondary">{td_string!(locale, payment.dashboard)}</A>
                })}
            </div>
        </div>
    }
}

/// Our sentence for a failure code; the server's detail only for a code this app does not know.
pub(crate) fn failure_text(locale: Locale, failure: &FailureResponse) -> String {
    text::failure(locale, &failure.code).map_or_else(|| failure.detail.clone(), str::to_owned)
}

fn receipt(t: &TransactionResponse, locale: Locale) -> impl IntoView {
    let paid = t
        .quote
        .as_ref()
        .map(|q| format::amount(locale, &q.debit_amount));
    let received = format::amount(locale, t.received_amount.as_ref().unwrap_or(&t.amount));
    view! {
        <p class="result ok" data-testid="result">{td_string!(locale, payment.completed)}</p>
        <dl class="receipt">
            <dt>{td_string!(locale, payment.room)}</dt><dd>{t.room_name.clone()} " (" <span class="code">{t.room_code.clone()}</span> ")"</dd>
            <dt>{td_string!(locale, payment.seller)}</dt><dd>{t.seller.username.clone()}</dd>
            {paid.map(|paid| view! { <dt>{td_string!(locale, payment.you_paid)}</dt><dd class="amount" data-testid="paid">{paid}</dd> })}
            <dt>{td_string!(locale, payment.seller_received)}</dt><dd class="amount">{received}</dd>
            <dt>{td_string!(locale, payment.completed_at)}</dt><dd>{format::date_time(locale, &t.completed_at.unwrap_or(t.updated_at))}</dd>
            <dt>{td_string!(locale, payment.receipt_number)}</dt><dd class="code" data-testid="receipt-number">{t.receipt_number.clone().unwrap_or_else(|| t.id.to_string())}</dd>
        </dl>
        {t.delivery.as_deref().map(|text| view! {
            <section class="delivery" data-testid="delivery">
                <h2>{td_string!(locale, payment.delivery_title)}</h2>
                <p class="description">{crate::pages::room::linked(text)}</p>
            </section>
        })}
    }
}
