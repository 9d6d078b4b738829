//! `/settings`: the wallet address payments go to and come from, verified by the server with
//! its provider (name and currency shown once resolved).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::components::field::Field;
use crate::components::guard::RequireLogin;
use crate::pages::next_path;
use crate::session::Session;

/// The settings page, for signed-in users.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <RequireLogin><Settings/></RequireLogin> }
}

#[component]
fn Settings() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let navigate = use_navigate();
    let current = session
        .user()
        .and_then(|u| u.wallet_address)
        .unwrap_or_default();
    let wallet = RwSignal::new(current);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);

    let save = Action::new_local(move |address: &String| {
        let address = address.clone();
        async move { api::me::set_wallet(session, address).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(user)) => {
            if let Some(address) = &user.wallet_address {
                wallet.set(address.clone());
            }
            session.set_user(user);
            saved.set(true);
            if let Some(next) = query.read_untracked().get("next") {
                navigate(&next_path(Some(next)), Default::default());
            }
        }
        Some(Err(err)) => {
            error.set(Some(
                err.fields()
                    .get("wallet_address")
                    .cloned()
                    .unwrap_or_else(|| err.message()),
            ));
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let typed = wallet.get_untracked().trim().to_owned();
        // The server normalises and resolves the address and says what is wrong with it. (The
        // `shared` parser is not used here: its URL and IDNA tables would double the download.)
        if typed.is_empty() {
            error.set(Some("is required".into()));
        } else {
            error.set(None);
            save.dispatch(typed);
        }
    };
    let needs_wallet = move || query.read().get("next").is_some();

    view! {
        <section class="narrow">
            <h1>"Settings"</h1>
            <Show when=needs_wallet>
                <p class="notice" role="status">"Set your wallet address first: your rooms are priced in its currency."</p>
            </Show>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="wallet_address" label="Wallet address"
                    hint="Your Open Payments wallet address: a payment pointer ($wallet.example/you) or an https:// URL."
                    value=wallet error=Signal::derive(move || error.get())/>
                <button class="button" type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Verifying with your wallet provider…" } else { "Verify and save" }}
                </button>
            </form>
            <div aria-live="polite">
                {move || session.user().and_then(|u| u.wallet).map(|w| view! {
                    <div class="card wallet" data-testid="wallet">
                        <p class="muted">{move || if saved.get() { "Saved and verified:" } else { "Your wallet:" }}</p>
                        <p><strong>{w.public_name.clone().unwrap_or_else(|| "Unnamed wallet".into())}</strong></p>
                        <p class="code">{w.address.clone()}</p>
                        <p>"Currency: " <strong>{w.asset_code.clone()}</strong> {format!(" ({} decimal places)", w.asset_scale)}</p>
                    </div>
                })}
            </div>
        </section>
    }
}
