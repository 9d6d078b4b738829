//! In `/settings`: the person's API keys for integrations. Make one (name, scopes, optional
//! expiry day), see its secret once with a copy button, list them (prefix, scopes, created,
//! last used) and revoke.

use leptos::prelude::*;
use shifting_shared::FieldErrors;
use shifting_shared::keys::{ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse, Scope};

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

fn scope_words(locale: Locale, scope: Scope) -> &'static str {
    match scope {
        Scope::Read => td_string!(locale, keys.scope_read),
        Scope::RoomsWrite => td_string!(locale, keys.scope_rooms_write),
        Scope::PaymentsWrite => td_string!(locale, keys.scope_payments_write),
        Scope::WebhooksWrite => td_string!(locale, keys.scope_webhooks_write),
    }
}

/// The settings section.
#[component]
pub fn ApiKeySettings() -> impl IntoView {
    let session = expect_context::<Session>();
    let i18n = use_i18n();
    let version = RwSignal::new(0u32);
    let keys = LocalResource::new(move || {
        version.track();
        async move { api::keys::list(session).await }
    });
    let name = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let chosen = RwSignal::new(vec![Scope::Read]);
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let made = RwSignal::new(None::<CreatedApiKeyResponse>);
    let create = Action::new_local(move |request: &CreateApiKeyRequest| {
        let request = request.clone();
        async move { api::keys::create(session, &request).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(created)) => {
            made.set(Some(created));
            name.set(String::new());
            version.update(|v| *v += 1);
        }
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
    let revoke = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move { api::keys::revoke(session, id).await }
    });
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(_)) => version.update(|v| *v += 1),
        Some(Err(err)) => form_error.set(Some(err)),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        errors.set(FieldErrors::new());
        made.set(None);
        // An expiry day ends at the end of that day in the reader's time zone.
        let expires_at =
            format::local_midnight(&expires.get_untracked(), 1).and_then(|at| at.parse().ok());
        create.dispatch(CreateApiKeyRequest {
            name: name.get_untracked(),
            scopes: chosen.get_untracked(),
            expires_at,
        });
    };
    view! {
        <section class="card" aria-labelledby="keys-title" data-testid="api-keys">
            <h2 id="keys-title">{tr!(keys.title)}</h2>
            <p class="muted">{tr!(keys.intro)} " " <a href="/api/docs/" rel="external">{tr!(keys.docs)}</a></p>
            {move || made.get().map(|created| view! {
                <div class="notice" role="status" data-testid="api-key-secret">
                    <p><strong>{tr!(keys.shown_once)}</strong></p>
                    <CopyLink id="api-key-secret-value" label=tr!(keys.secret_label) link=created.secret.clone()/>
                </div>
            })}
            <form class="stack" on:submit=on_submit novalidate>
                <Field name="key-name" label=tr!(keys.name_label) value=name error=error_for(i18n, errors, "name")/>
                <fieldset class="scopes">
                    <legend>{tr!(keys.scopes_label)}</legend>
                    {Scope::all().map(|scope| {
                        let id = format!("scope-{}", scope.as_str().replace(':', "-"));
                        let label_for = id.clone();
                        view! {
                            <label class="check" for=label_for>
                                <input type="checkbox" id=id
                                    prop:checked=move || chosen.with(|c| c.contains(&scope))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| {
                                            c.retain(|s| *s != scope);
                                            if on { c.push(scope); }
                                        });
                                    }/>
                                " " {move || scope_words(i18n.get_locale(), scope)}
                            </label>
                        }
                    }).collect_view()}
                    <p class="field-error">{move || error_for(i18n, errors, "scopes").get()}</p>
                </fieldset>
                <label for="key-expires">{tr!(keys.expires_label)}</label>
                <input id="key-expires" type="date" bind:value=expires/>
                <p class="field-error">{move || error_for(i18n, errors, "expires_at").get()}</p>
                <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                <button class="button secondary" type="submit" data-testid="api-key-create" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { t_string!(i18n, keys.creating) } else { t_string!(i18n, keys.create) }}
                </button>
            </form>
            {move || match keys.get() {
                None => view! { <p class="muted">{tr!(app.loading)}</p> }.into_any(),
                Some(Err(err)) => view! { <p class="form-error" role="alert">{text::api_error(i18n.get_locale(), &err)}</p> }.into_any(),
                Some(Ok(list)) if list.keys.is_empty() => view! { <p class="muted">{tr!(keys.none)}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="list" data-testid="api-key-list">
                        {list.keys.into_iter().map(|key| view! { <KeyRow key=key revoke=revoke/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn KeyRow(
    key: ApiKeyResponse,
    revoke: Action<String, Result<ApiKeyResponse, ApiError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let created = key.created_at;
    let used = key.last_used_at;
    let revoked = key.revoked_at.is_some();
    let expires = key.expires_at;
    let scopes = key.scopes.clone();
    let id = key.id.to_string();
    view! {
        <li class="row" data-testid="api-key">
            <div class="row-main">
                <span><strong>{key.name.clone()}</strong> " " <span class="code">{key.prefix.clone()} "…"</span>
                    {revoked.then(|| view! { " " <span class="badge off">{tr!(keys.revoked)}</span> })}</span>
                <span class="small">{move || scopes.iter().map(|s| scope_words(i18n.get_locale(), *s)).collect::<Vec<_>>().join(" · ")}</span>
                <span class="muted small">{move || {
                    let locale = i18n.get_locale();
                    let made = format::day(locale, &created);
                    let last = used.map_or_else(|| td_string!(locale, keys.never_used).to_owned(), |at| format::date_time(locale, &at));
                    let mut line = td_string!(locale, keys.created_used, made, last).to_string();
                    if let Some(end) = expires {
                        line.push_str(" · ");
                        line.push_str(&td_string!(locale, keys.expires, end = format::day(locale, &end)).to_string());
                    }
                    line
                }}</span>
            </div>
            <div class="row-side">
                {(!revoked).then(|| view! {
                    <button class="button secondary" type="button" data-testid="api-key-revoke"
                        disabled=move || revoke.pending().get()
                        on:click={let id = id.clone(); move |_| { revoke.dispatch(id.clone()); }}>
                        {tr!(keys.revoke)}
                    </button>
                })}
            </div>
        </li>
    }
}
