//! `/transactions/{id}`: one payment with its status timeline and the Open Payments evidence.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shifting_shared::api::TransactionResponse;

use crate::api;
use crate::components::guard::RequireLogin;
use crate::components::problem::Problem;
use crate::components::status::{StatusBadge, status_label};
use crate::pages::{room_path, when};
use crate::session::Session;

/// The transaction page, for its buyer and seller.
#[component]
pub fn TransactionPage() -> impl IntoView {
    view! { <RequireLogin><Transaction/></RequireLogin> }
}

#[component]
fn Transaction() -> impl IntoView {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let transaction = LocalResource::new(move || {
        let id = id();
        async move { api::transactions::transaction(session, &id).await }
    });
    view! {
        <section class="page">
            <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading…"</p> }>
                {move || transaction.get().map(|answer| match answer {
                    Ok(t) => details(t).into_any(),
                    Err(err) => view! {
                        <h1>"Transaction"</h1>
                        <Problem error=err retry=Callback::new(move |()| transaction.refetch())/>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn details(t: TransactionResponse) -> impl IntoView {
    let history = t.history.clone().unwrap_or_default();
    let evidence = [
        (
            "Incoming payment (seller's wallet)",
            t.evidence.incoming_payment.clone(),
        ),
        ("Quote (buyer's wallet)", t.evidence.quote.clone()),
        (
            "Outgoing payment (buyer's wallet)",
            t.evidence.outgoing_payment.clone(),
        ),
    ];
    view! {
        <div class="page-head">
            <h1>{t.room_name.clone()}</h1>
            <StatusBadge status=t.status/>
        </div>
        <dl class="receipt">
            <dt>"Room"</dt><dd><A href=room_path(&t.room_code)>{t.room_code.clone()}</A></dd>
            <dt>"Price"</dt><dd class="amount">{t.amount.display()}</dd>
            {t.quote.as_ref().map(|q| view! { <dt>"Buyer pays"</dt><dd class="amount">{q.debit_amount.display()}</dd> })}
            {t.received_amount.as_ref().map(|r| view! { <dt>"Seller received"</dt><dd class="amount">{r.display()}</dd> })}
            <dt>"Buyer"</dt><dd>{t.buyer.username.clone()}</dd>
            <dt>"Seller"</dt><dd>{t.seller.username.clone()}</dd>
            {t.failure.as_ref().map(|f| view! { <dt>"Reason"</dt><dd>{crate::pages::payment::failure_text(f)}</dd> })}
        </dl>
        <h2 class="section-title">"Timeline"</h2>
        <ol class="timeline" data-testid="timeline">
            {history.into_iter().map(|event| view! {
                <li>
                    <strong>{status_label(event.status)}</strong>
                    <span class="muted">" · " {when(&event.at)}</span>
                    {event.detail.map(|d| view! { <p>{d}</p> })}
                </li>
            }).collect_view()}
        </ol>
        <h2 class="section-title">"Evidence"</h2>
        <p class="muted">"The Open Payments resources behind this payment, at the wallet providers."</p>
        <ul class="evidence">
            <li>"Buyer's wallet: " <span class="code">{t.evidence.buyer_wallet_address.clone()}</span></li>
            <li>"Seller's wallet: " <span class="code">{t.evidence.seller_wallet_address.clone()}</span></li>
            {evidence.into_iter().filter_map(|(label, url)| url.map(|url| view! {
                <li>{label} ": " <span class="code">{url}</span></li>
            })).collect_view()}
        </ul>
    }
}
