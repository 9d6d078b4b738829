//! The account part of `/settings`: the e-mail address (confirmed or not, and changing it),
//! the password, the mail a person wants and in which language, and deleting the account.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shifting_shared::account::{ChangeEmailRequest, ChangePasswordRequest, PreferencesRequest};
use shifting_shared::{FieldCode, FieldError, FieldErrors, Language, MailPreferences};

use crate::api;
use crate::api::client::ApiError;
use crate::components::field::{Field, error_for};
use crate::i18n::{t_string, use_i18n};
use crate::pages::show_refusal;
use crate::session::Session;
use crate::text;
use crate::text::tr;

/// Every account section, in order.
#[component]
pub fn AccountSettings() -> impl IntoView {
    view! {
        <EmailAddress/>
        <ChangePassword/>
        <MailNotices/>
        <DeleteAccount/>
    }
}

/// A reminder, for a signed-in user whose address is not confirmed, that notices wait for it,
/// with the way to get another link.
#[component]
pub fn ConfirmEmailNotice() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    move || {
        session.user().filter(|user| !user.email_verified).map(|user| {
            let email = user.email;
            view! {
                <p class="notice" role="status" data-testid="confirm-email-notice">
                    {move || t_string!(i18n, account.confirm_notice, email = email.clone()).to_string()}
                    " "
                    <A href=crate::pages::Page::Settings.path()>{tr!(account.confirm_settings)}</A>
                </p>
            }
        })
    }
}

/// The address, whether it is confirmed (with a new link on request), and a form to move to
/// another one.
#[component]
fn EmailAddress() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let resend = Action::new_local(move |(): &()| async move {
        api::account::resend_verification(session).await
    });
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let change = Action::new_local(move |request: &ChangeEmailRequest| {
        let request = request.clone();
        async move { api::account::change_email(session, &request).await }
    });
    let asked_for = RwSignal::new(None::<String>);
    Effect::new(move |_| match change.value().get() {
        Some(Ok(_)) => {
            asked_for.set(Some(email.get_untracked().trim().to_owned()));
            email.set(String::new());
            password.set(String::new());
        }
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        asked_for.set(None);
        let request = ChangeEmailRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        match request.parse() {
            Err(fields) => errors.set(fields),
            Ok(_) => {
                errors.set(FieldErrors::new());
                change.dispatch(request);
            }
        }
    };
    view! {
        <section class="card" aria-labelledby="email-title" data-testid="email-settings">
            <h2 id="email-title">{tr!(account.email_title)}</h2>
            {move || session.user().map(|user| {
                let address = user.email.clone();
                view! {
                    <p><strong class="code">{address}</strong> " "
                        {if user.email_verified {
                            view! { <span class="badge ok" data-testid="email-verified">{tr!(account.confirmed)}</span> }.into_any()
                        } else {
                            view! { <span class="badge busy" data-testid="email-unverified">{tr!(account.not_confirmed)}</span> }.into_any()
                        }}
                    </p>
                    {(!user.email_verified).then(|| view! {
                        <p class="muted">{tr!(account.confirm_why)}</p>
                        <p aria-live="polite">
                            {move || match resend.value().get() {
                                Some(Ok(_)) => view! { <span role="status">{tr!(account.link_sent)}</span> }.into_any(),
                                Some(Err(err)) => view! { <span class="form-error" role="alert">{move || text::api_error(i18n.get_locale(), &err)}</span> }.into_any(),
                                None => view! {
                                    <button class="button secondary" type="button" disabled=move || resend.pending().get()
                                        on:click=move |_| { resend.dispatch(()); }>{tr!(account.send_link_again)}</button>
                                }.into_any(),
                            }}
                        </p>
                    })}
                }
            })}
            <form class="form" on:submit=on_submit novalidate>
                <Field name="new_email" label=tr!(account.new_email_label) kind="email" autocomplete="email"
                    hint=tr!(account.new_email_hint) value=email error=error_for(i18n, errors, "email")/>
                <Field name="email_password" label=tr!(account.password_label) kind="password"
                    autocomplete="current-password" value=password error=error_for(i18n, errors, "password")/>
                <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                <p class="form-status" role="status">{move || asked_for.get().map(|to| t_string!(i18n, account.new_email_sent, email = to).to_string())}</p>
                <button class="button" type="submit" disabled=move || change.pending().get()>{tr!(account.change_email)}</button>
            </form>
        </section>
    }
}

/// A new password, with the current one; other sessions end.
#[component]
fn ChangePassword() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(false);
    let save = Action::new_local(move |request: &ChangePasswordRequest| {
        let request = request.clone();
        async move { api::account::change_password(session, &request).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(auth)) => {
            session.sign_in(auth);
            current.set(String::new());
            new.set(String::new());
            done.set(true);
        }
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        done.set(false);
        let request = ChangePasswordRequest {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
        };
        match request.parse() {
            Err(fields) => errors.set(fields),
            Ok(_) => {
                errors.set(FieldErrors::new());
                save.dispatch(request);
            }
        }
    };
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">{tr!(account.password_title)}</h2>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="current_password" label=tr!(account.current_password_label) kind="password"
                    autocomplete="current-password" value=current error=error_for(i18n, errors, "current_password")/>
                <Field name="new_password" label=tr!(account.new_password_label) kind="password"
                    autocomplete="new-password" hint=tr!(account.new_password_hint)
                    value=new error=error_for(i18n, errors, "new_password")/>
                <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                <p class="form-status" role="status">{move || done.get().then(|| t_string!(i18n, account.password_changed))}</p>
                <button class="button" type="submit" disabled=move || save.pending().get()>{tr!(account.change_password)}</button>
            </form>
        </section>
    }
}

