//! A page's main heading: it names the page in the document title and takes the keyboard and
//! screen-reader focus when the page is navigated to, so the new page is announced from its top.

use leptos::html::{ElementType, H1};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use wasm_bindgen::JsCast;

/// The path whose heading last took the focus (at first the page landed on, which keeps it), so
/// that a page re-rendering in place (a room after a pause, a payment's live status) does not
/// pull the focus away from where it is.
#[derive(Clone, Copy, Debug)]
pub struct FocusedPath(pub RwSignal<Option<String>>);

/// The page's `<h1>`.
#[component]
pub fn Heading(
    /// The heading, also the document title before "· Shifting".
    #[prop(into)]
    text: TextProp,
) -> impl IntoView {
    let node = NodeRef::<H1>::new();
    let location = use_location();
    let focused = use_context::<FocusedPath>();
    let title = text.clone();
    Effect::new(move |_| document().set_title(&format!("{} · Shifting", title.get())));
    Effect::new(move |_| {
        let Some(heading) = node.get() else { return };
        let path = location.pathname.get_untracked();
        if let Some(FocusedPath(last)) = focused {
            if last.get_untracked().as_deref() == Some(path.as_str()) {
                return;
            }
            last.set(Some(path));
        }
        let _ = heading.focus();
    });
    view! { <h1 tabindex="-1" node_ref=node>{move || text.get()}</h1> }
}

/// Gives the focus to `node` once it is shown: for a part of a page that replaces the control
/// the keyboard was on (a quote replacing its form, a confirmation replacing its button), so
/// the focus is not dropped back to the start of the page.
pub fn focus_when_shown<E>(node: NodeRef<E>)
where
    E: ElementType,
    E::Output: JsCast + Clone + 'static,
{
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            let _ = element.unchecked_ref::<web_sys::HtmlElement>().focus();
        }
    });
}
