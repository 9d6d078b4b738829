//! On a completed purchase's page: the buyer writes, changes or deletes their review; the
//! seller reads it and posts or changes their public reply.

use leptos::prelude::*;
use shifting_shared::api::TransactionResponse;
use shifting_shared::review::ReviewResponse;
use shifting_shared::{FieldCode, FieldError, FieldErrors, TransactionStatus};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::reviews::ReviewCard;
use crate::format;
use crate::i18n::{t_string, use_i18n};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The review part of a transaction page: nothing before the payment completed.
#[component]
pub fn ReviewPanel(t: TransactionResponse, changed: Callback<()>) -> impl IntoView {
    let session = expect_context::<Session>();
    let completed = t.status == TransactionStatus::Completed;
    move || {
        if !completed {
            return None;
        }
        let me = session.user().map(|u| u.username);
        let t = t.clone();
        let view = if t.buyer.guest {
            view! { <p class="muted">{tr!(reviews.guest_review)}</p> }.into_any()
        } else if me.as_deref() == Some(t.buyer.username.as_str()) {
            view! { <BuyerReview t=t changed=changed/> }.into_any()
        } else if me.as_deref() == Some(t.seller.username.as_str()) {
            view! { <SellerReply t=t changed=changed/> }.into_any()
        } else {
            return None;
        };
        Some(view! {
            <section class="panel review-panel no-print" data-testid="review-panel" aria-labelledby="review-panel-title">
                {view}
            </section>
        })
    }
}

