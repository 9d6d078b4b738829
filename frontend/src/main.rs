//! The Shifting web app: a Leptos client-side app, built to wasm with Trunk and served by the API.

mod api;
mod app;
mod components;
mod pages;
mod session;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
