//! `/`: what Shifting is and how to start.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::pages::Page;
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