/// The language of the mail and the notices that can be turned off.
#[component]
fn MailNotices() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let user = session.user_untracked();
    let language = RwSignal::new(user.as_ref().map(|u| u.language).unwrap_or_default());
    let preferences = user.map(|u| u.mail).unwrap_or_default();
    let sales = RwSignal::new(preferences.sales);
    let problems = RwSignal::new(preferences.payment_problems);
    let messages = RwSignal::new(preferences.messages);
    let save = Action::new_local(move |request: &PreferencesRequest| {
        let request = *request;
        async move { api::account::set_preferences(session, &request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(user)) = save.value().get() {
            session.set_user(user);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(PreferencesRequest {
            language: language.get_untracked(),
            mail: MailPreferences {
                sales: sales.get_untracked(),
                payment_problems: problems.get_untracked(),
                messages: messages.get_untracked(),
            },
        });
    };
    view! {
        <section class="card" aria-labelledby="mail-title">
            <h2 id="mail-title">{tr!(account.mail_title)}</h2>
            <form class="form" on:submit=on_submit>
                <label for="mail_language">{tr!(account.mail_language)}</label>
                <select id="mail_language" name="mail_language"
                    on:change=move |ev| language.set(Language::from_tag(&event_target_value(&ev)))>
                    <option value="en" lang="en" selected=move || language.get() == Language::En>"English"</option>
                    <option value="es" lang="es" selected=move || language.get() == Language::Es>"Español"</option>
                </select>
                <fieldset>
                    <legend>{tr!(account.notices_legend)}</legend>
                    <p class="muted">{tr!(account.notices_always)}</p>
                    <label class="check">
                        <input type="checkbox" name="mail_sales" prop:checked=move || sales.get()
                            on:change=move |ev| sales.set(event_target_checked(&ev))/>
                        {tr!(account.notice_sales)}
                    </label>
                    <label class="check">
                        <input type="checkbox" name="mail_payment_problems" prop:checked=move || problems.get()
                            on:change=move |ev| problems.set(event_target_checked(&ev))/>
                        {tr!(account.notice_problems)}
                    </label>
                    <label class="check">
                        <input type="checkbox" name="mail_messages" prop:checked=move || messages.get()
                            on:change=move |ev| messages.set(event_target_checked(&ev))/>
                        {tr!(account.notice_messages)}
                    </label>
                </fieldset>
                <p class="form-status" aria-live="polite">
                    {move || match save.value().get() {
                        Some(Ok(_)) => view! { <span role="status">{tr!(account.mail_saved)}</span> }.into_any(),
                        Some(Err(err)) => view! { <span class="form-error" role="alert">{move || text::api_error(i18n.get_locale(), &err)}</span> }.into_any(),
                        None => ().into_any(),
                    }}
                </p>
                <button class="button" type="submit" disabled=move || save.pending().get()>{tr!(account.save_mail)}</button>
            </form>
        </section>
    }
}

/// Deleting the account: what goes and what stays, the password and a confirmation.
#[component]
fn DeleteAccount() -> impl IntoView {
    let i18n = use_i18n();
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let understood = RwSignal::new(false);
    let errors = RwSignal::new(FieldErrors::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let delete = Action::new_local(move |password: &String| {
        let password = password.clone();
        async move { api::account::delete_account(session, password).await }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            // Leave the page first: forgetting the session while it shows would send its
            // guard to the log-in page.
            navigate("/?account_deleted", Default::default());
            request_animation_frame(move || session.forget());
        }
        Some(Err(err)) => {
            let fields = err.fields();
            form_error.set(fields.get("password").is_none().then_some(err));
            errors.set(fields);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form_error.set(None);
        let typed = password.get_untracked();
        if typed.is_empty() {
            errors.set(FieldErrors::one(
                "password",
                FieldError::new(FieldCode::Required, "is required"),
            ));
        } else {
            errors.set(FieldErrors::new());
            delete.dispatch(typed);
        }
    };
    view! {
        <section class="card danger-zone" aria-labelledby="delete-title">
            <h2 id="delete-title">{tr!(account.delete_title)}</h2>
            <p>{tr!(account.delete_erased)}</p>
            <p>{tr!(account.delete_kept)}</p>
            <form class="form" on:submit=on_submit novalidate>
                <Field name="delete_password" label=tr!(account.password_label) kind="password"
                    autocomplete="current-password" value=password error=error_for(i18n, errors, "password")/>
                <label class="check">
                    <input type="checkbox" name="delete_understood" prop:checked=move || understood.get()
                        on:change=move |ev| understood.set(event_target_checked(&ev))/>
                    {tr!(account.delete_understood)}
                </label>
                <p class="form-error" role="alert">{move || form_error.get().map(|e| text::api_error(i18n.get_locale(), &e))}</p>
                <button class="button danger" type="submit"
                    disabled=move || !understood.get() || delete.pending().get()>{tr!(account.delete_button)}</button>
            </form>
        </section>
    }
}
