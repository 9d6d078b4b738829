//! "Approve on my phone": the wallet's consent link as a QR code, shown on request while the
//! approval is open (the quote step, and the payment page while it awaits approval). The
//! phone's browser lands on our finish page; the status change is pushed to this page, and the
//! quote step moves to the payment page by itself.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shifting_shared::conversation::LiveEvent;

use crate::components::qr::Qr;
use crate::i18n::{t_string, use_i18n};
use crate::live::Live;
use crate::text::tr;

/// The button and, once pressed, the QR code of `url`. With `follow`, a pushed status change
/// of `transaction` takes this browser to its payment page.
#[component]
pub fn PhoneApproval(url: String, #[prop(optional)] follow: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let shown = RwSignal::new(false);
    let link = url.clone();
    if let Some(transaction) = follow {
        let navigate = use_navigate();
        expect_context::<Live>().listen(move |event| {
            if shown.get_untracked()
                && let LiveEvent::Transaction { id, .. } = event
                && id.to_string() == transaction
            {
                navigate(&format!("/payments/{transaction}"), Default::default());
            }
        });
    }
    view! {
        <div class="phone-approval">
            <button class="button secondary" type="button" data-testid="approve-on-phone"
                aria-expanded=move || shown.get().to_string() aria-controls="phone-qr"
                on:click=move |_| shown.update(|s| *s = !*s)>
                {tr!(payment.phone_button)}
            </button>
            <div id="phone-qr" data-url=link hidden=move || !shown.get()>
                {move || shown.get().then(|| {
                    let label = Signal::derive(move || t_string!(i18n, payment.phone_qr_label).to_string());
                    view! {
                        <Qr text=url.clone() label=label/>
                        <p class="muted" data-testid="phone-hint">{tr!(payment.phone_hint)}</p>
                    }
                })}
            </div>
        </div>
    }
}
