//! Pages that mailed links open, and the way back into an account: `/forgot-password`,
//! `/reset-password`, `/verify-email` and `/unsubscribe`. Their tokens travel in the address's
//! fragment (`#token=…`), which browsers never send to a server; each page takes it out of the
//! address at once, so it is not bookmarked or shared by accident.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shifting_shared::account::{Notice, PasswordResetConfirm};
use shifting_shared::{Email, FieldErrors};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::components::heading::Heading;
use crate::i18n::{t_string, use_i18n};
use crate::pages::{Page, show_refusal};
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// The token of a mailed link, taken out of the address (`#token=…`).
fn take_token() -> Option<String> {
    crate::pages::take_from_fragment("token")
}

/// `/forgot-password`: asks for a reset link.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let email = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let send = Action::new_local(|email: &String| {
        let email = email.clone();
        async move { api::account::request_reset(email).await }
    });
    Effect::new(move |_| {
        if let Some(Err(err)) = send.value().get() {
            show_refusal(err, errors, form_error);
        }
    });
    let sent = move || matches!(send.value().get(), Some(Ok(_)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        let typed = email.get_untracked().trim().to_owned();
        match Email::parse(&typed) {
            Err(problem) => errors.set(FieldErrors::one("email", problem)),
            Ok(_) => {
                errors.set(FieldErrors::new());
                send.dispatch(typed);
            }
        }
    };
    view! {
        <section class="narrow">
            <Heading text=tr!(recovery.forgot_title)/>
            <Show
                when=sent
                fallback=move || view! {
                    <p>{tr!(recovery.forgot_lead)}</p>
                    <form class="form" on:submit=on_submit novalidate>
                        <Field name="email" label=tr!(recovery.email_label) kind="email" autocomplete="email"
                            value=email error=error_for(i18n, errors, "email")/>
                        <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                        <button class="button" type="submit" disabled=move || send.pending().get()>
                            {move || if send.pending().get() { t_string!(i18n, recovery.sending) } else { t_string!(i18n, recovery.send_link) }}
                        </button>
                    </form>
                }
            >
                <p class="notice" role="status" data-testid="reset-sent">{tr!(recovery.forgot_sent)}</p>
            </Show>
            <p><A href=Page::Login.path()>{tr!(recovery.back_to_login)}</A></p>
        </section>
    }
}

/// `/reset-password#token=…`: chooses a new password, then signs in.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    let token = StoredValue::new(take_token());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let save = Action::new_local(|request: &PasswordResetConfirm| {
        let request = request.clone();
        async move { api::account::confirm_reset(&request).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(auth)) => {
            session.sign_in(auth);
            navigate(
                &format!("{}?password=reset", Page::Dashboard.path()),
                Default::default(),
            );
        }
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        let request = PasswordResetConfirm {
            token: token.get_value().unwrap_or_default(),
            password: password.get_untracked(),
        };
        match request.parse() {
            Err(fields) => errors.set(fields),
            Ok(_) => {
                errors.set(FieldErrors::new());
                save.dispatch(request);
            }
        }
    };
    let link_problem = move || {
        errors.with(|e| {
            e.get("token")
                .map(|e| text::field(i18n.get_locale(), e.code).to_owned())
        })
    };
    view! {
        <section class="narrow">
            <Heading text=tr!(recovery.reset_title)/>
            <Show
                when=move || token.get_value().is_some()
                fallback=|| view! { <NoLink/> }
            >
                <form class="form" on:submit=on_submit novalidate>
                    <Field name="password" label=tr!(recovery.new_password_label) kind="password"
                        autocomplete="new-password" hint=tr!(recovery.new_password_hint)
                        value=password error=error_for(i18n, errors, "password")/>
                    <p class="form-error" role="alert">
                        {move || link_problem().map(|problem| view! {
                            {t_string!(i18n, recovery.link_label)} " " {problem} " "
                            <A href=Page::ForgotPassword.path()>{tr!(recovery.ask_again)}</A>
                        })}
                        {move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}
                    </p>
                    <button class="button" type="submit" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { t_string!(i18n, recovery.saving) } else { t_string!(i18n, recovery.save_password) }}
                    </button>
                </form>
            </Show>
        </section>
    }
}

