//! In `/settings`: the person's webhook endpoints. Register one (URL, description, events),
//! see its signing secret once, and for each endpoint: its state (why it was turned off), turn
//! it off and on, rotate its secret, delete it, and read its delivery log with "Send again".

use leptos::prelude::*;
use shifting_shared::FieldErrors;
use shifting_shared::webhooks::{
    CreateWebhookRequest, DeliveryResponse, DeliveryStatus, DisabledReason, EventType,
    UpdateWebhookRequest, WebhookResponse,
};

use crate::api;
use crate::api::client::ApiError;
use crate::components::copy::CopyLink;
use crate::components::field::{Field, error_for};
use crate::format;
use crate::i18n::{Locale, t_string, td_string, use_i18n};
use crate::pages::show_refusal;
use crate::session::Session;
use crate::text;
use crate::text::tr;

fn event_words(locale: Locale, event: EventType) -> &'static str {
    match event {
        EventType::TransactionCompleted => td_string!(locale, webhooks.event_completed),
        EventType::TransactionFailed => td_string!(locale, webhooks.event_failed),
        EventType::TransactionExpired => td_string!(locale, webhooks.event_expired),
        EventType::TransactionRejected => td_string!(locale, webhooks.event_rejected),
        EventType::TransactionRefunded => td_string!(locale, webhooks.event_refunded),
        EventType::RoomCreated => td_string!(locale, webhooks.event_room_created),
        EventType::RoomUpdated => td_string!(locale, webhooks.event_room_updated),
        EventType::ReviewCreated => td_string!(locale, webhooks.event_review),
        EventType::MessageCreated => td_string!(locale, webhooks.event_message),
    }
}

fn reason_words(locale: Locale, reason: Option<DisabledReason>) -> &'static str {
    match reason {
        Some(DisabledReason::Failing) => td_string!(locale, webhooks.off_failing),
        Some(DisabledReason::Gone) => td_string!(locale, webhooks.off_gone),
        Some(DisabledReason::Owner) | None => td_string!(locale, webhooks.off_owner),
    }
}

fn status_words(locale: Locale, status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => td_string!(locale, webhooks.status_pending),
        DeliveryStatus::Delivered => td_string!(locale, webhooks.status_delivered),
        DeliveryStatus::Failed => td_string!(locale, webhooks.status_failed),
    }
}

