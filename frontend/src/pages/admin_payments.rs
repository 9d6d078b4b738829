//! The admin panel's payments: the searchable list, the stuck ones, and
//! `/admin/transactions/{id}`: a payment's whole record with its status history, and **Check
//! with the wallet provider**, which reads both sides live and sets them beside our record.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shifting_shared::TransactionStatus;
use shifting_shared::admin::{
    AdminTransactionDetailResponse, AdminTransactionResponse, ProviderCheckResponse,
    ProviderReading, Role,
};
use shifting_shared::api::AmountDto;

use crate::api;
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::components::status::StatusBadge;
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::pages::admin::{ADMIN_PATH, Pages, Search};
use crate::pages::room_path;
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// `/admin/transactions/{id}`.
pub fn admin_transaction_path(id: &str) -> String {
    format!("/admin/transactions/{id}")
}

/// Every payment, searchable by id, room code or username, and by status.
#[component]
pub fn PaymentsTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let q = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let pages = Pages::new(
        move || vec![("q", Some(q.get())), ("status", Some(status.get()))],
        move |query| async move {
            api::admin::transactions(session, &query)
                .await
                .map(|page| (page.items, page.next_cursor))
        },
    );
    view! {
        <Search q=q label=tr!(admin.search_payments) id="payment-search"/>
        <div class="filters">
            <label for="payment-status">{tr!(admin.status_label)}</label>
            <select id="payment-status" on:change=move |ev| status.set(event_target_value(&ev))>
                <option value="">{tr!(admin.all)}</option>
                {TransactionStatus::ALL.into_iter().map(|each| view! {
                    <option value=each.as_str()>{move || text::status(i18n.get_locale(), each)}</option>
                }).collect_view()}
            </select>
        </div>
        <ul class="list" data-testid="payments">
            {move || pages.items.get().into_iter().map(|t| view! { <PaymentRow t=t/> }).collect_view()}
        </ul>
        {pages.foot(|l| td_string!(l, admin.nothing_found))}
    }
}

#[component]
fn PaymentRow(
    t: AdminTransactionResponse,
    #[prop(optional)] note: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let amount = t.amount.clone();
    let created = t.created_at;
    let id = t.id.to_string();
    let buyer = t
        .buyer
        .clone()
        .unwrap_or_else(|| td_string!(i18n.get_locale_untracked(), admin.guest).to_owned());
    view! {
        <li class="row" data-testid="payment-row">
            <div class="row-main">
                <A href=admin_transaction_path(&id)>{t.room_name.clone()} " · " <span class="code">{t.room_code.clone()}</span></A>
                <span class="muted small">{buyer} " → " {t.seller.clone()} " · " {move || format::date_time(i18n.get_locale(), &created)}</span>
                {note.map(|n| view! { <span class="small">{n}</span> })}
            </div>
            <div class="row-side">
                <span class="amount">{move || format::amount(i18n.get_locale(), &amount)}</span>
                <StatusBadge status=t.status/>
            </div>
        </li>
    }
}

/// Payments that look stuck, oldest first.
#[component]
pub fn StuckTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let stuck = LocalResource::new(move || async move { api::admin::stuck(session).await });
    view! {
        <p class="muted">{tr!(admin.stuck_intro)}</p>
        <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }>
            {move || stuck.get().map(|answer| match answer {
                Ok(found) if found.items.is_empty() => view! { <p class="empty">{tr!(admin.stuck_empty)}</p> }.into_any(),
                Ok(found) => view! {
                    <ul class="list" data-testid="stuck">
                        {found.items.into_iter().map(|item| {
                            let since = item.since;
                            let note = if item.why == "sending_too_long" {
                                t_string!(i18n, admin.stuck_sending, since = format::date_time(i18n.get_locale_untracked(), &since)).to_string()
                            } else {
                                t_string!(i18n, admin.stuck_approved, since = format::date_time(i18n.get_locale_untracked(), &since)).to_string()
                            };
                            view! { <PaymentRow t=item.transaction note=note/> }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(err) => view! { <Problem error=err retry=Callback::new(move |()| stuck.refetch())/> }.into_any(),
            })}
        </Transition>
    }
}

/// `/admin/transactions/{id}`.
#[component]
pub fn AdminTransactionPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let record = LocalResource::new(move || {
        let id = id();
        async move { api::admin::transaction(session, &id).await }
    });
    view! {
        <RequireLogin>
            {move || (!session.user().is_some_and(|u| u.role == Role::Admin)).then(|| view! {
                <p class="notice">{tr!(admin.only_text)}</p>
            })}
            <section class="page admin" data-testid="admin-transaction">
                <p><A href=format!("{ADMIN_PATH}?tab=payments")>{tr!(admin.back_to_payments)}</A></p>
                <Transition fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }>
                    {move || record.get().map(|answer| match answer {
                        Ok(found) => view! { <Record record=found/> }.into_any(),
                        Err(err) => view! { <Problem error=err retry=Callback::new(move |()| record.refetch())/> }.into_any(),
                    })}
                </Transition>
            </section>
        </RequireLogin>
    }
}

