//! The reader's language: the choice made in the switcher (kept in the browser's local storage),
//! else the first of the browser's preferred languages the app speaks, else English. `<html
//! lang>` follows it, so screen readers pronounce the page in the right language.

use leptos::prelude::*;

use crate::i18n::{I18nLocaleTrait, Locale, use_i18n};
use crate::text::tr;

/// The API's name of a language of the app.
pub fn api_language(locale: Locale) -> shifting_shared::Language {
    match locale {
        Locale::es => shifting_shared::Language::Es,
        Locale::en => shifting_shared::Language::En,
    }
}

/// Where the choice is kept.
const STORAGE_KEY: &str = "shifting.language";

fn storage() -> Option<web_sys::Storage> {
    // Storage can be switched off (private modes, policies): then the choice lasts the visit.
    window().local_storage().ok().flatten()
}

/// The language to start in.
pub fn preferred() -> Locale {
    let saved = storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|tag| {
            Locale::get_all()
                .iter()
                .copied()
                .find(|l| l.as_str() == tag)
        });
    saved.unwrap_or_else(|| {
        let languages: Vec<String> = window()
            .navigator()
            .languages()
            .iter()
            .filter_map(|l| l.as_string())
            .collect();
        Locale::find_locale(&languages)
    })
}

/// Keeps `<html lang>` on the current language.
pub fn follow_on_html() {
    let i18n = use_i18n();
    Effect::new(move |_| {
        let tag = i18n.get_locale().as_str();
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", tag);
        }
    });
}

/// A labelled `<select>` of the app's languages, each named in itself.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let on_change = move |ev: leptos::ev::Event| {
        let chosen = match event_target_value(&ev).as_str() {
            "es" => Locale::es,
            _ => Locale::en,
        };
        i18n.set_locale(chosen);
        if let Some(storage) = storage() {
            let _ = storage.set_item(STORAGE_KEY, chosen.as_str());
        }
    };
    view! {
        <div class="language">
            <label for="language">{tr!(app.language)}</label>
            <select id="language" name="language" on:change=on_change data-testid="language">
                <option value="en" lang="en" selected=move || i18n.get_locale() == Locale::en>"English"</option>
                <option value="es" lang="es" selected=move || i18n.get_locale() == Locale::es>"Español"</option>
            </select>
        </div>
    }
}
