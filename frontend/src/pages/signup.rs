//! `/signup`: create an account. Fields are checked with the same `shared` parsers the API uses
//! before anything is sent; the API's answer (taken usernames …) lands next to the same fields.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::FieldErrors;
use shifting_shared::api::SignupRequest;

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::heading::Heading;
use crate::i18n::{t_string, use_i18n};
use crate::pages::{Page, on_auth_answer};
use crate::text;
use crate::text::tr;

/// The sign-up form.
#[component]
pub fn SignupPage() -> impl IntoView {
    let i18n = use_i18n();
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);

    let submit = Action::new_local(|request: &SignupRequest| {
        let request = request.clone();
        async move { api::auth::signup(&request).await }
    });
    on_auth_answer(submit, errors, form_error);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = SignupRequest {
            username: username.get_untracked().trim().to_owned(),
            email: email.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            language: Some(crate::components::language::api_language(
                i18n.get_locale_untracked(),
            )),
        };
        form_error.set(None);
        match request.parse() {
            Err(fields) => errors.set(fields),
            Ok(_) => {
                errors.set(FieldErrors::new());
                submit.dispatch(request);
            }
        }
    };

    view! {
        <section class="narrow">
            <Heading text=tr!(signup.title)/>
            <p class="muted">{tr!(signup.lead)}</p>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="username" label=tr!(signup.username_label) autocomplete="username"
                    hint=tr!(signup.username_hint) value=username error=error_for(i18n, errors, "username")/>
                <Field name="email" label=tr!(signup.email_label) kind="email" autocomplete="email"
                    value=email error=error_for(i18n, errors, "email")/>
                <Field name="password" label=tr!(signup.password_label) kind="password" autocomplete="new-password"
                    hint=tr!(signup.password_hint) value=password error=error_for(i18n, errors, "password")/>
                <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                <button class="button" type="submit" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { t_string!(i18n, signup.submitting) } else { t_string!(i18n, signup.submit) }}
                </button>
            </form>
            <p>{tr!(signup.have_account)} " " <A href=Page::Login.path()>{tr!(signup.log_in)}</A></p>
        </section>
    }
}