/// A label in the reader's language.
type Words = fn(Locale) -> &'static str;

fn money(locale: Locale, amount: Option<&AmountDto>) -> String {
    amount.map_or_else(|| "—".to_owned(), |a| format::amount(locale, a))
}

#[component]
fn Record(record: AdminTransactionDetailResponse) -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let summary = record.summary.clone();
    let id = summary.id.to_string();
    let check = Action::new_local(move |(): &()| {
        let id = id.clone();
        async move { api::admin::provider_check(session, &id).await }
    });
    let amount = summary.amount.clone();
    let buyer = summary
        .buyer
        .clone()
        .unwrap_or_else(|| td_string!(i18n.get_locale_untracked(), admin.guest).to_owned());
    let rows: Vec<(Words, String)> = vec![
        (|l| td_string!(l, admin.field_id), summary.id.to_string()),
        (
            |l| td_string!(l, admin.field_buyer),
            format!("{buyer} · {}", record.buyer_wallet_address),
        ),
        (
            |l| td_string!(l, admin.field_seller),
            format!("{} · {}", summary.seller, record.seller_wallet_address),
        ),
        (
            |l| td_string!(l, admin.field_incoming),
            record.incoming_payment_url.clone().unwrap_or_default(),
        ),
        (
            |l| td_string!(l, admin.field_quote),
            record.quote_url.clone().unwrap_or_default(),
        ),
        (
            |l| td_string!(l, admin.field_outgoing),
            record.outgoing_payment_url.clone().unwrap_or_default(),
        ),
        (
            |l| td_string!(l, admin.field_failure),
            record
                .failure_detail
                .clone()
                .or(summary.failure_code.clone())
                .unwrap_or_default(),
        ),
        (
            |l| td_string!(l, admin.field_attempts),
            record.attempts.to_string(),
        ),
    ];
    let debit = record.debit.clone();
    let received = record.received.clone();
    let history = record.history.clone();
    view! {
        <Heading text=t_string!(i18n, admin.payment_title, code = summary.room_code.clone()).to_string()/>
        <p>
            <A href=room_path(&summary.room_code)>{summary.room_name.clone()}</A> " · "
            <span class="amount">{move || format::amount(i18n.get_locale(), &amount)}</span> " "
            <StatusBadge status=summary.status/>
        </p>
        <dl class="card facts">
            {rows.into_iter().filter(|(_, v)| !v.is_empty()).map(|(label, value)| view! {
                <dt>{move || label(i18n.get_locale())}</dt><dd class="code">{value}</dd>
            }).collect_view()}
            <dt>{tr!(admin.field_debit)}</dt><dd>{move || money(i18n.get_locale(), debit.as_ref())}</dd>
            <dt>{tr!(admin.field_received)}</dt><dd>{move || money(i18n.get_locale(), received.as_ref())}</dd>
        </dl>
        <h2 class="section-title">{tr!(admin.history_title)}</h2>
        <ol class="timeline">
            {history.into_iter().map(|change| {
                let at = change.at;
                view! {
                    <li>
                        <StatusBadge status=change.to/> " "
                        <span class="muted small">{move || format::date_time(i18n.get_locale(), &at)}</span>
                        {change.detail.clone().map(|d| view! { <div class="small">{d}</div> })}
                    </li>
                }
            }).collect_view()}
        </ol>
        <h2 class="section-title">{tr!(admin.check_title)}</h2>
        <p class="muted">{tr!(admin.check_intro)}</p>
        <button class="button" data-testid="provider-check" on:click=move |_| { check.dispatch(()); } disabled=move || check.pending().get()>
            {move || if check.pending().get() { t_string!(i18n, admin.checking) } else { t_string!(i18n, admin.check) }}
        </button>
        {move || check.value().get().map(|answer| match answer {
            Ok(found) => view! { <Comparison check=found/> }.into_any(),
            Err(err) => view! { <Problem error=err retry=Callback::new(move |()| { check.dispatch(()); })/> }.into_any(),
        })}
    }
}

