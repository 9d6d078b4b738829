//! `/transactions/{id}`: one payment with its status timeline and the Open Payments evidence.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shifting_shared::api::TransactionResponse;
use shifting_shared::conversation::LiveEvent;

use crate::api;
use crate::api::client::ApiError;
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::components::status::StatusBadge;
use crate::format;
use crate::guest;
use crate::i18n::t_string;
use crate::i18n::{Locale, td_string, use_i18n};
use crate::live::Live;
use crate::pages::refund_panel::RefundPanel;
use crate::pages::review_panel::ReviewPanel;
use crate::pages::{Page, room_path};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The transaction page (the receipt), for its buyer and seller, and for a guest buyer who
/// holds the purchase's key (from the receipt link, `#key=…`, or kept by this browser).
#[component]
pub fn TransactionPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.read_untracked().get("id").unwrap_or_default();
    guest::take_key_from_address(&id);
    if guest::key_for(&id).is_some() {
        view! { <Transaction/> }.into_any()
    } else {
        view! { <RequireLogin><Transaction/></RequireLogin> }.into_any()
    }
}

#[component]
fn Transaction() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let transaction = LocalResource::new(move || {
        let id = id();
        async move { api::transactions::transaction(guest::caller(session, &id), &id).await }
    });
    // A status change pushed over the live socket shows at once.
    expect_context::<Live>().listen(move |event| {
        if let LiveEvent::Transaction { id: changed, .. } = event
            && changed.to_string() == id()
        {
            transaction.refetch();
        }
    });
    // Made once, outside what is redrawn: a panel's action may finish after a pushed status
    // redrew the page, and must still be able to ask for the sale again.
    let changed = Callback::new(move |()| transaction.refetch());
    view! {
        <section class="page">
            <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }>
                {move || transaction.get().map(|answer| match answer {
                    Ok(t) => {
                        let extra = view! {
                            <Downloads t=t.clone()/>
                            <GuestNote t=t.clone() changed=changed/>
                            <ReviewPanel t=t.clone() changed=changed/>
                            <RefundPanel t=t.clone() changed=changed/>
                        }
                        .into_any();
                        details(t, i18n.get_locale(), extra).into_any()
                    }
                    Err(err) => view! {
                        <Heading text=tr!(transaction.title)/>
                        <Problem error=err retry=Callback::new(move |()| transaction.refetch())/>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The receipt; `extra` (downloads, what a guest can do) comes right after what was bought.
fn details(t: TransactionResponse, locale: Locale, extra: AnyView) -> impl IntoView {
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
        (
            td_string!(locale, transaction.refund_incoming),
            t.refund.as_ref().and_then(|r| r.incoming_payment.clone()),
        ),
        (
            td_string!(locale, transaction.refund_outgoing),
            t.refund.as_ref().and_then(|r| r.outgoing_payment.clone()),
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
            <dt>{td_string!(locale, transaction.buyer)}</dt><dd>{if t.buyer.guest { td_string!(locale, transaction.guest_buyer).to_owned() } else { t.buyer.username.clone() }}</dd>
            <dt>{td_string!(locale, transaction.seller)}</dt><dd>{t.seller.username.clone()}</dd>
            {t.failure.as_ref().map(|f| view! { <dt>{td_string!(locale, transaction.reason)}</dt><dd>{crate::pages::payment::failure_text(locale, f)}</dd> })}
        </dl>
        {t.delivery.as_deref().map(|text| view! {
            <section class="delivery" data-testid="delivery">
                <h2 class="section-title">{td_string!(locale, payment.delivery_title)}</h2>
                <p class="description">{crate::pages::room::linked(text)}</p>
            </section>
        })}
        {extra}
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

/// The PDF receipt and the delivered file, fetched with the caller's credentials on each click
/// (neither has a public address).
#[component]
fn Downloads(t: TransactionResponse) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let id = t.id.to_string();
    let error = RwSignal::new(None::<ApiError>);
    let pdf_name = format!(
        "{}.pdf",
        t.receipt_number.clone().unwrap_or_else(|| id.clone())
    );
    let pdf = {
        let id = id.clone();
        Action::new_local(move |(): &()| {
            let (id, name) = (id.clone(), pdf_name.clone());
            let language = match i18n.get_locale_untracked() {
                Locale::es => "es",
                Locale::en => "en",
            };
            async move {
                api::transactions::receipt_pdf(guest::caller(session, &id), &id, language, &name)
                    .await
            }
        })
    };
    let file_name = t
        .delivery_file
        .as_ref()
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let file = Action::new_local(move |(): &()| {
        let (id, name) = (id.clone(), file_name.clone());
        async move { api::transactions::delivery_file(guest::caller(session, &id), &id, &name).await }
    });
    Effect::new(move |_| {
        for answer in [pdf.value().get(), file.value().get()] {
            if let Some(Err(err)) = answer {
                error.set(Some(err));
            }
        }
    });
    let has_receipt = t.receipt_number.is_some();
    view! {
        {t.delivery_file.clone().map(|delivered| view! {
            <section class="delivery no-print" data-testid="delivery-file">
                <h2 class="section-title">{tr!(transaction.file_title)}</h2>
                <p>{delivered.name.clone()} " · " <span class="muted">{move || format::bytes(i18n.get_locale(), delivered.size)}</span></p>
                <button class="button" type="button" data-testid="download-file" disabled=move || file.pending().get()
                    on:click=move |_| { error.set(None); file.dispatch(()); }>
                    {move || if file.pending().get() { t_string!(i18n, transaction.downloading) } else { t_string!(i18n, transaction.download_file) }}
                </button>
            </section>
        })}
        {has_receipt.then(|| view! {
            <p class="no-print">
                <button class="button secondary" type="button" data-testid="download-pdf" disabled=move || pdf.pending().get()
                    on:click=move |_| { error.set(None); pdf.dispatch(()); }>
                    {move || if pdf.pending().get() { t_string!(i18n, transaction.downloading) } else { t_string!(i18n, transaction.download_pdf) }}
                </button>
            </p>
        })}
        <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
    }
}

/// What a guest buyer can do with the purchase: keep the link, or move the purchase into an
/// account (at once when signed in; at the next sign-up or log-in otherwise).
#[component]
fn GuestNote(t: TransactionResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let id = t.id.to_string();
    let key = guest::key_for(&id);
    let error = RwSignal::new(None::<ApiError>);
    let claim = Action::new_local(move |(id, key): &(String, String)| {
        guest::claim(session, id.clone(), key.clone())
    });
    Effect::new(move |_| match claim.value().get() {
        Some(Ok(())) => changed.run(()),
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    let here = crate::pages::transaction_path(&id);
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    (t.buyer.guest && key.is_some()).then(move || {
        let key = key.clone().unwrap_or_default();
        view! {
            <section class="panel guest-note no-print" data-testid="guest-note">
                <h2 class="section-title">{tr!(transaction.guest_title)}</h2>
                <p>{tr!(transaction.guest_text)}</p>
                {move || if session.user().is_some() {
                    let (id, key) = (id.clone(), key.clone());
                    view! {
                        <button class="button" type="button" data-testid="claim" disabled=move || claim.pending().get()
                            on:click=move |_| { error.set(None); claim.dispatch((id.clone(), key.clone())); }>
                            {tr!(transaction.claim)}
                        </button>
                    }.into_any()
                } else {
                    view! {
                        <div class="actions">
                            <A href=format!("{}?next={next}", Page::Signup.path()) attr:class="button">{tr!(transaction.guest_sign_up)}</A>
                            <A href=format!("{}?next={next}", Page::Login.path()) attr:class="button secondary">{tr!(transaction.guest_log_in)}</A>
                        </div>
                    }.into_any()
                }}
                <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            </section>
        }
    })
}
