//! `/`: what Shifting is and how to start.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shifting_shared::RoomCode;

use crate::components::first_steps::FirstSteps;
use crate::components::heading::Heading;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::{Page, room_path};
use crate::session::Session;
use crate::text::tr;

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    // Where a log-out lands: said once, so that leaving is confirmed.
    let query = use_query_map();
    let signed_out = move || query.read().get("signed_out").is_some();
    let deleted = move || query.read().get("account_deleted").is_some();
    view! {
        <section class="hero">
            <Heading text=tr!(home.title)/>
            <p class="lead">{tr!(home.lead)}</p>
            {move || match session.user() {
                Some(user) => {
                    let name = user.username;
                    view! {
                        <p class="welcome" data-testid="welcome">{t!(i18n, home.welcome, name = name.clone())}</p>
                        <FirstSteps/>
                    }.into_any()
                }
                None => view! {
                    {move || signed_out().then(|| view! {
                        <p class="notice" role="status" data-testid="signed-out">{tr!(home.signed_out)}</p>
                    })}
                    {move || deleted().then(|| view! {
                        <p class="notice" role="status" data-testid="account-deleted">{tr!(home.account_deleted)}</p>
                    })}
                    <div class="actions">
                        <A href=Page::Signup.path() attr:class="button">{tr!(home.create_account)}</A>
                        <A href=Page::Login.path() attr:class="button secondary">{tr!(home.log_in)}</A>
                    </div>
                }.into_any(),
            }}
        </section>
        <OpenByCode/>
        <section class="steps" aria-label=tr!(home.how_it_works)>
            <article class="card">
                <h2>{tr!(home.step1_title)}</h2>
                <p>{tr!(home.step1_text)}</p>
            </article>
            <article class="card">
                <h2>{tr!(home.step2_title)}</h2>
                <p>{tr!(home.step2_text)}</p>
            </article>
            <article class="card">
                <h2>{tr!(home.step3_title)}</h2>
                <p>{tr!(home.step3_text)}</p>
            </article>
        </section>
    }
}

/// A box to open a room by its code.
#[component]
fn OpenByCode() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let code = RwSignal::new(String::new());
    let invalid = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match RoomCode::parse(&code.get_untracked()) {
            Ok(code) => navigate(&room_path(code.as_str()), Default::default()),
            Err(_) => invalid.set(true),
        }
    };
    view! {
        <section class="card open-code" aria-labelledby="open-code-title">
            <h2 id="open-code-title">{tr!(home.code_title)}</h2>
            <form class="with-unit" on:submit=on_submit novalidate>
                <label class="visually-hidden" for="room-code">{tr!(home.code_label)}</label>
                <input id="room-code" name="code" placeholder="K7M2QX" autocomplete="off" maxlength="12"
                    bind:value=code aria-describedby="room-code-error"
                    aria-invalid=move || if invalid.get() { "true" } else { "false" }/>
                <button class="button" type="submit">{tr!(home.open_room)}</button>
            </form>
            <p class="field-error" id="room-code-error" role="alert">
                {move || invalid.get().then(|| t_string!(i18n, home.code_invalid))}
            </p>
        </section>
    }
}
