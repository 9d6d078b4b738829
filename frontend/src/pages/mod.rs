//! One component per route, and the paths they live at.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use shifting_shared::FieldErrors;
use shifting_shared::api::AuthResponse;

use crate::api::client::ApiError;
use crate::session::Session;

pub mod account_settings;
pub mod admin;
pub mod admin_payments;
pub mod api_keys;
pub mod budgets;
pub mod dashboard;
pub mod home;
pub mod login;
pub mod messages;
pub mod new_room;
pub mod not_found;
pub mod payment;
pub mod profile;
pub mod recovery;
pub mod refund_panel;
pub mod review_panel;
pub mod room;
pub mod room_media;
pub mod settings;
pub mod signup;
pub mod transaction;
pub mod webhooks;

/// The app's fixed pages, so paths are written once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/signup`
    Signup,
    /// `/login`
    Login,
    /// `/dashboard`
    Dashboard,
    /// `/rooms/new`
    NewRoom,
    /// `/settings`
    Settings,
    /// `/messages`
    Messages,
    /// `/forgot-password`
    ForgotPassword,
}

impl Page {
    /// The page's path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Home => "/",
            Self::Signup => "/signup",
            Self::Login => "/login",
            Self::Dashboard => "/dashboard",
            Self::Messages => "/messages",
            Self::NewRoom => "/rooms/new",
            Self::Settings => "/settings",
            Self::ForgotPassword => "/forgot-password",
        }
    }
}

/// `/r/{code}`: a room's shareable page.
pub fn room_path(code: &str) -> String {
    format!("/r/{code}")
}

/// `/transactions/{id}`: a transaction with its timeline.
pub fn transaction_path(id: &str) -> String {
    format!("/transactions/{id}")
}

/// The value of `name` in the address's fragment (`#name=…`), taken out of the address (the
/// path and query stay), so a key or token in a mailed link is not bookmarked or shared.
pub fn take_from_fragment(name: &str) -> Option<String> {
    let location = window().location();
    let hash = location.hash().ok()?;
    let value = hash
        .strip_prefix('#')?
        .strip_prefix(name)?
        .strip_prefix('=')?
        .to_owned();
    if let (Ok(path), Ok(history)) = (location.pathname(), window().history()) {
        let search = location.search().unwrap_or_default();
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{search}")),
        );
    }
    (!value.is_empty()).then_some(value)
}

/// Where to go after signing in: the `next` query parameter if it is a local path, else home.
pub fn next_path(next: Option<String>) -> String {
    match next {
        // Only same-site paths: "//evil.example" would leave the site.
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => Page::Home.path().to_owned(),
    }
}

/// Reacts to the answer of a sign-up or log-in `action`: on success signs in and goes to the
/// `next` page; on failure shows the field errors next to their fields, or else one message.
pub fn on_auth_answer<I: Send + Sync + 'static>(
    action: Action<I, Result<AuthResponse, ApiError>>,
    errors: RwSignal<FieldErrors>,
    form_error: RwSignal<Option<ApiError>>,
) {
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    let query = use_query_map();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(auth)) => {
            session.sign_in(auth);
            navigate(
                &next_path(query.read_untracked().get("next")),
                Default::default(),
            );
        }
        Some(Err(err)) => show_refusal(err, errors, form_error),
        None => {}
    });
}

/// Shows why a form was refused: next to their fields when the server named fields, else as
/// one message for the form.
pub fn show_refusal(
    err: ApiError,
    errors: RwSignal<FieldErrors>,
    form_error: RwSignal<Option<ApiError>>,
) {
    let fields = err.fields();
    form_error.set(fields.is_empty().then_some(err));
    errors.set(fields);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_path_only_follows_local_paths() {
        assert_eq!(next_path(Some("/settings".into())), "/settings");
        assert_eq!(next_path(Some("/r/ABCDEF?x=1".into())), "/r/ABCDEF?x=1");
        for outside in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "settings",
            "",
        ] {
            assert_eq!(next_path(Some(outside.into())), "/", "{outside:?}");
        }
        assert_eq!(next_path(None), "/");
    }
}