/// A page opened without the token of its link.
#[component]
fn NoLink() -> impl IntoView {
    view! {
        <p class="form-error" role="alert">{tr!(recovery.no_link)}</p>
        <p><A href=Page::ForgotPassword.path()>{tr!(recovery.ask_again)}</A></p>
    }
}

/// `/verify-email#token=…`: confirms an address (the account's, or the new one).
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let token = take_token();
    let has_token = token.is_some();
    let answer = LocalResource::new(move || {
        let token = token.clone();
        async move {
            match token {
                Some(token) => Some(api::account::verify_email(token).await),
                None => None,
            }
        }
    });
    // A signed-in page shows the confirmed address at once.
    Effect::new(move |_| {
        if let Some(Some(Ok(_))) = answer.get()
            && session.access_token().is_some()
        {
            leptos::task::spawn_local(async move {
                if let Ok(user) = api::me::me(session).await {
                    session.set_user(user);
                }
            });
        }
    });
    view! {
        <section class="narrow">
            <Heading text=tr!(recovery.verify_title)/>
            <div aria-live="polite">
                {move || match answer.get() {
                    None if has_token => view! { <p role="status">{tr!(recovery.verifying)}</p> }.into_any(),
                    None | Some(None) => view! { <NoLink/> }.into_any(),
                    Some(Some(Ok(confirmed))) => {
                        let email = confirmed.email.clone();
                        view! {
                            <p class="notice" role="status" data-testid="email-confirmed">
                                {move || if confirmed.changed {
                                    t_string!(i18n, recovery.email_changed, email = email.clone()).to_string()
                                } else {
                                    t_string!(i18n, recovery.email_confirmed, email = email.clone()).to_string()
                                }}
                            </p>
                            <p><A href=Page::Home.path()>{tr!(recovery.continue_home)}</A></p>
                        }.into_any()
                    }
                    Some(Some(Err(err))) => view! {
                        <p class="form-error" role="alert">{move || {
                            let fields = err.fields();
                            match fields.get("token") {
                                Some(problem) => format!("{} {}", t_string!(i18n, recovery.link_label), text::field(i18n.get_locale(), problem.code)),
                                None => text::api_error(i18n.get_locale(), &err),
                            }
                        }}</p>
                        <p><A href=Page::Settings.path()>{tr!(recovery.new_link_in_settings)}</A></p>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}

/// `/unsubscribe#token=…`: asks before turning a notice off (mail scanners open links; only a
/// person presses the button).
#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let i18n = use_i18n();
    let token = StoredValue::new(take_token());
    let stop = Action::new_local(move |(): &()| async move {
        api::account::unsubscribe(&token.get_value().unwrap_or_default()).await
    });
    view! {
        <section class="narrow">
            <Heading text=tr!(recovery.unsubscribe_title)/>
            <Show when=move || token.get_value().is_some() fallback=|| view! { <NoLink/> }>
                <div aria-live="polite">
                    {move || match stop.value().get() {
                        None => view! {
                            <p>{tr!(recovery.unsubscribe_lead)}</p>
                            <button class="button" type="button" disabled=move || stop.pending().get()
                                on:click=move |_| { stop.dispatch(()); }>
                                {tr!(recovery.unsubscribe_button)}
                            </button>
                        }.into_any(),
                        Some(Ok(done)) => view! {
                            <p class="notice" role="status" data-testid="unsubscribed">
                                {move || match done.notice {
                                    Notice::Sales => t_string!(i18n, recovery.unsubscribed_sales),
                                    Notice::PaymentProblems => t_string!(i18n, recovery.unsubscribed_problems),
                                    Notice::Messages => t_string!(i18n, recovery.unsubscribed_messages),
                                }}
                            </p>
                            <p><A href=Page::Settings.path()>{tr!(recovery.change_in_settings)}</A></p>
                        }.into_any(),
                        Some(Err(err)) => view! {
                            <p class="form-error" role="alert">{move || text::api_error(i18n.get_locale(), &err)}</p>
                        }.into_any(),
                    }}
                </div>
            </Show>
        </section>
    }
}
