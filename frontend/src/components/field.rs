//! A labelled form field with its hint and its error message next to it: the one markup every
//! form uses.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use shifting_shared::FieldErrors;

use crate::i18n::Locale;
use crate::text;

/// The translated problem of field `name` in `errors`, following the language.
pub fn error_for(
    i18n: I18nContext<Locale>,
    errors: RwSignal<FieldErrors>,
    name: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        let locale = i18n.get_locale();
        errors.with(|e| e.get(name).map(|e| text::field(locale, e.code).to_owned()))
    })
}

/// A text input (or, `multiline`, a text area) bound to `value`, with a hint under the label, an
/// optional unit after the input, and `error` below it; marks itself invalid while there is one.
#[component]
pub fn Field(
    /// Element id and form name.
    name: &'static str,
    /// Visible label.
    #[prop(into)]
    label: TextProp,
    /// Input type (`text`, `email`, `password`).
    #[prop(default = "text")]
    kind: &'static str,
    /// Browser autocomplete hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Virtual keyboard hint (`decimal` for prices).
    #[prop(optional)]
    inputmode: Option<&'static str>,
    /// A text area of four rows instead of a one-line input.
    #[prop(optional)]
    multiline: bool,
    /// Help text under the label.
    #[prop(optional, into)]
    hint: Option<TextProp>,
    /// Shown after the input, such as the currency of a price.
    #[prop(optional, into)]
    unit: MaybeProp<String>,
    /// The value.
    value: RwSignal<String>,
    /// The error for this field, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let has_hint = hint.is_some();
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let invalid = move || {
        if error.get().is_some() {
            "true"
        } else {
            "false"
        }
    };
    let control = if multiline {
        view! {
            <textarea
                id=name
                name=name
                rows="4"
                autocomplete=autocomplete
                bind:value=value
                aria-invalid=invalid
                aria-describedby=described_by
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=name
                name=name
                type=kind
                inputmode=inputmode
                autocomplete=autocomplete
                bind:value=value
                aria-invalid=invalid
                aria-describedby=described_by
            />
        }
        .into_any()
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=name>{move || label.get()}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{move || hint.get()}</p> })}
            <div class:with-unit=move || unit.get().is_some()>
                {control}
                {move || unit.get().map(|unit| view! { <span class="unit">{unit}</span> })}
            </div>
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}
