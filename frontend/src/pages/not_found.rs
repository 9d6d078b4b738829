//! Any unknown path.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::heading::Heading;
use crate::pages::Page;
use crate::text::tr;

/// The not-found page.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="narrow">
            <Heading text=tr!(not_found.title)/>
            <p>{tr!(not_found.text)}</p>
            <A href=Page::Home.path() attr:class="button">{tr!(app.go_home)}</A>
        </section>
    }
}