/// On the dashboard: the webhook endpoints Shifting turned off (after 5 days of failures, or a
/// 410 Gone), so their owner learns of it without opening the settings.
#[component]
pub fn TurnedOffWebhooks() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let endpoints = LocalResource::new(move || async move { api::webhooks::list(session).await });
    move || {
        let off: Vec<WebhookResponse> = endpoints
            .get()
            .and_then(Result::ok)
            .map(|list| {
                list.endpoints
                    .into_iter()
                    .filter(|e| {
                        !e.enabled
                            && matches!(
                                e.disabled_reason,
                                Some(DisabledReason::Failing | DisabledReason::Gone)
                            )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (!off.is_empty()).then(|| {
            view! {
                <div class="notice" role="status" data-testid="webhook-turned-off">
                    <p><strong>{tr!(webhooks.turned_off_title)}</strong></p>
                    <ul>
                        {off.into_iter().map(|endpoint| {
                            let reason = endpoint.disabled_reason;
                            view! {
                                <li><span class="code">{endpoint.url.clone()}</span> " — "
                                    {move || reason_words(i18n.get_locale(), reason)}</li>
                            }
                        }).collect_view()}
                    </ul>
                    <p><a href="/settings#webhooks">{tr!(webhooks.turned_off_link)}</a></p>
                </div>
            }
        })
    }
}

/// The settings section.
#[component]
pub fn WebhookSettings() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let version = RwSignal::new(0u32);
    let endpoints = LocalResource::new(move || {
        version.track();
        async move { api::webhooks::list(session).await }
    });
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let chosen = RwSignal::new(vec![EventType::TransactionCompleted]);
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    // The secret shown once: after registering, or after a rotation.
    let secret = RwSignal::new(None::<String>);
    let create = Action::new_local(move |request: &CreateWebhookRequest| {
        let request = request.clone();
        async move { api::webhooks::create(session, &request).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(created)) => {
            secret.set(Some(created.secret));
            url.set(String::new());
            description.set(String::new());
            version.update(|v| *v += 1);
        }
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        errors.set(FieldErrors::new());
        secret.set(None);
        create.dispatch(CreateWebhookRequest {
            url: url.get_untracked(),
            description: description.get_untracked(),
            event_types: chosen.get_untracked(),
        });
    };
    view! {
        <section class="card" id="webhooks" aria-labelledby="webhooks-title" data-testid="webhooks">
            <h2 id="webhooks-title">{tr!(webhooks.title)}</h2>
            <p class="muted">{tr!(webhooks.intro)} " " <a href="/api/docs/" rel="external">{tr!(keys.docs)}</a></p>
            {move || secret.get().map(|secret| view! {
                <div class="notice" role="status" data-testid="webhook-secret">
                    <p><strong>{tr!(webhooks.shown_once)}</strong></p>
                    <CopyLink id="webhook-secret-value" label=tr!(webhooks.secret_label) link=secret/>
                </div>
            })}
            <form class="stack" on:submit=on_submit novalidate>
                <Field name="webhook-url" label=tr!(webhooks.url_label) hint=tr!(webhooks.url_hint) value=url error=error_for(i18n, errors, "url")/>
                <Field name="webhook-description" label=tr!(webhooks.description_label) value=description error=error_for(i18n, errors, "description")/>
                <fieldset class="scopes">
                    <legend>{tr!(webhooks.events_label)}</legend>
                    {EventType::all().map(|event| {
                        let id = format!("event-{}", event.as_str().replace('.', "-"));
                        let label_for = id.clone();
                        view! {
                            <label class="check" for=label_for>
                                <input type="checkbox" id=id
                                    prop:checked=move || chosen.with(|c| c.contains(&event))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| {
                                            c.retain(|e| *e != event);
                                            if on { c.push(event); }
                                        });
                                    }/>
                                " " {move || event_words(i18n.get_locale(), event)}
                            </label>
                        }
                    }).collect_view()}
                    <p class="field-error">{move || error_for(i18n, errors, "event_types").get()}</p>
                </fieldset>
                <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                <button class="button secondary" type="submit" data-testid="webhook-create" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { t_string!(i18n, webhooks.creating) } else { t_string!(i18n, webhooks.create) }}
                </button>
            </form>
            {move || match endpoints.get() {
                None => view! { <p class="muted">{tr!(app.loading)}</p> }.into_any(),
                Some(Err(err)) => view! { <p class="form-error" role="alert">{text::api_error(i18n.get_locale(), &err)}</p> }.into_any(),
                Some(Ok(list)) if list.endpoints.is_empty() => view! { <p class="muted">{tr!(webhooks.none)}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="list" data-testid="webhook-list">
                        {list.endpoints.into_iter().map(|endpoint| view! {
                            <EndpointRow endpoint=endpoint version=version secret=secret/>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

/// What a button on an endpoint asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ask {
    TurnOn,
    TurnOff,
    Rotate,
    Delete,
}

#[component]
fn EndpointRow(
    endpoint: WebhookResponse,
    version: RwSignal<u32>,
    secret: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let id = endpoint.id;
    let error = RwSignal::new(None::<ApiError>);
    let ask = Action::new_local(move |ask: &Ask| {
        let ask = *ask;
        async move {
            match ask {
                Ask::TurnOn | Ask::TurnOff => {
                    let request = UpdateWebhookRequest {
                        enabled: Some(ask == Ask::TurnOn),
                        ..UpdateWebhookRequest::default()
                    };
                    api::webhooks::update(session, id, &request)
                        .await
                        .map(|_| None)
                }
                Ask::Rotate => api::webhooks::rotate(session, id)
                    .await
                    .map(|r| Some(r.secret)),
                Ask::Delete => api::webhooks::delete(session, id).await.map(|()| None),
            }
        }
    });
    Effect::new(move |_| match ask.value().get() {
        Some(Ok(new_secret)) => {
            if new_secret.is_some() {
                secret.set(new_secret);
            }
            version.update(|v| *v += 1);
        }
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    let log_open = RwSignal::new(false);
    let enabled = endpoint.enabled;
    let reason = endpoint.disabled_reason;
    let disabled_at = endpoint.disabled_at;
    let failing_since = endpoint.failing_since;
    let events = endpoint.event_types.clone();
    let busy = move || ask.pending().get();
    view! {
        <li class="row webhook" data-testid="webhook">
            <div class="row-main">
                <span class="code">{endpoint.url.clone()}</span>
                {(!endpoint.description.is_empty()).then(|| view! { <span>{endpoint.description.clone()}</span> })}
                <span class="small">{move || events.iter().map(|e| event_words(i18n.get_locale(), *e)).collect::<Vec<_>>().join(" · ")}</span>
                {if enabled {
                    view! {
                        <span class="small" data-testid="webhook-state">
                            <span class="badge ok">{tr!(webhooks.on)}</span>
                            {failing_since.map(|since| view! {
                                " " <span class="muted">{move || td_string!(i18n.get_locale(), webhooks.failing_since, since = format::date_time(i18n.get_locale(), &since)).to_string()}</span>
                            })}
                        </span>
                    }.into_any()
                } else {
                    view! {
                        <p class="notice" role="status" data-testid="webhook-state">
                            <span class="badge off">{tr!(webhooks.off)}</span> " "
                            {move || {
                                let locale = i18n.get_locale();
                                let when = disabled_at.map(|at| format::date_time(locale, &at)).unwrap_or_default();
                                td_string!(locale, webhooks.off_since, reason = reason_words(locale, reason), when).to_string()
                            }}
                        </p>
                    }.into_any()
                }}
                <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            </div>
            <div class="row-side">
                {if enabled {
                    view! { <button class="button secondary" type="button" data-testid="webhook-off" disabled=busy on:click=move |_| { ask.dispatch(Ask::TurnOff); }>{tr!(webhooks.turn_off)}</button> }.into_any()
                } else {
                    view! { <button class="button secondary" type="button" data-testid="webhook-on" disabled=busy on:click=move |_| { ask.dispatch(Ask::TurnOn); }>{tr!(webhooks.turn_on)}</button> }.into_any()
                }}
                <button class="button secondary" type="button" data-testid="webhook-rotate" disabled=busy on:click=move |_| { ask.dispatch(Ask::Rotate); }>{tr!(webhooks.rotate)}</button>
                <button class="button secondary" type="button" data-testid="webhook-log-toggle" aria-expanded=move || log_open.get().to_string()
                    on:click=move |_| log_open.update(|open| *open = !*open)>
                    {move || if log_open.get() { t_string!(i18n, webhooks.hide_log) } else { t_string!(i18n, webhooks.show_log) }}
                </button>
                <button class="button danger" type="button" data-testid="webhook-delete" disabled=busy on:click=move |_| { ask.dispatch(Ask::Delete); }>{tr!(webhooks.delete)}</button>
            </div>
            <Show when=move || log_open.get()>
                <DeliveryLog endpoint=id enabled=enabled/>
            </Show>
        </li>
    }
}

#[component]
fn DeliveryLog(endpoint: uuid::Uuid, enabled: bool) -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let version = RwSignal::new(0u32);
    let page = LocalResource::new(move || {
        version.track();
        async move { api::webhooks::deliveries(session, endpoint).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    let again = Action::new_local(move |message: &String| {
        let message = message.clone();
        async move { api::webhooks::send_again(session, endpoint, &message).await }
    });
    Effect::new(move |_| match again.value().get() {
        Some(Ok(())) => version.update(|v| *v += 1),
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    view! {
        <div class="delivery-log" data-testid="webhook-log">
            <div class="row-head">
                <h3>{tr!(webhooks.log_title)}</h3>
                <button class="button secondary" type="button" data-testid="webhook-log-refresh" on:click=move |_| version.update(|v| *v += 1)>{tr!(webhooks.refresh)}</button>
            </div>
            <p class="form-error" role="alert">{move || error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
            {move || match page.get() {
                None => view! { <p class="muted">{tr!(app.loading)}</p> }.into_any(),
                Some(Err(err)) => view! { <p class="form-error" role="alert">{text::api_error(i18n.get_locale(), &err)}</p> }.into_any(),
                Some(Ok(page)) if page.deliveries.is_empty() => view! { <p class="muted">{tr!(webhooks.log_empty)}</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <ul class="list">
                        {page.deliveries.into_iter().map(|delivery| view! { <DeliveryRow delivery=delivery enabled=enabled again=again/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn DeliveryRow(
    delivery: DeliveryResponse,
    enabled: bool,
    again: Action<String, Result<(), ApiError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let status = delivery.status;
    let created = delivery.created_at;
    let event = delivery.event_type;
    let tries = delivery.attempts.len();
    let last = delivery.attempts.last().cloned();
    let next = delivery.next_attempt_at;
    let id = delivery.id.clone();
    let badge = match status {
        DeliveryStatus::Delivered => "badge ok",
        DeliveryStatus::Pending => "badge busy",
        DeliveryStatus::Failed => "badge bad",
    };
    view! {
        <li class="row" data-testid="webhook-delivery">
            <div class="row-main">
                <span><span class=badge data-testid="webhook-delivery-status">{move || status_words(i18n.get_locale(), status)}</span>
                    " " <strong>{move || event_words(i18n.get_locale(), event)}</strong></span>
                <span class="muted small">{move || {
                    let locale = i18n.get_locale();
                    let mut line = td_string!(locale, webhooks.attempts, when = format::date_time(locale, &created), count = tries).to_string();
                    if let Some(attempt) = &last {
                        line.push_str(" · ");
                        match (attempt.response_code, &attempt.detail) {
                            (Some(code), _) => line.push_str(&td_string!(locale, webhooks.answered, code).to_string()),
                            (None, Some(detail)) => line.push_str(detail),
                            (None, None) => {}
                        }
                    }
                    if let Some(at) = next {
                        line.push_str(" · ");
                        line.push_str(&td_string!(locale, webhooks.next_try, when = format::date_time(locale, &at)).to_string());
                    }
                    line
                }}</span>
                <span class="code small">{id.clone()}</span>
            </div>
            {(enabled && status != DeliveryStatus::Pending).then(|| view! {
                <div class="row-side">
                    <button class="button secondary" type="button" data-testid="webhook-send-again"
                        disabled=move || again.pending().get()
                        on:click={let id = id.clone(); move |_| { again.dispatch(id.clone()); }}>
                        {tr!(webhooks.send_again)}
                    </button>
                </div>
            })}
        </li>
    }
}
