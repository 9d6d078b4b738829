//! `/dashboard`: my rooms; my sales with their totals, filters and CSV export; my purchases.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::TransactionStatus;
use shifting_shared::api::{
    OwnRoomResponse, SalesSummaryResponse, TotalResponse, TransactionResponse,
};

use crate::api;
use crate::api::client::ApiError;
use crate::components::first_steps::FirstSteps;
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::components::status::{RoomBadge, StatusBadge};
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::pages::account_settings::ConfirmEmailNotice;
use crate::pages::{Page, room_path, transaction_path};
use crate::session::Session;
use crate::text::{self, stock_left, tr};

/// The dashboard, for signed-in users.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! { <RequireLogin><Dashboard/></RequireLogin> }
}

#[component]
fn Dashboard() -> impl IntoView {
    let session = expect_context::<Session>();
    let rooms = LocalResource::new(move || async move {
        api::rooms::my_rooms(session).await.map(|list| list.rooms)
    });
    let purchases = LocalResource::new(move || async move {
        api::transactions::transactions(session, "role=buyer")
            .await
            .map(|p| p.transactions)
    });
    // Where a password reset lands: said once, so the reader knows the new password took.
    let query = leptos_router::hooks::use_query_map();
    let reset = move || query.read().get("password").as_deref() == Some("reset");
    view! {
        <section class="page">
            <div class="page-head">
                <Heading text=tr!(dashboard.title)/>
                <A href=Page::NewRoom.path() attr:class="button">{tr!(dashboard.new_room)}</A>
            </div>
            {move || reset().then(|| view! {
                <p class="notice" role="status" data-testid="password-reset">{tr!(dashboard.password_reset)}</p>
            })}
            <ConfirmEmailNotice/>
            <crate::pages::webhooks::TurnedOffWebhooks/>
            <FirstSteps/>
            <h2 class="section-title">{tr!(dashboard.my_rooms)}</h2>
            <Transition fallback=loading>
                {move || rooms.get().map(|answer| match answer {
                    Ok(rooms) => rooms_view(rooms).into_any(),
                    Err(err) => problem(err, move || rooms.refetch()),
                })}
            </Transition>
            <Sales rooms/>
            <h2 class="section-title">{tr!(dashboard.my_purchases)}</h2>
            <Transition fallback=loading>
                {move || purchases.get().map(|answer| match answer {
                    Ok(list) => transactions_view(list, Side::Buyer, false).into_any(),
                    Err(err) => problem(err, move || purchases.refetch()),
                })}
            </Transition>
        </section>
    }
}

/// The filters the sales list starts with.
const DEFAULT_SALES: &str = "role=seller&kind=sales";

type Rooms = LocalResource<Result<Vec<OwnRoomResponse>, ApiError>>;

