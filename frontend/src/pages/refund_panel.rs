//! On a sale's page: the seller refunds it in full (approving the payment at their own wallet)
//! and follows the refund; the buyer asks for one and sees it arrive.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shifting_shared::api::TransactionResponse;
use shifting_shared::refund::RefundStatus;
use shifting_shared::{FieldErrors, TransactionStatus};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::format;
use crate::i18n::{t_string, use_i18n};
use crate::pages::show_refusal;
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The refund part of a transaction page: for the seller and the (signed-in) buyer of a
/// completed, refunding or refunded sale.
#[component]
pub fn RefundPanel(t: TransactionResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let query = use_query_map();
    let shown = matches!(
        t.status,
        TransactionStatus::Completed
            | TransactionStatus::RefundPending
            | TransactionStatus::Refunded
    );
    // Back from the seller's wallet (until the refund is done).
    let refunded = t.status == TransactionStatus::Refunded;
    let outcome = move || {
        if refunded {
            return None;
        }
        let words = match query.read().get("refund")?.as_str() {
            "approved" => t_string!(i18n, refunds.outcome_approved),
            "declined" => t_string!(i18n, refunds.outcome_declined),
            "ended" => t_string!(i18n, refunds.outcome_ended),
            _ => return None,
        };
        Some(view! { <p class="notice" role="status" data-testid="refund-outcome">{words}</p> })
    };
    move || {
        if !shown || t.buyer.guest {
            return None;
        }
        let me = session.user().map(|u| u.username);
        let t = t.clone();
        let part = if me.as_deref() == Some(t.seller.username.as_str()) {
            view! { <SellerRefund t=t changed=changed/> }.into_any()
        } else if me.as_deref() == Some(t.buyer.username.as_str()) {
            view! { <BuyerRefund t=t changed=changed/> }.into_any()
        } else {
            return None;
        };
        Some(view! {
            <section class="panel refund-panel no-print" data-testid="refund-panel" aria-labelledby="refund-title">
                <h2 class="section-title" id="refund-title">{tr!(refunds.title)}</h2>
                {outcome}
                {part}
            </section>
        })
    }
}

/// The seller: the buyer's request if any, then refund, approve the refund at the wallet,
/// follow it, or see it done.
#[component]
fn SellerRefund(t: TransactionResponse, changed: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let reason = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let id = t.id.to_string();
    // Once started, the sale is shown again with what the buyer will receive and the way to
    // the wallet. Asked for from the action itself: the page is redrawn (pushed status) while
    // the refund starts.
    let start = Action::new_local(move |reason: &String| {
        let (id, reason) = (id.clone(), reason.clone());
        async move {
            let started = api::transactions::refund(session, &id, &reason).await;
            if started.is_ok() {
                changed.run(());
            }
            started
        }
    });
    Effect::new(move |_| {
        if let Some(Err(err)) = start.value().get() {
            show_refusal(err, errors, form_error);
        }
    });
    let received = t
        .received_amount
        .clone()
        .unwrap_or_else(|| t.amount.clone());
    let request = t.refund_request.clone().map(|asked| {
        view! {
            <p class="notice" data-testid="refund-request">{move || {
                let date = format::date_time(i18n.get_locale(), &asked.at);
                t_string!(i18n, refunds.asked, date, reason = asked.reason.clone()).to_string()
            }}</p>
        }
    });
    let refund = t.refund.clone();
    let state = match (t.status, refund) {
        (TransactionStatus::Refunded, refund) => {
            let got = refund.and_then(|r| r.buyer_receives);
            view! {
                <p class="result" data-testid="refund-status">{move || match &got {
                    Some(amount) => {
                        let amount = format::amount(i18n.get_locale(), amount);
                        t_string!(i18n, refunds.refunded_seller, amount).to_string()
                    }
                    None => t_string!(i18n, refunds.refunded_plain).to_owned(),
                }}</p>
            }
            .into_any()
        }
        (TransactionStatus::RefundPending, Some(refund)) => {
            let amount = refund.amount.clone();
            let gets = refund.buyer_receives.clone();
            match (refund.status, refund.consent_url) {
                (RefundStatus::AwaitingApproval, Some(url)) => view! {
                    <p data-testid="refund-status">{move || {
                        let amount = format::amount(i18n.get_locale(), &amount);
                        t_string!(i18n, refunds.awaiting, amount).to_string()
                    }}</p>
                    {gets.map(|gets| view! { <p class="muted">{move || {
                        let amount = format::amount(i18n.get_locale(), &gets);
                        t_string!(i18n, refunds.buyer_receives, amount).to_string()
                    }}</p> })}
                    <a class="button" href=url rel="external" data-testid="refund-consent">{tr!(refunds.approve)}</a>
                }
                .into_any(),
                // Ended with only part of it received: the seller settles the rest.
                (status, _) if status.is_terminal() => {
                    let detail = refund.failure.map(|f| f.detail).unwrap_or_default();
                    view! { <p class="notice" role="status" data-testid="refund-status">{detail}</p> }
                        .into_any()
                }
                (RefundStatus::AwaitingApproval, None) => view! {
                    <p class="status-line" data-testid="refund-status"><span class="spinner" aria-hidden="true"></span>{tr!(refunds.refunding)}</p>
                }
                .into_any(),
                _ => view! {
                    <p class="status-line" data-testid="refund-status"><span class="spinner" aria-hidden="true"></span>{tr!(refunds.sending)}</p>
                }
                .into_any(),
            }
        }
        (TransactionStatus::Completed, last) => {
            let ended = last.and_then(|r| r.failure).map(|failure| {
                view! { <p class="notice" data-testid="refund-ended">{move || {
                    t_string!(i18n, refunds.ended, detail = failure.detail.clone()).to_string()
                }}</p> }
            });
            let on_submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                form_error.set(None);
                errors.set(FieldErrors::new());
                start.dispatch(reason.get_untracked());
            };
            let intro = received.clone();
            let button = received.clone();
            view! {
                {ended}
                <p>{move || {
                    let amount = format::amount(i18n.get_locale(), &intro);
                    t_string!(i18n, refunds.seller_intro, amount).to_string()
                }}</p>
                <form class="stack" on:submit=on_submit novalidate>
                    <Field name="reason" multiline=true label=tr!(refunds.reason_label) value=reason
                        error=error_for(i18n, errors, "reason")/>
                    <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                    <button class="button danger" type="submit" data-testid="refund" disabled=move || start.pending().get()>
                        {move || if start.pending().get() {
                            t_string!(i18n, refunds.refunding).to_owned()
                        } else {
                            let amount = format::amount(i18n.get_locale(), &button);
                            t_string!(i18n, refunds.refund, amount).to_string()
                        }}
                    </button>
                </form>
            }
            .into_any()
        }
        _ => ().into_any(),
    };
    view! { {request} {state} }
}

