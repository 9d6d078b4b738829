//! The first steps of a new seller (set the wallet, open a room, share it), each ticked off
//! when done; the list goes away once all three are.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::pages::{Page, room_path};
use crate::session::Session;
use crate::text::tr;

/// The checklist, for a signed-in user, until every step is done.
#[component]
pub fn FirstSteps() -> impl IntoView {
    let session = expect_context::<Session>();
    let rooms = LocalResource::new(move || async move {
        api::rooms::my_rooms(session).await.map(|list| list.rooms)
    });
    move || {
        let rooms = rooms.get()?.ok()?;
        let wallet = session.user()?.wallet_address.is_some();
        let first_room = rooms.last().map(|own| room_path(&own.room.code));
        let sold = rooms.iter().any(|own| own.sales > 0);
        if wallet && first_room.is_some() && sold {
            return None;
        }
        let share_link = first_room
            .clone()
            .unwrap_or_else(|| Page::NewRoom.path().to_owned());
        Some(view! {
            <section class="card first-steps" aria-labelledby="first-steps-title" data-testid="first-steps">
                <h2 id="first-steps-title">{tr!(first_steps.title)}</h2>
                <ol>
                    <Step done=wallet href=Page::Settings.path().to_owned() text=tr!(first_steps.wallet)/>
                    <Step done=first_room.is_some() href=Page::NewRoom.path().to_owned() text=tr!(first_steps.room)/>
                    <Step done=sold href=share_link text=tr!(first_steps.share)/>
                </ol>
            </section>
        })
    }
}

#[component]
fn Step(done: bool, href: String, #[prop(into)] text: TextProp) -> impl IntoView {
    view! {
        <li class:done=done data-done=done.to_string()>
            <span class="tick" aria-hidden="true">{if done { "✓" } else { "" }}</span>
            <A href=href>{move || text.get()}</A>
            " "
            <span class="muted">{if done { tr!(first_steps.done) } else { tr!(first_steps.to_do) }}</span>
        </li>
    }
}