/// The seller's totals, and their sales or attempts, filtered, with the CSV export.
#[component]
fn Sales(rooms: Rooms) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let summary = LocalResource::new(move || api::transactions::sales_summary(session));
    let show = RwSignal::new(String::from("sales"));
    let room = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let filters = Memo::new(move |_| {
        let mut query = match show.get().as_str() {
            "sales" => DEFAULT_SALES.to_owned(),
            "attempts" => "role=seller&kind=attempts".to_owned(),
            status => format!("role=seller&status={status}"),
        };
        room.with(|code| {
            if !code.is_empty() {
                query.push_str(&format!("&room={code}"));
            }
        });
        if let Some(at) = since.with(|day| format::local_midnight(day, 0)) {
            query.push_str(&format!("&since={at}"));
        }
        // The "to" day is included: the filter ends at the next midnight.
        if let Some(at) = until.with(|day| format::local_midnight(day, 1)) {
            query.push_str(&format!("&until={at}"));
        }
        query
    });
    let list = LocalResource::new(move || {
        let filters = filters.get();
        async move { api::transactions::transactions(session, &filters).await }
    });
    let export = Action::new_local(move |(): &()| {
        let filters = filters.get_untracked();
        let name = format!("shifting-sales-{}.csv", format::today());
        async move { api::transactions::export_csv(session, &filters, &name).await }
    });
    let export_error = move || {
        export
            .value()
            .get()
            .and_then(Result::err)
            .map(|err| view! { <p class="error" role="alert">{move || text::api_error(i18n.get_locale(), &err)}</p> })
    };
    let statuses = TransactionStatus::ALL
        .into_iter()
        .filter(|status| *status != TransactionStatus::Completed);
    view! {
        <h2 class="section-title">{tr!(dashboard.my_sales)}</h2>
        <Transition fallback=loading>
            {move || summary.get().map(|answer| match answer {
                Ok(summary) => totals_view(summary).into_any(),
                Err(err) => problem(err, move || summary.refetch()),
            })}
        </Transition>
        <form class="filters" on:submit=|ev| ev.prevent_default() data-testid="sales-filters">
            <label>{tr!(dashboard.filter_show)}
                <select prop:value=show on:change=move |ev| show.set(event_target_value(&ev))>
                    <option value="sales">{tr!(dashboard.filter_sales)}</option>
                    <option value="attempts">{tr!(dashboard.filter_attempts)}</option>
                    {statuses.map(|status| view! {
                        <option value=status.as_str()>{move || text::status(i18n.get_locale(), status)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{tr!(dashboard.filter_room)}
                <select prop:value=room on:change=move |ev| room.set(event_target_value(&ev))>
                    <option value="">{tr!(dashboard.filter_all_rooms)}</option>
                    {move || rooms.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|own| view! {
                        <option value=own.room.code.clone()>{own.room.name.clone()} " · " {own.room.code.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{tr!(dashboard.filter_from)}
                <input type="date" prop:value=since on:change=move |ev| since.set(event_target_value(&ev))/>
            </label>
            <label>{tr!(dashboard.filter_to)}
                <input type="date" prop:value=until on:change=move |ev| until.set(event_target_value(&ev))/>
            </label>
            <button type="button" class="button secondary" data-testid="export" disabled=move || export.pending().get()
                aria-busy=move || export.pending().get().to_string()
                on:click=move |_| { export.dispatch(()); }>
                {move || if export.pending().get() { t_string!(i18n, dashboard.exporting) } else { t_string!(i18n, dashboard.export_csv) }}
            </button>
        </form>
        {export_error}
        <Transition fallback=loading>
            {move || list.get().map(|answer| match answer {
                Ok(page) => {
                    let (shown, total) = (page.transactions.len(), page.total);
                    let more = (u64::try_from(shown).unwrap_or(u64::MAX) < total).then(|| view! {
                        <p class="muted">{move || t_string!(i18n, dashboard.showing, shown = shown, total = total).to_string()}</p>
                    });
                    let filtered = filters.get_untracked() != DEFAULT_SALES;
                    view! { {transactions_view(page.transactions, Side::Seller, filtered)} {more} }.into_any()
                }
                Err(err) => problem(err, move || list.refetch()),
            })}
        </Transition>
    }
}

/// Completed sales per currency: today, the last 30 days, all time.
fn totals_view(summary: SalesSummaryResponse) -> impl IntoView {
    let i18n = use_i18n();
    if summary.currencies.is_empty() {
        return view! { <p class="muted">{tr!(dashboard.totals_none)}</p> }.into_any();
    }
    let figure = move |label: fn(Locale) -> &'static str, total: TotalResponse| {
        let count = total.count;
        view! {
            <div class="figure">
                <span class="muted">{move || label(i18n.get_locale())}</span>
                <strong class="amount">{move || format::amount(i18n.get_locale(), &total.amount)}</strong>
                <span class="muted">{move || sales_count(i18n.get_locale(), count)}</span>
            </div>
        }
    };
    view! {
        <div class="totals" data-testid="sales-totals">
            {summary.currencies.into_iter().map(|currency| view! {
                <div class="figures">
                    {figure(|l| td_string!(l, dashboard.totals_today), currency.today)}
                    {figure(|l| td_string!(l, dashboard.totals_30_days), currency.last_30_days)}
                    {figure(|l| td_string!(l, dashboard.totals_all_time), currency.all_time)}
                </div>
            }).collect_view()}
        </div>
    }
    .into_any()
}

fn sales_count(locale: Locale, count: u64) -> String {
    match count {
        0 => td_string!(locale, dashboard.sales_none).to_owned(),
        1 => td_string!(locale, dashboard.sales_one).to_owned(),
        count => td_string!(locale, dashboard.sales_many, count = count).to_string(),
    }
}

fn loading() -> impl IntoView {
    view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }
}

fn problem(err: ApiError, retry: impl Fn() + Send + Sync + 'static) -> AnyView {
    view! { <Problem error=err retry=Callback::new(move |()| retry())/> }.into_any()
}

fn rooms_view(rooms: Vec<OwnRoomResponse>) -> impl IntoView {
    let i18n = use_i18n();
    if rooms.is_empty() {
        return view! {
            <div class="empty">
                <p>{tr!(dashboard.no_rooms)}</p>
                <A href=Page::NewRoom.path() attr:class="button secondary">{tr!(dashboard.open_first)}</A>
            </div>
        }
        .into_any();
    }
    view! {
        <ul class="list" data-testid="my-rooms">
            {rooms.into_iter().map(|own| {
                let withdrawn = own.withdrawn.clone();
                let room = own.room;
                let count = own.sales;
                let sales = move || sales_count(i18n.get_locale(), count);
                let left = room.stock_left.map(|left| view! {
                    <span class="muted" data-testid="stock">{move || stock_left(i18n.get_locale(), left)}</span>
                });
                let price = room.price.clone();
                view! {
                    <li class="row">
                        <div class="row-lead">
                            {room.images.first().map(|image| view! {
                                <img class="row-thumb" src=image.thumbnail_url.clone() alt="" width="64" height="64" loading="lazy"/>
                            })}
                            <div class="row-main">
                                <A href=room_path(&room.code)>{room.name.clone()}</A>
                                <span class="muted code">{room.code.clone()}</span>
                                {withdrawn.map(|why| view! {
                                    <span class="notice small" data-testid="room-withdrawn">
                                        {move || t_string!(i18n, dashboard.withdrawn, reason = why.clone()).to_string()}
                                    </span>
                                })}
                            </div>
                        </div>
                        <div class="row-side">
                            <span class="amount">{move || format::amount(i18n.get_locale(), &price)}</span>
                            <RoomBadge status=room.status/>
                            <span class="muted" data-testid="sales">{sales}</span>
                            {left}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[derive(Clone, Copy)]
enum Side {
    Buyer,
    Seller,
}

/// A list of transactions; `filtered` when filters other than the default ones chose it.
fn transactions_view(list: Vec<TransactionResponse>, side: Side, filtered: bool) -> impl IntoView {
    let i18n = use_i18n();
    if list.is_empty() {
        let text = move || match side {
            _ if filtered => t_string!(i18n, dashboard.no_match),
            Side::Buyer => t_string!(i18n, dashboard.no_purchases),
            Side::Seller => t_string!(i18n, dashboard.no_sales),
        };
        return view! { <p class="empty">{text}</p> }.into_any();
    }
    let now = format::now();
    let testid = match side {
        Side::Buyer => "purchases",
        Side::Seller => "sales-list",
    };
    view! {
        <ul class="list" data-testid=testid>
            {list.into_iter().map(|t| {
                let seller = t.seller.username.clone();
                let buyer = if t.buyer.guest {
                    t_string!(i18n, transaction.guest_buyer).to_owned()
                } else {
                    t.buyer.username.clone()
                };
                let other = move || match side {
                    Side::Buyer => t_string!(i18n, dashboard.from, name = seller.clone()).to_string(),
                    Side::Seller => t_string!(i18n, dashboard.to, name = buyer.clone()).to_string(),
                };
                let at = t.created_at;
                // What the buyer paid when there is a quote (in their wallet's currency), else
                // the price; the seller sees what they were paid.
                let shown = match side {
                    Side::Buyer => t.quote.as_ref().map_or_else(|| t.amount.clone(), |q| q.debit_amount.clone()),
                    Side::Seller => t.received_amount.clone().unwrap_or_else(|| t.amount.clone()),
                };
                view! {
                    <li class="row">
                        <div class="row-main">
                            <A href=transaction_path(&t.id.to_string())>{t.room_name.clone()}</A>
                            <span class="muted">{other} " · "
                                <time datetime=at.to_rfc3339() title=move || format::date_time(i18n.get_locale(), &at)>
                                    {move || format::relative(i18n.get_locale(), &at, &now)}
                                </time>
                            </span>
                        </div>
                        <div class="row-side">
                            <span class="amount">{move || format::amount(i18n.get_locale(), &shown)}</span>
                            <StatusBadge status=t.status/>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
