//! A link to keep: shown in a read-only field with a button that copies it, and a polite
//! announcement of whether the clipboard took it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{t_string, use_i18n};

/// The labelled field `id` holding `link`, with its copy button.
#[component]
pub fn CopyLink(id: &'static str, #[prop(into)] label: TextProp, link: String) -> impl IntoView {
    let i18n = use_i18n();
    // None until a copy is tried; then whether the clipboard took the link.
    let copied = RwSignal::new(None::<bool>);
    let to_copy = link.clone();
    let copy = move |_| {
        let written = window().navigator().clipboard().write_text(&to_copy);
        spawn_local(async move {
            let taken = wasm_bindgen_futures::JsFuture::from(written).await.is_ok();
            // The page may be gone by the time the browser answers.
            let _ = copied.try_set(Some(taken));
        });
    };
    view! {
        <label for=id class="copy-label">{move || label.get()}</label>
        <div class="with-unit">
            <input id=id readonly value=link/>
            <button class="button secondary" type="button" on:click=copy>
                {move || match copied.get() {
                    None => t_string!(i18n, room.copy),
                    Some(true) => t_string!(i18n, room.copied),
                    Some(false) => t_string!(i18n, room.copy_failed),
                }}
            </button>
        </div>
        <p class="muted" aria-live="polite" class:visually-hidden=move || copied.get().is_none()>
            {move || copied.get().map(|ok| if ok { t_string!(i18n, room.copied) } else { t_string!(i18n, room.copy_failed) })}
        </p>
    }
}
