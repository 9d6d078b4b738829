//! The application shell: language and session contexts, layout and routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::heading::FocusedPath;
use crate::components::language::{self, LanguageSwitcher};
use crate::components::nav::Nav;
use crate::i18n::I18nSubContextProvider;
use crate::live::Live;
use crate::pages::{
    admin::AdminPage,
    admin_payments::AdminTransactionPage,
    dashboard::DashboardPage,
    home::HomePage,
    login::LoginPage,
    messages::{ConversationPage, MessagesPage},
    new_room::NewRoomPage,
    not_found::NotFoundPage,
    payment::PaymentPage,
    profile::{ProfilePage, ReviewPolicyPage},
    recovery::{ForgotPasswordPage, ResetPasswordPage, UnsubscribePage, VerifyEmailPage},
    room::RoomPage,
    settings::SettingsPage,
    signup::SignupPage,
    transaction::TransactionPage,
};
use crate::session::Session;
use crate::text::tr;

/// The root component. The language is the one chosen in the switcher, else the browser's
/// preference, else English (see [`language`]). leptos_i18n's own provider would start from the
/// browser's preference and keep a choice only in a cookie (and the `time` crate it brings);
/// a sub-context provider is the one that takes our starting language.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::start();
    provide_context(session);
    provide_context(Live::start(session));
    // The page a visitor lands on is read from its top (the skip link first); only navigations
    // move the focus to the new page's heading.
    let landing = window().location().pathname().ok();
    provide_context(FocusedPath(RwSignal::new(landing)));
    view! {
        <I18nSubContextProvider initial_locale=Signal::stored(language::preferred())>
            <Shell/>
        </I18nSubContextProvider>
    }
}

#[component]
fn Shell() -> impl IntoView {
    language::follow_on_html();
    view! {
        <Router>
            <a class="skip-link" href="#main">{tr!(app.skip_link)}</a>
            <Nav/>
            <main id="main" class="container" tabindex="-1">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/signup") view=SignupPage/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage/>
                    <Route path=path!("/reset-password") view=ResetPasswordPage/>
                    <Route path=path!("/verify-email") view=VerifyEmailPage/>
                    <Route path=path!("/unsubscribe") view=UnsubscribePage/>
                    <Route path=path!("/dashboard") view=DashboardPage/>
                    <Route path=path!("/rooms/new") view=NewRoomPage/>
                    <Route path=path!("/settings") view=SettingsPage/>
                    <Route path=path!("/r/:code") view=RoomPage/>
                    <Route path=path!("/payments/:id") view=PaymentPage/>
                    <Route path=path!("/transactions/:id") view=TransactionPage/>
                    <Route path=path!("/messages") view=MessagesPage/>
                    <Route path=path!("/messages/:id") view=ConversationPage/>
                    <Route path=path!("/u/:username") view=ProfilePage/>
                    <Route path=path!("/how-reviews-work") view=ReviewPolicyPage/>
                    <Route path=path!("/admin") view=AdminPage/>
                    <Route path=path!("/admin/transactions/:id") view=AdminTransactionPage/>
                </Routes>
            </main>
            <footer class="footer container">
                <p>{tr!(app.footer_lead)} " "
                    <a href="https://openpayments.dev" rel="noopener noreferrer" lang="en">"Open Payments"</a> "."</p>
                <p><a href="/api/docs/" rel="external">{tr!(app.api_docs)}</a></p>
                <LanguageSwitcher/>
            </footer>
        </Router>
    }
}
