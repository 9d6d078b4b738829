//! `/login`: sign in with a username or e-mail address.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::api::LoginRequest;
use shifting_shared::{ErrorCode, FieldErrors};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::heading::Heading;
use crate::i18n::{t_string, use_i18n};
use crate::pages::{Page, on_auth_answer};
use crate::text;
use crate::text::tr;

/// The log-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);

    let submit = Action::new_local(|request: &LoginRequest| {
        let request = request.clone();
        async move { api::auth::login(&request).await }
    });
    on_auth_answer(submit, errors, form_error);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = LoginRequest {
            login: login.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        form_error.set(None);
        match request.check() {
            Err(fields) => errors.set(fields),
            Ok(()) => {
                errors.set(FieldErrors::new());
                submit.dispatch(request);
            }
        }
    };
    // A refused log-in says so in this form's terms, not as an ended session.
    let form_text = move || {
        form_error.get().map(|err| match err.code() {
            Some(ErrorCode::Unauthorized) => t_string!(i18n, errors.login_failed).to_owned(),
            Some(ErrorCode::Forbidden) => t_string!(i18n, login.suspended).to_owned(),
            _ => text::api_error(i18n.get_locale(), &err),
        })
    };

    view! {
        <section class="narrow">
            <Heading text=tr!(login.title)/>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="login" label=tr!(login.login_label) autocomplete="username"
                    value=login error=error_for(i18n, errors, "login")/>
                <Field name="password" label=tr!(login.password_label) kind="password"
                    autocomplete="current-password" value=password error=error_for(i18n, errors, "password")/>
                <p class="form-error" role="alert">{form_text}</p>
                <button class="button" type="submit" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { t_string!(i18n, login.submitting) } else { t_string!(i18n, login.submit) }}
                </button>
            </form>
            <p><A href=Page::ForgotPassword.path()>{tr!(login.forgot)}</A></p>
            <p>{tr!(login.new_here)} " " <A href=Page::Signup.path()>{tr!(login.create_account)}</A></p>
        </section>
    }
}