/// What the buyer can do: write a review while the window is open, change it while allowed,
/// delete it.
#[component]
fn BuyerReview(t: TransactionResponse, changed: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let editing = RwSignal::new(false);
    let deleted = RwSignal::new(false);
    let id = t.id.to_string();
    let now = format::now();
    match t.review.clone() {
        Some(review) => {
            let editable = review.editable_until.filter(|until| *until > now);
            let replied = review.reply.is_some();
            let confirm = RwSignal::new(false);
            let problem = RwSignal::new(None::<ApiError>);
            let delete_id = id.clone();
            let delete = Action::new_local(move |(): &()| {
                let id = delete_id.clone();
                async move { api::reviews::delete(expect_context::<Session>(), &id).await }
            });
            Effect::new(move |_| match delete.value().get() {
                Some(Ok(())) => {
                    deleted.set(true);
                    changed.run(());
                }
                Some(Err(err)) => problem.set(Some(err)),
                None => {}
            });
            let shown = review.clone();
            view! {
                <h2 class="section-title" id="review-panel-title">{tr!(reviews.yours)}</h2>
                <Show when=move || editing.get() fallback=move || view! { <ReviewCard review=shown.clone()/> }>
                    <ReviewForm id=id.clone() existing=Some(review.clone()) done=Callback::new(move |()| { editing.set(false); changed.run(()); })/>
                </Show>
                {match (editable, replied) {
                    (Some(until), _) => view! {
                        <p class="muted">{move || t_string!(i18n, reviews.editable_until, date = format::day(i18n.get_locale(), &until)).to_string()}</p>
                    }.into_any(),
                    (None, true) => view! { <p class="muted">{tr!(reviews.locked)}</p> }.into_any(),
                    (None, false) => ().into_any(),
                }}
                <div class="actions">
                    {editable.map(|_| view! {
                        <Show when=move || !editing.get()>
                            <button class="button secondary" type="button" data-testid="edit-review"
                                on:click=move |_| editing.set(true)>{tr!(reviews.change)}</button>
                        </Show>
                    })}
                    <Show when=move || confirm.get() fallback=move || view! {
                        <button class="button secondary" type="button" data-testid="delete-review"
                            on:click=move |_| confirm.set(true)>{tr!(reviews.delete)}</button>
                    }>
                        <p role="alert">{tr!(reviews.delete_question)}</p>
                        <button class="button danger" type="button" data-testid="confirm-delete-review"
                            disabled=move || delete.pending().get() on:click=move |_| { delete.dispatch(()); }>{tr!(reviews.delete_confirm)}</button>
                        <button class="button secondary" type="button" on:click=move |_| confirm.set(false)>{tr!(reviews.keep)}</button>
                    </Show>
                </div>
                <p class="form-error" role="alert">{move || problem.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            }
            .into_any()
        }
        None => {
            let open_until = t.review_until.filter(|until| *until > now);
            view! {
                <h2 class="section-title" id="review-panel-title">{tr!(reviews.write_title)}</h2>
                <Show when=move || deleted.get()>
                    <p class="muted" role="status">{tr!(reviews.deleted)}</p>
                </Show>
                {match open_until {
                    Some(until) => view! {
                        <p class="muted">{move || t_string!(i18n, reviews.review_until, date = format::day(i18n.get_locale(), &until)).to_string()}</p>
                        <ReviewForm id=id.clone() existing=None done=changed/>
                    }.into_any(),
                    None => view! { <p class="muted">{tr!(reviews.window_over)}</p> }.into_any(),
                }}
            }
            .into_any()
        }
    }
}

/// Stars and text, for a new review or a change to `existing`.
#[component]
fn ReviewForm(id: String, existing: Option<ReviewResponse>, done: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let rating = RwSignal::new(existing.as_ref().map_or(0, |r| r.rating));
    let body = RwSignal::new(
        existing
            .as_ref()
            .map(|r| r.text.clone())
            .unwrap_or_default(),
    );
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let editing = existing.is_some();
    let send = Action::new_local(move |(stars, text): &(u8, String)| {
        let (id, stars, text) = (id.clone(), *stars, text.clone());
        let session = expect_context::<Session>();
        async move {
            if editing {
                api::reviews::update(session, &id, stars, text).await
            } else {
                api::reviews::create(session, &id, stars, text).await
            }
        }
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(_)) => done.run(()),
        Some(Err(err)) => {
            let fields = err.fields();
            // A conflict says why on `review`: shown as the form's message.
            form_error.set(
                (fields.get("rating").is_none() && fields.get("text").is_none()).then_some(err),
            );
            errors.set(fields);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        let stars = rating.get_untracked();
        if stars == 0 {
            errors.set(FieldErrors::one(
                "rating",
                FieldError::new(FieldCode::RatingRange, "pick a rating"),
            ));
            return;
        }
        errors.set(FieldErrors::new());
        send.dispatch((stars, body.get_untracked()));
    };
    // Said until stars are chosen.
    let missing = error_for(i18n, errors, "rating");
    let rating_error = Signal::derive(move || missing.get().filter(|_| rating.get() == 0));
    let conflict = move || {
        form_error.get().map(|err| {
            let locale = i18n.get_locale();
            match err.fields().get("review") {
                Some(field) => format!(
                    "{} {}",
                    t_string!(i18n, reviews.yours),
                    text::field(locale, field.code)
                ),
                None => text::api_error(locale, &err),
            }
        })
    };
    view! {
        <form class="form review-form" on:submit=on_submit novalidate data-testid="review-form">
            <fieldset class="stars-input" aria-describedby="rating-error">
                <legend>{tr!(reviews.rating_legend)}</legend>
                {(1..=5u8).map(|stars| {
                    let input_id = format!("rating-{stars}");
                    view! {
                        <input type="radio" name="rating" id=input_id.clone() value=stars.to_string()
                            prop:checked=move || rating.get() == stars
                            on:change=move |_| rating.set(stars)/>
                        <label for=input_id>
                            <span aria-hidden="true">{"\u{2605}".repeat(usize::from(stars))}</span>
                            <span class="visually-hidden">{move || if stars == 1 {
                                t_string!(i18n, reviews.star_one).to_string()
                            } else {
                                t_string!(i18n, reviews.stars_n, stars = stars).to_string()
                            }}</span>
                        </label>
                    }
                }).collect_view()}
                <p class="field-error" id="rating-error" role="alert">{move || rating_error.get()}</p>
            </fieldset>
            <Field name="review_text" label=tr!(reviews.text_label) hint=tr!(reviews.text_hint)
                multiline=true value=body error=error_for(i18n, errors, "text")/>
            <p class="form-error" role="alert">{conflict}</p>
            <button class="button" type="submit" data-testid="publish-review" disabled=move || send.pending().get()>
                {move || if send.pending().get() {
                    t_string!(i18n, reviews.publishing)
                } else if editing {
                    t_string!(i18n, reviews.save)
                } else {
                    t_string!(i18n, reviews.publish)
                }}
            </button>
        </form>
    }
}

/// What the seller can do: read the review and post or change the public reply.
#[component]
fn SellerReply(t: TransactionResponse, changed: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let Some(review) = t.review.clone() else {
        return view! {
            <h2 class="section-title" id="review-panel-title">{tr!(reviews.buyer_review)}</h2>
            <p class="muted">{tr!(reviews.not_reviewed_yet)}</p>
        }
        .into_any();
    };
    let has_reply = review.reply.is_some();
    let reply = RwSignal::new(
        review
            .reply
            .as_ref()
            .map(|r| r.text.clone())
            .unwrap_or_default(),
    );
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let id = t.id.to_string();
    let send = Action::new_local(move |text: &String| {
        let (id, text) = (id.clone(), text.clone());
        async move { api::reviews::reply(expect_context::<Session>(), &id, text).await }
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(_)) => changed.run(()),
        Some(Err(err)) => {
            let fields = err.fields();
            form_error.set(fields.get("text").is_none().then_some(err));
            errors.set(fields);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        let text = reply.get_untracked();
        if text.trim().is_empty() {
            errors.set(FieldErrors::one(
                "text",
                FieldError::new(FieldCode::Required, "is required"),
            ));
            return;
        }
        errors.set(FieldErrors::new());
        send.dispatch(text);
    };
    view! {
        <h2 class="section-title" id="review-panel-title">{tr!(reviews.buyer_review)}</h2>
        <ReviewCard review=review/>
        <form class="form" on:submit=on_submit novalidate data-testid="reply-form">
            <Field name="reply_text" label=tr!(reviews.reply_label) hint=tr!(reviews.reply_hint)
                multiline=true value=reply error=error_for(i18n, errors, "text")/>
            <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            <button class="button" type="submit" data-testid="publish-reply" disabled=move || send.pending().get()>
                {move || if has_reply { t_string!(i18n, reviews.reply_save) } else { t_string!(i18n, reviews.reply_publish) }}
            </button>
        </form>
    }
    .into_any()
}
