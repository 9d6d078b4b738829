//! The Shifting web app: a Leptos client-side app, built to wasm with Trunk and served by the API.

/// The `i18n` module generated from `locales/*.json` by build.rs: `Locale`, `use_i18n`, `t!` …
/// (Generated code: our workspace lints are not its business.)
#[allow(
    dead_code,
    unused_imports,
    unused_qualifications,
    missing_debug_implementations,
    clippy::all
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}
use generated::i18n;

mod api;
mod app;
mod components;
mod format;
mod guest;
mod live;
mod pages;
mod session;
mod text;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
