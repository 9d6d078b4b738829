//! Any unknown path.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::pages::Page;

/// The not-found page.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. Check the link, or start from the home page."</p>
            <A href=Page::Home.path() attr:class="button">"Go to the home page"</A>
        </section>
    }
}
