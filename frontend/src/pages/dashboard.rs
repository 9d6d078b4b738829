//! `/dashboard`: my rooms, my purchases and my sales.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::api::{OwnRoomResponse, TransactionResponse};

use crate::api;
use crate::api::client::ApiError;
use crate::components::guard::RequireLogin;
use crate::components::problem::Problem;
use crate::components::status::{RoomBadge, StatusBadge};
use crate::pages::{Page, room_path, transaction_path, when};
use crate::session::Session;

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
                <h1>"Dashboard"</h1>
                <A href=Page::NewRoom.path() attr:class="button">"New room"</A>
            </div>
            <h2 class="section-title">"My rooms"</h2>
            <Transition fallback=loading>
                {move || rooms.get().map(|answer| match answer {
                    Ok(rooms) => rooms_view(rooms).into_any(),
                    Err(err) => problem(err, move || rooms.refetch()),
                })}
            </Transition>
            <h2 class="section-title">"My purchases"</h2>
            <Transition fallback=loading>
                {move || purchases.get().map(|answer| match answer {
                    Ok(list) => transactions_view(list, Side::Buyer).into_any(),
                    Err(err) => problem(err, move || purchases.refetch()),
                })}
            </Transition>
            <h2 class="section-title">"My sales"</h2>
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
    view! { <p class="muted" aria-busy="true">"Loading…"</p> }
}

fn problem(err: ApiError, retry: impl Fn() + Send + Sync + 'static) -> AnyView {
    view! { <Problem error=err retry=Callback::new(move |()| retry())/> }.into_any()
}

fn rooms_view(rooms: Vec<OwnRoomResponse>) -> impl IntoView {
    if rooms.is_empty() {
        return view! {
            <div class="empty">
                <p>"You have no rooms yet. Open one for what you sell, then share its link."</p>
                <A href=Page::NewRoom.path() attr:class="button secondary">"Open your first room"</A>
            </div>
        }
        .into_any();
    }
    view! {
        <ul class="list" data-testid="my-rooms">
            {rooms.into_iter().map(|own| {
                let room = own.room;
                let sales = match own.sales {
                    0 => "No sales yet".to_owned(),
                    1 => "1 sale".to_owned(),
                    n => format!("{n} sales"),
                };
                view! {
                    <li class="row">
                        <div class="row-main">
                            <A href=room_path(&room.code)>{room.name.clone()}</A>
                            <span class="muted code">{room.code.clone()}</span>
                        </div>
                        <div class="row-side">
                            <span class="amount">{room.price_display.clone()}</span>
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
    if list.is_empty() {
        let text = match side {
            Side::Buyer => {
                "Nothing bought yet. Open a room's link, or enter its code on the home page."
            }
            Side::Seller => "No sales yet. Share your rooms' links with your buyers.",
        };
        return view! { <p class="empty">{text}</p> }.into_any();
    }
    let testid = match side {
        Side::Buyer => "purchases",
        Side::Seller => "sales-list",
    };
    view! {
        <ul class="list" data-testid=testid>
            {list.into_iter().map(|t| {
                let other = match side {
                    Side::Buyer => format!("from {}", t.seller.username),
                    Side::Seller => format!("to {}", t.buyer.username),
                };
                view! {
                    <li class="row">
                        <div class="row-main">
                            <A href=transaction_path(&t.id.to_string())>{t.room_name.clone()}</A>
                            <span class="muted">{other} " · " {when(&t.created_at)}</span>
                        </div>
                        <div class="row-side">
                            <span class="amount">{t.amount.display()}</span>
                            <StatusBadge status=t.status/>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
