//! What a page shows when loading failed: the reason, and a way to try again when trying again
//! can help.

use leptos::prelude::*;

use crate::api::client::ApiError;
use crate::i18n::use_i18n;
use crate::text;
use crate::text::tr;

/// An error, with a retry button unless the answer was a refusal that a retry repeats.
#[component]
pub fn Problem(error: ApiError, retry: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let retryable = error.is_retryable();
    view! {
        <div class="problem" role="alert">
            <p>{move || text::api_error(i18n.get_locale(), &error)}</p>
            {retryable.then(|| view! {
                <button class="button secondary" on:click=move |_| retry.run(())>{tr!(app.try_again)}</button>
            })}
        </div>
    }
}
