//! The seller's pictures and delivery file on the room page: what is there, adding (straight
//! from the file picker, sent as is: the server checks and re-encodes it) and removing.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shifting_shared::api::{DeliveryFileResponse, RoomResponse};

use crate::api;
use crate::api::client::ApiError;
use crate::format;
use crate::i18n::{t_string, use_i18n};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The most pictures a room has (the server says so too).
const MAX_PICTURES: usize = 4;

/// The file a file input holds, and clears it so the same file can be chosen again.
fn chosen_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = event_target(ev);
    let file = input.files()?.get(0);
    input.set_value("");
    file
}

/// An error for people: a picture's own problem (its field code), else the request's.
fn problem(error: &ApiError, locale: crate::i18n::Locale) -> String {
    match error.fields().get("image") {
        Some(field) => text::field(locale, field.code).to_owned(),
        None => text::api_error(locale, error),
    }
}

/// The room's pictures, with remove buttons and the picker that adds one.
#[component]
pub fn PicturesEditor(room: RoomResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let code = room.code.clone();
    let run =
        move |work: std::pin::Pin<Box<dyn Future<Output = Result<RoomResponse, ApiError>>>>| {
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                let answer = work.await;
                let _ = busy.try_set(false);
                match answer {
                    Ok(_) => changed.run(()),
                    Err(err) => {
                        let _ = error.try_set(Some(err));
                    }
                }
            });
        };
    let add = {
        let code = code.clone();
        move |ev: leptos::ev::Event| {
            if let Some(file) = chosen_file(&ev) {
                let code = code.clone();
                run(Box::pin(async move {
                    api::rooms::add_image(session, &code, file).await
                }));
            }
        }
    };
    let full = room.images.len() >= MAX_PICTURES;
    let total = room.images.len();
    view! {
        <section class="stack media-editor" data-testid="pictures">
            <h3>{tr!(room.pictures_title)}</h3>
            <p class="muted" id="room-picture-hint">{tr!(room.pictures_hint)}</p>
            {(!room.images.is_empty()).then(|| view! {
                <ul class="picture-list">
                    {room.images.iter().cloned().enumerate().map(|(index, image)| {
                        let (code, id, n) = (code.clone(), image.id.to_string(), index + 1);
                        view! {
                            <li>
                                <img src=image.thumbnail_url alt="" width="96" height="96"/>
                                <button class="button secondary" type="button" data-testid="remove-picture"
                                    disabled=move || busy.get()
                                    on:click=move |_| {
                                        let (code, id) = (code.clone(), id.clone());
                                        run(Box::pin(async move { api::rooms::remove_image(session, &code, &id).await }));
                                    }>
                                    {move || t_string!(i18n, room.remove_picture, n, total).to_string()}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            {if full {
                view! { <p class="notice">{tr!(room.pictures_full)}</p> }.into_any()
            } else {
                view! {
                    <input class="visually-hidden" type="file" id="room-picture" data-testid="add-picture"
                        accept="image/jpeg,image/png,image/webp" aria-describedby="room-picture-hint"
                        disabled=move || busy.get() on:change=add/>
                    <label class="button secondary file-button" class:disabled=move || busy.get() for="room-picture">
                        {move || if busy.get() { t_string!(i18n, room.uploading) } else { t_string!(i18n, room.add_picture) }}
                    </label>
                }.into_any()
            }}
            <p class="form-error" role="alert">{move || error.get().map(|e| problem(&e, i18n.get_locale()))}</p>
        </section>
    }
}

/// The file buyers download once their payment completes: attach, replace or remove it.
#[component]
pub fn DeliveryFileEditor(
    code: String,
    current: Option<DeliveryFileResponse>,
    changed: Callback<()>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let finish = move |answer: Result<(), ApiError>| {
        let _ = busy.try_set(false);
        match answer {
            Ok(()) => changed.run(()),
            Err(err) => {
                let _ = error.try_set(Some(err));
            }
        }
    };
    let attach = {
        let code = code.clone();
        move |ev: leptos::ev::Event| {
            let Some(file) = chosen_file(&ev) else { return };
            let code = code.clone();
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                finish(
                    api::rooms::set_delivery_file(session, &code, file)
                        .await
                        .map(|_| ()),
                );
            });
        }
    };
    let remove = move |_| {
        let code = code.clone();
        busy.set(true);
        error.set(None);
        spawn_local(async move { finish(api::rooms::remove_delivery_file(session, &code).await) });
    };
    let has_file = current.is_some();
    view! {
        <section class="stack media-editor" data-testid="delivery-file-editor">
            <h3>{tr!(room.file_title)}</h3>
            <p class="muted" id="delivery-file-hint">{tr!(room.file_hint)}</p>
            {match current {
                Some(file) => view! {
                    <p data-testid="current-file">{file.name.clone()} " · "
                        <span class="muted">{move || format::bytes(i18n.get_locale(), file.size)}</span></p>
                    <button class="button secondary" type="button" data-testid="remove-file"
                        disabled=move || busy.get() on:click=remove>{tr!(room.remove_file)}</button>
                }.into_any(),
                None => view! { <p class="muted">{tr!(room.file_none)}</p> }.into_any(),
            }}
            <input class="visually-hidden" type="file" id="delivery-file" data-testid="attach-file"
                aria-describedby="delivery-file-hint" disabled=move || busy.get() on:change=attach/>
            <label class="button secondary file-button" class:disabled=move || busy.get() for="delivery-file">
                {move || if busy.get() {
                    t_string!(i18n, room.uploading)
                } else if has_file {
                    t_string!(i18n, room.replace_file)
                } else {
                    t_string!(i18n, room.attach_file)
                }}
            </label>
            <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
        </section>
    }
}
