//! `/signup`: create an account. Fields are checked with the same `shared` parsers the API uses
//! before anything is sent; the API's answer (taken usernames …) lands next to the same fields.

use leptos::prelude::*;
use leptos_router::components::A;
use shifting_shared::FieldErrors;
use shifting_shared::api::SignupRequest;

use crate::api;
use crate::components::field::Field;
use crate::pages::{Page, on_auth_answer};

/// The sign-up form.
#[component]
pub fn SignupPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<String>);

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
    let error_for =
        move |name: &'static str| Signal::derive(move || errors.with(|e| e.get(name).cloned()));

    view! {
        <section class="narrow">
            <h1>"Create your account"</h1>
            <p class="muted">"Buy and sell with your own Open Payments wallet."</p>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="username" label="Username" autocomplete="username"
                    hint="3–32 letters, digits, '_' or '-'." value=username error=error_for("username")/>
                <Field name="email" label="E-mail" kind="email" autocomplete="email" value=email error=error_for("email")/>
                <Field name="password" label="Password" kind="password" autocomplete="new-password"
                    hint="At least 10 characters; avoid common passwords." value=password error=error_for("password")/>
                <p class="form-error" role="alert">{move || form_error.get()}</p>
                <button class="button" type="submit" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Creating your account…" } else { "Sign up" }}
                </button>
            </form>
            <p>"Already have an account? " <A href=Page::Login.path()>"Log in"</A></p>
        </section>
    }
}
