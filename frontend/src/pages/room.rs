//! `/r/{code}`: the public room page. Anyone sees the room and its share panel; a signed-in
//! buyer gets a quote and continues to their wallet's consent page; the seller gets the pause,
//! reopen and close controls instead.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shifting_shared::RoomStatus;
use shifting_shared::api::{
    RoomResponse, StartPaymentRequest, StartPaymentResponse, UpdateRoomRequest,
};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::Field;
use crate::components::problem::Problem;
use crate::components::qr::Qr;
use crate::components::status::RoomBadge;
use crate::pages::{Page, room_path, when};
use crate::session::Session;

/// The room page.
#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || {
        params
            .read()
            .get("code")
            .unwrap_or_default()
            .to_ascii_uppercase()
    };
    let room = LocalResource::new(move || {
        let code = code();
        async move { api::rooms::room(&code).await }
    });
    let changed = Callback::new(move |()| room.refetch());
    view! {
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading the room…"</p> }>
            {move || room.get().map(|answer| match answer {
                Ok(found) => view! { <Room room=found changed=changed/> }.into_any(),
                Err(ApiError::Api { status: 404, .. }) => view! {
                    <section class="narrow">
                        <h1>"Room not found"</h1>
                        <p>"No room has this code. Check the link or the code you were given."</p>
                        <A href=Page::Home.path() attr:class="button">"Go to the home page"</A>
                    </section>
                }.into_any(),
                Err(err) => view! { <Problem error=err retry=changed/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Room(room: RoomResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let seller = room.seller.username.clone();
    let is_seller = move || session.user().is_some_and(|u| u.username == seller);
    let status = room.status;
    let code = room.code.clone();
    let for_buyer = room.clone();
    let for_seller = room.clone();
    view! {
        <section class="room page">
            <div class="room-head">
                <div>
                    <p class="muted">"Room " <span class="code">{room.code.clone()}</span> " · sold by " <strong>{room.seller.username.clone()}</strong></p>
                    <h1>{room.name.clone()}</h1>
                </div>
                <RoomBadge status=status/>
            </div>
            <p class="price" data-testid="price">{room.price_display.clone()}</p>
            {(!room.description.is_empty()).then(|| view! { <p class="description">{room.description.clone()}</p> })}
            <div class="room-grid">
                <div class="panel">
                    {move || {
                        if !session.ready.get() {
                            view! { <p class="muted">"…"</p> }.into_any()
                        } else if is_seller() {
                            view! { <SellerControls room=for_seller.clone() changed=changed/> }.into_any()
                        } else if status != RoomStatus::Open {
                            let why = if status == RoomStatus::Paused {
                                "The seller has paused this room: it cannot be paid right now."
                            } else {
                                "This room is closed: it cannot be paid any more."
                            };
                            view! { <p class="notice" data-testid="not-payable">{why}</p> }.into_any()
                        } else if session.user().is_none() {
                            let next = room_path(&code);
                            view! {
                                <h2>"Buy this"</h2>
                                <p>"Log in or create an account to pay from your own wallet."</p>
                                <div class="actions">
                                    <A href=format!("{}?next={next}", Page::Login.path()) attr:class="button">"Log in to pay"</A>
                                    <A href=format!("{}?next={next}", Page::Signup.path()) attr:class="button secondary">"Sign up"</A>
                                </div>
                            }.into_any()
                        } else {
                            view! { <BuyPanel room=for_buyer.clone()/> }.into_any()
                        }
                    }}
                </div>
                <SharePanel link=room.share_url.clone() code=room.code.clone()/>
            </div>
        </section>
    }
}

/// The link, a copy button and a QR code.
#[component]
fn SharePanel(link: String, code: String) -> impl IntoView {
    // None until a copy is tried; then whether the clipboard took the link.
    let copied = RwSignal::new(None::<bool>);
    let to_copy = link.clone();
    let copy = move |_| {
        let written = window().navigator().clipboard().write_text(&to_copy);
        spawn_local(async move {
            let taken = wasm_bindgen_futures::JsFuture::from(written).await.is_ok();
            // The page may be gone by the time the browser answers.
            let _ = copied.try_set(Some(taken));
        });
    };
    view! {
        <div class="panel share">
            <h2>"Share"</h2>
            <label for="share-link">"Link"</label>
            <div class="with-unit">
                <input id="share-link" readonly value=link.clone()/>
                <button class="button secondary" type="button" on:click=copy>
                    {move || match copied.get() {
                        None => "Copy",
                        Some(true) => "Copied",
                        Some(false) => "Copy failed: select the link",
                    }}
                </button>
            </div>
            <p class="muted">"Or give the code " <strong class="code">{code.clone()}</strong> " · scan:"</p>
            <Qr text=link label=format!("QR code of the link to room {code}")/>
        </div>
    }
}

/// Wallet address → quote preview → continue to the wallet.
#[component]
fn BuyPanel(room: RoomResponse) -> impl IntoView {
    let session = expect_context::<Session>();
    let wallet = RwSignal::new(
        session
            .user()
            .and_then(|u| u.wallet_address)
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    let code = room.code.clone();
    let start = Action::new_local(move |address: &String| {
        let request = StartPaymentRequest {
            wallet_address: Some(address.clone()),
        };
        let code = code.clone();
        async move { api::payments::start_payment(session, &code, &request).await }
    });
    Effect::new(move |_| {
        if let Some(Err(err)) = start.value().get() {
            error.set(Some(
                err.fields()
                    .get("wallet_address")
                    .cloned()
                    .unwrap_or_else(|| err.message()),
            ));
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = wallet.get_untracked().trim().to_owned();
        // The server resolves the address and says what is wrong with it.
        if typed.is_empty() {
            error.set(Some("is required: the wallet to pay from".into()));
        } else {
            error.set(None);
            start.dispatch(typed);
        }
    };
    let price = room.price_display.clone();
    view! {
        {move || match start.value().get() {
            Some(Ok(started)) => view! { <QuotePreview started=started/> }.into_any(),
            _ => {
                let price = price.clone();
                view! {
                    <h2>"Buy this"</h2>
                    <form class="stack" on:submit=on_submit novalidate>
                        <Field name="wallet_address" label="Pay from wallet"
                            hint="Your Open Payments wallet address. You approve the payment there."
                            value=wallet error=error/>
                        <button class="button" type="submit" data-testid="pay" disabled=move || start.pending().get()>
                            {move || if start.pending().get() { "Asking your wallet for a quote…".to_owned() } else { format!("Pay {price}") }}
                        </button>
                    </form>
                }.into_any()
            }
        }}
    }
}

/// What the buyer pays and the seller receives, before leaving for the wallet.
#[component]
fn QuotePreview(started: StartPaymentResponse) -> impl IntoView {
    let redirect = started.redirect_url.clone();
    let leaving = RwSignal::new(false);
    let go = move |_| {
        leaving.set(true);
        let _ = window().location().set_href(&redirect);
    };
    let valid = started
        .quote
        .expires_at
        .map(|at| format!("This quote is valid until {}.", when(&at)))
        .unwrap_or_default();
    let expires_at = started.quote.expires_at.map(|at| at.to_rfc3339());
    view! {
        <div class="quote" data-testid="quote" data-expires-at=expires_at>
            <h2>"Your quote"</h2>
            <dl>
                <dt>"You pay"</dt><dd class="amount" data-testid="debit">{started.quote.debit_amount.display()}</dd>
                <dt>"The seller receives"</dt><dd class="amount">{started.quote.receive_amount.display()}</dd>
            </dl>
            <p class="muted">{valid} " Your wallet asks you to approve it next."</p>
            <button class="button" type="button" data-testid="continue" on:click=go disabled=move || leaving.get()>
                {move || if leaving.get() { "Opening your wallet…" } else { "Continue to your wallet" }}
            </button>
        </div>
    }
}

/// Pause, reopen or close the room.
#[component]
fn SellerControls(room: RoomResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let error = RwSignal::new(None::<String>);
    let confirm_close = RwSignal::new(false);
    let confirm_pause = RwSignal::new(false);
    let code = room.code.clone();
    // How many started payments a pause or close would stop, from the seller's own list.
    let own_code = room.code.clone();
    let mine = LocalResource::new(move || async move { api::rooms::my_rooms(session).await });
    let in_progress = Memo::new(move |_| {
        mine.get()
            .and_then(Result::ok)
            .and_then(|list| list.rooms.into_iter().find(|r| r.room.code == own_code))
            .map_or(0, |r| r.payments_in_progress)
    });
    let stops = move || match in_progress.get() {
        0 => "No payment is in progress.".to_owned(),
        1 => "This stops 1 payment in progress: nothing will be paid, and the buyer is told why."
            .to_owned(),
        n => format!(
            "This stops {n} payments in progress: nothing will be paid, and the buyers are told why."
        ),
    };
    let change = Action::new_local(move |status: &RoomStatus| {
        let request = UpdateRoomRequest {
            status: Some(*status),
            description: None,
        };
        let code = code.clone();
        async move { api::rooms::update_room(session, &code, &request).await }
    });
    Effect::new(move |_| match change.value().get() {
        Some(Ok(_)) => changed.run(()),
        Some(Err(err)) => error.set(Some(err.message())),
        None => {}
    });
    let status = room.status;
    view! {
        <h2>"Your room"</h2>
        {match status {
            RoomStatus::Open => view! {
                <p>"Buyers can pay. Pause it to stop payments for a while."</p>
                <Show when=move || confirm_pause.get() fallback=move || view! {
                    <button class="button secondary" data-testid="pause" on:click=move |_| confirm_pause.set(true)>"Pause"</button>
                }>
                    <p data-testid="pause-stops">{stops}</p>
                    <div class="actions">
                        <button class="button secondary" data-testid="confirm-pause" disabled=move || change.pending().get()
                            on:click=move |_| { change.dispatch(RoomStatus::Paused); }>"Pause the room"</button>
                        <button class="button secondary" on:click=move |_| confirm_pause.set(false)>"Keep it open"</button>
                    </div>
                </Show>
            }.into_any(),
            RoomStatus::Paused => view! {
                <p>"Paused: buyers cannot pay until you reopen it."</p>
                <button class="button" data-testid="reopen" disabled=move || change.pending().get()
                    on:click=move |_| { change.dispatch(RoomStatus::Open); }>"Reopen"</button>
            }.into_any(),
            RoomStatus::Closed => view! { <p>"Closed for good: it cannot be paid any more."</p> }.into_any(),
        }}
        {(status != RoomStatus::Closed).then(|| view! {
            <div class="danger-zone">
                <Show when=move || confirm_close.get() fallback=move || view! {
                    <button class="button secondary" data-testid="close" on:click=move |_| confirm_close.set(true)>"Close the room"</button>
                }>
                    <p>"Closing is final. Close the room?"</p>
                    <p data-testid="close-stops">{stops}</p>
                    <div class="actions">
                        <button class="button danger" data-testid="confirm-close" disabled=move || change.pending().get()
                            on:click=move |_| { change.dispatch(RoomStatus::Closed); }>"Close for good"</button>
                        <button class="button secondary" on:click=move |_| confirm_close.set(false)>"Keep it"</button>
                    </div>
                </Show>
            </div>
        })}
        <p class="form-error" role="alert">{move || error.get()}</p>
        <p><A href=Page::Dashboard.path()>"See your sales on the dashboard"</A></p>
    }
}
