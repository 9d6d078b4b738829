//! Pages that need a signed-in user.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

use crate::pages::Page;
use crate::session::Session;

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
            let next = js_sys_encode(&here);
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
            fallback=|| view! { <p class="muted" aria-busy="true">"Loading…"</p> }
        >
            {children()}
        </Show>
    }
}

/// Percent-encodes a local path for a query parameter.
fn js_sys_encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
