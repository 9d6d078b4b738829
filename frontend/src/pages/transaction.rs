//! `/transactions/{id}`: one payment with its status timeline and the Open Payments evidence.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shifting_shared::api::TransactionResponse;

use crate::api;
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::components::status::StatusBadge;
use crate::format;
use crate::i18n::{Locale, td_string, use_i18n};
use crate::pages::room_path;
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The transaction page, for its buyer and seller.
#[component]
pub fn TransactionPage() -> impl IntoView {
    view! { <RequireLogin><Transaction/></RequireLogin> }
}

#[component]
fn Transaction() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let transaction = LocalResource::new(move || {
        let id = id();
        async move { api::transactions::transaction(session, &id).await }
    });
    view! {
        <section class="page">
            <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }>
                {move || transaction.get().map(|answer| match answer {
                    Ok(t) => details(t, i18n.get_locale()).into_any(),
                    Err(err) => view! {
                        <Heading text=tr!(transaction.title)/>
                        <Problem error=err retry=Callback::new(move |()| transaction.refetch())/>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn details(t: TransactionResponse, locale: Locale) -> impl IntoView {
    let history = t.history.clone().unwrap_or_default();
    let evidence = [
        (
            td_string!(locale, transaction.incoming),
            t.evidence.incoming_payment.clone(),
        ),
        (
            td_string!(locale, transaction.quote),
            t.evidence.quote.clone(),
        ),
        (
            td_string!(locale, transaction.outgoing),
            t.evidence.outgoing_payment.clone(),
        ),
    ];
    let amount = |a| format::amount(locale, a);
    let rate = t
        .quote
        .as_ref()
        .and_then(|q| format::rate(&t.amount, &q.debit_amount));
    let print = t.receipt_number.is_some().then(|| view! {
        <button class="button secondary no-print" type="button" data-testid="print"
            on:click=|_| { let _ = window().print(); }>{td_string!(locale, transaction.print)}</button>
    });
    view! {
        <div class="page-head">
            <Heading text=t.room_name.clone()/>
            <StatusBadge status=t.status/>
            {print}
        </div>
        <dl class="receipt">
            {t.receipt_number.clone().map(|number| view! {
                <dt>{td_string!(locale, transaction.receipt_number)}</dt><dd class="code" data-testid="receipt-number">{number}</dd>
            })}
            {t.completed_at.map(|at| view! {
                <dt>{td_string!(locale, transaction.completed)}</dt><dd>{format::date_time(locale, &at)}</dd>
            })}
            <dt>{td_string!(locale, transaction.room)}</dt><dd><A href=room_path(&t.room_code)>{t.room_code.clone()}</A></dd>
            <dt>{td_string!(locale, transaction.price)}</dt><dd class="amount">{amount(&t.amount)}</dd>
            {t.quote.as_ref().map(|q| view! { <dt>{td_string!(locale, transaction.buyer_pays)}</dt><dd class="amount">{amount(&q.debit_amount)}</dd> })}
            {t.received_amount.as_ref().map(|r| view! { <dt>{td_string!(locale, transaction.seller_received)}</dt><dd class="amount">{amount(r)}</dd> })}
            {rate.map(|rate| view! { <dt>{td_string!(locale, transaction.rate)}</dt><dd data-testid="rate">{rate}</dd> })}
            <dt>{td_string!(locale, transaction.buyer)}</dt><dd>{t.buyer.username.clone()}</dd>
            <dt>{td_string!(locale, transaction.seller)}</dt><dd>{t.seller.username.clone()}</dd>
            {t.failure.as_ref().map(|f| view! { <dt>{td_string!(locale, transaction.reason)}</dt><dd>{crate::pages::payment::failure_text(locale, f)}</dd> })}
        </dl>
        {t.delivery.as_deref().map(|text| view! {
            <section class="delivery" data-testid="delivery">
                <h2 class="section-title">{td_string!(locale, payment.delivery_title)}</h2>
                <p class="description">{crate::pages::room::linked(text)}</p>
            </section>
        })}
        <h2 class="section-title">{td_string!(locale, transaction.timeline)}</h2>
        <ol class="timeline" data-testid="timeline">
            {history.into_iter().map(|event| view! {
                <li>
                    <strong>{text::status(locale, event.status)}</strong>
                    <span class="muted">" · " <time datetime=event.at.to_rfc3339()>{format::date_time(locale, &event.at)}</time></span>
                </li>
            }).collect_view()}
        </ol>
        <h2 class="section-title">{td_string!(locale, transaction.evidence)}</h2>
        <p class="muted">{td_string!(locale, transaction.evidence_lead)}</p>
        <ul class="evidence">
            <li>{td_string!(locale, transaction.buyer_wallet)} ": " <span class="code">{t.evidence.buyer_wallet_address.clone()}</span></li>
            <li>{td_string!(locale, transaction.seller_wallet)} ": " <span class="code">{t.evidence.seller_wallet_address.clone()}</span></li>
            {evidence.into_iter().filter_map(|(label, url)| url.map(|url| {
                let href = url.clone();
                view! { <li>{label} ": " <a class="code" href=href rel="noopener noreferrer" target="_blank">{url}</a></li> }
            })).collect_view()}
        </ul>
    }
}
