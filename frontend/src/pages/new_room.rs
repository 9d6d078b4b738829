//! `/rooms/new`: open a room. The price is checked as it is typed with the same `shared` parser
//! the API uses, at the scale of the seller's wallet currency.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use shifting_shared::api::CreateRoomRequest;
use shifting_shared::{Amount, Asset, AssetCode, AssetScale, FieldErrors};

use crate::api;
use crate::components::field::Field;
use crate::components::guard::RequireLogin;
use crate::pages::{Page, room_path};
use crate::session::Session;

/// The new-room form, for signed-in users with a wallet.
#[component]
pub fn NewRoomPage() -> impl IntoView {
    view! { <RequireLogin><NewRoom/></RequireLogin> }
}

/// The asset of the signed-in user's wallet.
fn wallet_asset(session: Session) -> Option<Asset> {
    let wallet = session.user()?.wallet?;
    Some(Asset {
        code: AssetCode::parse(&wallet.asset_code).ok()?,
        scale: AssetScale::new(wallet.asset_scale).ok()?,
    })
}

#[component]
fn NewRoom() -> impl IntoView {
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    {
        // Prices are in the wallet's currency: without a wallet, set one first.
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if wallet_asset(session).is_none() {
                navigate(
                    &format!("{}?next={}", Page::Settings.path(), Page::NewRoom.path()),
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            }
        });
    }
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<String>);
    let asset = move || wallet_asset(session);
    let currency = move || {
        asset().map(|a| {
            let scale = a.scale.get();
            let example = if scale == 0 {
                "1500".to_owned()
            } else {
                format!("12.{}", "5".repeat(usize::from(scale)))
            };
            format!(
                "In {} (your wallet's currency), up to {scale} decimal places, such as {example}.",
                a.code
            )
        })
    };
    // Checked as typed; the server's answer for the field replaces it after a submit.
    let price_error = move || {
        if let Some(server) = errors.with(|e| e.get("price").cloned()) {
            return Some(server);
        }
        let typed = price.get();
        let asset = asset()?;
        (!typed.trim().is_empty())
            .then(|| {
                Amount::parse_decimal(typed.trim(), asset)
                    .err()
                    .map(|e| e.to_string())
            })
            .flatten()
    };

    let create = Action::new_local(move |request: &CreateRoomRequest| {
        let request = request.clone();
        async move { api::rooms::create_room(session, &request).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(room)) => navigate(&room_path(&room.code), Default::default()),
        Some(Err(err)) => {
            let fields = err.fields();
            form_error.set(fields.is_empty().then(|| err.message()));
            errors.set(fields);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(asset) = asset() else { return };
        let request = CreateRoomRequest {
            name: name.get_untracked(),
            description: description.get_untracked(),
            price: price.get_untracked().trim().to_owned(),
        };
        form_error.set(None);
        match request.parse(asset) {
            Err(fields) => errors.set(fields),
            Ok(_) => {
                errors.set(FieldErrors::new());
                create.dispatch(request);
            }
        }
    };
    let error_for =
        move |field: &'static str| Signal::derive(move || errors.with(|e| e.get(field).cloned()));

    view! {
        <section class="narrow">
            <h1>"Open a room"</h1>
            <p class="muted">"Buyers pay this fixed price straight into your wallet. It cannot be changed later."</p>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="name" label="Name" hint="What you sell, in up to 80 characters." value=name error=error_for("name")/>
                <Field name="description" label="Description" hint="Optional, up to 2000 characters." multiline=true
                    value=description error=error_for("description")/>
                <Field name="price" label="Price" hint=Signal::derive(currency) inputmode="decimal"
                    unit=Signal::derive(move || asset().map(|a| a.code.to_string())) value=price error=Signal::derive(price_error)/>
                <p class="form-error" role="alert">{move || form_error.get()}</p>
                <button class="button" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Opening the room…" } else { "Open the room" }}
                </button>
            </form>
        </section>
    }
}
