//! `/`: what Shifting is and how to start.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shifting_shared::RoomCode;

use crate::pages::{Page, room_path};
use crate::session::Session;

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <section class="hero">
            <h1>"Sell anything at a fixed price. Get paid wallet to wallet."</h1>
            <p class="lead">
                "Open a room for your product or service, share its code, and your buyer pays you directly from their own wallet through Open Payments. "
                "Nobody in between holds the money; Shifting only orchestrates the payment and keeps the record."
            </p>
            {move || match session.user() {
                Some(user) => view! {
                    <p class="welcome" data-testid="welcome">"Welcome back, " <strong>{user.username}</strong> "."</p>
                }.into_any(),
                None => view! {
                    <div class="actions">
                        <A href=Page::Signup.path() attr:class="button">"Create an account"</A>
                        <A href=Page::Login.path() attr:class="button secondary">"Log in"</A>
                    </div>
                }.into_any(),
            }}
        </section>
        <OpenByCode/>
        <section class="steps" aria-label="How it works">
            <article class="card">
                <h2>"1. Open a room"</h2>
                <p>"Name it, describe it and set the price in your wallet's currency. The price is fixed: buyers cannot change it."</p>
            </article>
            <article class="card">
                <h2>"2. Share the code"</h2>
                <p>"Send the short code or the link. Anyone can see the room; signed-in buyers can pay."</p>
            </article>
            <article class="card">
                <h2>"3. Get paid"</h2>
                <p>"The buyer approves the payment in their own wallet. Shifting confirms that you received the full price."</p>
            </article>
        </section>
    }
}

/// A box to open a room by its code.
#[component]
fn OpenByCode() -> impl IntoView {
    let navigate = use_navigate();
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match RoomCode::parse(&code.get_untracked()) {
            Ok(code) => navigate(&room_path(code.as_str()), Default::default()),
            Err(err) => error.set(Some(format!("The code {err}."))),
        }
    };
    view! {
        <section class="card open-code" aria-labelledby="open-code-title">
            <h2 id="open-code-title">"Got a room code?"</h2>
            <form class="with-unit" on:submit=on_submit novalidate>
                <label class="visually-hidden" for="room-code">"Room code"</label>
                <input id="room-code" name="code" placeholder="K7M2QX" autocomplete="off" maxlength="12"
                    bind:value=code aria-describedby="room-code-error"
                    aria-invalid=move || if error.get().is_some() { "true" } else { "false" }/>
                <button class="button" type="submit">"Open room"</button>
            </form>
            <p class="field-error" id="room-code-error" role="alert">{move || error.get()}</p>
        </section>
    }
}
