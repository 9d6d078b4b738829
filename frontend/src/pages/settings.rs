//! `/settings`: the wallet address payments go to and come from, verified by the server with
//! its provider (name and currency shown once resolved).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use shifting_shared::{FieldCode, FieldError, FieldErrors};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::i18n::{t_string, use_i18n};
use crate::pages::next_path;
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The settings page, for signed-in users.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <RequireLogin><Settings/></RequireLogin> }
}

#[component]
fn Settings() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let query = use_query_map();
    let navigate = use_navigate();
    let current = session
        .user()
        .and_then(|u| u.wallet_address)
        .unwrap_or_default();
    let wallet = RwSignal::new(current);
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
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
            let fields = err.fields();
            form_error.set(fields.get("wallet_address").is_none().then_some(err));
            errors.set(fields);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        form_error.set(None);
        let typed = wallet.get_untracked().trim().to_owned();
        // The server normalises and resolves the address and says what is wrong with it. (The
        // `shared` parser is not used here: its URL and IDNA tables would double the download.)
        if typed.is_empty() {
            errors.set(FieldErrors::one(
                "wallet_address",
                FieldError::new(FieldCode::Required, "is required"),
            ));
        } else {
            errors.set(FieldErrors::new());
            save.dispatch(typed);
        }
    };
    let needs_wallet = move || query.read().get("next").is_some();

    view! {
        <section class="narrow">
            <Heading text=tr!(settings.title)/>
            <Show when=needs_wallet>
                <p class="notice" role="status">{tr!(settings.needs_wallet)}</p>
            </Show>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="wallet_address" label=tr!(settings.wallet_label)
                    hint=tr!(settings.wallet_hint)
                    value=wallet error=error_for(i18n, errors, "wallet_address")/>
                <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                <button class="button" type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { t_string!(i18n, settings.submitting) } else { t_string!(i18n, settings.submit) }}
                </button>
            </form>
            <div aria-live="polite">
                {move || session.user().and_then(|u| u.wallet).map(|w| {
                    let name = w.public_name.clone();
                    let code = w.asset_code.clone();
                    let scale = w.asset_scale;
                    view! {
                        <div class="card wallet" data-testid="wallet">
                            <p class="muted">{move || if saved.get() { t_string!(i18n, settings.saved) } else { t_string!(i18n, settings.your_wallet) }}</p>
                            <p><strong>{move || name.clone().unwrap_or_else(|| t_string!(i18n, settings.unnamed).to_owned())}</strong></p>
                            <p class="code">{w.address.clone()}</p>
                            <p>{move || t_string!(i18n, settings.currency, code = code.clone(), scale).to_string()}</p>
                        </div>
                    }
                })}
            </div>
        </section>
    }
}
