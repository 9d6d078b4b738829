//! What a page shows when loading failed: the reason and a way to try again.

use leptos::prelude::*;

use crate::api::client::ApiError;

/// An error with a retry button.
#[component]
pub fn Problem(error: ApiError, retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="problem" role="alert">
            <p>{error.message()}</p>
            <button class="button secondary" on:click=move |_| retry.run(())>"Try again"</button>
        </div>
    }
}
