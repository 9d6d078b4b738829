//! The top navigation bar: brand, and either log-in/sign-up links or the user and a log-out button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::i18n::{t_string, use_i18n};
use crate::live::Live;
use crate::pages::Page;
use crate::session::Session;
use crate::text::tr;

/// The navigation bar.
#[component]
pub fn Nav() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let i18n = use_i18n();
    let navigate = use_navigate();
    let signing_out = RwSignal::new(false);
    let sign_out = move |_| {
        let navigate = navigate.clone();
        signing_out.set(true);
        spawn_local(async move {
            session.sign_out().await;
            signing_out.set(false);
            navigate(
                &format!("{}?signed_out", Page::Home.path()),
                Default::default(),
            );
        });
    };
    view! {
        <header class="topbar">
            <nav class="container nav" aria-label=tr!(nav.label)>
                <A href=Page::Home.path() attr:class="brand">"Shifting"</A>
                <div class="nav-links">
                    <Show when=move || session.ready.get() fallback=|| view! { <span class="muted">"…"</span> }>
                        {
                            let sign_out = sign_out.clone();
                            move || match session.user() {
                                Some(user) => view! {
                                    <A href=Page::Dashboard.path()>{tr!(nav.dashboard)}</A>
                                    <A href=Page::Messages.path() attr:data-testid="nav-messages">
                                        {tr!(nav.messages)}
                                        {move || live.unread.get().filter(|n| *n > 0).map(|n| view! {
                                            " " <span class="badge" data-testid="unread-total">
                                                <span class="visually-hidden">{move || t_string!(i18n, nav.unread, count = n).to_string()}</span>
                                                <span aria-hidden="true">{n}</span>
                                            </span>
                                        })}
                                    </A>
                                    <A href=Page::NewRoom.path()>{tr!(nav.new_room)}</A>
                                    <A href=Page::Settings.path()>{tr!(nav.settings)}</A>
                                    {(user.role == shifting_shared::api::Role::Admin).then(|| view! {
                                        <A href=crate::pages::admin::ADMIN_PATH attr:data-testid="nav-admin">{tr!(nav.admin)}</A>
                                    })}
                                    <span class="who" data-testid="signed-in-as"><span class="who-label">{tr!(nav.signed_in_as)} " "</span><strong>{user.username}</strong></span>
                                    <button class="button secondary" on:click=sign_out.clone() disabled=move || signing_out.get()>
                                        {tr!(nav.log_out)}
                                    </button>
                                }.into_any(),
                                None => view! {
                                    <A href=Page::Login.path()>{tr!(nav.log_in)}</A>
                                    <A href=Page::Signup.path() attr:class="button">{tr!(nav.sign_up)}</A>
                                }.into_any(),
                            }
                        }
                    </Show>
                </div>
            </nav>
        </header>
    }
}
