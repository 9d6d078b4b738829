//! `/settings`: the wallet address payments go to and come from, verified by the server with
//! its provider (name and currency shown once resolved).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shifting_shared::api::RoomResponse;
use shifting_shared::review::VerificationStatus;
use shifting_shared::{
    Amount, Asset, AssetCode, AssetScale, Coded, FieldCode, FieldError, FieldErrors, RoomStatus,
};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::guard::RequireLogin;
use crate::components::heading::Heading;
use crate::components::reviews::{VerifiedWallet, profile_path};
use crate::format::{self, decimal_mark};
use crate::i18n::{t_string, use_i18n};
use crate::pages::account_settings::AccountSettings;
use crate::pages::budgets::BudgetSettings;
use crate::pages::{next_path, room_path};
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
            <VerifyWallet/>
            <RoomsOnOtherWallets/>
            <BudgetSettings/>
            <crate::pages::api_keys::ApiKeySettings/>
            <crate::pages::webhooks::WebhookSettings/>
            <AccountSettings/>
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

/// The seller's rooms (not closed) that still pay into a wallet other than the current one,
/// each with a price to type in the new currency and a button to move it. Nothing is converted.
#[component]
fn RoomsOnOtherWallets() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let rooms = LocalResource::new(move || async move {
        // Asked again whenever the wallet changes.
        let _ = session.user().map(|u| u.wallet_address);
        api::rooms::my_rooms(session).await.map(|list| list.rooms)
    });
    move || {
        let user = session.user()?;
        let current = user.wallet_address.clone()?;
        let wallet = user.wallet?;
        let asset = Asset {
            code: AssetCode::parse(&wallet.asset_code).ok()?,
            scale: AssetScale::new(wallet.asset_scale).ok()?,
        };
        let stale: Vec<RoomResponse> = rooms
            .get()?
            .ok()?
            .into_iter()
            .map(|own| own.room)
            .filter(|room| room.status != RoomStatus::Closed && room.wallet_address != current)
            .collect();
        if stale.is_empty() {
            return None;
        }
        let (code, address) = (asset.code.to_string(), current.clone());
        Some(view! {
            <section class="card stale-rooms" data-testid="stale-rooms" aria-labelledby="stale-title">
                <h2 id="stale-title">{tr!(settings.stale_title)}</h2>
                <p>{move || t_string!(i18n, settings.stale_text, wallet = address.clone(), code = code.clone()).to_string()}</p>
                <ul class="list">
                    {stale.into_iter().map(|room| view! {
                        <MoveRoom room=room asset=asset.clone() moved=Callback::new(move |()| rooms.refetch())/>
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

/// One room to move: where it pays now, and the new price.
#[component]
fn MoveRoom(room: RoomResponse, asset: Asset, moved: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let price = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let code = room.code.clone();
    let send = Action::new_local(move |price: &String| {
        let (code, price) = (code.clone(), price.clone());
        async move { api::rooms::move_room(session, &code, price).await }
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(_)) => moved.run(()),
        Some(Err(err)) => problem.set(Some(match err.fields().get("price") {
            Some(field) => text::field(i18n.get_locale_untracked(), field.code).to_owned(),
            None => text::api_error(i18n.get_locale_untracked(), &err),
        })),
        None => {}
    });
    let unit = asset.code.to_string();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mark = decimal_mark(i18n.get_locale_untracked());
        match Amount::parse_decimal_with(price.get_untracked().trim(), asset.clone(), mark) {
            Ok(amount) => {
                problem.set(None);
                send.dispatch(amount.to_decimal_string());
            }
            Err(err) => problem.set(Some(
                text::field(i18n.get_locale_untracked(), err.code()).to_owned(),
            )),
        }
    };
    let input = format!("move-{}", room.code);
    let error_id = format!("move-{}-error", room.code);
    let (old_wallet, old_price) = (room.wallet_address.clone(), room.price.clone());
    view! {
        <li class="row">
            <div class="row-main">
                <A href=room_path(&room.code)>{room.name.clone()}</A>
                <span class="muted">{move || t_string!(i18n, settings.pays_into, wallet = old_wallet.clone(),
                    price = format::amount(i18n.get_locale(), &old_price)).to_string()}</span>
            </div>
            <form class="move-room" on:submit=on_submit novalidate>
                <label for=input.clone()>{move || t_string!(i18n, settings.new_price, code = unit.clone()).to_string()}</label>
                <div class="with-unit">
                    <input id=input name="price" inputmode="decimal" autocomplete="off" bind:value=price
                        aria-invalid=move || problem.get().is_some().to_string() aria-describedby=error_id.clone()/>
                    <button class="button" type="submit" disabled=move || send.pending().get()>
                        {move || if send.pending().get() { t_string!(i18n, settings.moving) } else { t_string!(i18n, settings.move_room) }}
                    </button>
                </div>
                <p class="field-error" id=error_id role="alert">{move || problem.get()}</p>
            </form>
        </li>
    }
}

/// Proving that the wallet is the user's (an Open Payments `subject` grant at its provider):
/// the badge it gave, or a button that sends the browser to the provider. Coming back
/// (`?verification=…`), the page asks where the proof stands until it has ended.
#[component]
fn VerifyWallet() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let query = use_query_map();
    let returned = query.read_untracked().get("verification");
    let status = RwSignal::new(None::<VerificationStatus>);
    let problem = RwSignal::new(None::<ApiError>);
    let check =
        Action::new_local(
            move |(): &()| async move { api::me::wallet_verification(session).await },
        );
    Effect::new(move |_| {
        // Nothing to show before a first proof (404) or on a failed check: the button stays.
        if let Some(Ok(proof)) = check.value().get() {
            status.set(Some(proof.status));
            match proof.status {
                VerificationStatus::Approved => {
                    // The provider's `wait` has not passed yet: ask again shortly.
                    set_timeout(
                        move || {
                            check.dispatch(());
                        },
                        std::time::Duration::from_secs(1),
                    );
                }
                VerificationStatus::Verified => {
                    // The profile carries the badge now.
                    leptos::task::spawn_local(async move {
                        if let Ok(user) = api::me::me(session).await {
                            session.set_user(user);
                        }
                    });
                }
                _ => {}
            }
        }
    });
    if returned.is_some() {
        check.dispatch(());
    }
    let start =
        Action::new_local(move |(): &()| async move { api::me::verify_wallet(session).await });
    Effect::new(move |_| match start.value().get() {
        Some(Ok(proof)) => match proof.redirect_url {
            Some(url) => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().assign(&url);
                }
            }
            None => status.set(Some(proof.status)),
        },
        Some(Err(err)) => problem.set(Some(err)),
        None => {}
    });
    move || {
        let user = session.user()?;
        user.wallet.as_ref()?;
        let badge = user.wallet_badge.clone();
        let profile = profile_path(&user.username);
        Some(view! {
            <section class="card verify-wallet" data-testid="verify-wallet" aria-labelledby="verify-title">
                <h2 id="verify-title">{tr!(settings_verify.title)}</h2>
                <p><A href=profile>{tr!(settings_verify.profile_link)}</A></p>
                {match badge {
                    Some(badge) => view! { <VerifiedWallet badge=badge/> }.into_any(),
                    None => view! {
                        <p>{tr!(settings_verify.text)}</p>
                        <p class="muted" role="status" data-testid="verify-status">{move || match status.get() {
                            Some(VerificationStatus::Approved) => t_string!(i18n, settings_verify.checking),
                            Some(VerificationStatus::Declined) => t_string!(i18n, settings_verify.declined),
                            Some(VerificationStatus::Failed) => t_string!(i18n, settings_verify.failed),
                            Some(VerificationStatus::Unsupported) => text::field(i18n.get_locale(), FieldCode::ProofUnsupported),
                            _ => t_string!(i18n, settings_verify.none),
                        }}</p>
                        <p class="form-error" role="alert">{move || problem.get().map(|err| {
                            match err.fields().get("wallet_address") {
                                Some(field) => text::field(i18n.get_locale(), field.code).to_owned(),
                                None => text::api_error(i18n.get_locale(), &err),
                            }
                        })}</p>
                        <button class="button" type="button" data-testid="verify-wallet-button"
                            disabled=move || start.pending().get()
                            on:click=move |_| { problem.set(None); start.dispatch(()); }>
                            {move || if start.pending().get() { t_string!(i18n, settings_verify.opening) } else { t_string!(i18n, settings_verify.button) }}
                        </button>
                    }.into_any(),
                }}
            </section>
        })
    }
}