/// The buyer: ask for a refund, see that they asked, see it coming and done.
#[component]
fn BuyerRefund(t: TransactionResponse, changed: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let reason = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let id = t.id.to_string();
    let ask = Action::new_local(move |reason: &String| {
        let (id, reason) = (id.clone(), reason.clone());
        async move { api::transactions::request_refund(session, &id, &reason).await }
    });
    Effect::new(move |_| match ask.value().get() {
        Some(Ok(_)) => changed.run(()),
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
    let gets = t.refund.as_ref().and_then(|r| r.buyer_receives.clone());
    let seller_reason = t.refund.as_ref().map(|r| r.reason.clone());
    let why = seller_reason.map(|reason| {
        view! { <p class="muted">{move || t_string!(i18n, refunds.seller_reason, reason = reason.clone()).to_string()}</p> }
    });
    let state = match t.status {
        TransactionStatus::Refunded => view! {
            <p class="result" data-testid="refund-status">{move || match &gets {
                Some(amount) => {
                    let amount = format::amount(i18n.get_locale(), amount);
                    t_string!(i18n, refunds.refunded_buyer, amount).to_string()
                }
                None => t_string!(i18n, refunds.refunded_plain).to_owned(),
            }}</p>
            {why}
        }
        .into_any(),
        TransactionStatus::RefundPending => view! {
            <p class="status-line" data-testid="refund-status">{move || match &gets {
                Some(amount) => {
                    let amount = format::amount(i18n.get_locale(), amount);
                    t_string!(i18n, refunds.pending_buyer, amount).to_string()
                }
                None => t_string!(i18n, refunds.pending_buyer_plain).to_owned(),
            }}</p>
            {why}
        }
        .into_any(),
        _ => match t.refund_request.clone() {
            Some(asked) => view! {
                <p data-testid="refund-request">{move || {
                    let date = format::date_time(i18n.get_locale(), &asked.at);
                    t_string!(i18n, refunds.you_asked, date).to_string()
                }}</p>
            }
            .into_any(),
            None => {
                let on_submit = move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    form_error.set(None);
                    errors.set(FieldErrors::new());
                    ask.dispatch(reason.get_untracked());
                };
                view! {
                    <details data-testid="ask-refund">
                        <summary>{tr!(refunds.ask)}</summary>
                        <p class="muted">{tr!(refunds.buyer_intro)}</p>
                        <form class="stack" on:submit=on_submit novalidate>
                            <Field name="reason" multiline=true label=tr!(refunds.ask_reason_label) value=reason
                                error=error_for(i18n, errors, "reason")/>
                            <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                            <button class="button secondary" type="submit" data-testid="ask-refund-send" disabled=move || ask.pending().get()>
                                {move || if ask.pending().get() { t_string!(i18n, refunds.asking) } else { t_string!(i18n, refunds.ask) }}
                            </button>
                        </form>
                    </details>
                }
                .into_any()
            }
        },
    };
    view! { {state} }
}
