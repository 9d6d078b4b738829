//! A room's pictures: the one on show at full width, and the thumbnails that choose it.

use leptos::prelude::*;
use shifting_shared::api::RoomImage;

use crate::i18n::{t_string, use_i18n};

/// The gallery of a room named `name`; nothing when it has no pictures.
#[component]
pub fn Gallery(images: Vec<RoomImage>, name: String) -> impl IntoView {
    let i18n = use_i18n();
    let total = images.len();
    let shown = RwSignal::new(0_usize);
    let main = {
        let (images, name) = (images.clone(), name.clone());
        move || {
            let index = shown.get().min(total.saturating_sub(1));
            let image = images.get(index).cloned()?;
            let (name, n) = (name.clone(), index + 1);
            Some(view! {
                <img class="gallery-main" src=image.url width=image.width height=image.height
                    data-testid="gallery-main"
                    alt=move || t_string!(i18n, room.picture_alt, n, total, name = name.clone()).to_string()/>
            })
        }
    };
    (total > 0).then(move || view! {
        <figure class="gallery" data-testid="gallery">
            {main.clone()}
            {(total > 1).then(|| view! {
                <ul class="thumbs">
                    {images.iter().cloned().enumerate().map(|(index, image)| {
                        let n = index + 1;
                        view! {
                            <li>
                                <button type="button" class="thumb" aria-pressed=move || (shown.get() == index).to_string()
                                    aria-label=move || t_string!(i18n, room.show_picture, n, total).to_string()
                                    on:click=move |_| shown.set(index)>
                                    <img src=image.thumbnail_url alt="" width="96" height="96" loading="lazy"/>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </figure>
    })
}