fn reading_amount(locale: Locale, reading: Option<&ProviderReading>) -> String {
    match reading {
        None => "—".to_owned(),
        Some(r) if !r.read => r.problem.clone().unwrap_or_default(),
        Some(r) => money(locale, r.amount.as_ref()),
    }
}

fn reading_state(reading: Option<&ProviderReading>) -> String {
    reading
        .and_then(|r| r.state.clone())
        .unwrap_or_else(|| "—".to_owned())
}

/// Our record beside what the two wallets say now, and every disagreement.
#[component]
fn Comparison(check: ProviderCheckResponse) -> impl IntoView {
    let i18n = use_i18n();
    let ours_received = check.record.received.clone();
    let ours_status = check.record.summary.status;
    let (incoming, outgoing) = (check.incoming.clone(), check.outgoing.clone());
    let (i1, i2, o1, o2) = (incoming.clone(), incoming, outgoing.clone(), outgoing);
    let at = check.checked_at;
    let agree = check.disagreements.is_empty();
    view! {
        <div class="card comparison" data-testid="provider-comparison">
            <p class="muted small">{move || t_string!(i18n, admin.checked_at, at = format::date_time(i18n.get_locale(), &at)).to_string()}</p>
            <div class="table-scroll">
                <table class="data">
                    <thead><tr>
                        <th scope="col"></th>
                        <th scope="col">{tr!(admin.col_ours)}</th>
                        <th scope="col">{tr!(admin.col_incoming)}</th>
                        <th scope="col">{tr!(admin.col_outgoing)}</th>
                    </tr></thead>
                    <tbody>
                        <tr>
                            <th scope="row">{tr!(admin.row_amount)}</th>
                            <td>{move || money(i18n.get_locale(), ours_received.as_ref())}</td>
                            <td data-testid="incoming-amount">{move || reading_amount(i18n.get_locale(), i1.as_ref())}</td>
                            <td>{move || reading_amount(i18n.get_locale(), o1.as_ref())}</td>
                        </tr>
                        <tr>
                            <th scope="row">{tr!(admin.row_state)}</th>
                            <td>{move || text::status(i18n.get_locale(), ours_status)}</td>
                            <td>{reading_state(i2.as_ref())}</td>
                            <td>{reading_state(o2.as_ref())}</td>
                        </tr>
                    </tbody>
                </table>
            </div>
            {if agree {
                view! { <p class="result" data-testid="provider-agree">{tr!(admin.agree)}</p> }.into_any()
            } else {
                view! {
                    <div class="problem" role="alert" data-testid="provider-disagree">
                        <p><strong>{tr!(admin.disagree)}</strong></p>
                        <ul>
                            {check.disagreements.into_iter().map(|d| {
                                let field = d.field.clone();
                                view! {
                                    <li>{move || disagreement(i18n.get_locale(), &field)} ": "
                                        {move || t_string!(i18n, admin.ours_theirs, ours = d.ours.clone(), theirs = d.theirs.clone()).to_string()}</li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                }.into_any()
            }}
        </div>
    }
}

fn disagreement(locale: Locale, field: &str) -> String {
    match field {
        "amount_received" => td_string!(locale, admin.disagree_amount_received).to_owned(),
        "incoming_state" => td_string!(locale, admin.disagree_incoming_state).to_owned(),
        "outgoing_state" => td_string!(locale, admin.disagree_outgoing_state).to_owned(),
        "amount_sent" => td_string!(locale, admin.disagree_amount_sent).to_owned(),
        other => other.to_owned(),
    }
}
