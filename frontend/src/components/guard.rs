//! Pages that need a signed-in user.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

use crate::pages::Page;
use crate::session::Session;
use crate::text::tr;

/// Shows `children` to a signed-in user; sends anyone else to log in and back here.
#[component]
pub fn RequireLogin(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<Session>();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.ready.get() && session.user().is_none() {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            navigate(
                &format!("{}?next={next}", Page::Login.path()),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! {
        <Show
            when=move || session.ready.get() && session.user().is_some()
            fallback=move || view! { <p class="muted" aria-busy="true">{tr!(app.loading)}</p> }
        >
            {children()}
        </Show>
    }
}
