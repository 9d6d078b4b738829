//! `/dashboard`: my rooms, my purchases and my sales.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::api::{OwnRoomResponse, TransactionResponse};

use crate::api;
use crate::api::client::ApiError;
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::problem::Problem;
use crate::components::status::{RoomBadge, StatusBadge};
use crate::format;
use crate::i18n::{t_string, use_i18n};
use crate::pages::{Page, room_path, transaction_path};
use crate::session::Session;
use crate::text::tr;

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
        api::transactions::transactions(session, "buyer")
            .await
            .map(|p| p.transactions)
    });
    let sales = LocalResource::new(move || async move {
        api::transactions::transactions(session, "seller")
            .await
            .map(|p| p.transactions)
    });
    view! {
        <section class="page">
            <div class="page-head">
                <Heading text=tr!(dashboard.title)/>
                <A href=Page::NewRoom.path() attr:class="button">{tr!(dashboard.new_room)}</A>
            </div>
            <h2 class="section-title">{tr!(dashboard.my_rooms)}</h2>
            <Transition fallback=loading>
                {move || rooms.get().map(|answer| match answer {
                    Ok(rooms) => rooms_view(rooms).into_any(),
                    Err(err) => problem(err, move || rooms.refetch()),
                })}
            </Transition>
            <h2 class="section-title">{tr!(dashboard.my_purchases)}</h2>
            <Transition fallback=loading>
                {move || purchases.get().map(|answer| match answer {
                    Ok(list) => transactions_view(list, Side::Buyer).into_any(),
                    Err(err) => problem(err, move || purchases.refetch()),
                })}
            </Transition>
            <h2 class="section-title">{tr!(dashboard.my_sales)}</h2>
            <Transition fallback=loading>
                {move || sales.get().map(|answer| match answer {
                    Ok(list) => transactions_view(list, Side::Seller).into_any(),
                    Err(err) => problem(err, move || sales.refetch()),
                })}
            </Transition>
        </section>
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
                let room = own.room;
                let count = own.sales;
                let sales = move || match count {
                    0 => t_string!(i18n, dashboard.sales_none).to_owned(),
                    1 => t_string!(i18n, dashboard.sales_one).to_owned(),
                    count => t_string!(i18n, dashboard.sales_many, count).to_string(),
                };
                let price = room.price.clone();
                view! {
                    <li class="row">
                        <div class="row-main">
                            <A href=room_path(&room.code)>{room.name.clone()}</A>
                            <span class="muted code">{room.code.clone()}</span>
                        </div>
                        <div class="row-side">
                            <span class="amount">{move || format::amount(i18n.get_locale(), &price)}</span>
                            <RoomBadge status=room.status/>
                            <span class="muted" data-testid="sales">{sales}</span>
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

fn transactions_view(list: Vec<TransactionResponse>, side: Side) -> impl IntoView {
    let i18n = use_i18n();
    if list.is_empty() {
        let text = move || match side {
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
                let buyer = t.buyer.username.clone();
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
