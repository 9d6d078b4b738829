//! The application shell: session context, layout and routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::nav::Nav;
use crate::pages::{
    dashboard::DashboardPage, home::HomePage, login::LoginPage, new_room::NewRoomPage,
    not_found::NotFoundPage, payment::PaymentPage, room::RoomPage, settings::SettingsPage,
    signup::SignupPage, transaction::TransactionPage,
};
use crate::session::Session;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    provide_context(Session::start());
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Nav/>
            <main id="main" class="container">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/signup") view=SignupPage/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/dashboard") view=DashboardPage/>
                    <Route path=path!("/rooms/new") view=NewRoomPage/>
                    <Route path=path!("/settings") view=SettingsPage/>
                    <Route path=path!("/r/:code") view=RoomPage/>
                    <Route path=path!("/payments/:id") view=PaymentPage/>
                    <Route path=path!("/transactions/:id") view=TransactionPage/>
                </Routes>
            </main>
            <footer class="footer container">
                <p>"Shifting · payments go straight from the buyer's wallet to the seller's, through "
                    <a href="https://openpayments.dev" rel="noopener noreferrer">"Open Payments"</a> "."</p>
                <p><a href="/api/docs/" rel="external">"API documentation"</a></p>
            </footer>
        </Router>
    }
}
