//! `/login`: sign in with a username or e-mail address.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::FieldErrors;
use shifting_shared::api::LoginRequest;

use crate::api;
use crate::components::field::Field;
use crate::pages::{Page, on_auth_answer};

/// The log-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<String>);

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
    let error_for =
        move |name: &'static str| Signal::derive(move || errors.with(|e| e.get(name).cloned()));

    view! {
        <section class="narrow">
            <h1>"Log in"</h1>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="login" label="Username or e-mail" autocomplete="username" value=login error=error_for("login")/>
                <Field name="password" label="Password" kind="password" autocomplete="current-password"
                    value=password error=error_for("password")/>
                <p class="form-error" role="alert">{move || form_error.get()}</p>
                <button class="button" type="submit" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
            <p>"New to Shifting? " <A href=Page::Signup.path()>"Create an account"</A></p>
        </section>
    }
}
